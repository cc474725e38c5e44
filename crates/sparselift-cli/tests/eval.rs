//! `sparselift eval RUN --data FILE` scores the whole file, not the run's test split of it.

use sparselift::checkpoint::Checkpoint;
use sparselift::data::DataSource;
use sparselift::train::Supervised;
use std::path::PathBuf;
use std::process::Command;

const ROWS: usize = 300;

struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Three features and a class `y` in `0..3` that depends on them, with some noise.
fn rows_csv() -> String {
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    };
    let mut text = String::from("a,b,c,y\n");
    for _ in 0..ROWS {
        let (a, b, c) = (next(), next(), next());
        let y = if a + 0.3 * next() > 0.3 {
            0
        } else if b > c {
            1
        } else {
            2
        };
        text += &format!("{a:.6},{b:.6},{c:.6},{y}\n");
    }
    text
}

fn sparselift(dir: &PathBuf, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "sparselift {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn eval_on_a_file_scores_every_row() {
    let dir = Temp(std::env::temp_dir().join(format!("sparselift-eval-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    std::fs::write(dir.0.join("rows.csv"), rows_csv()).unwrap();
    let data = "rows.csv:label=y";
    sparselift(
        &dir.0,
        &[
            "train",
            "zoo:mlp?input=3&hidden=1&output=3",
            "--data",
            data,
            "--size",
            "8",
            "--method",
            "adam:lr=1e-2,batch=32",
            "--epochs",
            "3",
            "--precision",
            "f64",
            "--out",
            "run",
        ],
    );

    let json = sparselift(&dir.0, &["eval", "run", "--data", data, "--json"]);
    let scored: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(scored["samples"], ROWS, "{json}");

    // The mean of the losses of the rows one at a time, from the checkpoint.
    let ckpt: Checkpoint<f64> =
        Checkpoint::load(&dir.0.join("run/checkpoint.safetensors")).unwrap();
    let file = DataSource::parse(&dir.0.join(data).display().to_string())
        .unwrap()
        .load()
        .unwrap();
    assert_eq!(file.len(), ROWS);
    let mean = (0..ROWS)
        .map(|i| {
            Supervised::from_dataset(&ckpt.network, &file.subset(&[i]))
                .unwrap()
                .evaluate(&ckpt.theta)
                .loss
        })
        .sum::<f64>()
        / ROWS as f64;
    let loss = scored["loss"].as_f64().unwrap();
    assert!(
        (loss - mean).abs() <= 1e-12 * mean.abs(),
        "eval loss {loss}, mean of the row losses {mean}"
    );
    // The same network saved without its run description (as the library saves one):
    // with --data it scores the same; without, there is no data of its own to score on.
    let bare = Checkpoint {
        network: ckpt.network.clone(),
        theta: ckpt.theta.clone(),
        state: Default::default(),
    };
    bare.save(&dir.0.join("bare.safetensors")).unwrap();
    let json = sparselift(
        &dir.0,
        &["eval", "bare.safetensors", "--data", data, "--json"],
    );
    let again: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(again["loss"], scored["loss"], "{json}");
    let out = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .current_dir(&dir.0)
        .args(["eval", "bare.safetensors"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("holds no run description"), "{stderr}");
    assert!(stderr.contains("--data"), "{stderr}");
}
