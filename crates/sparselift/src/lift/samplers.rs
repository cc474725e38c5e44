//! The random samplers' kernels: each draws the CSR of one base edge's bipartite graph.
//!
//! **Determinism.** Every base edge has its own [`EdgeStreams`]: a ChaCha8 key derived
//! from `(seed, edge index)`. Targets are cut into chunks of [`CHUNK`] consecutive targets
//! — a fixed size, independent of the thread count — and chunk `c` draws from stream `c`
//! of that key. Chunks run in parallel but each writes only its own rows, so the graph is
//! bit-identical for any number of threads. Random integers come from `rand`'s portable
//! uniform sampling and the one transcendental function (the geometric gaps of
//! Erdős–Rényi) from the pure-Rust `libm`, so the lift is also the same on any machine.
//!
//! Written by hand: `rand::seq::index::sample` allocates per call and, for the sizes of a
//! lift (10⁶ targets each picking ~100 of 10⁶ sources), uses a quadratic Floyd loop or an
//! `O(n)` buffer per target; rows here also need to come out sorted.

use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

/// Targets per chunk: one random stream and one parallel task each.
pub(crate) const CHUNK: usize = 1 << 12;

/// The random streams of one base edge.
#[derive(Clone, Debug)]
pub(crate) struct EdgeStreams {
    key: [u8; 32],
}

/// SplitMix64's finaliser: a bijective mix of 64 bits.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl EdgeStreams {
    /// The streams of base edge `edge` of a lift drawn with `seed`.
    pub(crate) fn new(seed: u64, edge: usize) -> Self {
        let base = mix(mix(seed) ^ (edge as u64));
        let mut key = [0u8; 32];
        for (i, word) in key.chunks_exact_mut(8).enumerate() {
            word.copy_from_slice(&mix(base ^ mix(i as u64)).to_le_bytes());
        }
        EdgeStreams { key }
    }

    /// Independent stream number `index` (a chunk, or a matching of `k-lift`).
    pub(crate) fn stream(&self, index: u64) -> ChaCha8Rng {
        let mut rng = ChaCha8Rng::from_seed(self.key);
        rng.set_stream(index);
        rng
    }
}

/// `in-degree:k`: every target picks `k ≤ n_src` distinct sources uniformly. Returns the
/// CSR sources (`k` per target, sorted); the offsets are `t·k`.
pub(crate) fn in_degree(streams: &EdgeStreams, n_src: u32, n_dst: u32, k: u32) -> Vec<u32> {
    assert!(k >= 1 && k <= n_src, "in-degree k out of range");
    let k = k as usize;
    let mut src = vec![0u32; n_dst as usize * k];
    src.par_chunks_mut(CHUNK * k)
        .enumerate()
        .for_each(|(c, rows)| {
            let mut rng = streams.stream(c as u64);
            for row in rows.chunks_exact_mut(k) {
                distinct_sorted(&mut rng, n_src, row);
            }
        });
    src
}

/// Fills `out` with `out.len()` distinct uniform values of `0..n`, sorted.
///
/// Few values out of many: draw them all, sort, then replace duplicates by fresh draws.
/// This is "draw until `k` distinct values", which treats every value alike, so the set
/// is uniform over `k`-subsets; duplicates are rare (`k²/2n` expected). Many values out of
/// few: selection sampling (Knuth's algorithm S), one pass over `0..n`, exact integer odds.
pub(crate) fn distinct_sorted(rng: &mut impl Rng, n: u32, out: &mut [u32]) {
    let k = out.len();
    if k as u64 * 8 > n as u64 {
        let mut need = k;
        for i in 0..n {
            if (rng.random_range(0..n - i) as usize) < need {
                out[k - need] = i;
                need -= 1;
                if need == 0 {
                    break;
                }
            }
        }
        return;
    }
    for x in out.iter_mut() {
        *x = rng.random_range(0..n);
    }
    out.sort_unstable();
    let mut d = 0;
    for i in 0..k {
        if d == 0 || out[i] != out[d - 1] {
            out[d] = out[i];
            d += 1;
        }
    }
    while d < k {
        let x = rng.random_range(0..n);
        if let Err(pos) = out[..d].binary_search(&x) {
            out.copy_within(pos..d, pos + 1);
            out[pos] = x;
            d += 1;
        }
    }
}

/// `erdos-renyi:p` with `0 < p < 1`: every pair independently with probability `p`; a
/// target left without an in-edge gets one uniform source. Returns CSR `(offsets,
/// sources)` with sorted rows, or `None` when the graph has more than `max_edges` edges.
///
/// Sources are visited by geometric skipping — the gap before the next chosen source is
/// `Geometric(p)` — so the cost is proportional to the edges drawn, not to `n_src·n_dst`.
pub(crate) fn erdos_renyi(
    streams: &EdgeStreams,
    n_src: u32,
    n_dst: u32,
    p: f64,
    max_edges: u64,
) -> Option<(Vec<u32>, Vec<u32>)> {
    debug_assert!(p > 0.0 && p < 1.0);
    let log_q = libm::log1p(-p);
    let chunks: Vec<(Vec<u32>, Vec<u32>)> = (0..(n_dst as usize).div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut rng = streams.stream(c as u64);
            let rows = CHUNK.min(n_dst as usize - c * CHUNK);
            let mut degrees = Vec::with_capacity(rows);
            let mut src = Vec::with_capacity((rows as f64 * n_src as f64 * p * 1.1) as usize + 16);
            for _ in 0..rows {
                let before = src.len();
                let mut s = 0u64;
                loop {
                    // Gap = number of failures before a success: ⌊ln U / ln(1 − p)⌋, U ∈ (0, 1].
                    let u = 1.0 - rng.random::<f64>();
                    let gap = (libm::log(u) / log_q).floor();
                    if gap >= (n_src as u64 - s) as f64 {
                        break;
                    }
                    s += gap as u64;
                    src.push(s as u32);
                    s += 1;
                }
                if src.len() == before {
                    src.push(rng.random_range(0..n_src));
                }
                degrees.push((src.len() - before) as u32);
            }
            (degrees, src)
        })
        .collect();
    let total: u64 = chunks.iter().map(|(_, s)| s.len() as u64).sum();
    if total > max_edges {
        return None;
    }
    Some(concat_chunks(n_dst, chunks))
}

/// Joins per-chunk `(degrees, sources)` into one CSR, copying chunks in parallel.
fn concat_chunks(n_dst: u32, chunks: Vec<(Vec<u32>, Vec<u32>)>) -> (Vec<u32>, Vec<u32>) {
    let mut offsets = Vec::with_capacity(n_dst as usize + 1);
    offsets.push(0u32);
    let mut acc = 0u32;
    for (degrees, _) in &chunks {
        for &d in degrees {
            acc += d;
            offsets.push(acc);
        }
    }
    let mut src = vec![0u32; acc as usize];
    let mut parts = Vec::with_capacity(chunks.len());
    let mut rest = &mut src[..];
    for (_, s) in &chunks {
        let (part, tail) = rest.split_at_mut(s.len());
        parts.push(part);
        rest = tail;
    }
    parts
        .into_par_iter()
        .zip(chunks)
        .for_each(|(part, (_, s))| part.copy_from_slice(&s));
    (offsets, src)
}

/// The `k` uniform perfect matchings of `k-lift:k` on fibers of size `n`: matching `i`
/// joins target `t` to source `matchings[i][t]`, a uniform random permutation drawn from
/// stream `i` (Fisher–Yates, in parallel over matchings).
pub(crate) fn matchings(streams: &EdgeStreams, n: u32, k: u32) -> Vec<Vec<u32>> {
    (0..k)
        .into_par_iter()
        .map(|i| {
            let mut perm: Vec<u32> = (0..n).collect();
            perm.shuffle(&mut streams.stream(i as u64));
            perm
        })
        .collect()
}

/// `k-lift:k`: the union of [`matchings`], multi-edges kept, so every target and every
/// source has degree exactly `k`. Returns the CSR sources (`k` per target, sorted).
pub(crate) fn k_lift(streams: &EdgeStreams, n: u32, k: u32) -> Vec<u32> {
    let matchings = matchings(streams, n, k);
    let k = k as usize;
    let mut src = vec![0u32; n as usize * k];
    src.par_chunks_mut(CHUNK * k)
        .enumerate()
        .for_each(|(c, rows)| {
            for (r, row) in rows.chunks_exact_mut(k).enumerate() {
                let t = c * CHUNK + r;
                for (x, m) in row.iter_mut().zip(&matchings) {
                    *x = m[t];
                }
                row.sort_unstable();
            }
        });
    src
}
