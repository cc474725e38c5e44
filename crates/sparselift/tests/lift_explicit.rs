//! Explicit lifts (edge lists, whole-lift JSON) and lift statistics.

use sparselift::lift::{
    load_lift, read_edge_list, save_lift, ExplicitEdges, ExplicitLift, LiftSpec, Sampler,
};
use sparselift::module::Module;
use sparselift::zoo::{self, MlpConfig};
use std::path::PathBuf;

fn mlp(hidden: usize, bias: bool) -> Module {
    zoo::mlp(&MlpConfig {
        input: 3,
        hidden,
        output: 2,
        bias,
        ..Default::default()
    })
    .unwrap()
}

/// A fresh temporary directory, removed on drop.
struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("sparselift-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
    fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn edge_lists_allow_comments_blank_lines_and_multi_edges() {
    let t = Temp::new("edges-ok");
    let p = t.file(
        "e.txt",
        "# header\n0 1\n\n  2 0   # trailing comment\n2 0\n",
    );
    assert_eq!(read_edge_list(&p).unwrap(), vec![(0, 1), (2, 0), (2, 0)]);
}

#[test]
fn malformed_edge_lists_name_the_file_and_line() {
    let t = Temp::new("edges-bad");
    for (text, line, what) in [
        ("0 1\n0\n", 2, "found 1 field"),
        ("0 1\n\n1 2 3\n", 3, "found 3 field"),
        ("# c\n0 -1\n", 2, "\"-1\" is not a fiber index"),
        ("x y\n", 1, "\"x\" is not a fiber index"),
    ] {
        let p = t.file("e.txt", text);
        let e = read_edge_list(&p).unwrap_err().to_string();
        let at = format!("{}:{line}:", p.display());
        assert!(e.starts_with(&at) && e.contains(what), "{text:?}: {e}");
    }
    let e = read_edge_list(&t.0.join("missing.txt")).unwrap_err();
    assert!(e.is_user_error() && e.to_string().contains("missing.txt"));
}

#[test]
fn the_explicit_sampler_reads_and_checks_an_edge_list() {
    let t = Temp::new("explicit");
    let m = mlp(2, false);
    let ok = t.file("ok.txt", "0 0\n1 0\n2 1\n0 2\n");
    let lift = LiftSpec::new(3, Sampler::Dense)
        .edge("h1->h2", Sampler::Explicit(ok))
        .sample(&m)
        .unwrap();
    let b = lift.edge(m.find_edge("h1->h2").unwrap());
    assert_eq!(
        b.pairs().collect::<Vec<_>>(),
        vec![(0, 0), (1, 0), (2, 1), (0, 2)]
    );
    assert_eq!(
        lift.stats(&m).base_edges[1].sampler,
        format!("explicit:{}", t.0.join("ok.txt").display())
    );

    let outside = t.file("outside.txt", "0 0\n3 1\n");
    let e = LiftSpec::new(3, Sampler::Dense)
        .edge("h1->h2", Sampler::Explicit(outside.clone()))
        .sample(&m)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with(&format!("{}:2:", outside.display()))
            && e.contains("source 3")
            && e.contains("\"h1\""),
        "{e}"
    );

    // Target 1 of h2 gets nothing: the lift is invalid, and the error says which vertex.
    let gap = t.file("gap.txt", "0 0\n1 2\n");
    let e = LiftSpec::new(3, Sampler::Dense)
        .edge("h1->h2", Sampler::Explicit(gap))
        .sample(&m)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("vertex \"h2\" #1") && e.contains("h1->h2"),
        "{e}"
    );
}

#[test]
fn saved_lifts_load_back_equal() {
    let t = Temp::new("roundtrip");
    let m = mlp(3, true);
    let lift = LiftSpec::new(40, Sampler::InDegree(4))
        .edge("h2->h3", Sampler::ErdosRenyi(0.1))
        .edge("one->h2", Sampler::InDegree(1))
        .edge("h1->h2", Sampler::KLift(2))
        .fiber("h3", 40)
        .seed(3)
        .sample(&m)
        .unwrap();
    let p = t.0.join("lift.json");
    save_lift(&m, &lift, &p).unwrap();
    let loaded = load_lift(&m, &p).unwrap();
    assert_eq!(loaded, lift);
    // Through the in-memory form too, which keeps dense edges compact.
    let explicit = ExplicitLift::from_lift(&m, &lift);
    assert_eq!(
        explicit.edges[0],
        ("x->h1".to_string(), ExplicitEdges::Dense)
    );
    assert_eq!(explicit.to_lift(&m).unwrap(), lift);
    let text = std::fs::read_to_string(&p).unwrap();
    assert_eq!(
        serde_json::from_str::<ExplicitLift>(&text).unwrap(),
        explicit
    );
}

#[test]
fn bad_lift_files_name_the_vertex_or_edge() {
    let t = Temp::new("badlift");
    let m = mlp(2, false);
    let dense = r#""x->h1": "dense", "h2->y": "dense""#;
    let cases = [
        (
            r#"{"module": "mlp", "fibers": {"x": 1}, "edges": {}}"#.to_string(),
            "vertex \"h1\": missing fiber size",
        ),
        (
            format!(
                r#"{{"module": "mlp", "fibers": {{"x": 1, "h1": 2, "h2": 2, "y": 1, "zz": 1}}, "edges": {{{dense}}}}}"#
            ),
            "vertex \"zz\": no such vertex",
        ),
        (
            format!(
                r#"{{"module": "mlp", "fibers": {{"x": 1, "h1": 2, "h2": 2, "y": 1}}, "edges": {{{dense}}}}}"#
            ),
            "edge \"h1->h2\": missing lifted edges",
        ),
        (
            format!(
                r#"{{"module": "mlp", "fibers": {{"x": 1, "h1": 2, "h2": 2, "y": 1}}, "edges": {{{dense}, "h1-h2": [[0, 0], [5, 1]]}}}}"#
            ),
            "pair #1 [5, 1] is outside",
        ),
        (
            format!(
                r#"{{"module": "mlp", "fibers": {{"x": 1, "h1": 2, "h2": 2, "y": 1}}, "edges": {{{dense}, "h1-h2": [[0, 0], [1, 0]]}}}}"#
            ),
            "vertex \"h2\" #1",
        ),
        (
            format!(r#"{{"module": "other", "fibers": {{}}, "edges": {{{dense}}}}}"#),
            "saved for module \"other\"",
        ),
        (
            r#"{"module": "mlp", "fibers": {"x": 1, "x": 2}, "edges": {}}"#.to_string(),
            "given twice",
        ),
        (
            r#"{"module": "mlp", "fibers": {}, "edges": {"x->h1": "sparse"}}"#.to_string(),
            "\"dense\" or a list",
        ),
    ];
    for (text, want) in cases {
        let p = t.file("lift.json", &text);
        let e = load_lift(&m, &p).unwrap_err();
        assert!(e.is_user_error());
        let e = e.to_string();
        assert!(
            e.contains(want) && e.contains("lift.json"),
            "{text}\n  gave: {e}"
        );
    }
}

#[test]
fn stats_count_vertices_edges_parameters_and_bytes() {
    // mlp 3 → h1 → h2 → 2 with biases, size 10, in-degree 4 between hidden layers:
    //   x->h1 dense, 10 edges of 1×3 weights; h1->h2 40 scalar edges; h2->y dense, 10 edges
    //   of 2×1 weights; one->h1, one->h2 10 scalar edges each; one->y 1 edge of 2×1.
    let m = mlp(2, true);
    let lift = LiftSpec::new(10, Sampler::InDegree(4)).sample(&m).unwrap();
    let s = lift.stats(&m);
    assert_eq!(s.vertices, 1 + 1 + 10 + 10 + 1);
    assert_eq!(s.edges, 10 + 40 + 10 + 10 + 10 + 1);
    assert_eq!(s.params, 30 + 40 + 20 + 10 + 10 + 2);
    assert_eq!(s.param_bytes, 4 * s.params);
    // Only h1->h2 is sparse: offsets (11 + 11) + CSR, CSC and permutation (3 × 40), 4 bytes each.
    assert_eq!(s.index_bytes, 4 * (22 + 120));
    let h = &s.base_edges[m.find_edge("h1->h2").unwrap()];
    assert_eq!(
        (h.from.as_str(), h.to.as_str(), h.sampler.as_str()),
        ("h1", "h2", "in-degree:4")
    );
    assert_eq!(
        (h.in_degree.min, h.in_degree.mean, h.in_degree.max),
        (4, 4.0, 4)
    );
    assert_eq!(h.out_degree.mean, 4.0);
    let out: u64 = (0..10).map(|i| lift.edge(1).out_degree(i) as u64).sum();
    assert_eq!(out, 40);
    let json = serde_json::to_value(&s).unwrap();
    for key in [
        "vertices",
        "edges",
        "params",
        "index_bytes",
        "param_bytes",
        "base_edges",
    ] {
        assert!(json.get(key).is_some(), "missing {key}");
    }
    let table = s.to_string();
    assert!(
        table.contains("in-degree min/mean/max")
            && table.contains("h1->h2")
            && table.contains("all 4"),
        "{table}"
    );
}
