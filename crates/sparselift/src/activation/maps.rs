//! How `outer` and `dsoftmul` compute: their maps regrouped by chunks of samples
//! ([`Chunked`]), one chunk of one fiber vertex per task ([`by_chunks`]), matrix products
//! of token maps held in registers tile by tile ([`products`]), and a vectorisable `exp`
//! for the row softmax. Every sample is computed from its own lanes in the same order as
//! a plain loop over entries would, so results do not depend on the chunk width, the
//! instruction set or the thread count.

use crate::simd::lanes;
use crate::Real;
use multiversion::multiversion;
use rayon::prelude::*;
use std::any::TypeId;

/// Where entry `(i, j)` of a token map lies: the batch vector at `(i·row + j·col)·batch`.
/// A map of `n` columns is [`Layout::rows`]`(n)`; its transpose swaps the strides.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    /// Batch vectors from one row to the next.
    pub row: usize,
    /// Batch vectors from one column to the next.
    pub col: usize,
}

impl Layout {
    /// A row-major map of `cols` columns.
    pub fn rows(cols: usize) -> Layout {
        Layout { row: cols, col: 1 }
    }

    /// The same map read transposed.
    pub fn t(self) -> Layout {
        Layout {
            row: self.col,
            col: self.row,
        }
    }

    /// One past the last scalar of an `m × n` map in this layout with `b` samples.
    fn end(self, (m, n): (usize, usize), b: usize) -> usize {
        match m * n {
            0 => 0,
            _ => ((m - 1) * self.row + (n - 1) * self.col + 1) * b,
        }
    }
}

/// Token maps `[fiber][numel][b]` regrouped by chunks of `w` samples, `[fiber][chunk]
/// [numel][w]`, lanes past `b` zero. A chunk of one fiber vertex is the unit of work of
/// `outer` and `dsoftmul`: their products then read whole cache lines from a working set
/// of one chunk, instead of striding over the batch.
pub(super) struct Chunked<T> {
    data: Vec<T>,
    /// Entries of one map.
    numel: usize,
    /// Lanes of an entry.
    w: usize,
    /// Chunks of one fiber vertex.
    chunks: usize,
}

impl<T: Real> Chunked<T> {
    /// `maps`, each `numel` batch vectors of `b` samples, regrouped by chunks of the
    /// lanes of one vector into a buffer of `scratch`: the fiber vertices in parallel.
    pub fn new(maps: &[T], numel: usize, b: usize, scratch: &mut Scratch<T>) -> Self {
        let w = lanes::<T>();
        let chunks = b.div_ceil(w);
        let fibers = maps.len().checked_div(numel * b).unwrap_or(0);
        let mut data = scratch.take(fibers * chunks * numel * w);
        let split = data
            .par_chunks_mut((chunks * numel * w).max(1))
            .take(fibers);
        split
            .zip(maps.par_chunks((numel * b).max(1)))
            .for_each(|(d, m)| {
                for (e, m) in m.chunks_exact(b).enumerate() {
                    for (c, m) in m.chunks(w).enumerate() {
                        let d = &mut d[(c * numel + e) * w..][..w];
                        copy_lanes(d, m);
                        d[m.len()..].fill(T::zero());
                    }
                }
            });
        Chunked {
            data,
            numel,
            w,
            chunks,
        }
    }

    /// Chunk `c` of fiber vertex `f`: `numel` entries of `w` lanes.
    pub fn get(&self, f: usize, c: usize) -> &[T] {
        let n = self.numel * self.w;
        &self.data[(f * self.chunks + c) * n..][..n]
    }

    /// Returns the buffer to `scratch`.
    pub fn free(self, scratch: &mut Scratch<T>) {
        scratch.give(self.data);
    }
}

/// Buffers that `outer` and `dsoftmul` regroup their maps into, kept from one call to the
/// next: once they have grown to the sizes a network needs, a training step neither
/// allocates nor clears memory for them.
#[derive(Clone, Debug, Default)]
pub struct Scratch<T> {
    free: Vec<Vec<T>>,
}

impl<T: Real> Scratch<T> {
    /// A buffer of at least `n` scalars, its contents left from earlier use: the smallest
    /// free one large enough, else the largest, grown.
    fn take(&mut self, n: usize) -> Vec<T> {
        let len = |i: &usize| self.free[*i].len();
        let all = 0..self.free.len();
        let fits = all.clone().filter(|i| len(i) >= n).min_by_key(len);
        let mut buf = match fits.or_else(|| all.max_by_key(len)) {
            Some(i) => self.free.swap_remove(i),
            None => Vec::new(),
        };
        if buf.len() < n {
            buf.resize(n, T::zero());
        }
        buf
    }

    /// Keeps `buf` for a later [`Scratch::take`].
    fn give(&mut self, buf: Vec<T>) {
        self.free.push(buf);
    }
}

/// `d[..s.len()] = s`, for a run of at most 16 lanes: whole vectors copied as arrays of
/// a known size, since a call to `memcpy` per entry would cost more than the copy.
#[inline(always)]
fn copy_lanes<T: Real>(d: &mut [T], s: &[T]) {
    match s.len() {
        16 => copy::<T, 16>(d, s),
        8 => copy::<T, 8>(d, s),
        4 => copy::<T, 4>(d, s),
        k => d[..k].copy_from_slice(s),
    }
}

/// `d[..W] = s[..W]`, as one array.
#[inline(always)]
fn copy<T: Real, const W: usize>(d: &mut [T], s: &[T]) {
    let d: &mut [T; W] = (&mut d[..W]).try_into().unwrap();
    *d = s[..W].try_into().unwrap();
}

/// Computes token maps chunk by chunk in parallel: `compute(f, c, w, chunk, work)` fills
/// chunk `c` (of `w` lanes, as [`Chunked`]) of the maps of fiber vertex `f` (those of
/// `outs[0]`, then `outs[1]`, …, `numels[o]` entries each, every scalar written), with
/// `work` scalars of scratch of its own, and each is copied into its lanes of `outs[o]`
/// (`[fiber][numel][b]`). A sample's results depend on its own lanes only, so they are
/// the same whatever the chunk width and the thread count.
pub(super) fn by_chunks<T: Real, const N: usize>(
    (outs, numels): ([&mut [T]; N], [usize; N]),
    b: usize,
    (scratch, work): (&mut Scratch<T>, usize),
    compute: impl Fn(usize, usize, usize, &mut [T], &mut [T]) + Sync,
) {
    let w = lanes::<T>();
    let chunks = b.div_ceil(w);
    let (per, work) = (numels.iter().sum::<usize>() * w, work.max(1));
    let tasks = chunks * outs[0].len().checked_div(numels[0] * b).unwrap_or(0);
    let (mut packed, mut scratch_work) = (scratch.take(tasks * per), scratch.take(tasks * work));
    let split = packed
        .par_chunks_mut(per.max(1))
        .zip(scratch_work.par_chunks_mut(work));
    split.take(tasks).enumerate().for_each(|(t, (p, work))| {
        compute(t / chunks, t % chunks, w, p, work);
    });
    let mut offset = 0;
    for (out, numel) in outs.into_iter().zip(numels) {
        let split = out.par_chunks_mut((numel * b).max(1));
        split
            .zip(packed.par_chunks((chunks * per).max(1)))
            .for_each(|(out, p)| {
                for (e, out) in out.chunks_exact_mut(b).enumerate() {
                    for (c, out) in out.chunks_mut(w).enumerate() {
                        let k = out.len();
                        copy_lanes(out, &p[c * per + offset + e * w..][..k]);
                    }
                }
            });
        offset += numel * w;
    }
    scratch.give(packed);
    scratch.give(scratch_work);
}

/// Rows × columns of a tile of [`products`]: eight sums of one vector of samples each,
/// loaded six vectors per eight products, which leaves registers to spare on AVX2.
const TILE: (usize, usize) = (4, 2);

/// `out_ij = (Σ_k x_ik ⊙ y_kj) · scale` (or without `scale`) for `i < m`, `j < n`, `k <
/// depth`: per sample, the `m × depth` by `depth × n` matrix product of two token maps
/// laid out as `xl` and `yl`, into the row-major `m × n` map `out` of `b`-sample batch
/// vectors (`m = out.len() / (n·b)`). Each entry sums over `k` in order from zero, bit for
/// bit a loop of elementwise products added into a zeroed `out`, whatever the instruction
/// set. A tile of 4 × 2 entries of one vector of samples stays in registers while `depth`
/// terms are added, so each loaded vector serves two or four products.
///
/// Hand-written: the samples are the innermost axis, so this is a batch of tiny matrix
/// products with the batch as the vector lanes, which no GEMM crate computes.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub(super) fn products<T: Real>(
    out: &mut [T],
    (n, depth, b): (usize, usize, usize),
    (x, xl): (&[T], Layout),
    (y, yl): (&[T], Layout),
    scale: Option<T>,
) {
    let m = out.len().checked_div(n * b).unwrap_or(0);
    assert!(xl.end((m, depth), b) <= x.len() && yl.end((depth, n), b) <= y.len());
    let maps = Maps {
        n,
        depth,
        b,
        x,
        xl,
        y,
        yl,
        scale,
    };
    match lanes::<T>() {
        16 => maps.sweep::<16>(out, m),
        8 => maps.sweep::<8>(out, m),
        4 => maps.sweep::<4>(out, m),
        _ => maps.sweep::<2>(out, m),
    }
}

/// The operands of one [`products`] call.
struct Maps<'a, T> {
    n: usize,
    depth: usize,
    b: usize,
    x: &'a [T],
    xl: Layout,
    y: &'a [T],
    yl: Layout,
    scale: Option<T>,
}

impl<T: Real> Maps<'_, T> {
    /// Every tile of the `m × n` output, with vectors of `V` lanes and what is left of
    /// the batch one sample at a time: for each tile position all chunks of samples in
    /// turn, so that they share the cache lines the tile reads.
    #[inline(always)]
    fn sweep<const V: usize>(&self, out: &mut [T], m: usize) {
        let (mi, nj) = TILE;
        let (full_m, full_n) = (m - m % mi, self.n - self.n % nj);
        for i in (0..m).step_by(mi) {
            for j in (0..self.n).step_by(nj) {
                match (i < full_m, j < full_n) {
                    (true, true) => self.chunks::<V, 4, 2>(out, i, j),
                    (true, false) => self.chunks::<V, 4, 1>(out, i, j),
                    (false, true) => (i..m).for_each(|i| self.chunks::<V, 1, 2>(out, i, j)),
                    (false, false) => (i..m).for_each(|i| self.chunks::<V, 1, 1>(out, i, j)),
                }
            }
        }
    }

    /// The `MI × NJ` tile at `(i, j)`, chunk by chunk of `V` samples, then sample by
    /// sample for the rest.
    #[inline(always)]
    fn chunks<const V: usize, const MI: usize, const NJ: usize>(
        &self,
        out: &mut [T],
        i: usize,
        j: usize,
    ) {
        let full = self.b - self.b % V;
        for s in (0..full).step_by(V) {
            self.tile::<V, MI, NJ>(out, (i, j, s));
        }
        for s in full..self.b {
            self.tile::<1, MI, NJ>(out, (i, j, s));
        }
    }

    /// Samples `s..s + W` of the `MI × NJ` entries from `(i, j)`.
    #[inline(always)]
    fn tile<const W: usize, const MI: usize, const NJ: usize>(
        &self,
        out: &mut [T],
        (i, j, s): (usize, usize, usize),
    ) {
        let Maps {
            b, x, xl, y, yl, ..
        } = *self;
        // SAFETY: `products` asserted that the last entry of each map ends inside its
        // slice, and every tile reads entries `(i, k)` of `x` with `i < m`, `k < depth`,
        // and `(k, j)` of `y` with `k < depth`, `j < n`, samples `s + W ≤ b`.
        let load = |map: &[T], at: usize| unsafe { map.as_ptr().add(at).cast::<[T; W]>().read() };
        let mut acc = [[[T::zero(); W]; NJ]; MI];
        for k in 0..self.depth {
            let yk: [[T; W]; NJ] =
                std::array::from_fn(|c| load(y, (k * yl.row + (j + c) * yl.col) * b + s));
            for (r, acc) in acc.iter_mut().enumerate() {
                let xv = load(x, ((i + r) * xl.row + k * xl.col) * b + s);
                for (acc, yv) in acc.iter_mut().zip(&yk) {
                    for l in 0..W {
                        acc[l] += xv[l] * yv[l];
                    }
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            for (c, acc) in acc.iter().enumerate() {
                let o = &mut out[((i + r) * self.n + j + c) * b + s..][..W];
                match self.scale {
                    Some(scale) => o.iter_mut().zip(acc).for_each(|(o, &a)| *o = a * scale),
                    None => o.copy_from_slice(acc),
                }
            }
        }
    }
}

/// `x ⟵ exp(x)` over a slice of arguments at most 0 (a softmax's scores less their
/// maximum). For `f32` a polynomial written out, which vectorises where a call to the C
/// library's `expf` cannot: within 2 ulp of `exp`, the same bits on every instruction
/// set (no fused multiply-adds), NaN for NaN, and below `e^-87.3` the value there instead
/// of a subnormal. For `f64` (gradient checks) the library's `exp`.
#[inline(always)]
pub(super) fn exp_nonpositive<T: Real>(x: &mut [T]) {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32`, so the slices are the same.
        let x = unsafe { &mut *(x as *mut [T] as *mut [f32]) };
        x.iter_mut().for_each(|x| *x = exp_f32(*x));
    } else {
        x.iter_mut().for_each(|x| *x = x.exp());
    }
}

/// `e^x` for `x ≤ 0` in `f32`: `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by a
/// polynomial of degree 7, times `2^n` built from its exponent bits.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer, in any ISA.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 in two parts; the first has few bits, so `n · LN2_HI` is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const LOWEST: f32 = -87.3;
    // Comparing, not `max`, so that NaN stays NaN.
    let x = if x < LOWEST { LOWEST } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = (p * r) * r + r + 1.0;
    // 2^n for n in -126..=0: a normal float's exponent field, n + 127, read from the low
    // bits of the float n + 127 + 2^23 (whose unit in the last place is 1), so that no
    // conversion to an integer stops the loop from vectorising. For NaN, some power of 2.
    let biased = (n + (127.0 + 8_388_608.0)).to_bits() & 0xff;
    let two_n = f32::from_bits(biased << 23);
    e * two_n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polynomial `exp` is within 2 ulp of the library's over the range softmax uses,
    /// exactly 1 at 0, and keeps NaN.
    #[test]
    fn exp_f32_is_within_two_ulp() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let (got, want) = (exp_f32(x), x.exp());
            let ulp = (got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs();
            worst = worst.max(ulp);
            x += 1.0e-3 + x.abs() * 1e-5;
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-1e30) > 0.0 && exp_f32(-1e30) < 1e-37);
        let mut v = [0.0f32, -1.0, -2.5];
        exp_nonpositive(&mut v);
        assert_eq!(v, [exp_f32(0.0), exp_f32(-1.0), exp_f32(-2.5)]);
    }
}
