//! The lifted edges over one base edge: a bipartite graph between two fibers.
//!
//! Sparse graphs are stored twice (docs/design.md §3): CSR by target — for the forward
//! pass and the weight gradient — and CSC by source with a permutation into the CSR
//! (= weight) order — for the input gradient — so that parallel loops write disjoint
//! outputs. A complete bipartite graph stores no indices at all: its weights form the
//! row-major `n_dst × n_src` matrix and the engine hands it to a dense GEMM.
//!
//! Indices are `u32`; a graph with 2³² or more edges is an error, not an overflow.

use crate::{Error, Result};
use rayon::prelude::*;

/// Lifted edges between the source fiber (size `n_src`) and the target fiber (`n_dst`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bipartite {
    n_src: u32,
    n_dst: u32,
    sparse: Option<Sparse>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct Sparse {
    dst_offsets: Vec<u32>,
    src_index: Vec<u32>,
    src_offsets: Vec<u32>,
    dst_index: Vec<u32>,
    perm: Vec<u32>,
}

/// Largest number of lifted edges one base edge may carry (`u32` indices).
pub const MAX_EDGES: u64 = u32::MAX as u64;

fn too_many(count: u64) -> Error {
    Error::invalid(
        "lift",
        format!("{count} lifted edges over one base edge exceed the limit of {MAX_EDGES} (32-bit indices)"),
    )
    .with_hint("use a sparser sampler or a smaller lift size")
}

impl Bipartite {
    /// The complete bipartite graph (a dense layer).
    pub fn complete(n_src: u32, n_dst: u32) -> Result<Bipartite> {
        let count = n_src as u64 * n_dst as u64;
        if count > MAX_EDGES {
            return Err(too_many(count));
        }
        Ok(Bipartite {
            n_src,
            n_dst,
            sparse: None,
        })
    }

    /// Builds a sparse graph from CSR arrays: `dst_offsets` has `n_dst + 1` entries and
    /// the sources of target `t` are `src_index[dst_offsets[t]..dst_offsets[t + 1]]`.
    /// Sources within a target are sorted here (multi-edges are kept).
    pub fn from_csr(
        n_src: u32,
        n_dst: u32,
        dst_offsets: Vec<u32>,
        mut src_index: Vec<u32>,
    ) -> Result<Bipartite> {
        if dst_offsets.len() != n_dst as usize + 1
            || dst_offsets[0] != 0
            || dst_offsets.windows(2).any(|w| w[0] > w[1])
            || *dst_offsets.last().unwrap() as usize != src_index.len()
        {
            return Err(Error::invalid("lift", "malformed CSR offsets"));
        }
        // A vectorisable maximum first; the offending index is looked for only on failure.
        let max = src_index
            .par_chunks(1 << 16)
            .map(|c| c.iter().copied().max().unwrap_or(0))
            .max();
        if let Some(&s) = max
            .filter(|&m| m >= n_src)
            .and_then(|_| src_index.iter().find(|&&s| s >= n_src))
        {
            return Err(Error::invalid(
                "lift",
                format!("source index {s} is outside the source fiber of size {n_src}"),
            ));
        }
        sort_rows(&dst_offsets, &mut src_index);
        let (src_offsets, dst_index, perm) = transpose(n_src, &dst_offsets, &src_index);
        Ok(Bipartite {
            n_src,
            n_dst,
            sparse: Some(Sparse {
                dst_offsets,
                src_index,
                src_offsets,
                dst_index,
                perm,
            }),
        })
    }

    /// Builds a sparse graph from `(source, target)` pairs in any order.
    pub fn from_pairs(n_src: u32, n_dst: u32, pairs: &[(u32, u32)]) -> Result<Bipartite> {
        if pairs.len() as u64 > MAX_EDGES {
            return Err(too_many(pairs.len() as u64));
        }
        let mut offsets = vec![0u32; n_dst as usize + 1];
        for &(s, t) in pairs {
            if t >= n_dst || s >= n_src {
                return Err(Error::invalid(
                    "lift",
                    format!(
                        "edge {s} -> {t} is outside the fibers ({n_src} sources, {n_dst} targets)"
                    ),
                ));
            }
            offsets[t as usize + 1] += 1;
        }
        for i in 0..n_dst as usize {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut src = vec![0u32; pairs.len()];
        for &(s, t) in pairs {
            src[fill[t as usize] as usize] = s;
            fill[t as usize] += 1;
        }
        Bipartite::from_csr(n_src, n_dst, offsets, src)
    }

    /// Size of the source fiber.
    pub fn n_src(&self) -> usize {
        self.n_src as usize
    }
    /// Size of the target fiber.
    pub fn n_dst(&self) -> usize {
        self.n_dst as usize
    }
    /// True for the complete bipartite graph (no index arrays).
    pub fn is_complete(&self) -> bool {
        self.sparse.is_none()
    }
    /// Number of lifted edges.
    pub fn num_edges(&self) -> usize {
        match &self.sparse {
            None => self.n_src as usize * self.n_dst as usize,
            Some(s) => s.src_index.len(),
        }
    }
    /// CSR arrays `(dst_offsets, src_index)` of a sparse graph.
    pub fn csr(&self) -> Option<(&[u32], &[u32])> {
        self.sparse
            .as_ref()
            .map(|s| (&s.dst_offsets[..], &s.src_index[..]))
    }
    /// CSC arrays `(src_offsets, dst_index, perm)` of a sparse graph: the targets of
    /// source `s` are `dst_index[src_offsets[s]..src_offsets[s + 1]]` and `perm[j]` is the
    /// CSR position (weight index) of CSC entry `j`.
    pub fn csc(&self) -> Option<(&[u32], &[u32], &[u32])> {
        self.sparse
            .as_ref()
            .map(|s| (&s.src_offsets[..], &s.dst_index[..], &s.perm[..]))
    }
    /// In-degree of target `t`.
    pub fn in_degree(&self, t: usize) -> usize {
        match &self.sparse {
            None => self.n_src as usize,
            Some(s) => (s.dst_offsets[t + 1] - s.dst_offsets[t]) as usize,
        }
    }
    /// Out-degree of source `s`.
    pub fn out_degree(&self, src: usize) -> usize {
        match &self.sparse {
            None => self.n_dst as usize,
            Some(s) => (s.src_offsets[src + 1] - s.src_offsets[src]) as usize,
        }
    }
    /// The lifted edges as `(source, target)` pairs in CSR (= weight) order.
    pub fn pairs(&self) -> Box<dyn Iterator<Item = (u32, u32)> + '_> {
        match &self.sparse {
            None => {
                Box::new((0..self.n_dst).flat_map(move |t| (0..self.n_src).map(move |s| (s, t))))
            }
            Some(s) => Box::new((0..self.n_dst).flat_map(move |t| {
                let (a, b) = (s.dst_offsets[t as usize], s.dst_offsets[t as usize + 1]);
                s.src_index[a as usize..b as usize]
                    .iter()
                    .map(move |&src| (src, t))
            })),
        }
    }
    /// Bytes held by the index arrays.
    pub fn index_bytes(&self) -> usize {
        self.sparse.as_ref().map_or(0, |s| {
            4 * (s.dst_offsets.len()
                + s.src_index.len()
                + s.src_offsets.len()
                + s.dst_index.len()
                + s.perm.len())
        })
    }
}

/// Rows per parallel task when sorting the sources of each target.
const ROWS_PER_TASK: usize = 1 << 12;

/// Sorts the sources of every target, in parallel over blocks of targets (each block owns
/// a contiguous run of `src_index`, so the result does not depend on the thread count).
fn sort_rows(dst_offsets: &[u32], src_index: &mut [u32]) {
    let n_dst = dst_offsets.len() - 1;
    let mut blocks = Vec::with_capacity(n_dst.div_ceil(ROWS_PER_TASK));
    let mut rest = src_index;
    for a in (0..n_dst).step_by(ROWS_PER_TASK) {
        let b = (a + ROWS_PER_TASK).min(n_dst);
        let len = (dst_offsets[b] - dst_offsets[a]) as usize;
        let (block, tail) = rest.split_at_mut(len);
        blocks.push((a, b, block));
        rest = tail;
    }
    blocks.into_par_iter().for_each(|(a, b, block)| {
        let base = dst_offsets[a];
        for t in a..b {
            let row =
                &mut block[(dst_offsets[t] - base) as usize..(dst_offsets[t + 1] - base) as usize];
            // Samplers emit sorted rows; checking first skips the sort's own setup cost.
            if !row.windows(2).all(|w| w[0] <= w[1]) {
                row.sort_unstable();
            }
        }
    });
}

/// Counting-sort transpose of a CSR graph into CSC plus the permutation CSC → CSR.
/// Written by hand: no sparse crate keeps the permutation, and at 10⁸ edges the memory
/// access pattern is what matters.
///
/// A direct counting sort writes every edge to one of `n_src` far-apart places — a cache
/// miss per edge once `n_src` is large. So this sorts in two cache-friendly steps: first
/// by *bucket* of [`bucket_size`] consecutive sources (few enough write streams to stay in
/// cache), then within each bucket by source (a working set that fits in cache). Both are
/// stable, so edges of one source stay in CSR order.
///
/// The CSC of a graph is unique (by source, then CSR position), so the parallel split —
/// the bucket step over ranges of sources, each scanning the whole CSR for its own
/// sources; the second step over buckets — cannot change the result.
fn transpose(n_src: u32, dst_offsets: &[u32], src_index: &[u32]) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let n = n_src as usize;
    let e = src_index.len();
    let bucket = bucket_size(n, e);
    let buckets = n.div_ceil(bucket).max(1);
    let ranges = if e < 1 << 16 {
        1
    } else {
        rayon::current_num_threads().clamp(1, 16).min(buckets)
    };
    // Range r covers buckets [bucket_bounds[r], bucket_bounds[r + 1]).
    let bucket_bounds: Vec<usize> = (0..=ranges).map(|r| r * buckets / ranges).collect();
    let source_bounds: Vec<usize> = bucket_bounds.iter().map(|&b| (b * bucket).min(n)).collect();

    // Out-degrees, each range into its own part of `src_offsets[1..]`.
    let mut src_offsets = vec![0u32; n + 1];
    split_at_bounds(&mut src_offsets[1..], &source_bounds)
        .into_par_iter()
        .enumerate()
        .for_each(|(r, counts)| {
            let (a, width) = (source_bounds[r] as u32, counts.len() as u32);
            for &s in src_index {
                let i = s.wrapping_sub(a);
                if i < width {
                    counts[i as usize] += 1;
                }
            }
        });
    for i in 0..n {
        src_offsets[i + 1] += src_offsets[i];
    }
    let start_of_bucket = |b: usize| src_offsets[(b * bucket).min(n)] as usize;

    // Step 1: every edge to its bucket: target in `dst_index`, CSR position in `perm`, and
    // source within the bucket in `local` (2 bytes an edge, freed at the end) so that
    // step 2 reads all it needs sequentially instead of gathering from `src_index`.
    let mut dst_index = vec![0u32; e];
    let mut perm = vec![0u32; e];
    let mut local = vec![0u16; e];
    let edge_bounds: Vec<usize> = bucket_bounds.iter().map(|&b| start_of_bucket(b)).collect();
    let dst_parts = split_at_bounds(&mut dst_index, &edge_bounds);
    let perm_parts = split_at_bounds(&mut perm, &edge_bounds);
    let local_parts = split_at_bounds(&mut local, &edge_bounds);
    let shift = bucket.trailing_zeros();
    let mask = bucket as u32 - 1;
    dst_parts
        .into_par_iter()
        .zip(perm_parts)
        .zip(local_parts)
        .enumerate()
        .for_each(|(r, ((dst, perm), local))| {
            let (b0, b1) = (bucket_bounds[r], bucket_bounds[r + 1]);
            let base = edge_bounds[r] as u32;
            let mut fill: Vec<u32> = (b0..b1).map(|b| start_of_bucket(b) as u32 - base).collect();
            let (a, width) = (
                source_bounds[r] as u32,
                (source_bounds[r + 1] - source_bounds[r]) as u32,
            );
            for t in 0..dst_offsets.len() - 1 {
                for j in dst_offsets[t]..dst_offsets[t + 1] {
                    let i = src_index[j as usize].wrapping_sub(a);
                    if i < width {
                        let slot = &mut fill[(i >> shift) as usize];
                        dst[*slot as usize] = t as u32;
                        perm[*slot as usize] = j;
                        local[*slot as usize] = (i & mask) as u16;
                        *slot += 1;
                    }
                }
            }
        });

    // Step 2: within each bucket, by source.
    let all_buckets: Vec<usize> = (0..=buckets).map(start_of_bucket).collect();
    let dst_parts = split_at_bounds(&mut dst_index, &all_buckets);
    let perm_parts = split_at_bounds(&mut perm, &all_buckets);
    let local_parts = split_at_bounds(&mut local, &all_buckets);
    dst_parts
        .into_par_iter()
        .zip(perm_parts)
        .zip(local_parts)
        .enumerate()
        .for_each_init(
            Vec::new,
            |scratch: &mut Vec<(u32, u32)>, (b, ((dst, perm), local))| {
                let (a, z) = (b * bucket, ((b + 1) * bucket).min(n));
                let base = all_buckets[b] as u32;
                let mut fill: Vec<u32> = src_offsets[a..z].iter().map(|&o| o - base).collect();
                scratch.clear();
                scratch.extend(dst.iter().copied().zip(perm.iter().copied()));
                for (&(t, j), &l) in scratch.iter().zip(local.iter()) {
                    let slot = &mut fill[l as usize];
                    dst[*slot as usize] = t;
                    perm[*slot as usize] = j;
                    *slot += 1;
                }
            },
        );
    drop(local);
    (src_offsets, dst_index, perm)
}

/// Sources per bucket of [`transpose`]: a power of two giving about 2¹⁶ edges a bucket.
fn bucket_size(n_src: usize, edges: usize) -> usize {
    let per_source = edges.div_ceil(n_src.max(1)).max(1);
    ((1usize << 16) / per_source)
        .next_power_of_two()
        .clamp(64, 1 << 16)
}

/// Splits `data` into consecutive disjoint parts of lengths `bounds[r + 1] - bounds[r]`.
fn split_at_bounds<'a, T>(data: &'a mut [T], bounds: &[usize]) -> Vec<&'a mut [T]> {
    let mut parts = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut rest = data;
    for w in bounds.windows(2) {
        let (part, tail) = rest.split_at_mut(w[1] - w[0]);
        parts.push(part);
        rest = tail;
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csc_is_the_transpose_of_csr_with_a_permutation_into_weight_order() {
        let pairs = [(2, 0), (0, 0), (1, 1), (2, 1), (0, 2)];
        let b = Bipartite::from_pairs(3, 3, &pairs).unwrap();
        let csr: Vec<_> = b.pairs().collect();
        assert_eq!(csr, vec![(0, 0), (2, 0), (1, 1), (2, 1), (0, 2)]);
        let (so, di, perm) = b.csc().unwrap();
        for s in 0..3 {
            for j in so[s]..so[s + 1] {
                let w = perm[j as usize] as usize;
                assert_eq!(csr[w], (s as u32, di[j as usize]));
            }
        }
        assert_eq!(b.out_degree(2), 2);
        assert_eq!(b.in_degree(0), 2);
    }

    /// The CSC by definition: sources ascending, then CSR positions ascending.
    fn naive_csc(n_src: usize, b: &Bipartite) -> Vec<(u32, u32, u32)> {
        let mut entries: Vec<(u32, u32, u32)> = b
            .pairs()
            .enumerate()
            .map(|(j, (s, t))| (s, t, j as u32))
            .collect();
        entries.sort_unstable_by_key(|&(s, _, j)| (s, j));
        assert!(entries.iter().all(|&(s, _, _)| (s as usize) < n_src));
        entries
    }

    #[test]
    fn the_bucketed_parallel_transpose_matches_the_definition_on_any_thread_count() {
        use rand::{Rng, SeedableRng};
        // ~200 edges per source: buckets of 512 sources, so several buckets and ranges.
        let (n_src, n_dst, edges) = (2000u32, 3001u32, 400_000);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        let pairs: Vec<(u32, u32)> = (0..edges)
            .map(|_| (rng.random_range(0..n_src), rng.random_range(0..n_dst)))
            .collect();
        assert!(bucket_size(n_src as usize, edges) < n_src as usize / 2);
        let build = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap()
                .install(|| Bipartite::from_pairs(n_src, n_dst, &pairs).unwrap())
        };
        let one = build(1);
        let expected = naive_csc(n_src as usize, &one);
        for b in [&one, &build(3)] {
            let (so, di, perm) = b.csc().unwrap();
            let mut got = Vec::new();
            for s in 0..n_src as usize {
                for k in so[s]..so[s + 1] {
                    got.push((s as u32, di[k as usize], perm[k as usize]));
                }
            }
            assert_eq!(got, expected);
        }
        assert_eq!(one, build(3));
    }

    #[test]
    fn out_of_range_indices_and_oversized_graphs_are_errors() {
        assert!(Bipartite::from_pairs(2, 2, &[(2, 0)]).is_err());
        assert!(Bipartite::complete(1 << 20, 1 << 20).is_err());
    }
}
