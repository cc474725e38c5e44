//! Activations `σ_v` (SPEC §1): forward and backward side by side.
//!
//! Elementwise activations see the sum of their pre-activations, so the engine keeps a
//! single summed pre-activation buffer for them; `product` keeps one buffer per slot.

use super::simd::dot;
use crate::module::Activation;
use crate::Real;
use rayon::prelude::*;

/// Slope of leaky ReLU on the negative side.
const LEAKY_SLOPE: f64 = 0.01;
/// `√(2/π)`, for the tanh approximation of GELU.
const GELU_C: f64 = 0.797_884_560_802_865_4;
const GELU_A: f64 = 0.044_715;

/// `φ(z)` of an elementwise activation.
#[inline(always)]
pub fn phi<T: Real>(a: Activation, z: T) -> T {
    let one = T::one();
    match a {
        Activation::Relu => z.max(T::zero()),
        Activation::LeakyRelu => {
            if z > T::zero() {
                z
            } else {
                z * T::of(LEAKY_SLOPE)
            }
        }
        Activation::Tanh => z.tanh(),
        Activation::Sigmoid => one / (one + (-z).exp()),
        Activation::Gelu => {
            let u = T::of(GELU_C) * (z + T::of(GELU_A) * z * z * z);
            T::of(0.5) * z * (one + u.tanh())
        }
        // log(1 + e^z) without overflow for large z.
        Activation::Softplus => z.max(T::zero()) + (-z.abs()).exp().ln_1p(),
        _ => z,
    }
}

/// `φ'(z)` of an elementwise activation.
#[inline(always)]
pub fn dphi<T: Real>(a: Activation, z: T) -> T {
    let one = T::one();
    match a {
        Activation::Relu => {
            if z > T::zero() {
                one
            } else {
                T::zero()
            }
        }
        Activation::LeakyRelu => {
            if z > T::zero() {
                one
            } else {
                T::of(LEAKY_SLOPE)
            }
        }
        Activation::Tanh => {
            let t = z.tanh();
            one - t * t
        }
        Activation::Sigmoid => {
            let s = one / (one + (-z).exp());
            s * (one - s)
        }
        // softplus' is the logistic sigmoid.
        Activation::Softplus => one / (one + (-z).exp()),
        Activation::Gelu => {
            let z2 = z * z;
            let u = T::of(GELU_C) * (z + T::of(GELU_A) * z2 * z);
            let t = u.tanh();
            let du = T::of(GELU_C) * (one + T::of(3.0 * GELU_A) * z2);
            T::of(0.5) * (one + t) + T::of(0.5) * z * (one - t * t) * du
        }
        _ => one,
    }
}

/// Runs `body` with `f` = the activation's function chosen once, so that every
/// activation gets its own monomorphised — and vectorisable — loop instead of a branch
/// per element.
macro_rules! per_activation {
    ($a:expr, $f:ident, $d:expr, $body:expr) => {
        match $a {
            Activation::Relu => {
                let $f = |z| $d(Activation::Relu, z);
                $body
            }
            Activation::LeakyRelu => {
                let $f = |z| $d(Activation::LeakyRelu, z);
                $body
            }
            Activation::Tanh => {
                let $f = |z| $d(Activation::Tanh, z);
                $body
            }
            Activation::Sigmoid => {
                let $f = |z| $d(Activation::Sigmoid, z);
                $body
            }
            Activation::Gelu => {
                let $f = |z| $d(Activation::Gelu, z);
                $body
            }
            Activation::Softplus => {
                let $f = |z| $d(Activation::Softplus, z);
                $body
            }
            _ => {
                let $f = |z| $d(Activation::Identity, z);
                $body
            }
        }
    };
}

/// Scalars per parallel task of the elementwise loops.
const CHUNK: usize = 1 << 15;

/// `y = φ(z)` over a buffer.
pub fn forward<T: Real>(a: Activation, z: &[T], y: &mut [T]) {
    per_activation!(a, f, phi::<T>, {
        y.par_chunks_mut(CHUNK)
            .zip(z.par_chunks(CHUNK))
            .for_each(|(y, z)| y.iter_mut().zip(z).for_each(|(y, &z)| *y = f(z)))
    })
}

/// `z_t += bias[t]`, then `y = φ(z)`, in one pass over the buffers (blocks of `z.len() /
/// bias.len()` scalars per target): a bias edge fused with the activation it feeds.
pub fn forward_biased<T: Real>(a: Activation, z: &mut [T], y: &mut [T], bias: &[T]) {
    let block = z.len() / bias.len().max(1);
    let targets = CHUNK / block.max(1) + 1;
    per_activation!(a, f, phi::<T>, {
        z.par_chunks_mut(block * targets)
            .zip(y.par_chunks_mut(block * targets))
            .zip(bias.par_chunks(targets))
            .for_each(|((z, y), bias)| {
                for ((zt, yt), &b) in z.chunks_mut(block).zip(y.chunks_mut(block)).zip(bias) {
                    for (z, y) in zt.iter_mut().zip(yt) {
                        *z += b;
                        *y = f(*z);
                    }
                }
            })
    })
}

/// `g ⟵ g ⊙ φ'(z)` and the bias gradient `gb[t] = Σ g_t` (as [`dot`] with `ones`, a
/// block of ones), in one pass: the backward of [`forward_biased`].
pub fn backward_biased<T: Real>(a: Activation, z: &[T], g: &mut [T], ones: &[T], gb: &mut [T]) {
    let block = ones.len();
    let targets = CHUNK / block.max(1) + 1;
    per_activation!(a, f, dphi::<T>, {
        g.par_chunks_mut(block * targets)
            .zip(z.par_chunks(block * targets))
            .zip(gb.par_chunks_mut(targets))
            .for_each(|((g, z), gb)| {
                for ((gt, zt), gb) in g.chunks_mut(block).zip(z.chunks(block)).zip(gb) {
                    gt.iter_mut().zip(zt).for_each(|(g, &z)| *g *= f(z));
                    *gb = dot(gt, ones);
                }
            })
    })
}

/// `g ⟵ g ⊙ φ'(z)` over a buffer: turns `∂L/∂y` into `∂L/∂z` in place.
pub fn backward<T: Real>(a: Activation, z: &[T], g: &mut [T]) {
    if a == Activation::Identity {
        return;
    }
    per_activation!(a, f, dphi::<T>, {
        g.par_chunks_mut(CHUNK)
            .zip(z.par_chunks(CHUNK))
            .for_each(|(g, z)| g.iter_mut().zip(z).for_each(|(g, &z)| *g *= f(z)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Central differences in f64 at points away from the kinks of relu/leaky relu.
    #[test]
    fn derivatives_match_finite_differences() {
        let h = 1e-6;
        for a in Activation::ALL.into_iter().filter(|a| a.is_elementwise()) {
            for &z in &[-3.1f64, -0.7, -0.05, 0.03, 0.4, 1.9, 12.0] {
                let fd = (phi(a, z + h) - phi(a, z - h)) / (2.0 * h);
                let d = dphi(a, z);
                assert!(
                    (fd - d).abs() <= 1e-7 * (1.0 + d.abs()),
                    "{a} at {z}: {d} vs {fd}"
                );
            }
        }
    }

    #[test]
    fn softplus_does_not_overflow_and_gelu_has_its_known_values() {
        assert!((phi(Activation::Softplus, 1000.0f64) - 1000.0).abs() < 1e-12);
        assert!(phi(Activation::Softplus, -1000.0f64) >= 0.0);
        // GELU(0) = 0 and GELU(z) → z for large z.
        assert_eq!(phi(Activation::Gelu, 0.0f64), 0.0);
        assert!((phi(Activation::Gelu, 10.0f64) - 10.0).abs() < 1e-9);
    }
}
