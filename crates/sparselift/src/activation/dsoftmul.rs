//! `dsoftmul`: `σ(z_1, z_2) = softmax_rows(z_1) · z_2` for scores `z_1 ∈ R^{L×L}` and
//! values `z_2 ∈ R^{L×c}`.

use super::maps::{by_chunks, exp_nonpositive, products, Chunked, Layout, Scratch};
use crate::simd::lanes;
use super::{JointUnit, TokenMaps, Unit};
use crate::Real;
use multiversion::multiversion;

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

impl Dsoftmul {
    /// `y = softmax_rows(z_1) · z_2`, for each vertex of the fiber and each sample: chunks
    /// of samples of every fiber vertex in parallel.
    pub fn forward<T: Real>(m: TokenMaps, z: [&[T]; 2], y: &mut [T], scratch: &mut Scratch<T>) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let s = Chunked::new(z[0], l * l, b, scratch);
        let v = Chunked::new(z[1], l * c, b, scratch);
        by_chunks(([y], [l * c]), b, (scratch, l * l * lanes::<T>()), |f, ch, w, y, p| {
            let p = softmax(s.get(f, ch), l, w, p);
            let v = (v.get(f, ch), Layout::rows(c));
            products(y, (c, l, w), (p, Layout::rows(l)), v, None);
        });
        [s, v].into_iter().for_each(|x| x.free(scratch));
    }

    /// With `P = softmax_rows(z_1)` and `g = ∂L/∂y`: row by row `∂L/∂z_1 = P ⊙ (dP − Σ_j
    /// dP ⊙ P)` for `dP = g z_2ᵀ`, and `∂L/∂z_2 = Pᵀ g`: chunks of samples of every fiber
    /// vertex in parallel.
    pub fn backward<T: Real>(
        m: TokenMaps,
        (z, gy): ([&[T]; 2], &[T]),
        gz: [&mut [T]; 2],
        scratch: &mut Scratch<T>,
    ) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let s = Chunked::new(z[0], l * l, b, scratch);
        let [v, g] = [z[1], gy].map(|x| Chunked::new(x, l * c, b, scratch));
        let rows = Layout::rows(c);
        let work = l * l * lanes::<T>();
        by_chunks((gz, [l * l, l * c]), b, (scratch, work), |f, ch, w, out, p| {
            let (gs, gv) = out.split_at_mut(l * l * w);
            let p = softmax(s.get(f, ch), l, w, p);
            let (g, v) = (g.get(f, ch), v.get(f, ch));
            products(gs, (l, c, w), (g, rows), (v, rows.t()), None);
            by_rows(w, l, p, gs, SoftmaxBackward);
            products(gv, (c, l, w), (p, Layout::rows(l).t()), (g, rows), None);
        });
        [s, v, g].into_iter().for_each(|x| x.free(scratch));
    }
}

/// `P = softmax_rows(s)` of a chunk of `w` lanes of `[L, L]` scores, in `p`.
fn softmax<'a, T: Real>(s: &[T], l: usize, w: usize, p: &'a mut [T]) -> &'a [T] {
    let p = &mut p[..s.len()];
    by_rows(w, l, s, p, Softmax);
    p
}

/// `k.row(a_i, b_i)` for each row `i` of `l` entries of the packed `w`-lane maps `a` and
/// `b`, in this instruction set's variant, with the lanes known (a chunk has 2, 4, 8
/// or 16).
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn by_rows<T: Real, K: RowKernel<T>>(w: usize, l: usize, a: &[T], b: &mut [T], k: K) {
    match w {
        16 => each_row::<T, K, 16>(l, a, b, k),
        8 => each_row::<T, K, 8>(l, a, b, k),
        4 => each_row::<T, K, 4>(l, a, b, k),
        2 => each_row::<T, K, 2>(l, a, b, k),
        _ => unreachable!("a chunk has 2, 4, 8 or 16 lanes"),
    }
}

/// [`by_rows`] with `W` lanes.
#[inline(always)]
fn each_row<T: Real, K: RowKernel<T>, const W: usize>(l: usize, a: &[T], b: &mut [T], k: K) {
    let (a, b) = (a.as_chunks::<W>().0, b.as_chunks_mut::<W>().0);
    for (a, b) in a.chunks_exact(l).zip(b.chunks_exact_mut(l)) {
        k.row(a, b);
    }
}

/// A computation on one row of a pair of packed maps, lane by lane.
trait RowKernel<T>: Copy {
    /// The computation on rows `a` and `b` of `W`-lane entries.
    fn row<const W: usize>(self, a: &[[T; W]], b: &mut [[T; W]]);
}

/// `b = softmax(a)`, stable: the row's maximum is subtracted before `exp`, so every
/// exponent is at most 0 and the sum at least 1.
#[derive(Clone, Copy)]
struct Softmax;

impl<T: Real> RowKernel<T> for Softmax {
    #[inline(always)]
    fn row<const W: usize>(self, s: &[[T; W]], p: &mut [[T; W]]) {
        let mut m = s[0];
        for sj in &s[1..] {
            (0..W).for_each(|i| m[i] = m[i].max(sj[i]));
        }
        for (pj, sj) in p.iter_mut().zip(s) {
            (0..W).for_each(|i| pj[i] = sj[i] - m[i]);
        }
        exp_nonpositive(p.as_flattened_mut());
        let mut n = [T::zero(); W];
        for pj in p.iter() {
            (0..W).for_each(|i| n[i] += pj[i]);
        }
        for pj in p.iter_mut() {
            (0..W).for_each(|i| pj[i] /= n[i]);
        }
    }
}

/// The row of `∂L/∂z_1` from the row `p` of `P` and `dp` of `dP`: `dp ⟵ p ⊙ (dp − Σ_j
/// p_j ⊙ dp_j)`, the sum in order from zero.
#[derive(Clone, Copy)]
struct SoftmaxBackward;

impl<T: Real> RowKernel<T> for SoftmaxBackward {
    #[inline(always)]
    fn row<const W: usize>(self, p: &[[T; W]], dp: &mut [[T; W]]) {
        let mut n = [T::zero(); W];
        for (pj, dpj) in p.iter().zip(dp.iter()) {
            (0..W).for_each(|i| n[i] += pj[i] * dpj[i]);
        }
        for (dpj, pj) in dp.iter_mut().zip(p) {
            (0..W).for_each(|i| dpj[i] = pj[i] * (dpj[i] - n[i]));
        }
    }
}
