//! What the trainers minimise, seen as functions of a flat parameter vector `θ`.
//!
//! Training never looks inside a network: the engine (or a test) implements
//! [`Objective`] for full-batch methods (gradient flow, GD) and [`BatchObjective`] for
//! mini-batch methods. [`FullBatch`] turns the second into the first, and [`from_fn`]
//! wraps a closure.
//!
//! ```
//! use sparselift::train::{from_fn, Objective};
//!
//! // L(θ) = ½‖θ‖², ∇L = θ.
//! let mut obj = from_fn(2, |theta: &[f64], grad: &mut [f64]| {
//!     grad.copy_from_slice(theta);
//!     0.5 * theta.iter().map(|x| x * x).sum::<f64>()
//! });
//! let mut grad = [0.0; 2];
//! assert_eq!(obj.loss_grad(&[3.0, 4.0], &mut grad), 12.5);
//! assert_eq!(grad, [3.0, 4.0]);
//! ```

use crate::Real;

/// A differentiable loss `L(θ)` over `θ ∈ R^dim` (for training, the full training set).
pub trait Objective<T: Real> {
    /// Length of `θ`.
    fn dim(&self) -> usize;
    /// Returns `L(θ)` and overwrites `grad` with `∇L(θ)`. May return a non-finite value
    /// (the trainers treat it as divergence or reject the step).
    fn loss_grad(&mut self, theta: &[T], grad: &mut [T]) -> f64;
    /// The quantity compared with ε and logged: for regression the normalised MSE (see
    /// [`crate::train::loss::Loss::criterion`]), by default the loss itself.
    fn criterion(&self, loss: f64) -> f64 {
        loss
    }
}

/// A loss that is a mean over `samples()` training samples and can be evaluated on any
/// subset of them.
pub trait BatchObjective<T: Real> {
    /// Length of `θ`.
    fn dim(&self) -> usize;
    /// Number of training samples.
    fn samples(&self) -> usize;
    /// The mean loss over the samples `idx` (indices below `samples()`, in the order
    /// given) and its gradient, written to `grad`.
    fn batch_loss_grad(&mut self, theta: &[T], idx: &[usize], grad: &mut [T]) -> f64;
    /// The mean loss over the whole training set (no gradient).
    fn full_loss(&mut self, theta: &[T]) -> f64;
    /// See [`Objective::criterion`].
    fn criterion(&self, loss: f64) -> f64 {
        loss
    }
}

/// A [`BatchObjective`] seen as an [`Objective`] on the full training set, so that
/// gradient flow can run on it.
pub struct FullBatch<'a, B: ?Sized> {
    inner: &'a mut B,
    all: Vec<usize>,
}

impl<'a, B: ?Sized> FullBatch<'a, B> {
    /// Wraps `inner`; every evaluation uses all samples in index order.
    pub fn new(inner: &'a mut B) -> Self {
        FullBatch {
            inner,
            all: Vec::new(),
        }
    }
}

impl<T: Real, B: BatchObjective<T> + ?Sized> Objective<T> for FullBatch<'_, B> {
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn loss_grad(&mut self, theta: &[T], grad: &mut [T]) -> f64 {
        let n = self.inner.samples();
        if self.all.len() != n {
            self.all = (0..n).collect();
        }
        self.inner.batch_loss_grad(theta, &self.all, grad)
    }
    fn criterion(&self, loss: f64) -> f64 {
        self.inner.criterion(loss)
    }
}

/// An [`Objective`] made of a closure `(θ, grad) -> L(θ)`; see [`from_fn`].
pub struct FnObjective<F> {
    dim: usize,
    f: F,
}

/// Wraps a closure that returns `L(θ)` and writes `∇L(θ)`; the criterion is the loss.
pub fn from_fn<T: Real, F: FnMut(&[T], &mut [T]) -> f64>(dim: usize, f: F) -> FnObjective<F> {
    FnObjective { dim, f }
}

impl<T: Real, F: FnMut(&[T], &mut [T]) -> f64> Objective<T> for FnObjective<F> {
    fn dim(&self) -> usize {
        self.dim
    }
    fn loss_grad(&mut self, theta: &[T], grad: &mut [T]) -> f64 {
        (self.f)(theta, grad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::testing::LeastSquares;

    #[test]
    fn full_batch_is_the_mean_over_all_samples() {
        let mut ls = LeastSquares::random(20, 3, 1);
        let theta = [0.3, -0.2, 0.5];
        let full = ls.full_loss(&theta);
        let mut via = FullBatch::new(&mut ls);
        let mut grad = [0.0; 3];
        let l: f64 = via.loss_grad(&theta, &mut grad);
        assert!((l - full).abs() < 1e-14 * full.abs().max(1.0));
        assert_eq!(Objective::<f64>::dim(&via), 3);
        assert_eq!(Objective::<f64>::criterion(&via, 0.5), 0.5);
    }
}
