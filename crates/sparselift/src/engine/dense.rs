//! Complete bipartite edges as dense matrix products (DESIGN "Kernels"), through the
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

use super::propagate::EdgePass;
use super::Kernel;
use crate::Real;
use gemm::Parallelism;
use rayon::prelude::*;

/// `Z (m × n) += A (m × k) · Y (k × n)`, with `Y` and `Z` row-major (`y_rs`, `z_rs` row
/// strides, unit column stride) and `A` at strides `(a_rs, a_cs)`.
struct Layout {
    m: usize,
    k: usize,
    n: usize,
    a_rs: usize,
    a_cs: usize,
    y_rs: usize,
    z_rs: usize,
}

fn layout<T>(p: &EdgePass<'_, T>) -> Option<Layout> {
    let (ns, nt, b) = (p.bip.n_src(), p.bip.n_dst(), p.batch);
    match *p.kernel {
        Kernel::Scalar => Some(Layout {
            m: nt,
            k: ns,
            n: p.src_numel * b,
            a_rs: ns,
            a_cs: 1,
            y_rs: p.src_numel * b,
            z_rs: p.dst_numel * b,
        }),
        Kernel::Linear { rows: 1, inp, out } if ns == 1 => Some(Layout {
            m: nt * out,
            k: inp,
            n: b,
            a_rs: inp,
            a_cs: 1,
            y_rs: b,
            z_rs: b,
        }),
        Kernel::Linear {
            rows: 1,
            inp: 1,
            out,
        } if nt == 1 => Some(Layout {
            m: out,
            k: ns,
            n: b,
            a_rs: 1,
            a_cs: out,
            y_rs: b,
            z_rs: b,
        }),
        _ => None,
    }
}

/// Rows per parallel block: a fixed function of the problem size, never of the threads.
fn block_rows(k: usize, n: usize) -> usize {
    ((1usize << 18) / (k * n).max(1)).clamp(16, 1 << 12)
}

/// `D (m × n) ⟵ [D +] L (m × k) · R (k × n)` for strided matrices, split into row blocks.
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
) {
    if m == 0 || n == 0 {
        return;
    }
    // A single row's stride is arbitrary (a `1 × n` weight matrix has both strides 1), but
    // the row blocks below are cut at multiples of it.
    let d_rs = if m == 1 { n } else { d_rs };
    // The bounds the unsafe call below relies on.
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
    let rows = block_rows(k, n);
    d.par_chunks_mut(rows * d_rs)
        .enumerate()
        .for_each(|(i, db)| {
            let m_blk = (db.len() / d_rs).min(m - i * rows);
            let l_off = i * rows * l_rs;
            // SAFETY: every index touched is inside the slices: `db` holds `m_blk` rows of
            // stride `d_rs` ≥ n; `l` holds rows `i·rows .. i·rows + m_blk` at `l_rs`, columns
            // `0..k` at `l_cs`; `r` holds `k × n` at `(r_rs, r_cs)` — the callers' layouts.
            unsafe {
                gemm::gemm(
                    m_blk,
                    n,
                    k,
                    db.as_mut_ptr(),
                    1,
                    d_rs as isize,
                    accumulate,
                    l.as_ptr().add(l_off),
                    l_cs as isize,
                    l_rs as isize,
                    r.as_ptr(),
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
        });
}

/// Forward pass of a complete edge; false when its op has no GEMM form.
pub(super) fn forward<T: Real>(p: &EdgePass<'_, T>, y: &[T], z: &mut [T]) -> bool {
    let Some(g) = layout(p) else { return false };
    gemm_rows(
        g.m,
        g.n,
        g.k,
        z,
        g.z_rs,
        true,
        p.w,
        (g.a_rs, g.a_cs),
        y,
        (g.y_rs, 1),
    );
    true
}

/// Input gradient of a complete edge: `gY += Aᵀ gZ`.
pub(super) fn backward_input<T: Real>(p: &EdgePass<'_, T>, gz: &[T], gy: &mut [T]) -> bool {
    let Some(g) = layout(p) else { return false };
    gemm_rows(
        g.k,
        g.n,
        g.m,
        gy,
        g.y_rs,
        true,
        p.w,
        (g.a_cs, g.a_rs),
        gz,
        (g.z_rs, 1),
    );
    true
}

/// Weight gradient of a complete edge: `gA = gZ Yᵀ`, written in the weights' layout.
pub(super) fn weight_grad<T: Real>(p: &EdgePass<'_, T>, gz: &[T], y: &[T], gw: &mut [T]) -> bool {
    let Some(g) = layout(p) else { return false };
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
        );
    }
    true
}
