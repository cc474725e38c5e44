//! Engine correctness: finite-difference gradient checks on random lifts of random base
//! DAGs, agreement with an independent dense MLP, and thread-count determinism.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sparselift::engine::{Network, Workspace};
use sparselift::lift::{Bipartite, Lift, LiftSpec, Sampler};
use sparselift::module::{Activation, Module, ModuleBuilder, Op};
use sparselift::zoo;

/// A random base DAG exercising every op and every activation. Inputs have shapes [3]
/// and [2, 3]; hidden vertices pick an activation and a shape that fits it, then in-edges
/// from earlier vertices with an op that fits the two shapes: `outer` makes [2, 2] scores
/// from queries and keys of a random width, `dsoftmul` applies [2, 2] scores to [2, c]
/// values.
fn random_module(rng: &mut ChaCha8Rng) -> Module {
    let shapes: [&[usize]; 5] = [&[1], &[3], &[4], &[2, 3], &[2, 4]];
    let mut b = ModuleBuilder::new("random");
    b.input("x0", &[3]).input("x1", &[2, 3]).constant("one");
    let mut made: Vec<(String, Vec<usize>)> =
        vec![("x0".into(), vec![3]), ("x1".into(), vec![2, 3])];
    let hidden = rng.random_range(2..6);
    for i in 0..hidden {
        let name = format!("v{i}");
        let act = Activation::ALL[rng.random_range(0..Activation::ALL.len())];
        let shape = match act {
            Activation::Outer => vec![2, 2],
            Activation::Dsoftmul => vec![2, rng.random_range(3..5)],
            _ => shapes[rng.random_range(0..shapes.len())].to_vec(),
        };
        // The pre-activation shape of each slot.
        let slots: Vec<Vec<usize>> = match act {
            Activation::Outer => vec![vec![2, rng.random_range(1..4)]; 2],
            Activation::Dsoftmul => vec![vec![2, 2], shape.clone()],
            Activation::Product => vec![shape.clone(); 2],
            _ => vec![shape.clone(); rng.random_range(1..4)],
        };
        let last = i + 1 == hidden;
        if last {
            b.output(&name, &shape, act);
        } else {
            b.hidden(&name, &shape, act);
        }
        for z in &slots {
            if z.len() == 1 && rng.random_bool(0.25) {
                // Any map can be read out to a vector.
                let (src, _) = &made[rng.random_range(0..made.len())];
                b.edge(src, &name, Op::Readout).out(z[0]);
                continue;
            }
            // Sources with the same leading axes can always reach us through `linear`.
            let ok: Vec<&(String, Vec<usize>)> = made
                .iter()
                .filter(|(_, s)| s[..s.len() - 1] == z[..z.len() - 1])
                .collect();
            let (src, s) = ok[rng.random_range(0..ok.len())];
            let mut ops = vec![Op::Linear];
            if s == z {
                ops.extend([Op::Scalar, Op::Identity, Op::TokenMix]);
                // Odd kernels no wider than the map.
                ops.push(Op::Conv(
                    s.iter().map(|&d| if d >= 3 { 3 } else { 1 }).collect(),
                ));
            }
            let op = ops[rng.random_range(0..ops.len())].clone();
            let linear = op == Op::Linear;
            b.edge(src, &name, op);
            if linear {
                b.out(z[z.len() - 1]);
            }
        }
        if act.arity().is_none() && shape.len() == 1 && rng.random_bool(0.5) {
            // A scalar bias into a [1] vertex is fused with its activation by the engine.
            let op = if shape == [1] { Op::Scalar } else { Op::Linear };
            b.edge("one", &name, op);
        }
        made.push((name, shape));
    }
    b.build().expect("random module is valid")
}

/// A random lift: hidden fibers of 1–4 vertices, random bipartite graphs in which every
/// target has at least one in-edge.
fn random_lift(module: &Module, rng: &mut ChaCha8Rng) -> Lift {
    let fibers: Vec<u32> = module
        .vertices()
        .iter()
        .map(|v| {
            if v.is_source() {
                1
            } else {
                rng.random_range(1..5)
            }
        })
        .collect();
    let edges = module
        .edges()
        .iter()
        .map(|e| {
            let (ns, nt) = (fibers[e.from], fibers[e.to]);
            if rng.random_bool(0.3) {
                return Bipartite::complete(ns, nt).unwrap();
            }
            let mut pairs = Vec::new();
            for t in 0..nt {
                pairs.push((rng.random_range(0..ns), t));
                for s in 0..ns {
                    if rng.random_bool(0.4) {
                        pairs.push((s, t));
                    }
                }
            }
            Bipartite::from_pairs(ns, nt, &pairs).unwrap()
        })
        .collect();
    Lift::new(module, fibers, edges).unwrap()
}

/// `L(θ, x) = Σ c ⊙ f(x)`; returns L, ∇θ, ∇x.
fn loss_and_grads(
    net: &Network,
    theta: &[f64],
    x: &[f64],
    c: &[f64],
    b: usize,
) -> (f64, Vec<f64>, Vec<f64>) {
    let mut ws = Workspace::new(net, b);
    let out = net.forward(theta, x, &mut ws);
    let loss = out.iter().zip(c).map(|(o, c)| o * c).sum();
    let mut g = vec![0.0; theta.len()];
    let mut gx = vec![0.0; x.len()];
    net.backward(theta, c, &mut ws, &mut g, Some(&mut gx));
    (loss, g, gx)
}

fn assert_close(analytic: &[f64], numeric: &[f64], what: &str) {
    let norm: f64 = numeric.iter().map(|v| v * v).sum::<f64>().sqrt().max(1e-3);
    for (i, (a, n)) in analytic.iter().zip(numeric).enumerate() {
        let rel = (a - n).abs() / norm;
        assert!(
            rel <= 1e-6,
            "{what}[{i}]: analytic {a} vs finite difference {n} (relative error {rel:e})"
        );
    }
}

/// Checks `∇θ` and `∇x` of a random linear functional of the outputs against central
/// differences at batch `b`; returns how many entries of each were checked.
fn check_gradients(
    net: &Network,
    b: usize,
    seed: u64,
    rng: &mut ChaCha8Rng,
    what: &str,
) -> [usize; 2] {
    let h = 1e-6;
    let theta: Vec<f64> = net.init(seed);
    let x: Vec<f64> = (0..net.module().input_dim() * b)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let c: Vec<f64> = (0..net.module().output_dim() * b)
        .map(|_| rng.random_range(-1.0..1.0))
        .collect();
    let (_, g, gx) = loss_and_grads(net, &theta, &x, &c, b);
    let fd = |f: &dyn Fn(f64) -> f64| (f(h) - f(-h)) / (2.0 * h);
    let num_g: Vec<f64> = (0..theta.len())
        .map(|i| {
            fd(&|d| {
                let mut t = theta.clone();
                t[i] += d;
                loss_and_grads(net, &t, &x, &c, b).0
            })
        })
        .collect();
    let num_gx: Vec<f64> = (0..x.len())
        .map(|i| {
            fd(&|d| {
                let mut xx = x.clone();
                xx[i] += d;
                loss_and_grads(net, &theta, &xx, &c, b).0
            })
        })
        .collect();
    assert_close(&g, &num_g, &format!("{what} ∇θ"));
    assert_close(&gx, &num_gx, &format!("{what} ∇x"));
    [g.len(), gx.len()]
}

#[test]
fn gradients_match_central_differences_on_random_lifts_of_random_dags() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut checked = [0usize; 2];
    for case in 0..40 {
        let module = random_module(&mut rng);
        let lift = random_lift(&module, &mut rng);
        let net = Network::new(module, lift).unwrap();
        // Every fourth case at a batch of whole vectors, which takes the fused backward of
        // sparse scalar edges; every eighth at a whole register tile, which also takes
        // the fused backward of readouts.
        let b = match case % 8 {
            0 => 128,
            4 => 32,
            _ => 3,
        };
        let [g, gx] = check_gradients(&net, b, case, &mut rng, &format!("case {case}"));
        checked[0] += g;
        checked[1] += gx;
    }
    assert!(
        checked[0] > 1000 && checked[1] > 100,
        "too few entries checked: {checked:?}"
    );
}

/// Self-attention as a base module (docs/semantics.md §1): queries and keys are linear
/// maps of the token map `x ∈ R^{L×c}` to width `d`, `outer` makes the scores, `dsoftmul`
/// applies them to linear values, and a linear map of the result is the output.
fn attention(l: usize, c: usize, d: usize) -> Module {
    let mut b = ModuleBuilder::new("attention");
    b.input("x", &[l, c])
        .hidden("s", &[l, l], Activation::Outer)
        .hidden("a", &[l, c], Activation::Dsoftmul)
        .output("y", &[l, c], Activation::Identity);
    b.edge("x", "s", Op::Linear)
        .out(d)
        .edge("x", "s", Op::Linear)
        .out(d);
    b.edge("s", "a", Op::Identity).edge("x", "a", Op::Linear);
    b.edge("a", "y", Op::Linear);
    b.build().unwrap()
}

/// The attention module with 4 `outer` vertices (heads) over 3 `dsoftmul` vertices:
/// every head into every `dsoftmul` vertex when `dense`, else two heads into each.
fn lift_attention(module: Module, dense: bool) -> Network {
    let fiber = |name: &str| match name {
        "s" => 4,
        "a" => 3,
        _ => 1,
    };
    let fibers: Vec<u32> = module.vertices().iter().map(|v| fiber(&v.name)).collect();
    let edges = module
        .edges()
        .iter()
        .map(|e| {
            let (ns, nt) = (fibers[e.from], fibers[e.to]);
            if dense || ns == 1 || nt == 1 {
                return Bipartite::complete(ns, nt).unwrap();
            }
            let pairs: Vec<(u32, u32)> =
                (0..nt).flat_map(|t| [(t, t), ((t + 2) % ns, t)]).collect();
            Bipartite::from_pairs(ns, nt, &pairs).unwrap()
        })
        .collect();
    let lift = Lift::new(&module, fibers, edges).unwrap();
    Network::new(module, lift).unwrap()
}

/// `outer` and `dsoftmul` alone, on heads summed into the `dsoftmul` vertices by sparse
/// and dense lifts, with even and odd `L` and `c`: gradients against central
/// differences.
#[test]
fn attention_gradients_match_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(31);
    for (l, c, d) in [(2, 3, 2), (3, 2, 3), (4, 4, 1), (3, 5, 2)] {
        for dense in [true, false] {
            let net = lift_attention(attention(l, c, d), dense);
            for b in [1, 3] {
                let what = format!("L {l}, c {c}, d {d}, dense {dense}, batch {b}");
                check_gradients(&net, b, 7, &mut rng, &what);
            }
        }
    }
}

/// `max |a − b| / max |b|`.
fn relative_error(a: &[f32], b: &[f64]) -> f64 {
    let scale = b.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let err = a
        .iter()
        .zip(b)
        .fold(0.0f64, |m, (&a, &b)| m.max((f64::from(a) - b).abs()));
    err / scale
}

/// Forward and backward of `x`, weighted by `c`, in f32 and in f64 from the same `θ`.
fn both_precisions(
    net: &Network,
    theta: &[f64],
    x: &[f64],
    c: &[f64],
    b: usize,
) -> [(Vec<f32>, Vec<f64>); 3] {
    let (y64, g64) = {
        let mut ws = Workspace::new(net, b);
        let y = net.forward(theta, x, &mut ws).to_vec();
        let mut g = vec![0.0; theta.len()];
        net.backward(theta, c, &mut ws, &mut g, None);
        (y, g)
    };
    let f32s = |v: &[f64]| -> Vec<f32> { v.iter().map(|&x| x as f32).collect() };
    let (theta32, x32, c32) = (f32s(theta), f32s(x), f32s(c));
    let mut ws = Workspace::new(net, b);
    let y32 = net.forward(&theta32, &x32, &mut ws).to_vec();
    let mut g32 = vec![0.0; theta.len()];
    net.backward(&theta32, &c32, &mut ws, &mut g32, None);
    // Edge 1 of the attention module carries the keys.
    let range = net.param_range(1);
    [
        (y32, y64),
        (g32[range.clone()].to_vec(), g64[range].to_vec()),
        (g32, g64),
    ]
}

/// The f32 passes agree with the f64 ones to about f32's precision.
#[test]
fn attention_in_f32_agrees_with_f64() {
    let mut rng = ChaCha8Rng::seed_from_u64(8);
    let b = 5;
    for dense in [true, false] {
        let net = lift_attention(attention(4, 3, 2), dense);
        let theta: Vec<f64> = net.init(2);
        let x: Vec<f64> = (0..12 * b).map(|_| rng.random_range(-1.0..1.0)).collect();
        let c: Vec<f64> = (0..12 * b).map(|_| rng.random_range(-1.0..1.0)).collect();
        for (what, (a, w)) in ["outputs", "∇θ of the keys", "∇θ"]
            .iter()
            .zip(both_precisions(&net, &theta, &x, &c, b))
        {
            let err = relative_error(&a, &w);
            assert!(err < 1e-5, "dense {dense}: {what} differ by {err:e}");
        }
    }
}

/// Inputs of 100 give attention scores of about 1e3 and more, which `exp` alone would
/// overflow even in f64: outputs and gradients stay finite in both precisions.
#[test]
fn attention_with_large_scores_stays_finite() {
    let mut rng = ChaCha8Rng::seed_from_u64(12);
    let b = 4;
    let net = lift_attention(attention(4, 4, 4), true);
    let theta: Vec<f64> = net.init(3);
    let x: Vec<f64> = (0..16 * b)
        .map(|_| 100.0 * rng.random_range(-1.0..1.0))
        .collect();
    let mut ws = Workspace::new(&net, b);
    net.forward(&theta, &x, &mut ws);
    let scores = ws.activation(1); // vertex 1 is `s`
    assert!(scores.iter().any(|s| s.abs() > 1e3), "scores are not large");
    let c = vec![1.0; 16 * b];
    for (what, (a, w)) in ["outputs", "∇θ of the keys", "∇θ"]
        .iter()
        .zip(both_precisions(&net, &theta, &x, &c, b))
    {
        assert!(a.iter().all(|v| v.is_finite()), "f32 {what}");
        assert!(w.iter().all(|v| v.is_finite()), "f64 {what}");
    }
}

/// A sparse lift of the zoo MLP `3 → n → n → 2`, with bias edges: the input edge complete
/// (a GEMM), the hidden one `in-degree:3`, the readout complete into one output copy.
fn sparse_mlp(activation: Activation, bias: bool) -> Network {
    let module = zoo::mlp(&zoo::MlpConfig {
        input: 3,
        hidden: 2,
        output: 2,
        activation,
        bias,
    })
    .unwrap();
    lift_mlp(module, 6, |_, ns, nt| {
        let pairs: Vec<(u32, u32)> = (0..nt)
            .flat_map(|t| (0..3).map(move |j| ((t + 2 * j + 1) % ns, t)))
            .collect();
        Bipartite::from_pairs(ns, nt, &pairs).unwrap()
    })
}

/// A zoo MLP lifted with hidden fibers of size `n`: `hidden(edge name, n_src, n_dst)`
/// gives the edges between two hidden fibers, the others are complete.
fn lift_mlp(
    module: Module,
    n: u32,
    mut hidden: impl FnMut(&str, u32, u32) -> Bipartite,
) -> Network {
    let fibers: Vec<u32> = module
        .vertices()
        .iter()
        .map(|v| if v.name.starts_with('h') { n } else { 1 })
        .collect();
    let edges: Vec<Bipartite> = module
        .edges()
        .iter()
        .map(|e| {
            let (ns, nt) = (fibers[e.from], fibers[e.to]);
            if ns > 1 && nt > 1 {
                hidden(&e.name, ns, nt)
            } else {
                Bipartite::complete(ns, nt).unwrap()
            }
        })
        .collect();
    Network::new(module.clone(), Lift::new(&module, fibers, edges).unwrap()).unwrap()
}

/// The passes that apply an activation themselves — the sparse forward writing `y`
/// directly, the sweeps by source turning `∂L/∂y` into `∂L/∂z` and summing the bias
/// gradient — against central differences, for every elementwise activation (those
/// whose `φ'` needs `z` take the separate passes), at the batches that take each path:
/// 1 (inference loop), 3 (remainders), 32 (fused sparse backward), 128 (and fused
/// readout backward).
#[test]
fn activations_fused_into_the_sparse_passes_match_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let h = 1e-6;
    for a in Activation::ALL.into_iter().filter(|a| a.is_elementwise()) {
        for bias in [true, false] {
            let net = sparse_mlp(a, bias);
            for b in [1, 3, 32, 128] {
                let theta: Vec<f64> = net.init(5);
                let x: Vec<f64> = (0..3 * b).map(|_| rng.random_range(-1.0..1.0)).collect();
                let c: Vec<f64> = (0..2 * b).map(|_| rng.random_range(-1.0..1.0)).collect();
                let (_, g, _) = loss_and_grads(&net, &theta, &x, &c, b);
                let num_g: Vec<f64> = (0..theta.len())
                    .map(|i| {
                        let mut t = theta.clone();
                        t[i] += h;
                        let up = loss_and_grads(&net, &t, &x, &c, b).0;
                        t[i] -= 2.0 * h;
                        (up - loss_and_grads(&net, &t, &x, &c, b).0) / (2.0 * h)
                    })
                    .collect();
                assert_close(&g, &num_g, &format!("{a}, bias {bias}, batch {b}: ∇θ"));
            }
        }
    }
}

/// Every (op, activation) pair appears in some random module above; this makes sure.
#[test]
fn random_modules_cover_every_op_and_activation() {
    let mut rng = ChaCha8Rng::seed_from_u64(2024);
    let mut ops = std::collections::BTreeSet::new();
    let mut acts = std::collections::BTreeSet::new();
    for _ in 0..40 {
        let m = random_module(&mut rng);
        let _ = random_lift(&m, &mut rng);
        ops.extend(m.edges().iter().map(|e| e.op.name()));
        acts.extend(
            m.vertices()
                .iter()
                .filter(|v| !v.is_source())
                .map(|v| v.activation.name()),
        );
    }
    assert_eq!(ops.len(), 6, "ops covered: {ops:?}");
    assert_eq!(
        acts.len(),
        Activation::ALL.len(),
        "activations covered: {acts:?}"
    );
}

/// The dense lift of width n of the zoo MLP is the standard MLP of width n: compare with
/// plain matrix code, reading the weights from θ by the documented layout.
#[test]
fn dense_lift_of_the_zoo_mlp_is_the_standard_mlp() {
    // One output makes the last weight matrix a single row, whose strides are degenerate.
    for d_out in [3, 1] {
        check_dense_mlp(d_out);
    }
}

fn check_dense_mlp(d_out: usize) {
    let (d_in, n, b) = (5, 7, 4);
    let module = zoo::mlp(&zoo::MlpConfig {
        input: d_in,
        hidden: 2,
        output: d_out,
        ..Default::default()
    })
    .unwrap();
    let fibers: Vec<u32> = module
        .vertices()
        .iter()
        .map(|v| if v.name.starts_with('h') { n as u32 } else { 1 })
        .collect();
    let edges = module
        .edges()
        .iter()
        .map(|e| Bipartite::complete(fibers[e.from], fibers[e.to]).unwrap())
        .collect();
    let lift = Lift::new(&module, fibers, edges).unwrap();
    let net = Network::new(module, lift).unwrap();
    let theta: Vec<f32> = net.init(3);
    let p = |name: &str| &theta[net.param_range(net.module().find_edge(name).unwrap())];
    let (w1, w2, w3) = (p("x->h1"), p("h1->h2"), p("h2->y"));
    let (b1, b2, b3) = (p("one->h1"), p("one->h2"), p("one->y"));
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let xs: Vec<Vec<f32>> = (0..b)
        .map(|_| (0..d_in).map(|_| rng.random_range(-1.0..1.0)).collect())
        .collect();
    // Reference: h1 = relu(W1 x + b1), W1[t][k] = w1[t*d_in + k]; h2 = relu(W2 h1 + b2),
    // W2[t][s] = w2[t*n + s]; y = W3 h2 + b3 with W3[o][s] = w3[s*d_out + o] (CSR order:
    // one target, sources s, each carrying a d_out × 1 weight).
    let relu = |v: f32| v.max(0.0);
    let mut want = vec![0f32; d_out * b];
    for (i, x) in xs.iter().enumerate() {
        let h1: Vec<f32> = (0..n)
            .map(|t| relu((0..d_in).map(|k| w1[t * d_in + k] * x[k]).sum::<f32>() + b1[t]))
            .collect();
        let h2: Vec<f32> = (0..n)
            .map(|t| relu((0..n).map(|s| w2[t * n + s] * h1[s]).sum::<f32>() + b2[t]))
            .collect();
        for o in 0..d_out {
            want[o * b + i] = (0..n).map(|s| w3[s * d_out + o] * h2[s]).sum::<f32>() + b3[o];
        }
    }
    let x: Vec<f32> = (0..d_in)
        .flat_map(|k| xs.iter().map(move |x| x[k]))
        .collect();
    let mut ws = Workspace::new(&net, b);
    let got = net.forward(&theta, &x, &mut ws).to_vec();
    for (g, w) in got.iter().zip(&want) {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "output {g} vs reference {w}"
        );
    }
    // Gradients of ½‖y‖² against the reference backprop, for the largest weight block.
    let mut grad = vec![0f32; theta.len()];
    net.backward(&theta, &got, &mut ws, &mut grad, None);
    let g2 = &grad[net.param_range(net.module().find_edge("h1->h2").unwrap())];
    let mut want_g2 = vec![0f32; n * n];
    for (i, x) in xs.iter().enumerate() {
        let z1: Vec<f32> = (0..n)
            .map(|t| (0..d_in).map(|k| w1[t * d_in + k] * x[k]).sum::<f32>() + b1[t])
            .collect();
        let h1: Vec<f32> = z1.iter().map(|&v| relu(v)).collect();
        let z2: Vec<f32> = (0..n)
            .map(|t| (0..n).map(|s| w2[t * n + s] * h1[s]).sum::<f32>() + b2[t])
            .collect();
        for t in 0..n {
            let gy2: f32 = (0..d_out).map(|o| w3[t * d_out + o] * got[o * b + i]).sum();
            let gz2 = if z2[t] > 0.0 { gy2 } else { 0.0 };
            for s in 0..n {
                want_g2[t * n + s] += gz2 * h1[s];
            }
        }
    }
    for (g, w) in g2.iter().zip(&want_g2) {
        assert!(
            (g - w).abs() <= 1e-5 * (1.0 + w.abs()),
            "∇W2 {g} vs reference {w}"
        );
    }
}

fn run_with_threads(
    threads: usize,
    net: &Network,
    theta: &[f32],
    x: &[f32],
    b: usize,
) -> (Vec<f32>, Vec<f32>) {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap();
    pool.install(|| {
        let mut ws = Workspace::new(net, b);
        let out = net.forward(theta, x, &mut ws).to_vec();
        let mut g = vec![0f32; theta.len()];
        net.backward(theta, &out, &mut ws, &mut g, None);
        (out, g)
    })
}

#[test]
fn forward_and_backward_are_bit_identical_on_one_and_two_threads() {
    let module = zoo::mlp(&zoo::MlpConfig {
        input: 8,
        hidden: 3,
        output: 2,
        ..Default::default()
    })
    .unwrap();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let net = lift_mlp(module, 3000, |name, ns, nt| {
        if name == "h2->h3" {
            return Bipartite::complete(ns, nt).unwrap(); // the GEMM path
        }
        let pairs: Vec<(u32, u32)> = (0..nt)
            .flat_map(|t| (0..5).map(move |_| t))
            .map(|t| (rng.random_range(0..ns), t))
            .collect();
        Bipartite::from_pairs(ns, nt, &pairs).unwrap()
    });
    let theta: Vec<f32> = net.init(1);
    // Batch 1 takes the inference path of the sparse loops; 80 has full register tiles
    // and remainders; 160, a multiple of 32, the fused backward of scalar edges.
    for b in [1, 16, 80, 160] {
        let x: Vec<f32> = (0..8 * b).map(|_| rng.random_range(-1.0..1.0)).collect();
        let one = run_with_threads(1, &net, &theta, &x, b);
        let two = run_with_threads(2, &net, &theta, &x, b);
        assert!(
            one.0
                .iter()
                .zip(&two.0)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "outputs differ at batch {b}"
        );
        assert!(
            one.1
                .iter()
                .zip(&two.1)
                .all(|(a, b)| a.to_bits() == b.to_bits()),
            "gradients differ at batch {b}"
        );
        assert!(one.1.iter().any(|&g| g != 0.0));
    }
    // And initialisation is thread-independent too.
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let theta1: Vec<f32> = pool.install(|| net.init(1));
    assert_eq!(theta, theta1);
}

/// `conv` alone, 1-D and 2-D, kernels 1, 3 and 5 on odd and even map sizes, and
/// `token_mix` alone: a map `x` → a hidden fiber of maps `v` (tanh) by the op under test,
/// then `v` → a second fiber `u` by the same op, read out to `y`. Dense and sparse lifts;
/// gradients against central differences.
#[test]
fn conv_and_token_mix_alone_match_central_differences() {
    let mut rng = ChaCha8Rng::seed_from_u64(77);
    let mut cases: Vec<(Vec<usize>, Op)> = Vec::new();
    for k in [1, 3, 5] {
        for len in [3, 4, 6, 7] {
            if k < 2 * len {
                cases.push((vec![len], Op::Conv(vec![k])));
            }
        }
        for (h, w) in [(3, 3), (4, 5), (6, 4)] {
            if k < 2 * h.min(w) {
                cases.push((vec![h, w], Op::Conv(vec![k, k])));
            }
        }
    }
    for shape in [vec![3, 2], vec![4, 1], vec![5, 3]] {
        cases.push((shape, Op::TokenMix));
    }
    for (i, (shape, op)) in cases.into_iter().enumerate() {
        let mut b = ModuleBuilder::new("alone");
        b.input("x", &shape)
            .hidden("v", &shape, Activation::Tanh)
            .hidden("u", &shape, Activation::Tanh)
            .output("y", &[2], Activation::Identity);
        b.edge("x", "v", op.clone()).edge("v", "u", op.clone());
        b.edge("u", "y", Op::Readout);
        let module = b.build().unwrap();
        for sampler in [Sampler::Dense, Sampler::InDegree(2)] {
            let lift = LiftSpec::new(3, sampler.clone())
                .seed(i as u64)
                .sample(&module)
                .unwrap();
            let net = Network::new(module.clone(), lift).unwrap();
            let what = format!("{} on {shape:?}, {sampler}", op.name());
            check_gradients(&net, 3, i as u64, &mut rng, &what);
        }
    }
}

/// `x → a → o`, both edges `op` on maps of `shape`; fibers 1, n, n; the lifted edge
/// complete or with in-degree 2 (and at least one in-edge everywhere).
fn map_net(shape: &[usize], op: Op, n: u32, dense: bool, rng: &mut ChaCha8Rng) -> Network {
    let mut b = ModuleBuilder::new("maps");
    b.input("x", shape)
        .hidden("a", shape, Activation::Tanh)
        .output("o", shape, Activation::Identity)
        .edge("x", "a", op.clone())
        .edge("a", "o", op);
    let module = b.build().unwrap();
    let edges = [(1, n), (n, n)]
        .into_iter()
        .map(|(ns, nt)| {
            if dense || ns == 1 {
                return Bipartite::complete(ns, nt).unwrap();
            }
            let pairs: Vec<(u32, u32)> = (0..nt)
                .flat_map(|t| {
                    let s = rng.random_range(0..ns);
                    [(s, t), ((s + rng.random_range(1..ns)) % ns, t)]
                })
                .collect();
            Bipartite::from_pairs(ns, nt, &pairs).unwrap()
        })
        .collect();
    let lift = Lift::new(&module, vec![1, n, n], edges).unwrap();
    Network::new(module, lift).unwrap()
}

/// Forward output, ∇θ and ∇x at batch `b`, on the fast routes or the per-edge loops.
fn pass_f64(net: &Network, theta: &[f64], x: &[f64], b: usize, per_edge: bool) -> [Vec<f64>; 3] {
    let mut ws = Workspace::new(net, b);
    if per_edge {
        ws = ws.per_edge();
    }
    let out = net.forward(theta, x, &mut ws).to_vec();
    let mut g = vec![0.0; theta.len()];
    let mut gx = vec![0.0; x.len()];
    net.backward(theta, &out, &mut ws, &mut g, Some(&mut gx));
    [out, g, gx]
}

/// The fast routes of `conv` and `token_mix` (plan table: `conv-rows`, `token-rows`)
/// against the per-edge loops: the forward pass and the input gradient sum in the same
/// order, bit for bit; the weight gradient sums rows of a tap in another order, within
/// 1e-12 in f64. Batches of one sample, of part of a chunk of lanes, and of a whole chunk
/// and part of the next.
#[test]
fn conv_and_token_mix_fast_paths_equal_the_per_edge_loops() {
    let mut rng = ChaCha8Rng::seed_from_u64(21);
    let mut cases: Vec<(Vec<usize>, Op)> = Vec::new();
    for k in [1, 3, 5] {
        for len in [3, 4, 7, 8] {
            if k < 2 * len {
                cases.push((vec![len], Op::Conv(vec![k])));
            }
        }
        for (h, w) in [(3, 3), (4, 5), (6, 6), (7, 4)] {
            if k < 2 * h.min(w) {
                cases.push((vec![h, w], Op::Conv(vec![k, k])));
            }
        }
    }
    for shape in [[3, 2], [4, 1], [5, 3]] {
        cases.push((shape.to_vec(), Op::TokenMix));
    }
    for (shape, op) in cases {
        for dense in [true, false] {
            let net = map_net(&shape, op.clone(), 4, dense, &mut rng);
            let table = Workspace::<f64>::new(&net, 7)
                .plan()
                .table(&net, 8)
                .to_string();
            let name = if op == Op::TokenMix {
                "token-rows"
            } else {
                "conv-rows"
            };
            assert!(table.contains(name), "{table}");
            let theta: Vec<f64> = net.init(3);
            for b in [1, 7, 19] {
                let numel: usize = shape.iter().product();
                let x: Vec<f64> = (0..numel * b)
                    .map(|_| rng.random_range(-1.0..1.0))
                    .collect();
                let fast = pass_f64(&net, &theta, &x, b, false);
                let slow = pass_f64(&net, &theta, &x, b, true);
                let what = format!("{op:?} on {shape:?}, dense {dense}, batch {b}");
                assert_eq!(fast[0], slow[0], "forward, {what}");
                assert_eq!(fast[2], slow[2], "input gradient, {what}");
                for (i, (f, s)) in fast[1].iter().zip(&slow[1]).enumerate() {
                    assert!(
                        (f - s).abs() <= 1e-12 * (1.0 + s.abs()),
                        "weight gradient [{i}]: {f} vs {s}, {what}"
                    );
                }
            }
        }
    }
}
