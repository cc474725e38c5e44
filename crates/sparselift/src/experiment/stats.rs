//! Statistics of convergence sweeps: exact Clopper–Pearson intervals for success rates,
//! quantiles, and resampling of loss trajectories on a common log-spaced time grid.
//!
//! The Clopper–Pearson interval of `k` successes in `n` trials at confidence `1 − α` is
//! `[B⁻¹(α/2; k, n−k+1), B⁻¹(1−α/2; k+1, n−k)]`, with `B⁻¹(p; a, b)` the inverse of the
//! regularised incomplete beta function `I_x(a, b)` in `x`; the lower end is 0 when
//! `k = 0` and the upper end is 1 when `k = n`. It is conservative: its coverage is at
//! least `1 − α` for every true rate, which is what a claim "`P_n ≥ 1 − δ`" needs.
//!
//! ```
//! use sparselift::experiment::stats::clopper_pearson;
//!
//! let ci = clopper_pearson(5, 10, 0.95);
//! assert!((ci.lower - 0.1871).abs() < 1e-4 && (ci.upper - 0.8129).abs() < 1e-4);
//! let none = clopper_pearson(0, 10, 0.95);
//! assert_eq!(none.lower, 0.0); // and 1 − 0.025^(1/10) above
//! assert!((none.upper - (1.0 - 0.025f64.powf(0.1))).abs() < 1e-12);
//! ```

use serde::{Deserialize, Serialize};

/// A two-sided confidence interval for a probability.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Lower end, in `[0, 1]`.
    pub lower: f64,
    /// Upper end, in `[lower, 1]`.
    pub upper: f64,
}

/// Exact (Clopper–Pearson) interval for `successes` out of `trials` at `confidence`
/// (e.g. 0.95). With no trials nothing is known: `[0, 1]`.
///
/// # Panics
/// When `successes > trials` or `confidence` is not in `(0, 1)`.
pub fn clopper_pearson(successes: u64, trials: u64, confidence: f64) -> Interval {
    assert!(
        successes <= trials,
        "{successes} successes of {trials} trials"
    );
    assert!(
        confidence > 0.0 && confidence < 1.0,
        "confidence {confidence} must be in (0, 1)"
    );
    let (k, n) = (successes as f64, trials as f64);
    let tail = (1.0 - confidence) / 2.0;
    let lower = if successes == 0 {
        0.0
    } else {
        inv_beta_reg(k, n - k + 1.0, tail)
    };
    let upper = if successes == trials {
        1.0
    } else {
        inv_beta_reg(k + 1.0, n - k, 1.0 - tail)
    };
    Interval { lower, upper }
}

// Why not `statrs`: its `inv_beta_reg` (behind `Beta::inverse_cdf`) has open reports of
// panics, non-termination and non-monotone results in the lower tail, and its forward
// CDF loses accuracy for large shapes. We need only integer-ish shapes and moderate
// tails, and here a guaranteed answer matters more than speed: the continued fraction
// below (Numerical Recipes §6.4, modified Lentz) is accurate to ~1e-15 in this range,
// and bisection on a monotone function always terminates with a monotone result.

/// Regularised incomplete beta function `I_x(a, b)` for `a, b > 0`, `x ∈ [0, 1]`.
pub fn beta_reg(a: f64, b: f64, x: f64) -> f64 {
    debug_assert!(a > 0.0 && b > 0.0, "beta_reg({a}, {b}, {x})");
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = a * x.ln() + b * (-x).ln_1p() - ln_beta(a, b);
    // The continued fraction converges fast for x < (a+1)/(a+b+2); use the symmetry
    // I_x(a, b) = 1 − I_{1−x}(b, a) on the other side.
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_continued_fraction(a, b, x) / a
    } else {
        1.0 - ln_front.exp() * beta_continued_fraction(b, a, 1.0 - x) / b
    }
}

/// The `x` with `I_x(a, b) = p`, by bisection to the last bit.
pub fn inv_beta_reg(a: f64, b: f64, p: f64) -> f64 {
    if p <= 0.0 {
        return 0.0;
    }
    if p >= 1.0 {
        return 1.0;
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if beta_reg(a, b, mid) < p {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    0.5 * (lo + hi)
}

fn ln_beta(a: f64, b: f64) -> f64 {
    libm::lgamma(a) + libm::lgamma(b) - libm::lgamma(a + b)
}

fn beta_continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    // Converges in O(√max(a, b)) terms; the cap only guards against NaN input.
    for m in 1..100_000 {
        let m = m as f64;
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let step = d * c;
        h *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    h
}

/// Orders losses with NaN as the worst value (+∞): a run whose loss is not a number
/// diverged, which is worse than any finite loss.
pub fn loss_order(a: &f64, b: &f64) -> std::cmp::Ordering {
    let key = |x: &f64| if x.is_nan() { f64::INFINITY } else { *x };
    key(a).total_cmp(&key(b))
}

/// The `q`-quantile (`q ∈ [0, 1]`) of `values`, interpolating linearly between order
/// statistics (the default of NumPy and R type 7). NaN counts as +∞. Empty input: NaN.
pub fn quantile(values: &[f64], q: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(loss_order);
    quantile_sorted(&sorted, q)
}

/// [`quantile`] of values already sorted by [`loss_order`].
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let clean = |x: f64| if x.is_nan() { f64::INFINITY } else { x };
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let i = pos.floor() as usize;
    let w = pos - i as f64;
    let a = clean(sorted[i]);
    if w == 0.0 || i + 1 == sorted.len() {
        return a;
    }
    let b = clean(sorted[i + 1]);
    // a == b also covers ∞ == ∞, where a + (b − a)·w would be NaN.
    if a == b {
        a
    } else {
        a + (b - a) * w
    }
}

/// Median of `values` (NaN as +∞), NaN when empty.
pub fn median(values: &[f64]) -> f64 {
    quantile(values, 0.5)
}

/// `points` times log-spaced from `t_min` to `t_max` inclusive (`0 < t_min ≤ t_max`).
pub fn log_grid(t_min: f64, t_max: f64, points: usize) -> Vec<f64> {
    assert!(t_min > 0.0 && t_max >= t_min, "log_grid({t_min}, {t_max})");
    if points <= 1 || t_min == t_max {
        return vec![t_min; points.min(1)];
    }
    let (a, b) = (t_min.ln(), t_max.ln());
    (0..points)
        .map(|i| {
            // Exact ends: they are recorded times, and resampling at a recorded time
            // must pick that record.
            if i == 0 {
                t_min
            } else if i + 1 == points {
                t_max
            } else {
                (a + (b - a) * i as f64 / (points - 1) as f64).exp()
            }
        })
        .collect()
}

/// The loss of one run at each time of `grid`, read as a step function: the loss at the
/// last recorded time `≤ t`; before the first record, the first recorded loss (the
/// initial loss); after the run ended, `final_loss` (a converged run stopped there, a
/// timed-out one ran out of budget there). An empty trajectory gives `final_loss`.
pub fn resample(trajectory: &[[f64; 2]], final_loss: f64, grid: &[f64]) -> Vec<f64> {
    let Some(&[t_end, _]) = trajectory.last() else {
        return vec![final_loss; grid.len()];
    };
    let mut i = 0;
    grid.iter()
        .map(|&t| {
            if t > t_end {
                return final_loss;
            }
            while i + 1 < trajectory.len() && trajectory[i + 1][0] <= t {
                i += 1;
            }
            trajectory[i][1]
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn clopper_pearson_matches_published_values() {
        // The standard table values, to the 4 decimals they are usually quoted with.
        let table = [
            (0, 10, 0.0, 0.3085),
            (5, 10, 0.1871, 0.8129),
            (10, 10, 0.6915, 1.0),
            (1, 20, 0.00127, 0.2487),
        ];
        for (k, n, lo, hi) in table {
            let ci = clopper_pearson(k, n, 0.95);
            assert!(close(ci.lower, lo, 5e-5), "{k}/{n}: lower {}", ci.lower);
            assert!(close(ci.upper, hi, 5e-5), "{k}/{n}: upper {}", ci.upper);
        }
        // Full precision, from scipy.stats.beta.ppf(0.025, k, n-k+1) / ppf(0.975, k+1, n-k).
        let scipy = [
            (5, 10, 0.18708602844739855, 0.8129139715526015),
            (1, 20, 0.0012650894979498038, 0.24873276277202777),
            (3, 7, 0.09898827844250786, 0.8159484323599169),
            (199, 200, 0.9724581015427943, 0.999873418972133),
        ];
        for (k, n, lo, hi) in scipy {
            let ci = clopper_pearson(k, n, 0.95);
            assert!(close(ci.lower, lo, 1e-10), "{k}/{n}: lower {}", ci.lower);
            assert!(close(ci.upper, hi, 1e-10), "{k}/{n}: upper {}", ci.upper);
        }
    }

    #[test]
    fn clopper_pearson_edges_have_closed_forms() {
        // k = n: lower = (α/2)^(1/n); k = 0: upper = 1 − (α/2)^(1/n).
        for n in [1u64, 3, 50, 400] {
            for conf in [0.8, 0.95, 0.99] {
                let tail: f64 = (1.0 - conf) / 2.0;
                let all = clopper_pearson(n, n, conf);
                assert!(close(all.lower, tail.powf(1.0 / n as f64), 1e-12));
                assert_eq!(all.upper, 1.0);
                let none = clopper_pearson(0, n, conf);
                assert!(close(none.upper, 1.0 - tail.powf(1.0 / n as f64), 1e-12));
            }
        }
    }

    #[test]
    fn interval_contains_the_rate_and_shrinks_with_more_trials() {
        let small = clopper_pearson(7, 10, 0.95);
        let large = clopper_pearson(700, 1000, 0.95);
        for ci in [small, large] {
            assert!(ci.lower < 0.7 && 0.7 < ci.upper);
        }
        assert!(large.upper - large.lower < (small.upper - small.lower) / 5.0);
        let wider = clopper_pearson(7, 10, 0.99);
        assert!(wider.lower < small.lower && wider.upper > small.upper);
    }

    #[test]
    fn beta_reg_matches_closed_forms() {
        // I_x(1, b) = 1 − (1 − x)^b, I_x(a, 1) = x^a, I_{1/2}(a, a) = 1/2.
        for x in [1e-6, 0.01, 0.3, 0.5, 0.77, 0.999] {
            assert!(close(beta_reg(1.0, 7.0, x), 1.0 - (1.0 - x).powi(7), 1e-14));
            assert!(close(beta_reg(4.0, 1.0, x), x.powi(4), 1e-14));
        }
        for a in [0.5, 3.0, 40.0, 900.0] {
            assert!(close(beta_reg(a, a, 0.5), 0.5, 1e-12));
        }
        let x = inv_beta_reg(3.0, 9.0, 0.3);
        assert!(close(beta_reg(3.0, 9.0, x), 0.3, 1e-14));
    }

    #[test]
    fn quantiles_interpolate_and_treat_nan_as_worst() {
        let v = [4.0, 1.0, 3.0, 2.0, 5.0];
        assert_eq!(quantile(&v, 0.5), 3.0);
        assert!(close(quantile(&v, 0.1), 1.4, 1e-12));
        assert!(close(quantile(&v, 0.9), 4.6, 1e-12));
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 5.0);
        let with_nan = [f64::NAN, 1.0, 2.0];
        assert_eq!(median(&with_nan), 2.0);
        assert_eq!(quantile(&with_nan, 1.0), f64::INFINITY);
        assert_eq!(quantile(&[f64::NAN, f64::INFINITY], 0.5), f64::INFINITY);
        assert!(quantile(&[], 0.5).is_nan());
    }

    #[test]
    fn log_grid_is_geometric_with_exact_ends() {
        let g = log_grid(0.01, 100.0, 5);
        assert_eq!(g.len(), 5);
        assert_eq!(g[0], 0.01);
        assert_eq!(g[4], 100.0);
        for (t, want) in g.iter().zip([0.01, 0.1, 1.0, 10.0, 100.0]) {
            assert!(close(*t, want, want * 1e-12));
        }
    }

    #[test]
    fn resample_is_a_step_function_ending_at_the_final_loss() {
        let traj = [[1.0, 10.0], [2.0, 5.0], [4.0, 1.0]];
        let grid = [0.5, 1.0, 1.5, 2.0, 3.9, 4.0, 8.0];
        assert_eq!(
            resample(&traj, 0.9, &grid),
            [10.0, 10.0, 10.0, 5.0, 5.0, 1.0, 0.9]
        );
        assert_eq!(resample(&[], 0.2, &grid[..2]), [0.2, 0.2]);
    }
}
