//! The fast path of [`Conv`]: direct convolution over lanes of samples, with the kernel's
//! taps accumulated into register tiles.
//!
//! A block is batch-minor (`[positions][batch]`), so [`LANES`] consecutive samples of one
//! position are one vector. Every source map is copied into lanes: per chunk of
//! [`LANES`] samples, a zero-padded map small enough for the L1 cache (the op's
//! `fast_layout`), laid out once per pass and read again by the backward pass. Every tap
//! then reads a contiguous run of it with no bounds to test, and a tile of [`COLS`] output
//! positions of one row stays in registers while the taps of all the sources are added. An
//! element of `z` receives its terms in the order of the per-edge loops — source by
//! source, taps ascending (forward) or descending (transposed), padding adding zeros —
//! so the forward pass and the input gradient are bit for bit the per-edge results; the
//! weight gradient sums each tap by lanes, a fixed order of its own.
//!
//! Hand-written rather than through a GEMM: a sparse channel lift gives every target its
//! own sources, so no two targets share a product, and an im2col copy of every source
//! for a GEMM would move nine times the data this path reads.

use super::Conv;
use crate::simd::{Finish, LANES};
use crate::Real;
use multiversion::multiversion;
use multiversion::target::match_target;
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

    /// The blocks `maps` (each `h · w` positions of `b` samples) in lanes, into `laid`: per
    /// map and per chunk of [`LANES`] samples, the zero-padded map of `(h + kh − 1) × (w +
    /// kw − 1)` positions of [`LANES`] scalars, lanes past `b` zero. A `laid` of the right
    /// length is what an earlier call on maps of this shape left: its borders are zero
    /// already, and only the maps' own positions are written, each map read in order.
    pub(super) fn pad_lanes<T: Real>(&self, maps: &[T], b: usize, laid: &mut Vec<T>) {
        let (numel, chunks) = (self.h * self.w, b.div_ceil(LANES));
        let (positions, wp) = self.padded();
        let block = chunks * positions * LANES;
        let count = maps.len().checked_div(numel * b).unwrap_or(0);
        if laid.len() != count * block {
            laid.clear();
            laid.resize(count * block, T::zero());
        }
        let (ph, pw) = (self.kh / 2, self.kw / 2);
        laid.par_chunks_mut(block.max(1))
            .zip(maps.par_chunks((numel * b).max(1)))
            .for_each(|(out, map)| {
                for (p, samples) in map.chunks_exact(b.max(1)).enumerate() {
                    let at = ((p / self.w + ph) * wp + p % self.w + pw) * LANES;
                    for (c, lanes) in samples.chunks(LANES).enumerate() {
                        copy_lanes(&mut out[c * positions * LANES + at..], lanes, lanes.len());
                    }
                }
            });
    }

    /// `z[p] += Σ_e Σ_t w_e[t] x_e[p + shift(t)]` over the `count` edges `edge(e) = (w_e,
    /// x_e)`, the `x_e` in lanes ([`Conv::pad_lanes`]); `transpose` runs the kernel
    /// flipped (the input gradient, where the `x_e` are the targets' `∂L/∂z`); with
    /// `overwrite`, `z =`: the sums start from zero instead of from `z`. `finish` maps
    /// each chunk of sums before it is stored, so that an activation costs no pass of its
    /// own over `z`.
    pub(super) fn correlate_lanes<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        b: usize,
        (transpose, overwrite): (bool, bool),
        finish: &mut impl Finish<T>,
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
        let mut runs = Vec::with_capacity(count * self.kh);
        for (c, lane0) in (0..b).step_by(LANES).enumerate() {
            let n = LANES.min(b - lane0);
            match overwrite {
                true => acc.fill(T::zero()),
                false => {
                    for (p, a) in acc.chunks_exact_mut(LANES).enumerate() {
                        copy_lanes(a, &z[p * b + lane0..], n);
                    }
                }
            }
            // Each kernel row with the padded rows it reads from (its row offset applied).
            runs.clear();
            for e in 0..count {
                let x = &edge(e).1[c * positions * LANES..][..positions * LANES];
                let (x, k) = (x.as_chunks().0, &kernels[e * taps..][..taps]);
                runs.extend(
                    k.chunks_exact(self.kw)
                        .enumerate()
                        .map(|(a, k)| (k, &x[a * wp..])),
                );
            }
            add_taps(self, &runs, wp, &mut acc);
            if n == LANES {
                finish.tile(&mut acc, &[]);
            }
            for (p, a) in acc.chunks_exact_mut(LANES).enumerate() {
                match n {
                    LANES => z[p * b + lane0..][..LANES].copy_from_slice(a),
                    _ => {
                        finish.tile(&mut a[..n], &[]);
                        z[p * b + lane0..][..n].copy_from_slice(&a[..n]);
                    }
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

/// A kernel row and the padded map its taps read, from the row the kernel row starts at.
type Run<'a, T> = (&'a [T], &'a [[T; LANES]]);

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

/// `acc[p] += Σ_(k, x) Σ_c k[c] · x[p + shift(c)]` for every output position `p`, over
/// `runs` of one kernel row `k` and the padded map `x` from the row it starts at, by tiles
/// of [`COLS`] positions of a row held in registers, one vector of lanes at a time.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn add_taps<T: Real>(c: &Conv, runs: &[Run<T>], wp: usize, acc: &mut [T]) {
    let bytes = match_target! {
        "x86_64+avx512f" => 64,
        "x86_64+avx2" => 32,
        _ => 16,
    };
    match bytes / size_of::<T>() {
        16 => tiles::<T, 16>(c, runs, wp, acc),
        8 => tiles::<T, 8>(c, runs, wp, acc),
        4 => tiles::<T, 4>(c, runs, wp, acc),
        _ => tiles::<T, 2>(c, runs, wp, acc),
    }
}

/// [`add_taps`] with vectors of `V` lanes, so that a tile of [`COLS`] vectors fits in the
/// registers (wider ones would spill to the stack); each lane sums its terms in the same
/// order whatever `V` is. The common kernel widths are compiled apart.
#[inline(always)]
fn tiles<T: Real, const V: usize>(c: &Conv, runs: &[Run<T>], wp: usize, acc: &mut [T]) {
    match c.kw {
        1 => rows::<T, V, 1>(c, runs, wp, acc),
        3 => rows::<T, V, 3>(c, runs, wp, acc),
        5 => rows::<T, V, 5>(c, runs, wp, acc),
        _ => rows::<T, V, 0>(c, runs, wp, acc),
    }
}

/// [`tiles`] for kernels `KW` wide (`0`: any width, read at run time).
#[inline(always)]
fn rows<T: Real, const V: usize, const KW: usize>(
    c: &Conv,
    runs: &[Run<T>],
    wp: usize,
    acc: &mut [T],
) {
    for v in (0..LANES).step_by(V) {
        for i in 0..c.h {
            let mut j0 = 0;
            while j0 + COLS <= c.w {
                let acc = &mut acc[(i * c.w + j0) * LANES..];
                tile::<T, V, COLS, KW>(runs, wp, acc, (i, j0, v));
                j0 += COLS;
            }
            while j0 < c.w {
                let acc = &mut acc[(i * c.w + j0) * LANES..];
                tile::<T, V, 1, KW>(runs, wp, acc, (i, j0, v));
                j0 += 1;
            }
        }
    }
}

/// [`add_taps`] on lanes `v..v + V` of the `R` positions from `(i, j0)`, whose
/// accumulators start at `acc`: sources in order and taps ascending per position, as the
/// per-edge loops add them; with `KW` known, the loop over a kernel row unrolls.
///
/// The rows of all the sources' kernels run as one loop (not a loop over sources around
/// one over rows): the compiler keeps the tile in registers only across its innermost
/// loop, and copies it through the stack at the loop's ends. The loop nest over taps,
/// then positions is the one it vectorises: loading each vector of a row once for all the
/// positions it reaches (taps inside positions) left the tile in scalars.
#[inline(always)]
fn tile<T: Real, const V: usize, const R: usize, const KW: usize>(
    runs: &[Run<T>],
    wp: usize,
    acc: &mut [T],
    (i, j0, v): (usize, usize, usize),
) {
    assert!(v + V <= LANES);
    let mut t = [[T::zero(); V]; R];
    for (r, t) in t.iter_mut().enumerate() {
        t.copy_from_slice(&acc[r * LANES + v..][..V]);
    }
    for &(k, pad) in runs {
        let k = if KW == 0 { k } else { &k[..KW] };
        let run = &pad[i * wp + j0..][..R + k.len() - 1];
        for (cc, &w) in k.iter().enumerate() {
            for (t, x) in t.iter_mut().zip(&run[cc..]) {
                for l in 0..V {
                    t[l] += w * x[v + l];
                }
            }
        }
    }
    for (r, t) in t.iter().enumerate() {
        acc[r * LANES + v..][..V].copy_from_slice(t);
    }
}

/// `acc[t] += Σ_p g[p] · pad[p + shift(t)]` lane by lane, for every tap `t` (`g` padded
/// as `pad`): all taps of a `KH × KW` kernel in registers for the common sizes, one vector
/// of lanes at a time, else tap by tap.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn tap_dots<T: Real>(c: &Conv, pad: &[T], wp: usize, g: &[T], acc: &mut [T]) {
    let bytes = match_target! {
        "x86_64+avx512f" => 64,
        "x86_64+avx2" => 32,
        _ => 16,
    };
    match bytes / size_of::<T>() {
        16 => kernel_taps::<T, 16>(c, pad, wp, g, acc),
        8 => kernel_taps::<T, 8>(c, pad, wp, g, acc),
        4 => kernel_taps::<T, 4>(c, pad, wp, g, acc),
        _ => kernel_taps::<T, 2>(c, pad, wp, g, acc),
    }
}

/// [`tap_dots`] with vectors of `V` lanes.
#[inline(always)]
fn kernel_taps<T: Real, const V: usize>(c: &Conv, pad: &[T], wp: usize, g: &[T], acc: &mut [T]) {
    for v in (0..LANES).step_by(V) {
        match (c.kh, c.kw) {
            (3, 3) => all_taps::<T, V, 3, 3>(c, pad, wp, g, acc, v),
            (5, 5) => all_taps::<T, V, 5, 5>(c, pad, wp, g, acc, v),
            (1, 3) => all_taps::<T, V, 1, 3>(c, pad, wp, g, acc, v),
            (1, 5) => all_taps::<T, V, 1, 5>(c, pad, wp, g, acc, v),
            (1, 1) => all_taps::<T, V, 1, 1>(c, pad, wp, g, acc, v),
            _ => {
                let (pad, g, acc) = (&pad[v..], &g[v..], &mut acc[v..]);
                for t in 0..c.kh * c.kw {
                    let (a, cc) = (t / c.kw, t % c.kw);
                    let acc = &mut acc[t * LANES..][..V];
                    for i in 0..c.h {
                        for j in 0..c.w {
                            let x = &pad[((i + a) * wp + j + cc) * LANES..][..V];
                            let g = &g[((i + c.kh / 2) * wp + j + c.kw / 2) * LANES..][..V];
                            for l in 0..V {
                                acc[l] += g[l] * x[l];
                            }
                        }
                    }
                }
            }
        }
    }
}

/// [`tap_dots`] on lanes `v..v + V` with the `KH · KW` sums in registers: each vector of
/// `g` read once. The loops run over whole positions (`[T; LANES]`), so that every offset
/// lies inside a window of known length: one bounds check per window, none per tap.
#[inline(always)]
fn all_taps<T: Real, const V: usize, const KH: usize, const KW: usize>(
    c: &Conv,
    pad: &[T],
    wp: usize,
    g: &[T],
    acc: &mut [T],
    v: usize,
) {
    assert!(v + V <= LANES);
    let (pad, g) = (pad.as_chunks::<LANES>().0, g.as_chunks::<LANES>().0);
    let mut s = [[[T::zero(); V]; KW]; KH];
    for a in 0..KH {
        for cc in 0..KW {
            s[a][cc].copy_from_slice(&acc[(a * KW + cc) * LANES + v..][..V]);
        }
    }
    let (ph, pw) = (c.kh / 2, c.kw / 2);
    for i in 0..c.h {
        let gr = &g[(i + ph) * wp + pw..][..c.w];
        let rows: [&[[T; LANES]]; KH] =
            std::array::from_fn(|a| &pad[(i + a) * wp..][..c.w + KW - 1]);
        for (j, gv) in gr.iter().enumerate() {
            for a in 0..KH {
                let win: &[[T; LANES]; KW] = rows[a][j..j + KW].try_into().unwrap();
                for cc in 0..KW {
                    for l in 0..V {
                        s[a][cc][l] += gv[v + l] * win[cc][v + l];
                    }
                }
            }
        }
    }
    for a in 0..KH {
        for cc in 0..KW {
            acc[(a * KW + cc) * LANES + v..][..V].copy_from_slice(&s[a][cc]);
        }
    }
}
