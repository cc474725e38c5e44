//! Bit-for-bit results of whole training runs, recorded once and compared forever.
//!
//! Each run below trains from a fixed seed and is fingerprinted by the bits of its final
//! `θ`, of the network's outputs on the training set at that `θ`, and of its final
//! training loss. The expected fingerprints in `golden/runs.json` were recorded from
//! commit b183b4f, before the engine was reorganised into op units and a compiled plan,
//! so any change to the engine, the optimisers, the integrator, the data pipeline or the
//! initialisation that moves a single bit fails here. Every run is repeated on one and on
//! two threads: the fingerprint must not depend on the thread count.
//!
//! To record fingerprints for a new run, add it to [`runs`] and run this test with
//! `SPARSELIFT_GOLDEN_RECORD=1`: it then adds the missing entries (it never replaces a
//! recorded one) and fails, so that a recording is never mistaken for a pass.

use sparselift::checkpoint::Checkpoint;
use sparselift::run::{train, RunOptions, RunSpec};
use sparselift::train::Supervised;
use sparselift::Real;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// The runs: digits with Adam on a sparse lift at batches that take the fused readout
/// and sparse sweeps; gradient flow on witness tasks in f32 and f64; a dense lift (GEMM
/// paths); the residual MLP (identity edges, k-lift samplers); a non-fused activation.
fn runs() -> Vec<(&'static str, RunSpec)> {
    let spec =
        |module: &str, data: &str, size: u32, sampler: &str, method: &str, p: &str| RunSpec {
            module: module.parse().unwrap(),
            data: data.parse().unwrap(),
            size,
            sampler: sampler.parse().unwrap(),
            method: method.parse().unwrap(),
            precision: p.parse().unwrap(),
            seed: 3,
            ..RunSpec::default()
        };
    let digits = "zoo:mlp?input=64&hidden=2&output=10";
    let witness = "zoo:mlp?input=8&hidden=2&output=1";
    vec![
        (
            "digits_adam_in_degree_32_f32",
            spec(
                digits,
                "digits",
                128,
                "in-degree:32",
                "adam:lr=1e-3,batch=128,epochs=2",
                "f32",
            ),
        ),
        (
            "digits_adam_in_degree_32_batch_32_f32",
            spec(
                digits,
                "digits",
                64,
                "in-degree:32",
                "adam:lr=1e-3,batch=32,epochs=1",
                "f32",
            ),
        ),
        (
            "digits_sgd_dense_f32",
            spec(
                digits,
                "digits",
                64,
                "dense",
                "sgd:lr=0.05,batch=256,momentum=0.9,epochs=2",
                "f32",
            ),
        ),
        (
            "witness_flow_in_degree_8_f64",
            spec(
                witness,
                "witness:m=4,n=128",
                32,
                "in-degree:8",
                "flow:t=20",
                "f64",
            ),
        ),
        (
            "witness_flow_in_degree_8_f32",
            spec(
                witness,
                "witness:m=4,n=128",
                32,
                "in-degree:8",
                "flow:t=20",
                "f32",
            ),
        ),
        (
            "witness_flow_dense_f64",
            spec(
                witness,
                "witness:m=4,n=128",
                16,
                "dense",
                "flow:t=20",
                "f64",
            ),
        ),
        (
            "witness_gd_gelu_erdos_renyi_f64",
            spec(
                "zoo:mlp?input=8&hidden=2&output=1&activation=gelu",
                "witness:m=4,n=96",
                24,
                "erdos-renyi:0.3",
                "gd:lr=0.1,epochs=30",
                "f64",
            ),
        ),
        (
            "resmlp_adam_in_degree_4_f64",
            spec(
                "zoo:resmlp?input=8&blocks=2&output=1",
                "witness:m=4,n=128",
                32,
                "in-degree:4",
                "adam:lr=1e-2,batch=32,epochs=3",
                "f64",
            ),
        ),
        (
            "resmlp_adam_dense_f32",
            spec(
                "zoo:resmlp?input=8&blocks=2&output=1",
                "witness:m=4,n=128",
                32,
                "dense",
                "adam:lr=1e-2,batch=64,epochs=3",
                "f32",
            ),
        ),
    ]
}

/// FNV-1a over the `f64` bits of each value: equal fingerprints mean equal bits (an
/// `f32` widens to `f64` exactly).
fn fingerprint<T: Real>(xs: &[T]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for x in xs {
        for byte in x.f64().to_bits().to_le_bytes() {
            h ^= u64::from(byte);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

/// What one run leaves: fingerprints of θ and of the outputs, the loss bits, and the
/// first values of θ to read when a fingerprint differs.
fn measure<T: Real>(spec: &RunSpec, dir: &std::path::Path) -> serde_json::Value {
    let out = dir.join(spec.precision.as_str());
    let outcome = train(
        spec,
        &mut RunOptions {
            out: Some(out.clone()),
            ..RunOptions::default()
        },
    )
    .expect("the run trains");
    let ckpt: Checkpoint<T> =
        Checkpoint::load(&out.join("checkpoint.safetensors")).expect("the checkpoint loads");
    let (train_set, _) = spec.datasets(ckpt.network.module()).expect("data");
    let outputs = Supervised::<T>::from_dataset(&ckpt.network, &train_set)
        .expect("objective")
        .predict(&ckpt.theta);
    serde_json::json!({
        "theta": fingerprint(&ckpt.theta),
        "outputs": fingerprint(&outputs),
        "loss_bits": format!("{:016x}", outcome.train.loss.to_bits()),
        "params": ckpt.theta.len(),
        "theta_head": ckpt.theta.iter().take(3).map(|x| x.f64()).collect::<Vec<_>>(),
        "status": outcome.status,
    })
}

fn golden_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/runs.json")
}

#[test]
fn training_runs_reproduce_their_recorded_bits_on_one_and_two_threads() {
    let recorded: BTreeMap<String, serde_json::Value> = std::fs::read_to_string(golden_path())
        .map(|t| serde_json::from_str(&t).expect("golden/runs.json parses"))
        .unwrap_or_default();
    let record = std::env::var_os("SPARSELIFT_GOLDEN_RECORD").is_some();
    let mut added = recorded.clone();
    let mut failures = Vec::new();
    for (name, spec) in runs() {
        for threads in [1, 2] {
            let dir = tempfile::tempdir().unwrap();
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let got = pool.install(|| match spec.precision.as_str() {
                "f32" => measure::<f32>(&spec, dir.path()),
                _ => measure::<f64>(&spec, dir.path()),
            });
            match recorded.get(name) {
                Some(want) if *want != got => failures.push(format!(
                    "{name} on {threads} thread(s):\n  want {want}\n  got  {got}"
                )),
                Some(_) => {}
                None if record => {
                    let first = added.entry(name.to_string()).or_insert(got.clone());
                    if *first != got {
                        failures.push(format!("{name}: 1 and 2 threads differ while recording"));
                    }
                }
                None => failures.push(format!(
                    "{name}: no recorded fingerprint (run with SPARSELIFT_GOLDEN_RECORD=1)"
                )),
            }
        }
    }
    if record && added != recorded {
        let text = serde_json::to_string_pretty(&added).unwrap() + "\n";
        std::fs::create_dir_all(golden_path().parent().unwrap()).unwrap();
        std::fs::write(golden_path(), text).unwrap();
        failures.push(format!(
            "recorded {} new run(s) in {}; run again without SPARSELIFT_GOLDEN_RECORD",
            added.len() - recorded.len(),
            golden_path().display()
        ));
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
