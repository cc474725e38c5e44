//! One type for "a training run in progress", whatever the method: gradient flow or a
//! discrete optimiser. A [`Trainer`] is serialisable, so a run can be checkpointed
//! between any two steps and resumed bit-identically.
//!
//! ```
//! use sparselift::{data::WitnessSpec, engine::Network, lift::{LiftSpec, Sampler}, zoo};
//! use sparselift::train::{MethodConfig, Supervised, Trainer};
//!
//! let module = zoo::mlp(&zoo::MlpConfig { input: 4, hidden: 1, output: 1, ..Default::default() })?;
//! let (train, _) = WitnessSpec { m: 2, n: 64, noise: 0.0, seed: 0, test_n: None }.generate(&module)?;
//! let net = Network::new(module.clone(), LiftSpec::new(16, Sampler::Dense).sample(&module)?)?;
//! let mut obj = Supervised::<f64>::from_dataset(&net, &train)?;
//! let method = MethodConfig::parse("adam:lr=0.01,epochs=5")?;
//! let mut trainer = Trainer::start(&method, net.init(0), &mut obj)?;
//! let status = trainer.finish(&mut obj);
//! assert!(trainer.records().len() >= 2, "{status}");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{
    AnyOptimizer, BatchObjective, Descent, Flow, FullBatch, MethodConfig, Optimizer, Record, Status,
};
use crate::{Error, Real, Result};
use serde::{Deserialize, Serialize};

/// A run of gradient flow or of a discrete method.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "", rename_all = "lowercase")]
pub enum Trainer<T: Real> {
    /// Gradient flow.
    Flow(Flow<T>),
    /// A discrete optimiser in the mini-batch loop.
    Descent(Descent<T>),
}

/// Where a run stands, as a progress display shows it; see [`Progress::of`].
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    /// Steps taken.
    pub steps: u64,
    /// Completed epochs (0 for gradient flow).
    pub epoch: u64,
    /// Flow time (for discrete methods, `Σ lr`).
    pub t: f64,
    /// Training loss at the last evaluation.
    pub loss: f64,
    /// Criterion at the last evaluation, compared with `target`.
    pub criterion: f64,
    /// The target ε.
    pub target: f64,
    /// Gradient evaluations so far.
    pub grad_evals: u64,
}

impl Progress {
    /// The state of `trainer` now.
    pub fn of<T: Real>(trainer: &Trainer<T>) -> Progress {
        Progress {
            steps: trainer.steps(),
            epoch: trainer.epoch(),
            t: trainer.t(),
            loss: trainer.loss(),
            criterion: trainer.criterion(),
            target: trainer.target(),
            grad_evals: trainer.grad_evals(),
        }
    }
}

macro_rules! both {
    ($self:ident, $t:ident => $e:expr) => {
        match $self {
            Trainer::Flow($t) => $e,
            Trainer::Descent($t) => $e,
        }
    };
}

impl<T: Real> Trainer<T> {
    /// Starts `method` at `θ(0) = theta0` (evaluating the initial loss).
    pub fn start<O: BatchObjective<T> + ?Sized>(
        method: &MethodConfig,
        theta0: Vec<T>,
        obj: &mut O,
    ) -> Result<Self> {
        method.validate()?;
        Ok(match method {
            MethodConfig::Flow(c) => {
                Trainer::Flow(Flow::new(c.clone(), theta0, &mut FullBatch::new(obj))?)
            }
            MethodConfig::Descent { optimizer, descent } => {
                let opt = AnyOptimizer::new(optimizer.clone(), BatchObjective::dim(obj));
                Trainer::Descent(Descent::new(descent.clone(), opt, theta0, obj)?)
            }
        })
    }

    /// Checks that a trainer read back from a checkpoint can continue on `obj`: every
    /// stored vector has the objective's length and the position in the run is possible.
    /// A damaged or mismatched state is an error here rather than a panic in a step.
    pub fn check_resumable<O: BatchObjective<T> + ?Sized>(&self, obj: &O) -> Result<()> {
        let dim = BatchObjective::dim(obj);
        match self {
            Trainer::Flow(f) => f.resumable(dim),
            Trainer::Descent(d) => d.resumable(dim, obj.samples()),
        }
        .map_err(|why| {
            Error::invalid("checkpoint", format!("the trainer state cannot continue: {why}"))
                .with_hint("the checkpoint is damaged or belongs to another run; start the run again without --resume")
        })
    }

    /// One step (an accepted integrator step, or an optimiser step); the status once the
    /// run has ended.
    pub fn step<O: BatchObjective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
        match self {
            Trainer::Flow(f) => f.step(&mut FullBatch::new(obj)),
            Trainer::Descent(d) => d.step(obj),
        }
    }

    /// Steps until the run ends and returns how it ended.
    pub fn finish<O: BatchObjective<T> + ?Sized>(&mut self, obj: &mut O) -> Status {
        loop {
            if let Some(status) = self.step(obj) {
                return status;
            }
        }
    }

    /// Steps until the run ends, calling `every` after each `interval` steps (for
    /// checkpoints and progress); an error from `every` stops the run.
    pub fn run<O: BatchObjective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        interval: u64,
        mut every: impl FnMut(&Self) -> Result<()>,
    ) -> Result<Status> {
        loop {
            if let Some(status) = self.step(obj) {
                return Ok(status);
            }
            if self.steps().is_multiple_of(interval.max(1)) {
                every(self)?;
            }
        }
    }

    /// Current parameters.
    pub fn theta(&self) -> &[T] {
        both!(self, r => r.theta())
    }
    /// Steps taken.
    pub fn steps(&self) -> u64 {
        both!(self, r => r.steps())
    }
    /// Completed epochs (0 for gradient flow).
    pub fn epoch(&self) -> u64 {
        match self {
            Trainer::Flow(_) => 0,
            Trainer::Descent(d) => d.epoch(),
        }
    }
    /// Flow time (for discrete methods, `Σ lr`).
    pub fn t(&self) -> f64 {
        both!(self, r => r.t())
    }
    /// Training loss at the last evaluation.
    pub fn loss(&self) -> f64 {
        both!(self, r => r.loss())
    }
    /// Criterion (compared with ε) at the last evaluation.
    pub fn criterion(&self) -> f64 {
        both!(self, r => r.criterion())
    }
    /// Gradient evaluations so far.
    pub fn grad_evals(&self) -> u64 {
        both!(self, r => r.grad_evals())
    }
    /// Path length `∫ ‖dθ/dt‖ dt` so far.
    pub fn path_length(&self) -> f64 {
        both!(self, r => r.path_length())
    }
    /// The trajectory recorded so far.
    pub fn records(&self) -> &[Record] {
        both!(self, r => r.records())
    }
    /// The status, once the run has ended.
    pub fn status(&self) -> Option<&Status> {
        both!(self, r => r.status())
    }
    /// The target ε.
    pub fn target(&self) -> f64 {
        match self {
            Trainer::Flow(f) => f.config().target,
            Trainer::Descent(d) => d.config().target,
        }
    }
}
