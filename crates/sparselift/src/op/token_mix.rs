//! `token_mix`: `M(w, y) = w y` along the first (token) axis, `w ∈ R^{L×L}`.

use super::{axpy, dot, EdgeOp, Ends, ShapeError};
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
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        let (tokens, row) = (self.tokens, self.rest * b);
        for l in 0..tokens {
            for m in 0..tokens {
                gw[l * tokens + m] = dot(&gz[l * row..][..row], &y[m * row..][..row]);
            }
        }
    }
}
