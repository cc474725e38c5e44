//! The engine's innermost loops, compiled for several instruction sets and chosen at run
//! time (AVX-512, AVX2+FMA, NEON, or the portable baseline), so that a plain
//! `cargo build --release` is fast on every machine.
//!
//! The loops are written as plain Rust over fixed-size tiles for the compiler to
//! vectorise. Rust never contracts `a * b + c` into a fused multiply-add and never
//! reassociates sums, so every variant computes bit-identical results.

use crate::Real;
use multiversion::multiversion;
use multiversion::target::match_target;

/// Scalars of a target block accumulated in registers at a time: eight AVX-512
/// registers of f32. Wider tiles read each gathered row in longer runs, which the
/// hardware prefetchers follow (128 against 64: 1.5× on a random gather from a 16 MiB
/// block, one thread); on AVX2 the tile spills to the stack, which costs speed, not
/// results.
pub const TILE: usize = 128;

/// Rows ahead whose next tile is requested from memory while the current row is summed:
/// the loop's own loads keep too few cache misses in flight to cover the latency of a
/// random row in a block larger than the L2 cache (fused backward at n = 16384: 1.25×).
const AHEAD: usize = 8;

/// At row `j` of `count`, asks the cache for the `W` scalars of `data` from `at(j +
/// AHEAD)` on, if that row exists: a hint that neither reads memory nor faults, so any
/// address will do, and results cannot change.
#[inline(always)]
fn prefetch_ahead<T, const W: usize>(
    data: &[T],
    j: usize,
    count: usize,
    at: impl Fn(usize) -> usize,
) {
    if j + AHEAD >= count {
        return;
    }
    #[cfg(target_arch = "x86_64")]
    for line in (0..size_of::<[T; W]>()).step_by(64) {
        let p = data
            .as_ptr()
            .wrapping_add(at(j + AHEAD))
            .cast::<i8>()
            .wrapping_add(line);
        // SAFETY: prefetching has no architectural effect and never faults.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(p) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = (data, at);
}

/// Asks for `data`, about to be read once, without letting it displace the outer cache
/// levels: a sweep that streams one buffer past random rows of another keeps more of
/// those rows in the last-level cache (fused backward at n = 16384: 1.05×). A hint, as
/// [`prefetch_ahead`].
#[inline]
pub fn prefetch_once<T>(data: &[T]) {
    #[cfg(target_arch = "x86_64")]
    for line in (0..size_of_val(data)).step_by(64) {
        let p = data.as_ptr().cast::<i8>().wrapping_add(line);
        // SAFETY: prefetching has no architectural effect and never faults.
        unsafe { std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_NTA }>(p) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = data;
}

/// What a row kernel does with each finished tile of its output, in registers, before
/// storing it: an activation or its derivative fused into the pass. The kernels call it
/// inside their own instruction-set variants, where an `#[inline(always)]` method is
/// compiled with them (a closure with a loop is not inlined there, and runs as baseline
/// code: 2× slower on the readout's fused backward).
pub trait Finish<T> {
    /// Maps `out`, a finished tile; `ys` is the same tile of the source row for
    /// [`gather_rows_dots`], empty for [`gather_rows`].
    fn tile(&mut self, out: &mut [T], ys: &[T]);
    /// The sum of what it finished, for the finishes that keep one.
    fn total(&self) -> Option<T> {
        None
    }
}

/// Stores the output as it is.
pub struct Keep;

impl<T> Finish<T> for Keep {
    #[inline(always)]
    fn tile(&mut self, _: &mut [T], _: &[T]) {}
}

/// `finish(r)` on the first `len` scalars of each row `r` of `rows` (row stride
/// `stride`): the [`Finish`] of a block that another kernel (a GEMM) wrote, compiled here
/// for the instruction set.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn finish_rows<T: Real, F: Finish<T>>(
    rows: &mut [T],
    stride: usize,
    len: usize,
    finish: impl Fn(usize) -> F,
) {
    for (r, row) in rows.chunks_mut(stride).enumerate() {
        finish(r).tile(&mut row[..len], &[]);
    }
}

/// The register tile of what is left of a block after whole [`TILE`]s (batches of 16 to
/// 127 samples live entirely here).
const NARROW: usize = 16;

/// `z += a x`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn axpy<T: Real>(a: T, x: &[T], z: &mut [T]) {
    for (z, &x) in z.iter_mut().zip(x) {
        *z += a * x;
    }
}

/// Partial sums of [`dot`]: one AVX-512 register of f32. The fused backward keeps one
/// such vector per row in memory between tiles, and a single vector there beats two
/// (1.2× on that kernel at n = 16384); [`dot_rows`] hides the add latency with rows.
pub const LANES: usize = 16;

/// `Σ x_i y_i` with [`LANES`] interleaved partial sums, reduced pairwise — a fixed order,
/// so it vectorises and stays deterministic.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn dot<T: Real>(x: &[T], y: &[T]) -> T {
    let mut acc = [T::zero(); LANES];
    let (xc, yc) = (x.chunks_exact(LANES), y.chunks_exact(LANES));
    let (xr, yr) = (xc.remainder(), yc.remainder());
    for (a, b) in xc.zip(yc) {
        for i in 0..LANES {
            acc[i] += a[i] * b[i];
        }
    }
    reduce(acc, xr, yr)
}

/// Sums [`dot`]'s partial sums pairwise, then adds the remainder `Σ xr_i yr_i` in order.
#[inline(always)]
fn reduce<T: Real>(mut acc: [T; LANES], xr: &[T], yr: &[T]) -> T {
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for i in 0..width {
            let upper = acc[i + width];
            acc[i] += upper;
        }
    }
    let mut s = acc[0];
    for (&a, &b) in xr.iter().zip(yr) {
        s += a * b;
    }
    s
}

/// `sum += x` lane by lane, over `x`'s whole [`LANES`] in order: with [`sum_lanes`], the
/// sum of a block in exactly the order [`dot`] with a block of ones computes it.
#[inline(always)]
pub fn add_lanes<T: Real>(sum: &mut [T; LANES], x: &[T]) {
    for c in x.chunks_exact(LANES) {
        for l in 0..LANES {
            sum[l] += c[l];
        }
    }
}

/// The total of [`add_lanes`]'s partial sums, reduced as [`dot`] reduces its own.
#[inline(always)]
pub fn sum_lanes<T: Real>(sum: [T; LANES]) -> T {
    reduce(sum, &[], &[])
}

/// `gw_ok = Σ_r Σ_s g_o,r,s · y_k,r,s` for the `out × inp` matrix `gw`, `g` and `y` maps of
/// `out` and `inp` entries of `rows` batch vectors of `b` samples each (entry-major, so
/// that every tile of either is one contiguous run): the weight gradient of a `linear`
/// edge on token maps. Each entry sums [`LANES`] lanes of whole chunks of samples
/// over the rows and chunks in order, reduced as [`sum_lanes`] does, then adds the
/// samples past the last whole chunk in order: the same bits whatever the instruction set.
/// A tile of 4 × 2 entries of one vector stays in registers over all rows, so each loaded
/// vector serves two or four products.
///
/// Hand-written: the samples are the innermost axis of both operands, a product that no
/// GEMM crate takes without copying them out.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn row_products<T: Real>(gw: &mut [T], g: &[T], y: &[T], (out, inp, b): (usize, usize, usize)) {
    let rows = g.len().checked_div(out * b).unwrap_or(0);
    assert!(gw.len() == out * inp && g.len() == rows * out * b && y.len() == rows * inp * b);
    let maps = RowMaps {
        g,
        y,
        out,
        inp,
        b,
        rows,
    };
    match lanes::<T>() {
        16 => maps.all::<16>(gw),
        8 => maps.all::<8>(gw),
        4 => maps.all::<4>(gw),
        _ => maps.all::<2>(gw),
    }
}

/// The operands of one [`row_products`] call.
struct RowMaps<'a, T> {
    g: &'a [T],
    y: &'a [T],
    out: usize,
    inp: usize,
    b: usize,
    rows: usize,
}

impl<T: Real> RowMaps<'_, T> {
    /// Every tile of `gw` with vectors of `V` lanes.
    #[inline(always)]
    fn all<const V: usize>(&self, gw: &mut [T]) {
        let (full_o, full_k) = (self.out - self.out % 4, self.inp - self.inp % 2);
        for o in (0..self.out).step_by(4) {
            for k in (0..self.inp).step_by(2) {
                match (o < full_o, k < full_k) {
                    (true, true) => self.tile::<V, 4, 2>(gw, o, k),
                    (true, false) => self.tile::<V, 4, 1>(gw, o, k),
                    (false, true) => (o..self.out).for_each(|o| self.tile::<V, 1, 2>(gw, o, k)),
                    (false, false) => (o..self.out).for_each(|o| self.tile::<V, 1, 1>(gw, o, k)),
                }
            }
        }
    }

    /// The `MO × NK` entries of `gw` from `(o, k)`: their [`LANES`] lanes `V` at a time,
    /// then the samples past the last whole chunk.
    #[inline(always)]
    fn tile<const V: usize, const MO: usize, const NK: usize>(
        &self,
        gw: &mut [T],
        o: usize,
        k: usize,
    ) {
        let RowMaps {
            g,
            y,
            out: _,
            inp,
            b,
            rows,
        } = *self;
        let full = b - b % LANES;
        let mut lanes = [[[T::zero(); LANES]; NK]; MO];
        for v in (0..LANES).step_by(V) {
            // SAFETY: `row_products` asserted that `g` holds `out` entries of `rows` batch
            // vectors and `y` `inp` entries; every load is of entries `o + i < out`, `k + c <
            // inp`, rows `r < rows`, samples `s + v + V ≤ full ≤ b`.
            let load =
                |map: &[T], at: usize| unsafe { map.as_ptr().add(at).cast::<[T; V]>().read() };
            let mut acc = [[[T::zero(); V]; NK]; MO];
            for r in 0..rows {
                for s in (0..full).step_by(LANES) {
                    let ys: [[T; V]; NK] =
                        std::array::from_fn(|c| load(y, ((k + c) * rows + r) * b + s + v));
                    for (i, acc) in acc.iter_mut().enumerate() {
                        let gv = load(g, ((o + i) * rows + r) * b + s + v);
                        for (acc, yv) in acc.iter_mut().zip(&ys) {
                            for l in 0..V {
                                acc[l] += gv[l] * yv[l];
                            }
                        }
                    }
                }
            }
            for (lanes, acc) in lanes.iter_mut().zip(&acc) {
                for (lanes, acc) in lanes.iter_mut().zip(acc) {
                    lanes[v..v + V].copy_from_slice(acc);
                }
            }
        }
        for (i, lanes) in lanes.iter().enumerate() {
            for (c, &lanes) in lanes.iter().enumerate() {
                let mut tail = T::zero();
                for r in (0..rows).filter(|_| full < b) {
                    let gr = &g[((o + i) * rows + r) * b..][full..b];
                    let yr = &y[((k + c) * rows + r) * b..][full..b];
                    for (&a, &x) in gr.iter().zip(yr) {
                        tail += a * x;
                    }
                }
                gw[(o + i) * inp + k + c] = sum_lanes(lanes) + tail;
            }
        }
    }
}

/// The lanes of one vector of `T` in the widest instruction set this CPU runs: 2, 4, 8
/// or 16, for kernels that pick their register tiles by it.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn lanes<T>() -> usize {
    let bytes = match_target! {
        "x86_64+avx512f" => 64,
        "x86_64+avx2" => 32,
        _ => 16,
    };
    (bytes / size_of::<T>()).clamp(2, 16)
}

/// Rows of [`dot_rows`] computed together: independent accumulator chains that share
/// each load of `x`.
const ROWS: usize = 4;

/// `out(j, x · y[row(j)·len ..][..len])` for `j` in `0..count`, `len = x.len()`: the
/// weight gradient of a target's scalar edges. Each dot is computed exactly as [`dot`]
/// computes it (the same partial sums, reduced in the same order), [`ROWS`] rows at a time.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn dot_rows<T: Real>(
    x: &[T],
    y: &[T],
    count: usize,
    row: impl Fn(usize) -> usize,
    mut out: impl FnMut(usize, T),
) {
    let len = x.len();
    let full = len - len % LANES;
    let mut j = 0;
    while j + ROWS <= count {
        let [y0, y1, y2, y3]: [&[T]; ROWS] = std::array::from_fn(|r| &y[row(j + r) * len..][..len]);
        let (mut a0, mut a1, mut a2, mut a3) = (
            [T::zero(); LANES],
            [T::zero(); LANES],
            [T::zero(); LANES],
            [T::zero(); LANES],
        );
        for ((((xc, c0), c1), c2), c3) in x
            .chunks_exact(LANES)
            .zip(y0.chunks_exact(LANES))
            .zip(y1.chunks_exact(LANES))
            .zip(y2.chunks_exact(LANES))
            .zip(y3.chunks_exact(LANES))
        {
            for l in 0..LANES {
                a0[l] += xc[l] * c0[l];
                a1[l] += xc[l] * c1[l];
                a2[l] += xc[l] * c2[l];
                a3[l] += xc[l] * c3[l];
            }
        }
        for (r, (acc, yr)) in [(a0, y0), (a1, y1), (a2, y2), (a3, y3)]
            .into_iter()
            .enumerate()
        {
            out(j + r, reduce(acc, &x[full..], &yr[full..]));
        }
        j += ROWS;
    }
    for j in j..count {
        out(j, dot(x, &y[row(j) * len..][..len]));
    }
}

/// `z += Σ_j weight(j) · y[row(j)·len ..][..len]` for `j` in `0..count`, `len =
/// z.len()` (`z = Σ …` with `overwrite`): the sparse row of a scalar edge. The block of `z` is kept in registers tile
/// by tile while all rows stream past, instead of being loaded and stored once per row.
/// Per element, the sum runs over `j` in order: the same result as `count` calls of
/// [`axpy`]; then `finish` on each finished piece of `z`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn gather_rows<T: Real>(
    z: &mut [T],
    overwrite: bool,
    y: &[T],
    count: usize,
    row: impl Fn(usize) -> usize,
    weight: impl Fn(usize) -> T,
    finish: &mut impl Finish<T>,
) {
    let len = z.len();
    if len == 1 {
        // Batch-1 inference: a gather-dot, one scalar per row.
        let mut acc = if overwrite { T::zero() } else { z[0] };
        for j in 0..count {
            acc += weight(j) * y[row(j)];
        }
        let mut acc = [acc];
        finish.tile(&mut acc, &[]);
        z[0] = acc[0];
        return;
    }
    let mut start = 0;
    while start + TILE <= len {
        let mut acc = [T::zero(); TILE];
        if !overwrite {
            acc.copy_from_slice(&z[start..start + TILE]);
        }
        for j in 0..count {
            prefetch_ahead::<T, TILE>(y, j, count, |r| row(r) * len + start);
            let (w, src) = (weight(j), &y[row(j) * len + start..][..TILE]);
            for i in 0..TILE {
                acc[i] += w * src[i];
            }
        }
        finish.tile(&mut acc, &[]);
        z[start..start + TILE].copy_from_slice(&acc);
        start += TILE;
    }
    while start + NARROW <= len {
        let mut acc = [T::zero(); NARROW];
        if !overwrite {
            acc.copy_from_slice(&z[start..start + NARROW]);
        }
        for j in 0..count {
            let (w, src) = (weight(j), &y[row(j) * len + start..][..NARROW]);
            for i in 0..NARROW {
                acc[i] += w * src[i];
            }
        }
        finish.tile(&mut acc, &[]);
        z[start..start + NARROW].copy_from_slice(&acc);
        start += NARROW;
    }
    if start < len {
        let zt = &mut z[start..];
        if overwrite {
            zt.fill(T::zero());
        }
        for j in 0..count {
            let (w, src) = (weight(j), &y[row(j) * len + start..(row(j) + 1) * len]);
            for (z, &s) in zt.iter_mut().zip(src) {
                *z += w * s;
            }
        }
        finish.tile(zt, &[]);
    }
}

/// `z += Σ_j weight(j) · row(j)[..len]` for `j` in `0..count`, `len = z.len()`, each
/// `row(j)` at least `len` long: the rows of any offsets (a convolution's shifted rows, a
/// token mix's token rows). As [`gather_rows`], the block of `z` stays in registers tile
/// by tile while the rows stream past, and per element the sum runs over `j` in order:
/// the same result as `count` calls of [`axpy`].
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn axpy_rows<'a, T: Real + 'a>(
    z: &mut [T],
    count: usize,
    term: impl Fn(usize) -> (T, &'a [T]),
) {
    let len = z.len();
    let mut start = 0;
    while start + TILE <= len {
        let mut acc = [T::zero(); TILE];
        acc.copy_from_slice(&z[start..start + TILE]);
        for j in 0..count {
            let (w, row) = term(j);
            let src = &row[start..start + TILE];
            for i in 0..TILE {
                acc[i] += w * src[i];
            }
        }
        z[start..start + TILE].copy_from_slice(&acc);
        start += TILE;
    }
    while start + NARROW <= len {
        let mut acc = [T::zero(); NARROW];
        acc.copy_from_slice(&z[start..start + NARROW]);
        for j in 0..count {
            let (w, row) = term(j);
            let src = &row[start..start + NARROW];
            for i in 0..NARROW {
                acc[i] += w * src[i];
            }
        }
        z[start..start + NARROW].copy_from_slice(&acc);
        start += NARROW;
    }
    if start < len {
        let zt = &mut z[start..];
        for j in 0..count {
            let (w, row) = term(j);
            for (z, &s) in zt.iter_mut().zip(&row[start..len]) {
                *z += w * s;
            }
        }
    }
}

/// The two gradients of a source's sparse scalar edges in one sweep: `gy += Σ_j weight(j)
/// · g_j` exactly as [`gather_rows`] computes it, and `out(j, g_j · ys)` exactly as
/// [`dot`] computes it, where `g_j = gz[row(j)·len ..][..len]`, `len = gy.len()`, a
/// multiple of [`LANES`] (`gy = Σ …` with `overwrite`). Each `g_j` is loaded once for
/// both; then `finish` on each finished tile of `gy` with the same tile of `ys`, in order
/// along the block. `partial` is scratch.
#[allow(clippy::too_many_arguments)]
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn gather_rows_dots<T: Real>(
    gy: &mut [T],
    overwrite: bool,
    ys: &[T],
    gz: &[T],
    count: usize,
    row: impl Fn(usize) -> usize,
    weight: impl Fn(usize) -> T,
    partial: &mut Vec<[T; LANES]>,
    mut out: impl FnMut(usize, T),
    finish: &mut impl Finish<T>,
) {
    let len = gy.len();
    assert!(
        len.is_multiple_of(LANES),
        "gather_rows_dots needs whole lanes"
    );
    partial.clear();
    partial.resize(count, [T::zero(); LANES]);
    let mut start = 0;
    let tiles = (overwrite, ys, gz, &row, &weight);
    dots_tiles::<T, { 8 * LANES }>(gy, &mut start, tiles, partial, finish);
    dots_tiles::<T, { 2 * LANES }>(gy, &mut start, tiles, partial, finish);
    dots_tiles::<T, LANES>(gy, &mut start, tiles, partial, finish);
    for (j, p) in partial.iter().enumerate() {
        out(j, reduce(*p, &[], &[]));
    }
}

/// The tiles of `W` scalars of [`gather_rows_dots`] from `start` on, as far as they fit.
#[inline(always)]
#[allow(clippy::type_complexity)]
fn dots_tiles<T: Real, const W: usize>(
    gy: &mut [T],
    start: &mut usize,
    (overwrite, ys, gz, row, weight): (
        bool,
        &[T],
        &[T],
        &impl Fn(usize) -> usize,
        &impl Fn(usize) -> T,
    ),
    partial: &mut [[T; LANES]],
    finish: &mut impl Finish<T>,
) {
    let len = gy.len();
    while *start + W <= len {
        let s = *start;
        let mut acc = [T::zero(); W];
        if !overwrite {
            acc.copy_from_slice(&gy[s..s + W]);
        }
        // A copy the compiler keeps in registers rather than reloading once per row.
        let yt: [T; W] = ys[s..s + W].try_into().expect("a whole tile");
        let count = partial.len();
        for (j, p) in partial.iter_mut().enumerate() {
            prefetch_ahead::<T, W>(gz, j, count, |r| row(r) * len + s);
            let (w, g) = (weight(j), &gz[row(j) * len + s..][..W]);
            for i in 0..W {
                acc[i] += w * g[i];
            }
            let mut lanes = *p;
            for h in 0..W / LANES {
                for l in 0..LANES {
                    lanes[l] += g[h * LANES + l] * yt[h * LANES + l];
                }
            }
            *p = lanes;
        }
        finish.tile(&mut acc, &yt);
        gy[s..s + W].copy_from_slice(&acc);
        *start += W;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    fn random(rng: &mut rand_chacha::ChaCha8Rng, len: usize) -> Vec<f32> {
        (0..len).map(|_| rng.random_range(-1.0..1.0)).collect()
    }

    /// The multi-row and tiled loops compute exactly what their one-row definitions do,
    /// on every length: full tiles, remainders, a single column (batch-1 inference).
    #[test]
    fn row_kernels_equal_their_definitions_bit_for_bit() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for len in [1, 3, 16, 31, 32, 64, 100, 160, 256, 300, 384] {
            for count in [0, 1, 3, 4, 5, 9] {
                let rows = 7;
                let y = random(&mut rng, rows * len);
                let x = random(&mut rng, len);
                let idx: Vec<usize> = (0..count).map(|_| rng.random_range(0..rows)).collect();
                let w = random(&mut rng, count);

                let mut dots = vec![f32::NAN; count];
                dot_rows(&x, &y, count, |j| idx[j], |j, v| dots[j] = v);
                for (j, &d) in dots.iter().enumerate() {
                    let want = dot(&x, &y[idx[j] * len..][..len]);
                    assert_eq!(d.to_bits(), want.to_bits(), "dot_rows len {len} row {j}");
                    let exact: f64 = x
                        .iter()
                        .zip(&y[idx[j] * len..])
                        .map(|(&a, &b)| a as f64 * b as f64)
                        .sum();
                    assert!(
                        (d as f64 - exact).abs() < 1e-4,
                        "dot len {len}: {d} vs {exact}"
                    );
                }

                let mut z = x.clone();
                gather_rows(&mut z, false, &y, count, |j| idx[j], |j| w[j], &mut Keep);
                let mut fresh = vec![f32::NAN; len];
                gather_rows(&mut fresh, true, &y, count, |j| idx[j], |j| w[j], &mut Keep);
                let mut want_fresh = vec![0.0; len];
                for j in 0..count {
                    axpy(w[j], &y[idx[j] * len..][..len], &mut want_fresh);
                }
                assert!(
                    fresh
                        .iter()
                        .zip(&want_fresh)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "gather_rows overwriting, len {len} count {count}"
                );
                let mut want = x.clone();
                for j in 0..count {
                    axpy(w[j], &y[idx[j] * len..][..len], &mut want);
                }
                assert!(
                    z.iter().zip(&want).all(|(a, b)| a.to_bits() == b.to_bits()),
                    "gather_rows len {len} count {count}"
                );

                if len % LANES == 0 {
                    // Fused: the same input gradient and, per row, the same dot.
                    let ys = random(&mut rng, len);
                    let mut gy = x.clone();
                    let mut fused = vec![f32::NAN; count];
                    let (row, wt) = (|j: usize| idx[j], |j: usize| w[j]);
                    let mut scratch = Vec::new();
                    gather_rows_dots(
                        &mut gy,
                        false,
                        &ys,
                        &y,
                        count,
                        row,
                        wt,
                        &mut scratch,
                        |j, v| fused[j] = v,
                        &mut Keep,
                    );
                    assert!(
                        gy.iter()
                            .zip(&want)
                            .all(|(a, b)| a.to_bits() == b.to_bits()),
                        "gather_rows_dots len {len} count {count}"
                    );
                    for (j, &d) in fused.iter().enumerate() {
                        let want = dot(&y[idx[j] * len..][..len], &ys);
                        assert_eq!(d.to_bits(), want.to_bits(), "fused dot len {len} row {j}");
                    }
                }
            }
        }
    }
}
