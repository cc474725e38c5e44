//! Throughput measurement (see the repository's `BENCHMARKS.md`): useful edge-samples per
//! second of the forward pass, the backward pass, a whole training step and batch-1
//! inference on `in-degree:k` lifts of the MLP base `64 → n → n → 10`, the dense lift's
//! GFLOP/s, and the machine limit — a large single-precision GEMM through the same `gemm`
//! crate the engine uses — measured in the same run, so every figure is also a ratio to it.
//!
//! An edge-sample is one lifted scalar weight applied to one sample: 2 flops forward,
//! 4 backward (input and weight gradients), 6 for a training step.

use crate::engine::{Network, Workspace};
use crate::lift::{LiftSpec, Sampler};
use crate::zoo::{mlp, MlpConfig};
use crate::Result;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use std::time::Instant;

/// One measured configuration.
#[derive(Clone, Debug, Serialize)]
pub struct BenchResult {
    /// `forward`, `backward`, `train_step`, `inference` or `dense`.
    pub kind: String,
    /// Lift size (fiber of each hidden layer).
    pub n: u32,
    /// In-degree of the hidden-to-hidden edge (`n` for the dense lift).
    pub k: u32,
    pub batch: usize,
    /// Scalar edges (weights) of the whole network: a `linear` lifted edge carrying a
    /// `1 × 64` weight counts 64, as in PERF.md's unit and in the peers' counts.
    pub edges: u64,
    /// Median seconds per call.
    pub seconds: f64,
    pub edge_samples_per_s: f64,
    pub gflops: f64,
    pub ratio_to_limit: f64,
}

/// A whole benchmark run.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Single-precision GEMM rate of this machine, measured in this run.
    pub limit_gflops: f64,
    pub threads: usize,
    pub results: Vec<BenchResult>,
}

/// `(n, k, batch)` of the full suite; `quick` keeps the acceptance configuration
/// (16384, 32, 256) and a few small ones.
pub fn configs(quick: bool) -> Vec<(u32, u32, usize)> {
    if quick {
        return vec![
            (1024, 32, 256),
            (16384, 32, 256),
            (16384, 32, 1),
            (16384, 8, 32),
        ];
    }
    let mut c = Vec::new();
    for n in [1024, 16384, 131072] {
        for k in [8, 32, 128] {
            for batch in [1, 32, 256] {
                c.push((n, k, batch));
            }
        }
    }
    c
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}

/// Median time of `f` over enough repetitions to last about `budget` seconds (3 to 25).
fn time(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    f();
    let once = t.elapsed().as_secs_f64().max(1e-7);
    let reps = ((budget / once) as usize).clamp(3, 25);
    median(
        (0..reps)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// The machine limit: GFLOP/s of a 2048³ f32 GEMM on all threads.
pub fn machine_limit() -> f64 {
    let m = 2048;
    let (a, b) = (vec![1.0f32; m * m], vec![0.5f32; m * m]);
    let mut c = vec![0.0f32; m * m];
    let t = time(1.0, || {
        // SAFETY: all three matrices are m × m, row-major, and distinct.
        unsafe {
            gemm::gemm(
                m,
                m,
                m,
                c.as_mut_ptr(),
                1,
                m as isize,
                false,
                a.as_ptr(),
                1,
                m as isize,
                b.as_ptr(),
                1,
                m as isize,
                1.0,
                1.0,
                false,
                false,
                false,
                gemm::Parallelism::Rayon(0),
            );
        }
    });
    2.0 * (m as f64).powi(3) / t / 1e9
}

fn network(n: u32, sampler: Sampler) -> Result<Network> {
    let module = mlp(&MlpConfig {
        input: 64,
        hidden: 2,
        output: 10,
        ..Default::default()
    })?;
    let lift = LiftSpec::new(n, Sampler::Dense)
        .edge("h1->h2", sampler)
        .seed(1)
        .sample(&module)?;
    Network::new(module, lift)
}

/// Measures one sparse configuration: forward, backward, training step (forward,
/// backward, SGD update), and for batch 1 inference (forward alone).
pub fn measure(n: u32, k: u32, batch: usize, limit: f64) -> Result<Vec<BenchResult>> {
    let sampler = if k >= n {
        Sampler::Dense
    } else {
        Sampler::InDegree(k)
    };
    let net = network(n, sampler)?;
    let theta: Vec<f32> = net.init(1);
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let x: Vec<f32> = (0..64 * batch)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let mut ws = Workspace::new(&net, batch);
    let mut grad = vec![0f32; theta.len()];
    let gout = vec![1e-3f32; 10 * batch];
    let edges = net.num_params() as u64;
    let budget = 0.5;
    let fwd = time(budget, || {
        net.forward(&theta, &x, &mut ws);
    });
    let mut out = Vec::new();
    let mut push = |kind: &str, seconds: f64, flops_per: f64| {
        let es = edges as f64 * batch as f64 / seconds;
        let gflops = es * flops_per / 1e9;
        out.push(BenchResult {
            kind: kind.into(),
            n,
            k,
            batch,
            edges,
            seconds,
            edge_samples_per_s: es,
            gflops,
            ratio_to_limit: gflops / limit,
        });
    };
    if batch == 1 {
        push("inference", fwd, 2.0);
        return Ok(out);
    }
    push("forward", fwd, 2.0);
    let bwd = time(budget, || {
        net.backward(&theta, &gout, &mut ws, &mut grad, None)
    });
    push("backward", bwd, 4.0);
    let mut th = theta.clone();
    let step = time(budget, || {
        net.forward(&th, &x, &mut ws);
        net.backward(&th, &gout, &mut ws, &mut grad, None);
        crate::engine::sgd_step(&mut th, &grad, 1e-4);
    });
    push("train_step", step, 6.0);
    Ok(out)
}

/// The dense lift of width `n` at `batch`: a training step's GFLOP/s.
pub fn measure_dense(n: u32, batch: usize, limit: f64) -> Result<BenchResult> {
    let mut r = measure(n, n, batch, limit)?.pop().expect("a train step");
    r.kind = "dense".into();
    Ok(r)
}

/// Runs the suite; `progress` sees each result as it is measured.
pub fn run(quick: bool, mut progress: impl FnMut(&BenchResult)) -> Result<BenchReport> {
    let limit = machine_limit();
    let mut results = Vec::new();
    for (n, k, batch) in configs(quick) {
        for r in measure(n, k, batch, limit)? {
            progress(&r);
            results.push(r);
        }
    }
    for n in if quick { vec![1024] } else { vec![1024, 4096] } {
        let r = measure_dense(n, 256, limit)?;
        progress(&r);
        results.push(r);
    }
    Ok(BenchReport {
        limit_gflops: limit,
        threads: rayon::current_num_threads(),
        results,
    })
}
