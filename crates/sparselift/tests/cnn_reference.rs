//! The dense lift of the zoo `cnn` of size `n` is the ordinary convolutional network with
//! `n` channels per layer: checked against a convolutional network written here with
//! plain loops, its weights read from `θ` by the documented layout (per base edge, the
//! lifted edges in CSR order — target-major — each with its kernel or weight matrix
//! row-major). Outputs and gradients of the engine in f32 agree with the reference in
//! f64 to 1e-5; the reference's gradients are its own central differences.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparselift::engine::{Network, Workspace};
use sparselift::lift::{LiftSpec, Sampler};
use sparselift::module::Activation;
use sparselift::zoo::{cnn, CnnConfig};

/// One sample's channel maps, `[channel][h * w]`.
type Maps = Vec<Vec<f64>>;

/// Same-padding cross-correlation of `input` with the `k × k` kernel `w`, added to `out`.
fn conv_into(out: &mut [f64], input: &[f64], w: &[f64], (h, wd): (usize, usize), k: usize) {
    let p = k as isize / 2;
    for i in 0..h as isize {
        for j in 0..wd as isize {
            let mut acc = 0.0;
            for a in 0..k as isize {
                for c in 0..k as isize {
                    let (si, sj) = (i + a - p, j + c - p);
                    if (0..h as isize).contains(&si) && (0..wd as isize).contains(&sj) {
                        acc += w[(a * k as isize + c) as usize]
                            * input[(si * wd as isize + sj) as usize];
                    }
                }
            }
            out[(i * wd as isize + j) as usize] += acc;
        }
    }
}

fn act(a: Activation, z: f64) -> f64 {
    match a {
        Activation::Relu => z.max(0.0),
        Activation::Tanh => z.tanh(),
        other => panic!("the reference computes relu and tanh, not {other}"),
    }
}

/// The reference network on one sample `x` (`h * w` pixels): `layers` conv layers of `n`
/// channels, then a linear map of all channels' maps to `out` scores plus a bias.
fn reference(cfg: &CnnConfig, n: usize, theta: &[f64], x: &[f64]) -> Vec<f64> {
    let (h, w, k) = (cfg.height, cfg.width, cfg.kernel);
    let hw = h * w;
    let mut at = 0;
    let mut take = |len: usize| {
        let s = &theta[at..at + len];
        at += len;
        s.to_vec()
    };
    let mut maps: Maps = vec![x.to_vec()];
    for _ in 0..cfg.layers {
        let mut next: Maps = vec![vec![0.0; hw]; n];
        // Target-major: for each output channel, the kernels of every input channel.
        for out in next.iter_mut() {
            for input in &maps {
                conv_into(out, input, &take(k * k), (h, w), k);
            }
        }
        for m in &mut next {
            m.iter_mut().for_each(|v| *v = act(cfg.activation, *v));
        }
        maps = next;
    }
    let mut y = vec![0.0; cfg.output];
    for map in &maps {
        let weight = take(cfg.output * hw);
        for (o, yo) in y.iter_mut().enumerate() {
            *yo += (0..hw).map(|i| weight[o * hw + i] * map[i]).sum::<f64>();
        }
    }
    let bias = take(cfg.output);
    y.iter_mut().zip(bias).for_each(|(v, b)| *v += b);
    assert_eq!(at, theta.len(), "the reference reads every weight once");
    y
}

/// `L = Σ c ⊙ f(x)` over a batch of the reference, samples given feature-major.
fn reference_loss(cfg: &CnnConfig, n: usize, theta: &[f64], x: &[f64], c: &[f64], b: usize) -> f64 {
    let pixels = cfg.height * cfg.width;
    (0..b)
        .map(|s| {
            let xs: Vec<f64> = (0..pixels).map(|i| x[i * b + s]).collect();
            let y = reference(cfg, n, theta, &xs);
            y.iter()
                .enumerate()
                .map(|(o, v)| v * c[o * b + s])
                .sum::<f64>()
        })
        .sum()
}

fn central_differences(f: impl Fn(&[f64]) -> f64, at: &[f64]) -> Vec<f64> {
    let h = 1e-6;
    (0..at.len())
        .map(|i| {
            let (mut up, mut down) = (at.to_vec(), at.to_vec());
            up[i] += h;
            down[i] -= h;
            (f(&up) - f(&down)) / (2.0 * h)
        })
        .collect()
}

fn relative_error(engine: &[f32], reference: &[f64]) -> f64 {
    let norm = reference
        .iter()
        .map(|v| v * v)
        .sum::<f64>()
        .sqrt()
        .max(1e-12);
    let diff = engine
        .iter()
        .zip(reference)
        .map(|(&a, b)| (a as f64 - b).powi(2))
        .sum::<f64>()
        .sqrt();
    diff / norm
}

fn check(cfg: CnnConfig, n: u32, b: usize, seed: u64) {
    let module = cnn(&cfg).unwrap();
    let lift = LiftSpec::new(n, Sampler::Dense).sample(&module).unwrap();
    let net = Network::new(module, lift).unwrap();
    let theta: Vec<f64> = net.init(seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let pixels = cfg.height * cfg.width;
    let x: Vec<f64> = (0..pixels * b)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let c: Vec<f64> = (0..cfg.output * b)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();

    let (theta32, x32, c32): (Vec<f32>, Vec<f32>, Vec<f32>) = (
        theta.iter().map(|&v| v as f32).collect(),
        x.iter().map(|&v| v as f32).collect(),
        c.iter().map(|&v| v as f32).collect(),
    );
    let mut ws = Workspace::new(&net, b);
    let out = net.forward(&theta32, &x32, &mut ws).to_vec();
    let mut g = vec![0.0f32; theta.len()];
    let mut gx = vec![0.0f32; x.len()];
    net.backward(&theta32, &c32, &mut ws, &mut g, Some(&mut gx));

    let n = n as usize;
    let expected: Vec<f64> = {
        let mut y = vec![0.0; cfg.output * b];
        for s in 0..b {
            let xs: Vec<f64> = (0..pixels).map(|i| x[i * b + s]).collect();
            for (o, v) in reference(&cfg, n, &theta, &xs).into_iter().enumerate() {
                y[o * b + s] = v;
            }
        }
        y
    };
    let what = format!("{cfg:?}, n = {n}, batch {b}");
    let err = relative_error(&out, &expected);
    assert!(err < 1e-5, "outputs differ by {err:e}: {what}");
    let g_ref = central_differences(|t| reference_loss(&cfg, n, t, &x, &c, b), &theta);
    let err = relative_error(&g, &g_ref);
    assert!(err < 1e-5, "∇θ differs by {err:e}: {what}");
    let gx_ref = central_differences(|xx| reference_loss(&cfg, n, &theta, xx, &c, b), &x);
    let err = relative_error(&gx, &gx_ref);
    assert!(err < 1e-5, "∇x differs by {err:e}: {what}");
}

#[test]
fn the_dense_cnn_lift_is_the_convolutional_network_with_n_channels() {
    for (height, width, kernel, layers, n) in [(5, 4, 3, 2, 3), (4, 4, 1, 1, 2), (6, 5, 5, 2, 2)] {
        let cfg = CnnConfig {
            height,
            width,
            layers,
            kernel,
            output: 3,
            activation: Activation::Tanh,
            bias: true,
        };
        check(cfg, n, 3, 7 + n as u64);
    }
}

#[test]
fn the_dense_cnn_lift_with_relu_matches_too() {
    check(
        CnnConfig {
            height: 5,
            width: 6,
            output: 2,
            ..CnnConfig::default()
        },
        4,
        2,
        3,
    );
}
