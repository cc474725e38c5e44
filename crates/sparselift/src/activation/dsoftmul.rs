//! `dsoftmul`: `σ(z_1, z_2) = softmax_rows(z_1) · z_2` for scores `z_1 ∈ R^{L×L}` and
//! values `z_2 ∈ R^{L×c}`.

use super::maps::{exp_nonpositive, sum_products};
use super::{add_products, JointUnit, TokenMaps, Unit};
use crate::Real;
use multiversion::multiversion;
use rayon::prelude::*;

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
    /// `y = softmax_rows(z_1) · z_2`, for each vertex of the fiber and each sample: the
    /// rows `i` of every fiber vertex in parallel.
    pub fn forward<T: Real>(m: TokenMaps, z: [&[T]; 2], y: &mut [T]) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let (ns, nv) = (l * l * b, l * c * b);
        let scratch = || (vec![T::zero(); l * b], vec![T::zero(); b]);
        y.par_chunks_mut(c * b)
            .enumerate()
            .for_each_init(scratch, |(p, norm), (row, y)| {
                let (f, i) = (row / l, row % l);
                let (s, v) = (&z[0][f * ns..][..ns], &z[1][f * nv..][..nv]);
                forward_row(m, &s[i * l * b..][..l * b], v, y, p, norm);
            });
    }

    /// With `P = softmax_rows(z_1)` and `g = ∂L/∂y`: `∂L/∂z_2 = Pᵀ g` and, row by row,
    /// `∂L/∂z_1 = P ⊙ (dP − Σ_j dP ⊙ P)` for `dP = g z_2ᵀ`: the fiber vertices in
    /// parallel, since `∂L/∂z_2` sums over the rows.
    pub fn backward<T: Real>(m: TokenMaps, z: [&[T]; 2], gy: &[T], gz: [&mut [T]; 2]) {
        let (l, c, b) = (m.tokens, m.channels, m.batch);
        let (ns, nv) = (l * l * b, l * c * b);
        let [gs, gv] = gz;
        let blocks = gs.par_chunks_mut(ns).zip(gv.par_chunks_mut(nv));
        let inputs = gy.par_chunks(nv).zip(z[0].par_chunks(ns)).zip(z[1].par_chunks(nv));
        blocks
            .zip(inputs)
            .for_each(|((gs, gv), ((g, s), v))| backward_block(m, s, v, g, gs, gv));
    }
}

/// Row `i` of one fiber vertex: `y_ia = Σ_j p_j v_ja` for each `a`, `p` the softmax of
/// the row `s` of scores; `p` and `norm` are scratch.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn forward_row<T: Real>(m: TokenMaps, s: &[T], v: &[T], y: &mut [T], p: &mut [T], norm: &mut [T]) {
    let (l, c, b) = (m.tokens, m.channels, m.batch);
    softmax_row(s, p, norm);
    for (a, y) in y.chunks_exact_mut(b).enumerate() {
        sum_products(y, l, |j| (&p[j * b..][..b], m.at(v, c, j, a)), None);
    }
}

/// [`Dsoftmul::backward`] of one fiber vertex, row by row.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn backward_block<T: Real>(m: TokenMaps, s: &[T], v: &[T], g: &[T], gs: &mut [T], gv: &mut [T]) {
    let (l, c, b) = (m.tokens, m.channels, m.batch);
    gv.fill(T::zero());
    let (mut p, mut dp, mut norm) = (vec![T::zero(); l * b], vec![T::zero(); l * b], vec![T::zero(); b]);
    for i in 0..l {
        softmax_row(&s[i * l * b..][..l * b], &mut p, &mut norm);
        for (j, (pj, dpj)) in p.chunks(b).zip(dp.chunks_mut(b)).enumerate() {
            sum_products(dpj, c, |a| (m.at(g, c, i, a), m.at(v, c, j, a)), None);
            for a in 0..c {
                add_products(m.at_mut(gv, c, j, a), pj, m.at(g, c, i, a));
            }
        }
        norm.fill(T::zero());
        for (pj, dpj) in p.chunks(b).zip(dp.chunks(b)) {
            add_products(&mut norm, pj, dpj);
        }
        let gsi = gs[i * l * b..][..l * b].chunks_mut(b);
        for ((gsij, pj), dpj) in gsi.zip(p.chunks(b)).zip(dp.chunks(b)) {
            for (((g, &p), &dp), &n) in gsij.iter_mut().zip(pj).zip(dpj).zip(&*norm) {
                *g = p * (dp - n);
            }
        }
    }
}

/// `p = softmax(s)` of one row of scores, `[L][batch]`, for each sample; `norm` is
/// scratch of one batch vector. Stable: the row's maximum is subtracted before `exp`, so
/// every exponent is at most 0 and the sum at least 1.
#[inline(always)]
fn softmax_row<T: Real>(s: &[T], p: &mut [T], norm: &mut [T]) {
    let b = norm.len();
    norm.copy_from_slice(&s[..b]);
    for sj in s.chunks(b).skip(1) {
        norm.iter_mut().zip(sj).for_each(|(m, &x)| *m = m.max(x));
    }
    for (pj, sj) in p.chunks_mut(b).zip(s.chunks(b)) {
        pj.iter_mut()
            .zip(sj)
            .zip(norm.iter())
            .for_each(|((p, &x), &m)| *p = x - m);
    }
    exp_nonpositive(p);
    norm.fill(T::zero());
    for pj in p.chunks(b) {
        norm.iter_mut().zip(pj).for_each(|(n, &p)| *n += p);
    }
    for pj in p.chunks_mut(b) {
        pj.iter_mut().zip(norm.iter()).for_each(|(p, &n)| *p /= n);
    }
}
