//! One finished training run of a convergence sweep, as stored in `runs.jsonl`.
//!
//! A record is everything the statistics and the report need, so that they never touch
//! the engine: the outcome (status, losses, time to `ε`), the cost of the lift
//! (docs/semantics.md §6) and a short log-spaced loss trajectory.
//!
//! JSON has no infinities or NaN, yet a diverged run has a non-finite loss. Such values
//! are written as the strings `"inf"`, `"-inf"` and `"nan"` and read back exactly (see
//! [`float`](crate::float)), so every line stays standard JSON; records written as `null`
//! by earlier versions read as NaN.
//!
//! ```
//! use sparselift::experiment::{RunKey, RunRecord};
//! use sparselift::train::StatusKind;
//!
//! let mut run = RunRecord::new("mlp-in4", 64, 7);
//! run.status = StatusKind::Diverged;
//! run.final_loss = f64::INFINITY;
//! let line = serde_json::to_string(&run)?;
//! assert!(line.contains(r#""status":"diverged""#) && line.contains(r#""final_loss":"inf""#));
//! let back: RunRecord = serde_json::from_str(&line)?;
//! assert_eq!(back.final_loss, f64::INFINITY);
//! assert_eq!(back.key(), RunKey::new("mlp-in4", 64, 7));
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::train::StatusKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Identifies one run of a sweep: the lift family (a named base module + sampler
/// configuration), the lift size `n`, and the seed that drew the lift and the init.
///
/// The derived order (family, then size, then seed) is the canonical order of a sweep's
/// grid: [`crate::experiment::store::shard`] and merged files use it.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct RunKey {
    /// The lift family's name, as in the experiment file.
    pub family: String,
    /// The lift size `n`: the fiber of every hidden vertex.
    pub size: u32,
    /// The seed of the lift and of the initialisation.
    pub seed: u64,
}

impl RunKey {
    /// The key of run `seed` of `family` at size `size`.
    pub fn new(family: impl Into<String>, size: u32, seed: u64) -> Self {
        RunKey {
            family: family.into(),
            size,
            seed,
        }
    }
}

impl fmt::Display for RunKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} n={} seed={}", self.family, self.size, self.seed)
    }
}

/// The result of one run. Losses are the quantity compared with `ε` (normalised MSE for
/// regression, cross-entropy for classification; docs/semantics.md §3).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// The lift family's name ([`RunKey::family`]).
    pub family: String,
    /// The lift size `n` ([`RunKey::size`]).
    pub size: u32,
    /// The seed of the lift and of the initialisation ([`RunKey::seed`]).
    pub seed: u64,
    /// How the run ended.
    pub status: StatusKind,
    /// The loss at the end of the run, on the training set.
    #[serde(with = "crate::float::scalar")]
    pub final_loss: f64,
    /// The smallest loss seen along the trajectory, the final one included.
    #[serde(with = "crate::float::scalar")]
    pub min_loss: f64,
    /// Flow time (or step/epoch count for discrete methods) at which `ε` was reached.
    pub time_to_eps: Option<f64>,
    /// Evaluations of the gradient `∇L(θ)` (full-batch or mini-batch).
    pub grad_evals: u64,
    /// Scalar parameters of the lifted network (the length of `θ`).
    pub params: u64,
    /// Lifted edges.
    pub edges: u64,
    /// Forward FLOPs per sample.
    pub flops_per_sample: u64,
    /// Bytes of `θ` in the precision the run trained in.
    pub param_bytes: u64,
    /// Bytes of the lift's edge indices (CSR and CSC of the sparse base edges).
    pub index_bytes: u64,
    /// Wall-clock seconds of training, summed over resumed parts.
    pub wall_s: f64,
    /// `(t, loss)` at roughly log-spaced times, increasing in `t`.
    #[serde(with = "crate::float::points")]
    pub trajectory: Vec<[f64; 2]>,
}

impl RunRecord {
    /// A record for `key` with every measurement zero and status
    /// [`Timeout`](StatusKind::Timeout); the
    /// training code fills in the fields it measured.
    pub fn new(family: impl Into<String>, size: u32, seed: u64) -> Self {
        RunRecord {
            family: family.into(),
            size,
            seed,
            status: StatusKind::Timeout,
            final_loss: f64::NAN,
            min_loss: f64::NAN,
            time_to_eps: None,
            grad_evals: 0,
            params: 0,
            edges: 0,
            flops_per_sample: 0,
            param_bytes: 0,
            index_bytes: 0,
            wall_s: 0.0,
            trajectory: Vec::new(),
        }
    }

    /// The run's key: family, size and seed.
    pub fn key(&self) -> RunKey {
        RunKey::new(self.family.clone(), self.size, self.seed)
    }

    /// Whether the run counts as a success at tolerance `epsilon`: its loss reached
    /// `ε` at some recorded point. Runs stop at the time budget, so this is "`L ≤ ε`
    /// before `T`" (docs/semantics.md §4). With the `ε` the sweep trained with it is exactly
    /// `status == "converged"`; a looser `ε` in the report is then still meaningful,
    /// a tighter one is not (runs stopped at the training `ε`).
    pub fn succeeded(&self, epsilon: f64) -> bool {
        self.min_loss <= epsilon
    }

    /// Memory of the lifted network: parameter bytes plus sparse-index bytes.
    pub fn memory_bytes(&self) -> u64 {
        self.param_bytes + self.index_bytes
    }

    /// Checks the invariants every consumer relies on; the message names the field.
    pub fn check(&self) -> Result<(), String> {
        if self.family.is_empty() {
            return Err("empty `family`".into());
        }
        if self.size == 0 {
            return Err("`size` must be at least 1".into());
        }
        if self.trajectory.windows(2).any(|w| w[1][0] < w[0][0]) {
            return Err("`trajectory` times must be non-decreasing".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_finite_losses_survive_a_json_round_trip() {
        let mut r = RunRecord::new("f", 3, 1);
        r.final_loss = f64::NEG_INFINITY;
        r.min_loss = 0.25;
        r.trajectory = vec![[0.1, 1.0], [1.0, f64::NAN], [2.0, f64::INFINITY]];
        let line = serde_json::to_string(&r).unwrap();
        let back: RunRecord = serde_json::from_str(&line).unwrap();
        assert_eq!(back.final_loss, f64::NEG_INFINITY);
        assert_eq!(back.min_loss, 0.25);
        assert_eq!(back.trajectory[0], [0.1, 1.0]);
        assert!(back.trajectory[1][1].is_nan());
        assert_eq!(back.trajectory[2][1], f64::INFINITY);
        // Earlier versions wrote non-finite losses as null.
        let old = line.replace(r#""-inf""#, "null");
        assert!(serde_json::from_str::<RunRecord>(&old)
            .unwrap()
            .final_loss
            .is_nan());
    }

    #[test]
    fn floats_round_trip_bit_exactly() {
        // Merging compares records after parsing; a one-ulp drift would turn identical
        // duplicates into conflicts.
        let mut r = RunRecord::new("f", 3, 1);
        r.final_loss = 0.1 + 0.2;
        r.wall_s = 1.0 / 3.0;
        let back: RunRecord = serde_json::from_str(&serde_json::to_string(&r).unwrap()).unwrap();
        assert_eq!(back.final_loss.to_bits(), r.final_loss.to_bits());
        assert_eq!(back.wall_s.to_bits(), r.wall_s.to_bits());
    }

    #[test]
    fn check_names_the_bad_field() {
        let mut r = RunRecord::new("f", 3, 1);
        assert!(r.check().is_ok());
        r.size = 0;
        assert!(r.check().unwrap_err().contains("`size`"));
        r.size = 3;
        r.trajectory = vec![[2.0, 1.0], [1.0, 0.5]];
        assert!(r.check().unwrap_err().contains("trajectory"));
    }

    #[test]
    fn keys_sort_by_family_then_size_then_seed() {
        let mut keys = [
            RunKey::new("b", 1, 0),
            RunKey::new("a", 10, 0),
            RunKey::new("a", 2, 5),
            RunKey::new("a", 2, 1),
        ];
        keys.sort();
        let shown: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        assert_eq!(
            shown,
            [
                "a n=2 seed=1",
                "a n=2 seed=5",
                "a n=10 seed=0",
                "b n=1 seed=0"
            ]
        );
    }
}
