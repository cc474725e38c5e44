//! Gradient flow `dθ/dt = −∇L(θ)` (docs/semantics.md §3), integrated by an adaptive Dormand–Prince
//! 5(4) pair with FSAL, as a resumable stepper.
//!
//! A [`Flow`] holds the whole state of a run — `θ`, `t`, the next step size, `∇L(θ)`,
//! counters, the recorded trajectory and the path length `∫‖dθ/dt‖dt` — and is
//! serialisable: a run stopped after any accepted step, written to JSON and read back
//! continues **bit-identically** to an uninterrupted run (given a deterministic objective).
//!
//! **Step control.** The error norm is `sqrt(mean((err_i / (atol + rtol·max(|θ_i|,
//! |θ'_i|)))²))`; a step is accepted when it is `≤ 1`, and the next step is
//! `h · clamp(0.9·err^(−1/5), 0.2, 10)`, never growing right after a rejection. A trial
//! that meets a non-finite loss or gradient is rejected with the largest shrink: a too
//! long step into a region where the network overflows is not yet a divergence. The first
//! step follows Hairer and Wanner. Steps are shortened to land exactly on `T`.
//!
//! **Ending.** `Converged` when `criterion(L) ≤ ε`, `Timeout` when `t = T` or when another
//! step could exceed the gradient-evaluation budget, `Diverged` when the loss or gradient at
//! `θ(0)` is non-finite or the step size falls below `h_min` (stiffness, or a blow-up).
//!
//! **Recording.** `(t, L, criterion, …)` at `t = 0`, at the first accepted step in each
//! interval `[10^(k/p), 10^((k+1)/p))` for `p = log_per_decade`, and at the end.
//!
//! ```
//! use sparselift::train::{from_fn, Flow, FlowConfig, Status};
//!
//! // L(θ) = ½·2θ², so θ(t) = e^(−2t) θ(0).
//! let mut obj = from_fn(1, |th: &[f64], g: &mut [f64]| { g[0] = 2.0 * th[0]; th[0] * th[0] });
//! let config = FlowConfig { t_max: 1.0, target: 0.0, rtol: 1e-10, atol: 1e-12, ..Default::default() };
//! let mut flow = Flow::new(config, vec![1.0], &mut obj)?;
//! let status = flow.run(&mut obj, |_| {});
//! assert!(matches!(status, Status::Timeout(_)));
//! assert!((flow.theta()[0] - (-2.0f64).exp()).abs() < 1e-9);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::dopri::Stages;
use super::{Limit, Objective, Record, Status};
use crate::{float, Error, Real, Result};
use serde::{Deserialize, Serialize};

const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 0.2;
const FAC_MAX: f64 = 10.0;
/// Gradient evaluations of one trial step (stages 2–7; stage 1 is reused).
const EVALS_PER_TRIAL: u64 = 6;

/// Settings of a gradient-flow run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowConfig {
    /// Relative tolerance of the local error.
    pub rtol: f64,
    /// Absolute tolerance of the local error.
    pub atol: f64,
    /// Horizon `T`.
    #[serde(with = "float::scalar")]
    pub t_max: f64,
    /// `ε`: the run has converged when the objective's criterion is `≤ ε`.
    #[serde(with = "float::scalar")]
    pub target: f64,
    /// Budget of gradient evaluations (each trial step costs 6).
    pub max_grad_evals: u64,
    /// Recorded points per decade of `t` (0: only the start and the end).
    pub log_per_decade: u32,
    /// Smallest step size before the run is declared diverged.
    pub h_min: f64,
}

impl Default for FlowConfig {
    /// `rtol 1e-6, atol 1e-8, T = 1e4, ε = 1e-3, 10⁷ evaluations, 10 records per decade,
    /// h_min = 1e-10`.
    fn default() -> Self {
        FlowConfig {
            rtol: 1e-6,
            atol: 1e-8,
            t_max: 1e4,
            target: 1e-3,
            max_grad_evals: 10_000_000,
            log_per_decade: 10,
            h_min: 1e-10,
        }
    }
}

impl FlowConfig {
    /// Checks that the tolerances, horizon and `h_min` make sense.
    pub fn validate(&self) -> Result<()> {
        let bad = |what: &str, hint: &str| {
            Err(Error::invalid("flow config", what.to_string()).with_hint(hint.to_string()))
        };
        let tolerance = |x: f64| x >= 0.0 && x.is_finite();
        if !tolerance(self.rtol) || !tolerance(self.atol) || self.rtol + self.atol == 0.0 {
            return bad(
                "rtol and atol must be finite, ≥ 0 and not both 0",
                "e.g. rtol = 1e-6, atol = 1e-8",
            );
        }
        if self.t_max.is_nan() || self.t_max <= 0.0 {
            return bad("the horizon t_max must be > 0", "e.g. t_max = 1e4");
        }
        if self.target.is_nan() {
            return bad("the target ε is NaN", "e.g. target = 1e-3");
        }
        if !(self.h_min > 0.0 && self.h_min.is_finite()) {
            return bad("h_min must be a positive number", "e.g. h_min = 1e-10");
        }
        Ok(())
    }
}

/// A gradient-flow run in progress; see the [module docs](self).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Flow<T: Real> {
    config: FlowConfig,
    #[serde(with = "float::vec")]
    theta: Vec<T>,
    /// `∇L(θ)`: the first stage of the next step (FSAL).
    #[serde(with = "float::vec")]
    grad: Vec<T>,
    #[serde(with = "float::scalar")]
    t: f64,
    #[serde(with = "float::scalar")]
    h: f64,
    #[serde(with = "float::scalar")]
    loss: f64,
    #[serde(with = "float::scalar")]
    criterion: f64,
    #[serde(with = "float::scalar")]
    grad_norm: f64,
    #[serde(with = "float::scalar")]
    path_length: f64,
    grad_evals: u64,
    steps: u64,
    rejected: u64,
    records: Vec<Record>,
    /// Index `⌊p·log10 t⌋` of the last recorded interval.
    last_bucket: i64,
    status: Option<Status>,
    #[serde(skip)]
    stages: Option<Stages<T>>,
}

impl<T: Real> Flow<T> {
    /// Starts a run at `θ(0) = theta0`: evaluates `∇L(θ(0))`, picks the first step (one more
    /// evaluation) and records `t = 0`. A run whose start is already converged or
    /// non-finite ends here; [`step`](Self::step) then just returns its status.
    ///
    /// # Errors
    /// An invalid config, or `theta0` not of length `obj.dim()`.
    pub fn new<O: Objective<T> + ?Sized>(
        config: FlowConfig,
        theta0: Vec<T>,
        obj: &mut O,
    ) -> Result<Self> {
        config.validate()?;
        super::check_start(theta0.len(), obj.dim(), "flow")?;
        let mut grad = vec![T::zero(); theta0.len()];
        let loss = obj.loss_grad(&theta0, &mut grad);
        let mut flow = Flow {
            criterion: obj.criterion(loss),
            grad_norm: norm(&grad),
            config,
            theta: theta0,
            grad,
            t: 0.0,
            h: 0.0,
            loss,
            path_length: 0.0,
            grad_evals: 1,
            steps: 0,
            rejected: 0,
            records: Vec::new(),
            last_bucket: i64::MIN,
            status: None,
            stages: None,
        };
        flow.record();
        if !loss.is_finite() || !flow.grad_norm.is_finite() {
            flow.finish(Status::Diverged(format!(
                "non-finite loss or gradient at θ(0) (loss {loss})"
            )));
        } else if flow.criterion <= flow.config.target {
            flow.finish(Status::Converged);
        } else {
            let (rtol, atol) = (flow.config.rtol, flow.config.atol);
            let dim = flow.theta.len();
            let stages = flow.stages.get_or_insert_with(|| Stages::new(dim));
            let (h, evals) = stages.initial_step(obj, &flow.theta, &flow.grad, rtol, atol);
            flow.h = h;
            flow.grad_evals += evals;
        }
        Ok(flow)
    }

    /// Takes one accepted step (retrying rejected trials) and returns the status if the
    /// run has ended, now or before.
    pub fn step<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
        if let Some(status) = &self.status {
            return Some(status.clone());
        }
        let (rtol, atol, t_max, h_min) = (
            self.config.rtol,
            self.config.atol,
            self.config.t_max,
            self.config.h_min,
        );
        let dim = self.theta.len();
        let mut rejected_here = false;
        let mut last_non_finite = false;
        loop {
            if self.grad_evals + EVALS_PER_TRIAL > self.config.max_grad_evals {
                return Some(self.finish(Status::Timeout(Limit::Evaluations)));
            }
            let remaining = t_max - self.t;
            let last = self.h >= remaining;
            let h = if last { remaining } else { self.h };
            if !last && (h < h_min || self.t + h == self.t) {
                let why = if last_non_finite {
                    "the loss or gradient is non-finite ahead of θ(t) and"
                } else {
                    "the error control demands ever smaller steps:"
                };
                return Some(self.finish(Status::Diverged(format!(
                    "{why} the step size {h:.3e} fell below h_min = {h_min:.3e} at t = {}",
                    self.t
                ))));
            }
            let stages = self.stages.get_or_insert_with(|| Stages::new(dim));
            let trial = stages.attempt(obj, &self.theta, &self.grad, h, rtol, atol);
            self.grad_evals += trial.evals;
            if trial.err <= 1.0 {
                let mut factor = if trial.err == 0.0 {
                    FAC_MAX
                } else {
                    (SAFETY * trial.err.powf(-0.2)).clamp(FAC_MIN, FAC_MAX)
                };
                if rejected_here {
                    factor = factor.min(1.0);
                }
                std::mem::swap(&mut self.theta, stages.y_new());
                std::mem::swap(&mut self.grad, stages.k_last());
                self.path_length += trial.path;
                self.grad_norm = norm(&self.grad);
                self.t = if last { t_max } else { self.t + h };
                self.h = h * factor;
                self.loss = trial.loss;
                self.criterion = obj.criterion(trial.loss);
                self.steps += 1;
                return self.after_step();
            }
            self.rejected += 1;
            rejected_here = true;
            last_non_finite = !trial.err.is_finite();
            let factor = if last_non_finite {
                FAC_MIN
            } else {
                (SAFETY * trial.err.powf(-0.2)).clamp(FAC_MIN, 1.0)
            };
            self.h = h * factor;
        }
    }

    /// Steps until the run ends, calling `observe` after every accepted step (e.g. to log,
    /// measure diagnostics or checkpoint), and returns the final status.
    pub fn run<O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        observe: impl FnMut(&Self),
    ) -> Status {
        super::run_to_end(self, |run| run.step(obj), observe)
    }

    fn after_step(&mut self) -> Option<Status> {
        let status = if self.criterion <= self.config.target {
            Some(Status::Converged)
        } else if self.t >= self.config.t_max {
            Some(Status::Timeout(Limit::Time))
        } else {
            None
        };
        let p = self.config.log_per_decade;
        if p > 0 {
            let bucket = (p as f64 * self.t.log10()).floor() as i64;
            if bucket > self.last_bucket {
                self.last_bucket = bucket;
                self.record();
            }
        }
        status.map(|s| self.finish(s))
    }

    fn record(&mut self) {
        self.records.push(Record {
            t: self.t,
            step: self.steps,
            epoch: 0,
            grad_evals: self.grad_evals,
            loss: self.loss,
            criterion: self.criterion,
            grad_norm: self.grad_norm,
            path_length: self.path_length,
        });
    }

    fn finish(&mut self, status: Status) -> Status {
        if self.records.last().map(|r| r.step) != Some(self.steps) {
            self.record();
        } else if let Some(last) = self.records.last_mut() {
            // Same point, but the evaluation count may have grown through rejections.
            last.grad_evals = self.grad_evals;
        }
        self.status = Some(status.clone());
        status
    }

    /// The current parameters `θ(t)`.
    pub fn theta(&self) -> &[T] {
        &self.theta
    }
    /// Consumes the run, returning `θ(t)`.
    pub fn into_theta(self) -> Vec<T> {
        self.theta
    }
    /// `∇L(θ(t))`.
    pub fn grad(&self) -> &[T] {
        &self.grad
    }
    /// The current time `t`.
    pub fn t(&self) -> f64 {
        self.t
    }
    /// The step size the next trial will use (before shortening to land on `T`).
    pub fn step_size(&self) -> f64 {
        self.h
    }
    /// Why a state read back from a checkpoint cannot continue on an objective of `dim`
    /// parameters, if it cannot: vectors of another length, or a running state whose time
    /// lies outside `[0, T]` (it would step until the evaluation budget ran out).
    pub(super) fn resumable(&self, dim: usize) -> std::result::Result<(), String> {
        for (name, v) in [("θ", &self.theta), ("the gradient", &self.grad)] {
            if v.len() != dim {
                return Err(format!(
                    "{name} has {} entries but the network has {dim} parameters",
                    v.len()
                ));
            }
        }
        let (t, t_max) = (self.t, self.config.t_max);
        // A finished run only reports its status; a running one steps from `t` by `h`.
        if self.status.is_none()
            && !(t.is_finite() && (0.0..=t_max).contains(&t) && self.h.is_finite() && self.h > 0.0)
        {
            return Err(format!(
                "its time t = {t:e} (step {:e}) lies outside the horizon [0, {t_max:e}]",
                self.h
            ));
        }
        Ok(())
    }

    /// `L(θ(t))`.
    pub fn loss(&self) -> f64 {
        self.loss
    }
    /// The objective's criterion of [`loss`](Self::loss) (compared with ε).
    pub fn criterion(&self) -> f64 {
        self.criterion
    }
    /// Gradient evaluations so far, including rejected trials and the first-step choice.
    pub fn grad_evals(&self) -> u64 {
        self.grad_evals
    }
    /// Accepted steps so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }
    /// Rejected trial steps so far.
    pub fn rejected(&self) -> u64 {
        self.rejected
    }
    /// `∫₀ᵗ ‖dθ/dt‖ dt` (the method's 5th-order weights on the stage norms of each step).
    pub fn path_length(&self) -> f64 {
        self.path_length
    }
    /// The recorded trajectory.
    pub fn records(&self) -> &[Record] {
        &self.records
    }
    /// The final status, once the run has ended.
    pub fn status(&self) -> Option<&Status> {
        self.status.as_ref()
    }
    /// The run's settings.
    pub fn config(&self) -> &FlowConfig {
        &self.config
    }
}

fn norm<T: Real>(v: &[T]) -> f64 {
    v.iter().map(|x| x.f64() * x.f64()).sum::<f64>().sqrt()
}

#[cfg(test)]
#[path = "flow_tests.rs"]
mod tests;
