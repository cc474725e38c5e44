//! `outer`: attention scores `σ(z_1, z_2) = z_1 z_2ᵀ / √c` for queries and keys
//! `z_1, z_2 ∈ R^{L×c}`.

use super::{add_products, JointUnit, TokenMaps, Unit};
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
    /// `y = z_1 z_2ᵀ / √c`, for each vertex of the fiber and each sample.
    pub fn forward<T: Real>(m: TokenMaps, z: [&[T]; 2], y: &mut [T]) {
        let (l, c) = (m.tokens, m.channels);
        let scale = T::one() / T::of(c as f64).sqrt();
        let (ny, nz) = (l * l * m.batch, l * c * m.batch);
        for ((y, q), k) in y.chunks_mut(ny).zip(z[0].chunks(nz)).zip(z[1].chunks(nz)) {
            for i in 0..l {
                for j in 0..l {
                    let yij = m.at_mut(y, l, i, j);
                    yij.fill(T::zero());
                    for a in 0..c {
                        add_products(yij, m.at(q, c, i, a), m.at(k, c, j, a));
                    }
                    yij.iter_mut().for_each(|y| *y *= scale);
                }
            }
        }
    }

    /// `∂L/∂z_1 = g z_2 / √c` and `∂L/∂z_2 = gᵀ z_1 / √c` for `g = ∂L/∂y`.
    pub fn backward<T: Real>(m: TokenMaps, z: [&[T]; 2], gy: &[T], gz: [&mut [T]; 2]) {
        let (l, c) = (m.tokens, m.channels);
        let scale = T::one() / T::of(c as f64).sqrt();
        let (ny, nz) = (l * l * m.batch, l * c * m.batch);
        let [gq, gk] = gz;
        gq.fill(T::zero());
        gk.fill(T::zero());
        let blocks = gq.chunks_mut(nz).zip(gk.chunks_mut(nz));
        let inputs = gy.chunks(ny).zip(z[0].chunks(nz)).zip(z[1].chunks(nz));
        for ((gq, gk), ((g, q), k)) in blocks.zip(inputs) {
            for i in 0..l {
                for j in 0..l {
                    let gij = m.at(g, l, i, j);
                    for a in 0..c {
                        add_products(m.at_mut(gq, c, i, a), gij, m.at(k, c, j, a));
                        add_products(m.at_mut(gk, c, j, a), gij, m.at(q, c, i, a));
                    }
                }
            }
        }
        gq.iter_mut().chain(gk.iter_mut()).for_each(|g| *g *= scale);
    }
}
