//! `outer`: attention scores `σ(z_1, z_2) = z_1 z_2ᵀ / √c` for queries and keys
//! `z_1, z_2 ∈ R^{L×c}`.

use super::maps::sum_products;
use super::{JointUnit, TokenMaps, Unit};
use crate::Real;
use multiversion::multiversion;
use rayon::prelude::*;

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
    /// `y = z_1 z_2ᵀ / √c`, for each vertex of the fiber and each sample: the rows `i` of
    /// every fiber vertex in parallel.
    pub fn forward<T: Real>(m: TokenMaps, z: [&[T]; 2], y: &mut [T]) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let scale = T::one() / T::of(c as f64).sqrt();
        let nz = l * c * b;
        y.par_chunks_mut(l * b).enumerate().for_each(|(row, y)| {
            let (f, i) = (row / l, row % l);
            let (q, k) = (&z[0][f * nz..][..nz], &z[1][f * nz..][..nz]);
            scores(m, &q[i * c * b..][..c * b], k, y, scale);
        });
    }

    /// `∂L/∂z_1 = g z_2 / √c` and `∂L/∂z_2 = gᵀ z_1 / √c` for `g = ∂L/∂y`, each a sum
    /// over the other token in order: the rows of every fiber vertex in parallel.
    pub fn backward<T: Real>(m: TokenMaps, z: [&[T]; 2], gy: &[T], gz: [&mut [T]; 2]) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let scale = T::one() / T::of(c as f64).sqrt();
        let (ny, nz) = (l * l * b, l * c * b);
        let [gq, gk] = gz;
        // ∂L/∂q_i = Σ_j g_ij k_j, from row i of g; ∂L/∂k_j = Σ_i g_ij q_i, from column j.
        for (gz, other, transposed) in [(gq, z[1], false), (gk, z[0], true)] {
            gz.par_chunks_mut(c * b).enumerate().for_each(|(row, gz)| {
                let (f, i) = (row / l, row % l);
                let (g, other) = (&gy[f * ny..][..ny], &other[f * nz..][..nz]);
                grad_row(m, g, other, i, transposed, gz, scale);
            });
        }
    }
}

/// Row `i` of one fiber vertex's scores: `y_ij = (Σ_a q_a k_ja) · scale` for each `j`,
/// `q` the `c` batch vectors of query `i`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn scores<T: Real>(m: TokenMaps, q: &[T], k: &[T], y: &mut [T], scale: T) {
    let (c, b) = (m.channels, m.batch);
    for (j, y) in y.chunks_exact_mut(b).enumerate() {
        let pair = |a: usize| (&q[a * b..][..b], m.at(k, c, j, a));
        sum_products(y, c, pair, Some(scale));
    }
}

/// Row `i` of a query's or key's gradient: `gz_ia = (Σ_j g_ij x_ja) · scale`, or with
/// `transposed`, `(Σ_j g_ji x_ja) · scale`, for each `a`; `x` the keys or queries.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn grad_row<T: Real>(
    m: TokenMaps,
    g: &[T],
    x: &[T],
    i: usize,
    transposed: bool,
    gz: &mut [T],
    scale: T,
) {
    let (l, c, b) = (m.tokens, m.channels, m.batch);
    for (a, gz) in gz.chunks_exact_mut(b).enumerate() {
        let gij = |j: usize| match transposed {
            false => m.at(g, l, i, j),
            true => m.at(g, l, j, i),
        };
        sum_products(gz, l, |j| (gij(j), m.at(x, c, j, a)), Some(scale));
    }
}
