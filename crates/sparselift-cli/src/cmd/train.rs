//! `sparselift train`: train a lift of a base module on data, by gradient flow or a
//! discrete optimiser; or continue a killed run with `--resume DIR`.
//!
//! ```text
//! sparselift train 'zoo:mlp?input=64&hidden=2&output=10' --data digits --size 512 \
//!     --sampler in-degree:32 --method adam:lr=1e-3,batch=64 --epochs 30 --out runs/digits
//! sparselift train 'zoo:mlp?input=16&hidden=2&output=1' --data witness:m=8,n=512 \
//!     --size 256 --sampler in-degree:16 --method flow --time 1e4 --target-loss 1e-3
//! sparselift train --resume runs/digits
//! ```

use super::{paths, print_stdout};
use crate::user_bail;
use indicatif::{ProgressBar, ProgressStyle};
use sparselift::lift::Sampler;
use sparselift::real::Precision;
use sparselift::run::{resume, train, Progress, RunOptions, RunOutcome, RunSpec};
use sparselift::train::MethodConfig;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// Arguments of `sparselift train`.
#[derive(clap::Args)]
pub struct Args {
    /// Base module: a .toml/.json file or `zoo:NAME?key=value&…`.
    #[arg(required_unless_present = "resume")]
    module: Option<String>,
    /// Data: `digits`, `witness:m=8,n=512[,noise=…,seed=…,test=…]`, a CSV file
    /// (`file.csv:label=COL` or `:target=COL`), `x.npy,y.npy`, or IDX files.
    #[arg(long, default_value = "digits")]
    data: String,
    /// Lift size: fiber of every hidden vertex.
    #[arg(long, default_value_t = 64)]
    size: u32,
    /// Sampler of every base edge: dense, in-degree:k, erdos-renyi:p, set:ε, k-lift:k.
    #[arg(long, default_value = "dense")]
    sampler: Sampler,
    /// Per-edge sampler override, `FROM-TO=SAMPLER` (repeatable).
    #[arg(long = "edge", value_name = "EDGE=SAMPLER")]
    edges: Vec<String>,
    /// Per-vertex fiber size override, `VERTEX=N` (repeatable).
    #[arg(long = "fiber", value_name = "VERTEX=N")]
    fibers: Vec<String>,
    /// Seed of the lift, the initialisation and the data split.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Method with options: flow[:rtol=…,t=…], gd:lr=…, sgd:lr=…,batch=…,momentum=…,
    /// adam:lr=…,batch=…, adamw:…
    #[arg(long, default_value = "flow")]
    method: String,
    /// Epochs (discrete methods).
    #[arg(long)]
    epochs: Option<u64>,
    /// Horizon T of gradient flow.
    #[arg(long)]
    time: Option<f64>,
    /// Target ε: normalised MSE (regression) or cross-entropy (classification).
    #[arg(long)]
    target_loss: Option<f64>,
    /// Held-out fraction of a data file.
    #[arg(long, default_value_t = 0.2)]
    test_fraction: f64,
    /// Standardise input features.
    #[arg(long)]
    standardize: bool,
    /// Floating-point precision: f32 or f64.
    #[arg(long, default_value = "f32")]
    precision: Precision,
    /// Directory for checkpoint.safetensors, trajectory.jsonl and result.json (created
    /// if missing; a directory holding a run is refused unless --force).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Replace the run in --out if there is one (its files are removed before the new
    /// run starts).
    #[arg(long, requires = "out")]
    force: bool,
    /// Steps between checkpoints.
    #[arg(long, default_value_t = 200, value_parser = parse_steps)]
    checkpoint_every: u64,
    /// Continue the run checkpointed in this directory, with the settings stored in its
    /// checkpoint: only --out, --force, --checkpoint-every and --json may be given with it
    /// (a setting of the run itself is refused rather than ignored).
    #[arg(long, conflicts_with_all = RUN_SETTINGS)]
    resume: Option<PathBuf>,
    /// Print the result as one JSON object on the last line.
    #[arg(long)]
    json: bool,
}

/// The flags that define a run; a resumed run keeps the ones stored in its checkpoint.
const RUN_SETTINGS: [&str; 14] = [
    "module",
    "data",
    "size",
    "sampler",
    "edges",
    "fibers",
    "seed",
    "method",
    "epochs",
    "time",
    "target_loss",
    "test_fraction",
    "standardize",
    "precision",
];

/// Parses `--checkpoint-every`: a whole number of steps, at least 1.
fn parse_steps(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err("expected a whole number of steps, at least 1".into()),
    }
}

/// The file a run writes first and `--resume` reads.
const CHECKPOINT: &str = "checkpoint.safetensors";

/// The files of a run in its directory.
const RUN_FILES: [&str; 3] = [CHECKPOINT, "trajectory.jsonl", "result.json"];

/// Checks `--out` and `--resume` before anything is computed; with `--force`, removes the
/// files of the run `--out` holds, so that none of them outlives the run replacing it.
fn check_paths(args: &Args) -> anyhow::Result<()> {
    if let Some(dir) = &args.resume {
        paths::run_dir("--resume", dir, CHECKPOINT)?;
    }
    let Some(out) = &args.out else { return Ok(()) };
    paths::output_dir("--out", out)?;
    if args.resume.as_ref().is_some_and(|r| same_dir(r, out)) {
        return Ok(());
    }
    let held: Vec<&str> = RUN_FILES
        .into_iter()
        .filter(|f| out.join(f).exists())
        .collect();
    if held.is_empty() {
        return Ok(());
    }
    if !args.force {
        user_bail!(
            "--out {}: the directory already holds a run ({}); continue it with --resume {0}, \
             replace it with --force, or choose another directory",
            out.display(),
            held.join(", ")
        )
    }
    for f in held {
        let path = out.join(f);
        std::fs::remove_file(&path).map_err(|e| sparselift::Error::io(path, e))?;
    }
    Ok(())
}

/// True when `a` and `b` name the same existing directory.
fn same_dir(a: &Path, b: &Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

fn pairs(items: &[String], what: &str) -> anyhow::Result<Vec<(String, String)>> {
    items
        .iter()
        .map(|s| match s.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => user_bail!("--{what} takes KEY=VALUE, got \"{s}\""),
        })
        .collect()
}

impl Args {
    fn spec(&self) -> anyhow::Result<RunSpec> {
        let mut method = MethodConfig::parse(&self.method)?;
        match &mut method {
            MethodConfig::Flow(c) => {
                if self.epochs.is_some() {
                    user_bail!("--epochs is for discrete methods; gradient flow takes --time");
                }
                c.t_max = self.time.unwrap_or(c.t_max);
                c.target = self.target_loss.unwrap_or(c.target);
            }
            MethodConfig::Descent { descent, .. } => {
                if self.time.is_some() {
                    user_bail!(
                        "--time is the horizon of gradient flow; discrete methods take --epochs"
                    );
                }
                descent.max_epochs = self.epochs.unwrap_or(descent.max_epochs);
                descent.target = self.target_loss.unwrap_or(descent.target);
            }
        }
        let mut fibers = std::collections::BTreeMap::new();
        for (k, v) in pairs(&self.fibers, "fiber")? {
            let Ok(n) = v.parse() else {
                user_bail!("--fiber {k}={v}: the size must be a whole number")
            };
            fibers.insert(k, n);
        }
        Ok(RunSpec {
            module: self.module.as_deref().unwrap_or_default().parse()?,
            data: self.data.parse()?,
            test_fraction: self.test_fraction,
            standardize: self.standardize,
            size: self.size,
            sampler: self.sampler.clone(),
            edges: pairs(&self.edges, "edge")?
                .into_iter()
                .map(|(k, v)| match Sampler::parse(&v) {
                    Ok(s) => Ok((k, s)),
                    Err(e) => user_bail!("--edge {k}={v}: {e}"),
                })
                .collect::<anyhow::Result<_>>()?,
            fibers,
            seed: self.seed,
            method,
            precision: self.precision,
        })
    }
}

/// What the command does: a new run, or the continuation of a checkpointed one.
enum Job<'a> {
    Start(Box<RunSpec>),
    Resume(&'a Path),
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let job = match &args.resume {
        Some(dir) => Job::Resume(dir),
        None => Job::Start(Box::new(args.spec()?)),
    };
    check_paths(&args)?;
    let bar = if std::io::stderr().is_terminal() {
        ProgressBar::new_spinner()
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}").expect("valid template"),
    );
    let mut show = |p: &Progress| {
        bar.set_message(format!(
            "step {} · t {:.3e} · loss {:.4e} · criterion {:.3e} (target {:.1e}) · {} gradients",
            p.steps, p.t, p.loss, p.criterion, p.target, p.grad_evals
        ));
        bar.tick();
    };
    let mut opts = RunOptions {
        out: args.out.clone().or(args.resume.clone()),
        checkpoint_every: args.checkpoint_every,
        progress: Some(&mut show),
        progress_every: 1,
    };
    let outcome = match job {
        Job::Start(spec) => train(&spec, &mut opts)?,
        Job::Resume(dir) => resume(dir, &mut opts)?,
    };
    bar.finish_and_clear();
    print_stdout(&summary(&outcome, args.json))
}

fn summary(o: &RunOutcome, json: bool) -> String {
    if json {
        let mut v = serde_json::to_value(o).expect("outcome serialises");
        let m = v.as_object_mut().expect("an object");
        m.insert("train_loss".into(), o.train.loss.into());
        m.insert("train_criterion".into(), o.train.criterion.into());
        m.insert("test_loss".into(), o.test.map(|t| t.loss).into());
        m.insert(
            "test_accuracy".into(),
            o.test.and_then(|t| t.accuracy).into(),
        );
        return v.to_string() + "\n";
    }
    let mut s = format!(
        "status       {}{}\ntrain        loss {:.4e}  criterion {:.4e}{}\n",
        o.status,
        if o.detail.is_empty() {
            String::new()
        } else {
            format!(" ({})", o.detail)
        },
        o.train.loss,
        o.train.criterion,
        o.train
            .accuracy
            .map(|a| format!("  accuracy {:.2}%", 100.0 * a))
            .unwrap_or_default()
    );
    if let Some(t) = o.test {
        s += &format!(
            "test         loss {:.4e}  criterion {:.4e}{}\n",
            t.loss,
            t.criterion,
            t.accuracy
                .map(|a| format!("  accuracy {:.2}%", 100.0 * a))
                .unwrap_or_default()
        );
    }
    s += &format!(
        "run          {} steps, t = {:.4e}, {} gradient evaluations, {:.2} s\nnetwork      {} parameters, {} lifted edges\n",
        o.steps, o.t, o.grad_evals, o.wall_s, o.params, o.edges
    );
    for note in &o.notes {
        s += &format!("note         {note}\n");
    }
    s
}
