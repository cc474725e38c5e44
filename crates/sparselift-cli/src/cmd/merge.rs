//! `sparselift merge`: combine the directories of sweep shards into one.

use super::print_stdout;
use crate::user_bail;
use sparselift::experiment::store;
use sparselift::experiment::sweep::{stored_experiment, EXPERIMENT_FILE};
use std::path::PathBuf;

/// Arguments of `sparselift merge`.
#[derive(clap::Args)]
pub struct Args {
    /// Shard directories written by `sparselift sweep --shard`.
    #[arg(required = true)]
    dirs: Vec<PathBuf>,
    /// The merged directory (runs.jsonl, experiment.toml, report).
    #[arg(long)]
    out: PathBuf,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::paths::output_dir("--out", &args.out)?;
    let first = stored_experiment(&args.dirs[0])?;
    for d in &args.dirs[1..] {
        if stored_experiment(d)? != first {
            user_bail!(
                "{} holds a different experiment than {}: only shards of one sweep merge",
                d.display(),
                args.dirs[0].display()
            );
        }
    }
    let stats = store::merge(&args.dirs, &args.out)?;
    for w in &stats.warnings {
        eprintln!("warning: {w}");
    }
    sparselift::atomic::write(&args.out.join(EXPERIMENT_FILE), first.to_toml()?.as_bytes())?;
    let summary = sparselift::report::from_sweep_dir(&args.out)?;
    print_stdout(&format!(
        "merged {} runs ({} duplicates)\n{}\n{}\n",
        stats.runs,
        stats.duplicates,
        summary.table(),
        summary.verdict()
    ))
}
