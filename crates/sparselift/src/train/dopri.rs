//! One trial step of the Dormand–Prince 5(4) embedded Runge–Kutta pair for
//! `dθ/dt = −∇L(θ)`, and the Hairer–Wanner choice of the first step size.
//!
//! Written here rather than taken from an ODE crate because the state is one huge flat
//! vector that must be integrated in place, in `f32` or `f64`, with storage we own (so a
//! run can be checkpointed and resumed bit for bit) and with the gradient evaluation as
//! the only callback; the general-purpose integrators allocate per step, fix the float
//! type or hide their state.
//!
//! The vector passes run on one thread: they are memory-bound and cheap next to one
//! gradient evaluation, and a parallel error norm would have to fix its reduction order to
//! keep runs bit-reproducible.
//!
//! Stages are stored as gradients `k_s = ∇L(y_s)` (the ODE right-hand side is `−k_s`),
//! so every combination below subtracts. The seventh stage is evaluated at the fifth-order
//! solution itself (FSAL): when the step is accepted, `k_7` is the next step's `k_1`.

use super::Objective;
use crate::Real;

/// Nodes `a_{s,j}` of the Butcher tableau, stages 2–7 (row 7 is also the 5th-order
/// weights `b`).
const A: [&[f64]; 6] = [
    &[1.0 / 5.0],
    &[3.0 / 40.0, 9.0 / 40.0],
    &[44.0 / 45.0, -56.0 / 15.0, 32.0 / 9.0],
    &[
        19372.0 / 6561.0,
        -25360.0 / 2187.0,
        64448.0 / 6561.0,
        -212.0 / 729.0,
    ],
    &[
        9017.0 / 3168.0,
        -355.0 / 33.0,
        46732.0 / 5247.0,
        49.0 / 176.0,
        -5103.0 / 18656.0,
    ],
    &[
        35.0 / 384.0,
        0.0,
        500.0 / 1113.0,
        125.0 / 192.0,
        -2187.0 / 6784.0,
        11.0 / 84.0,
    ],
];

/// `b − b̂`: fifth-order minus embedded fourth-order weights, stages 1–7.
const E: [f64; 7] = [
    71.0 / 57600.0,
    0.0,
    -71.0 / 16695.0,
    71.0 / 1920.0,
    -17253.0 / 339200.0,
    22.0 / 525.0,
    -1.0 / 40.0,
];

/// Outcome of one trial step.
#[derive(Clone, Copy, Debug)]
pub(super) struct Trial {
    /// `L` at the fifth-order solution (NaN when a stage failed first).
    pub loss: f64,
    /// Scaled RMS error estimate; `+∞` when anything was non-finite.
    pub err: f64,
    /// Gradient evaluations spent.
    pub evals: u64,
    /// `∫‖dθ/dt‖dt` over the step by the 5th-order weights on the stage norms (exact for
    /// integrands polynomial of degree ≤ 4 in t, up to the stages' own error).
    pub path: f64,
}

/// Work vectors of a step: stages 2–7 and the trial point. Not part of a checkpoint —
/// every entry is overwritten before it is read.
#[derive(Clone, Debug, Default)]
pub(super) struct Stages<T> {
    k: Vec<Vec<T>>,
    y: Vec<T>,
}

impl<T: Real> Stages<T> {
    pub fn new(dim: usize) -> Self {
        Stages {
            k: vec![vec![T::zero(); dim]; 6],
            y: vec![T::zero(); dim],
        }
    }

    /// The fifth-order solution of the last [`attempt`](Self::attempt).
    pub fn y_new(&mut self) -> &mut Vec<T> {
        &mut self.y
    }

    /// `∇L` at [`y_new`](Self::y_new) (the FSAL stage).
    pub fn k_last(&mut self) -> &mut Vec<T> {
        &mut self.k[5]
    }

    /// Tries a step of size `h` from `y` with `k1 = ∇L(y)` and returns the loss at the
    /// new point and the error norm `sqrt(mean((err_i / (atol + rtol·max(|y_i|,
    /// |y_new_i|)))²))`. Stops early (error `+∞`) as soon as a stage loss is non-finite.
    pub fn attempt<O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        y: &[T],
        k1: &[T],
        h: f64,
        rtol: f64,
        atol: f64,
    ) -> Trial {
        let mut loss = f64::NAN;
        for (s, row) in A.iter().enumerate() {
            let coef: Vec<T> = row.iter().map(|a| T::of(h * a)).collect();
            {
                let (done, _) = self.k.split_at(s);
                for (i, out) in self.y.iter_mut().enumerate() {
                    let mut acc = coef[0] * k1[i];
                    for (c, k) in coef[1..].iter().zip(done) {
                        acc += *c * k[i];
                    }
                    *out = y[i] - acc;
                }
            }
            loss = obj.loss_grad(&self.y, &mut self.k[s]);
            if !loss.is_finite() {
                return Trial {
                    loss,
                    err: f64::INFINITY,
                    evals: s as u64 + 1,
                    path: f64::NAN,
                };
            }
        }
        // Accumulate the error estimate in f64 so that f32 rounding in the stages does
        // not swamp it. The stage norms for the path length ride along in the same pass.
        let he: Vec<f64> = E.iter().map(|e| h * e).collect();
        let mut sum = 0.0;
        let mut sq = [0.0; 7];
        for i in 0..y.len() {
            let k1i = k1[i].f64();
            let mut err = he[0] * k1i;
            sq[0] += k1i * k1i;
            for ((c, k), sq) in he[1..].iter().zip(&self.k).zip(&mut sq[1..]) {
                let ki = k[i].f64();
                err += c * ki;
                *sq += ki * ki;
            }
            let (y0, y1) = (y[i].f64(), self.y[i].f64());
            let scale = atol + rtol * y0.abs().max(y1.abs());
            // An overflowed y_new would hide in its own scale (err/∞ = 0).
            sum += if y1.is_finite() {
                (err / scale).powi(2)
            } else {
                f64::INFINITY
            };
        }
        let err = (sum / y.len().max(1) as f64).sqrt();
        let b = A[5].iter().chain(&[0.0]);
        let path = h * b.zip(sq).map(|(b, sq)| b * sq.sqrt()).sum::<f64>();
        Trial {
            loss,
            // NaN (from ∞ − ∞ or a NaN gradient) must read as a failed step.
            err: if err.is_nan() { f64::INFINITY } else { err },
            evals: 6,
            path,
        }
    }

    /// The Hairer–Wanner starting step (Solving ODEs I, §II.4): a step whose explicit
    /// Euler error would be about 1% of the tolerance, refined by one extra gradient
    /// evaluation that estimates the second derivative. Returns `(h, evals)`.
    pub fn initial_step<O: Objective<T> + ?Sized>(
        &mut self,
        obj: &mut O,
        y: &[T],
        k1: &[T],
        rtol: f64,
        atol: f64,
    ) -> (f64, u64) {
        let n = y.len().max(1) as f64;
        let scale = |i: usize| atol + rtol * y[i].f64().abs();
        let rms = |f: &dyn Fn(usize) -> f64| {
            ((0..y.len()).map(|i| (f(i) / scale(i)).powi(2)).sum::<f64>() / n).sqrt()
        };
        let d0 = rms(&|i| y[i].f64());
        let d1 = rms(&|i| k1[i].f64());
        let h0 = if d0 < 1e-5 || d1 < 1e-5 {
            1e-6
        } else {
            0.01 * d0 / d1
        };
        let step = T::of(h0);
        for ((out, &a), &k) in self.y.iter_mut().zip(y).zip(k1) {
            *out = a - step * k;
        }
        let loss = obj.loss_grad(&self.y, &mut self.k[0]);
        let k2 = &self.k[0];
        let d2 = rms(&|i| k2[i].f64() - k1[i].f64()) / h0;
        if !loss.is_finite() || !d2.is_finite() {
            return (h0, 1);
        }
        let m = d1.max(d2);
        let h1 = if m <= 1e-15 {
            (h0 * 1e-3).max(1e-6)
        } else {
            (0.01 / m).powf(1.0 / 5.0)
        };
        ((100.0 * h0).min(h1), 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::testing::Quadratic;

    /// Integrates the quadratic flow with `steps` fixed steps up to `t = 1` and returns
    /// the max error against the exact solution.
    fn fixed_step_error(steps: usize) -> f64 {
        let mut q = Quadratic::rotated(&[0.5, 1.0, 3.0]);
        let theta0 = [1.0, -2.0, 0.5];
        let h = 1.0 / steps as f64;
        let mut y = theta0.to_vec();
        let mut k1 = vec![0.0; 3];
        q.loss_grad(&y, &mut k1);
        let mut st = Stages::new(3);
        for _ in 0..steps {
            st.attempt(&mut q, &y, &k1, h, 1e-6, 1e-6);
            std::mem::swap(&mut y, st.y_new());
            std::mem::swap(&mut k1, st.k_last());
        }
        let exact = q.exact(&theta0, 1.0);
        y.iter()
            .zip(&exact)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max)
    }

    #[test]
    fn global_error_is_fifth_order() {
        // Halving h divides the global error of a 5th-order method by 2^5: the observed
        // order log2(e(h)/e(h/2)) approaches 5 (it is 5.5 at 8 steps, before the
        // asymptotic regime, and would be 4 for the embedded 4th-order solution).
        for n in [16, 32] {
            let order = (fixed_step_error(n) / fixed_step_error(2 * n)).log2();
            assert!(
                (4.8..5.3).contains(&order),
                "observed order {order} at {n} steps"
            );
        }
    }

    #[test]
    fn embedded_estimate_is_local_error_of_order_five() {
        // The error estimate is the local error of the 4th-order solution, O(h^5): halving
        // h divides it by about 32.
        let mut q = Quadratic::diagonal(&[1.0, 4.0]);
        let y = [1.0, 1.0];
        let mut k1 = vec![0.0; 2];
        q.loss_grad(&y, &mut k1);
        let mut st = Stages::new(2);
        let e1 = st.attempt(&mut q, &y, &k1, 0.1, 0.0, 1.0).err;
        let e2 = st.attempt(&mut q, &y, &k1, 0.05, 0.0, 1.0).err;
        let ratio = e1 / e2;
        assert!((26.0..38.0).contains(&ratio), "ratio {ratio}");
    }

    #[test]
    fn weights_are_consistent() {
        // Each row of a Runge–Kutta tableau sums to its node c_s, the 5th-order weights
        // sum to 1 and the error weights to 0 — a typo in a coefficient breaks one of these.
        let c = [0.2, 0.3, 0.8, 8.0 / 9.0, 1.0, 1.0];
        for (row, c) in A.iter().zip(c) {
            assert!((row.iter().sum::<f64>() - c).abs() < 1e-14);
        }
        assert!(E.iter().sum::<f64>().abs() < 1e-15);
    }

    #[test]
    fn a_failing_stage_stops_the_trial() {
        let mut calls = 0;
        let mut obj = crate::train::from_fn(1, |_: &[f64], g: &mut [f64]| {
            calls += 1;
            g[0] = 0.0;
            if calls == 3 {
                f64::NAN
            } else {
                0.0
            }
        });
        let t = Stages::new(1).attempt(&mut obj, &[1.0], &[1.0], 0.1, 1e-6, 1e-6);
        assert_eq!((t.err, t.evals), (f64::INFINITY, 3));
    }
}
