//! `sparselift check` (stub).

/// Arguments of `sparselift check`.
#[derive(clap::Args)]
pub struct Args {}

/// Runs the command.
pub fn run(_args: Args) -> anyhow::Result<()> {
    Ok(())
}
