//! `scalar`: `M(w, y) = w y`, `w ∈ R`.

use super::{axpy, dot, EdgeOp};
use crate::Real;

/// `z += w y`: one weight per lifted edge.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Scalar;

impl EdgeOp for Scalar {
    fn fan_in(&self) -> usize {
        1
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
