//! `dsoftmul`: `σ(z_1, z_2) = softmax_rows(z_1) · z_2` for scores `z_1 ∈ R^{L×L}` and
//! values `z_2 ∈ R^{L×c}`.

use super::{JointUnit, Unit};

/// Row-softmax of the scores applied to the values: a vertex of shape `[L, c]`.
pub struct Dsoftmul;

impl Unit for Dsoftmul {
    const NAME: &'static str = "dsoftmul";
}

impl JointUnit for Dsoftmul {
    const ARITY: usize = 2;

    fn check_shape(s: &[usize]) -> Result<(), String> {
        if s.len() == 2 {
            return Ok(());
        }
        Err(format!(
            "dsoftmul produces a token map [L, c], but the vertex has shape {s:?}"
        ))
    }

    /// The scores are `[L, L]`, the values the vertex's shape.
    fn slot_shape(shape: &[usize], slot: usize) -> Option<Vec<usize>> {
        Some(match slot {
            0 => vec![shape[0], shape[0]],
            _ => shape.to_vec(),
        })
    }
}
