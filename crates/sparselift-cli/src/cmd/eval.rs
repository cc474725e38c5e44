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
    /// Data to score on, all of it (default: the run's own test set, else its training set;
    /// required for a checkpoint not written by `train`).
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
    // A checkpoint saved outside a run (by the library, not by `train`) has no run spec,
    // so no data of its own: it is scored on `--data` only, as a run with default settings.
    let spec: Option<RunSpec> = match &ckpt.state["spec"] {
        serde_json::Value::Null => None,
        stored => Some(serde_json::from_value(stored.clone()).map_err(|e| {
            sparselift::Error::invalid(
                path.display().to_string(),
                format!("unreadable run spec: {e}"),
            )
            .with_hint("score the network on data of your choice with --data")
        })?),
    };
    let data = match (args.data, spec) {
        (Some(d), spec) => spec
            .unwrap_or_default()
            .scoring_set(&d.parse()?, ckpt.network.module())?,
        (None, Some(spec)) => {
            let (train, test) = spec.datasets(ckpt.network.module())?;
            test.unwrap_or(train)
        }
        (None, None) => {
            return Err(sparselift::Error::invalid(
                path.display().to_string(),
                "this checkpoint holds no run description, so no data of its own to score on",
            )
            .with_hint("it was not written by `train`; give the data to score on with --data")
            .into())
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
