//! Whole training runs: from a [`RunSpec`] — module, lift, data, method, seed — to a
//! trained network and its scores. With an output directory a run writes
//!
//! * `checkpoint.safetensors` — network, `θ`, the spec and the trainer state, rewritten
//!   atomically every `checkpoint_every` steps (and at the end), so a killed run resumed
//!   with [`resume`] ends **bit-identically** to an uninterrupted one;
//! * `trajectory.jsonl` — one [`crate::train::Record`] per line (log-spaced in time),
//!   rewritten with each checkpoint;
//! * `result.json` — the [`RunOutcome`] at the end.
//!
//! ```
//! use sparselift::lift::Sampler;
//! use sparselift::run::{train, RunOptions, RunSpec};
//!
//! let spec = RunSpec {
//!     module: "zoo:mlp?input=8&hidden=1&output=1".parse()?,
//!     data: "witness:m=2,n=64".parse()?,
//!     size: 16,
//!     sampler: Sampler::InDegree(4),
//!     method: "flow:t=100,target=1e-2".parse()?,
//!     ..RunSpec::default()
//! };
//! let outcome = train(&spec, &mut RunOptions::default())?;
//! assert!(outcome.train.criterion.is_finite() && outcome.grad_evals > 0);
//! # Ok::<(), sparselift::Error>(())
//! ```

use crate::checkpoint::Checkpoint;
use crate::data::{DataSource, Dataset, Standardizer, WitnessSpec};
use crate::engine::Network;
use crate::lift::{LiftSpec, Sampler};
use crate::module::Module;
use crate::real::Precision;
use crate::train::{
    Evaluation, MethodConfig, OptimizerConfig, Record, Status, StatusKind, Supervised, Trainer,
};
use crate::zoo::ModuleRef;
use crate::{atomic, budget, Error, Real, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

mod fit;

/// Everything that defines a run; stored in its checkpoints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RunSpec {
    /// The base module: `zoo:NAME?k=v&…` or a module file.
    #[serde(with = "crate::text")]
    pub module: ModuleRef,
    /// The data: `digits`, `witness:m=…,n=…`, or a file (see [`DataSource`]).
    #[serde(with = "crate::text")]
    pub data: DataSource,
    /// Fraction of a data file held out for testing (digits and witness tasks have their
    /// own test sets).
    pub test_fraction: f64,
    /// Standardise input features (fitted on the training set).
    pub standardize: bool,
    /// Lift size `n` (fiber of every hidden vertex).
    pub size: u32,
    /// Sampler of every base edge, e.g. `in-degree:16` or `dense`.
    #[serde(with = "crate::text")]
    pub sampler: Sampler,
    /// Per-base-edge sampler overrides.
    #[serde(with = "crate::text::values")]
    pub edges: BTreeMap<String, Sampler>,
    /// Per-vertex fiber-size overrides.
    pub fibers: BTreeMap<String, u32>,
    /// Seed of the lift, the initialisation and the data split.
    pub seed: u64,
    /// The method, e.g. `flow:t=1000,target=1e-3` or `adam:lr=1e-3,batch=64,epochs=20`.
    #[serde(with = "crate::text")]
    pub method: MethodConfig,
    /// The precision the run computes in.
    pub precision: Precision,
}

impl Default for RunSpec {
    fn default() -> Self {
        RunSpec {
            module: ModuleRef::Zoo {
                name: "mlp".into(),
                settings: Vec::new(),
            },
            data: DataSource::Witness(WitnessSpec {
                m: 8,
                n: 512,
                noise: 0.0,
                seed: 0,
                test_n: None,
            }),
            test_fraction: 0.2,
            standardize: false,
            size: 64,
            sampler: Sampler::Dense,
            edges: BTreeMap::new(),
            fibers: BTreeMap::new(),
            seed: 0,
            method: MethodConfig::default(),
            precision: Precision::F32,
        }
    }
}

/// How a run is driven (not part of its definition).
pub struct RunOptions<'a> {
    /// Directory for checkpoint, trajectory and result; none: nothing is written.
    pub out: Option<PathBuf>,
    /// Steps between checkpoints.
    pub checkpoint_every: u64,
    /// Called every `progress_every` steps with the trainer's state.
    pub progress: Option<&'a mut dyn FnMut(&Progress)>,
    /// Steps between progress calls.
    pub progress_every: u64,
}

impl Default for RunOptions<'_> {
    fn default() -> Self {
        RunOptions {
            out: None,
            checkpoint_every: 1000,
            progress: None,
            progress_every: 10,
        }
    }
}

pub use crate::train::Progress;

/// What a finished run reports.
#[derive(Clone, Debug, Serialize)]
pub struct RunOutcome {
    /// How the run ended.
    pub status: StatusKind,
    /// Why a run timed out or diverged.
    pub detail: String,
    /// The final network scored on the training set.
    pub train: Evaluation,
    /// The final network scored on the test set, if the data has one.
    pub test: Option<Evaluation>,
    /// The smallest training criterion seen along the trajectory.
    #[serde(with = "crate::float::scalar")]
    pub min_criterion: f64,
    /// Flow time (Σ lr for discrete methods) at which the criterion first reached ε.
    pub time_to_target: Option<f64>,
    /// Evaluations of the gradient (full-batch or mini-batch).
    pub grad_evals: u64,
    /// Accepted steps of the integrator or optimiser.
    pub steps: u64,
    /// Flow time reached (Σ lr for discrete methods).
    pub t: f64,
    /// Length of the path of `θ`: the sum of `‖Δθ‖` over accepted steps.
    #[serde(with = "crate::float::scalar")]
    pub path_length: f64,
    /// `‖θ − θ(0)‖ / ‖θ(0)‖` (docs/semantics.md §5 parameter movement).
    #[serde(with = "crate::float::scalar")]
    pub movement: f64,
    /// Scalar parameters of the lifted network (the length of `θ`).
    pub params: u64,
    /// Lifted edges.
    pub edges: u64,
    /// Forward FLOPs per sample.
    pub flops_per_sample: u64,
    /// Bytes of `θ` in the run's precision.
    pub param_bytes: u64,
    /// Bytes of the lift's edge indices.
    pub index_bytes: u64,
    /// Wall-clock seconds of training, summed over resumed parts.
    pub wall_s: f64,
    /// What the user should know about the data beside the scores (a class with no
    /// sample in the test split, for example).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The trajectory (also in `trajectory.jsonl`).
    #[serde(skip)]
    pub records: Vec<Record>,
}

/// Everything a run needs besides its trainer, rebuilt identically on resume.
struct Setup {
    net: Network,
    train: Dataset,
    test: Option<Dataset>,
    method: MethodConfig,
    notes: Vec<String>,
}

impl Setup {
    /// [`check_memory`] of this run's network and data.
    fn check_memory<T: Real>(&self) -> Result<()> {
        let scalar = std::mem::size_of::<T>() as u64;
        check_memory(
            &self.method,
            scalar,
            budget::bytes(self.net.num_params(), 1),
            &|batch| self.net.activation_bytes(batch, scalar),
            &self.train,
            self.test.as_ref(),
            "use a smaller --size or a sparser --sampler (e.g. in-degree:16), fewer samples, or --precision f32",
        )
    }
}

/// Refuses a run whose memory — θ with its copy θ(0), the gradient and the method's
/// work vectors, the optimiser state, the activations of a full-batch evaluation and of a
/// mini-batch, and the data — would exceed the machine's, before any of the large buffers
/// is allocated: `params` scalars of `scalar` bytes, `activations(batch)` bytes of
/// activations at a batch; `hint` says what to change.
fn check_memory(
    method: &MethodConfig,
    scalar: u64,
    params: u64,
    activations: &dyn Fn(usize) -> u64,
    train: &Dataset,
    test: Option<&Dataset>,
    hint: &str,
) -> Result<()> {
    let theta = params.saturating_mul(scalar);
    let samples = train.len();
    let (work, state, batch) = match method {
        // ∇L, the six further stages of Dormand–Prince and the trial point.
        MethodConfig::Flow(_) => (8, 0, samples),
        MethodConfig::Descent { optimizer, descent } => {
            let state = match optimizer {
                OptimizerConfig::Sgd(c) if c.momentum == 0.0 => 0,
                OptimizerConfig::Sgd(_) => 1,
                OptimizerConfig::Adam(_) => 2,
            };
            (2, state, descent.batch_size.unwrap_or(samples).min(samples))
        }
    };
    let data = |d: &Dataset| budget::bytes(d.len(), 4 * (d.input_dim() + d.output_dim()) as u64);
    let mut e = budget::Estimate::default();
    e.add("θ and θ(0)", theta.saturating_mul(2))
        .add("gradients", theta.saturating_mul(work))
        .add("optimiser state", theta.saturating_mul(state))
        .add(
            format!("activations at {samples} samples"),
            activations(samples),
        )
        .add(format!("activations at batch {batch}"), activations(batch))
        .add("data", data(train).saturating_add(test.map_or(0, data)));
    e.check("run", hint)
}

fn user(at: &str, e: String) -> Error {
    Error::invalid(at, e)
}

impl RunSpec {
    /// The lift recipe.
    pub fn lift_spec(&self) -> Result<LiftSpec> {
        let mut spec = LiftSpec::new(self.size, self.sampler.clone()).seed(self.seed);
        for (k, v) in &self.edges {
            spec = spec.edge(k, v.clone());
        }
        for (k, &n) in &self.fibers {
            spec = spec.fiber(k, n);
        }
        Ok(spec)
    }

    /// Checks, without drawing the lift, that this run's network fits on `module`
    /// (resolved from [`RunSpec::module`]) and in memory with its data `train` and `test`
    /// (from [`RunSpec::datasets`]): the lift's recipe against the module as
    /// [`LiftSpec::plan`] checks it, and the run's estimated memory, refused with
    /// `memory_hint` (what to change). Cheap at any size, so a sweep checks every run
    /// before it starts. Whether the data fit the module is [`check_fit`]'s to say.
    pub fn check(
        &self,
        module: &Module,
        train: &Dataset,
        test: Option<&Dataset>,
        memory_hint: &str,
    ) -> Result<()> {
        let plan = self.lift_spec()?.plan(module)?;
        let scalar = match self.precision {
            Precision::F32 => 4,
            Precision::F64 => 8,
        };
        check_memory(
            &self.method,
            scalar,
            plan.params(module),
            &|batch| Network::activation_bytes_for(module, &plan.fibers, batch, scalar),
            train,
            test,
            memory_hint,
        )
    }

    /// The data as `(train, test)` for `module`.
    pub fn datasets(&self, module: &Module) -> Result<(Dataset, Option<Dataset>)> {
        let (mut train, test) = match &self.data {
            DataSource::Witness(w) => {
                let (tr, te) = w.generate(module)?;
                (tr, (!te.is_empty()).then_some(te))
            }
            other => {
                let (tr, te) = other.load_split(self.test_fraction, self.seed)?;
                (tr, (!te.is_empty()).then_some(te))
            }
        };
        let mut test = test;
        if self.standardize {
            let s = Standardizer::fit(&train);
            s.apply(&mut train)?;
            if let Some(t) = test.as_mut() {
                s.apply(t)?;
            }
        }
        Ok((train, test))
    }

    /// The samples of `data` to score this run's network on: the whole
    /// of a file or of the digits set, without the run's train/test split; a witness task's
    /// test samples if it has any, else its training samples. When the run standardises its
    /// inputs, they are standardised with the statistics of the run's own training set,
    /// which the network was trained on.
    pub fn scoring_set(&self, data: &DataSource, module: &Module) -> Result<Dataset> {
        let mut set = match data {
            DataSource::Witness(w) => {
                let (train, test) = w.generate(module)?;
                if test.is_empty() {
                    train
                } else {
                    test
                }
            }
            other => other.load()?,
        };
        if self.standardize {
            let (train, _) = RunSpec {
                standardize: false,
                ..self.clone()
            }
            .datasets(module)?;
            Standardizer::fit(&train).apply(&mut set)?;
        }
        Ok(set)
    }

    fn setup(&self, net: Option<Network>) -> Result<Setup> {
        let method = self.method.clone();
        let net = match net {
            Some(n) => n,
            None => {
                let module = self.module.resolve()?;
                let lift = self.lift_spec()?.sample(&module)?;
                Network::new(module, lift)?
            }
        };
        let (train, test) = self.datasets(net.module())?;
        let notes = fit::check(net.module(), &self.data, &train, test.as_ref())?;
        Ok(Setup {
            net,
            train,
            test,
            method,
            notes,
        })
    }
}

#[cfg(doc)]
use crate::train::check_fit;

/// Runs `spec` from scratch.
pub fn train(spec: &RunSpec, opts: &mut RunOptions<'_>) -> Result<RunOutcome> {
    match spec.precision {
        Precision::F32 => start::<f32>(spec, opts),
        Precision::F64 => start::<f64>(spec, opts),
    }
}

fn start<T: Real>(spec: &RunSpec, opts: &mut RunOptions<'_>) -> Result<RunOutcome> {
    let setup = spec.setup(None)?;
    setup.check_memory::<T>()?;
    let theta0: Vec<T> = setup.net.init(spec.seed);
    let mut obj = Supervised::from_dataset(&setup.net, &setup.train)?;
    let trainer = Trainer::start(&setup.method, theta0.clone(), &mut obj)?;
    drive(spec, &setup, &mut obj, trainer, theta0, opts, 0.0)
}

/// Continues the run checkpointed in `dir` (written by a run with `out = dir`).
pub fn resume(dir: &Path, opts: &mut RunOptions<'_>) -> Result<RunOutcome> {
    let path = dir.join(CHECKPOINT);
    // The trainer state holds θ; the checkpoint's own copy is only read for its network.
    let ckpt: Checkpoint<f64> = Checkpoint::load(&path)?;
    let bad = |e: serde_json::Error| {
        user(
            &path.display().to_string(),
            format!("unreadable run state: {e}"),
        )
    };
    let spec: RunSpec = serde_json::from_value(ckpt.state["spec"].clone()).map_err(bad)?;
    // An unknown precision fails above, as an unreadable run state.
    match spec.precision {
        Precision::F32 => continue_from::<f32>(spec, ckpt, opts),
        Precision::F64 => continue_from::<f64>(spec, ckpt, opts),
    }
}

fn continue_from<T: Real>(
    spec: RunSpec,
    ckpt: Checkpoint<f64>,
    opts: &mut RunOptions<'_>,
) -> Result<RunOutcome> {
    let trainer: Trainer<T> = serde_json::from_value(ckpt.state["trainer"].clone())
        .map_err(|e| user("checkpoint", format!("unreadable trainer state: {e}")))?;
    let theta0: Vec<T> = ckpt.network.init(spec.seed);
    let wall = ckpt.state["wall_s"].as_f64().unwrap_or(0.0);
    let setup = spec.setup(Some(ckpt.network))?;
    setup.check_memory::<T>()?;
    let mut obj = Supervised::from_dataset(&setup.net, &setup.train)?;
    trainer.check_resumable(&obj)?;
    drive(&spec, &setup, &mut obj, trainer, theta0, opts, wall)
}

const CHECKPOINT: &str = "checkpoint.safetensors";

fn drive<T: Real>(
    spec: &RunSpec,
    setup: &Setup,
    obj: &mut Supervised<T>,
    mut trainer: Trainer<T>,
    theta0: Vec<T>,
    opts: &mut RunOptions<'_>,
    wall_before: f64,
) -> Result<RunOutcome> {
    let started = Instant::now();
    if let Some(dir) = &opts.out {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let wall = |started: Instant| wall_before + started.elapsed().as_secs_f64();
    let save = |trainer: &Trainer<T>, wall_s: f64| -> Result<()> {
        let Some(dir) = &opts.out else { return Ok(()) };
        let state = serde_json::json!({ "spec": spec, "trainer": trainer, "wall_s": wall_s });
        let ckpt = Checkpoint {
            network: setup.net.clone(),
            theta: trainer.theta().to_vec(),
            state,
        };
        ckpt.save(&dir.join(CHECKPOINT))?;
        atomic::write(
            &dir.join("trajectory.jsonl"),
            jsonl(trainer.records()).as_bytes(),
        )
    };
    let (every_ckpt, every_progress) = (opts.checkpoint_every.max(1), opts.progress_every.max(1));
    let mut progress = opts.progress.take();
    let status = trainer.run(obj, 1, |tr| {
        let s = tr.steps();
        if s.is_multiple_of(every_progress) {
            if let Some(p) = progress.as_mut() {
                p(&Progress::of(tr));
            }
        }
        if s.is_multiple_of(every_ckpt) {
            save(tr, wall(started))?;
        }
        Ok(())
    })?;
    opts.progress = progress;
    let wall_s = wall(started);
    save(&trainer, wall_s)?;
    let outcome = outcome(setup, obj, &trainer, &status, &theta0, wall_s)?;
    if let Some(dir) = &opts.out {
        let text = serde_json::to_string_pretty(&outcome).expect("outcome serialises");
        atomic::write(&dir.join("result.json"), text.as_bytes())?;
    }
    Ok(outcome)
}

fn outcome<T: Real>(
    setup: &Setup,
    obj: &mut Supervised<T>,
    trainer: &Trainer<T>,
    status: &Status,
    theta0: &[T],
    wall_s: f64,
) -> Result<RunOutcome> {
    let theta = trainer.theta();
    let train = obj.evaluate(theta);
    let test = setup
        .test
        .as_ref()
        .map(|t| Supervised::from_dataset(&setup.net, t).map(|mut o| o.evaluate(theta)))
        .transpose()?;
    let records = trainer.records().to_vec();
    let target = trainer.target();
    let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
    let moved = norm(&mut theta.iter().zip(theta0).map(|(a, b)| (*a - *b).f64()));
    let start = norm(&mut theta0.iter().map(|a| a.f64())).max(f64::MIN_POSITIVE);
    let detail = match status {
        Status::Converged => String::new(),
        Status::Timeout(l) => format!("{l:?}").to_lowercase(),
        Status::Diverged(why) => why.clone(),
    };
    Ok(RunOutcome {
        status: status.kind(),
        detail,
        train,
        test,
        min_criterion: records
            .iter()
            .map(|r| r.criterion)
            .fold(train.criterion, f64::min),
        time_to_target: records.iter().find(|r| r.criterion <= target).map(|r| r.t),
        grad_evals: trainer.grad_evals(),
        steps: trainer.steps(),
        t: trainer.t(),
        path_length: trainer.path_length(),
        movement: moved / start,
        params: setup.net.num_params() as u64,
        edges: setup.net.lift().num_edges(),
        flops_per_sample: setup.net.flops_per_sample(),
        param_bytes: (setup.net.num_params() * std::mem::size_of::<T>()) as u64,
        index_bytes: setup
            .net
            .lift()
            .edges()
            .iter()
            .map(|b| b.index_bytes() as u64)
            .sum(),
        wall_s,
        notes: setup.notes.clone(),
        records,
    })
}

fn jsonl(records: &[Record]) -> String {
    records
        .iter()
        .map(|r| serde_json::to_string(r).expect("records serialise") + "\n")
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_as_stored_by_earlier_versions_loads_typed_and_is_stored_the_same() {
        let stored = serde_json::json!({
            "module": "zoo:mlp?input=64&hidden=2&output=10",
            "data": "digits",
            "test_fraction": 0.2,
            "standardize": false,
            "size": 64,
            "sampler": "in-degree:16",
            "edges": {"h1->h2": "dense", "h2->out": "erdos-renyi:0.25"},
            "fibers": {"h1": 32},
            "seed": 3,
            "method": "flow:t=1000,target=0.01",
            "precision": "f64"
        });
        let spec: RunSpec = serde_json::from_value(stored.clone()).unwrap();
        assert_eq!(spec.sampler, Sampler::InDegree(16));
        assert_eq!(spec.edges["h2->out"], Sampler::ErdosRenyi(0.25));
        assert!(matches!(&spec.method, MethodConfig::Flow(c) if c.t_max == 1000.0));
        assert_eq!(spec.precision, Precision::F64);
        assert_eq!(spec.data, DataSource::Digits);
        assert!(
            matches!(&spec.module, ModuleRef::Zoo { name, settings } if name == "mlp" && settings.len() == 3)
        );
        assert_eq!(serde_json::to_value(&spec).unwrap(), stored);

        let mut witness = stored.clone();
        witness["data"] = "witness:n=64, m=2".into();
        let spec: RunSpec = serde_json::from_value(witness).unwrap();
        assert_eq!(
            serde_json::to_value(&spec).unwrap()["data"],
            "witness:m=2,n=64"
        );

        let mut bad_module = stored.clone();
        bad_module["module"] = "zoo:mlp?hiden=2".into();
        let err = serde_json::from_value::<RunSpec>(bad_module)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown parameter"), "{err}");

        let mut bad = stored;
        bad["edges"]["h1->h2"] = "sparse".into();
        let err = serde_json::from_value::<RunSpec>(bad)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("h1->h2") && err.contains("unknown sampler"),
            "{err}"
        );
    }

    /// Trains a tiny run into a fresh directory, damages one array of its stored trainer
    /// state with `damage`, and returns the error of resuming it.
    fn resume_damaged(method: &str, damage: impl Fn(&mut serde_json::Value)) -> String {
        let dir = tempfile::tempdir().unwrap();
        let spec = RunSpec {
            module: "zoo:mlp?input=4&hidden=1&output=1".parse().unwrap(),
            data: "witness:m=2,n=32".parse().unwrap(),
            size: 4,
            method: method.parse().unwrap(),
            ..RunSpec::default()
        };
        let mut opts = RunOptions {
            out: Some(dir.path().to_path_buf()),
            ..RunOptions::default()
        };
        train(&spec, &mut opts).unwrap();
        let path = dir.path().join(CHECKPOINT);
        let mut ckpt: Checkpoint<f32> = Checkpoint::load(&path).unwrap();
        damage(&mut ckpt.state["trainer"]);
        ckpt.save(&path).unwrap();
        let e = resume(dir.path(), &mut RunOptions::default()).unwrap_err();
        assert!(e.is_user_error(), "{e}");
        e.to_string()
    }

    fn shorten(v: &mut serde_json::Value) {
        v.as_array_mut().expect("a stored vector").truncate(1);
    }

    #[test]
    fn a_stored_state_of_the_wrong_length_is_an_error_not_a_panic() {
        let e = resume_damaged("adam:lr=1e-3,epochs=3", |t| {
            shorten(&mut t["descent"]["optimizer"]["adam"]["m"])
        });
        assert!(e.contains("adam's first moment has 1 entries"), "{e}");
        let e = resume_damaged("sgd:lr=1e-3,epochs=3", |t| {
            shorten(&mut t["descent"]["theta"])
        });
        assert!(e.contains("θ has 1 entries"), "{e}");
        let e = resume_damaged("flow:t=1e6,evals=40", |t| shorten(&mut t["flow"]["grad"]));
        assert!(e.contains("the gradient has 1 entries"), "{e}");
    }

    #[test]
    fn a_running_flow_state_past_its_horizon_is_refused() {
        let e = resume_damaged("flow:t=1e6,evals=40", |t| {
            t["flow"]["status"] = serde_json::Value::Null;
            t["flow"]["t"] = 1e9.into();
        });
        assert!(e.contains("outside the horizon"), "{e}");
    }

    #[test]
    fn a_value_the_text_cannot_express_is_refused_when_stored() {
        let spec = RunSpec {
            data: DataSource::Csv {
                path: "d.csv".into(),
                options: crate::data::CsvOptions::label(crate::data::Column::Name("3".into())),
            },
            ..RunSpec::default()
        };
        let err = serde_json::to_string(&spec).unwrap_err().to_string();
        assert!(err.contains("does not read back"), "{err}");
    }
}
