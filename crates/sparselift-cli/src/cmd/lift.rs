//! `sparselift lift` (stub).

/// Arguments of `sparselift lift`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    Ok(())
}
