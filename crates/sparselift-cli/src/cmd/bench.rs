//! `sparselift bench`: throughput of the engine in useful edge-samples per second, as a
//! ratio to this machine's GEMM rate measured in the same run.

use super::print_stdout;

/// Arguments of `sparselift bench`.
#[derive(clap::Args)]
pub struct Args {
    /// Print one JSON object (limit_gflops, results).
    #[arg(long)]
    json: bool,
    /// A subset that runs in under a minute: n = 16384, k = 32 at batch 256 and 1, and the
    /// dense lift of the same width.
    #[arg(long, conflicts_with = "scale")]
    quick: bool,
    /// Instead of the suite: training steps of the `in-degree:100` lift of size 10⁶ of
    /// `zoo:mlp?input=16&hidden=3&output=1` (2.2·10⁸ edges) at batch 64, with peak memory.
    #[arg(long)]
    scale: bool,
    /// Instead of the suite: training steps of the zoo `cnn` (two 3 × 3 conv layers,
    /// 8 × 8 and 32 × 32 maps, 32 and 64 channels), dense and at in-degree channels/4, on
    /// the fast path and on the per-edge loops, timed alternately; with `--quick`, the
    /// 8 × 8 cases on the fast path only.
    #[arg(long, conflicts_with = "scale")]
    cnn: bool,
    /// Instead of the suite: training steps of the zoo `attention` lifted densely to its
    /// heads, at the digits transformer's shape (8 tokens of 8 features, 16 heads of
    /// width 4) and wider ones; `bench/peers/torch_layers.py attention` times PyTorch at
    /// the same shapes.
    #[arg(long, conflicts_with_all = ["scale", "cnn"])]
    attention: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let json = args.json;
    if args.scale {
        return scale(json);
    }
    if args.cnn {
        return cnn(args.quick, json);
    }
    if args.attention {
        return attention(args.quick, json);
    }
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

fn scale(json: bool) -> anyhow::Result<()> {
    let (n, k, batch) = (1_000_000, 100, 64);
    if !json {
        eprintln!("sampling the in-degree:{k} lift of size {n} and timing 3 training steps at batch {batch}…");
    }
    let r = sparselift::bench::measure_scale(n, k, batch, 3)?;
    if json {
        return print_stdout(&(serde_json::to_string(&r)? + "\n"));
    }
    let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
    let steps: Vec<String> = r.step_seconds.iter().map(|s| format!("{s:.2} s")).collect();
    print_stdout(&format!(
        "{} lifted to n = {} with in-degree:{}: {} edges, sampled in {:.1} s\n\
         training steps at batch {}: {} ({:.2}G edge-samples/s at best)\n\
         peak memory: {}\n",
        r.module,
        r.n,
        r.k,
        r.edges,
        r.sample_seconds,
        r.batch,
        steps.join(", "),
        r.edge_samples_per_s / 1e9,
        r.peak_rss_bytes
            .map_or("not reported on this platform".into(), |b| format!(
                "{:.2} GiB",
                gib(b)
            )),
    ))
}

fn cnn(quick: bool, json: bool) -> anyhow::Result<()> {
    let limit = sparselift::bench::machine_limit();
    if !json {
        println!(
            "{:>5} {:>8} {:>4} {:>5} {:<9} {:>10} {:>9} {:>7} {:>9}",
            "map", "channels", "k", "batch", "route", "ms/step", "GFLOP/s", "limit", "of dense"
        );
    }
    let mut results = Vec::new();
    for config in sparselift::bench::cnn_configs(quick) {
        for r in sparselift::bench::measure_cnn(config, limit, 5, !quick)? {
            if !json {
                println!(
                    "{:>5} {:>8} {:>4} {:>5} {:<9} {:>10.2} {:>9.2} {:>6.1}% {:>9}",
                    format!("{0}x{0}", r.side),
                    r.channels,
                    r.k,
                    r.batch,
                    r.route,
                    1e3 * r.seconds,
                    r.gflops,
                    100.0 * r.ratio_to_limit,
                    r.of_dense.map_or("-".into(), |d| format!("{d:.3}"))
                );
            }
            results.push(r);
        }
    }
    if json {
        let report = serde_json::json!({ "limit_gflops": limit, "results": results });
        return print_stdout(&(report.to_string() + "\n"));
    }
    print_stdout(&format!(
        "machine limit: {limit:.1} GFLOP/s (f32 GEMM on all threads, measured in this run)\n"
    ))
}

fn attention(quick: bool, json: bool) -> anyhow::Result<()> {
    if !json {
        println!(
            "{:>6} {:>8} {:>5} {:>5} {:>5} {:>10}",
            "tokens", "features", "width", "heads", "batch", "ms/step"
        );
    }
    let mut results = Vec::new();
    for config in sparselift::bench::attention_configs(quick) {
        let r = sparselift::bench::measure_attention(config, 3)?;
        if !json {
            println!(
                "{:>6} {:>8} {:>5} {:>5} {:>5} {:>10.3}",
                r.tokens,
                r.features,
                r.width,
                r.heads,
                r.batch,
                1e3 * r.seconds
            );
        }
        results.push(r);
    }
    if json {
        let report = serde_json::json!({ "results": results });
        return print_stdout(&(report.to_string() + "\n"));
    }
    Ok(())
}
