//! Gradient flow `dθ/dt = −∇L(θ)` (docs/semantics.md §3), integrated by an adaptive Dormand–Prince
//! 5(4) pair with FSAL or, with [`Solver::Rkc`], by the stabilised explicit
//! Runge–Kutta–Chebyshev method (RKC), as a resumable stepper.
//!
//! A [`Flow`] holds the whole state of a run — `θ`, `t`, the next step size, `∇L(θ)`,
//! counters, the recorded trajectory and the path length `∫‖dθ/dt‖dt` — and is
//! serialisable: a run stopped after any accepted step, written to JSON and read back
//! continues **bit-identically** to an uninterrupted run (given a deterministic objective).
//!
//! **Step control** (Dormand–Prince). The error norm is `sqrt(mean((err_i / (atol + rtol·max(|θ_i|,
//! |θ'_i|)))²))`; a step is accepted when it is `≤ 1`, and the next step is
//! `h · clamp(0.9·err^(−1/5), 0.2, 10)`, never growing right after a rejection. A trial
//! that meets a non-finite loss or gradient is rejected with the largest shrink: a too
//! long step into a region where the network overflows is not yet a divergence. The first
//! step follows Hairer and Wanner. Steps are shortened to land exactly on `T`.
//!
//! **RKC.** Gradient flows are stiff, and the Hessian's spectral radius `ρ` pins the
//! Dormand–Prince step at its stability limit `≈ 3.3/ρ`. The RKC solver takes each step
//! with the fewest stages `s` for which `h·1.2ρ ≤ β(s) ≈ 0.653·s²`, estimating `ρ` by
//! power iteration on differences of gradients at the start, every 25 accepted steps and
//! after a rejection (the estimate and its eigenvector are part of the state). Its error
//! estimate is `O(h³)`: the next step is `h · clamp(0.8·err^(−1/3), 0.1, 10)`, never
//! growing right after a rejection, and a non-finite trial shrinks it by 10. Being second
//! order, it is run at a looser default `rtol = 1e-4` ([`FlowConfig::of`]). Every
//! gradient counts, power iterations included.
//!
//! **Ending.** `Converged` when `criterion(L) ≤ ε`, `Timeout` when `t = T` or when another
//! step could exceed the gradient-evaluation budget, `Diverged` when the loss or gradient at
//! `θ(0)` is non-finite or the step size falls below `h_min` (stiffness, or a blow-up).
//!
//! **Recording.** `(t, L, criterion, …)` at `t = 0`, at the first accepted step in each
//! interval `[10^(k/p), 10^((k+1)/p))` for `p = log_per_decade`, and at the end.
//!
//! ```
//! use sparselift::train::{from_fn, Flow, FlowConfig, Solver, Status};
//!
//! // L(θ) = ½·2θ², so θ(t) = e^(−2t) θ(0).
//! let mut obj = from_fn(1, |th: &[f64], g: &mut [f64]| { g[0] = 2.0 * th[0]; th[0] * th[0] });
//! let config = FlowConfig { t_max: 1.0, target: 0.0, rtol: 1e-10, atol: 1e-12, ..Default::default() };
//! let mut flow = Flow::new(config, vec![1.0], &mut obj)?;
//! let status = flow.run(&mut obj, |_| {});
//! assert!(matches!(status, Status::Timeout(_)));
//! assert!((flow.theta()[0] - (-2.0f64).exp()).abs() < 1e-9);
//!
//! // A stiff flow, eigenvalues 1 and 10⁴: RKC follows the slow mode with few gradients.
//! let mut stiff = from_fn(2, |th: &[f64], g: &mut [f64]| {
//!     g[0] = th[0];
//!     g[1] = 1e4 * th[1];
//!     0.5 * (th[0] * th[0] + 1e4 * th[1] * th[1])
//! });
//! let config = FlowConfig { t_max: 5.0, target: 0.0, ..FlowConfig::of(Solver::Rkc) };
//! let mut rkc = Flow::new(config.clone(), vec![1.0, 1.0], &mut stiff)?;
//! rkc.run(&mut stiff, |_| {});
//! assert!((rkc.theta()[0] - (-5.0f64).exp()).abs() < 1e-3); // θ(5) = (e^(−5), ≈0)
//! let config = FlowConfig { solver: Solver::Dopri, ..config };
//! let mut dopri = Flow::new(config, vec![1.0, 1.0], &mut stiff)?;
//! dopri.run(&mut stiff, |_| {});
//! assert!(10 * rkc.grad_evals() < dopri.grad_evals());
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::dopri::Stages;
use super::rkc::{self, Estimate, Spectrum};
use super::{Limit, Objective, Record, Status};
use crate::{float, Error, Real, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

const SAFETY: f64 = 0.9;
const FAC_MIN: f64 = 0.2;
const FAC_MAX: f64 = 10.0;
/// Gradient evaluations of one trial step (stages 2–7; stage 1 is reused).
const EVALS_PER_TRIAL: u64 = 6;
/// The RKC code's step control: safety factor and bounds of the step-size change.
const RKC_SAFETY: f64 = 0.8;
const RKC_FAC_MIN: f64 = 0.1;

/// The integrator of a gradient-flow run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solver {
    /// Dormand–Prince 5(4): six gradients a step, whose size a stiff flow pins at the
    /// stability limit `≈ 3.3/ρ` (`ρ` the largest eigenvalue of the Hessian).
    #[default]
    Dopri,
    /// Second-order Runge–Kutta–Chebyshev: `s` gradients a step, stable for `h·ρ ≤
    /// 0.653·s²`, so a step chosen for accuracy alone costs about `√(1.5·hρ)`.
    Rkc,
}

impl Solver {
    /// Every solver, in the order help texts list them.
    pub const ALL: [Solver; 2] = [Solver::Dopri, Solver::Rkc];

    /// The name in a method string (`flow:solver=rkc`) or a TOML table.
    pub fn as_str(self) -> &'static str {
        match self {
            Solver::Dopri => "dopri",
            Solver::Rkc => "rkc",
        }
    }

    fn is_dopri(&self) -> bool {
        *self == Solver::Dopri
    }
}

impl fmt::Display for Solver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Settings of a gradient-flow run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(from = "ReadFlowConfig")]
pub struct FlowConfig {
    /// The integrator. Left out of the written form when it is the default, so that
    /// Dormand–Prince configs read and write as before it existed.
    #[serde(skip_serializing_if = "Solver::is_dopri")]
    pub solver: Solver,
    /// Relative tolerance of the local error (by default `1e-6` for Dormand–Prince,
    /// `1e-4` for RKC, a second-order method; see [`FlowConfig::of`]).
    pub rtol: f64,
    /// Absolute tolerance of the local error.
    pub atol: f64,
    /// Horizon `T`.
    #[serde(with = "float::scalar")]
    pub t_max: f64,
    /// `ε`: the run has converged when the objective's criterion is `≤ ε`.
    #[serde(with = "float::scalar")]
    pub target: f64,
    /// Budget of gradient evaluations (a Dormand–Prince trial step costs 6, an RKC one its
    /// number of stages, a power iteration 1).
    pub max_grad_evals: u64,
    /// Recorded points per decade of `t` (0: only the start and the end).
    pub log_per_decade: u32,
    /// Smallest step size before the run is declared diverged.
    pub h_min: f64,
}

/// [`FlowConfig`] as read, where a missing `rtol` is the solver's default.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
struct ReadFlowConfig {
    solver: Solver,
    rtol: Option<f64>,
    atol: f64,
    #[serde(with = "float::scalar")]
    t_max: f64,
    #[serde(with = "float::scalar")]
    target: f64,
    max_grad_evals: u64,
    log_per_decade: u32,
    h_min: f64,
}

impl Default for ReadFlowConfig {
    fn default() -> Self {
        let d = FlowConfig::default();
        ReadFlowConfig {
            solver: d.solver,
            rtol: None,
            atol: d.atol,
            t_max: d.t_max,
            target: d.target,
            max_grad_evals: d.max_grad_evals,
            log_per_decade: d.log_per_decade,
            h_min: d.h_min,
        }
    }
}

impl From<ReadFlowConfig> for FlowConfig {
    fn from(r: ReadFlowConfig) -> Self {
        let d = FlowConfig::of(r.solver);
        FlowConfig {
            solver: r.solver,
            rtol: r.rtol.unwrap_or(d.rtol),
            atol: r.atol,
            t_max: r.t_max,
            target: r.target,
            max_grad_evals: r.max_grad_evals,
            log_per_decade: r.log_per_decade,
            h_min: r.h_min,
        }
    }
}

impl Default for FlowConfig {
    /// Dormand–Prince with `rtol 1e-6, atol 1e-8, T = 1e4, ε = 1e-3, 10⁷ evaluations, 10
    /// records per decade, h_min = 1e-10`.
    fn default() -> Self {
        FlowConfig {
            solver: Solver::Dopri,
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

/// The default relative tolerance of the RKC solver.
const RKC_RTOL: f64 = 1e-4;

impl FlowConfig {
    /// The defaults of a solver: those of [`Default`], but for RKC `rtol = 1e-4`.
    /// Its error estimate is that of a second-order method, so `rtol = 1e-6` would make
    /// its steps shorter than the stability limit of Dormand–Prince; at `1e-4` the
    /// loss curve of a network stays within 1% of a tight reference (`bench/rkc_flow.py`),
    /// where `1e-3` strays by about 1% in the first fast transient.
    pub fn of(solver: Solver) -> Self {
        match solver {
            Solver::Dopri => FlowConfig::default(),
            Solver::Rkc => FlowConfig {
                solver,
                rtol: RKC_RTOL,
                ..FlowConfig::default()
            },
        }
    }

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
    /// The Hessian's spectral radius, for the RKC solver only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spectrum: Option<Spectrum>,
    #[serde(skip)]
    rkc_stages: Option<rkc::Stages<T>>,
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
            spectrum: None,
            rkc_stages: None,
        };
        flow.record();
        if !loss.is_finite() || !flow.grad_norm.is_finite() {
            flow.finish(Status::Diverged(format!(
                "non-finite loss or gradient at θ(0) (loss {loss})"
            )));
        } else if flow.criterion <= flow.config.target {
            flow.finish(Status::Converged);
        } else if flow.config.solver == Solver::Rkc {
            flow.start_rkc(obj);
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

    /// The first estimate of `ρ` and the RKC code's first step, `min(T, 1/ρ)` refined by
    /// one explicit Euler step (see [`rkc`]).
    fn start_rkc<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) {
        if self.estimate_spectrum(obj).is_some() {
            return;
        }
        if self.grad_evals >= self.config.max_grad_evals {
            self.finish(Status::Timeout(Limit::Evaluations));
            return;
        }
        let t_max = self.config.t_max;
        let rho = self.spectrum.as_ref().map_or(0.0, Spectrum::safe_rho);
        let mut h0 = if rho * t_max > 1.0 { 1.0 / rho } else { t_max };
        if !h0.is_finite() {
            h0 = 1.0;
        }
        let dim = self.theta.len();
        let work = self.rkc_stages.get_or_insert_with(|| rkc::Stages::new(dim));
        let (rtol, atol) = (self.config.rtol, self.config.atol);
        let (h, evals) = work.initial_step(obj, &self.theta, &self.grad, h0, rtol, atol);
        self.grad_evals += evals;
        self.h = if h.is_finite() { h.min(t_max) } else { h0 };
    }

    /// Estimates `ρ` by power iteration within the evaluation budget, warm-started from
    /// the last eigenvector; returns the status that ends the run if it could not.
    fn estimate_spectrum<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
        let dim = self.theta.len();
        let work = self.rkc_stages.get_or_insert_with(|| rkc::Stages::new(dim));
        let spectrum = self.spectrum.get_or_insert_with(Spectrum::default);
        let budget = self.config.max_grad_evals.saturating_sub(self.grad_evals);
        let (end, evals) = spectrum.estimate(obj, &self.theta, &self.grad, work, budget);
        self.grad_evals += evals;
        match end {
            Estimate::Done => None,
            Estimate::OutOfBudget => Some(self.finish(Status::Timeout(Limit::Evaluations))),
            Estimate::NonFinite => Some(self.finish(Status::Diverged(format!(
                "the gradient is non-finite next to θ(t) at t = {} (while estimating the \
                 spectral radius of the Hessian for the RKC solver)",
                self.t
            )))),
        }
    }

    /// Takes one accepted step (retrying rejected trials) and returns the status if the
    /// run has ended, now or before.
    pub fn step<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
        if let Some(status) = &self.status {
            return Some(status.clone());
        }
        match self.config.solver {
            Solver::Dopri => self.step_dopri(obj),
            Solver::Rkc => self.step_rkc(obj),
        }
    }

    fn step_dopri<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
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
                return Some(self.step_underflow(h, last_non_finite));
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

    /// One accepted RKC step: re-estimates `ρ` every [`Spectrum::REFRESH`] accepted steps
    /// and after a rejection, takes the fewest stages stable for `h·1.2ρ` and controls `h`
    /// as the RKC code does (the error estimate is `O(h³)`).
    fn step_rkc<O: Objective<T> + ?Sized>(&mut self, obj: &mut O) -> Option<Status> {
        let (rtol, atol, t_max, h_min) = (
            self.config.rtol,
            self.config.atol,
            self.config.t_max,
            self.config.h_min,
        );
        let max_stages = rkc::max_stages(rtol);
        let dim = self.theta.len();
        let mut rejected_here = false;
        let mut estimated_here = false;
        let mut last_non_finite = false;
        loop {
            let due = self
                .spectrum
                .as_ref()
                .is_none_or(|s| s.age >= Spectrum::REFRESH);
            if due || (rejected_here && !estimated_here) {
                if let Some(status) = self.estimate_spectrum(obj) {
                    return Some(status);
                }
                estimated_here = true;
            }
            let remaining = t_max - self.t;
            let last = self.h >= remaining;
            let h = if last { remaining } else { self.h };
            if !last && (h < h_min || self.t + h == self.t) {
                return Some(self.step_underflow(h, last_non_finite));
            }
            let rho = self.spectrum.as_ref().map_or(0.0, Spectrum::safe_rho);
            let step = rkc::stages_for(h, rho, max_stages);
            let last = last && step.h == h;
            if self.grad_evals + u64::from(step.stages) > self.config.max_grad_evals {
                return Some(self.finish(Status::Timeout(Limit::Evaluations)));
            }
            let work = self.rkc_stages.get_or_insert_with(|| rkc::Stages::new(dim));
            let trial = work.attempt(obj, &self.theta, &self.grad, step, rtol, atol);
            self.grad_evals += trial.evals;
            let factor =
                |err: f64, max: f64| (RKC_SAFETY * err.powf(-1.0 / 3.0)).clamp(RKC_FAC_MIN, max);
            if trial.err <= 1.0 {
                let mut factor = if trial.err == 0.0 {
                    FAC_MAX
                } else {
                    factor(trial.err, FAC_MAX)
                };
                if rejected_here {
                    factor = factor.min(1.0);
                }
                std::mem::swap(&mut self.theta, work.y_new());
                std::mem::swap(&mut self.grad, work.g_new());
                self.path_length += trial.path;
                self.grad_norm = norm(&self.grad);
                self.t = if last { t_max } else { self.t + step.h };
                self.h = step.h * factor;
                self.loss = trial.loss;
                self.criterion = obj.criterion(trial.loss);
                self.steps += 1;
                if let Some(spectrum) = &mut self.spectrum {
                    spectrum.age += 1;
                }
                return self.after_step();
            }
            self.rejected += 1;
            rejected_here = true;
            last_non_finite = !trial.err.is_finite();
            self.h = step.h
                * if last_non_finite {
                    RKC_FAC_MIN
                } else {
                    factor(trial.err, 1.0)
                };
        }
    }

    /// The end of a run whose step size `h` fell below `h_min`.
    fn step_underflow(&mut self, h: f64, non_finite: bool) -> Status {
        let why = if non_finite {
            "the loss or gradient is non-finite ahead of θ(t) and"
        } else {
            "the error control demands ever smaller steps:"
        };
        let h_min = self.config.h_min;
        self.finish(Status::Diverged(format!(
            "{why} the step size {h:.3e} fell below h_min = {h_min:.3e} at t = {}",
            self.t
        )))
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
        let vector = self.spectrum.as_ref().map_or(&[][..], |s| &s.vector[..]);
        for (name, v) in [("θ", &self.theta), ("the gradient", &self.grad)] {
            if v.len() != dim {
                return Err(format!(
                    "{name} has {} entries but the network has {dim} parameters",
                    v.len()
                ));
            }
        }
        if !vector.is_empty() && vector.len() != dim {
            return Err(format!(
                "the RKC solver's eigenvector has {} entries but the network has {dim} \
                 parameters",
                vector.len()
            ));
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
    /// Gradient evaluations so far, including rejected trials, the first-step choice and,
    /// for RKC, the power iterations that estimate the spectral radius.
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
    /// `∫₀ᵗ ‖dθ/dt‖ dt` (Dormand–Prince: the method's 5th-order weights on the stage norms
    /// of each step; RKC: the trapezoidal rule on each step's end points).
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
