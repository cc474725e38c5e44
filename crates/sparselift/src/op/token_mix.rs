//! `token_mix`: `M(w, y) = w y` along the first (token) axis, `w ∈ R^{L×L}`.

use super::{axpy, axpy_rows, dot, EdgeOp, Ends, ShapeError};
use crate::simd::Finish;
use crate::Real;

/// `z[l][c] += Σ_l' w[l][l'] y[l'][c]` for `L` tokens of `rest` channels each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenMix {
    /// `L`, the first axis.
    pub tokens: usize,
    /// Scalars per token: the product of the other axes.
    pub rest: usize,
}

impl EdgeOp for TokenMix {
    /// `Z = Y`'s shape, an `L × L` weight for `L` tokens.
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        let s = ends.src_shape;
        Ok((s.to_vec(), vec![s[0], s[0]]))
    }
    fn fan_in(&self) -> usize {
        self.tokens
    }
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize) {
        let (tokens, row) = (self.tokens, self.rest * b);
        for l in 0..tokens {
            for m in 0..tokens {
                axpy(
                    w[l * tokens + m],
                    &y[m * row..][..row],
                    &mut z[l * row..][..row],
                );
            }
        }
    }
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize) {
        let (tokens, row) = (self.tokens, self.rest * b);
        for m in 0..tokens {
            for l in 0..tokens {
                axpy(
                    w[l * tokens + m],
                    &gz[l * row..][..row],
                    &mut gy[m * row..][..row],
                );
            }
        }
    }
    /// Each token row of `z` summed over all edges and tokens at once, in registers
    /// (`simd::axpy_rows`): per element the order of the per-edge loops.
    fn forward_target<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        (b, overwrite): (usize, bool),
        finish: &mut impl Finish<T>,
    ) {
        if overwrite {
            z.fill(T::zero());
        }
        let (tokens, row) = (self.tokens, self.rest * b);
        let edges: Vec<(&'a [T], &'a [T])> = (0..count).map(edge).collect();
        for (l, zl) in z.chunks_exact_mut(row).take(tokens).enumerate() {
            axpy_rows(zl, count * tokens, |k| {
                let ((w, y), m) = (edges[k / tokens], k % tokens);
                (w[l * tokens + m], &y[m * row..][..row])
            });
        }
        finish.tile(z, &[]);
    }
    /// As [`TokenMix::forward_target`], with `wᵀ`.
    fn backward_input_source<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        gy: &mut [T],
        b: usize,
        overwrite: bool,
    ) {
        if overwrite {
            gy.fill(T::zero());
        }
        let (tokens, row) = (self.tokens, self.rest * b);
        let edges: Vec<(&'a [T], &'a [T])> = (0..count).map(edge).collect();
        for (m, gym) in gy.chunks_exact_mut(row).take(tokens).enumerate() {
            axpy_rows(gym, count * tokens, |k| {
                let ((w, gz), l) = (edges[k / tokens], k % tokens);
                (w[l * tokens + m], &gz[l * row..][..row])
            });
        }
    }
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        let (tokens, row) = (self.tokens, self.rest * b);
        for l in 0..tokens {
            for m in 0..tokens {
                gw[l * tokens + m] = dot(&gz[l * row..][..row], &y[m * row..][..row]);
            }
        }
    }
}
