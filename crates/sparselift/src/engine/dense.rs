//! Complete bipartite edges as dense matrix products (docs/design.md §3), through the
//! `gemm` crate.
//!
//! A complete graph's weights, in CSR order, are a strided matrix `A` (`m × k`) such that
//! the forward pass is `Z (m × n) += A · Y (k × n)`; the input gradient is then
//! `gY += Aᵀ gZ` and the weight gradient `gA = gZ Yᵀ`. Three op shapes have such a form:
//! `scalar` (rows: targets, columns: sources), `linear` from a single source (rows:
//! target × output), and `linear` from scalar sources into a single target. Other ops
//! fall back to the per-edge loops of [`super::propagate`].
//!
//! Parallelism splits output rows into blocks of a fixed size, each a single-threaded
//! GEMM, and never splits a reduction: results are bit-identical on any thread count.

use super::edge::EdgePass;
use crate::op::Layout;
use crate::simd::{self, Finish};
use crate::Real;
use gemm::Parallelism;
use rayon::prelude::*;

/// Multiply-adds per parallel task: enough to amortise packing and scheduling, small
/// enough to balance many cores.
const BLOCK_WORK: usize = 1 << 22;

/// Rows per parallel block: a fixed function of the problem size, never of the threads.
/// A row costs its `k·n` multiply-adds plus its `n` outputs' memory traffic.
fn block_rows(k: usize, n: usize) -> usize {
    (BLOCK_WORK / ((k + 16) * n).max(1)).clamp(64, 1 << 14)
}

/// Depth per block when a product with few rows is split along its reduction instead:
/// a multiple of 256, a fixed function of the problem size.
fn block_depth(m: usize, n: usize) -> usize {
    (BLOCK_WORK / (m * n).max(1)).next_multiple_of(256)
}

/// `D (m × n) ⟵ [D +] L (m × k) · R (k × n)` for strided matrices, split into row blocks,
/// or, when all rows fit one block, into depth blocks summed in order afterwards. Then
/// `finish(i0, rows)` on each finished block of rows from row `i0` on, while in cache.
#[allow(clippy::too_many_arguments)]
fn gemm_rows<T: Real>(
    m: usize,
    n: usize,
    k: usize,
    d: &mut [T],
    d_rs: usize,
    accumulate: bool,
    l: &[T],
    (l_rs, l_cs): (usize, usize),
    r: &[T],
    (r_rs, r_cs): (usize, usize),
    finish: &(impl Fn(usize, &mut [T]) + Sync),
) {
    if m == 0 || n == 0 {
        return;
    }
    // A single row's stride is arbitrary (a `1 × n` weight matrix has both strides 1), but
    // the row blocks below are cut at multiples of it.
    let d_rs = if m == 1 { n } else { d_rs };
    // The bounds the unsafe calls below rely on.
    let last = |rows: usize, cols: usize, rs: usize, cs: usize| (rows - 1) * rs + (cols - 1) * cs;
    assert!(
        k == 0 || last(m, k, l_rs, l_cs) < l.len(),
        "gemm: lhs {m}×{k} at ({l_rs}, {l_cs}) exceeds {}",
        l.len()
    );
    assert!(
        k == 0 || last(k, n, r_rs, r_cs) < r.len(),
        "gemm: rhs {k}×{n} at ({r_rs}, {r_cs}) exceeds {}",
        r.len()
    );
    assert!(
        last(m, n, d_rs, 1) < d.len() && n <= d_rs,
        "gemm: dst {m}×{n} at {d_rs} exceeds {}",
        d.len()
    );
    // One single-threaded product of rows `i0 .. i0 + rows` and depth `k0 .. k0 + depth`
    // into `dst` (row stride `dst_rs`).
    let block = |dst: &mut [T],
                 dst_rs: usize,
                 add: bool,
                 i0: usize,
                 rows: usize,
                 k0: usize,
                 depth: usize| {
        // SAFETY: `dst` holds `rows` rows of stride `dst_rs` ≥ n (checked by the callers
        // below); `l` holds rows `i0 .. i0 + rows` at `l_rs`, columns `k0 .. k0 + depth` at
        // `l_cs`, and `r` rows `k0 .. k0 + depth` at `r_rs`, columns `0..n` at `r_cs`:
        // sub-blocks of the bounds asserted above.
        unsafe {
            gemm::gemm(
                rows,
                n,
                depth,
                dst.as_mut_ptr(),
                1,
                dst_rs as isize,
                add,
                l.as_ptr().add(i0 * l_rs + k0 * l_cs),
                l_cs as isize,
                l_rs as isize,
                r.as_ptr().add(k0 * r_rs),
                r_cs as isize,
                r_rs as isize,
                T::one(),
                T::one(),
                false,
                false,
                false,
                Parallelism::None,
            )
        }
    };
    let rows = block_rows(k, n);
    let depth = block_depth(m, n);
    if m <= rows && k >= 2 * depth {
        let parts: Vec<Vec<T>> = (0..k)
            .step_by(depth)
            .collect::<Vec<_>>()
            .into_par_iter()
            .map(|k0| {
                let mut part = vec![T::zero(); m * n];
                block(&mut part, n, false, 0, m, k0, depth.min(k - k0));
                part
            })
            .collect();
        for (i, row) in d.chunks_mut(d_rs).take(m).enumerate() {
            let row = &mut row[..n];
            if !accumulate {
                row.fill(T::zero());
            }
            for part in &parts {
                row.iter_mut()
                    .zip(&part[i * n..][..n])
                    .for_each(|(d, &p)| *d += p);
            }
        }
        finish(0, d);
        return;
    }
    d.par_chunks_mut(rows * d_rs)
        .enumerate()
        .for_each(|(i, db)| {
            let m_blk = (db.len() / d_rs).min(m - i * rows);
            block(db, d_rs, accumulate, i * rows, m_blk, 0, k);
            finish(i * rows, db);
        });
}

/// Forward pass of a complete edge of GEMM form `g` (`z` overwritten unless
/// `accumulate`).
pub(super) fn forward<T: Real>(
    p: &EdgePass<'_, T>,
    g: &Layout,
    y: &[T],
    z: &mut [T],
    accumulate: bool,
) {
    gemm_rows(
        g.m,
        g.n,
        g.k,
        z,
        g.z_rs,
        accumulate,
        p.w,
        (g.a_rs, g.a_cs),
        y,
        (g.y_rs, 1),
        &|_, _| (),
    );
}

/// [`forward`] into `out` (overwritten), with `finish(t)` on the rows of each target `t`
/// as each block of rows comes out of the GEMM: an activation fused into the pass.
pub(super) fn forward_fused<T: Real, F: Finish<T>>(
    p: &EdgePass<'_, T>,
    g: &Layout,
    y: &[T],
    out: &mut [T],
    finish: impl Fn(usize) -> F + Sync,
) {
    let rows_per_target = g.m / p.bip.n_dst().max(1);
    gemm_rows(
        g.m,
        g.n,
        g.k,
        out,
        g.z_rs,
        false,
        p.w,
        (g.a_rs, g.a_cs),
        y,
        (g.y_rs, 1),
        &|i0, rows| simd::finish_rows(rows, g.z_rs, g.n, |r| finish((i0 + r) / rows_per_target)),
    );
}

/// Input gradient of a complete edge: `gY += Aᵀ gZ` (`gY =` unless `accumulate`).
pub(super) fn backward_input<T: Real>(
    p: &EdgePass<'_, T>,
    g: &Layout,
    gz: &[T],
    gy: &mut [T],
    accumulate: bool,
) {
    gemm_rows(
        g.k,
        g.n,
        g.m,
        gy,
        g.y_rs,
        accumulate,
        p.w,
        (g.a_cs, g.a_rs),
        gz,
        (g.z_rs, 1),
        &|_, _| (),
    );
}

/// Weight gradient of a complete edge: `gA = gZ Yᵀ`, written in the weights' layout.
pub(super) fn weight_grad<T: Real>(g: &Layout, gz: &[T], y: &[T], gw: &mut [T]) {
    if g.a_cs == 1 {
        gemm_rows(
            g.m,
            g.k,
            g.n,
            gw,
            g.a_rs,
            false,
            gz,
            (g.z_rs, 1),
            y,
            (1, g.y_rs),
            &|_, _| (),
        );
    } else {
        // Column-major weights (a_rs = 1): compute gAᵀ = Y gZᵀ, which is row-major.
        gemm_rows(
            g.k,
            g.m,
            g.n,
            gw,
            g.a_cs,
            false,
            y,
            (g.y_rs, 1),
            gz,
            (1, g.z_rs),
            &|_, _| (),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// Both decompositions — row blocks, and depth blocks for a product with few rows —
    /// agree with a plain triple loop and give the same bits on one and two threads.
    #[test]
    fn row_and_depth_blocks_are_exact_and_thread_independent() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        // (m, k, n): many rows; few rows and a deep reduction (k ≥ 2 · block_depth).
        for (m, k, n) in [(300, 40, 24), (3, 2 * block_depth(3, 8) + 100, 8)] {
            assert_eq!(m <= block_rows(k, n) && k >= 2 * block_depth(m, n), m == 3);
            let l: Vec<f32> = (0..m * k).map(|_| rng.random_range(-1.0..1.0)).collect();
            let r: Vec<f32> = (0..k * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let d0: Vec<f32> = (0..m * n).map(|_| rng.random_range(-1.0..1.0)).collect();
            let run = |threads: usize| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let mut d = d0.clone();
                pool.install(|| {
                    gemm_rows(m, n, k, &mut d, n, true, &l, (k, 1), &r, (n, 1), &|_, _| ())
                });
                d
            };
            let (one, two) = (run(1), run(2));
            assert!(one
                .iter()
                .zip(&two)
                .all(|(a, b)| a.to_bits() == b.to_bits()));
            for i in 0..m {
                for j in 0..n {
                    let exact: f64 = d0[i * n + j] as f64
                        + (0..k)
                            .map(|p| l[i * k + p] as f64 * r[p * n + j] as f64)
                            .sum::<f64>();
                    let got = one[i * n + j] as f64;
                    assert!(
                        (got - exact).abs() < 1e-3,
                        "({m}, {k}, {n})[{i}][{j}]: {got} vs {exact}"
                    );
                }
            }
        }
    }
}
