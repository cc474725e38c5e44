//! One trial step of the second-order Runge–Kutta–Chebyshev method (RKC) for
//! `dθ/dt = −∇L(θ)`, the stage count it needs for a step size, and the spectral radius of
//! the Hessian that decides it.
//!
//! RKC is the damped Chebyshev method of van der Houwen and Sommeijer in the form of
//! Verwer, Hundsdorfer and Sommeijer (1990), with the damping `ε = 2/13`, the embedded
//! error estimate and the first-step and spectral-radius rules of the RKC code of
//! Sommeijer, Shampine and Verwer (1997). Its `s` stages are a three-term recurrence whose
//! stability interval on the negative real axis is `[−β(s), 0]` with `β(s) ≈ 0.653·s²`:
//! the Jacobian of a gradient flow is `−∇²L`, symmetric with real eigenvalues, so a step
//! `h` is stable when `h·ρ ≤ β(s)` for the spectral radius `ρ` of the Hessian. The cost
//! of a step grows like `√(hρ)` instead of `hρ`, which is what makes long stiff flows
//! cheap; the error control then picks `h` for accuracy alone.
//!
//! `ρ` is estimated by power iteration on finite differences of gradients,
//! `∇²L·v ≈ (∇L(θ + δv) − ∇L(θ))/δ` with `δ = √u·‖θ‖` (`u` the unit round-off of the
//! run's precision), warm-started from the last eigenvector; the estimate is used with a
//! safety factor of 1.2.
//!
//! The stage points are combined in `f64` whatever the precision of `θ` (only the points
//! at which gradients are evaluated are rounded to it), so that hundreds of stages do not
//! accumulate `f32` round-off. Gradients are stored as `∇L`, so the right-hand side is
//! their negative and every combination below subtracts.

use super::Objective;
use crate::{float, Real};
use serde::{Deserialize, Serialize};

/// The damping `ε` of the Chebyshev polynomials: the stability polynomial stays within
/// about `1 − ε/3` of zero inside the stability interval instead of touching `±1`.
const DAMPING: f64 = 2.0 / 13.0;
/// Factor on the estimated spectral radius (power iteration converges from below).
const RHO_SAFETY: f64 = 1.2;
/// Power iterations of one estimate at most.
const MAX_ITERATIONS: u32 = 50;
/// Relative change of two successive estimates at which power iteration stops.
const RHO_TOLERANCE: f64 = 0.01;

/// The coefficients `w0 = 1 + ε/s²` and `w1 = T_s'(w0)/T_s''(w0)` of the `s`-stage method.
fn chebyshev_shift(s: u32) -> (f64, f64) {
    let m = s as f64;
    let w0 = 1.0 + DAMPING / (m * m);
    let root = (w0 * w0 - 1.0).sqrt();
    let arg = m * (w0 + root).ln();
    let w1 = arg.sinh() * (w0 * w0 - 1.0) / (arg.cosh() * m * root - w0 * arg.sinh());
    (w0, w1)
}

/// The length `β(s) = (1 + w0)/w1` of the real stability interval of the `s`-stage method.
pub(super) fn stability_bound(s: u32) -> f64 {
    let (w0, w1) = chebyshev_shift(s);
    (1.0 + w0) / w1
}

/// The most stages a step may use with relative tolerance `rtol`: the RKC code's
/// `√(rtol/(10u))`, with `u` the round-off of `f64` in which the stages are combined, and
/// at least 2.
pub(super) fn max_stages(rtol: f64) -> u32 {
    let u = f64::EPSILON / 2.0;
    ((rtol / (10.0 * u)).sqrt().round() as u32).max(2)
}

/// A step size and the number of stages to take it with.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Step {
    pub h: f64,
    pub stages: u32,
}

/// The fewest stages (≥ 2) that make a step `h` stable for the spectral radius `rho`
/// (already including its safety factor), with `h` itself or, when even `max_stages`
/// are too few, the longest step they make stable.
pub(super) fn stages_for(h: f64, rho: f64, max_stages: u32) -> Step {
    let z = h * rho;
    if stability_bound(max_stages) < z {
        return Step {
            h: stability_bound(max_stages) / rho,
            stages: max_stages,
        };
    }
    // β(s) ≈ 0.653·s²: start near the answer and walk to the smallest s that suffices.
    let mut s = ((z / 0.653).sqrt().ceil() as u32).clamp(2, max_stages);
    while s < max_stages && stability_bound(s) < z {
        s += 1;
    }
    while s > 2 && stability_bound(s - 1) >= z {
        s -= 1;
    }
    Step { h, stages: s }
}

/// The estimate of the Hessian's spectral radius a run carries from step to step: part of
/// its state, so that a resumed run re-estimates at the same steps from the same vector.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(super) struct Spectrum {
    /// The last estimate of `ρ(∇²L)` (without the safety factor); 0 before the first.
    #[serde(with = "float::scalar")]
    pub rho: f64,
    /// The unit vector of the last power iteration, the start of the next one (empty
    /// before the first estimate).
    #[serde(with = "float::vec")]
    pub vector: Vec<f64>,
    /// Accepted steps since the last estimate.
    pub age: u32,
}

/// How an estimate of `ρ` ended.
pub(super) enum Estimate {
    /// Converged, or stopped after the most iterations (then the last value is used).
    Done,
    /// The gradient budget ran out first.
    OutOfBudget,
    /// A gradient next to `θ` was non-finite.
    NonFinite,
}

impl Spectrum {
    /// Accepted steps after which `ρ` is estimated again.
    pub const REFRESH: u32 = 25;

    /// `ρ` with its safety factor: what the stage count is chosen for.
    pub fn safe_rho(&self) -> f64 {
        RHO_SAFETY * self.rho
    }

    /// Power iteration from the stored vector (from `g = ∇L(y)` the first time) on
    /// `v ↦ (∇L(y + δv) − g)/δ`, using at most `budget` gradient evaluations, into
    /// `point` and `probe` (work vectors of `y`'s length). Returns how it ended and the
    /// evaluations spent; `rho` and `vector` hold the last iterate.
    pub fn estimate<T: Real, O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        y: &[T],
        g: &[T],
        work: &mut Stages<T>,
        budget: u64,
    ) -> (Estimate, u64) {
        if y.is_empty() {
            return (Estimate::Done, 0);
        }
        if self.vector.len() != y.len() {
            self.vector = g.iter().map(|x| x.f64()).collect();
        }
        let y_norm = norm(y.iter().map(|x| x.f64()));
        let scale = if y_norm > 0.0 { y_norm } else { 1.0 };
        let delta = T::epsilon().f64().sqrt() * scale;
        let mut previous = f64::NAN;
        let mut evals = 0;
        while evals < MAX_ITERATIONS as u64 {
            if evals == budget {
                return (Estimate::OutOfBudget, evals);
            }
            let v_norm = norm(self.vector.iter().copied());
            if v_norm == 0.0 || !v_norm.is_finite() {
                // No direction (a zero gradient, or a null difference): start from e₁.
                self.vector.fill(0.0);
                if let Some(first) = self.vector.first_mut() {
                    *first = 1.0;
                }
                continue;
            }
            let step = delta / v_norm;
            for ((p, &yi), &vi) in work.point.iter_mut().zip(y).zip(&self.vector) {
                *p = T::of(yi.f64() + step * vi);
            }
            let loss = obj.loss_grad(&work.point, &mut work.grad);
            evals += 1;
            // The difference actually made, after rounding the point to T.
            let moved = norm(work.point.iter().zip(y).map(|(p, yi)| p.f64() - yi.f64()));
            for (vi, (&gp, &gi)) in self.vector.iter_mut().zip(work.grad.iter().zip(g)) {
                *vi = gp.f64() - gi.f64();
            }
            let rho = norm(self.vector.iter().copied()) / moved;
            if !loss.is_finite() || !rho.is_finite() {
                return (Estimate::NonFinite, evals);
            }
            self.rho = rho;
            if (self.rho - previous).abs() <= RHO_TOLERANCE * self.rho {
                break;
            }
            previous = self.rho;
        }
        self.age = 0;
        (Estimate::Done, evals)
    }
}

/// Outcome of one trial step.
#[derive(Clone, Copy, Debug)]
pub(super) struct Trial {
    /// `L` at the new point (NaN when a stage failed first).
    pub loss: f64,
    /// Scaled RMS error estimate; `+∞` when anything was non-finite.
    pub err: f64,
    /// Gradient evaluations spent.
    pub evals: u64,
    /// `∫‖dθ/dt‖dt` over the step by the trapezoidal rule on the end points' gradients
    /// (second order, as the method).
    pub path: f64,
}

/// Work vectors of a step: the point of a gradient evaluation and its gradient (in the
/// run's precision) and the two previous stages (in `f64`). Not part of a checkpoint —
/// every entry is overwritten before it is read.
#[derive(Clone, Debug, Default)]
pub(super) struct Stages<T> {
    point: Vec<T>,
    grad: Vec<T>,
    previous: Vec<f64>,
    before: Vec<f64>,
}

impl<T: Real> Stages<T> {
    pub fn new(dim: usize) -> Self {
        Stages {
            point: vec![T::zero(); dim],
            grad: vec![T::zero(); dim],
            previous: vec![0.0; dim],
            before: vec![0.0; dim],
        }
    }

    /// The new point of the last [`attempt`](Self::attempt).
    pub fn y_new(&mut self) -> &mut Vec<T> {
        &mut self.point
    }

    /// `∇L` at [`y_new`](Self::y_new).
    pub fn g_new(&mut self) -> &mut Vec<T> {
        &mut self.grad
    }

    /// Tries a step of size `h` with `s ≥ 2` stages from `y` with `g = ∇L(y)` and
    /// returns the loss at the new point and the RKC error estimate
    /// `(12(y − y_new) + 6h(f(y) + f(y_new)))/15` in the norm `sqrt(mean((err_i /
    /// (atol + rtol·max(|y_i|, |y_new_i|)))²))`. Costs `s` evaluations: stages 1 to `s − 1`
    /// and the new point, whose gradient is the next step's `g`. Stops early (error `+∞`)
    /// as soon as a stage loss is non-finite.
    pub fn attempt<O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        y: &[T],
        g: &[T],
        Step { h, stages: s }: Step,
        rtol: f64,
        atol: f64,
    ) -> Trial {
        let (w0, w1) = chebyshev_shift(s);
        // T_j(w0), T_j'(w0), T_j''(w0) and b_j = T_j''/T_j'² for j − 1 and j − 2.
        let (mut t1, mut t2) = (w0, 1.0);
        let (mut d1, mut d2) = (1.0, 0.0);
        let (mut dd1, mut dd2) = (0.0, 0.0);
        let (mut b1, mut b2) = (1.0 / (4.0 * w0 * w0), 1.0 / (4.0 * w0 * w0));
        // Y_0 = y, Y_1 = y − h·μ̃_1·g with μ̃_1 = b_1·w1.
        let mu1 = h * b1 * w1;
        for ((before, previous), (&yi, &gi)) in self
            .before
            .iter_mut()
            .zip(self.previous.iter_mut())
            .zip(y.iter().zip(g))
        {
            *before = yi.f64();
            *previous = yi.f64() - mu1 * gi.f64();
        }
        let mut evals = 0;
        for _ in 2..=s {
            let tj = 2.0 * w0 * t1 - t2;
            let dj = 2.0 * w0 * d1 - d2 + 2.0 * t1;
            let ddj = 2.0 * w0 * dd1 - dd2 + 4.0 * d1;
            let bj = ddj / (dj * dj);
            let a1 = 1.0 - t1 * b1;
            let mu = 2.0 * w0 * bj / b1;
            let nu = -bj / b2;
            let hmu = h * mu * w1 / w0;
            for (p, &x) in self.point.iter_mut().zip(&self.previous) {
                *p = T::of(x);
            }
            let loss = obj.loss_grad(&self.point, &mut self.grad);
            evals += 1;
            if !loss.is_finite() {
                return Trial {
                    loss,
                    err: f64::INFINITY,
                    evals,
                    path: f64::NAN,
                };
            }
            // Y_j = (1 − μ − ν)·y + μ·Y_{j−1} + ν·Y_{j−2} − hμ̃·(∇L(Y_{j−1}) − a_{j−1}·g),
            // written over Y_{j−2}.
            let keep = 1.0 - mu - nu;
            for i in 0..y.len() {
                self.before[i] = keep * y[i].f64() + mu * self.previous[i] + nu * self.before[i]
                    - hmu * (self.grad[i].f64() - a1 * g[i].f64());
            }
            std::mem::swap(&mut self.previous, &mut self.before);
            (t2, t1) = (t1, tj);
            (d2, d1) = (d1, dj);
            (dd2, dd1) = (dd1, ddj);
            (b2, b1) = (b1, bj);
        }
        for (p, &x) in self.point.iter_mut().zip(&self.previous) {
            *p = T::of(x);
        }
        let loss = obj.loss_grad(&self.point, &mut self.grad);
        evals += 1;
        let mut sum = 0.0;
        for i in 0..y.len() {
            let (y0, y1) = (y[i].f64(), self.point[i].f64());
            let err = 0.8 * (y0 - y1) - 0.4 * h * (g[i].f64() + self.grad[i].f64());
            let scale = atol + rtol * y0.abs().max(y1.abs());
            // An overflowed y_new would hide in its own scale (err/∞ = 0).
            sum += if y1.is_finite() {
                (err / scale).powi(2)
            } else {
                f64::INFINITY
            };
        }
        let err = (sum / y.len().max(1) as f64).sqrt();
        let ends = norm(g.iter().map(|x| x.f64())) + norm(self.grad.iter().map(|x| x.f64()));
        Trial {
            loss,
            // NaN (from ∞ − ∞ or a NaN gradient) must read as a failed step.
            err: if err.is_nan() || !loss.is_finite() {
                f64::INFINITY
            } else {
                err
            },
            evals,
            path: 0.5 * h * ends,
        }
    }

    /// The RKC code's first step, from a trial `h0` (the caller's `min(T, 1/ρ)`): the
    /// error estimate `est = h0·‖(∇L(y − h0·g) − g)/w‖` of one explicit Euler step
    /// (`w = atol + rtol·|y|`, RMS norm) and `h = 0.1·h0/√est`, which the caller caps at
    /// `T`. Returns `(h, evals)`.
    pub fn initial_step<O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        y: &[T],
        g: &[T],
        h0: f64,
        rtol: f64,
        atol: f64,
    ) -> (f64, u64) {
        for ((p, &yi), &gi) in self.point.iter_mut().zip(y).zip(g) {
            *p = T::of(yi.f64() - h0 * gi.f64());
        }
        let loss = obj.loss_grad(&self.point, &mut self.grad);
        let n = y.len().max(1) as f64;
        let sum: f64 = (0..y.len())
            .map(|i| {
                let w = atol + rtol * y[i].f64().abs();
                ((self.grad[i].f64() - g[i].f64()) / w).powi(2)
            })
            .sum();
        let est = h0 * (sum / n).sqrt();
        if !loss.is_finite() || !est.is_finite() {
            return (0.1 * h0, 1);
        }
        (0.1 * h0 / est.sqrt(), 1)
    }
}

fn norm(v: impl Iterator<Item = f64>) -> f64 {
    v.map(|x| x * x).sum::<f64>().sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::testing::Quadratic;

    #[test]
    fn the_stability_bound_is_about_0_653_s_squared() {
        // β(s) = (1 + w0)/w1 → (2/3)(1 − (4/15)·ε/2)·s² ≈ 0.653·s² for large s; β(2) ≈ 2.
        for s in [10, 100, 1000] {
            let ratio = stability_bound(s) / (s as f64 * s as f64);
            assert!((0.645..0.66).contains(&ratio), "β({s})/s² = {ratio}");
        }
        assert!((1.9..2.0).contains(&stability_bound(2)));
        assert!((2..=1000).all(|s| stability_bound(s) < stability_bound(s + 1)));
    }

    #[test]
    fn the_stage_count_is_the_fewest_stable_one() {
        for z in [0.5, 2.0, 10.0, 123.4, 5e4] {
            let Step { h, stages: s } = stages_for(z, 1.0, 1000);
            assert_eq!(h, z);
            assert!(stability_bound(s) >= z && (s == 2 || stability_bound(s - 1) < z));
        }
        // Beyond the most stages the step is shortened to their bound.
        let step = stages_for(1e9, 2.0, 50);
        assert_eq!(
            step,
            Step {
                h: stability_bound(50) / 2.0,
                stages: 50
            }
        );
    }

    #[test]
    fn the_stability_interval_ends_at_beta() {
        // One step on θ' = −λθ multiplies θ by R(−hλ): |R| < 1 (damped) at hλ = β(s),
        // where an explicit method of the same cost is long unstable, and |R| > 1 past it.
        let growth = |s: u32, z: f64| {
            let lambda = 1e3;
            let mut q = Quadratic::diagonal(&[lambda]);
            let mut st = Stages::new(1);
            let y = [1.0];
            let mut g = vec![0.0];
            q.loss_grad(&y, &mut g);
            let h = z / lambda;
            let trial = st.attempt(&mut q, &y, &g, Step { h, stages: s }, 1.0, 1.0);
            assert_eq!(trial.evals, u64::from(s));
            let r: f64 = st.y_new()[0];
            r.abs()
        };
        for s in [2, 7, 40] {
            let at = growth(s, stability_bound(s));
            assert!(at < 1.0, "s = {s}: |R(−β)| = {at}");
            let past = growth(s, 1.5 * stability_bound(s));
            assert!(past > 1.0, "s = {s}: |R(−1.5β)| = {past}");
        }
    }

    #[test]
    fn global_error_is_second_order() {
        // Halving h on a non-stiff flow divides the global error by about 2² = 4.
        let error = |steps: u32| {
            let mut q = Quadratic::rotated(&[0.5, 1.0, 3.0]);
            let theta0 = [1.0, -2.0, 0.5];
            let h = 1.0 / steps as f64;
            let mut y = theta0.to_vec();
            let mut g = vec![0.0; 3];
            q.loss_grad(&y, &mut g);
            let mut st = Stages::new(3);
            for _ in 0..steps {
                st.attempt(&mut q, &y, &g, Step { h, stages: 5 }, 1e-6, 1e-6);
                std::mem::swap(&mut y, st.y_new());
                std::mem::swap(&mut g, st.g_new());
            }
            let exact = q.exact(&theta0, 1.0);
            y.iter()
                .zip(&exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max)
        };
        for n in [16, 32] {
            let order = (error(n) / error(2 * n)).log2();
            assert!(
                (1.8..2.3).contains(&order),
                "observed order {order} at {n} steps"
            );
        }
    }

    #[test]
    fn power_iteration_finds_the_largest_eigenvalue() {
        let mut q = Quadratic::rotated(&[1.0, 30.0, 200.0, 1e4]);
        let y = [1.0, -1.0, 0.5, 2.0];
        let mut g = vec![0.0; 4];
        q.loss_grad(&y, &mut g);
        let mut spectrum = Spectrum::default();
        let mut work = Stages::new(4);
        let (end, evals) = spectrum.estimate(&mut q, &y, &g, &mut work, 100);
        assert!(matches!(end, Estimate::Done));
        assert!((2..=MAX_ITERATIONS as u64).contains(&evals), "{evals}");
        assert!((spectrum.rho / 1e4 - 1.0).abs() < 0.02, "{}", spectrum.rho);
        // Warm-started from the eigenvector, it settles at once.
        let (_, again) = spectrum.estimate(&mut q, &y, &g, &mut work, 100);
        assert_eq!(again, 2);
        // The budget is respected.
        let (end, evals) = Spectrum::default().estimate(&mut q, &y, &g, &mut work, 1);
        assert!(matches!(end, Estimate::OutOfBudget) && evals == 1);
    }
}
