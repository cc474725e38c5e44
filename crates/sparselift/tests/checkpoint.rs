//! Checkpoints round-trip exactly and are readable from Python's `safetensors`.

use sparselift::checkpoint::Checkpoint;
use sparselift::engine::Network;
use sparselift::lift::{Bipartite, Lift};
use sparselift::run::{resume, train, RunOptions, RunSpec};
use sparselift::zoo;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A 3-hidden-layer MLP lift, sparse between hidden layers (in-degree 3), with distinct
/// fiber sizes so that shapes in the file are unambiguous.
fn sparse_mlp() -> Network {
    let module = zoo::mlp(&zoo::MlpConfig {
        input: 4,
        hidden: 3,
        output: 2,
        ..Default::default()
    })
    .unwrap();
    let size = |name: &str| match name {
        "h1" => 10,
        "h2" => 12,
        "h3" => 9,
        _ => 1,
    };
    let fibers: Vec<u32> = module.vertices().iter().map(|v| size(&v.name)).collect();
    let edges = module
        .edges()
        .iter()
        .map(|e| {
            let (ns, nt) = (fibers[e.from], fibers[e.to]);
            if ns == 1 || nt == 1 {
                Bipartite::complete(ns, nt).unwrap()
            } else {
                let pairs: Vec<(u32, u32)> = (0..nt)
                    .flat_map(|t| (0..3).map(move |k| ((t * 7 + k * 5) % ns, t)))
                    .collect();
                Bipartite::from_pairs(ns, nt, &pairs).unwrap()
            }
        })
        .collect();
    Network::new(module.clone(), Lift::new(&module, fibers, edges).unwrap()).unwrap()
}

/// [`sparse_mlp`] with `θ` initialised from `seed` and no run state.
fn stateless_checkpoint(seed: u64) -> Checkpoint<f32> {
    let net = sparse_mlp();
    Checkpoint {
        theta: net.init::<f32>(seed),
        network: net,
        state: serde_json::Value::Null,
    }
}

fn temp(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("sparselift-test-{}-{name}", std::process::id()))
}

#[test]
fn save_then_load_gives_the_same_network_parameters_and_state() {
    let net = sparse_mlp();
    let ckpt = Checkpoint {
        theta: net.init::<f32>(4),
        network: net,
        // A long array (moved to a tensor) with values that need all 64 bits, and short ones.
        state: serde_json::json!({"step": 17, "method": "adam",
            "m": (0..100).map(|i| (i as f64).sqrt() * 1e-7 + 0.1).collect::<Vec<f64>>(),
            "short": [0.5, -1.25, 3.0], "nested": [[1.0, 2.0], {"v": (0..70).map(f64::from).collect::<Vec<_>>()}]}),
    };
    let path = temp("roundtrip.safetensors");
    ckpt.save(&path).unwrap();
    let back: Checkpoint<f32> = Checkpoint::load(&path).unwrap();
    assert_eq!(back.theta, ckpt.theta);
    assert_eq!(back.network.lift(), ckpt.network.lift());
    assert_eq!(back.network.module(), ckpt.network.module());
    assert_eq!(back.state, ckpt.state);
    // f32 weights read into f64 exactly.
    let wide: Checkpoint<f64> = Checkpoint::load(&path).unwrap();
    assert!(wide
        .theta
        .iter()
        .zip(&ckpt.theta)
        .all(|(&a, &b)| a == b as f64));
    std::fs::remove_file(path).unwrap();
}

#[test]
fn damaged_files_are_errors_naming_the_file() {
    let ckpt = stateless_checkpoint(4);
    let path = temp("damaged.safetensors");
    ckpt.save(&path).unwrap();
    let bytes = std::fs::read(&path).unwrap();
    std::fs::write(&path, &bytes[..bytes.len() / 2]).unwrap();
    let err = Checkpoint::<f32>::load(&path).unwrap_err().to_string();
    assert!(
        err.contains("damaged.safetensors") && err.contains("not a valid sparselift checkpoint"),
        "{err}"
    );
    std::fs::write(&path, b"hello").unwrap();
    assert!(Checkpoint::<f32>::load(&path).is_err());
    std::fs::remove_file(&path).unwrap();
    assert!(Checkpoint::<f32>::load(&path).unwrap_err().is_user_error());
}

/// The file loads with Python's `safetensors` and holds the documented names and shapes.
#[test]
fn checkpoint_loads_in_python_safetensors_with_documented_names_and_shapes() {
    let probe = Command::new("python3")
        .args(["-c", "import safetensors.numpy, numpy"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        println!("skipped: python3 with the `safetensors` and `numpy` packages is not available (.ci/run installs them)");
        return;
    }
    let ckpt = stateless_checkpoint(2);
    let path = temp("python.safetensors");
    ckpt.save(&path).unwrap();
    let script = "import sys, json\nfrom safetensors.numpy import load_file\nt = load_file(sys.argv[1])\n\
                  print(json.dumps({k: [str(v.dtype), list(v.shape), float(v.astype('float64').sum())] for k, v in t.items()}))";
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let net = &ckpt.network;
    for (e, edge) in net.module().edges().iter().enumerate() {
        let bip = net.lift().edge(e);
        let mut shape = vec![bip.num_edges()];
        shape.extend(&edge.weight_shape);
        let w = &seen[&edge.name];
        assert_eq!(w[0], "float32", "{}", edge.name);
        assert_eq!(w[1], serde_json::json!(shape), "{}", edge.name);
        let sum: f64 = ckpt.theta[net.param_range(e)]
            .iter()
            .map(|&x| x as f64)
            .sum();
        assert!(
            (w[2].as_f64().unwrap() - sum).abs() < 1e-9 * (1.0 + sum.abs()),
            "{} sum",
            edge.name
        );
        if !bip.is_complete() {
            assert_eq!(
                seen[format!("{}.dst_offsets", edge.name)][1],
                serde_json::json!([bip.n_dst() + 1])
            );
            assert_eq!(seen[format!("{}.src_index", edge.name)][0], "uint32");
        }
    }
    assert!(
        seen.get("h1->h2.src_index").is_some(),
        "sparse edges carry indices"
    );
    std::fs::remove_file(path).unwrap();
}

/// Replaces `from` by `to` (of the same length, so the file's header length holds) in the
/// bytes of the checkpoint at `path`.
fn patch(path: &Path, from: &str, to: &str) {
    assert_eq!(from.len(), to.len());
    let bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(from.len())
        .position(|w| w == from.as_bytes())
        .unwrap_or_else(|| panic!("`{from}` is not in the file"));
    let mut patched = bytes.clone();
    patched[at..at + to.len()].copy_from_slice(to.as_bytes());
    std::fs::write(path, patched).unwrap();
}

#[test]
fn unknown_format_versions_and_precisions_are_clear_errors() {
    let ckpt = stateless_checkpoint(4);
    let path = temp("versions.safetensors");
    let load = || Checkpoint::<f64>::load(&path).unwrap_err();

    ckpt.save(&path).unwrap();
    patch(&path, r#"\"format\":1,"#, r#"\"format\":7,"#);
    let err = load();
    let message = err.to_string();
    assert!(
        message.contains("versions.safetensors")
            && message.contains("format version 7")
            && message.contains("newer"),
        "{message}"
    );
    assert!(err.is_user_error());

    ckpt.save(&path).unwrap();
    patch(&path, r#"\"dtype\":\"f32\""#, r#"\"dtype\":\"f16\""#);
    let message = load().to_string();
    assert!(
        message.contains("versions.safetensors") && message.contains("unknown precision `f16`"),
        "{message}"
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn resuming_a_run_of_unknown_precision_is_a_clear_error() {
    let dir = temp("resume-precision");
    let spec = RunSpec {
        module: "zoo:mlp?input=8&hidden=1&output=1".parse().unwrap(),
        data: "witness:m=2,n=16".parse().unwrap(),
        size: 4,
        method: "flow:t=1".parse().unwrap(),
        ..RunSpec::default()
    };
    let mut opts = RunOptions {
        out: Some(dir.clone()),
        ..RunOptions::default()
    };
    train(&spec, &mut opts).unwrap();
    let file = dir.join("checkpoint.safetensors");
    let mut ckpt: Checkpoint<f32> = Checkpoint::load(&file).unwrap();
    ckpt.state["spec"]["precision"] = "f16".into();
    ckpt.save(&file).unwrap();
    let message = resume(&dir, &mut RunOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        message.contains("checkpoint.safetensors") && message.contains("`f16`"),
        "{message}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A forged header claiming two fully connected fibers of 65535 vertices 16384 wide (2^28
/// weights per lifted edge, about 4 EiB of θ) is refused with the estimate, before the
/// loader reserves θ; the file itself holds no tensors at all.
#[test]
fn a_header_claiming_huge_fibers_is_refused_with_a_memory_estimate() {
    use sparselift::module::{Activation, ModuleBuilder, Op};
    use std::collections::HashMap;
    let mut b = ModuleBuilder::new("wide");
    b.input("x", &[4])
        .hidden("h1", &[1 << 14], Activation::Relu)
        .hidden("h2", &[1 << 14], Activation::Relu)
        .output("y", &[1], Activation::Identity);
    b.edge("x", "h1", Op::Linear)
        .edge("h1", "h2", Op::Linear)
        .edge("h2", "y", Op::Linear);
    let module = b.build().unwrap();
    let header = serde_json::json!({
        "format": 1,
        "dtype": "f32",
        "module": module.to_string(),
        "fibers": [1, 65535, 65535, 1],
        "complete": [true, true, true],
        "state": null,
    });
    let meta = HashMap::from([("sparselift".to_string(), header.to_string())]);
    let no_tensors: Vec<(String, safetensors::tensor::TensorView)> = Vec::new();
    let bytes = safetensors::serialize(no_tensors, Some(meta)).unwrap();
    let path = temp("forged-fibers.safetensors");
    std::fs::write(&path, bytes).unwrap();
    let err = Checkpoint::<f32>::load(&path).unwrap_err();
    std::fs::remove_file(&path).unwrap();
    assert!(err.is_user_error(), "{err}");
    let message = err.to_string();
    assert!(
        message.contains("forged-fibers.safetensors")
            && message.contains("needs an estimated")
            && message.contains("θ ")
            && message.contains("fibers of up to 65535"),
        "{message}"
    );
}
