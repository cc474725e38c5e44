//! `sparselift sweep`: run a convergence experiment over lift sizes and seeds, then write
//! its report.

use super::print_stdout;
use crate::user_bail;
use indicatif::{ProgressBar, ProgressStyle};
use sparselift::experiment::{self, Experiment, RunRecord, Summary, SweepOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Arguments of `sparselift sweep`.
#[derive(clap::Args)]
pub struct Args {
    /// The experiment file (TOML); see examples/experiment.toml.
    experiment: PathBuf,
    /// Output directory: runs.jsonl, the report and its plots.
    #[arg(long)]
    out: PathBuf,
    /// Runs in parallel (default: one per core), from 1 to 1024.
    #[arg(long, value_parser = super::parse_jobs)]
    jobs: Option<usize>,
    /// Continue an interrupted sweep, skipping finished runs.
    #[arg(long)]
    resume: bool,
    /// Run only slice I of N of the grid (`I/N`, 0-based), to share a sweep between
    /// machines; combine the directories with `sparselift merge`.
    #[arg(long, value_name = "I/N")]
    shard: Option<String>,
}

fn parse_shard(s: &str) -> anyhow::Result<(usize, usize)> {
    let parsed = s
        .split_once('/')
        .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
    match parsed {
        Some((i, n)) if n > 0 && i < n => Ok((i, n)),
        _ => user_bail!("--shard takes I/N with 0 ≤ I < N, e.g. --shard 0/2; got \"{s}\""),
    }
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    super::paths::output_dir("--out", &args.out)?;
    let exp = Experiment::load(&args.experiment)?;
    let opts = SweepOptions {
        jobs: args
            .jobs
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        resume: args.resume,
        shard: args.shard.as_deref().map(parse_shard).transpose()?,
    };
    let summary = run_sweep(&exp, &args.out, &opts)?;
    print_stdout(&format!(
        "{}\n{}\nreport: {}\n",
        summary.table(),
        summary.verdict(),
        args.out.join("report.html").display()
    ))
}

/// Runs a sweep with a progress bar (on a terminal) and writes its report.
pub fn run_sweep(exp: &Experiment, out: &Path, opts: &SweepOptions) -> anyhow::Result<Summary> {
    let total = exp.grid()?.len();
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:30} {pos}/{len} runs · {elapsed_precise} · ETA {eta} · {msg}",
        )
        .expect("valid template"),
    );
    let show = |done: usize, _total: usize, r: &RunRecord| {
        bar.set_position(done as u64);
        bar.set_message(format!(
            "{} n={} seed {}: {}",
            r.family, r.size, r.seed, r.status
        ));
    };
    let counts = experiment::sweep(exp, out, opts, &show)?;
    bar.finish_and_clear();
    if counts.skipped > 0 {
        eprintln!(
            "resumed: {} of {} runs were already finished",
            counts.skipped, counts.total
        );
    }
    Ok(sparselift::report::from_sweep_dir(out)?)
}
