//! Losses (docs/semantics.md §3) on **feature-major** predictions: `pred[j * b + i]` is
//! output feature `j` of sample `i` in a batch of `b` — the engine's neuron-major,
//! batch-minor layout, so the output buffer is used as it is. Regression targets use the
//! same layout.
//!
//! Every function returns the loss as `f64` (sums accumulate in `f64` whatever `T` is) and
//! overwrites `grad` (same length as `pred`) with `∂loss/∂pred`.
//!
//! * [`mse`]: `(1/b) Σ_i ½‖f(x_i) − y_i‖²`, and [`normalised_mse`] to report it;
//! * [`softmax_cross_entropy`]: `(1/b) Σ_i −log softmax(f(x_i))_{y_i}`, and [`accuracy`].
//!
//! **Combining mini-batches or shards.** The `*_scaled` variants return
//! `scale · Σ_i ℓ_i` and its gradient. To evaluate the mean over `N` samples split into
//! shards, call each shard with `scale = 1/N` and add the returned losses; each shard's
//! gradient is already the gradient of the total with respect to that shard's predictions.
//!
//! ```
//! use sparselift::train::loss;
//!
//! // Two output features, three samples: pred[j * 3 + i].
//! let pred = [1.0_f64, 2.0, 3.0, /* feature 1: */ 0.0, 0.0, 0.0];
//! let target = [1.0, 1.0, 1.0, 0.0, 0.0, 2.0];
//! let mut grad = [0.0; 6];
//! let l = loss::mse(&pred, &target, 2, 3, &mut grad);
//! // Squared errors per sample: 0, 1, 4 + 4 = 8; mean of ½·that = 1.5.
//! assert_eq!(l, 1.5);
//! assert_eq!(grad, [0.0, 1.0 / 3.0, 2.0 / 3.0, 0.0, 0.0, -2.0 / 3.0]);
//! ```

use crate::{Error, Real, Result};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Mean squared error `(1/b) Σ_i ½‖f(x_i) − y_i‖²` over a batch of `b` samples with `d`
/// output features; `grad = (f − y)/b`.
pub fn mse<T: Real>(pred: &[T], target: &[T], d: usize, b: usize, grad: &mut [T]) -> f64 {
    mse_scaled(pred, target, d, b, 1.0 / b as f64, grad)
}

/// `scale · Σ_i ½‖f(x_i) − y_i‖²` and its gradient `scale · (f − y)` (see the module docs
/// for combining shards).
pub fn mse_scaled<T: Real>(
    pred: &[T],
    target: &[T],
    d: usize,
    b: usize,
    scale: f64,
    grad: &mut [T],
) -> f64 {
    check_shapes(pred.len(), d, b, grad.len());
    assert_eq!(target.len(), d * b, "mse: target has the wrong length");
    let mut sum = 0.0;
    for ((g, &p), &y) in grad.iter_mut().zip(pred).zip(target) {
        let r = p.f64() - y.f64();
        sum += r * r;
        *g = T::of(scale * r);
    }
    0.5 * scale * sum
}

/// The normalised MSE of docs/semantics.md §3 from a [`mse`] value: the mean of squared errors over
/// all `d·N` entries (without the ½) divided by the variance of the targets,
/// `2·loss / (d · target_variance)`. Predicting the target mean everywhere scores 1.
pub fn normalised_mse(loss: f64, d: usize, target_variance: f64) -> f64 {
    2.0 * loss / (d as f64 * target_variance)
}

/// Population variance of all entries of `target` (the denominator of
/// [`normalised_mse`]), computed in two passes for accuracy.
pub fn variance<T: Real>(target: &[T]) -> f64 {
    let n = target.len() as f64;
    let mean = target.iter().map(|y| y.f64()).sum::<f64>() / n;
    target.iter().map(|y| (y.f64() - mean).powi(2)).sum::<f64>() / n
}

/// Mean softmax cross-entropy `(1/b) Σ_i (logsumexp(f(x_i)) − f(x_i)_{y_i})` of `d`-class
/// logits; `grad = (softmax(f) − onehot(y))/b`. Stable for any finite logits: the maximum
/// is subtracted before exponentiating.
///
/// # Panics
/// If a label is not below `d`.
pub fn softmax_cross_entropy<T: Real>(
    pred: &[T],
    labels: &[u32],
    d: usize,
    b: usize,
    grad: &mut [T],
) -> f64 {
    softmax_cross_entropy_scaled(pred, labels, d, b, 1.0 / b as f64, grad)
}

/// `scale · Σ_i ℓ_i` of [`softmax_cross_entropy`] and its gradient.
pub fn softmax_cross_entropy_scaled<T: Real>(
    pred: &[T],
    labels: &[u32],
    d: usize,
    b: usize,
    scale: f64,
    grad: &mut [T],
) -> f64 {
    check_shapes(pred.len(), d, b, grad.len());
    assert_eq!(labels.len(), b, "cross-entropy: one label per sample");
    let mut total = 0.0;
    for (i, &label) in labels.iter().enumerate() {
        let label = label as usize;
        assert!(
            label < d,
            "cross-entropy: label {label} of sample {i} ≥ {d} classes"
        );
        let z = |j: usize| pred[j * b + i].f64();
        let max = (0..d).map(z).fold(f64::NEG_INFINITY, f64::max);
        let sum: f64 = (0..d).map(|j| (z(j) - max).exp()).sum();
        let lse = max + sum.ln();
        total += lse - z(label);
        for j in 0..d {
            let p = (z(j) - lse).exp();
            let onehot = if j == label { 1.0 } else { 0.0 };
            grad[j * b + i] = T::of(scale * (p - onehot));
        }
    }
    scale * total
}

/// Fraction of samples whose largest logit is at their label (ties go to the lowest
/// class, so a constant prediction is right only for class 0).
pub fn accuracy<T: Real>(pred: &[T], labels: &[u32], d: usize, b: usize) -> f64 {
    assert_eq!(pred.len(), d * b, "accuracy: pred must hold d·b values");
    assert_eq!(labels.len(), b, "accuracy: one label per sample");
    let correct = (0..b)
        .filter(|&i| {
            let best = (1..d).fold(0, |best, j| {
                if pred[j * b + i] > pred[best * b + i] {
                    j
                } else {
                    best
                }
            });
            best == labels[i] as usize
        })
        .count();
    correct as f64 / b as f64
}

fn check_shapes(pred: usize, d: usize, b: usize, grad: usize) {
    assert_eq!(pred, d * b, "loss: pred must hold d·b = {d}·{b} values");
    assert_eq!(grad, pred, "loss: grad must have the length of pred");
}

/// Which loss a task is trained with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Loss {
    /// [`mse`]; compared with ε as [`normalised_mse`].
    #[default]
    Mse,
    /// [`softmax_cross_entropy`]; compared with ε as it is.
    CrossEntropy,
}

impl Loss {
    /// The quantity compared with ε (docs/semantics.md §3): normalised MSE for regression
    /// (needs the output dimension and the target variance), the loss itself for classification.
    pub fn criterion(self, loss: f64, d: usize, target_variance: f64) -> f64 {
        match self {
            Loss::Mse => normalised_mse(loss, d, target_variance),
            Loss::CrossEntropy => loss,
        }
    }

    /// Parses `mse` or `cross-entropy` (also `ce`, `xent`).
    pub fn parse(text: &str) -> Result<Loss> {
        match text.trim() {
            "mse" => Ok(Loss::Mse),
            "cross-entropy" | "ce" | "xent" => Ok(Loss::CrossEntropy),
            other => Err(Error::invalid("loss", format!("unknown loss \"{other}\""))
                .with_hint("expected mse or cross-entropy")),
        }
    }
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Loss::Mse => "mse",
            Loss::CrossEntropy => "cross-entropy",
        })
    }
}

impl std::str::FromStr for Loss {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Loss::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        (0..n).map(|_| rng.random_range(-3.0..3.0)).collect()
    }

    /// Central differences in f64 have error O(h²·f''') + O(ε/h); h = 1e-5 keeps both
    /// near 1e-10, far below the 1e-6 tolerance.
    fn check_gradient(f: impl Fn(&[f64], &mut [f64]) -> f64, x: &[f64]) {
        let mut grad = vec![0.0; x.len()];
        let mut scratch = vec![0.0; x.len()];
        f(x, &mut grad);
        let h = 1e-5;
        let mut fd = vec![0.0; x.len()];
        for k in 0..x.len() {
            let mut xp = x.to_vec();
            xp[k] += h;
            let up = f(&xp, &mut scratch);
            xp[k] -= 2.0 * h;
            let down = f(&xp, &mut scratch);
            fd[k] = (up - down) / (2.0 * h);
        }
        let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
        let diff: Vec<f64> = grad.iter().zip(&fd).map(|(a, b)| a - b).collect();
        let rel = norm(&diff) / norm(&fd);
        assert!(rel <= 1e-6, "relative gradient error {rel:e}");
    }

    #[test]
    fn mse_gradient_matches_finite_differences() {
        let (d, b) = (3, 5);
        let target = random(d * b, 1);
        check_gradient(|p, g| mse(p, &target, d, b, g), &random(d * b, 2));
    }

    #[test]
    fn cross_entropy_gradient_matches_finite_differences() {
        let (d, b) = (4, 6);
        let labels = [0, 3, 1, 2, 3, 0];
        check_gradient(
            |p, g| softmax_cross_entropy(p, &labels, d, b, g),
            &random(d * b, 3),
        );
    }

    #[test]
    fn layout_is_feature_major() {
        // Sample 1 alone is wrong, in feature 0 only: a sample-major reading would blame
        // a different entry.
        let (d, b) = (2, 3);
        let target = [0.0_f32; 6];
        let mut pred = [0.0_f32; 6];
        pred[1] = 2.0; // feature 0, sample 1
        let mut grad = [0.0_f32; 6];
        assert_eq!(mse(&pred, &target, d, b, &mut grad), 0.5 * 4.0 / 3.0);
        assert_eq!(grad, [0.0, 2.0 / 3.0, 0.0, 0.0, 0.0, 0.0]);
        // Logits of sample 2 favour class 1 (entry 1·3 + 2 = 5).
        let mut logits = [0.0_f32; 6];
        logits[5] = 5.0;
        assert_eq!(accuracy(&logits, &[0, 0, 1], d, b), 1.0);
        assert_eq!(accuracy(&logits, &[1, 1, 0], d, b), 0.0);
    }

    #[test]
    fn normalised_mse_of_predicting_the_mean_is_one() {
        // Predicting the target mean makes the mean squared error equal to the variance.
        let target = [1.0_f64, 3.0, -2.0, 6.0, 0.5, 1.5];
        let mean = target.iter().sum::<f64>() / 6.0;
        let pred = [mean; 6];
        let mut grad = [0.0; 6];
        let l = mse(&pred, &target, 2, 3, &mut grad);
        let n = normalised_mse(l, 2, variance(&target));
        assert!((n - 1.0).abs() < 1e-14, "{n}");
        assert_eq!(Loss::Mse.criterion(l, 2, variance(&target)), n);
    }

    #[test]
    fn cross_entropy_of_uniform_logits_is_log_classes() {
        let (d, b) = (5, 2);
        let mut grad = [0.0_f64; 10];
        let l = softmax_cross_entropy(&[7.0; 10], &[1, 4], d, b, &mut grad);
        assert!((l - (d as f64).ln()).abs() < 1e-14);
        // softmax = 1/5 everywhere, so the gradient is (0.2 − onehot)/2.
        assert!((grad[b] - (0.2 - 1.0) / 2.0).abs() < 1e-15);
        assert!((grad[0] - 0.2 / 2.0).abs() < 1e-15);
    }

    #[test]
    fn cross_entropy_is_stable_for_huge_logits() {
        // exp(1000) overflows; log-sum-exp must not. Logits (1000, 1001), label 0:
        // loss = log(e^1000 + e^1001) − 1000 = log(1 + e).
        let mut grad = [0.0_f64; 2];
        let l = softmax_cross_entropy(&[1000.0, 1001.0], &[0], 2, 1, &mut grad);
        assert!((l - (1.0 + 1f64.exp()).ln()).abs() < 1e-12, "{l}");
        assert!(grad.iter().all(|g| g.is_finite()));
        let mut grad32 = [0.0_f32; 2];
        let l32 = softmax_cross_entropy(&[1e30_f32, -1e30], &[1], 2, 1, &mut grad32);
        assert_eq!(l32, 2.0 * 1e30_f32 as f64);
    }

    #[test]
    fn scaled_shards_add_up_to_the_full_batch() {
        let (d, b) = (3, 4);
        let pred = random(d * b, 5);
        let target = random(d * b, 6);
        let mut full_grad = vec![0.0; d * b];
        let full = mse(&pred, &target, d, b, &mut full_grad);
        // Split the batch into samples {0,1} and {2,3}; each shard is feature-major.
        let shard = |v: &[f64], s: usize| -> Vec<f64> {
            (0..d)
                .flat_map(|j| v[j * b + 2 * s..j * b + 2 * s + 2].to_vec())
                .collect()
        };
        let mut total = 0.0;
        for s in 0..2 {
            let mut g = vec![0.0; d * 2];
            total += mse_scaled(&shard(&pred, s), &shard(&target, s), d, 2, 0.25, &mut g);
            assert_eq!(g, shard(&full_grad, s));
        }
        assert!((total - full).abs() < 1e-14);
        let labels = [2u32, 0, 1, 1];
        let full = softmax_cross_entropy(&pred, &labels, d, b, &mut full_grad);
        let mut parts = 0.0;
        for s in 0..2 {
            let mut g = vec![0.0; d * 2];
            let l = &labels[2 * s..2 * s + 2];
            parts += softmax_cross_entropy_scaled(&shard(&pred, s), l, d, 2, 0.25, &mut g);
        }
        assert!((parts - full).abs() < 1e-14);
    }

    #[test]
    fn loss_names_parse_and_print() {
        assert_eq!("ce".parse::<Loss>().unwrap(), Loss::CrossEntropy);
        assert_eq!(Loss::parse(&Loss::Mse.to_string()).unwrap(), Loss::Mse);
        assert_eq!(
            Loss::parse(&Loss::CrossEntropy.to_string()).unwrap(),
            Loss::CrossEntropy
        );
        assert!(Loss::parse("hinge").is_err());
    }

    #[test]
    #[should_panic(expected = "label 3")]
    fn out_of_range_labels_panic_with_the_sample() {
        softmax_cross_entropy(&[0.0_f64; 4], &[0, 3], 2, 2, &mut [0.0; 4]);
    }
}
