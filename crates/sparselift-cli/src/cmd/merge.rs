//! `sparselift merge`: combine the directories of sweep shards into one.

use super::print_stdout;
use crate::user_bail;
use sparselift::experiment::{store, sweep::EXPERIMENT_FILE};
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
    let read = |d: &PathBuf| {
        std::fs::read_to_string(d.join(EXPERIMENT_FILE))
            .map_err(|e| sparselift::Error::io(d.join(EXPERIMENT_FILE), e))
    };
    let first = read(&args.dirs[0])?;
    for d in &args.dirs[1..] {
        if read(d)? != first {
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
    sparselift::atomic::write(&args.out.join(EXPERIMENT_FILE), first.as_bytes())?;
    let summary = sparselift::report::from_sweep_dir(&args.out)?;
    print_stdout(&format!(
        "merged {} runs ({} duplicates)\n{}\n{}\n",
        stats.runs,
        stats.duplicates,
        summary.table(),
        summary.verdict()
    ))
}
