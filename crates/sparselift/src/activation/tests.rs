use super::*;
use crate::Real;

/// Central differences in f64 at points away from the kinks of relu, leaky relu and elu.
#[test]
fn derivatives_match_finite_differences() {
    let h = 1e-6;
    for e in Elementwise::ALL {
        for &z in &[-3.1f64, -0.7, -0.05, 0.03, 0.4, 1.9, 12.0] {
            let fd = (e.phi(z + h) - e.phi(z - h)) / (2.0 * h);
            let d = e.dphi(z);
            assert!(
                (fd - d).abs() <= 1e-7 * (1.0 + d.abs()),
                "{e} at {z}: {d} vs {fd}"
            );
        }
    }
}

/// `φ'` from the output is `φ'` from the pre-activation, bit for bit, at kinks too, in
/// both precisions.
#[test]
fn derivatives_from_outputs_equal_those_from_pre_activations() {
    let points = [
        -30.0f64, -3.1, -0.7, -1e-30, -0.0, 0.0, 1e-30, 0.03, 0.4, 1.9, 12.0,
    ];
    for e in Elementwise::ALL
        .into_iter()
        .filter(|e| e.derivative_from_output())
    {
        for z in points {
            let (want, got) = (e.dphi(z), e.dphi_stored(e.phi(z)));
            assert_eq!(got.to_bits(), want.to_bits(), "{e} at {z}: {got} vs {want}");
            let z = z as f32;
            let (want, got) = (e.dphi(z), e.dphi_stored(e.phi(z)));
            assert_eq!(
                got.to_bits(),
                want.to_bits(),
                "{e} at {z}: {got} vs {want} (f32)"
            );
        }
    }
}

/// Activations whose `φ'` reads the pre-activation get it back unchanged.
#[test]
fn other_derivatives_read_the_pre_activation() {
    for e in Elementwise::ALL
        .into_iter()
        .filter(|e| !e.derivative_from_output())
    {
        for z in [-2.5f64, -0.3, 0.0, 0.7, 4.0] {
            assert_eq!(
                e.dphi_stored(z).to_bits(),
                e.dphi(z).to_bits(),
                "{e} at {z}"
            );
        }
    }
}

#[test]
fn known_values() {
    use Elementwise::*;
    assert!((Softplus.phi(1000.0f64) - 1000.0).abs() < 1e-12);
    assert!(Softplus.phi(-1000.0f64) >= 0.0);
    // GELU(0) = 0 and GELU(z) → z for large z.
    assert_eq!(Gelu.phi(0.0f64), 0.0);
    assert!((Gelu.phi(10.0f64) - 10.0).abs() < 1e-9);
    // SiLU(z) = z σ(z): σ(0) = 1/2, σ(ln 3) = 3/4.
    assert_eq!(Silu.phi(0.0f64), 0.0);
    assert!((Silu.phi(3f64.ln()) - 0.75 * 3f64.ln()).abs() < 1e-15);
    assert!(Silu.phi(-1000.0f64).abs() < 1e-300);
    // ELU: identity above 0, e^z − 1 below, continuous derivative at 0.
    assert_eq!(Elu.phi(2.5f64), 2.5);
    assert!((Elu.phi(-1.0f64) - (1.0 / std::f64::consts::E - 1.0)).abs() < 1e-15);
    assert_eq!(Elu.phi(-1000.0f64), -1.0);
    assert_eq!(Elu.dphi(0.0f64), 1.0);
}

#[test]
fn names_round_trip_and_families_partition_the_list() {
    for a in Activation::ALL {
        assert_eq!(Activation::from_name(a.name()), Some(a));
        match a.family() {
            Family::Elementwise(e) => {
                assert_eq!(Activation::from(e), a);
                assert_eq!(a.arity(), None);
            }
            Family::Joint(j) => {
                assert_eq!(Activation::from(j), a);
                assert_eq!(a.arity(), Some(j.arity()));
            }
        }
    }
    assert_eq!(Activation::from_name("swish"), None);
}

/// Entry `(i, j)` of an `[rows, cols]` map of fiber vertex `f`, sample `s`, in a
/// `[fiber][elements][batch]` buffer.
fn entry(x: &[f64], m: TokenMaps, rows: usize, cols: usize, [f, i, j, s]: [usize; 4]) -> f64 {
    x[((f * rows + i) * cols + j) * m.batch + s]
}

/// `outer` and `dsoftmul` over fibers and batches compute, for each vertex and sample,
/// the matrix formulas of docs/semantics.md §1, written out plainly.
#[test]
fn attention_units_compute_the_matrix_formulas_per_vertex_and_sample() {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let (fiber, l, c, b) = (2, 3, 2, 4);
    let m = TokenMaps {
        tokens: l,
        channels: c,
        batch: b,
    };
    let mut random =
        |n: usize| -> Vec<f64> { (0..n).map(|_| rng.random_range(-2.0..2.0)).collect() };
    let (q, k, s) = (
        random(fiber * l * c * b),
        random(fiber * l * c * b),
        random(fiber * l * l * b),
    );
    let mut scores = vec![0.0; fiber * l * l * b];
    Outer::forward(m, [&q, &k], &mut scores, &mut Scratch::default());
    let mut y = vec![0.0; fiber * l * c * b];
    Dsoftmul::forward(m, [&s, &q], &mut y, &mut Scratch::default());
    for f in 0..fiber {
        for t in 0..b {
            for i in 0..l {
                let e =
                    |x: &[f64], cols: usize, i: usize, j: usize| entry(x, m, l, cols, [f, i, j, t]);
                let row: Vec<f64> = (0..l).map(|j| e(&s, l, i, j).exp()).collect();
                let total: f64 = row.iter().sum();
                for j in 0..l {
                    let dot: f64 = (0..c).map(|a| e(&q, c, i, a) * e(&k, c, j, a)).sum();
                    let want = dot / (c as f64).sqrt();
                    assert!(
                        (e(&scores, l, i, j) - want).abs() < 1e-12,
                        "outer ({f}, {t}, {i}, {j})"
                    );
                }
                for a in 0..c {
                    let want: f64 = (0..l).map(|j| row[j] / total * e(&q, c, j, a)).sum();
                    assert!(
                        (e(&y, c, i, a) - want).abs() < 1e-12,
                        "dsoftmul ({f}, {t}, {i}, {a})"
                    );
                }
            }
        }
    }
}

/// Scores of ±1e3 overflow `exp` in both precisions; the softmax subtracts the row's
/// maximum first, so `dsoftmul` and its gradients stay finite and exact in the limit.
#[test]
fn dsoftmul_of_large_scores_is_finite() {
    fn check<T: Real>() {
        let m = TokenMaps {
            tokens: 2,
            channels: 1,
            batch: 2,
        };
        let t = |v: &[f64]| -> Vec<T> { v.iter().map(|&x| T::of(x)).collect() };
        // Scores [L][L][batch]: sample 0 has rows (1e3, 0) and (−1e3, 1e3), sample 1
        // rows (1e3, 1e3) and (−1e4, −1e4).
        let s = t(&[1e3, 1e3, 0.0, 1e3, -1e3, -1e4, 1e3, -1e4]);
        let v = t(&[1.0, 1.0, 2.0, 2.0]);
        let mut y = vec![T::zero(); 4];
        Dsoftmul::forward(m, [&s, &v], &mut y, &mut Scratch::default());
        assert_eq!(y, t(&[1.0, 1.5, 2.0, 1.5]), "{}", T::NAME);
        let (mut gs, mut gv) = (vec![T::nan(); 8], vec![T::nan(); 4]);
        let g = t(&[1.0; 4]);
        let scratch = &mut Scratch::default();
        Dsoftmul::backward(m, ([&s, &v], &g), [&mut gs, &mut gv], scratch);
        assert!(gs.iter().chain(&gv).all(|g| g.is_finite()), "{}", T::NAME);
    }
    check::<f32>();
    check::<f64>();
}
