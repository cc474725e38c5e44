//! `outer`: attention scores `σ(z_1, z_2) = z_1 z_2ᵀ / √c` for queries and keys
//! `z_1, z_2 ∈ R^{L×c}`.

use super::maps::{by_chunks, products, Chunked, Layout, Scratch};
use super::{JointUnit, TokenMaps, Unit};
use crate::Real;

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

impl Outer {
    /// `y = z_1 z_2ᵀ / √c`, for each vertex of the fiber and each sample: chunks of
    /// samples of every fiber vertex in parallel.
    pub fn forward<T: Real>(m: TokenMaps, z: [&[T]; 2], y: &mut [T], scratch: &mut Scratch<T>) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let scale = T::one() / T::of(c as f64).sqrt();
        let [q, k] = z.map(|z| Chunked::new(z, l * c, b, scratch));
        let rows = Layout::rows(c);
        by_chunks(([y], [l * l]), b, (scratch, 0), |f, ch, w, y, _| {
            let (q, k) = ((q.get(f, ch), rows), (k.get(f, ch), rows.t()));
            products(y, (l, c, w), q, k, Some(scale));
        });
        [q, k].into_iter().for_each(|x| x.free(scratch));
    }

    /// `∂L/∂z_1 = g z_2 / √c` and `∂L/∂z_2 = gᵀ z_1 / √c` for `g = ∂L/∂y`, each a sum
    /// over the other token in order: chunks of samples of every fiber vertex in parallel.
    pub fn backward<T: Real>(
        m: TokenMaps,
        (z, gy): ([&[T]; 2], &[T]),
        gz: [&mut [T]; 2],
        scratch: &mut Scratch<T>,
    ) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let scale = T::one() / T::of(c as f64).sqrt();
        let [q, k] = z.map(|z| Chunked::new(z, l * c, b, scratch));
        let g = Chunked::new(gy, l * l, b, scratch);
        let (rows, g_rows) = (Layout::rows(c), Layout::rows(l));
        // ∂L/∂q_i = Σ_j g_ij k_j, from row i of g; ∂L/∂k_j = Σ_i g_ij q_i, from column j.
        by_chunks((gz, [l * c; 2]), b, (scratch, 0), |f, ch, w, out, _| {
            let (gq, gk) = out.split_at_mut(l * c * w);
            let (g, q, k) = (g.get(f, ch), q.get(f, ch), k.get(f, ch));
            products(gq, (c, l, w), (g, g_rows), (k, rows), Some(scale));
            products(gk, (c, l, w), (g, g_rows.t()), (q, rows), Some(scale));
        });
        [q, k, g].into_iter().for_each(|x| x.free(scratch));
    }
}
