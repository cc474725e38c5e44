//! `readout`: `M(w, y) = w vec(y)`, `w ∈ R^{out × numel(Y)}` — a linear map of a whole
//! channel map or token map to a vector, e.g. the class scores of a CNN or a transformer
//! (docs/semantics.md §1).
//!
//! On the flattened source it is exactly a [`Linear`](super::Linear) with one row, and
//! that is the kernel it computes with; this file holds its shape rule.

use super::{Ends, ShapeError};

/// The `readout` op's shape rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Readout;

impl Readout {
    /// `Z = [out]` (the edge's `out` field, or the target's one-axis pre-activation); an
    /// `out × numel(Y)` weight.
    pub fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        let out = match (ends.out, ends.expected) {
            (Some(0), _) => {
                return Err(ShapeError::new(
                    "readout `out` must be ≥ 1",
                    "`out` is the length of the vector the map is read out to",
                ))
            }
            (Some(o), _) => o,
            (None, Some([o])) => *o,
            (None, Some(e)) => {
                return Err(ShapeError::new(
                    format!(
                        "a readout gives a vector, but \"{}\" expects a pre-activation of shape {e:?}",
                        ends.dst
                    ),
                    "read out into a vertex of shape [k]; map-to-map edges are linear, conv or token_mix",
                ))
            }
            (None, None) => {
                return Err(ShapeError::new(
                    format!(
                        "cannot infer the output size of this readout edge into {} vertex \"{}\"",
                        ends.dst_activation, ends.dst
                    ),
                    "add out = K, the length of the vector",
                ))
            }
        };
        Ok((vec![out], vec![out, ends.src_shape.iter().product()]))
    }
}
