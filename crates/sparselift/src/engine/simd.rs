//! The engine's innermost loops, compiled for several instruction sets and chosen at run
//! time (AVX-512, AVX2+FMA, NEON, or the portable baseline), so that a plain
//! `cargo build --release` is fast on every machine.
//!
//! The loops are written as plain Rust over fixed-size tiles for the compiler to
//! vectorise. Rust never contracts `a * b + c` into a fused multiply-add and never
//! reassociates sums, so every variant computes bit-identical results.

use crate::Real;
use multiversion::multiversion;

/// Scalars of a target block accumulated in registers at a time.
const TILE: usize = 64;

/// `z += a x`.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn axpy<T: Real>(a: T, x: &[T], z: &mut [T]) {
    for (z, &x) in z.iter_mut().zip(x) {
        *z += a * x;
    }
}

/// Partial sums of [`dot`]: enough independent chains to hide the add latency on every
/// vector width.
const LANES: usize = 32;

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

/// `z += Σ_j weight(j) · y[row(j)]` over the blocks `y[r·len .. (r+1)·len]`, `len =
/// z.len()`, for `j` in `0..count`: the sparse row of a scalar edge. The block of `z` is
/// kept in registers tile by tile while all rows stream past, instead of being loaded
/// and stored once per row. Per element, the sum runs over `j` in order: the same result
/// as `count` calls of [`axpy`].
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
pub fn gather_rows<T: Real>(
    z: &mut [T],
    y: &[T],
    count: usize,
    row: impl Fn(usize) -> usize,
    weight: impl Fn(usize) -> T,
) {
    let len = z.len();
    let mut start = 0;
    while start + TILE <= len {
        let mut acc = [T::zero(); TILE];
        acc.copy_from_slice(&z[start..start + TILE]);
        for j in 0..count {
            let (w, src) = (weight(j), &y[row(j) * len + start..][..TILE]);
            for i in 0..TILE {
                acc[i] += w * src[i];
            }
        }
        z[start..start + TILE].copy_from_slice(&acc);
        start += TILE;
    }
    if start < len {
        let zt = &mut z[start..];
        for j in 0..count {
            let (w, src) = (weight(j), &y[row(j) * len + start..(row(j) + 1) * len]);
            for (z, &s) in zt.iter_mut().zip(src) {
                *z += w * s;
            }
        }
    }
}
