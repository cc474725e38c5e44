//! `linear`: `M(w, y) = w y` on the last axis, `w ∈ R^{out×in}`.

use super::{axpy, dot, EdgeOp, Ends, Layout, ShapeError};
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
    /// `Y`'s shape with the last axis `in` replaced by `out` (the edge's field, or the
    /// expected pre-activation's last axis); an `out × in` weight.
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        let s = ends.src_shape;
        let out = match (ends.out, ends.expected) {
            (Some(0), _) => {
                return Err(ShapeError::new(
                    "linear `out` must be ≥ 1",
                    "`out` is the size of the last axis of the pre-activation",
                ))
            }
            (Some(o), _) => o,
            (None, Some(e)) => e[e.len() - 1],
            (None, None) => {
                return Err(ShapeError::new(
                    format!(
                        "cannot infer the output size of this linear edge into {} vertex \"{}\"",
                        ends.dst_activation, ends.dst
                    ),
                    "add out = C, the channel count of the pre-activation [L, C]",
                ))
            }
        };
        let mut z = s.to_vec();
        z[s.len() - 1] = out;
        Ok((z, vec![out, s[s.len() - 1]]))
    }
    fn fan_in(&self) -> usize {
        self.inp
    }
    /// From a single scalar-row source, (targets × out) × in; from scalar sources into a
    /// single target, out × sources with column-major weights.
    fn gemm(&self, ns: usize, nt: usize, _: (usize, usize), b: usize) -> Option<Layout> {
        match *self {
            Linear { rows: 1, inp, out } if ns == 1 => Some(Layout {
                m: nt * out,
                k: inp,
                n: b,
                a_rs: inp,
                a_cs: 1,
                y_rs: b,
                z_rs: b,
            }),
            Linear {
                rows: 1,
                inp: 1,
                out,
            } if nt == 1 => Some(Layout {
                m: out,
                k: ns,
                n: b,
                a_rs: 1,
                a_cs: out,
                y_rs: b,
                z_rs: b,
            }),
            Linear { .. } => None,
        }
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
