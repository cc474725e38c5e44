//! `outer`: attention scores `σ(z_1, z_2) = z_1 z_2ᵀ / √c` for queries and keys
//! `z_1, z_2 ∈ R^{L×c}`.

use super::{JointUnit, Unit};

/// Attention scores from queries and keys: a vertex of shape `[L, L]`.
pub struct Outer;

impl Unit for Outer {
    const NAME: &'static str = "outer";
}

impl JointUnit for Outer {
    const ARITY: usize = 2;

    fn check_shape(s: &[usize]) -> Result<(), String> {
        if s.len() == 2 && s[0] == s[1] {
            return Ok(());
        }
        Err(format!(
            "outer produces attention scores [L, L], but the vertex has shape {s:?}"
        ))
    }

    /// Queries and keys may have any width `c`: [`Outer::check_slots`] checks them.
    fn slot_shape(_: &[usize], _: usize) -> Option<Vec<usize>> {
        None
    }

    fn check_slots(shape: &[usize], z: &[&[usize]]) -> Result<(), String> {
        let l = shape[0];
        if z.len() == 2 && z[0].len() == 2 && z[0] == z[1] && z[0][0] == l {
            return Ok(());
        }
        let shapes: Vec<String> = z.iter().map(|s| format!("{s:?}")).collect();
        Err(format!(
            "outer needs two pre-activations of one shape [{l}, c] (queries and keys), got {}",
            shapes.join(" and ")
        ))
    }
}
