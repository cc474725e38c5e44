//! `identity`: `M(y) = y`, no weight — skip and residual connections.

use super::{axpy, EdgeOp, Ends, ShapeError};
use crate::Real;

/// `z += y`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity;

impl EdgeOp for Identity {
    /// `Z = Y`'s shape, no weight.
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        Ok((ends.src_shape.to_vec(), vec![]))
    }
    fn fan_in(&self) -> usize {
        1
    }
    /// One addition per element.
    fn flops(&self, z_numel: usize) -> u64 {
        z_numel as u64
    }
    fn forward<T: Real>(&self, _: &[T], y: &[T], z: &mut [T], _: usize) {
        axpy(T::one(), y, z)
    }
    fn backward_input<T: Real>(&self, _: &[T], gz: &[T], gy: &mut [T], _: usize) {
        axpy(T::one(), gz, gy)
    }
    fn weight_grad<T: Real>(&self, _: &[T], _: &[T], _: &mut [T], _: usize) {}
}
