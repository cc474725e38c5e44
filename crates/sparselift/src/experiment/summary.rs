//! What a convergence sweep found, per lift family and size: success rates with
//! Clopper–Pearson intervals, loss quantiles over time, final losses, cost, and the
//! learning number `n*(ε, δ)` (docs/semantics.md §4).
//!
//! ```
//! use sparselift::experiment::{LearningNumber, RunRecord, Summary};
//! use sparselift::train::StatusKind;
//!
//! let mut runs = Vec::new();
//! for size in [8, 16, 32] {
//!     for seed in 0..20 {
//!         let mut r = RunRecord::new("mlp", size, seed);
//!         // Small lifts fail on a few seeds, large ones always converge.
//!         let ok = size >= 16 || seed % 4 != 0;
//!         r.status = if ok { StatusKind::Converged } else { StatusKind::Timeout };
//!         r.min_loss = if ok { 1e-4 } else { 0.3 };
//!         r.final_loss = r.min_loss;
//!         runs.push(r);
//!     }
//! }
//! let summary = Summary::new(&runs, 1e-3, 0.2)?;
//! // 20/20 gives a lower bound 0.025^(1/20) ≈ 0.83 ≥ 1 − δ from n = 16 on.
//! assert_eq!(summary.families[0].learning_number, LearningNumber::Reached { size: 16 });
//! println!("{}\n{}", summary.table(), summary.verdict());
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::record::RunRecord;
use super::stats::{self, clopper_pearson, loss_order, Interval};
use crate::train::StatusKind;
use crate::{float, Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// Confidence level of the success-rate intervals unless stated otherwise.
pub const DEFAULT_CONFIDENCE: f64 = 0.95;
/// Number of points of the common time grid loss curves are resampled on.
pub const GRID_POINTS: usize = 60;

/// Everything the report shows, computed from run records alone.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Summary {
    /// The tolerance `ε`: a run succeeds when its loss reached it.
    pub epsilon: f64,
    /// The failure probability `δ` of the learning number.
    pub delta: f64,
    /// Confidence level of the intervals (e.g. 0.95).
    pub confidence: f64,
    /// Number of runs summarised.
    pub runs: usize,
    /// Families in name order.
    pub families: Vec<FamilySummary>,
}

/// One lift family over all tested sizes.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FamilySummary {
    /// The family's name.
    pub family: String,
    /// Sizes in increasing order.
    pub sizes: Vec<SizeSummary>,
    /// The family's learning number `n*(ε, δ)`.
    pub learning_number: LearningNumber,
    /// Common log-spaced time grid of the loss curves (empty when no run recorded a
    /// positive time).
    pub times: Vec<f64>,
}

/// The runs of one family at one lift size.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SizeSummary {
    /// The lift size `n`.
    pub size: u32,
    /// Runs at this size (one per seed).
    pub runs: u64,
    /// Runs with `min_loss ≤ ε` (see [`RunRecord::succeeded`]).
    pub successes: u64,
    /// `successes / runs`, the estimate of `P_n`.
    pub rate: f64,
    /// Clopper–Pearson interval of `P_n` at [`Summary::confidence`].
    pub interval: Interval,
    /// Runs with status `converged`.
    pub converged: u64,
    /// Runs with status `timeout`.
    pub timeout: u64,
    /// Runs with status `diverged`.
    pub diverged: u64,
    /// 10/50/90% quantiles of the final loss (non-finite losses count as +∞).
    pub final_loss: Quantiles,
    /// Every final loss, sorted, for distribution plots.
    #[serde(with = "float::vec")]
    pub final_losses: Vec<f64>,
    /// Loss quantiles at each time of [`FamilySummary::times`].
    pub loss_curve: LossCurve,
    /// Median time to `ε` over the runs that recorded one.
    pub median_time_to_eps: Option<f64>,
    /// Cost of the lifts of this size.
    pub cost: Cost,
}

/// Three quantiles of a distribution of losses.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    /// The 10% quantile.
    #[serde(with = "float::scalar")]
    pub q10: f64,
    /// The median.
    #[serde(with = "float::scalar")]
    pub q50: f64,
    /// The 90% quantile.
    #[serde(with = "float::scalar")]
    pub q90: f64,
}

impl Quantiles {
    fn of(values: &[f64]) -> Quantiles {
        let mut sorted = values.to_vec();
        sorted.sort_by(loss_order);
        Quantiles {
            q10: stats::quantile_sorted(&sorted, 0.1),
            q50: stats::quantile_sorted(&sorted, 0.5),
            q90: stats::quantile_sorted(&sorted, 0.9),
        }
    }
}

/// Loss quantiles over time, one entry per grid time.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct LossCurve {
    /// The 10% quantile at each time.
    #[serde(with = "float::vec")]
    pub q10: Vec<f64>,
    /// The median at each time.
    #[serde(with = "float::vec")]
    pub q50: Vec<f64>,
    /// The 90% quantile at each time.
    #[serde(with = "float::vec")]
    pub q90: Vec<f64>,
}

/// Cost of the lifts of one size (docs/semantics.md §6). Structural counts are means over the
/// seeds, rounded (they differ between seeds only for samplers with random degrees).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Scalar parameters ([`RunRecord::params`]).
    pub params: u64,
    /// Lifted edges.
    pub edges: u64,
    /// Forward FLOPs per sample.
    pub flops_per_sample: u64,
    /// Bytes of `θ`.
    pub param_bytes: u64,
    /// Bytes of the edge indices.
    pub index_bytes: u64,
    /// `param_bytes + index_bytes`.
    pub memory_bytes: u64,
    /// Median wall-clock seconds of training over the seeds.
    pub median_wall_s: f64,
    /// Median number of gradient evaluations over the seeds.
    pub median_grad_evals: f64,
}

/// The learning number `n*(ε, δ)` of a family: the smallest tested size from which the
/// lower confidence bound of the success rate stays `≥ 1 − δ` at every larger tested
/// size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum LearningNumber {
    /// The bound holds from `size` on.
    Reached {
        /// The smallest such tested size, `n*(ε, δ)`.
        size: u32,
    },
    /// Even the largest tested size misses the bound.
    NotReached {
        /// The largest tested size.
        largest_tested: u32,
    },
}

/// The learning number from `(size, lower bound)` pairs in any order: walk down from
/// the largest size while the bound holds. A size that misses the bound resets the
/// answer even if smaller sizes met it — the claim is about *all* larger sizes.
///
/// # Panics
/// On an empty slice.
pub fn learning_number(lower_bounds: &[(u32, f64)], delta: f64) -> LearningNumber {
    let mut sorted = lower_bounds.to_vec();
    sorted.sort_by_key(|&(n, _)| n);
    let largest = sorted.last().expect("at least one tested size").0;
    let mut reached = None;
    for &(n, lower) in sorted.iter().rev() {
        if lower >= 1.0 - delta {
            reached = Some(n);
        } else {
            break;
        }
    }
    match reached {
        Some(size) => LearningNumber::Reached { size },
        None => LearningNumber::NotReached {
            largest_tested: largest,
        },
    }
}

impl Summary {
    /// Summarises `records` at tolerance `epsilon`, failure probability `delta`, with
    /// [`DEFAULT_CONFIDENCE`] intervals.
    pub fn new(records: &[RunRecord], epsilon: f64, delta: f64) -> Result<Summary> {
        Summary::with_confidence(records, epsilon, delta, DEFAULT_CONFIDENCE)
    }

    /// [`Summary::new`] at another confidence level (e.g. 0.99).
    pub fn with_confidence(
        records: &[RunRecord],
        epsilon: f64,
        delta: f64,
        confidence: f64,
    ) -> Result<Summary> {
        check_parameters(records, epsilon, delta, confidence)?;
        let mut by_family: BTreeMap<&str, BTreeMap<u32, Vec<&RunRecord>>> = BTreeMap::new();
        for r in records {
            by_family
                .entry(&r.family)
                .or_default()
                .entry(r.size)
                .or_default()
                .push(r);
        }
        let families = by_family
            .into_iter()
            .map(|(family, sizes)| summarise_family(family, &sizes, epsilon, delta, confidence))
            .collect();
        Ok(Summary {
            epsilon,
            delta,
            confidence,
            runs: records.len(),
            families,
        })
    }

    /// The family called `name`.
    pub fn family(&self, name: &str) -> Option<&FamilySummary> {
        self.families.iter().find(|f| f.family == name)
    }
}

fn check_parameters(records: &[RunRecord], eps: f64, delta: f64, conf: f64) -> Result<()> {
    if !(eps.is_finite() && eps > 0.0) {
        return Err(Error::invalid(
            "epsilon",
            format!("{eps} is not a positive number"),
        ));
    }
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::invalid("delta", format!("{delta} is not in (0, 1)")));
    }
    if !(conf > 0.0 && conf < 1.0) {
        return Err(Error::invalid(
            "confidence",
            format!("{conf} is not in (0, 1)"),
        ));
    }
    if records.is_empty() {
        return Err(Error::invalid("runs", "no runs to summarise")
            .with_hint("run the experiment first, or check the results directory"));
    }
    let mut seen = HashSet::new();
    for r in records {
        r.check()
            .map_err(|m| Error::invalid(r.key().to_string(), m))?;
        if !seen.insert(r.key()) {
            // Counting a run twice would bias its size's success rate.
            return Err(
                Error::invalid(r.key().to_string(), "this run appears more than once").with_hint(
                    "read results with experiment::store::load, which removes identical duplicates",
                ),
            );
        }
    }
    Ok(())
}

fn summarise_family(
    family: &str,
    sizes: &BTreeMap<u32, Vec<&RunRecord>>,
    epsilon: f64,
    delta: f64,
    confidence: f64,
) -> FamilySummary {
    let all = sizes.values().flatten();
    let t_min = all
        .clone()
        .filter_map(|r| r.trajectory.iter().map(|p| p[0]).find(|&t| t > 0.0))
        .fold(f64::INFINITY, f64::min);
    let t_max = all
        .filter_map(|r| r.trajectory.last().map(|p| p[0]))
        .fold(0.0, f64::max);
    let times = if t_min.is_finite() && t_max >= t_min {
        stats::log_grid(t_min, t_max, GRID_POINTS)
    } else {
        Vec::new()
    };
    let sizes: Vec<SizeSummary> = sizes
        .iter()
        .map(|(&size, runs)| summarise_size(size, runs, &times, epsilon, confidence))
        .collect();
    let bounds: Vec<(u32, f64)> = sizes.iter().map(|s| (s.size, s.interval.lower)).collect();
    FamilySummary {
        family: family.to_string(),
        learning_number: learning_number(&bounds, delta),
        sizes,
        times,
    }
}

fn summarise_size(
    size: u32,
    runs: &[&RunRecord],
    times: &[f64],
    epsilon: f64,
    confidence: f64,
) -> SizeSummary {
    let n = runs.len() as u64;
    let successes = runs.iter().filter(|r| r.succeeded(epsilon)).count() as u64;
    let count = |status: StatusKind| runs.iter().filter(|r| r.status == status).count() as u64;
    let mut final_losses: Vec<f64> = runs.iter().map(|r| r.final_loss).collect();
    final_losses.sort_by(loss_order);

    let resampled: Vec<Vec<f64>> = runs
        .iter()
        .map(|r| stats::resample(&r.trajectory, r.final_loss, times))
        .collect();
    let mut curve = LossCurve::default();
    for i in 0..times.len() {
        let q = Quantiles::of(&resampled.iter().map(|c| c[i]).collect::<Vec<_>>());
        curve.q10.push(q.q10);
        curve.q50.push(q.q50);
        curve.q90.push(q.q90);
    }

    let reached: Vec<f64> = runs.iter().filter_map(|r| r.time_to_eps).collect();
    SizeSummary {
        size,
        runs: n,
        successes,
        rate: successes as f64 / n as f64,
        interval: clopper_pearson(successes, n, confidence),
        converged: count(StatusKind::Converged),
        timeout: count(StatusKind::Timeout),
        diverged: count(StatusKind::Diverged),
        final_loss: Quantiles::of(&final_losses),
        final_losses,
        loss_curve: curve,
        median_time_to_eps: (!reached.is_empty()).then(|| stats::median(&reached)),
        cost: cost(runs),
    }
}

fn cost(runs: &[&RunRecord]) -> Cost {
    let mean = |f: fn(&RunRecord) -> u64| {
        let sum: u128 = runs.iter().map(|r| f(r) as u128).sum();
        ((sum + runs.len() as u128 / 2) / runs.len() as u128) as u64
    };
    let wall: Vec<f64> = runs.iter().map(|r| r.wall_s).collect();
    let evals: Vec<f64> = runs.iter().map(|r| r.grad_evals as f64).collect();
    Cost {
        params: mean(|r| r.params),
        edges: mean(|r| r.edges),
        flops_per_sample: mean(|r| r.flops_per_sample),
        param_bytes: mean(|r| r.param_bytes),
        index_bytes: mean(|r| r.index_bytes),
        memory_bytes: mean(RunRecord::memory_bytes),
        median_wall_s: stats::median(&wall),
        median_grad_evals: stats::median(&evals),
    }
}

#[cfg(test)]
#[path = "summary_tests.rs"]
mod tests;
