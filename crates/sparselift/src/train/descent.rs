//! The training loop of discrete methods (docs/semantics.md §3): epochs of shuffled
//! mini-batches, an [`Optimizer`] step per batch with the [`Schedule`]'s learning rate, and
//! the training loss on the full set evaluated once per epoch (or every `eval_every` steps)
//! for early stopping at ε and for divergence detection.
//!
//! With `batch_size = None` every step uses the whole training set in index order, so
//! [`Sgd`](super::Sgd) without momentum is gradient descent — the explicit Euler scheme of
//! the gradient flow with step `lr`. Each epoch's order is a permutation drawn from a
//! ChaCha8 stream derived from `(seed, epoch)` alone, so a [`Descent`] serialised between
//! any two steps and read back continues **bit-identically**.
//!
//! A run ends `Converged` (criterion ≤ ε at an evaluation), `Timeout(Epochs)` after
//! `max_epochs`, or `Diverged` (a non-finite mini-batch loss or gradient, or a full loss
//! that is non-finite or above `divergence_factor` × the initial loss).
//!
//! ```
//! use sparselift::train::{BatchObjective, Descent, DescentConfig, Optimizer, Sgd, SgdConfig, Status};
//!
//! /// L(θ) = mean_i ½(θ − y_i)² over y = (1, 2, 3): minimised at θ = 2.
//! struct Mean;
//! impl BatchObjective<f64> for Mean {
//!     fn dim(&self) -> usize { 1 }
//!     fn samples(&self) -> usize { 3 }
//!     fn batch_loss_grad(&mut self, th: &[f64], idx: &[usize], g: &mut [f64]) -> f64 {
//!         let r: Vec<f64> = idx.iter().map(|&i| th[0] - (i + 1) as f64).collect();
//!         g[0] = r.iter().sum::<f64>() / idx.len() as f64;
//!         r.iter().map(|r| 0.5 * r * r).sum::<f64>() / idx.len() as f64
//!     }
//!     fn full_loss(&mut self, th: &[f64]) -> f64 {
//!         (1..=3).map(|y| 0.5 * (th[0] - y as f64).powi(2)).sum::<f64>() / 3.0
//!     }
//!     // Excess over the minimum ⅓, so that ε can be small.
//!     fn criterion(&self, loss: f64) -> f64 { loss - 1.0 / 3.0 }
//! }
//!
//! let config = DescentConfig { lr: 0.5, target: 1e-12, ..Default::default() };
//! let mut gd = Descent::new(config, Sgd::new(SgdConfig::default(), 1), vec![0.0], &mut Mean)?;
//! assert_eq!(gd.run(&mut Mean, |_| {}), Status::Converged);
//! assert!((gd.theta()[0] - 2.0).abs() < 1e-5);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{BatchObjective, Limit, Optimizer, Record, Schedule, Status};
use crate::{float, Error, Real, Result};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

/// Settings of a discrete training run (the optimiser has its own).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DescentConfig {
    /// Base learning rate.
    pub lr: f64,
    /// How the learning rate changes with the step count.
    pub schedule: Schedule,
    /// Samples per mini-batch; `None` for the full batch.
    pub batch_size: Option<usize>,
    /// Epochs before the run times out.
    pub max_epochs: u64,
    /// `ε`: the run has converged when the criterion of the full loss is `≤ ε`.
    #[serde(with = "float::scalar")]
    pub target: f64,
    /// Evaluate the full loss every this many steps; `None`: at the end of each epoch.
    pub eval_every: Option<u64>,
    /// Seed of the shuffling.
    pub seed: u64,
    /// The run has diverged when the full loss exceeds this multiple of the initial one.
    pub divergence_factor: f64,
}

impl Default for DescentConfig {
    /// `lr 0.01`, constant schedule, full batch, 1000 epochs, `ε = 1e-3`, evaluation each
    /// epoch, seed 0, divergence at 10⁶ × the initial loss.
    fn default() -> Self {
        DescentConfig {
            lr: 0.01,
            schedule: Schedule::Constant,
            batch_size: None,
            max_epochs: 1000,
            target: 1e-3,
            eval_every: None,
            seed: 0,
            divergence_factor: 1e6,
        }
    }
}

impl DescentConfig {
    /// Checks the learning rate, batch size, evaluation interval and divergence factor.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: &str, hint: &str| {
            Err(Error::invalid("descent config", msg.to_string()).with_hint(hint.to_string()))
        };
        if !(self.lr > 0.0 && self.lr.is_finite()) {
            return bad(
                "the learning rate must be a positive number",
                "e.g. lr = 0.01",
            );
        }
        if self.batch_size == Some(0) {
            return bad(
                "the batch size must be ≥ 1",
                "leave batch_size out for full-batch steps",
            );
        }
        if self.eval_every == Some(0) {
            return bad(
                "eval_every must be ≥ 1",
                "leave it out to evaluate once per epoch",
            );
        }
        if self.target.is_nan() {
            return bad("the target ε is NaN", "e.g. target = 1e-3");
        }
        if self.divergence_factor.is_nan() || self.divergence_factor <= 1.0 {
            return bad(
                "divergence_factor must be > 1",
                "e.g. divergence_factor = 1e6",
            );
        }
        Ok(())
    }
}

/// A discrete training run in progress; see the [module docs](self).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound(serialize = "O: Serialize", deserialize = "O: Deserialize<'de>"))]
pub struct Descent<T: Real, O = super::AnyOptimizer<T>> {
    config: DescentConfig,
    optimizer: O,
    #[serde(with = "float::vec")]
    theta: Vec<T>,
    samples: usize,
    /// Completed epochs.
    epoch: u64,
    /// Index of the next mini-batch within the current epoch.
    batch: u64,
    step: u64,
    grad_evals: u64,
    #[serde(with = "float::scalar")]
    t: f64,
    #[serde(with = "float::scalar")]
    initial_loss: f64,
    #[serde(with = "float::scalar")]
    loss: f64,
    #[serde(with = "float::scalar")]
    criterion: f64,
    #[serde(with = "float::scalar")]
    grad_norm: f64,
    #[serde(with = "float::scalar")]
    path_length: f64,
    records: Vec<Record>,
    status: Option<Status>,
    #[serde(skip)]
    scratch: Option<Scratch<T>>,
}

/// Work vectors, rebuilt after a resume (the permutation from `(seed, epoch)`).
#[derive(Clone, Debug)]
struct Scratch<T> {
    grad: Vec<T>,
    prev: Vec<T>,
    perm: Vec<usize>,
    perm_epoch: Option<u64>,
}

impl<T: Real, O: Optimizer<T>> Descent<T, O> {
    /// Starts a run at `theta0` with a fresh `optimizer`: evaluates the full loss (the
    /// reference for divergence) and records step 0. A start that is already converged or
    /// non-finite ends here.
    ///
    /// # Errors
    /// An invalid config, an empty training set, or `theta0` not of length `obj.dim()`.
    pub fn new<B: BatchObjective<T> + ?Sized>(
        config: DescentConfig,
        optimizer: O,
        theta0: Vec<T>,
        obj: &mut B,
    ) -> Result<Self> {
        config.validate()?;
        let samples = obj.samples();
        if samples == 0 {
            return Err(Error::invalid("descent", "the training set is empty"));
        }
        super::check_start(theta0.len(), obj.dim(), "descent")?;
        let batch = config.batch_size.unwrap_or(samples).min(samples);
        let total_steps = config
            .max_epochs
            .saturating_mul(samples.div_ceil(batch) as u64);
        let config = DescentConfig {
            schedule: config.schedule.clone().with_total_steps(total_steps),
            ..config
        };
        let loss = obj.full_loss(&theta0);
        let mut run = Descent {
            criterion: obj.criterion(loss),
            config,
            optimizer,
            theta: theta0,
            samples,
            epoch: 0,
            batch: 0,
            step: 0,
            grad_evals: 0,
            t: 0.0,
            initial_loss: loss,
            loss,
            grad_norm: 0.0,
            path_length: 0.0,
            records: Vec::new(),
            status: None,
            scratch: None,
        };
        run.record();
        if let Some(status) = run.judge_evaluation() {
            run.finish(status);
        } else if run.config.max_epochs == 0 {
            run.finish(Status::Timeout(Limit::Epochs));
        }
        Ok(run)
    }

    /// Takes one optimiser step on the next mini-batch (and the full evaluation that falls
    /// due after it), returning the status if the run has ended, now or before.
    pub fn step<B: BatchObjective<T> + ?Sized>(&mut self, obj: &mut B) -> Option<Status> {
        if let Some(status) = &self.status {
            return Some(status.clone());
        }
        assert_eq!(
            obj.samples(),
            self.samples,
            "descent: the training set changed size"
        );
        let n = self.samples;
        let bs = self.config.batch_size.unwrap_or(n).min(n);
        let batches = n.div_ceil(bs) as u64;
        let (epoch, seed) = (self.epoch, self.config.seed);
        let dim = self.theta.len();
        let s = self.scratch.get_or_insert_with(|| Scratch {
            grad: vec![T::zero(); dim],
            prev: vec![T::zero(); dim],
            perm: Vec::new(),
            perm_epoch: None,
        });
        if s.perm_epoch != Some(epoch) {
            s.perm = (0..n).collect();
            if bs < n {
                let mut rng = ChaCha8Rng::seed_from_u64(seed);
                rng.set_stream(epoch);
                s.perm.shuffle(&mut rng);
            }
            s.perm_epoch = Some(epoch);
        }
        let start = self.batch as usize * bs;
        let idx = &s.perm[start..(start + bs).min(n)];
        let batch_loss = obj.batch_loss_grad(&self.theta, idx, &mut s.grad);
        self.grad_evals += 1;
        let grad_norm = s.grad.iter().map(|g| g.f64().powi(2)).sum::<f64>().sqrt();
        if !batch_loss.is_finite() || !grad_norm.is_finite() {
            return Some(self.finish(Status::Diverged(format!(
                "non-finite mini-batch loss or gradient (loss {batch_loss}) at step {} in epoch {}",
                self.step, self.epoch
            ))));
        }
        let lr = self.config.schedule.lr(self.config.lr, self.step);
        s.prev.copy_from_slice(&self.theta);
        self.optimizer.step(&mut self.theta, &s.grad, lr);
        self.path_length += self
            .theta
            .iter()
            .zip(&s.prev)
            .map(|(a, b)| (a.f64() - b.f64()).powi(2))
            .sum::<f64>()
            .sqrt();
        self.grad_norm = grad_norm;
        self.t += lr;
        self.step += 1;
        self.batch += 1;
        let epoch_done = self.batch == batches;
        if epoch_done {
            self.batch = 0;
            self.epoch += 1;
        }
        let last = epoch_done && self.epoch >= self.config.max_epochs;
        let due = match self.config.eval_every {
            Some(k) => self.step.is_multiple_of(k),
            None => epoch_done,
        };
        if due || last {
            self.loss = obj.full_loss(&self.theta);
            self.criterion = obj.criterion(self.loss);
            self.record();
            if let Some(status) = self.judge_evaluation() {
                return Some(self.finish(status));
            }
        }
        last.then(|| self.finish(Status::Timeout(Limit::Epochs)))
    }

    /// Steps until the run ends, calling `observe` after every step, and returns the
    /// final status.
    pub fn run<B: BatchObjective<T> + ?Sized>(
        &mut self,
        obj: &mut B,
        observe: impl FnMut(&Self),
    ) -> Status {
        super::run_to_end(self, |run| run.step(obj), observe)
    }

    fn judge_evaluation(&self) -> Option<Status> {
        let limit = self.config.divergence_factor * self.initial_loss;
        if !self.loss.is_finite() {
            Some(Status::Diverged(format!(
                "the training loss is {} at step {} in epoch {}",
                self.loss, self.step, self.epoch
            )))
        } else if self.criterion <= self.config.target {
            Some(Status::Converged)
        } else if self.initial_loss > 0.0 && self.loss > limit {
            Some(Status::Diverged(format!(
                "the training loss {:.3e} at step {} exceeds {:e} × its initial value {:.3e}",
                self.loss, self.step, self.config.divergence_factor, self.initial_loss
            )))
        } else {
            None
        }
    }

    fn record(&mut self) {
        self.records.push(Record {
            t: self.t,
            step: self.step,
            epoch: self.epoch,
            grad_evals: self.grad_evals,
            loss: self.loss,
            criterion: self.criterion,
            grad_norm: self.grad_norm,
            path_length: self.path_length,
        });
    }

    fn finish(&mut self, status: Status) -> Status {
        self.status = Some(status.clone());
        status
    }

    /// The current parameters.
    pub fn theta(&self) -> &[T] {
        &self.theta
    }
    /// Consumes the run, returning the parameters.
    pub fn into_theta(self) -> Vec<T> {
        self.theta
    }
    /// The optimiser (and its state).
    pub fn optimizer(&self) -> &O {
        &self.optimizer
    }
    /// Completed epochs.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }
    /// Optimiser steps taken.
    pub fn steps(&self) -> u64 {
        self.step
    }
    /// `Σ lr` over the steps taken (the flow time gradient descent approximates).
    pub fn t(&self) -> f64 {
        self.t
    }
    /// The full training loss at the last evaluation.
    pub fn loss(&self) -> f64 {
        self.loss
    }
    /// The objective's criterion of [`loss`](Self::loss).
    pub fn criterion(&self) -> f64 {
        self.criterion
    }
    /// Mini-batch gradient evaluations so far.
    pub fn grad_evals(&self) -> u64 {
        self.grad_evals
    }
    /// `Σ‖θ_{k+1} − θ_k‖`.
    pub fn path_length(&self) -> f64 {
        self.path_length
    }
    /// One record at the start and one per full evaluation.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    /// The final status, once the run has ended.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    /// The run's settings (with an open cosine schedule resolved to the run's length).
    pub fn config(&self) -> &DescentConfig {
        &self.config
    }
}

#[cfg(test)]
#[path = "descent_tests.rs"]
mod tests;

impl<T: Real> Descent<T> {
    /// Why a state read back from a checkpoint cannot continue on `samples` training
    /// samples and `dim` parameters, if it cannot.
    pub(super) fn resumable(&self, dim: usize, samples: usize) -> std::result::Result<(), String> {
        if self.theta.len() != dim {
            return Err(format!(
                "θ has {} entries but the network has {dim} parameters",
                self.theta.len()
            ));
        }
        if self.samples != samples {
            return Err(format!(
                "it was trained on {} samples, but the training set now has {samples}",
                self.samples
            ));
        }
        self.optimizer.resumable(dim)
    }
}
