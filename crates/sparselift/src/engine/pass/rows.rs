//! `linear` edges on token maps (`rows > 1`, e.g. an attention's query, key, value and
//! output projections), which have no GEMM form: each row of each lifted edge is a small
//! product `w · Y_r`, and the per-edge loops run it as one AXPY or dot per weight over a
//! batch vector, with a dispatch per call and one accumulator chain at a time.
//!
//! Here a whole row of a target (forward) or source (input gradient) is summed over all
//! its lifted edges at once, a block of outputs × samples held in registers while the
//! weighted rows stream past. Per element the sum runs over the edges, then the weights,
//! in the per-edge loops' order, so results are bit for bit theirs. Rows are independent,
//! so they run in parallel with results independent of the thread count.
//!
//! The weight gradient of an edge sums over rows and samples: [`simd::row_products`]
//! keeps a tile of weights in registers over a block of rows, the blocks in parallel and
//! their sums added in order afterwards. That is another order than the per-edge loop's
//! (one dot per row), so it agrees with it to rounding, and is the same on every thread
//! count and instruction set.

use super::super::edge::EdgePass;
use super::super::plan::Route;
use crate::lift::Bipartite;
use crate::op::{Kernel, Linear};
use crate::simd;
use crate::Real;
use multiversion::multiversion;
use rayon::prelude::*;

/// The `linear` op of an edge this module runs: one on the per-edge route.
pub(super) fn linear<T>(pass: &EdgePass<'_, T>) -> Option<Linear> {
    match (pass.kernel, pass.route, pass.sweep) {
        (Kernel::Linear(l), Route::PerEdge, None) => Some(*l),
        _ => None,
    }
}

/// `(weight index, target)` of every lifted edge, in weight order (CSR, by target).
fn edges(bip: &Bipartite) -> Vec<(usize, usize)> {
    match bip.csr() {
        Some((off, _)) => (0..bip.n_dst())
            .flat_map(|t| (off[t] as usize..off[t + 1] as usize).map(move |j| (j, t)))
            .collect(),
        None => (0..bip.num_edges()).map(|j| (j, j / bip.n_src())).collect(),
    }
}

/// `(weight index, source)` of the lifted edges into each target, in CSR order.
fn in_edges(bip: &Bipartite) -> Vec<Vec<(usize, usize)>> {
    (0..bip.n_dst())
        .map(|t| match bip.csr() {
            Some((off, src)) => (off[t] as usize..off[t + 1] as usize)
                .map(|j| (j, src[j] as usize))
                .collect(),
            None => (0..bip.n_src()).map(|s| (t * bip.n_src() + s, s)).collect(),
        })
        .collect()
}

/// `(weight index, target)` of the lifted edges out of each source, in CSC order.
fn out_edges(bip: &Bipartite) -> Vec<Vec<(usize, usize)>> {
    (0..bip.n_src())
        .map(|s| match bip.csc() {
            Some((off, dst, perm)) => (off[s] as usize..off[s + 1] as usize)
                .map(|j| (perm[j] as usize, dst[j] as usize))
                .collect(),
            None => (0..bip.n_dst()).map(|t| (t * bip.n_src() + s, t)).collect(),
        })
        .collect()
}

/// `z_t (+)= Σ_{s → t} w_st Y_s` row by row for every target: [`EdgePass::forward`].
/// A task sums a row, or where all targets have fewer than [`FEW_ROWS`] rows (a readout
/// has one of one row) four outputs or one, so that every thread has work.
pub(super) fn forward<T: Real>(
    pass: &EdgePass<'_, T>,
    l: Linear,
    y: &[T],
    z: &mut [T],
    overwrite: bool,
) {
    let (b, ins) = (pass.batch, in_edges(pass.bip));
    let src = l.inp * b;
    let per = match (pass.bip.n_dst() * l.rows < FEW_ROWS, l.out % 4) {
        (false, _) => l.out,
        (true, 0) => 4,
        (true, _) => 1,
    };
    z.par_chunks_mut(per * b).enumerate().for_each(|(i, zo)| {
        let (row, o) = (i * per / l.out, i * per % l.out);
        let (t, r) = (row / l.rows, row % l.rows);
        let term = |e: usize| {
            let (j, s) = ins[t][e];
            (
                &pass.w[j * pass.wn + o * l.inp..][..per * l.inp],
                &y[(s * l.rows + r) * src..][..src],
            )
        };
        mix(zo, overwrite, b, (l.inp, l.inp, 1), ins[t].len(), term);
    });
}

/// Rows of all targets below which [`forward`] splits rows into blocks of outputs.
const FEW_ROWS: usize = 64;

/// `gw_st = Σ_r gz_t,r Y_s,rᵀ` for every lifted edge and, when asked, `gy_s (+)= Σ_{s →
/// t} w_stᵀ gz_t` row by row for every source: [`EdgePass::backward`].
pub(super) fn backward<T: Real>(
    pass: &EdgePass<'_, T>,
    l: Linear,
    gz: &[T],
    y: &[T],
    gw: &mut [T],
    gy: Option<(&mut [T], bool)>,
) {
    let b = pass.batch;
    let (src, dst) = (l.inp * b, l.out * b);
    weight_grads(pass, l, gz, y, gw);
    let Some((gy, overwrite)) = gy else { return };
    let outs = out_edges(pass.bip);
    gy.par_chunks_mut(src).enumerate().for_each(|(i, gyr)| {
        let (s, r) = (i / l.rows, i % l.rows);
        let term = |e: usize| {
            let (j, t) = outs[s][e];
            (
                &pass.w[j * pass.wn..][..pass.wn],
                &gz[(t * l.rows + r) * dst..][..dst],
            )
        };
        mix(gyr, overwrite, b, (l.out, 1, l.inp), outs[s].len(), term);
    });
}

/// Rows of the maps that one task of [`weight_grads`] sums: a block of the source small
/// enough for the L2 cache, read once for every four outputs.
const ROW_BLOCK: usize = 16;

/// `gw_st = Σ_r gz_t,r Y_s,rᵀ` for every lifted edge `s → t`: each weight's sum over the
/// rows and samples split by blocks of [`ROW_BLOCK`] rows computed in parallel, then
/// added up block by block in order, so the result is independent of the thread count.
/// A task first copies its blocks entry by entry ([`by_entry`]), so that each tile of
/// [`simd::row_products`] reads contiguous runs instead of one short run per row.
fn weight_grads<T: Real>(pass: &EdgePass<'_, T>, l: Linear, gz: &[T], y: &[T], gw: &mut [T]) {
    let b = pass.batch;
    let (src, dst) = (l.inp * b, l.out * b);
    let edges = edges(pass.bip);
    let blocks = l.rows.div_ceil(ROW_BLOCK);
    let tasks = edges.len() * blocks;
    let partial: Vec<Vec<T>> = (0..tasks)
        .into_par_iter()
        .map_init(
            || (Vec::new(), Vec::new()),
            |(gp, yp), task| {
                let (j, r0) = (task / blocks, task % blocks * ROW_BLOCK);
                let t = edges[j].1;
                let s = match pass.bip.csr() {
                    Some((_, srcs)) => srcs[j] as usize,
                    None => j % pass.bip.n_src(),
                };
                let rows = ROW_BLOCK.min(l.rows - r0);
                let g = &gz[(t * l.rows + r0) * dst..][..rows * dst];
                let ys = &y[(s * l.rows + r0) * src..][..rows * src];
                by_entry(g, (rows, l.out, b), gp);
                by_entry(ys, (rows, l.inp, b), yp);
                let mut gw = vec![T::zero(); l.out * l.inp];
                simd::row_products(&mut gw, gp, yp, (l.out, l.inp, b));
                gw
            },
        )
        .collect();
    gw.par_chunks_mut(pass.wn).enumerate().for_each(|(j, gw)| {
        gw.copy_from_slice(&partial[j * blocks]);
        for p in &partial[j * blocks + 1..][..blocks - 1] {
            gw.iter_mut().zip(p).for_each(|(w, &p)| *w += p);
        }
    });
}

/// `maps`, `rows` rows of `entries` batch vectors of `b` samples, into `out` entry by
/// entry: `out[e][r] = maps[r][e]`. `out` keeps its allocation from call to call.
fn by_entry<T: Real>(maps: &[T], (rows, entries, b): (usize, usize, usize), out: &mut Vec<T>) {
    out.clear();
    for e in 0..entries {
        for r in 0..rows {
            out.extend_from_slice(&maps[(r * entries + e) * b..][..b]);
        }
    }
}

/// `out_p (+)= Σ_e Σ_q w_e[p·ps + q·qs] · rows_e[q]` for the `out.len() / b` batch
/// vectors `out_p`, `term(e) = (w_e, rows_e)` and `depth` rows `rows_e[q]` of `b`
/// scalars each, `(depth, ps, qs)` = `shape`. Per element the sum runs over `e`, then
/// `q`, in order. A tile of 4 outputs × 16 samples (or 2 × 32, or 1 × 64, for the
/// outputs left over) keeps eight AVX2 registers of independent sums, which hides the
/// latency of the adds, and each row loaded serves every output of the tile; the
/// samples left over run in narrower tiles.
#[multiversion(targets("x86_64+avx512f+avx512vl", "x86_64+avx2+fma", "aarch64+neon"))]
fn mix<'a, T: Real + 'a>(
    out: &mut [T],
    overwrite: bool,
    b: usize,
    shape: (usize, usize, usize),
    terms: usize,
    term: impl Fn(usize) -> (&'a [T], &'a [T]),
) {
    let outputs = out.len() / b;
    let tile = (b, overwrite, shape, terms);
    let mut p = 0;
    while p < outputs {
        p += match outputs - p {
            4.. => by_samples::<T, 4, 1>(out, p, tile, &term),
            2 | 3 => by_samples::<T, 2, 2>(out, p, tile, &term),
            _ => by_samples::<T, 1, 4>(out, p, tile, &term),
        };
    }
}

/// The `P` outputs from `p` of [`mix`]: tiles of `C` blocks of 16 samples, then of one
/// block, then of one sample; returns `P`.
#[inline(always)]
fn by_samples<'a, T: Real + 'a, const P: usize, const C: usize>(
    out: &mut [T],
    p: usize,
    tile: (usize, bool, (usize, usize, usize), usize),
    term: &impl Fn(usize) -> (&'a [T], &'a [T]),
) -> usize {
    let b = tile.0;
    tiles::<T, P, C, 16>(out, p, 0, tile, term);
    if C > 1 {
        tiles::<T, P, 1, 16>(out, p, b - b % (C * 16), tile, term);
    }
    tiles::<T, P, 1, 1>(out, p, b - b % 16, tile, term);
    P
}

/// The tiles of `P` outputs from `p` and `C` blocks of `W` samples of [`mix`] from
/// sample `start` on, as far as they fit. Blocks of at most 16 samples: the compiler
/// vectorises those, where one wider array would run as scalars.
#[inline(always)]
fn tiles<'a, T: Real + 'a, const P: usize, const C: usize, const W: usize>(
    out: &mut [T],
    p: usize,
    start: usize,
    (b, overwrite, (depth, ps, qs), terms): (usize, bool, (usize, usize, usize), usize),
    term: &impl Fn(usize) -> (&'a [T], &'a [T]),
) {
    for s in (start..b - b % (C * W)).step_by(C * W) {
        let mut acc = [[[T::zero(); W]; C]; P];
        if !overwrite {
            for (i, acc) in acc.iter_mut().enumerate() {
                for (c, acc) in acc.iter_mut().enumerate() {
                    acc.copy_from_slice(&out[(p + i) * b + s + c * W..][..W]);
                }
            }
        }
        for e in 0..terms {
            let (w, rows) = term(e);
            for q in 0..depth {
                let row = &rows[q * b + s..][..C * W];
                for (i, acc) in acc.iter_mut().enumerate() {
                    let wt = w[(p + i) * ps + q * qs];
                    for (c, acc) in acc.iter_mut().enumerate() {
                        for l in 0..W {
                            acc[l] += wt * row[c * W + l];
                        }
                    }
                }
            }
        }
        for (i, acc) in acc.iter().enumerate() {
            for (c, acc) in acc.iter().enumerate() {
                out[(p + i) * b + s + c * W..][..W].copy_from_slice(acc);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::edge::Laid;
    use crate::engine::{Network, Workspace};
    use crate::lift::{LiftSpec, Sampler};
    use crate::zoo::{attention, AttentionConfig};
    use rand::{Rng, SeedableRng};

    /// Forward and input gradients of every `linear` edge equal the per-edge loops bit for
    /// bit, and weight gradients (summed in another order) to rounding: complete and
    /// sparse lifts, batches of whole tiles, narrow tiles and single samples, accumulating
    /// and overwriting.
    #[test]
    fn rows_equal_the_per_edge_loops_bit_for_bit() {
        let cfg = AttentionConfig {
            tokens: 5,
            features: 6,
            width: 3,
        };
        let module = attention(&cfg).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut random =
            |n: usize| -> Vec<f32> { (0..n).map(|_| rng.random_range(-1.0..1.0)).collect() };
        let bits = |v: &[f32]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for sampler in [Sampler::Dense, Sampler::InDegree(2)] {
            let lift = LiftSpec::new(3, sampler)
                .fiber("x", 3)
                .fiber("y", 4)
                .seed(2)
                .sample(&module)
                .unwrap();
            let net = Network::new(module.clone(), lift).unwrap();
            let theta: Vec<f32> = net.init(1);
            for batch in [1, 19, 80] {
                let ws = Workspace::<f32>::new(&net, batch);
                let mut tested = 0;
                for e in 0..module.edges().len() {
                    let pass = net.pass(&theta, e, &ws.plan);
                    let Some(l) = linear(&pass) else { continue };
                    tested += 1;
                    let ny = pass.bip.n_src() * pass.src_numel * batch;
                    let nz = pass.bip.n_dst() * pass.dst_numel * batch;
                    let (y, z0, gz) = (random(ny), random(nz), random(nz));
                    for overwrite in [false, true] {
                        let (mut got, mut want) = (z0.clone(), z0.clone());
                        forward(&pass, l, &y, &mut got, overwrite);
                        let mut laid = Laid::default();
                        pass.forward(&y, &mut want, overwrite, &mut laid.y);
                        assert_eq!(bits(&got), bits(&want), "forward {e}, batch {batch}");
                        let gy0 = random(ny);
                        let nw = pass.bip.num_edges() * pass.wn;
                        let (mut gw, mut gw_want) = (vec![0.0; nw], vec![0.0; nw]);
                        let (mut gy, mut gy_want) = (gy0.clone(), gy0);
                        backward(&pass, l, &gz, &y, &mut gw, Some((&mut gy, overwrite)));
                        let g = Some((&mut gy_want[..], overwrite));
                        pass.backward(&gz, &y, &mut gw_want, g, &mut Vec::new(), None, &mut laid);
                        for (got, want) in gw.iter().zip(&gw_want) {
                            let tol = 1e-5 * (1.0 + want.abs());
                            assert!((got - want).abs() <= tol, "weights {e}, batch {batch}");
                        }
                        assert_eq!(bits(&gy), bits(&gy_want), "input {e}, batch {batch}");
                    }
                }
                assert_eq!(tested, 4);
            }
        }
    }
}
