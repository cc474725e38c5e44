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
use crate::module::Module;
use crate::train::{Optimizer, Sgd, SgdConfig};
use crate::zoo::{attention, cnn, mlp, AttentionConfig, CnnConfig, MlpConfig};
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
    /// Samples per call.
    pub batch: usize,
    /// Scalar edges (weights) of the whole network: a `linear` lifted edge carrying a
    /// `1 × 64` weight counts 64, the unit of `BENCHMARKS.md` and of the peers' counts.
    pub edges: u64,
    /// Median seconds per call.
    pub seconds: f64,
    /// Useful edge-samples per second: `edges · batch / seconds`.
    pub edge_samples_per_s: f64,
    /// GFLOP/s at 2 flops per edge-sample forward, 4 backward, 6 for a training step.
    pub gflops: f64,
    /// `gflops` divided by the machine limit measured in the same run.
    pub ratio_to_limit: f64,
}

/// A whole benchmark run.
#[derive(Clone, Debug, Serialize)]
pub struct BenchReport {
    /// Single-precision GEMM rate of this machine, measured in this run.
    pub limit_gflops: f64,
    /// Threads of the pool the suite ran on.
    pub threads: usize,
    /// Every measured configuration, in the order measured.
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

/// Median time of `f` over enough repetitions to last about `budget` seconds (3 to 1000):
/// on a shared machine a short window is at the mercy of one busy moment.
fn time(budget: f64, mut f: impl FnMut()) -> f64 {
    f();
    let t = Instant::now();
    f();
    let once = t.elapsed().as_secs_f64().max(1e-7);
    let reps = ((budget / once) as usize).clamp(3, 1000);
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

/// One benchmark network with its parameters, a random batch and buffers: the
/// operations the suite times, also used by the `criterion` benches.
pub struct Case {
    net: Network,
    theta: Vec<f32>,
    x: Vec<f32>,
    ws: Workspace<f32>,
    grad: Vec<f32>,
    grad_out: Vec<f32>,
    sgd: Sgd<f32>,
}

impl Case {
    /// The suite's network: `64 → n → n → 10` with the hidden-to-hidden edge lifted by
    /// `in-degree:k` (complete when `k ≥ n`), every other edge dense.
    pub fn mlp(n: u32, k: u32, batch: usize) -> Result<Case> {
        let module = mlp(&MlpConfig {
            input: 64,
            hidden: 2,
            output: 10,
            ..Default::default()
        })?;
        Case::lifted(module, n, "h1->h2", k, batch)
    }

    /// The zoo `cnn` of two 3 × 3 conv layers on `side × side` maps, 10 outputs, lifted to
    /// `channels` channels per layer: the edge between the layers `in-degree:k` when `k <
    /// channels`, else complete; the input edge and the readout complete.
    pub fn cnn(side: usize, channels: u32, k: u32, batch: usize) -> Result<Case> {
        let module = cnn(&CnnConfig {
            height: side,
            width: side,
            output: 10,
            ..Default::default()
        })?;
        Case::lifted(module, channels, "c1->c2", k, batch)
    }

    /// The zoo `attention` on `tokens × features` token maps with heads of `width`, lifted
    /// densely to `heads` heads.
    pub fn attention(cfg: &AttentionConfig, heads: u32, batch: usize) -> Result<Case> {
        let module = attention(cfg)?;
        let lift = LiftSpec::new(heads, Sampler::Dense)
            .seed(1)
            .sample(&module)?;
        Case::new(Network::new(module, lift)?, batch)
    }

    /// `module` lifted to size `n` (seed 1) with every edge complete but `edge`, which is
    /// `in-degree:k` when `k < n`.
    fn lifted(module: Module, n: u32, edge: &str, k: u32, batch: usize) -> Result<Case> {
        let sampler = if k >= n {
            Sampler::Dense
        } else {
            Sampler::InDegree(k)
        };
        let lift = LiftSpec::new(n, Sampler::Dense)
            .edge(edge, sampler)
            .seed(1)
            .sample(&module)?;
        Case::new(Network::new(module, lift)?, batch)
    }

    /// The same case with its `conv` and `token_mix` edges on the per-edge loops, the
    /// reference of their fast path.
    pub fn per_edge(mut self) -> Case {
        self.ws = self.ws.per_edge();
        self
    }

    /// `net` with initial parameters and a random batch.
    pub fn new(net: Network, batch: usize) -> Result<Case> {
        let theta: Vec<f32> = net.init(1);
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let x = (0..net.module().input_dim() * batch)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        Ok(Case {
            ws: Workspace::new(&net, batch),
            grad: vec![0.0; theta.len()],
            grad_out: vec![1e-3; net.module().output_dim() * batch],
            sgd: Sgd::new(SgdConfig::default(), theta.len()),
            net,
            theta,
            x,
        })
    }

    /// Scalar edges (weights) of the whole network.
    pub fn edges(&self) -> u64 {
        self.net.num_params() as u64
    }

    /// The forward pass.
    pub fn forward(&mut self) {
        self.net.forward(&self.theta, &self.x, &mut self.ws);
    }

    /// The backward pass (after a forward pass).
    pub fn backward(&mut self) {
        let (net, ws) = (&self.net, &mut self.ws);
        net.backward(&self.theta, &self.grad_out, ws, &mut self.grad, None);
    }

    /// A training step: forward, backward, SGD update.
    pub fn train_step(&mut self) {
        self.forward();
        self.backward();
        self.sgd.step(&mut self.theta, &self.grad, 1e-4);
    }
}

/// Measures one sparse configuration: forward, backward, training step (forward,
/// backward, SGD update), and for batch 1 inference (forward alone).
pub fn measure(n: u32, k: u32, batch: usize, limit: f64) -> Result<Vec<BenchResult>> {
    let mut case = Case::mlp(n, k, batch)?;
    let edges = case.edges();
    let budget = 0.5;
    let fwd = time(budget, || case.forward());
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
    push("backward", time(budget, || case.backward()), 4.0);
    let step = time(budget, || case.train_step());
    push("train_step", step, 6.0);
    Ok(out)
}

/// The dense lift of width `n` at `batch`: a training step's GFLOP/s.
pub fn measure_dense(n: u32, batch: usize, limit: f64) -> Result<BenchResult> {
    let mut r = measure(n, n, batch, limit)?.pop().expect("a train step");
    r.kind = "dense".into();
    Ok(r)
}

/// One convolution measurement: a training step of a [`Case::cnn`].
#[derive(Clone, Debug, Serialize)]
pub struct CnnResult {
    /// Map side (maps are `side × side`).
    pub side: usize,
    /// Channels per layer (the lift size).
    pub channels: u32,
    /// In-degree of the layer-to-layer edge (`channels` for the dense lift).
    pub k: u32,
    /// Samples per step.
    pub batch: usize,
    /// `rows` (the fast path) or `per-edge` (the reference loops).
    pub route: String,
    /// Median seconds per training step (forward, backward, SGD update).
    pub seconds: f64,
    /// Useful GFLOP/s of the step: three times the forward flops (every tap of every
    /// lifted edge, padding included) per second.
    pub gflops: f64,
    /// `gflops` divided by the machine limit measured in the same run.
    pub ratio_to_limit: f64,
    /// For a sparse lift on the fast path: its step's time over the dense lift's, the
    /// median of the ratios of windows timed alternately (a ratio of windows minutes
    /// apart would measure the shared machine's drift as much as the code).
    pub of_dense: Option<f64>,
}

/// `(side, channels, k, batch)` of the convolution measurement: dense lifts and their
/// density-1/4 channel lifts (`k = channels / 4`).
pub fn cnn_configs(quick: bool) -> Vec<(usize, u32, u32, usize)> {
    let mut c = vec![
        (8, 32, 32, 64),
        (8, 32, 8, 64),
        (8, 64, 64, 128),
        (8, 64, 16, 128),
    ];
    if !quick {
        c.extend([(32, 32, 32, 64), (32, 32, 8, 64)]);
    }
    c
}

/// Training steps of [`Case::cnn`]`(side, channels, k, batch)` on the fast path and on
/// the per-edge loops, timed alternately `rounds` times each (medians of medians: the
/// machine is shared), the reference only when `reference`; a sparse lift (`k <
/// channels`) alternately with its dense lift too, for [`CnnResult::of_dense`].
pub fn measure_cnn(
    (side, channels, k, batch): (usize, u32, u32, usize),
    limit: f64,
    rounds: usize,
    reference: bool,
) -> Result<Vec<CnnResult>> {
    let mut fast = Case::cnn(side, channels, k, batch)?;
    let mut slow = reference
        .then(|| Case::cnn(side, channels, k, batch).map(Case::per_edge))
        .transpose()?;
    let mut dense = (k < channels)
        .then(|| Case::cnn(side, channels, channels, batch))
        .transpose()?;
    let flops = 3.0 * fast.net.flops_per_sample() as f64 * batch as f64;
    let (mut tf, mut ts, mut of_dense) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        tf.push(time(0.5, || fast.train_step()));
        if let Some(slow) = &mut slow {
            ts.push(time(0.5, || slow.train_step()));
        }
        if let Some(dense) = &mut dense {
            of_dense.push(tf[tf.len() - 1] / time(0.5, || dense.train_step()));
        }
    }
    let result = |route: &str, seconds: f64| CnnResult {
        side,
        channels,
        k,
        batch,
        route: route.into(),
        seconds,
        gflops: flops / seconds / 1e9,
        ratio_to_limit: flops / seconds / 1e9 / limit,
        of_dense: None,
    };
    let mut out = vec![CnnResult {
        of_dense: (!of_dense.is_empty()).then(|| median(of_dense)),
        ..result("rows", median(tf))
    }];
    if !ts.is_empty() {
        out.push(result("per-edge", median(ts)));
    }
    Ok(out)
}

/// One attention measurement: a training step of a [`Case::attention`].
#[derive(Clone, Debug, Serialize)]
pub struct AttentionResult {
    /// Tokens `L`.
    pub tokens: usize,
    /// Features per token.
    pub features: usize,
    /// Width `c` of each head.
    pub width: usize,
    /// Heads (the lift size).
    pub heads: u32,
    /// Samples per step.
    pub batch: usize,
    /// Median seconds per training step (forward, backward, SGD update).
    pub seconds: f64,
}

/// `(tokens, features, width, heads, batch)` of the attention measurement: the digits
/// transformer's shape, and a wider one where the products dominate.
pub fn attention_configs(quick: bool) -> Vec<(usize, usize, usize, u32, usize)> {
    let mut c = vec![(8, 8, 4, 16, 64), (64, 64, 16, 4, 64)];
    if !quick {
        c.push((128, 128, 32, 4, 32));
    }
    c
}

/// Training steps of [`Case::attention`] at `(tokens, features, width, heads, batch)`:
/// the median of `rounds` medians.
pub fn measure_attention(
    (tokens, features, width, heads, batch): (usize, usize, usize, u32, usize),
    rounds: usize,
) -> Result<AttentionResult> {
    let cfg = AttentionConfig {
        tokens,
        features,
        width,
    };
    let mut case = Case::attention(&cfg, heads, batch)?;
    let seconds = median(
        (0..rounds)
            .map(|_| time(0.5, || case.train_step()))
            .collect(),
    );
    Ok(AttentionResult {
        tokens,
        features,
        width,
        heads,
        batch,
        seconds,
    })
}

/// The Scale measurement of BENCHMARKS.md: training steps of a large lift, and the
/// memory they take.
#[derive(Clone, Debug, Serialize)]
pub struct ScaleReport {
    /// Base module reference.
    pub module: String,
    /// Lift size (fiber of each hidden layer).
    pub n: u32,
    /// In-degree of the hidden-to-hidden edges.
    pub k: u32,
    /// Samples per training step.
    pub batch: usize,
    /// Scalar edges (weights) of the whole network.
    pub edges: u64,
    /// Seconds to sample the lift.
    pub sample_seconds: f64,
    /// Seconds of each training step (forward, backward, SGD update); the first also
    /// touches every buffer for the first time.
    pub step_seconds: Vec<f64>,
    /// Useful edge-samples per second of the fastest step.
    pub edge_samples_per_s: f64,
    /// Peak resident memory of the process (Linux `VmHWM`), when the platform reports it.
    pub peak_rss_bytes: Option<u64>,
}

/// Samples the `in-degree:k` lift of size `n` of the zoo MLP `16 → 3 hidden → 1` (for
/// `n = 10⁶`, `k = 100`: 2.2·10⁸ scalar edges) and times `steps` f32 training steps at
/// `batch`.
pub fn measure_scale(n: u32, k: u32, batch: usize, steps: usize) -> Result<ScaleReport> {
    let module = mlp(&MlpConfig {
        input: 16,
        hidden: 3,
        output: 1,
        ..Default::default()
    })?;
    let t = Instant::now();
    let lift = LiftSpec::new(n, Sampler::InDegree(k))
        .seed(1)
        .sample(&module)?;
    let sample_seconds = t.elapsed().as_secs_f64();
    let mut case = Case::new(Network::new(module, lift)?, batch)?;
    let step_seconds: Vec<f64> = (0..steps)
        .map(|_| {
            let t = Instant::now();
            case.train_step();
            t.elapsed().as_secs_f64()
        })
        .collect();
    let edges = case.edges();
    let fastest = step_seconds.iter().copied().fold(f64::INFINITY, f64::min);
    Ok(ScaleReport {
        module: "zoo:mlp?input=16&hidden=3&output=1".into(),
        n,
        k,
        batch,
        edges,
        sample_seconds,
        step_seconds,
        edge_samples_per_s: edges as f64 * batch as f64 / fastest,
        peak_rss_bytes: peak_rss(),
    })
}

/// Peak resident set size of this process, from `/proc/self/status` (Linux).
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
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
    for n in if quick {
        vec![1024, 16384]
    } else {
        vec![1024, 4096, 16384]
    } {
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
