//! `sparselift lift`: sample a lift of a base module and print its statistics.
//!
//! ```text
//! sparselift lift zoo:mlp?hidden=3 --size 1000 --sampler in-degree:10 --json
//! sparselift lift model.toml --size 64 --edge h1-h2=k-lift:2 --fiber h2=128 --save lift.json
//! sparselift lift zoo:mlp?input=64&hidden=2&output=10 --size 16384 --sampler in-degree:32 --plan --batch 256
//! ```
//!
//! The default sampler is `dense` (the plain width-`n` network): sparsity is always asked
//! for by name.

use sparselift::engine::{Network, Plan};
use sparselift::lift::{dot, save_lift, LiftSpec, Sampler};
use sparselift::zoo;
use std::path::PathBuf;

use super::paths;
use crate::user_bail;

/// Largest lift that `--dot` draws vertex by vertex; larger lifts draw the base module.
const DOT_MAX_VERTICES: u64 = 500;

/// Arguments of `sparselift lift`.
#[derive(clap::Args)]
pub struct Args {
    /// The base module: a .toml or .json module file, or a built-in module as
    /// `zoo:NAME` with optional settings `zoo:NAME?key=value&key=value`
    /// (e.g. `zoo:mlp?input=16&hidden=3&output=1`; quote it in the shell).
    pub module: String,
    /// Fiber size of every hidden vertex (inputs and outputs get 1).
    #[arg(long)]
    pub size: u64,
    /// Sampler of every base edge without an override: dense, in-degree:k,
    /// erdos-renyi:p, set:ε, k-lift:k or explicit:FILE. Edges touching a fiber of size 1
    /// stay dense unless overridden with --edge.
    #[arg(long, default_value = "dense")]
    pub sampler: String,
    /// Sampler override for one base edge, as EDGE=SAMPLER (EDGE is its name, FROM->TO
    /// or FROM-TO); repeatable.
    #[arg(long = "edge", value_name = "EDGE=SAMPLER")]
    pub edges: Vec<String>,
    /// Fiber size override for one vertex, as VERTEX=N; repeatable.
    #[arg(long = "fiber", value_name = "VERTEX=N")]
    pub fibers: Vec<String>,
    /// Seed of the lift's random streams.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Print the statistics as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Write Graphviz: the lift when it has at most 500 lifted vertices, else the base module.
    #[arg(long, value_name = "FILE")]
    pub dot: Option<PathBuf>,
    /// Write the lift as explicit-lift JSON (loadable with explicit lifts).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Print the engine's plan for this lift: each base edge's kernels, what each pass
    /// fuses, its flops and the bytes it moves at least (f32), and the buffers kept.
    #[arg(long, conflicts_with = "json")]
    pub plan: bool,
    /// Batch size of the plan (with --plan).
    #[arg(long, default_value_t = 256, requires = "plan",
          value_parser = clap::value_parser!(u32).range(1..=1 << 20))]
    pub batch: u32,
    /// Replace the --dot and --save files if they exist.
    #[arg(long)]
    pub force: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(path) = &args.dot {
        paths::output_file("--dot", path, args.force)?;
    }
    if let Some(path) = &args.save {
        paths::output_file("--save", path, args.force)?;
    }
    let module = zoo::resolve(&args.module)?;
    let spec = lift_spec(&args)?;
    let lift = spec.sample(&module)?;
    let stats = lift.stats(&module);
    if args.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{stats}");
    }
    if let Some(path) = &args.dot {
        let text = if lift.num_vertices() <= DOT_MAX_VERTICES {
            lift.to_dot(&module)
        } else {
            eprintln!(
                "note: the lift has {} vertices (more than {DOT_MAX_VERTICES}); {} shows the base module",
                lift.num_vertices(),
                path.display()
            );
            dot::module_to_dot(&module)
        };
        sparselift::atomic::write(path, text.as_bytes())?;
    }
    if let Some(path) = &args.save {
        save_lift(&module, &lift, path)?;
    }
    if args.plan {
        let net = Network::new(module, lift)?;
        let plan = Plan::new(&net, args.batch as usize);
        print!("\n{}", plan.table(&net, std::mem::size_of::<f32>()));
    }
    Ok(())
}

fn lift_spec(args: &Args) -> anyhow::Result<LiftSpec> {
    let size = match u32::try_from(args.size) {
        Ok(n) => n,
        Err(_) => user_bail!(
            "--size {} is too large: a fiber holds at most {} lifted vertices (32-bit indices); use a smaller size",
            args.size,
            u32::MAX
        ),
    };
    let sampler = parse_sampler(&args.sampler, "--sampler")?;
    let mut spec = LiftSpec::new(size, sampler).seed(args.seed);
    for arg in &args.edges {
        let Some((key, text)) = arg.split_once('=') else {
            user_bail!("--edge {arg}: expected EDGE=SAMPLER, e.g. --edge h1-h2=in-degree:16")
        };
        spec = spec.edge(key.trim(), parse_sampler(text, &format!("--edge {arg}"))?);
    }
    for arg in &args.fibers {
        let parsed = arg
            .split_once('=')
            .and_then(|(v, n)| Some((v.trim(), n.trim().parse::<u32>().ok()?)));
        let Some((vertex, n)) = parsed else {
            user_bail!(
                "--fiber {arg}: expected VERTEX=N with N a whole number below 2^32, e.g. --fiber h1=500"
            )
        };
        spec = spec.fiber(vertex, n);
    }
    Ok(spec)
}

fn parse_sampler(text: &str, flag: &str) -> anyhow::Result<Sampler> {
    match Sampler::parse(text) {
        Ok(s) => Ok(s),
        Err(message) => user_bail!("{flag}: {message}"),
    }
}
