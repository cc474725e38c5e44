//! Sampling lifts through the public API: validity on random base graphs, determinism
//! across thread counts, fiber sizes and sampler resolution, and the errors of bad specs.

use proptest::prelude::*;
use sparselift::lift::{Bipartite, Lift, LiftSpec, Sampler};
use sparselift::module::{Activation, Module, ModuleBuilder, Op};
use sparselift::zoo::{self, MlpConfig};

fn mlp(hidden: usize) -> Module {
    zoo::mlp(&MlpConfig {
        input: 16,
        hidden,
        output: 1,
        ..Default::default()
    })
    .unwrap()
}

fn edge(m: &Module, key: &str) -> usize {
    m.find_edge(key).unwrap_or_else(|| panic!("no edge {key}"))
}

/// docs/semantics.md §2 validity, checked from the edge pairs alone (independently of
/// `Lift::validate`): endpoints inside the right fibers, and every lifted vertex of a
/// non-input base vertex has an in-edge over every base edge into it.
fn assert_valid(m: &Module, lift: &Lift) {
    assert_eq!(lift.fibers().len(), m.vertices().len());
    assert!(lift.fibers().iter().all(|&n| n >= 1));
    let mut total = 0u64;
    for (i, e) in m.edges().iter().enumerate() {
        let b = lift.edge(i);
        assert_eq!(
            (b.n_src(), b.n_dst()),
            (lift.fiber(e.from), lift.fiber(e.to))
        );
        let mut has_in_edge = vec![false; b.n_dst()];
        let mut count = 0u64;
        for (s, t) in b.pairs() {
            assert!((s as usize) < b.n_src() && (t as usize) < b.n_dst());
            has_in_edge[t as usize] = true;
            count += 1;
        }
        assert!(
            has_in_edge.iter().all(|&x| x),
            "edge {}: a target has no in-edge",
            e.name
        );
        assert_eq!(count, b.num_edges() as u64);
        total += count;
    }
    assert_eq!(lift.num_edges(), total);
}

/// A random base DAG of scalar channels: `inputs` inputs, then vertices each fed by 1–3
/// earlier vertices, the last one the output.
fn random_module(inputs: usize, parents: &[Vec<usize>]) -> Module {
    let mut b = ModuleBuilder::new("random");
    for i in 0..inputs {
        b.input(&format!("x{i}"), &[1]);
    }
    let n = inputs + parents.len();
    for v in inputs..n {
        let name = format!("v{v}");
        if v + 1 == n {
            b.output(&name, &[1], Activation::Identity);
        } else {
            b.hidden(&name, &[1], Activation::Tanh);
        }
    }
    let name = |v: usize| {
        if v < inputs {
            format!("x{v}")
        } else {
            format!("v{v}")
        }
    };
    for (j, ps) in parents.iter().enumerate() {
        for &p in ps {
            b.edge(&name(p % (inputs + j)), &name(inputs + j), Op::Scalar);
        }
    }
    b.build().unwrap()
}

fn arb_sampler() -> impl Strategy<Value = u8> {
    0u8..5
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_sampled_lift_of_a_random_dag_is_valid(
        inputs in 1usize..3,
        parents in prop::collection::vec(prop::collection::vec(0usize..100, 1..4), 1..7),
        sizes in prop::collection::vec(1u32..40, 10),
        choices in prop::collection::vec((arb_sampler(), 1u32..6, 0.0f64..1.0), 30),
        seed in any::<u64>(),
    ) {
        let m = random_module(inputs, &parents);
        let mut spec = LiftSpec::new(sizes[0], Sampler::Dense).seed(seed);
        for (v, vert) in m.vertices().iter().enumerate() {
            spec = spec.fiber(&vert.name, sizes[v % sizes.len()]);
        }
        let fiber = |v: usize| sizes[v % sizes.len()];
        for (i, e) in m.edges().iter().enumerate() {
            let (kind, k, p) = choices[i % choices.len()];
            let (n_src, n_dst) = (fiber(e.from), fiber(e.to));
            // Only samplers that fit the fibers: the errors are tested elsewhere.
            let sampler = match kind {
                0 => Sampler::Dense,
                1 => Sampler::InDegree(k.min(n_src)),
                2 => Sampler::ErdosRenyi(p.max(0.001)),
                3 => Sampler::Set(p * 3.0 + 0.01),
                _ if n_src == n_dst => Sampler::KLift(k),
                _ => Sampler::InDegree(1),
            };
            spec = spec.edge(&e.name, sampler);
        }
        let lift = spec.sample(&m).unwrap();
        assert_valid(&m, &lift);
        for (v, &n) in lift.fibers().iter().enumerate() {
            prop_assert_eq!(n, fiber(v));
        }
    }
}

/// CSR offsets and sources, CSC offsets, targets and permutation of one sparse graph.
type IndexArrays = [Vec<u32>; 5];

fn index_arrays(lift: &Lift) -> Vec<Option<IndexArrays>> {
    lift.edges()
        .iter()
        .map(|b| {
            let (o, s) = b.csr()?;
            let (so, d, p) = b.csc()?;
            Some([o, s, so, d, p].map(|a| a.to_vec()))
        })
        .collect()
}

fn with_threads<T: Send>(n: usize, f: impl FnOnce() -> T + Send) -> T {
    rayon::ThreadPoolBuilder::new()
        .num_threads(n)
        .build()
        .unwrap()
        .install(f)
}

#[test]
fn the_same_seed_gives_identical_lifts_on_1_and_2_threads() {
    // Sizes span several chunks of targets and the parallel transpose's ranges.
    let m = mlp(5);
    let spec = LiftSpec::new(20_000, Sampler::InDegree(5))
        .seed(42)
        .edge("h2->h3", Sampler::ErdosRenyi(0.0003))
        .edge("h3->h4", Sampler::KLift(3))
        .edge("h4->h5", Sampler::Set(2.0));
    let one = with_threads(1, || index_arrays(&spec.sample(&m).unwrap()));
    let two = with_threads(2, || index_arrays(&spec.sample(&m).unwrap()));
    assert!(one.iter().filter(|a| a.is_some()).count() == 4);
    assert_eq!(one, two);
    let other = with_threads(2, || {
        index_arrays(&spec.clone().seed(43).sample(&m).unwrap())
    });
    for (i, (a, b)) in one.iter().zip(&other).enumerate() {
        if a.is_some() {
            assert_ne!(a, b, "edge {i} did not change with the seed");
        }
    }
}

#[test]
fn base_edges_draw_from_independent_streams() {
    // Two in-degree edges of the same sizes in the same lift must differ.
    let m = mlp(3);
    let lift = LiftSpec::new(100, Sampler::InDegree(4))
        .seed(0)
        .sample(&m)
        .unwrap();
    assert_ne!(
        lift.edge(edge(&m, "h1->h2")).csr(),
        lift.edge(edge(&m, "h2->h3")).csr()
    );
}

#[test]
fn fibers_are_size_for_hidden_vertices_and_one_elsewhere_with_overrides() {
    let m = mlp(2);
    let lift = LiftSpec::new(7, Sampler::Dense)
        .fiber("h2", 3)
        .fiber("y", 2)
        .sample(&m)
        .unwrap();
    let f = |name: &str| lift.fiber(m.vertex_id(name).unwrap());
    assert_eq!(
        (f("x"), f("one"), f("h1"), f("h2"), f("y")),
        (1, 1, 7, 3, 2)
    );
    assert_eq!(lift.num_vertices(), 1 + 1 + 7 + 3 + 2);
}

/// Precedence of fiber sizes (docs/semantics.md §2): the lift's override, then the
/// module's pinned fiber, then the lift size (hidden) or 1 (inputs, constants, outputs).
#[test]
fn pinned_fibers_do_not_scale_with_the_lift_size_but_overrides_beat_them() {
    let mut b = ModuleBuilder::new("pinned");
    b.input("x", &[3]).fiber(2);
    b.hidden("h", &[1], Activation::Relu);
    b.hidden("r", &[1], Activation::Identity).fiber(1);
    b.hidden("g", &[1], Activation::Tanh).fiber(4);
    b.output("y", &[1], Activation::Identity);
    b.edge("x", "h", Op::Linear)
        .edge("h", "r", Op::Scalar)
        .edge("r", "g", Op::Scalar)
        .edge("g", "y", Op::Scalar);
    let m = b.build().unwrap();
    for size in [1, 5, 9] {
        let lift = LiftSpec::new(size, Sampler::InDegree(1))
            .sample(&m)
            .unwrap();
        assert_eq!(lift.fibers(), &[2, size, 1, 4, 1]);
        assert_valid(&m, &lift);
        // Edges into and out of the pinned size-1 fiber are dense.
        assert!(lift.edge(edge(&m, "h->r")).is_complete());
        assert!(lift.edge(edge(&m, "r->g")).is_complete());
        // Between the pinned fiber of 4 and its size-1 target too.
        assert!(lift.edge(edge(&m, "g->y")).is_complete());
    }
    let lift = LiftSpec::new(5, Sampler::Dense)
        .fiber("r", 6)
        .fiber("x", 1)
        .sample(&m)
        .unwrap();
    assert_eq!(lift.fibers(), &[1, 5, 6, 4, 1]);
}

#[test]
fn edges_touching_a_size_one_fiber_stay_dense_unless_overridden() {
    let m = mlp(2);
    let lift = LiftSpec::new(50, Sampler::InDegree(3)).sample(&m).unwrap();
    for key in ["x->h1", "one->h1", "one->h2", "h2->y", "one->y"] {
        assert!(lift.edge(edge(&m, key)).is_complete(), "{key} is not dense");
        assert_eq!(lift.sampler(edge(&m, key)), Some(&Sampler::Dense));
    }
    assert_eq!(lift.edge(edge(&m, "h1->h2")).num_edges(), 150);
    // An explicit override applies to a size-1 source too: one bias per neuron.
    let lift = LiftSpec::new(50, Sampler::InDegree(3))
        .edge("one->h2", Sampler::InDegree(1))
        .sample(&m)
        .unwrap();
    let b = lift.edge(edge(&m, "one->h2"));
    assert!(!b.is_complete());
    assert_eq!(b.num_edges(), 50);
}

#[test]
fn lift_overrides_beat_module_defaults_which_beat_the_global_sampler() {
    let mut b = ModuleBuilder::new("chain");
    b.input("x", &[1])
        .hidden("a", &[1], Activation::Relu)
        .hidden("b", &[1], Activation::Relu);
    b.hidden("c", &[1], Activation::Relu)
        .output("y", &[1], Activation::Identity);
    b.edge("x", "a", Op::Scalar)
        .edge("a", "b", Op::Scalar)
        .sampler(&Sampler::KLift(2));
    b.edge("b", "c", Op::Scalar)
        .sampler(&Sampler::KLift(2))
        .edge("c", "y", Op::Scalar);
    let m = b.build().unwrap();
    let lift = LiftSpec::new(30, Sampler::InDegree(5))
        .edge("b-c", Sampler::InDegree(1))
        .sample(&m)
        .unwrap();
    assert_eq!(lift.sampler(edge(&m, "a->b")), Some(&Sampler::KLift(2)));
    assert_eq!(lift.sampler(edge(&m, "b->c")), Some(&Sampler::InDegree(1)));
    assert_eq!(lift.edge(edge(&m, "b->c")).num_edges(), 30);
    let out = |s: usize| lift.edge(edge(&m, "a->b")).out_degree(s);
    assert!(
        (0..30).all(|s| out(s) == 2),
        "k-lift:2 must have out-degree 2"
    );
}

#[test]
fn set_uses_the_set_density() {
    // p = ε (n_u + n_v) / (n_u n_v) = 10 · 2000 / 10⁶ = 0.02: 20 000 edges expected,
    // standard deviation √(10⁶ · 0.02 · 0.98) = 140; empty targets are negligible.
    let m = mlp(2);
    for seed in 0..5 {
        let lift = LiftSpec::new(1000, Sampler::Set(10.0))
            .seed(seed)
            .sample(&m)
            .unwrap();
        let n = lift.edge(edge(&m, "h1->h2")).num_edges() as f64;
        assert!((n - 20_000.0).abs() < 4.0 * 140.0, "seed {seed}: {n} edges");
    }
    // A density that reaches p = 1 is the complete graph.
    let lift = LiftSpec::new(4, Sampler::Set(100.0)).sample(&m).unwrap();
    assert!(lift.edge(edge(&m, "h1->h2")).is_complete());
}

fn error(spec: &LiftSpec, m: &Module) -> String {
    spec.sample(m).unwrap_err().to_string()
}

#[test]
fn bad_specs_are_errors_that_name_the_culprit() {
    let m = mlp(2);
    let e = error(&LiftSpec::new(0, Sampler::Dense), &m);
    assert!(e.contains("at least 1"), "{e}");
    let e = error(&LiftSpec::new(5, Sampler::Dense).fiber("h1", 0), &m);
    assert!(
        e.contains("vertex \"h1\"") && e.contains("fiber size 0"),
        "{e}"
    );
    let e = error(&LiftSpec::new(5, Sampler::Dense).fiber("h9", 2), &m);
    assert!(e.contains("\"h9\"") && e.contains("h1, h2"), "{e}");
    let e = error(
        &LiftSpec::new(5, Sampler::Dense).edge("h1-h9", Sampler::Dense),
        &m,
    );
    assert!(e.contains("\"h1-h9\"") && e.contains("h1->h2"), "{e}");
    let twice = LiftSpec::new(5, Sampler::Dense)
        .edge("h1-h2", Sampler::Dense)
        .edge("h1->h2", Sampler::KLift(1));
    let e = error(&twice, &m);
    assert!(
        e.contains("edge \"h1->h2\"") && e.contains("given twice"),
        "{e}"
    );
    let e = error(&LiftSpec::new(10, Sampler::InDegree(20)), &m);
    assert!(
        e.contains("edge \"h1->h2\"") && e.contains("k ≤ 10") && e.contains("in-degree:10"),
        "{e}"
    );
    let e = error(&LiftSpec::new(10, Sampler::KLift(1)).fiber("h2", 12), &m);
    assert!(
        e.contains("edge \"h1->h2\"") && e.contains("equal fibers"),
        "{e}"
    );
}

#[test]
fn absurd_sizes_are_errors_before_any_allocation() {
    // A dense 10⁶ × 10⁶ layer has 10¹² edges: over the 32-bit index limit.
    let e = error(&LiftSpec::new(1_000_000, Sampler::Dense), &mlp(2));
    assert!(e.contains("h1->h2") && e.contains("limit"), "{e}");
    let e = error(&LiftSpec::new(100_000, Sampler::InDegree(50_000)), &mlp(2));
    assert!(e.contains("limit"), "{e}");
    // 39 base edges of ~4·10⁹ edges each need ~2 TB of indices.
    let e = error(&LiftSpec::new(u32::MAX, Sampler::InDegree(1)), &mlp(40));
    assert!(e.contains("GiB") && e.contains("memory"), "{e}");
}

#[test]
fn validate_names_the_vertex_the_lifted_index_and_the_base_edge() {
    let m = mlp(2);
    let lift = LiftSpec::new(3, Sampler::Dense).sample(&m).unwrap();
    let mut edges = lift.edges().to_vec();
    let e = edge(&m, "h1->h2");
    edges[e] = Bipartite::from_pairs(3, 3, &[(0, 0), (1, 0), (2, 2)]).unwrap();
    let err = Lift::new(&m, lift.fibers().to_vec(), edges.clone())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("vertex \"h2\" #1") && err.contains("\"h1->h2\""),
        "{err}"
    );
    // Wrong fiber sizes for a base edge.
    edges[e] = Bipartite::complete(3, 4).unwrap();
    let err = Lift::new(&m, lift.fibers().to_vec(), edges)
        .unwrap_err()
        .to_string();
    assert!(err.contains("h1->h2") && err.contains("3 → 4"), "{err}");
    let err = Lift::new(&m, vec![1, 1, 0, 3, 1], lift.edges().to_vec())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("vertex \"h1\"") && err.contains("empty fiber"),
        "{err}"
    );
}
