//! `sparselift demo`: the main job — an embedded convergence experiment (sparse and dense
//! lifts of an MLP on a witness task, trained by gradient flow), its table, verdict and
//! report.

use super::print_stdout;
use sparselift::experiment::{Experiment, SweepOptions};
use std::path::PathBuf;

/// The embedded experiment (also `examples/demo.toml`).
const DEMO: &str = include_str!("../../../../examples/demo.toml");

/// Arguments of `sparselift demo`.
#[derive(clap::Args)]
pub struct Args {
    /// Output directory.
    #[arg(long, default_value = "runs/demo")]
    out: PathBuf,
    /// Runs in parallel (default: one per core), from 1 to 1024.
    #[arg(long, value_parser = super::parse_jobs)]
    jobs: Option<usize>,
    /// Continue an interrupted demo instead of starting over.
    #[arg(long)]
    resume: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::paths::output_dir("--out", &args.out)?;
    let exp = Experiment::from_toml(DEMO, "demo.toml (built in)")?;
    if !args.resume && args.out.join("runs.jsonl").exists() {
        // A finished demo is rerun from scratch: it is cheap, and the table must match the
        // embedded experiment.
        std::fs::remove_file(args.out.join("runs.jsonl"))?;
    }
    let grid = exp.grid()?.len();
    eprintln!(
        "{}: {grid} gradient-flow runs into {}",
        exp.title,
        args.out.display()
    );
    let opts = SweepOptions {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        resume: args.resume,
        shard: None,
    };
    let started = std::time::Instant::now();
    let summary = super::sweep::run_sweep(&exp, &args.out, &opts)?;
    print_stdout(&format!(
        "{}\n{}\nreport: {} ({:.0} s)\n",
        summary.table(),
        summary.verdict(),
        args.out.join("report.html").display(),
        started.elapsed().as_secs_f64()
    ))
}
