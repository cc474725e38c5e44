//! `sparselift eval`: scores a saved network on data.

use super::print_stdout;
use sparselift::checkpoint::Checkpoint;
use sparselift::run::RunSpec;
use sparselift::train::Supervised;
use std::path::PathBuf;

/// Arguments of `sparselift eval`.
#[derive(clap::Args)]
pub struct Args {
    /// A checkpoint file, or a run directory holding checkpoint.safetensors.
    checkpoint: PathBuf,
    /// Data to score on, all of it (default: the run's own test set, else its training set).
    #[arg(long)]
    data: Option<String>,
    /// Print one JSON object.
    #[arg(long)]
    json: bool,
}

/// Runs the command.
pub fn run(args: Args) -> anyhow::Result<()> {
    let path = if args.checkpoint.is_dir() {
        args.checkpoint.join("checkpoint.safetensors")
    } else {
        args.checkpoint
    };
    // Scored in f64 whatever the stored precision: f32 weights widen exactly.
    let ckpt: Checkpoint<f64> = Checkpoint::load(&path)?;
    // A checkpoint saved outside a run has no spec: it is scored as the default run.
    let spec: RunSpec = match &ckpt.state["spec"] {
        serde_json::Value::Null => RunSpec::default(),
        stored => serde_json::from_value(stored.clone()).map_err(|e| {
            sparselift::Error::invalid(
                path.display().to_string(),
                format!("unreadable run spec: {e}"),
            )
        })?,
    };
    let data = match args.data {
        Some(d) => spec.scoring_set(&d.parse()?, ckpt.network.module())?,
        None => {
            let (train, test) = spec.datasets(ckpt.network.module())?;
            test.unwrap_or(train)
        }
    };
    let eval = Supervised::from_dataset(&ckpt.network, &data)?.evaluate(&ckpt.theta);
    if args.json {
        let scored = Scored {
            samples: data.len(),
            eval,
        };
        return print_stdout(&(serde_json::to_string(&scored)? + "\n"));
    }
    print_stdout(&format!(
        "{} samples: loss {:.4e}, criterion {:.4e}{}\n",
        data.len(),
        eval.loss,
        eval.criterion,
        eval.accuracy
            .map(|a| format!(", accuracy {:.2}%", 100.0 * a))
            .unwrap_or_default()
    ))
}

/// The JSON output: how many samples were scored, and their scores.
#[derive(serde::Serialize)]
struct Scored {
    samples: usize,
    #[serde(flatten)]
    eval: sparselift::train::Evaluation,
}
