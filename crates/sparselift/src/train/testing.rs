//! Small objectives with known behaviour, shared by the trainers' tests.

use super::{BatchObjective, Objective};
use crate::Real;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// `L(θ) = ½ θᵀAθ` with `A = Q diag(λ) Qᵀ` SPD, so that the gradient flow is
/// `θ(t) = Q exp(−Λt) Qᵀ θ(0)`. `Q` is a product of Givens rotations (identity when
/// `rotated` is false).
pub struct Quadratic {
    pub lambda: Vec<f64>,
    q: Vec<f64>, // row-major n×n
    a: Vec<f64>,
    pub evals: u64,
}

impl Quadratic {
    pub fn diagonal(lambda: &[f64]) -> Self {
        Self::new(lambda, false)
    }

    pub fn rotated(lambda: &[f64]) -> Self {
        Self::new(lambda, true)
    }

    fn new(lambda: &[f64], rotated: bool) -> Self {
        let n = lambda.len();
        let mut q = vec![0.0; n * n];
        for i in 0..n {
            q[i * n + i] = 1.0;
        }
        if rotated {
            // Rotate every consecutive pair of axes by a different angle.
            for k in 0..n - 1 {
                let (c, s) = ((0.3 + k as f64).cos(), (0.3 + k as f64).sin());
                for r in 0..n {
                    let (x, y) = (q[r * n + k], q[r * n + k + 1]);
                    q[r * n + k] = c * x - s * y;
                    q[r * n + k + 1] = s * x + c * y;
                }
            }
        }
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = (0..n)
                    .map(|k| q[i * n + k] * lambda[k] * q[j * n + k])
                    .sum();
            }
        }
        Quadratic {
            lambda: lambda.to_vec(),
            q,
            a,
            evals: 0,
        }
    }

    /// The exact gradient-flow solution at time `t`.
    pub fn exact(&self, theta0: &[f64], t: f64) -> Vec<f64> {
        let n = self.lambda.len();
        let coords: Vec<f64> = (0..n)
            .map(|k| (0..n).map(|i| self.q[i * n + k] * theta0[i]).sum::<f64>())
            .zip(&self.lambda)
            .map(|(c, l)| c * (-l * t).exp())
            .collect();
        (0..n)
            .map(|i| (0..n).map(|k| self.q[i * n + k] * coords[k]).sum())
            .collect()
    }
}

impl<T: Real> Objective<T> for Quadratic {
    fn dim(&self) -> usize {
        self.lambda.len()
    }
    fn loss_grad(&mut self, theta: &[T], grad: &mut [T]) -> f64 {
        self.evals += 1;
        let n = self.lambda.len();
        let mut loss = 0.0;
        for i in 0..n {
            let g: f64 = (0..n).map(|j| self.a[i * n + j] * theta[j].f64()).sum();
            loss += 0.5 * theta[i].f64() * g;
            grad[i] = T::of(g);
        }
        loss
    }
}

/// Linear least squares `(1/N) Σ ½(x_i·θ − y_i)²` on random data.
pub struct LeastSquares {
    pub x: Vec<f64>, // N×p row-major
    pub y: Vec<f64>,
    p: usize,
    /// Every index list passed to `batch_loss_grad`, in order.
    pub seen: Vec<Vec<usize>>,
}

impl LeastSquares {
    /// `n` samples in `p` dimensions with `y = x·w* + noise`.
    pub fn random(n: usize, p: usize, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let w: Vec<f64> = (0..p).map(|_| rng.random_range(-1.0..1.0)).collect();
        let x: Vec<f64> = (0..n * p).map(|_| rng.random_range(-1.0..1.0)).collect();
        let y = (0..n)
            .map(|i| {
                let clean: f64 = (0..p).map(|j| x[i * p + j] * w[j]).sum();
                clean + 0.01 * rng.random_range(-1.0..1.0)
            })
            .collect();
        LeastSquares {
            x,
            y,
            p,
            seen: Vec::new(),
        }
    }

    fn residual<T: Real>(&self, theta: &[T], i: usize) -> f64 {
        let p = self.p;
        (0..p)
            .map(|j| self.x[i * p + j] * theta[j].f64())
            .sum::<f64>()
            - self.y[i]
    }
}

impl<T: Real> BatchObjective<T> for LeastSquares {
    fn dim(&self) -> usize {
        self.p
    }
    fn samples(&self) -> usize {
        self.y.len()
    }
    fn batch_loss_grad(&mut self, theta: &[T], idx: &[usize], grad: &mut [T]) -> f64 {
        self.seen.push(idx.to_vec());
        let p = self.p;
        let mut g = vec![0.0; p];
        let mut loss = 0.0;
        for &i in idx {
            let r = self.residual(theta, i);
            loss += 0.5 * r * r;
            for (gj, xj) in g.iter_mut().zip(&self.x[i * p..(i + 1) * p]) {
                *gj += r * xj;
            }
        }
        let m = idx.len() as f64;
        for (out, gj) in grad.iter_mut().zip(g) {
            *out = T::of(gj / m);
        }
        loss / m
    }
    fn full_loss(&mut self, theta: &[T]) -> f64 {
        let n = self.y.len();
        (0..n)
            .map(|i| 0.5 * self.residual(theta, i).powi(2))
            .sum::<f64>()
            / n as f64
    }
}

/// A one-hidden-layer tanh network `f(x) = Σ_k v_k tanh(w_k x + c_k)` fitted to
/// `sin(3x)` on a grid: non-convex, with curvature that makes the adaptive integrator
/// change its step and reject some. `θ = [w (h), c (h), v (h)]`.
pub struct TanhFit {
    xs: Vec<f64>,
    hidden: usize,
}

impl TanhFit {
    pub fn new(samples: usize, hidden: usize) -> Self {
        let xs = (0..samples)
            .map(|i| -1.0 + 2.0 * i as f64 / (samples - 1) as f64)
            .collect();
        TanhFit { xs, hidden }
    }

    pub fn init<T: Real>(&self, seed: u64) -> Vec<T> {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        (0..3 * self.hidden)
            .map(|_| T::of(rng.random_range(-1.0..1.0)))
            .collect()
    }

    fn eval<T: Real>(&self, theta: &[T], idx: &[usize], grad: Option<&mut [T]>) -> f64 {
        let h = self.hidden;
        let th: Vec<f64> = theta.iter().map(|t| t.f64()).collect();
        let (w, rest) = th.split_at(h);
        let (c, v) = rest.split_at(h);
        let mut g = vec![0.0; 3 * h];
        let mut loss = 0.0;
        for &i in idx {
            let x = self.xs[i];
            let a: Vec<f64> = (0..h).map(|k| (w[k] * x + c[k]).tanh()).collect();
            let r = (0..h).map(|k| v[k] * a[k]).sum::<f64>() - (3.0 * x).sin();
            loss += 0.5 * r * r;
            for k in 0..h {
                let da = r * v[k] * (1.0 - a[k] * a[k]);
                g[k] += da * x;
                g[h + k] += da;
                g[2 * h + k] += r * a[k];
            }
        }
        let m = idx.len() as f64;
        if let Some(grad) = grad {
            for (out, gj) in grad.iter_mut().zip(g) {
                *out = T::of(gj / m);
            }
        }
        loss / m
    }
}

impl<T: Real> Objective<T> for TanhFit {
    fn dim(&self) -> usize {
        3 * self.hidden
    }
    fn loss_grad(&mut self, theta: &[T], grad: &mut [T]) -> f64 {
        let all: Vec<usize> = (0..self.xs.len()).collect();
        self.eval(theta, &all, Some(grad))
    }
}

impl<T: Real> BatchObjective<T> for TanhFit {
    fn dim(&self) -> usize {
        3 * self.hidden
    }
    fn samples(&self) -> usize {
        self.xs.len()
    }
    fn batch_loss_grad(&mut self, theta: &[T], idx: &[usize], grad: &mut [T]) -> f64 {
        self.eval(theta, idx, Some(grad))
    }
    fn full_loss(&mut self, theta: &[T]) -> f64 {
        let all: Vec<usize> = (0..self.xs.len()).collect();
        self.eval(theta, &all, None)
    }
}

/// Bitwise equality of two parameter vectors.
pub fn same_bits<T: Real>(a: &[T], b: &[T]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.f64().to_bits() == y.f64().to_bits())
}
