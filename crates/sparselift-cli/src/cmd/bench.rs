//! `sparselift bench`: throughput of the engine in useful edge-samples per second, as a
//! ratio to this machine's GEMM rate measured in the same run.

use super::print_stdout;

/// Arguments of `sparselift bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object (limit_gflops, results).
    #[arg(long)]
    json: bool,
    /// A subset that runs in under a minute (includes n = 16384, k = 32, batch 256).
    #[arg(long)]
    quick: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let json = args.json;
    if !json {
        println!(
            "{:<11} {:>7} {:>4} {:>5} {:>11} {:>12} {:>9} {:>7}",
            "kind", "n", "k", "batch", "edges", "edge-samp/s", "GFLOP/s", "limit"
        );
    }
    let report = sparselift::bench::run(args.quick, |r| {
        if !json {
            println!(
                "{:<11} {:>7} {:>4} {:>5} {:>11} {:>10.3}G {:>9.2} {:>6.1}%",
                r.kind,
                r.n,
                r.k,
                r.batch,
                r.edges,
                r.edge_samples_per_s / 1e9,
                r.gflops,
                100.0 * r.ratio_to_limit
            );
        }
    })?;
    if json {
        return print_stdout(&(serde_json::to_string(&report)? + "\n"));
    }
    print_stdout(&format!(
        "machine limit: {:.1} GFLOP/s (f32 GEMM, {} threads, measured in this run)\n",
        report.limit_gflops, report.threads
    ))
}
