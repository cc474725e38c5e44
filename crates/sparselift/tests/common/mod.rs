//! Synthetic sweep results for report tests: what a real sweep looks like (success rate
//! rising with lift size, power-law loss decay, plateaus, a few divergences) without
//! training anything.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparselift::experiment::RunRecord;
use sparselift::train::StatusKind;

pub const EPSILON: f64 = 1e-3;
/// With 24 seeds only 24/24 successes clear `1 − δ = 0.8` (the lower bound of 24/24 is
/// 0.858, of 23/24 0.789), as in a real sweep of that size.
pub const DELTA: f64 = 0.2;
pub const SIZES: [u32; 7] = [4, 8, 16, 32, 64, 128, 256];
const T_MAX: f64 = 1000.0;

/// Records of two families over [`SIZES`] × `seeds` seeds, from the RNG seed `rng_seed`.
/// `dense` converges reliably from n ≈ 32, `sparse` from n ≈ 128.
pub fn synthetic_runs(seeds: u64, rng_seed: u64) -> Vec<RunRecord> {
    let mut rng = ChaCha8Rng::seed_from_u64(rng_seed);
    let mut runs = Vec::new();
    for (family, midpoint, in_degree) in [
        ("mlp-sparse-in4", 4.3, Some(4u64)),
        ("mlp-dense", 2.5, None),
    ] {
        for size in SIZES {
            let p = 1.0 / (1.0 + (-(f64::from(size).log2() - midpoint) * 2.2).exp());
            for seed in 0..seeds {
                let mut r = RunRecord::new(family, size, seed);
                let u: f64 = rng.random();
                let l0 = 0.8 + 0.4 * rng.random::<f64>();
                let tau = 0.5 + 2.0 * rng.random::<f64>();
                let plateau = if u < p {
                    0.0
                } else {
                    10f64.powf(-2.7 + 2.2 * rng.random::<f64>())
                };
                let diverges = u >= p && rng.random::<f64>() < 0.08;
                let loss = |t: f64| plateau + (l0 - plateau) / (1.0 + (t / tau).powf(1.6));
                let mut traj = Vec::new();
                let mut time_to_eps = None;
                for k in 0..50 {
                    let t = 1e-2 * (T_MAX / 1e-2f64).powf(f64::from(k) / 49.0);
                    let l = loss(t);
                    if diverges && t > 30.0 {
                        traj.push([t, f64::INFINITY]);
                        break;
                    }
                    traj.push([t, l]);
                    if l <= EPSILON {
                        time_to_eps = Some(t);
                        break;
                    }
                }
                let last = traj.last().unwrap()[1];
                r.status = if diverges {
                    StatusKind::Diverged
                } else if time_to_eps.is_some() {
                    StatusKind::Converged
                } else {
                    StatusKind::Timeout
                };
                r.final_loss = last;
                r.min_loss = traj
                    .iter()
                    .map(|p| p[1])
                    .filter(|l| l.is_finite())
                    .fold(f64::INFINITY, f64::min);
                r.time_to_eps = time_to_eps;
                let n = u64::from(size);
                let edges = match in_degree {
                    Some(k) => 16 * n.min(k * 4) + n * k + n,
                    None => 16 * n + n + n,
                };
                r.edges = edges;
                r.params = edges + n + 1;
                r.flops_per_sample = 2 * edges + n;
                r.param_bytes = 4 * r.params;
                r.index_bytes = if in_degree.is_some() {
                    4 * edges + 4 * (n + 2)
                } else {
                    0
                };
                r.grad_evals = 6 * traj.len() as u64 + rng.random_range(0..40);
                r.wall_s = 2e-7 * (r.grad_evals * edges) as f64 * (1.0 + 0.2 * rng.random::<f64>());
                r.trajectory = traj;
                runs.push(r);
            }
        }
    }
    runs
}
