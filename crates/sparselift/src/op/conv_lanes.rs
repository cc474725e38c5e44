//! The fast path of [`Conv`]: direct convolution over lanes of samples, with the kernel's
//! taps accumulated into register tiles.
//!
//! A block is batch-minor (`[positions][batch]`), so [`LANES`] consecutive samples of one
//! position are one vector. Once per pass, every source map is copied into lanes: per
//! chunk of [`LANES`] samples, a zero-padded map small enough for the L1 cache (the op's
//! `fast_layout`). Every tap then reads a contiguous run of it with no bounds to test,
//! and a tile of [`COLS`] output
//! positions of one row stays in registers while the taps of one source are added. An
//! element of `z` receives its terms in the order of the per-edge loops — source by
//! source, taps ascending (forward) or descending (transposed), padding adding zeros —
//! so the forward pass and the input gradient are bit for bit the per-edge results; the
//! weight gradient sums each tap by lanes, a fixed order of its own.
//!
//! Hand-written rather than through a GEMM: a sparse channel lift gives every target its
//! own sources, so no two targets share a product, and an im2col copy of every source
//! for a GEMM would move nine times the data this path reads.

use super::Conv;
use crate::simd::LANES;
use crate::Real;
use multiversion::multiversion;
use rayon::prelude::*;

/// Output positions of one row summed in registers at a time.
const COLS: usize = 8;

impl Conv {
    /// Positions of a map padded by half the kernel on every side, and its padded row
    /// length.
    fn padded(&self) -> (usize, usize) {
        let wp = self.w + self.kw - 1;
        ((self.h + self.kh - 1) * wp, wp)
    }

    /// The blocks `maps` (each `h · w` positions of `b` samples) in lanes: per map and per
    /// chunk of [`LANES`] samples, the zero-padded map of `(h + kh − 1) × (w + kw − 1)`
    /// positions of [`LANES`] scalars, lanes past `b` zero.
    pub(super) fn pad_lanes<T: Real>(&self, maps: &[T], b: usize) -> Vec<T> {
        let (numel, chunks) = (self.h * self.w, b.div_ceil(LANES));
        let (positions, wp) = self.padded();
        let block = chunks * positions * LANES;
        let count = maps.len().checked_div(numel * b).unwrap_or(0);
        let mut out = vec![T::zero(); count * block];
        let (ph, pw) = (self.kh / 2, self.kw / 2);
        out.par_chunks_mut(block.max(1))
            .zip(maps.par_chunks(numel * b).take(count))
            .for_each(|(out, map)| {
                for (c, out) in out.chunks_exact_mut(positions * LANES).enumerate() {
                    let (lane0, n) = (c * LANES, LANES.min(b - c * LANES));
                    for i in 0..self.h {
                        for j in 0..self.w {
                            let d = &mut out[((i + ph) * wp + j + pw) * LANES..][..LANES];
                            copy_lanes(d, &map[(i * self.w + j) * b + lane0..], n);
                        }
                    }
                }
            });
        out
    }

    /// `z[p] += Σ_e Σ_t w_e[t] x_e[p + shift(t)]` over the `count` edges `edge(e) = (w_e,
    /// x_e)`, the `x_e` in lanes ([`Conv::pad_lanes`]); `transpose` runs the kernel
    /// flipped (the input gradient, where the `x_e` are the targets' `∂L/∂z`).
    pub(super) fn correlate_lanes<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        b: usize,
        transpose: bool,
    ) {
        let taps = self.kh * self.kw;
        let (positions, wp) = self.padded();
        // Each edge's kernel in summation order.
        let mut kernels = Vec::with_capacity(count * taps);
        for e in 0..count {
            let w = edge(e).0;
            match transpose {
                false => kernels.extend_from_slice(&w[..taps]),
                true => kernels.extend(w[..taps].iter().rev()),
            }
        }
        let mut acc = vec![T::zero(); self.h * self.w * LANES];
        for (c, lane0) in (0..b).step_by(LANES).enumerate() {
            let n = LANES.min(b - lane0);
            for (p, a) in acc.chunks_exact_mut(LANES).enumerate() {
                copy_lanes(a, &z[p * b + lane0..], n);
            }
            for e in 0..count {
                let x = &edge(e).1[c * positions * LANES..][..positions * LANES];
                add_taps(self, x, wp, &kernels[e * taps..][..taps], &mut acc);
            }
            for (p, a) in acc.chunks_exact(LANES).enumerate() {
                match n {
                    LANES => z[p * b + lane0..][..LANES].copy_from_slice(a),
                    _ => z[p * b + lane0..][..n].copy_from_slice(&a[..n]),
                }
            }
        }
    }

    /// `gw[t] = Σ_p Σ_s gz[p][s] · y[p + shift(t)][s]` from `gz` and `y` in lanes
    /// ([`Conv::pad_lanes`]), summed per lane, then over the lanes and the chunks in order.
    pub(super) fn weight_grad_lanes<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        let (positions, wp) = self.padded();
        let mut acc = vec![T::zero(); self.kh * self.kw * LANES];
        for c in 0..b.div_ceil(LANES) {
            let at = c * positions * LANES..(c + 1) * positions * LANES;
            tap_dots(self, &y[at.clone()], wp, &gz[at], &mut acc);
        }
        for (gw, lanes) in gw.iter_mut().zip(acc.chunks_exact(LANES)) {
            *gw = lanes.iter().fold(T::zero(), |s, &v| s + v);
        }
    }
}

/// `d[..n] = s[..n]`, the rest of `d` zero: a full chunk as one fixed-size copy (a
/// copy of a length known only at run time is a call to `memmove`).
#[inline(always)]
fn copy_lanes<T: Real>(d: &mut [T], s: &[T], n: usize) {
    if n == LANES {
        d[..LANES].copy_from_slice(&s[..LANES]);
    } else {
        d[..n].copy_from_slice(&s[..n]);
        d[n..].fill(T::zero());
    }
}

/// `acc[p] += Σ_t k[t] · pad[p + shift(t)]` for every output position `p`, by tiles of
/// [`COLS`] positions of a row held in registers.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn add_taps<T: Real>(c: &Conv, pad: &[T], wp: usize, k: &[T], acc: &mut [T]) {
    for i in 0..c.h {
        let mut j0 = 0;
        while j0 + COLS <= c.w {
            tile::<T, COLS>(c, pad, wp, k, &mut acc[(i * c.w + j0) * LANES..], i, j0);
            j0 += COLS;
        }
        while j0 < c.w {
            tile::<T, 1>(c, pad, wp, k, &mut acc[(i * c.w + j0) * LANES..], i, j0);
            j0 += 1;
        }
    }
}

/// [`add_taps`] on the `R` positions from `(i, j0)`, whose accumulators start at `acc`.
#[inline(always)]
fn tile<T: Real, const R: usize>(
    c: &Conv,
    pad: &[T],
    wp: usize,
    k: &[T],
    acc: &mut [T],
    i: usize,
    j0: usize,
) {
    let mut t = [[T::zero(); LANES]; R];
    for (r, t) in t.iter_mut().enumerate() {
        t.copy_from_slice(&acc[r * LANES..][..LANES]);
    }
    for a in 0..c.kh {
        let row = &pad[((i + a) * wp + j0) * LANES..][..(R + c.kw - 1) * LANES];
        for (cc, &w) in k[a * c.kw..][..c.kw].iter().enumerate() {
            for (r, t) in t.iter_mut().enumerate() {
                let x = &row[(r + cc) * LANES..][..LANES];
                for l in 0..LANES {
                    t[l] += w * x[l];
                }
            }
        }
    }
    for (r, t) in t.iter().enumerate() {
        acc[r * LANES..][..LANES].copy_from_slice(t);
    }
}

/// `acc[t] += Σ_p g[p] · pad[p + shift(t)]` lane by lane, for every tap `t` (`g` padded
/// as `pad`): all taps of
/// a `KH × KW` kernel in registers for the common sizes, else tap by tap.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn tap_dots<T: Real>(c: &Conv, pad: &[T], wp: usize, g: &[T], acc: &mut [T]) {
    match (c.kh, c.kw) {
        (3, 3) => all_taps::<T, 3, 3>(c, pad, wp, g, acc),
        (5, 5) => all_taps::<T, 5, 5>(c, pad, wp, g, acc),
        (1, 3) => all_taps::<T, 1, 3>(c, pad, wp, g, acc),
        (1, 5) => all_taps::<T, 1, 5>(c, pad, wp, g, acc),
        (1, 1) => all_taps::<T, 1, 1>(c, pad, wp, g, acc),
        _ => {
            for (t, acc) in acc.chunks_exact_mut(LANES).enumerate() {
                let (a, cc) = (t / c.kw, t % c.kw);
                for i in 0..c.h {
                    let row = &pad[((i + a) * wp + cc) * LANES..][..c.w * LANES];
                    let gr = &g[((i + c.kh / 2) * wp + c.kw / 2) * LANES..][..c.w * LANES];
                    for (x, g) in row.chunks_exact(LANES).zip(gr.chunks_exact(LANES)) {
                        for l in 0..LANES {
                            acc[l] += g[l] * x[l];
                        }
                    }
                }
            }
        }
    }
}

/// [`tap_dots`] with the `KH · KW` sums in registers: each vector of `g` read once.
#[inline(always)]
fn all_taps<T: Real, const KH: usize, const KW: usize>(
    c: &Conv,
    pad: &[T],
    wp: usize,
    g: &[T],
    acc: &mut [T],
) {
    let mut s = [[[T::zero(); LANES]; KW]; KH];
    for (t, s) in s.iter_mut().flatten().enumerate() {
        s.copy_from_slice(&acc[t * LANES..][..LANES]);
    }
    let (ph, pw) = (c.kh / 2, c.kw / 2);
    for i in 0..c.h {
        for j in 0..c.w {
            let g = &g[((i + ph) * wp + j + pw) * LANES..][..LANES];
            for (a, s) in s.iter_mut().enumerate() {
                let row = &pad[((i + a) * wp + j) * LANES..][..KW * LANES];
                for (cc, s) in s.iter_mut().enumerate() {
                    let x = &row[cc * LANES..][..LANES];
                    for l in 0..LANES {
                        s[l] += g[l] * x[l];
                    }
                }
            }
        }
    }
    for (t, s) in s.iter().flatten().enumerate() {
        acc[t * LANES..][..LANES].copy_from_slice(s);
    }
}
