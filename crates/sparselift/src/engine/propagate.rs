//! Propagation over one base edge: the lifted edges' ops applied fiber to fiber.
//!
//! Written by hand because no crate does sparse-times-dense with per-edge bilinear ops:
//! the forward pass and the weight gradient walk targets in CSR order, the input gradient
//! walks sources in CSC order, so every parallel task writes its own disjoint slice — no
//! atomics, and the same floating-point result on any thread count. Complete graphs go to
//! [`super::dense`] (a GEMM) when their op allows it.

use super::dense;
use super::simd;
use super::Kernel;
use crate::lift::Bipartite;
use crate::Real;
use rayon::prelude::*;

/// One base edge ready to propagate: its op, lifted edges and weights.
pub(super) struct EdgePass<'a, T> {
    pub kernel: &'a Kernel,
    pub bip: &'a Bipartite,
    pub w: &'a [T],
    /// Weights per lifted edge.
    pub wn: usize,
    /// Scalars per sample in a source block and in a pre-activation block.
    pub src_numel: usize,
    pub dst_numel: usize,
    pub batch: usize,
}

/// Calls `f(weight index, source)` for every lifted edge into target `t`, in CSR order.
#[inline]
fn in_edges(bip: &Bipartite, t: usize, mut f: impl FnMut(usize, usize)) {
    match bip.csr() {
        Some((off, src)) => {
            (off[t] as usize..off[t + 1] as usize).for_each(|j| f(j, src[j] as usize))
        }
        None => (0..bip.n_src()).for_each(|s| f(t * bip.n_src() + s, s)),
    }
}

/// Calls `f(weight index, target)` for every lifted edge out of source `s`, in CSC order.
#[inline]
fn out_edges(bip: &Bipartite, s: usize, mut f: impl FnMut(usize, usize)) {
    match bip.csc() {
        Some((off, dst, perm)) => (off[s] as usize..off[s + 1] as usize)
            .for_each(|j| f(perm[j] as usize, dst[j] as usize)),
        None => (0..bip.n_dst()).for_each(|t| f(t * bip.n_src() + s, t)),
    }
}

/// Splits `buf` (laid out target by target, `per_edge` scalars per lifted edge) into the
/// slices of consecutive runs of `chunk` targets: `(first target, slice)`.
pub(super) fn split_by_targets<'a, T>(
    bip: &Bipartite,
    buf: &'a mut [T],
    per_edge: usize,
    chunk: usize,
) -> Vec<(usize, &'a mut [T])> {
    let mut out = Vec::with_capacity(bip.n_dst().div_ceil(chunk));
    let mut rest = buf;
    for t0 in (0..bip.n_dst()).step_by(chunk) {
        let t1 = (t0 + chunk).min(bip.n_dst());
        let len: usize = (t0..t1).map(|t| bip.in_degree(t)).sum::<usize>() * per_edge;
        let (head, tail) = std::mem::take(&mut rest).split_at_mut(len);
        out.push((t0, head));
        rest = tail;
    }
    out
}

/// Targets per parallel task: enough work to amortise scheduling.
fn grain(work_per_item: usize) -> usize {
    (1 << 17) / work_per_item.max(1) + 1
}

impl<T: Real> EdgePass<'_, T> {
    fn wt(&self, j: usize) -> &[T] {
        &self.w[j * self.wn..][..self.wn]
    }

    /// `z_t += Σ_{s → t} M(w_st, y_s)` for every target `t`; with `overwrite`, `z_t =`:
    /// the first edge into a buffer spares the pass that would zero it.
    pub fn forward(&self, y: &[T], z: &mut [T], overwrite: bool) {
        if self.bip.is_complete() && dense::forward(self, y, z, !overwrite) {
            return;
        }
        let (sb, db, b) = (
            self.src_numel * self.batch,
            self.dst_numel * self.batch,
            self.batch,
        );
        let work = db * (self.bip.num_edges() / self.bip.n_dst().max(1)).max(1);
        z.par_chunks_mut(db)
            .with_min_len(grain(work))
            .enumerate()
            .for_each(|(t, zt)| match (self.kernel, self.bip.csr()) {
                // The hot case: a scalar edge sums whole source blocks, weighted.
                (Kernel::Scalar, Some((off, src))) => {
                    let a = off[t] as usize;
                    let count = off[t + 1] as usize - a;
                    let (row, w) = (|j: usize| src[a + j] as usize, |j: usize| self.w[a + j]);
                    simd::gather_rows(zt, overwrite, y, count, row, w);
                }
                _ => {
                    if overwrite {
                        zt.fill(T::zero());
                    }
                    in_edges(self.bip, t, |j, s| {
                        self.kernel.forward(self.wt(j), &y[s * sb..][..sb], zt, b)
                    })
                }
            });
    }

    /// `gy_s += Σ_{s → t} Mᵀ(w_st, gz_t)` for every source `s`; with `overwrite`, `gy_s =`.
    pub fn backward_input(&self, gz: &[T], gy: &mut [T], overwrite: bool) {
        if self.bip.is_complete() && dense::backward_input(self, gz, gy, !overwrite) {
            return;
        }
        let (sb, db, b) = (
            self.src_numel * self.batch,
            self.dst_numel * self.batch,
            self.batch,
        );
        let work = sb * (self.bip.num_edges() / self.bip.n_src().max(1)).max(1);
        // Scalar weights in CSC order, read in sequence by the loop below instead of
        // through the permutation once per register tile.
        let w_csc: Vec<T> = match (self.kernel, self.bip.csc()) {
            (Kernel::Scalar, Some((_, _, perm))) => perm
                .par_iter()
                .with_min_len(1 << 14)
                .map(|&p| self.w[p as usize])
                .collect(),
            _ => Vec::new(),
        };
        gy.par_chunks_mut(sb)
            .with_min_len(grain(work))
            .enumerate()
            .for_each(|(s, gys)| match (self.kernel, self.bip.csc()) {
                (Kernel::Scalar, Some((off, dst, _))) => {
                    let a = off[s] as usize;
                    let count = off[s + 1] as usize - a;
                    let row = |j: usize| dst[a + j] as usize;
                    let w = |j: usize| w_csc[a + j];
                    simd::gather_rows(gys, overwrite, gz, count, row, w);
                }
                _ => {
                    if overwrite {
                        gys.fill(T::zero());
                    }
                    out_edges(self.bip, s, |j, t| {
                        self.kernel
                            .backward_input(self.wt(j), &gz[t * db..][..db], gys, b)
                    })
                }
            });
    }

    /// `gw_st = ∂⟨gz_t, M(w_st, y_s)⟩/∂w_st` for every lifted edge.
    pub fn weight_grad(&self, gz: &[T], y: &[T], gw: &mut [T]) {
        if self.wn == 0 || (self.bip.is_complete() && dense::weight_grad(self, gz, y, gw)) {
            return;
        }
        let (sb, db, b, wn) = (
            self.src_numel * self.batch,
            self.dst_numel * self.batch,
            self.batch,
            self.wn,
        );
        let per_target = db * (self.bip.num_edges() / self.bip.n_dst().max(1)).max(1);
        let chunk = grain(per_target);
        split_by_targets(self.bip, gw, wn, chunk)
            .into_par_iter()
            .for_each(|(t0, g)| {
                let t1 = (t0 + chunk).min(self.bip.n_dst());
                if let (Kernel::Scalar, Some((off, src))) = (self.kernel, self.bip.csr()) {
                    // The hot case: one dot per lifted edge, a target's edges together.
                    let first = off[t0] as usize;
                    for t in t0..t1 {
                        let (a, b) = (off[t] as usize, off[t + 1] as usize);
                        let gw = &mut g[a - first..b - first];
                        let row = |j: usize| src[a + j] as usize;
                        simd::dot_rows(&gz[t * db..][..db], y, b - a, row, |j, v| gw[j] = v);
                    }
                    return;
                }
                let mut pos = 0;
                for t in t0..t1 {
                    in_edges(self.bip, t, |_, s| {
                        self.kernel.weight_grad(
                            &gz[t * db..][..db],
                            &y[s * sb..][..sb],
                            &mut g[pos..pos + wn],
                            b,
                        );
                        pos += wn;
                    });
                }
            });
    }
}
