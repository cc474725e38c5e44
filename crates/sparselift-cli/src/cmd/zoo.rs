//! `sparselift zoo` (stub).

/// Arguments of `sparselift zoo`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    Ok(())
}
