//! Statistical tests of the sampler kernels. Seeds are fixed, so every test is
//! deterministic; thresholds sit ~6 standard deviations out, so a correct sampler passes
//! for essentially every seed while a biased one (e.g. an off-by-one in a range, a
//! skipped source, a non-uniform permutation) fails by a wide margin.

use super::samplers::{self, EdgeStreams, CHUNK};
use std::collections::HashMap;

/// Pearson's statistic of observed counts against a common expected count.
fn chi_square(counts: &[u64], expected: f64) -> f64 {
    counts
        .iter()
        .map(|&c| (c as f64 - expected).powi(2) / expected)
        .sum()
}

/// A generous upper bound for a χ² variable with `df` degrees of freedom (mean `df`,
/// standard deviation `√(2 df)`): six standard deviations above the mean.
fn chi_square_bound(df: usize) -> f64 {
    df as f64 + 6.0 * (2.0 * df as f64).sqrt()
}

fn rows(src: &[u32], k: usize) -> impl Iterator<Item = &[u32]> {
    src.chunks_exact(k)
}

#[test]
fn in_degree_gives_exactly_k_distinct_sorted_sources_per_target() {
    // Both kernels: rejection (k·8 ≤ n) and selection sampling (k·8 > n), and k = n.
    for (n_src, n_dst, k) in [
        (1000, 3 * CHUNK as u32 + 7, 10),
        (20, 500, 15),
        (7, 50, 7),
        (1, 9, 1),
    ] {
        let src = samplers::in_degree(&EdgeStreams::new(3, 1), n_src, n_dst, k);
        assert_eq!(src.len(), (n_dst * k) as usize);
        for row in rows(&src, k as usize) {
            assert!(
                row.windows(2).all(|w| w[0] < w[1]),
                "row {row:?} not strictly increasing"
            );
            assert!(row.iter().all(|&s| s < n_src));
        }
    }
}

#[test]
fn in_degree_picks_sources_uniformly() {
    // Every source is picked by a target with probability k/n: counts over all targets
    // are multinomial-like with mean n_dst·k/n_src.
    for (n_src, n_dst, k) in [(50, 20_000, 5), (12, 20_000, 9)] {
        let src = samplers::in_degree(&EdgeStreams::new(11, 0), n_src, n_dst, k);
        let mut counts = vec![0u64; n_src as usize];
        for &s in &src {
            counts[s as usize] += 1;
        }
        // Each count is a sum of n_dst independent Bernoulli(k/n) (one per target), with
        // variance mean·(1 − k/n): scaled by that, the statistic has mean n_src.
        let q = k as f64 / n_src as f64;
        let x2 = chi_square(&counts, n_dst as f64 * q) / (1.0 - q);
        assert!(
            x2 < chi_square_bound(n_src as usize),
            "χ² = {x2} for n={n_src}, k={k}"
        );
    }
}

#[test]
fn in_degree_subsets_are_uniform() {
    // The whole k-subset, not just each source, must be uniform: count every subset.
    // n = 16, k = 2 uses the rejection kernel with frequent duplicates (1 in 16 rows),
    // n = 5, k = 2 the selection kernel.
    for (n_src, k, subsets) in [(16u32, 2u32, 120usize), (5, 2, 10)] {
        let n_dst = 200 * subsets as u32;
        let src = samplers::in_degree(&EdgeStreams::new(5, 2), n_src, n_dst, k);
        let mut counts: HashMap<Vec<u32>, u64> = HashMap::new();
        for row in rows(&src, k as usize) {
            *counts.entry(row.to_vec()).or_default() += 1;
        }
        assert_eq!(
            counts.len(),
            subsets,
            "some {k}-subsets of {n_src} never drawn"
        );
        let counts: Vec<u64> = counts.into_values().collect();
        let x2 = chi_square(&counts, n_dst as f64 / subsets as f64);
        assert!(
            x2 < chi_square_bound(subsets - 1),
            "χ² = {x2} for n={n_src}, k={k}"
        );
    }
}

/// Exact mean and variance of the edge count of `erdos-renyi:p` with the fix-up: per
/// target `X = B` if `B > 0` else 1, with `B ~ Binomial(n_src, p)`.
fn er_moments(n_src: u32, n_dst: u32, p: f64) -> (f64, f64) {
    let n = n_src as f64;
    let q0 = (1.0 - p).powf(n);
    let mean = n * p + q0;
    let second = n * p * (1.0 - p) + (n * p).powi(2) + q0;
    let var = second - mean * mean;
    (n_dst as f64 * mean, n_dst as f64 * var)
}

#[test]
fn erdos_renyi_counts_match_the_binomial_with_fix_ups() {
    // A dense-ish case and a sparse one where a third of the targets need the fix-up.
    for (n_src, n_dst, p) in [(200u32, 300u32, 0.05), (500, 5000, 0.002)] {
        let (mean, var) = er_moments(n_src, n_dst, p);
        let sd = var.sqrt();
        let seeds = 20;
        let mut total = 0.0;
        for seed in 0..seeds {
            let (offsets, src) =
                samplers::erdos_renyi(&EdgeStreams::new(seed, 4), n_src, n_dst, p, u64::MAX)
                    .unwrap();
            let count = src.len() as f64;
            assert!(
                (count - mean).abs() < 4.0 * sd,
                "seed {seed}: {count} edges, expected {mean} ± {sd}"
            );
            total += count;
            for t in 0..n_dst as usize {
                let row = &src[offsets[t] as usize..offsets[t + 1] as usize];
                assert!(!row.is_empty(), "target {t} has no in-edge");
                assert!(row.windows(2).all(|w| w[0] < w[1]) && row.iter().all(|&s| s < n_src));
            }
        }
        let avg = total / seeds as f64;
        assert!(
            (avg - mean).abs() < 4.0 * sd / (seeds as f64).sqrt(),
            "mean {avg} vs {mean}"
        );
    }
}

#[test]
fn erdos_renyi_picks_sources_uniformly_and_targets_alike() {
    let (n_src, n_dst, p) = (40u32, 3 * CHUNK as u32, 0.1);
    let (offsets, src) =
        samplers::erdos_renyi(&EdgeStreams::new(9, 0), n_src, n_dst, p, u64::MAX).unwrap();
    let mut counts = vec![0u64; n_src as usize];
    for &s in &src {
        counts[s as usize] += 1;
    }
    let x2 = chi_square(&counts, src.len() as f64 / n_src as f64);
    assert!(
        x2 < chi_square_bound(n_src as usize - 1),
        "sources: χ² = {x2}"
    );
    // The first and last chunks draw from different streams but the same distribution.
    let degree = |range: std::ops::Range<usize>| {
        let (a, b) = (offsets[range.start], offsets[range.end]);
        (b - a) as f64 / range.len() as f64
    };
    let sd = (n_src as f64 * p * (1.0 - p) / CHUNK as f64).sqrt();
    let (first, last) = (degree(0..CHUNK), degree(2 * CHUNK..3 * CHUNK));
    assert!(
        (first - last).abs() < 6.0 * sd,
        "mean degrees {first} vs {last}"
    );
}

#[test]
fn erdos_renyi_stops_at_the_edge_limit() {
    assert!(samplers::erdos_renyi(&EdgeStreams::new(0, 0), 100, 100, 0.5, 1000).is_none());
}

#[test]
fn k_lift_is_a_union_of_perfect_matchings() {
    let streams = EdgeStreams::new(21, 3);
    for (n, k) in [(2 * CHUNK as u32 + 3, 1u32), (1000, 4), (1, 3)] {
        let matchings = samplers::matchings(&streams, n, k);
        assert_eq!(matchings.len(), k as usize);
        for m in &matchings {
            let mut seen = vec![false; n as usize];
            for &s in m {
                assert!(
                    !std::mem::replace(&mut seen[s as usize], true),
                    "source {s} matched twice"
                );
            }
        }
        // The CSR is exactly the multiset union of the matchings.
        let src = samplers::k_lift(&streams, n, k);
        for (t, row) in rows(&src, k as usize).enumerate() {
            let mut expected: Vec<u32> = matchings.iter().map(|m| m[t]).collect();
            expected.sort_unstable();
            assert_eq!(row, &expected[..]);
        }
        let mut out_degree = vec![0u32; n as usize];
        for &s in &src {
            out_degree[s as usize] += 1;
        }
        assert!(
            out_degree.iter().all(|&d| d == k),
            "out-degrees are not all {k}"
        );
    }
}

#[test]
fn k_lift_matchings_are_uniform_permutations() {
    // Over many seeds, σ(t) = s must have probability 1/n for every (t, s).
    let n = 8usize;
    let seeds = 4000;
    let mut counts = vec![0u64; n * n];
    for seed in 0..seeds {
        let m = &samplers::matchings(&EdgeStreams::new(seed, 0), n as u32, 1)[0];
        for (t, &s) in m.iter().enumerate() {
            counts[t * n + s as usize] += 1;
        }
    }
    // Each cell is Binomial(seeds, 1/n), so the statistic has mean n(n − 1).
    let x2 = chi_square(&counts, seeds as f64 / n as f64);
    assert!(x2 < chi_square_bound(n * (n - 1)), "χ² = {x2}");
}

#[test]
fn distinct_streams_differ_and_equal_streams_repeat() {
    use rand::Rng;
    let draw = |seed, edge, stream| {
        let mut rng = EdgeStreams::new(seed, edge).stream(stream);
        (0..4).map(|_| rng.random::<u64>()).collect::<Vec<_>>()
    };
    assert_eq!(draw(1, 2, 3), draw(1, 2, 3));
    assert_ne!(draw(1, 2, 3), draw(2, 2, 3));
    assert_ne!(draw(1, 2, 3), draw(1, 3, 3));
    assert_ne!(draw(1, 2, 3), draw(1, 2, 4));
    // Seed and edge index are not interchangeable.
    assert_ne!(draw(1, 2, 0), draw(2, 1, 0));
}
