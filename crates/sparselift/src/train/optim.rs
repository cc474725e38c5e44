//! Discrete optimisers on flat parameter vectors, with PyTorch's update rules: [`Sgd`]
//! (momentum, Nesterov, weight decay; gradient descent is `Sgd` with momentum 0 on the
//! full batch) and [`Adam`] (with decoupled weight decay it is AdamW).
//!
//! The learning rate is an argument of [`Optimizer::step`] rather than part of the
//! config, so a [`Schedule`](super::Schedule) can drive it. Optimiser state serialises
//! exactly (see [`float`](crate::float)) for checkpoints.
//!
//! ```
//! use sparselift::train::{Adam, AdamConfig, Optimizer};
//!
//! let mut adam = Adam::<f64>::new(AdamConfig::default(), 2);
//! let mut theta = [1.0, 1.0];
//! // Bias correction makes Adam's first step lr·g/(|g| + ε) ≈ lr·sign(g).
//! adam.step(&mut theta, &[0.5, -4.0], 0.1);
//! assert!((theta[0] - 0.9).abs() < 1e-6 && (theta[1] - 1.1).abs() < 1e-6);
//! ```

use crate::float;
use crate::{Error, Real, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Parameters per parallel task of the elementwise updates.
const CHUNK: usize = 1 << 16;

/// A first-order optimiser updating `params` in place from `grads`.
pub trait Optimizer<T: Real> {
    /// Hyper-parameters other than the learning rate.
    type Config;
    /// A fresh optimiser for `dim` parameters.
    fn new(config: Self::Config, dim: usize) -> Self;
    /// One update with learning rate `lr`.
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64);
}

/// Settings of [`Sgd`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SgdConfig {
    /// Heavy-ball momentum `μ` (0: plain gradient steps).
    pub momentum: f64,
    /// Nesterov momentum (needs `μ > 0`).
    pub nesterov: bool,
    /// L2 penalty `λ`, added to the gradient as `λθ`.
    pub weight_decay: f64,
}

/// Stochastic gradient descent: `g = ∇ + λθ`, `b ← μb + g`, then
/// `θ ← θ − lr·(g + μb)` (Nesterov) or `θ ← θ − lr·b`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Sgd<T: Real> {
    config: SgdConfig,
    #[serde(with = "float::vec")]
    buf: Vec<T>,
}

impl<T: Real> Optimizer<T> for Sgd<T> {
    type Config = SgdConfig;
    fn new(config: SgdConfig, dim: usize) -> Self {
        // The zero buffer makes the first update b = g, as PyTorch's initialisation does.
        let buf = if config.momentum != 0.0 {
            vec![T::zero(); dim]
        } else {
            Vec::new()
        };
        Sgd { config, buf }
    }

    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "sgd: params and grads differ in length"
        );
        let (lr, wd, mu) = (
            T::of(lr),
            T::of(self.config.weight_decay),
            T::of(self.config.momentum),
        );
        // Elementwise, so the same bits on any thread count.
        let (params, grads) = (params.par_chunks_mut(CHUNK), grads.par_chunks(CHUNK));
        if self.buf.is_empty() {
            params.zip(grads).for_each(|(p, g)| {
                for (p, &g) in p.iter_mut().zip(g) {
                    *p -= lr * (g + wd * *p);
                }
            });
            return;
        }
        let nesterov = self.config.nesterov;
        params
            .zip(grads)
            .zip(self.buf.par_chunks_mut(CHUNK))
            .for_each(|((p, g), b)| {
                for ((p, &g), b) in p.iter_mut().zip(g).zip(b) {
                    let g = g + wd * *p;
                    *b = mu * *b + g;
                    *p -= lr * if nesterov { g + mu * *b } else { *b };
                }
            });
    }
}

/// Settings of [`Adam`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamConfig {
    /// Decay of the first-moment average.
    pub beta1: f64,
    /// Decay of the second-moment average.
    pub beta2: f64,
    /// Added to `√v̂` to avoid dividing by zero.
    pub eps: f64,
    /// Weight decay `λ`: an L2 term `λθ` in the gradient, or, when `decoupled`, a shrink
    /// `θ ← (1 − lr·λ)θ` before the update (AdamW).
    pub weight_decay: f64,
    /// Decouple weight decay from the gradient (AdamW).
    pub decoupled: bool,
}

impl Default for AdamConfig {
    /// PyTorch's defaults: `β = (0.9, 0.999)`, `ε = 1e-8`, no weight decay.
    fn default() -> Self {
        AdamConfig {
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            weight_decay: 0.0,
            decoupled: false,
        }
    }
}

impl AdamConfig {
    /// AdamW with PyTorch's default weight decay 0.01.
    pub fn adamw() -> Self {
        AdamConfig {
            weight_decay: 0.01,
            decoupled: true,
            ..Default::default()
        }
    }
}

/// Adam: `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²`,
/// `θ ← θ − lr·m̂/(√v̂ + ε)` with the bias corrections `m̂ = m/(1−β₁ᵗ)`, `v̂ = v/(1−β₂ᵗ)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "")]
pub struct Adam<T: Real> {
    config: AdamConfig,
    #[serde(with = "float::vec")]
    m: Vec<T>,
    #[serde(with = "float::vec")]
    v: Vec<T>,
    t: u64,
}

impl<T: Real> Optimizer<T> for Adam<T> {
    type Config = AdamConfig;
    fn new(config: AdamConfig, dim: usize) -> Self {
        Adam {
            config,
            m: vec![T::zero(); dim],
            v: vec![T::zero(); dim],
            t: 0,
        }
    }

    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        assert_eq!(
            params.len(),
            grads.len(),
            "adam: params and grads differ in length"
        );
        self.t += 1;
        let c = &self.config;
        let t = i32::try_from(self.t).unwrap_or(i32::MAX);
        // Fold the bias corrections into one step size and one ε, both computed in f64:
        // lr·m̂/(√v̂ + ε) = (lr/bc1)·m / (√v/√bc2 + ε).
        let bc1 = 1.0 - c.beta1.powi(t);
        let sqrt_bc2 = (1.0 - c.beta2.powi(t)).sqrt();
        let (b1, b2) = (T::of(c.beta1), T::of(c.beta2));
        let (one_b1, one_b2) = (T::of(1.0 - c.beta1), T::of(1.0 - c.beta2));
        let step = T::of(lr / bc1);
        let inv_sqrt_bc2 = T::of(1.0 / sqrt_bc2);
        let eps = T::of(c.eps);
        let (coupled, shrink) = if c.decoupled {
            (T::zero(), T::of(1.0 - lr * c.weight_decay))
        } else {
            (T::of(c.weight_decay), T::one())
        };
        for (((p, &g), m), v) in params
            .iter_mut()
            .zip(grads)
            .zip(&mut self.m)
            .zip(&mut self.v)
        {
            let g = g + coupled * *p;
            *p *= shrink;
            *m = b1 * *m + one_b1 * g;
            *v = b2 * *v + one_b2 * g * g;
            *p -= step * *m / (v.sqrt() * inv_sqrt_bc2 + eps);
        }
    }
}

/// Which optimiser, with its settings; builds an [`AnyOptimizer`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    /// [`Sgd`].
    Sgd(SgdConfig),
    /// [`Adam`] / AdamW.
    Adam(AdamConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Sgd(SgdConfig::default())
    }
}

impl OptimizerConfig {
    /// Checks the ranges of the hyper-parameters.
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: &str, hint: &str| Err(Error::invalid("optimizer", msg).with_hint(hint));
        match self {
            OptimizerConfig::Sgd(c) => {
                if !(0.0..1.0).contains(&c.momentum) {
                    return bad("momentum must be in [0, 1)", "e.g. momentum = 0.9");
                }
                if c.nesterov && c.momentum == 0.0 {
                    return bad("Nesterov needs a momentum > 0", "e.g. momentum = 0.9");
                }
                if !(c.weight_decay >= 0.0 && c.weight_decay.is_finite()) {
                    return bad("weight decay must be ≥ 0", "e.g. weight_decay = 1e-4");
                }
            }
            OptimizerConfig::Adam(c) => {
                if !(0.0..1.0).contains(&c.beta1) || !(0.0..1.0).contains(&c.beta2) {
                    return bad("beta1 and beta2 must be in [0, 1)", "e.g. 0.9 and 0.999");
                }
                if !(c.eps >= 0.0 && c.eps.is_finite()) {
                    return bad("eps must be ≥ 0", "e.g. eps = 1e-8");
                }
                if !(c.weight_decay >= 0.0 && c.weight_decay.is_finite()) {
                    return bad("weight decay must be ≥ 0", "e.g. weight_decay = 0.01");
                }
            }
        }
        Ok(())
    }
}

/// An optimiser chosen at run time (from a [`OptimizerConfig`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(bound = "", rename_all = "lowercase")]
pub enum AnyOptimizer<T: Real> {
    /// [`Sgd`].
    Sgd(Sgd<T>),
    /// [`Adam`].
    Adam(Adam<T>),
}

impl<T: Real> AnyOptimizer<T> {
    /// Why a state read back from a checkpoint cannot step `dim` parameters, if it cannot.
    pub(super) fn resumable(&self, dim: usize) -> std::result::Result<(), String> {
        let vectors = match self {
            AnyOptimizer::Sgd(s) => {
                let len = if s.config.momentum != 0.0 { dim } else { 0 };
                vec![("sgd's momentum buffer", &s.buf, len)]
            }
            AnyOptimizer::Adam(a) => vec![
                ("adam's first moment", &a.m, dim),
                ("adam's second moment", &a.v, dim),
            ],
        };
        for (name, v, len) in vectors {
            if v.len() != len {
                return Err(format!(
                    "{name} has {} entries, where {len} were expected",
                    v.len()
                ));
            }
        }
        Ok(())
    }
}

impl<T: Real> Optimizer<T> for AnyOptimizer<T> {
    type Config = OptimizerConfig;
    fn new(config: OptimizerConfig, dim: usize) -> Self {
        match config {
            OptimizerConfig::Sgd(c) => AnyOptimizer::Sgd(Sgd::new(c, dim)),
            OptimizerConfig::Adam(c) => AnyOptimizer::Adam(Adam::new(c, dim)),
        }
    }
    fn step(&mut self, params: &mut [T], grads: &[T], lr: f64) {
        match self {
            AnyOptimizer::Sgd(o) => o.step(params, grads, lr),
            AnyOptimizer::Adam(o) => o.step(params, grads, lr),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps<O: Optimizer<f64>>(mut opt: O, grads: &[f64], lr: f64) -> Vec<f64> {
        let mut theta = vec![1.0];
        grads
            .iter()
            .map(|&g| {
                opt.step(&mut theta, &[g], lr);
                theta[0]
            })
            .collect()
    }

    fn close(a: &[f64], b: &[f64]) {
        assert!(
            a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-12),
            "{a:?} vs {b:?}"
        );
    }

    #[test]
    fn plain_sgd_is_a_gradient_step() {
        let mut sgd = Sgd::<f64>::new(SgdConfig::default(), 2);
        let mut theta = [1.0, -2.0];
        sgd.step(&mut theta, &[0.5, 0.25], 0.1);
        assert_eq!(theta, [0.95, -2.025]);
    }

    #[test]
    fn heavy_ball_and_nesterov_differ_as_computed_by_hand() {
        // Constant gradient 1, μ = 0.5, lr = 0.1, from θ = 1.
        // Heavy ball: b = 1, 1.5, 1.75 → θ = 0.9, 0.75, 0.575.
        // Nesterov steps g + μb with the same b: 1.5, 1.75, 1.875 → θ = 0.85, 0.675, 0.4875.
        let cfg = |nesterov| SgdConfig {
            momentum: 0.5,
            nesterov,
            weight_decay: 0.0,
        };
        close(
            &steps(Sgd::new(cfg(false), 1), &[1.0; 3], 0.1),
            &[0.9, 0.75, 0.575],
        );
        close(
            &steps(Sgd::new(cfg(true), 1), &[1.0; 3], 0.1),
            &[0.85, 0.675, 0.4875],
        );
    }

    #[test]
    fn sgd_weight_decay_is_an_l2_gradient() {
        // g = 0 + 0.1·θ: θ ← θ(1 − lr·0.1) = 0.99.
        let cfg = SgdConfig {
            weight_decay: 0.1,
            ..Default::default()
        };
        close(&steps(Sgd::new(cfg, 1), &[0.0], 0.1), &[0.99]);
    }

    #[test]
    fn adam_first_step_is_lr_times_sign() {
        // After one step m̂ = g and v̂ = g² exactly (bias correction undoes the (1 − β)
        // factors), so the update is lr·g/(|g| + ε) → lr·sign(g) as ε → 0, whatever |g|.
        let cfg = AdamConfig {
            eps: 0.0,
            ..Default::default()
        };
        for g in [1e-6, 0.3, -7.0, 1e5] {
            let theta = steps(Adam::new(cfg.clone(), 1), &[g], 0.01);
            close(&theta, &[1.0 - 0.01 * g.signum()]);
        }
    }

    #[test]
    fn adam_second_step_matches_hand_computation() {
        // g = 1 then −1, β = (0.9, 0.999), ε = 0: m = 0.1, then 0.09 − 0.1 = −0.01,
        // m̂ = −0.01/(1 − 0.81) = −1/19; v = 0.001, then 0.000999 + 0.001 = 0.001999,
        // v̂ = 0.001999/(1 − 0.998001) = 1. Second update: +lr/19.
        let cfg = AdamConfig {
            eps: 0.0,
            ..Default::default()
        };
        close(
            &steps(Adam::new(cfg, 1), &[1.0, -1.0], 0.1),
            &[0.9, 0.9 + 0.1 / 19.0],
        );
    }

    #[test]
    fn decoupled_weight_decay_only_shrinks_without_gradient() {
        // With g = 0, AdamW shrinks θ by (1 − lr·λ) and Adam's update is zero apart from
        // that; coupled decay instead feeds λθ through Adam's normalisation, which turns
        // it into a full lr·sign(θ) step.
        // (ε must be > 0 for AdamW here: its moments stay 0 and the update is 0/ε.)
        let wd = |decoupled, eps| AdamConfig {
            weight_decay: 0.1,
            decoupled,
            eps,
            ..Default::default()
        };
        close(&steps(Adam::new(wd(true, 1e-8), 1), &[0.0], 0.01), &[0.999]);
        close(&steps(Adam::new(wd(false, 0.0), 1), &[0.0], 0.01), &[0.99]);
    }

    #[test]
    fn f32_matches_f64_to_single_precision() {
        let mut a32 = Adam::<f32>::new(AdamConfig::default(), 3);
        let mut a64 = Adam::<f64>::new(AdamConfig::default(), 3);
        let (mut p32, mut p64) = ([0.5_f32, -1.0, 2.0], [0.5_f64, -1.0, 2.0]);
        for k in 0..20 {
            let g = [0.1 * k as f64, -0.3, (k as f64).sin()];
            a32.step(&mut p32, &g.map(|x| x as f32), 1e-2);
            a64.step(&mut p64, &g, 1e-2);
        }
        for (a, b) in p32.iter().zip(&p64) {
            assert!((*a as f64 - b).abs() < 1e-5);
        }
    }

    #[test]
    fn state_round_trips_through_json() {
        let mut opt = AnyOptimizer::<f32>::new(OptimizerConfig::Adam(AdamConfig::adamw()), 2);
        opt.step(&mut [1.0, 2.0], &[0.1, 0.7], 1e-3);
        let back: AnyOptimizer<f32> =
            serde_json::from_str(&serde_json::to_string(&opt).unwrap()).unwrap();
        assert_eq!(back, opt);
    }

    #[test]
    fn invalid_hyper_parameters_are_explained() {
        let nesterov = OptimizerConfig::Sgd(SgdConfig {
            nesterov: true,
            ..Default::default()
        });
        assert!(nesterov
            .validate()
            .unwrap_err()
            .to_string()
            .contains("momentum > 0"));
        let beta = OptimizerConfig::Adam(AdamConfig {
            beta2: 1.0,
            ..Default::default()
        });
        assert!(beta.validate().is_err());
        assert!(OptimizerConfig::Adam(AdamConfig::adamw())
            .validate()
            .is_ok());
    }
}
