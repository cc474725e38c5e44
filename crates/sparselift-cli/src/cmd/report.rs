//! `sparselift report`: statistics and the HTML report of a sweep directory.

use super::print_stdout;
use std::path::PathBuf;

/// Arguments of `sparselift report`.
#[derive(clap::Args)]
pub struct Args {
    /// A directory written by `sparselift sweep` (or `merge`).
    dir: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let summary = sparselift::report::from_sweep_dir(&args.dir)?;
    print_stdout(&format!(
        "{}\n{}\nreport: {}\n",
        summary.table(),
        summary.verdict(),
        args.dir.join("report.html").display()
    ))
}
