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
    /// List the built-in base modules, or print one as TOML.
    Zoo(cmd::zoo::Args),
    /// Validate a base module file and print a summary.
    Check(cmd::check::Args),
    /// Sample a lift of a base module and print its statistics.
    Lift(cmd::lift::Args),
    /// Train a lift on data by gradient flow or an optimiser (or resume a run).
    Train(cmd::train::Args),
    /// Score a saved network on data.
    Eval(cmd::eval::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
