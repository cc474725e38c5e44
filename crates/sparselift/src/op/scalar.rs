//! `scalar`: `M(w, y) = w y`, `w ∈ R`.

use super::{axpy, dot, EdgeOp, Ends, Layout, ShapeError};
use crate::Real;

/// `z += w y`: one weight per lifted edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scalar;

impl EdgeOp for Scalar {
    /// `Z = Y`'s shape, one weight.
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        Ok((ends.src_shape.to_vec(), vec![1]))
    }
    fn fan_in(&self) -> usize {
        1
    }
    /// Complete: targets × sources times the source blocks, whole.
    fn gemm(&self, ns: usize, nt: usize, (src, dst): (usize, usize), b: usize) -> Option<Layout> {
        Some(Layout {
            m: nt,
            k: ns,
            n: src * b,
            a_rs: ns,
            a_cs: 1,
            y_rs: src * b,
            z_rs: dst * b,
        })
    }
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], _: usize) {
        axpy(w[0], y, z)
    }
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], _: usize) {
        axpy(w[0], gz, gy)
    }
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], _: usize) {
        gw[0] = dot(gz, y)
    }
}
