//! Training (docs/semantics.md §3): losses, gradient flow, discrete optimisers and their loops.
//!
//! Everything here works on a flat parameter vector `θ` and an objective that returns the
//! loss and its gradient, so it is independent of how the network computes them:
//!
//! * [`loss`]: MSE, normalised MSE, softmax cross-entropy, accuracy on the engine's
//!   feature-major outputs;
//! * [`Objective`] (full batch) and [`BatchObjective`] (mini-batches);
//! * [`Flow`]: gradient flow by adaptive Dormand–Prince 5(4) or, for stiff flows,
//!   Runge–Kutta–Chebyshev ([`Solver`]), resumable;
//! * [`Optimizer`]s ([`Sgd`], [`Adam`]), learning-rate [`Schedule`]s and the mini-batch
//!   loop [`Descent`], resumable;
//! * [`MethodConfig`]: a whole method as a string (`adam:lr=1e-3,batch=64`) or a TOML
//!   table.
//!
//! Both runners end with a [`Status`] and keep a trajectory of [`Record`]s. A
//! [`Trainer`] is either of them, started from a [`MethodConfig`] on any
//! [`BatchObjective`] — for a network on a dataset, a [`Supervised`] objective — and
//! [`train()`](train()) runs one in a single call, in memory, returning the network, `θ`
//! and the [`Outcome`].
//!
//! ```
//! use sparselift::train::{from_fn, Flow, FlowConfig, Status};
//!
//! // L(θ) = ½‖θ‖² from θ = (1, 0): L(t) = ½e^(−2t) reaches 1e-6 at t = ln(5e5)/2.
//! let mut obj = from_fn(2, |th: &[f64], g: &mut [f64]| {
//!     g.copy_from_slice(th);
//!     0.5 * th.iter().map(|x| x * x).sum::<f64>()
//! });
//! let mut flow = Flow::new(FlowConfig { target: 1e-6, ..Default::default() }, vec![1.0, 0.0], &mut obj)?;
//! assert_eq!(flow.run(&mut obj, |_| {}), Status::Converged);
//! assert!(flow.t() >= 5e5f64.ln() / 2.0 && flow.loss() <= 1e-6);
//! # Ok::<(), sparselift::Error>(())
//! ```

pub mod descent;
mod dopri;
mod fit;
pub mod flow;
pub mod loss;
pub mod method;
mod objective;
mod optim;
mod rkc;
mod schedule;
mod supervised;
#[cfg(test)]
mod testing;
mod trainer;

pub use descent::{Descent, DescentConfig};
pub use fit::{train, Outcome, Trained};
pub use flow::{Flow, FlowConfig, Solver};
pub use loss::Loss;
pub use method::MethodConfig;
pub use objective::{from_fn, BatchObjective, FnObjective, FullBatch, Objective};
pub use optim::{Adam, AdamConfig, AnyOptimizer, Optimizer, OptimizerConfig, Sgd, SgdConfig};
pub use schedule::Schedule;
pub use supervised::{check_fit, Evaluation, Supervised};
pub use trainer::{Progress, Trainer};

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Checks that `θ(0)` has as many entries (`len`) as the objective has parameters
/// (`dim`); `runner` names the run in the error.
fn check_start(len: usize, dim: usize, runner: &str) -> Result<()> {
    if len == dim {
        return Ok(());
    }
    Err(Error::invalid(
        runner,
        format!("θ(0) has {len} entries but the objective has {dim} parameters"),
    ))
}

/// The loop of [`Flow::run`] and [`Descent::run`]: `step`s `run` until it ends, calling
/// `observe` after every step (the last one included), and returns the final status.
fn run_to_end<R>(
    run: &mut R,
    mut step: impl FnMut(&mut R) -> Option<Status>,
    mut observe: impl FnMut(&R),
) -> Status {
    loop {
        let status = step(run);
        observe(run);
        if let Some(status) = status {
            return status;
        }
    }
}

/// How a training run ended.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// The criterion reached the target ε.
    Converged,
    /// A limit was reached first.
    Timeout(Limit),
    /// The run blew up; the text says how and where.
    Diverged(String),
}

/// The limit that ended a [`Status::Timeout`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Limit {
    /// The horizon `t ≥ T` of gradient flow.
    Time,
    /// The gradient-evaluation budget.
    Evaluations,
    /// The epoch limit of a discrete method.
    Epochs,
}

impl Status {
    /// True for [`Status::Converged`].
    pub fn converged(&self) -> bool {
        matches!(self, Status::Converged)
    }

    /// The status without its details.
    pub fn kind(&self) -> StatusKind {
        match self {
            Status::Converged => StatusKind::Converged,
            Status::Timeout(_) => StatusKind::Timeout,
            Status::Diverged(_) => StatusKind::Diverged,
        }
    }
}

/// How a run ended, without the details of a [`Status`]: what run results and sweep
/// records store, as `"converged"`, `"timeout"` or `"diverged"`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusKind {
    /// The criterion reached the target ε before any limit.
    Converged,
    /// A limit (time, evaluations, epochs) was reached with the criterion above ε.
    Timeout,
    /// The loss became non-finite or the step size underflowed.
    Diverged,
}

impl StatusKind {
    /// Every kind, in the order reports list them.
    pub const ALL: [StatusKind; 3] = [
        StatusKind::Converged,
        StatusKind::Timeout,
        StatusKind::Diverged,
    ];

    /// The name stored on disk.
    pub fn as_str(self) -> &'static str {
        match self {
            StatusKind::Converged => "converged",
            StatusKind::Timeout => "timeout",
            StatusKind::Diverged => "diverged",
        }
    }
}

impl fmt::Display for StatusKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Status::Converged => f.write_str("converged"),
            Status::Timeout(Limit::Time) => f.write_str("timeout (t ≥ T)"),
            Status::Timeout(Limit::Evaluations) => {
                f.write_str("timeout (gradient-evaluation budget spent)")
            }
            Status::Timeout(Limit::Epochs) => f.write_str("timeout (epoch limit)"),
            Status::Diverged(why) => write!(f, "diverged: {why}"),
        }
    }
}

/// One point of a training trajectory.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Flow time `t`; for discrete methods `Σ lr` over the steps taken, the flow time that
    /// gradient descent approximates.
    #[serde(with = "crate::float::scalar")]
    pub t: f64,
    /// Accepted integrator steps, or optimiser steps.
    pub step: u64,
    /// Completed epochs (0 for gradient flow).
    pub epoch: u64,
    /// Gradient evaluations so far (full-batch for the flow, mini-batch for discrete
    /// methods).
    pub grad_evals: u64,
    /// Loss on the full training set.
    #[serde(with = "crate::float::scalar")]
    pub loss: f64,
    /// The objective's criterion of `loss`, compared with ε.
    #[serde(with = "crate::float::scalar")]
    pub criterion: f64,
    /// `‖∇L(θ)‖` for the flow; for discrete methods the norm of the last mini-batch
    /// gradient (0 before the first step).
    #[serde(with = "crate::float::scalar")]
    pub grad_norm: f64,
    /// Length of the path of `θ` so far: `∫‖dθ/dt‖dt`, or `Σ‖θ_{k+1} − θ_k‖`.
    #[serde(with = "crate::float::scalar")]
    pub path_length: f64,
}
