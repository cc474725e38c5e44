//! The `sparselift` command line: argument parsing and printing only; every action is a
//! library call.

mod cmd;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Random sparse lifts: build, train, and measure convergence of lifted networks.
#[derive(Parser)]
#[command(name = "sparselift", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job: an embedded sparse-vs-dense convergence experiment and its report.
    Demo(cmd::demo::Args),
    /// List the built-in base modules, or print one as TOML.
    Zoo(cmd::zoo::Args),
    /// Validate a base module file, print a summary, and optionally draw it as SVG.
    Check(cmd::check::Args),
    /// Sample a lift of a base module and print its statistics.
    Lift(cmd::lift::Args),
    /// Train a lift on data by gradient flow or an optimiser (or resume a run).
    Train(cmd::train::Args),
    /// Score a saved network on data.
    Eval(cmd::eval::Args),
    /// Run a convergence experiment over lift sizes and seeds.
    Sweep(cmd::sweep::Args),
    /// Combine the directories of sweep shards.
    Merge(cmd::merge::Args),
    /// Statistics and HTML report of a sweep directory.
    Report(cmd::report::Args),
    /// Measure the engine's throughput against this machine's GEMM rate.
    Bench(cmd::bench::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(a) => cmd::demo::run(a),
        Command::Sweep(a) => cmd::sweep::run(a),
        Command::Merge(a) => cmd::merge::run(a),
        Command::Report(a) => cmd::report::run(a),
        Command::Bench(a) => cmd::bench::run(a),
        Command::Zoo(a) => cmd::zoo::run(a),
        Command::Check(a) => cmd::check::run(a),
        Command::Lift(a) => cmd::lift::run(a),
        Command::Train(a) => cmd::train::run(a),
        Command::Eval(a) => cmd::eval::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => cmd::report_error(&e),
    }
}
