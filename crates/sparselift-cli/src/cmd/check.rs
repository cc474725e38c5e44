//! `sparselift check MODULE`: loads and validates a base module file and prints what it
//! contains. Problems that do not make the module invalid (a vertex whose value never
//! reaches an output) are printed on stderr as `warning: …`; the exit code is 0 whenever
//! the module is valid.
//!
//! With `--svg FILE`, it also draws the module (`sparselift::report::dag`) into `FILE`,
//! which must not exist yet unless `--force` is given.

use sparselift::module::{Module, Role};
use std::path::PathBuf;

/// Arguments of `sparselift check`.
#[derive(clap::Args)]
pub struct Args {
    /// Base module file (.toml or .json).
    module: PathBuf,
    /// Draw the module as an SVG into FILE: its vertices in layers with their shapes and
    /// activations, its edges with their ops.
    #[arg(long, value_name = "FILE")]
    svg: Option<PathBuf>,
    /// Replace the --svg file if it exists.
    #[arg(long, requires = "svg")]
    force: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    if let Some(svg) = &args.svg {
        super::paths::output_file("--svg", svg, args.force)?;
    }
    let module = Module::load(&args.module)?;
    let path = args.module.display().to_string();
    for w in module.warnings() {
        eprintln!("warning: {path}: {w}");
    }
    let mut out = summary(&module, &path);
    if let Some(svg) = &args.svg {
        let drawing = sparselift::report::dag::svg(&module)?;
        sparselift::atomic::write(svg, drawing.as_bytes())?;
        out += &format!("drawing: {}\n", svg.display());
    }
    super::print_stdout(&out)
}

fn role(r: Role) -> &'static str {
    match r {
        Role::Input => "input",
        Role::Constant => "constant",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

/// `1 edge`, `2 edges`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// Aligns the columns of `rows`.
fn table(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&width)
            .map(|(s, &w)| format!("{s:w$}"))
            .collect();
        out += "  ";
        out += cells.join("  ").trim_end();
        out += "\n";
    }
    out
}

/// What `check` prints for a valid module.
fn summary(m: &Module, path: &str) -> String {
    let name = if m.name().is_empty() {
        "(unnamed)".to_string()
    } else {
        format!("\"{}\"", m.name())
    };
    let weights: usize = m.edges().iter().map(|e| e.weight_numel()).sum();
    let mut out = format!(
        "{path}: module {name} is valid: {}, {}; {} in, {} out; {} in the base graph\n",
        count(m.vertices().len(), "vertex", "vertices"),
        count(m.edges().len(), "edge", "edges"),
        count(m.input_dim(), "scalar", "scalars"),
        count(m.output_dim(), "scalar", "scalars"),
        count(weights, "weight", "weights"),
    );
    out += "vertices:\n";
    let rows: Vec<Vec<String>> = m
        .vertices()
        .iter()
        .map(|v| {
            let act = if v.is_source() {
                String::new()
            } else {
                v.activation.to_string()
            };
            vec![
                v.name.clone(),
                role(v.role).to_string(),
                format!("{:?}", v.shape),
                act,
            ]
        })
        .collect();
    out += &table(&rows);
    out += "edges:\n";
    let rows: Vec<Vec<String>> = m
        .edges()
        .iter()
        .map(|e| {
            let ends = format!("{} -> {}", m.vertex(e.from).name, m.vertex(e.to).name);
            let op = match &e.op {
                sparselift::module::Op::Conv(k) => format!("conv {k:?}"),
                op => op.name().to_string(),
            };
            let weight = if e.op.has_weight() {
                format!("weight {:?}", e.weight_shape)
            } else {
                "no weight".to_string()
            };
            let sampler = e
                .sampler
                .as_ref()
                .map(|s| format!("sampler {s}"))
                .unwrap_or_default();
            let name = if e.name == ends.replace(" -> ", "->") {
                String::new()
            } else {
                format!("({})", e.name)
            };
            vec![ends, op, weight, sampler, name]
        })
        .collect();
    out += &table(&rows);
    out
}
