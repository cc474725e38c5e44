//! A training run killed with SIGKILL and resumed from its checkpoint ends with exactly
//! the parameters of an uninterrupted run.

use sparselift::checkpoint::Checkpoint;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const ARGS: &[&str] = &[
    "train",
    "zoo:mlp?input=64&hidden=2&output=10",
    "--data",
    "digits",
    "--size",
    "256",
    "--sampler",
    "in-degree:16",
    "--method",
    "adam:lr=1e-3,batch=32,target=1e-9",
    "--epochs",
    "25",
    "--checkpoint-every",
    "50",
];

fn temp(tag: &str) -> PathBuf {
    let p = std::env::temp_dir().join(format!("sparselift-resume-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&p);
    p
}

fn theta(dir: &Path) -> Vec<u32> {
    let c: Checkpoint<f32> = Checkpoint::load(&dir.join("checkpoint.safetensors")).unwrap();
    c.theta.iter().map(|x| x.to_bits()).collect()
}

#[test]
fn a_killed_training_run_resumes_bit_identically() {
    let (whole, killed) = (temp("whole"), temp("killed"));
    let run = |out: &Path| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sparselift"));
        c.args(ARGS)
            .arg("--out")
            .arg(out)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        c
    };
    let status = run(&whole).status().unwrap();
    assert!(status.success());

    let mut child = run(&killed).spawn().unwrap();
    let started = Instant::now();
    while !killed.join("checkpoint.safetensors").exists()
        && started.elapsed() < Duration::from_secs(120)
    {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("result.json").exists(),
        "the kill must land before the run ends"
    );
    let mid: Checkpoint<f32> = Checkpoint::load(&killed.join("checkpoint.safetensors")).unwrap();
    let steps = mid.state["trainer"]["descent"]["step"].as_u64().unwrap();
    assert!(steps > 0, "the checkpoint is mid-run");

    let out = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .arg("train")
        .arg("--resume")
        .arg(&killed)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        theta(&killed) == theta(&whole),
        "resumed parameters differ from the uninterrupted run's"
    );
    let trajectory = std::fs::read_to_string(killed.join("trajectory.jsonl")).unwrap();
    assert_eq!(
        trajectory,
        std::fs::read_to_string(whole.join("trajectory.jsonl")).unwrap()
    );
    for d in [whole, killed] {
        std::fs::remove_dir_all(d).unwrap();
    }
}
