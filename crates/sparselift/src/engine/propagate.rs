//! Propagation over one base edge: the lifted edges' ops applied fiber to fiber.
//!
//! Written by hand because no crate does sparse-times-dense with per-edge bilinear ops:
//! the forward pass and the weight gradient walk targets in CSR order, the input gradient
//! walks sources in CSC order, so every parallel task writes its own disjoint slice — no
//! atomics, and the same floating-point result on any thread count. Complete graphs go to
//! [`super::dense`] (a GEMM) when their op allows it.

use super::activation::{per_activation, Activate, Dz};
use super::dense;
use super::edge::{EdgePass, Fused, Laid};
use super::plan::{Route, Sweep};
use crate::lift::Bipartite;
use crate::op::Kernel;
use crate::simd::{self, Finish, Keep, LANES};
use crate::Real;
use rayon::prelude::*;

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

/// A slice that parallel tasks write at indices they know to be disjoint.
struct Disjoint<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: it hands out no references, only writes through `write`, whose callers promise
// disjoint indices; `T: Send` values move between threads.
unsafe impl<T: Send> Sync for Disjoint<'_, T> {}

impl<'a, T> Disjoint<'a, T> {
    fn new(s: &'a mut [T]) -> Self {
        Disjoint {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// Writes `v` at `i`.
    ///
    /// # Safety
    /// No other thread reads or writes index `i` while this object lives.
    unsafe fn write(&self, i: usize, v: T) {
        assert!(i < self.len, "index {i} out of {}", self.len);
        // SAFETY: in bounds (checked), exclusive (the caller's promise), and the borrow
        // of the slice outlives `self`.
        unsafe { self.ptr.add(i).write(v) }
    }
}

/// Where a sweep by source puts the bias gradient of its [`Finish`], if anywhere.
type BiasGrad<'a, T> = Option<&'a Disjoint<'a, T>>;

/// `gb[s] =` the sum `finish` kept, when the sweep computes a bias gradient.
fn write_bias_grad<T: Real>(gb: BiasGrad<'_, T>, s: usize, finish: &impl Finish<T>) {
    if let (Some(gb), Some(sum)) = (gb, finish.total()) {
        // SAFETY: the sweeps by source give each source `s` to one task.
        unsafe { gb.write(s, sum) }
    }
}

/// Targets per parallel task: enough work to amortise scheduling. The work of an item is
/// its multiply-adds: its scalars times its edges times the op's fan-in (the taps of a
/// `conv` kernel), so that a layer of few maps still splits over the threads.
fn grain(work_per_item: usize) -> usize {
    (1 << 17) / work_per_item.max(1) + 1
}

impl<T: Real> EdgePass<'_, T> {
    /// The CSR arrays of a sparse scalar edge, whose forward is a weighted gather of whole
    /// source blocks; `None` for other ops and complete graphs.
    fn scalar_csr(&self) -> Option<(&[u32], &[u32])> {
        match self.kernel {
            Kernel::Scalar(_) => self.bip.csr(),
            Kernel::Identity(_) | Kernel::Linear(_) | Kernel::TokenMix(_) | Kernel::Conv(_) => None,
        }
    }

    /// The CSC arrays of a sparse scalar edge, as [`EdgePass::scalar_csr`].
    fn scalar_csc(&self) -> Option<(&[u32], &[u32], &[u32])> {
        match self.kernel {
            Kernel::Scalar(_) => self.bip.csc(),
            Kernel::Identity(_) | Kernel::Linear(_) | Kernel::TokenMix(_) | Kernel::Conv(_) => None,
        }
    }

    /// Lifted edges per target, on average (at least one).
    fn edges_per_target(&self) -> usize {
        (self.bip.num_edges() / self.bip.n_dst().max(1)).max(1)
    }

    fn wt(&self, j: usize) -> &[T] {
        &self.w[j * self.wn..][..self.wn]
    }

    /// `z_t += Σ_{s → t} M(w_st, y_s)` for every target `t`; with `overwrite`, `z_t =`:
    /// the first edge into a buffer spares the pass that would zero it. `laid_y`: where
    /// `y` goes in the fast layout, for this pass and the backward one.
    pub fn forward(&self, y: &[T], z: &mut [T], overwrite: bool, laid_y: &mut Vec<T>) {
        match self.route {
            Route::Gemm(g) => dense::forward(self, &g, y, z, !overwrite),
            Route::Gather | Route::PerEdge | Route::Rows => {
                self.forward_by_targets(y, z, overwrite, laid_y, |_| Keep)
            }
        }
    }

    /// `out_t = φ(Σ_{s → t} M(w_st, y_s) + b_t)` for every target `t`, for the only edge
    /// into an elementwise vertex: its activation (and fused bias) done on each finished
    /// tile of a sparse scalar edge, block of a GEMM, or target of the rows route (and of
    /// the per-edge loops that [`super::Plan::per_edge`] puts in its place), bit for bit
    /// the separate passes. `laid_y`: as for [`Self::forward`].
    pub fn forward_fused(&self, y: &[T], out: &mut [T], fused: Fused<&[T]>, laid_y: &mut Vec<T>) {
        per_activation!(fused.activation, f = phi::<T>, {
            let finish = |t| Activate {
                phi: f,
                bias: fused.bias.map(|b: &[T]| b[t]),
            };
            match &self.route {
                Route::Gemm(g) => dense::forward_fused(self, g, y, out, finish),
                Route::Gather | Route::Rows | Route::PerEdge => {
                    self.forward_by_targets(y, out, true, laid_y, finish)
                }
            }
        })
    }

    /// The sparse forward, target by target; `finish(t)` finishes the tiles of `z_t`.
    fn forward_by_targets<F: Finish<T>>(
        &self,
        y: &[T],
        z: &mut [T],
        overwrite: bool,
        laid_y: &mut Vec<T>,
        finish: impl Fn(usize) -> F + Sync,
    ) {
        let (sb, db, b) = (
            self.src_numel * self.batch,
            self.dst_numel * self.batch,
            self.batch,
        );
        let work = db * self.edges_per_target() * self.kernel.fan_in();
        let (y, sb) = self.lay_out(y, self.src_numel, laid_y).unwrap_or((y, sb));
        z.par_chunks_mut(db)
            .with_min_len(grain(work))
            .enumerate()
            .for_each(|(t, zt)| match self.scalar_csr() {
                // The hot case: a scalar edge sums whole source blocks, weighted.
                Some((off, src)) => {
                    let a = off[t] as usize;
                    let count = off[t + 1] as usize - a;
                    let (row, w) = (|j: usize| src[a + j] as usize, |j: usize| self.w[a + j]);
                    simd::gather_rows(zt, overwrite, y, count, row, w, &mut finish(t));
                }
                None => {
                    if self.route == Route::Rows {
                        let mut edges = Vec::new();
                        in_edges(self.bip, t, |j, s| edges.push((j, s)));
                        let edge = |k: usize| {
                            let (j, s) = edges[k];
                            (self.wt(j), &y[s * sb..][..sb])
                        };
                        let (count, mut finish) = (edges.len(), finish(t));
                        self.kernel
                            .forward_target(count, edge, zt, (b, overwrite), &mut finish);
                    } else {
                        if overwrite {
                            zt.fill(T::zero());
                        }
                        in_edges(self.bip, t, |j, s| {
                            self.kernel.forward(self.wt(j), &y[s * sb..][..sb], zt, b)
                        });
                        finish(t).tile(zt, &[]);
                    }
                }
            });
    }

    /// The weight gradient `gw` and, when asked, the input gradient `gy` (accumulated,
    /// or overwritten with `overwrite`): in one `sweep` by source where the plan has one,
    /// else in separate passes. `w_csc` holds the weights of a sparse scalar edge in CSC
    /// order for the loops by source: scratch kept between calls, since a fresh
    /// allocation of that size costs page faults on every call.
    ///
    /// `fused`: the source's activation, when the plan has the sweep complete `gy` (the
    /// source's only out-edge) with `y` its output: the sweep then leaves `∂L/∂z` in `gy`
    /// and writes the bias gradient. `laid`: `y` as the forward pass laid it out, and
    /// where `gz` goes in that layout.
    #[allow(clippy::too_many_arguments)]
    pub fn backward(
        &self,
        gz: &[T],
        y: &[T],
        gw: &mut [T],
        gy: Option<(&mut [T], bool)>,
        w_csc: &mut Vec<T>,
        fused: Option<Fused<&mut [T]>>,
        laid: &mut Laid<T>,
    ) {
        if let (Some(_), Some((_, _, perm))) = (&gy, self.scalar_csc()) {
            self.scalar_weights_csc(perm, w_csc);
        }
        match (gy, self.sweep) {
            (Some(gy), Some(sweep)) => match fused {
                Some(Fused { activation, bias }) => {
                    let gb = bias.map(Disjoint::new);
                    per_activation!(activation, d = dphi_stored::<T>, {
                        let dz = || Dz {
                            dphi: d,
                            sum: gb.is_some().then_some([T::zero(); LANES]),
                        };
                        self.sweep_sources(sweep, gz, y, gw, gy, w_csc, (dz, gb.as_ref()))
                    })
                }
                None => self.sweep_sources(sweep, gz, y, gw, gy, w_csc, (|| Keep, None)),
            },
            (gy, _) => {
                let (sb, db) = (self.src_numel * self.batch, self.dst_numel * self.batch);
                let laid_gz = self.lay_out(gz, self.dst_numel, &mut laid.gz);
                let gz = laid_gz.unwrap_or((gz, db));
                let laid_y = self.laid_out(&laid.y, y.len() / sb.max(1));
                let y = laid_y.unwrap_or((y, sb));
                self.weight_grad(gz, y, gw);
                if let Some((gy, overwrite)) = gy {
                    self.backward_input(gz, gy, overwrite, w_csc);
                }
            }
        }
    }

    /// Both gradients in one sweep over sources, for the edges [`Self::backward`] sends
    /// here: sparse scalar edges and readouts. `finish`: a fresh [`Finish`] for each
    /// source's `∂L/∂y_s` (`y_s` is in registers already), and where its sums go.
    #[allow(clippy::too_many_arguments)]
    fn sweep_sources<F: Finish<T>>(
        &self,
        sweep: Sweep,
        gz: &[T],
        y: &[T],
        gw: &mut [T],
        (gy, overwrite): (&mut [T], bool),
        w_csc: &[T],
        finish: (impl Fn() -> F + Sync, BiasGrad<'_, T>),
    ) {
        match (sweep, self.bip.csc()) {
            (Sweep::Readout { out }, _) => {
                self.backward_readout(gz, y, gw, (gy, overwrite), out, finish)
            }
            (Sweep::Scalar, Some(csc)) => {
                self.backward_scalar(gz, y, gw, (gy, overwrite), csc, w_csc, finish)
            }
            (Sweep::Scalar, None) => unreachable!("the plan sweeps scalar edges with CSC arrays"),
        }
    }

    /// Both gradients of a sparse scalar edge in one sweep over sources (CSC order): each
    /// `gz_t` is gathered once for `gy_s += w_st gz_t` and `gw_st = ⟨gz_t, y_s⟩` instead of
    /// once for each. Bit for bit what [`Self::weight_grad`] and
    /// [`Self::backward_input`] compute.
    #[allow(clippy::too_many_arguments)]
    fn backward_scalar<F: Finish<T>>(
        &self,
        gz: &[T],
        y: &[T],
        gw: &mut [T],
        (gy, overwrite): (&mut [T], bool),
        (off, dst, perm): (&[u32], &[u32], &[u32]),
        w_csc: &[T],
        (finish, gb): (impl Fn() -> F + Sync, BiasGrad<'_, T>),
    ) {
        let len = self.src_numel * self.batch;
        let gw = Disjoint::new(gw);
        let work = 2 * len * (perm.len() / self.bip.n_src().max(1)).max(1);
        gy.par_chunks_mut(len)
            .with_min_len(grain(work))
            .enumerate()
            .for_each_init(Vec::new, |partial, (s, gys)| {
                let (a, b) = (off[s] as usize, off[s + 1] as usize);
                if let Some(next) = y.get((s + 1) * len..(s + 2) * len) {
                    simd::prefetch_once(next);
                }
                let mut fin = finish();
                simd::gather_rows_dots(
                    gys,
                    overwrite,
                    &y[s * len..][..len],
                    gz,
                    b - a,
                    |j| dst[a + j] as usize,
                    |j| w_csc[a + j],
                    partial,
                    // SAFETY: `perm` is a permutation of the lifted edges (a Bipartite
                    // invariant) and positions `a..b` belong to source `s` alone, so each
                    // weight's gradient is written by exactly one task.
                    |j, v| unsafe { gw.write(perm[a + j] as usize, v) },
                    &mut fin,
                );
                write_bias_grad(gb, s, &fin);
            });
    }

    /// The weights of a scalar edge in CSC order, into `w_csc`: the loops by source read
    /// them in sequence instead of through the permutation once per register tile.
    fn scalar_weights_csc(&self, perm: &[u32], w_csc: &mut Vec<T>) {
        w_csc.resize(perm.len(), T::zero());
        w_csc
            .par_iter_mut()
            .zip(perm)
            .with_min_len(1 << 14)
            .for_each(|(w, &p)| *w = self.w[p as usize]);
    }

    /// Both gradients of a readout whose op is `linear` from scalars to `out` elements, in
    /// one sweep over sources: `gy_s += Σ_o w_so gz_o` and `gw_so = ⟨gz_o, y_s⟩`, with the
    /// `out` rows of `gz` (one per output element) staying in cache. As GEMMs these
    /// products have a side of `out` (10 for classes) and run far below the machine's
    /// rate; here each source's rows are read and written once. Used from a batch of one
    /// register tile on (n = 16384, out = 10, batch 256: 2.2 → 1.9 ms); at batch 32 the
    /// per-source work is too short and the GEMMs are faster (0.35 against 0.65 ms).
    fn backward_readout<F: Finish<T>>(
        &self,
        gz: &[T],
        y: &[T],
        gw: &mut [T],
        (gy, overwrite): (&mut [T], bool),
        out: usize,
        (finish, gb): (impl Fn() -> F + Sync, BiasGrad<'_, T>),
    ) {
        let len = self.batch;
        gy.par_chunks_mut(len)
            .zip(gw.par_chunks_mut(out))
            .with_min_len(grain(2 * len * out))
            .enumerate()
            .for_each_init(Vec::new, |partial, (s, (gys, gws))| {
                let mut fin = finish();
                simd::gather_rows_dots(
                    gys,
                    overwrite,
                    &y[s * len..][..len],
                    gz,
                    out,
                    |o| o,
                    |o| self.w[s * out + o],
                    partial,
                    |o, v| gws[o] = v,
                    &mut fin,
                );
                write_bias_grad(gb, s, &fin);
            });
    }

    /// `gy_s += Σ_{s → t} Mᵀ(w_st, gz_t)` for every source `s`; with `overwrite`, `gy_s =`.
    /// `(gz, db)`: the targets' `∂L/∂z`, in the fast layout on the rows route, and the
    /// size of one target's; `w_csc`: a sparse scalar edge's weights in CSC order.
    fn backward_input(&self, (gz, db): (&[T], usize), gy: &mut [T], overwrite: bool, w_csc: &[T]) {
        if let Route::Gemm(g) = &self.route {
            return dense::backward_input(self, g, gz, gy, !overwrite);
        }
        let (sb, b) = (self.src_numel * self.batch, self.batch);
        let work = sb * (self.bip.num_edges() / self.bip.n_src().max(1)).max(1);
        let work = work * self.kernel.fan_in();
        gy.par_chunks_mut(sb)
            .with_min_len(grain(work))
            .enumerate()
            .for_each(|(s, gys)| match self.scalar_csc() {
                Some((off, dst, _)) => {
                    let a = off[s] as usize;
                    let count = off[s + 1] as usize - a;
                    let row = |j: usize| dst[a + j] as usize;
                    let w = |j: usize| w_csc[a + j];
                    simd::gather_rows(gys, overwrite, gz, count, row, w, &mut Keep);
                }
                None => {
                    if self.route == Route::Rows {
                        let mut edges = Vec::new();
                        out_edges(self.bip, s, |j, t| edges.push((j, t)));
                        let edge = |k: usize| {
                            let (j, t) = edges[k];
                            (self.wt(j), &gz[t * db..][..db])
                        };
                        let count = edges.len();
                        self.kernel
                            .backward_input_source(count, edge, gys, b, overwrite);
                    } else {
                        if overwrite {
                            gys.fill(T::zero());
                        }
                        out_edges(self.bip, s, |j, t| {
                            self.kernel
                                .backward_input(self.wt(j), &gz[t * db..][..db], gys, b)
                        })
                    }
                }
            });
    }

    /// `maps` (blocks of `numel` scalars per sample) laid out into `laid` for the kernel's
    /// fast path, and the size of one map there: on the rows route, when that layout
    /// differs from the blocks' own.
    fn lay_out<'l>(
        &self,
        maps: &[T],
        numel: usize,
        laid: &'l mut Vec<T>,
    ) -> Option<(&'l [T], usize)> {
        if self.route != Route::Rows || !self.kernel.fast_layout(maps, self.batch, laid) {
            return None;
        }
        self.laid_out(laid, maps.len() / (numel * self.batch).max(1))
    }

    /// The `count` maps that [`Self::lay_out`] left in `laid`, and the size of one; `None`
    /// when it left none there.
    fn laid_out<'l>(&self, laid: &'l [T], count: usize) -> Option<(&'l [T], usize)> {
        (self.route == Route::Rows && !laid.is_empty()).then(|| (laid, laid.len() / count.max(1)))
    }

    /// `gw_st = ∂⟨gz_t, M(w_st, y_s)⟩/∂w_st` for every lifted edge, from `(gz, db)` and
    /// `(y, sb)`: the blocks, in the fast layout on the rows route, and the size of one.
    fn weight_grad(&self, (gz, db): (&[T], usize), (y, sb): (&[T], usize), gw: &mut [T]) {
        if self.wn == 0 {
            return;
        }
        if let Route::Gemm(g) = &self.route {
            return dense::weight_grad(g, gz, y, gw);
        }
        let (b, wn) = (self.batch, self.wn);
        let chunk = grain(db * self.edges_per_target() * self.kernel.fan_in());
        split_by_targets(self.bip, gw, wn, chunk)
            .into_par_iter()
            .for_each(|(t0, g)| {
                let t1 = (t0 + chunk).min(self.bip.n_dst());
                if let (Kernel::Scalar(_), Some((off, src))) = (self.kernel, self.bip.csr()) {
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
                        let (gz, y, gw) = (
                            &gz[t * db..][..db],
                            &y[s * sb..][..sb],
                            &mut g[pos..pos + wn],
                        );
                        match self.route {
                            Route::Rows => self.kernel.weight_grad_fast(gz, y, gw, b),
                            Route::Gemm(_) | Route::Gather | Route::PerEdge => {
                                self.kernel.weight_grad(gz, y, gw, b)
                            }
                        }
                        pos += wn;
                    });
                }
            });
    }
}
