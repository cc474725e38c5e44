//! `linear`: `M(w, y) = w y` on the last axis, `w ∈ R^{out×in}`.

use super::{axpy, dot, EdgeOp};
use crate::Real;

/// `z[r][o] += Σ_k w[o][k] y[r][k]` over `rows` leading rows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Linear {
    /// The product of the source shape's leading axes.
    pub rows: usize,
    /// The source shape's last axis.
    pub inp: usize,
    /// The pre-activation's last axis.
    pub out: usize,
}

impl EdgeOp for Linear {
    fn fan_in(&self) -> usize {
        self.inp
    }
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize) {
        let Linear { rows, inp, out } = *self;
        for r in 0..rows {
            for o in 0..out {
                let zr = &mut z[(r * out + o) * b..][..b];
                for k in 0..inp {
                    axpy(w[o * inp + k], &y[(r * inp + k) * b..][..b], zr);
                }
            }
        }
    }
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize) {
        let Linear { rows, inp, out } = *self;
        for r in 0..rows {
            for k in 0..inp {
                let gyr = &mut gy[(r * inp + k) * b..][..b];
                for o in 0..out {
                    axpy(w[o * inp + k], &gz[(r * out + o) * b..][..b], gyr);
                }
            }
        }
    }
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        let Linear { rows, inp, out } = *self;
        for o in 0..out {
            for k in 0..inp {
                gw[o * inp + k] = (0..rows)
                    .map(|r| dot(&gz[(r * out + o) * b..][..b], &y[(r * inp + k) * b..][..b]))
                    .fold(T::zero(), |a, x| a + x);
            }
        }
    }
}
