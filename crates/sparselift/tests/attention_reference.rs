//! Dense lifts of the `attention` and `transformer` zoo modules against hand-written
//! multi-head attention and transformer blocks: a lift of size `n` is `n` heads and `n`
//! hidden MLP channels per block (docs/semantics.md §1, §2). The reference below is plain
//! loops over tokens, heads and features, reading its weights out of `θ` by base edge and
//! lifted edge (CSR order: by target, then by source); its gradients are central
//! differences in f64. The engine must agree in f32, outputs and gradients (`θ` and
//! inputs), to 1e-5.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparselift::engine::{Network, Workspace};
use sparselift::lift::{LiftSpec, Sampler};
use sparselift::module::Module;
use sparselift::zoo::{self, AttentionConfig, TransformerConfig};

/// The weights of one base edge, looked up by lifted edge.
struct Weights<'a> {
    net: &'a Network,
    edge: usize,
    theta: &'a [f64],
}

impl<'a> Weights<'a> {
    fn new(net: &'a Network, theta: &'a [f64], name: &str) -> Self {
        let edge = net
            .module()
            .find_edge(name)
            .unwrap_or_else(|| panic!("no edge {name}"));
        Weights { net, edge, theta }
    }

    /// The weight of the lifted edge from copy `s` of the source to copy `t` of the target.
    fn of(&self, s: usize, t: usize) -> &'a [f64] {
        let m = self.net.module();
        let e = m.edge(self.edge);
        let wn = e.weight_numel();
        let bip = self.net.lift().edge(self.edge);
        let k = match bip.csr() {
            None => t * self.net.lift().fiber(e.from) + s,
            Some((offsets, sources)) => (offsets[t] as usize..offsets[t + 1] as usize)
                .find(|&k| sources[k] as usize == s)
                .unwrap_or_else(|| panic!("no lifted edge {s} -> {t} over {}", e.name)),
        };
        &self.theta[self.net.param_range(self.edge)][k * wn..][..wn]
    }

    /// The single source copy of target copy `t` (a `k-lift:1` edge).
    fn source_of(&self, t: usize) -> usize {
        let (offsets, sources) = self
            .net
            .lift()
            .edge(self.edge)
            .csr()
            .expect("a sparse edge");
        assert_eq!(offsets[t + 1] - offsets[t], 1);
        sources[offsets[t] as usize] as usize
    }
}

fn gelu(z: f64) -> f64 {
    let k = (2.0 / std::f64::consts::PI).sqrt();
    0.5 * z * (1.0 + (k * (z + 0.044715 * z * z * z)).tanh())
}

/// `y W^T` for a token map `y` (`[L][inp]`) and `W` (`[out][inp]`, row-major).
fn linear(y: &[Vec<f64>], w: &[f64], out: usize) -> Vec<Vec<f64>> {
    let inp = y[0].len();
    y.iter()
        .map(|row| {
            (0..out)
                .map(|o| (0..inp).map(|k| w[o * inp + k] * row[k]).sum())
                .collect()
        })
        .collect()
}

/// `W y` along tokens, `W` of shape `[L][L]`.
fn token_mix(y: &[Vec<f64>], w: &[f64]) -> Vec<Vec<f64>> {
    let l = y.len();
    (0..l)
        .map(|i| {
            (0..y[0].len())
                .map(|k| (0..l).map(|m| w[i * l + m] * y[m][k]).sum())
                .collect()
        })
        .collect()
}

fn add(acc: &mut [Vec<f64>], y: &[Vec<f64>]) {
    for (a, b) in acc.iter_mut().zip(y) {
        a.iter_mut().zip(b).for_each(|(a, b)| *a += b);
    }
}

/// One block's token mixing by `heads` heads: `Σ_h softmax(Q_h K_hᵀ/√c) V_h W_o,hᵀ`,
/// head `h` taking the scores of the copy of `s` that the `k-lift:1` edge gives it.
fn multi_head(net: &Network, th: &[f64], r: &[Vec<f64>], i: &str, heads: usize) -> Vec<Vec<f64>> {
    let (l, d) = (r.len(), r[0].len());
    let (q, k, v) = (
        Weights::new(net, th, &format!("query{i}")),
        Weights::new(net, th, &format!("key{i}")),
        Weights::new(net, th, &format!("value{i}")),
    );
    let scores = Weights::new(net, th, &format!("s{i}->a{i}"));
    let o = Weights::new(
        net,
        th,
        &format!(
            "a{i}->{}",
            if i.is_empty() {
                "y".into()
            } else {
                format!("u{i}")
            }
        ),
    );
    let c = q.of(0, 0).len() / d;
    let mut out = vec![vec![0.0; d]; l];
    for h in 0..heads {
        let p = scores.source_of(h);
        let (qs, ks) = (linear(r, q.of(0, p), c), linear(r, k.of(0, p), c));
        let vals = linear(r, v.of(0, h), c);
        let mut a = vec![vec![0.0; c]; l];
        for t in 0..l {
            let s: Vec<f64> = (0..l)
                .map(|m| (0..c).map(|j| qs[t][j] * ks[m][j]).sum::<f64>() / (c as f64).sqrt())
                .collect();
            let max = s.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = s.iter().map(|s| (s - max).exp()).collect();
            let z: f64 = e.iter().sum();
            for j in 0..c {
                a[t][j] = (0..l).map(|m| e[m] / z * vals[m][j]).sum();
            }
        }
        add(&mut out, &linear(&a, o.of(h, 0), d));
    }
    out
}

/// The `attention` zoo module by hand: `y = x + Σ_h heads`.
fn attention_reference(net: &Network, th: &[f64], x: &[Vec<f64>], heads: usize) -> Vec<f64> {
    // The attention entry's edges are called query, key, value, s->a and a->y.
    let mut y = x.to_vec();
    add(&mut y, &multi_head(net, th, x, "", heads));
    y.concat()
}

/// The `transformer` zoo module by hand.
fn transformer_reference(
    net: &Network,
    th: &[f64],
    x: &[Vec<f64>],
    cfg: &TransformerConfig,
    n: usize,
) -> Vec<f64> {
    let d = cfg.features;
    let mut r = x.to_vec();
    for b in 1..=cfg.blocks {
        let prev = if b == 1 {
            "x".to_string()
        } else {
            format!("r{}", b - 1)
        };
        let mut u = r.clone();
        if cfg.attention {
            add(&mut u, &multi_head(net, th, &r, &b.to_string(), n));
        }
        if cfg.token_mix {
            let t_in = Weights::new(net, th, &format!("{prev}->t{b}"));
            let t_out = Weights::new(net, th, &format!("t{b}->u{b}"));
            for h in 0..n {
                let mut t = token_mix(&r, t_in.of(0, h));
                t.iter_mut().flatten().for_each(|z| *z = gelu(*z));
                add(&mut u, &token_mix(&t, t_out.of(h, 0)));
            }
        }
        let (w1, w2) = (
            Weights::new(net, th, &format!("u{b}->h{b}")),
            Weights::new(net, th, &format!("h{b}->r{b}")),
        );
        r = u.clone();
        for h in 0..n {
            let hidden: Vec<Vec<f64>> = linear(&u, w1.of(0, h), 1)
                .into_iter()
                .map(|z| vec![gelu(z[0])])
                .collect();
            add(&mut r, &linear(&hidden, w2.of(h, 0), d));
        }
    }
    let flat = r.concat();
    let readout = Weights::new(net, th, &format!("r{}->y", cfg.blocks)).of(0, 0);
    let bias = Weights::new(net, th, "one->y").of(0, 0);
    (0..cfg.output)
        .map(|o| {
            bias[o]
                + (0..flat.len())
                    .map(|q| readout[o * flat.len() + q] * flat[q])
                    .sum::<f64>()
        })
        .collect()
}

/// A reference implementation of one network: `(network, θ, tokens) → outputs`.
type ReferenceOf<'a> = dyn Fn(&Network, &[f64], &[Vec<f64>]) -> Vec<f64> + 'a;

/// Outputs of the reference on a feature-major batch `x`, feature-major.
type Reference<'a> = dyn Fn(&[f64], &[Vec<f64>]) -> Vec<f64> + 'a;

fn reference_batch(
    f: &Reference<'_>,
    th: &[f64],
    x: &[f64],
    l: usize,
    d: usize,
    b: usize,
) -> Vec<f64> {
    let outs: Vec<Vec<f64>> = (0..b)
        .map(|i| {
            let tokens: Vec<Vec<f64>> = (0..l)
                .map(|t| (0..d).map(|k| x[(t * d + k) * b + i]).collect())
                .collect();
            f(th, &tokens)
        })
        .collect();
    let k = outs[0].len();
    (0..k * b).map(|j| outs[j % b][j / b]).collect()
}

/// Entries agree to `tol` relative to the largest reference entry (at least 1).
fn assert_close<T: Copy + Into<f64> + std::fmt::Display>(
    engine: &[T],
    reference: &[f64],
    tol: f64,
    what: &str,
) {
    assert_eq!(engine.len(), reference.len(), "{what}");
    let scale = reference.iter().fold(1.0f64, |m, r| m.max(r.abs()));
    for (i, (&e, &r)) in engine.iter().zip(reference).enumerate() {
        let err = (e.into() - r).abs() / scale;
        assert!(
            err <= tol,
            "{what}[{i}]: engine {e} vs reference {r} (error {err:e})"
        );
    }
}

/// Dense lift of size `n`; the engine in f32 against the reference in f64 on the same
/// (f32-representable) weights and inputs: outputs, `∇θ` and `∇x` of `Σ c ⊙ f(x)`.
fn check(module: Module, n: u32, l: usize, d: usize, f: &ReferenceOf<'_>) {
    let lift = LiftSpec::new(n, Sampler::Dense)
        .seed(5)
        .sample(&module)
        .unwrap();
    let net = Network::new(module, lift).unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(17);
    let b = 3;
    let theta: Vec<f32> = net.init::<f64>(3).iter().map(|&w| w as f32).collect();
    let x: Vec<f32> = (0..net.module().input_dim() * b)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let c: Vec<f32> = (0..net.module().output_dim() * b)
        .map(|_| rng.random_range(-1.0f32..1.0))
        .collect();
    let mut ws = Workspace::<f32>::new(&net, b);
    let out = net.forward(&theta, &x, &mut ws).to_vec();
    let mut g = vec![0.0f32; theta.len()];
    let mut gx = vec![0.0f32; x.len()];
    net.backward(&theta, &c, &mut ws, &mut g, Some(&mut gx));

    let th64: Vec<f64> = theta.iter().map(|&w| w as f64).collect();
    let x64: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let c64: Vec<f64> = c.iter().map(|&v| v as f64).collect();
    let reference = |th: &[f64], tokens: &[Vec<f64>]| f(&net, th, tokens);
    let run = |th: &[f64], x: &[f64]| reference_batch(&reference, th, x, l, d, b);
    let loss =
        |th: &[f64], x: &[f64]| -> f64 { run(th, x).iter().zip(&c64).map(|(o, c)| o * c).sum() };
    assert_close(&out, &run(&th64, &x64), 1e-5, "output");
    // Five-point central differences: truncation error O(h⁴).
    let h = 3e-5;
    let fd =
        |f: &dyn Fn(f64) -> f64| (f(-2.0 * h) - 8.0 * f(-h) + 8.0 * f(h) - f(2.0 * h)) / (12.0 * h);
    let g_ref: Vec<f64> = (0..th64.len())
        .map(|i| {
            fd(&|e| {
                let mut t = th64.clone();
                t[i] += e;
                loss(&t, &x64)
            })
        })
        .collect();
    let gx_ref: Vec<f64> = (0..x64.len())
        .map(|i| {
            fd(&|e| {
                let mut xx = x64.clone();
                xx[i] += e;
                loss(&th64, &xx)
            })
        })
        .collect();
    assert!(g_ref.iter().all(|g| g.is_finite()) && g_ref.iter().any(|&g| g.abs() > 1e-3));
    // The engine in f64 on the same weights agrees more tightly still.
    let mut ws = Workspace::<f64>::new(&net, b);
    let out64 = net.forward(&th64, &x64, &mut ws).to_vec();
    let mut g64 = vec![0.0f64; th64.len()];
    let mut gx64 = vec![0.0f64; x64.len()];
    net.backward(&th64, &c64, &mut ws, &mut g64, Some(&mut gx64));
    assert_close(&out64, &run(&th64, &x64), 1e-10, "f64 output");
    assert_close(&g64, &g_ref, 1e-7, "f64 ∇θ");
    assert_close(&gx64, &gx_ref, 1e-7, "f64 ∇x");
    assert_close(&g, &g_ref, 1e-5, "∇θ");
    assert_close(&gx, &gx_ref, 1e-5, "∇x");
}

#[test]
fn dense_lift_of_attention_is_multi_head_attention() {
    let (l, d, c, n) = (5, 4, 2, 3);
    let module = zoo::attention(&AttentionConfig {
        tokens: l,
        features: d,
        width: c,
    })
    .unwrap();
    check(module, n, l, d, &|net, th, x| {
        attention_reference(net, th, x, n as usize)
    });
}

#[test]
fn dense_lift_of_the_transformer_is_a_transformer() {
    let (l, d, c, n) = (5, 4, 2, 3);
    for (attention, token_mix) in [(true, false), (true, true), (false, true)] {
        let cfg = TransformerConfig {
            tokens: l,
            features: d,
            width: c,
            blocks: 2,
            output: 3,
            attention,
            token_mix,
            ..Default::default()
        };
        let module = zoo::transformer(&cfg).unwrap();
        check(module, n, l, d, &|net, th, x| {
            transformer_reference(net, th, x, &cfg, n as usize)
        });
    }
}

/// The mixer is the transformer with token mixing by `token_mix` only.
#[test]
fn dense_lift_of_the_mixer_is_an_mlp_mixer() {
    let (l, d, n) = (5, 4, 3);
    let module = zoo::mixer(&zoo::MixerConfig {
        tokens: l,
        features: d,
        blocks: 2,
        output: 3,
        ..Default::default()
    })
    .unwrap();
    let cfg = TransformerConfig {
        tokens: l,
        features: d,
        blocks: 2,
        output: 3,
        attention: false,
        token_mix: true,
        ..Default::default()
    };
    check(module, n, l, d, &|net, th, x| {
        transformer_reference(net, th, x, &cfg, n as usize)
    });
}

/// The built-in digits are 8×8 images stored row-major (pixel `(r, c)` at feature
/// `8 r + c`), so an input vertex of shape `[8, 8]` reads one as 8 tokens, the image rows,
/// of 8 features: the transformer's outputs on a digit equal the reference's on the rows.
#[test]
fn digits_are_read_as_8_tokens_of_8_pixels() {
    let (train, _) = sparselift::data::digits();
    // The first sample of the file: its first two rows, as stored (counts 0..=16).
    let x = train.input(0);
    let rows: Vec<Vec<f64>> = (0..8)
        .map(|r| (0..8).map(|c| (x[8 * r + c] * 16.0) as f64).collect())
        .collect();
    assert_eq!(rows[0], [0.0, 0.0, 5.0, 13.0, 9.0, 1.0, 0.0, 0.0]);
    assert_eq!(rows[1], [0.0, 0.0, 13.0, 15.0, 10.0, 15.0, 5.0, 0.0]);
    let cfg = TransformerConfig {
        output: 10,
        ..Default::default()
    };
    let module = zoo::transformer(&cfg).unwrap();
    assert_eq!(module.input_dim(), train.input_dim());
    let lift = LiftSpec::new(2, Sampler::Dense).sample(&module).unwrap();
    let net = Network::new(module, lift).unwrap();
    let theta: Vec<f64> = net.init(1);
    let input: Vec<f64> = x.iter().map(|&v| v as f64).collect();
    let mut ws = Workspace::<f64>::new(&net, 1);
    let out = net.forward(&theta, &input, &mut ws).to_vec();
    let tokens: Vec<Vec<f64>> = rows
        .iter()
        .map(|r| r.iter().map(|v| v / 16.0).collect())
        .collect();
    let want = transformer_reference(&net, &theta, &tokens, &cfg, 2);
    for (o, w) in out.iter().zip(&want) {
        assert!((o - w).abs() <= 1e-9 * w.abs().max(1.0), "{o} vs {w}");
    }
}
