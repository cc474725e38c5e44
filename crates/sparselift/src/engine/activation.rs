//! Elementwise activations over whole buffers and fused into the kernels' finishing
//! steps. The functions themselves are the units of [`crate::activation`].
//!
//! Elementwise activations see the sum of their pre-activations, so the engine keeps a
//! single summed pre-activation buffer for them; joint activations keep one buffer per
//! slot. Where `φ'` is a function of `φ`'s output ([`Elementwise::derivative_from_output`]),
//! the backward pass reads the activations instead, so the kernel that completes a
//! pre-activation may apply `φ` itself and never store it.

use crate::activation::Elementwise;
use crate::simd::{self, dot, Finish, LANES};
use crate::Real;
use rayon::prelude::*;

/// Runs `$body` with `$f` = `|z| U::$method(z)` for the unit `U` of the elementwise
/// activation `$e` (`phi`, or `dphi_stored` for what the backward pass keeps), so that
/// every activation gets its own monomorphised — and vectorisable — loop instead of a
/// branch per element. One arm per activation of the list in [`crate::activation`].
macro_rules! per_activation {
    ($e:expr, $f:ident = $method:ident::<$t:ty>, $body:expr) => {
        $crate::activation::activations!(
            [$crate::engine::activation::per_activation_arms] $e, $f, $method, $t, $body
        )
    };
}

/// The arms of [`per_activation!`], from the list of activations.
macro_rules! per_activation_arms {
    (($e:expr, $f:ident, $method:ident, $t:ty, $body:expr)
     elementwise { $($v:ident: $file:ident,)* } joint { $($j:ident: $jf:ident,)* }) => {
        match $e {
            $($crate::activation::Elementwise::$v => {
                let $f = |z: $t| $crate::engine::activation::$method::<$crate::activation::$v, $t>(z);
                $body
            })*
        }
    };
}

pub(crate) use {per_activation, per_activation_arms};

/// `φ(z)` of unit `U`, inlined into each instruction-set variant of the kernels.
#[inline(always)]
pub(crate) fn phi<U: crate::activation::ElementwiseUnit, T: Real>(z: T) -> T {
    U::phi(z)
}

pub(crate) use crate::activation::dphi_stored;

/// Scalars per parallel task of the elementwise loops.
const CHUNK: usize = 1 << 15;

/// `y = φ(z)` over a buffer.
pub fn forward<T: Real>(a: Elementwise, z: &[T], y: &mut [T]) {
    per_activation!(a, f = phi::<T>, {
        y.par_chunks_mut(CHUNK)
            .zip(z.par_chunks(CHUNK))
            .for_each(|(y, z)| y.iter_mut().zip(z).for_each(|(y, &z)| *y = f(z)))
    })
}

/// `z_t += bias[t]`, then `y = φ(z)`, in one pass over the buffers (blocks of `z.len() /
/// bias.len()` scalars per target): a bias edge fused with the activation it feeds.
pub fn forward_biased<T: Real>(a: Elementwise, z: &mut [T], y: &mut [T], bias: &[T]) {
    let block = z.len() / bias.len().max(1);
    let targets = CHUNK / block.max(1) + 1;
    per_activation!(a, f = phi::<T>, {
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

/// `z ⟵ φ(z + b)` on each finished tile of a pre-activation: [`forward_biased`] (or
/// [`forward`], without a bias) inside the pass that completes `z`, bit for bit.
pub struct Activate<F, T> {
    pub phi: F,
    pub bias: Option<T>,
}

impl<T: Real, F: Fn(T) -> T> Finish<T> for Activate<F, T> {
    #[inline(always)]
    fn tile(&mut self, z: &mut [T], _: &[T]) {
        match self.bias {
            Some(b) => z.iter_mut().for_each(|z| *z = (self.phi)(*z + b)),
            None => z.iter_mut().for_each(|z| *z = (self.phi)(*z)),
        }
    }
}

/// `g ⟵ g ⊙ φ'(y)` on each finished tile of `∂L/∂y`, given the same tile of `y`, and,
/// with a `sum` to keep, its sum in [`dot`]'s order (the bias gradient):
/// [`backward_biased`] inside the pass that completes `∂L/∂y`, bit for bit, for the
/// activations of [`derivative_from_output`].
#[derive(Clone, Copy)]
pub struct Dz<D, T> {
    pub dphi: D,
    pub sum: Option<[T; LANES]>,
}

impl<T: Real, D: Fn(T) -> T> Finish<T> for Dz<D, T> {
    #[inline(always)]
    fn tile(&mut self, g: &mut [T], y: &[T]) {
        g.iter_mut().zip(y).for_each(|(g, &y)| *g *= (self.dphi)(y));
        if let Some(sum) = &mut self.sum {
            simd::add_lanes(sum, g);
        }
    }

    fn total(&self) -> Option<T> {
        self.sum.map(simd::sum_lanes)
    }
}

/// `g ⟵ g ⊙ φ'` and the bias gradient `gb[t] = Σ g_t` (as [`dot`] with `ones`, a
/// block of ones), in one pass: the backward of [`forward_biased`]. `z` holds what
/// [`dphi_stored`] takes.
pub fn backward_biased<T: Real>(a: Elementwise, z: &[T], g: &mut [T], ones: &[T], gb: &mut [T]) {
    let block = ones.len();
    let targets = CHUNK / block.max(1) + 1;
    per_activation!(a, f = dphi_stored::<T>, {
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

/// `g ⟵ g ⊙ φ'` over a buffer: turns `∂L/∂y` into `∂L/∂z` in place. `z` holds what
/// [`dphi_stored`] takes.
pub fn backward<T: Real>(a: Elementwise, z: &[T], g: &mut [T]) {
    if a == Elementwise::Identity {
        return;
    }
    per_activation!(a, f = dphi_stored::<T>, {
        g.par_chunks_mut(CHUNK)
            .zip(z.par_chunks(CHUNK))
            .for_each(|(g, z)| g.iter_mut().zip(z).for_each(|(g, &z)| *g *= f(z)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `∂L/∂y_s` of [`simd::gather_rows_dots`] over the rows `(3j + 1) mod rows` of `gz`,
    /// weighted by `w`, finished by `finish`.
    fn sweep(ys: &[f32], gz: &[f32], w: &[f32], finish: &mut impl Finish<f32>) -> Vec<f32> {
        let (len, count) = (ys.len(), w.len());
        let rows = gz.len() / len;
        let mut g = vec![0.0; len];
        let (row, wt) = (|j: usize| (3 * j + 1) % rows, |j: usize| w[j]);
        simd::gather_rows_dots(
            &mut g,
            true,
            ys,
            gz,
            count,
            row,
            wt,
            &mut Vec::new(),
            |_, _| (),
            finish,
        );
        g
    }

    /// The finishes fused into the row kernels and GEMM blocks compute bit for bit what
    /// the separate passes compute after the plain kernels: `φ(z + b)` forward, `g ⊙
    /// φ'(y)` and its sum backward, on blocks with whole tiles, narrow tiles and
    /// remainders.
    #[test]
    fn fused_finishes_equal_the_separate_passes_bit_for_bit() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let mut random =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-2.0..2.0)).collect() };
        for a in Elementwise::ALL
            .into_iter()
            .filter(|a| a.derivative_from_output())
        {
            for len in [1, 16, 48, 144, 256, 300] {
                let (rows, count) = (5, 4);
                let (y, w, bias) = (random(rows * len), random(count), random(1)[0]);
                let row = |j: usize| (3 * j + 1) % rows;
                // Forward: the pre-activation, then forward_biased.
                let mut z = vec![0.0; len];
                simd::gather_rows(&mut z, true, &y, count, row, |j| w[j], &mut simd::Keep);
                let mut block = z.clone();
                let mut want = vec![0.0; len];
                forward_biased(a, &mut z, &mut want, &[bias]);
                let mut got = vec![0.0; len];
                per_activation!(a, f = phi::<f32>, {
                    let act = || Activate {
                        phi: f,
                        bias: Some(bias),
                    };
                    simd::gather_rows(&mut got, true, &y, count, row, |j| w[j], &mut act());
                    // As a GEMM's block epilogue: one row here.
                    simd::finish_rows(&mut block, len, len, |_| act());
                });
                let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&got), bits(&want), "{a} forward, len {len}");
                assert_eq!(
                    bits(&block),
                    bits(&want),
                    "{a} forward after a GEMM, len {len}"
                );
                if len % LANES != 0 {
                    continue;
                }
                // Backward: ∂L/∂y of a source, then backward_biased against y = `want`.
                let mut g = sweep(&want, &y, &w, &mut simd::Keep);
                let mut gb = [0.0];
                backward_biased(a, &want, &mut g, &vec![1.0; len], &mut gb);
                let (fused, total) = per_activation!(a, d = dphi_stored::<f32>, {
                    let mut dz = Dz {
                        dphi: d,
                        sum: Some([0.0; LANES]),
                    };
                    (sweep(&want, &y, &w, &mut dz), dz.total())
                });
                assert_eq!(bits(&fused), bits(&g), "{a} backward, len {len}");
                assert_eq!(
                    total.map(f32::to_bits),
                    Some(gb[0].to_bits()),
                    "{a} bias, len {len}"
                );
            }
        }
    }
}
