//! `sparselift lift` end to end: JSON statistics, output files, and user errors.

use std::path::PathBuf;
use std::process::{Command, Output};

fn sparselift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .args(args)
        .output()
        .expect("the sparselift binary runs")
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

const MLP3: &str = "zoo:mlp?input=16&hidden=3&output=1";

#[test]
fn json_stats_of_a_sparse_mlp_lift() {
    let out = sparselift(&[
        "lift",
        MLP3,
        "--size",
        "1000",
        "--sampler",
        "in-degree:10",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).expect("one JSON object");
    let edges = json["base_edges"].as_array().unwrap();
    let by_name = |from: &str, to: &str| {
        edges
            .iter()
            .find(|e| e["from"] == from && e["to"] == to)
            .unwrap_or_else(|| panic!("no base edge {from}->{to}"))
    };
    // Hidden-to-hidden: 1000 targets × 10 sources each.
    for (a, b) in [("h1", "h2"), ("h2", "h3")] {
        let e = by_name(a, b);
        assert_eq!(e["edges"], 10_000);
        assert_eq!(e["in_degree"]["min"], 10);
        assert_eq!(e["in_degree"]["max"], 10);
        assert_eq!(e["in_degree"]["mean"], 10.0);
    }
    // Edges touching a size-1 fiber are dense: 1000 edges.
    for (a, b) in [
        ("x", "h1"),
        ("h3", "y"),
        ("one", "h1"),
        ("one", "h2"),
        ("one", "h3"),
    ] {
        let e = by_name(a, b);
        assert_eq!(e["edges"], 1000, "{a}->{b}");
        assert_eq!(e["sampler"], "dense");
    }
    assert_eq!(by_name("h3", "y")["in_degree"]["min"], 1000);
    assert_eq!(by_name("one", "y")["edges"], 1);
    assert_eq!(json["vertices"], 3 * 1000 + 3);
    assert_eq!(json["edges"], 2 * 10_000 + 5 * 1000 + 1);
    // x->h1 carries a 1×16 weight row per lifted edge, h3->y a 1×1 weight.
    assert_eq!(json["params"], 16 * 1000 + 2 * 10_000 + 4 * 1000 + 1);
}

#[test]
fn the_default_is_a_dense_lift_printed_as_a_table() {
    let out = sparselift(&["lift", "zoo:mlp?hidden=2", "--size", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("h1->h2") && text.contains("dense"), "{text}");
    assert!(text.contains("all 5"), "{text}");
}

struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let dir = std::env::temp_dir().join(format!("sparselift-cli-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Temp(dir)
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        std::fs::remove_dir_all(&self.0).ok();
    }
}

#[test]
fn dot_and_save_write_their_files() {
    let t = Temp::new("files");
    let (dot, save) = (t.0.join("lift.dot"), t.0.join("lift.json"));
    let (dot_s, save_s) = (dot.to_str().unwrap(), save.to_str().unwrap());
    let module = "zoo:mlp?input=2&hidden=2&output=1&no-bias";
    let out = sparselift(&[
        "lift",
        module,
        "--size",
        "4",
        "--sampler",
        "k-lift:2",
        "--seed",
        "9",
        "--dot",
        dot_s,
        "--save",
        save_s,
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    // A small lift is drawn vertex by vertex: 4 + 8 + 4 lifted edges.
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(
        text.starts_with("digraph") && text.contains("\"h2#3\""),
        "{text}"
    );
    assert_eq!(text.matches(" -> ").count(), 16);
    // The saved lift is the one sampled: load it and compare with a fresh draw.
    let mlp = sparselift::zoo::mlp(&sparselift::zoo::MlpConfig {
        input: 2,
        hidden: 2,
        output: 1,
        bias: false,
        ..Default::default()
    })
    .unwrap();
    let loaded = sparselift::lift::load_lift(&mlp, &save).unwrap();
    let spec = sparselift::lift::LiftSpec::new(4, sparselift::lift::Sampler::KLift(2)).seed(9);
    assert_eq!(loaded, spec.sample(&mlp).unwrap());

    // A large lift falls back to the base module (replacing the drawing needs --force).
    let out = sparselift(&["lift", module, "--size", "1000", "--dot", dot_s, "--force"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&dot).unwrap();
    assert!(
        text.contains("\"h1\" -> \"h2\"") && !text.contains("h1#0"),
        "{text}"
    );
}

#[test]
fn module_files_are_read_and_their_errors_located() {
    let t = Temp::new("modules");
    let good = t.0.join("m.toml");
    std::fs::write(&good, "name = \"m\"\n[[vertex]]\nname = \"x\"\nrole = \"input\"\n[[vertex]]\nname = \"y\"\nrole = \"output\"\n[[edge]]\nfrom = \"x\"\nto = \"y\"\nop = \"scalar\"\n").unwrap();
    let out = sparselift(&["lift", good.to_str().unwrap(), "--size", "3", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let bad = t.0.join("bad.toml");
    std::fs::write(&bad, "name = \"m\"\n[[vertex]]\nname = 3\n").unwrap();
    let out = sparselift(&["lift", bad.to_str().unwrap(), "--size", "3"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("bad.toml:3:"), "{}", stderr(&out));
    let out = sparselift(&["lift", "zoo:resnet", "--size", "3"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no zoo entry \"resnet\""),
        "{}",
        stderr(&out)
    );
}

/// `--plan` prints each base edge's kernels and fusions, with flops from the lift's edge
/// counts: a sparse hidden-to-hidden scalar edge gathers forward, sweeps by source
/// backward, and applies relu and its bias in the gather.
#[test]
fn plan_of_a_sparse_mlp_lift() {
    let out = sparselift(&[
        "lift",
        MLP3,
        "--size",
        "1000",
        "--sampler",
        "in-degree:10",
        "--plan",
        "--batch",
        "32",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("plan at batch 32: 8 base edges"), "{text}");
    let plan = text
        .split("plan at batch")
        .nth(1)
        .expect("a plan after the statistics");
    let row = |name: &str| {
        plan.lines()
            .find(|l| l.starts_with(&format!("{name} ")))
            .unwrap_or_else(|| panic!("no row {name} in\n{text}"))
    };
    let words = |name: &str| row(name).split_whitespace().collect::<Vec<_>>();
    let h12 = words("h1->h2");
    assert_eq!(h12[..4], ["h1->h2", "10000", "gather", "sweep"], "{text}");
    // Forward: relu and h2's bias in the gather; backward: h1's relu' and bias gradient
    // in the sweep (h1->h2 is h1's only out-edge).
    assert!(
        row("h1->h2").contains("fwd:relu+bias, bwd:relu'+bias"),
        "{text}"
    );
    // 1000 targets × 10 sources, a multiply-add each per sample: 2 × 10⁴ × 32 flops.
    assert_eq!(h12[h12.len() - 4..h12.len() - 2], ["640.00", "k"], "{text}");
    assert_eq!(words("one->h2")[2..4], ["bias", "of"], "{text}");
    assert_eq!(words("x->h1")[2], "gemm", "{text}");
    // The output sums two edges, so its pre-activation is the only one stored.
    assert!(
        text.contains("pre-activations kept for the backward pass: y\n"),
        "{text}"
    );

    let out = sparselift(&["lift", MLP3, "--size", "10", "--plan", "--batch", "0"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

/// The plan of a lifted attention module: the `outer` and `dsoftmul` vertices keep both
/// pre-activations, with no activation fused into the passes that compute them.
#[test]
fn plan_of_a_lifted_attention_module() {
    let module = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../examples/modules/attention.toml"
    );
    let out = sparselift(&[
        "lift",
        module,
        "--size",
        "8",
        "--sampler",
        "in-degree:2",
        "--plan",
        "--batch",
        "16",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let plan = text
        .split("plan at batch 16: 6 base edges")
        .nth(1)
        .unwrap_or_else(|| panic!("no plan in\n{text}"));
    for edge in ["x->s", "x->s#2", "s->a", "x->a"] {
        let row = plan
            .lines()
            .find(|l| l.starts_with(&format!("{edge} ")))
            .unwrap_or_else(|| panic!("no row {edge} in\n{text}"));
        assert_eq!(row.split_whitespace().nth(4), Some("-"), "{text}");
    }
    assert!(
        text.contains("pre-activations kept for the backward pass: s, a, y\n"),
        "{text}"
    );
}
