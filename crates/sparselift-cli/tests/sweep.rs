//! Sweeps survive SIGKILL and resume to the same runs; shards merge to the whole sweep.
//!
//! Run lines are compared as sets, without their `wall_s` field: wall time is a
//! measurement and differs between any two executions, everything else is determined by
//! the experiment and the seeds.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

const EXPERIMENT: &str = r#"
title = "test sweep"
module = "zoo:mlp?input=2&hidden=2&output=1"
data = "witness:m=2,n=32"
method = "flow:t=30"
epsilon = 1e-2
delta = 0.2
seeds = 5
precision = "f64"

[[family]]
name = "sparse"
sampler = "in-degree:2"
sizes = [2, 4, 8, 16]

[[family]]
name = "dense"
sampler = "dense"
sizes = [2, 8]
"#;

struct Temp(PathBuf);

impl Temp {
    fn new(tag: &str) -> Temp {
        let p = std::env::temp_dir().join(format!("sparselift-sweep-{}-{tag}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        std::fs::write(p.join("exp.toml"), EXPERIMENT).unwrap();
        Temp(p)
    }
    fn out(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
    /// `sparselift sweep` of the test experiment into `out`; further arguments go after.
    fn sweep(&self, out: &Path) -> Command {
        let exp = self.0.join("exp.toml");
        sparselift(&[
            "sweep",
            exp.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The CLI binary with `args`.
fn sparselift(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_sparselift"));
    cmd.args(args);
    cmd
}

/// Runs `cmd` to the end and asserts that it succeeded.
fn succeed(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// The run lines of a sweep directory without `wall_s`; every line must parse.
fn runs(dir: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(dir.join("runs.jsonl")).unwrap();
    assert!(text.ends_with('\n'), "a partial last line");
    text.lines()
        .map(|l| {
            let mut v: serde_json::Value =
                serde_json::from_str(l).unwrap_or_else(|e| panic!("broken line {l:?}: {e}"));
            v.as_object_mut().unwrap().remove("wall_s");
            v.to_string()
        })
        .collect()
}

const TOTAL: usize = 30;

#[test]
fn a_killed_sweep_resumes_to_the_runs_of_an_uninterrupted_one() {
    let t = Temp::new("kill");
    let whole = t.out("whole");
    succeed(t.sweep(&whole).args(["--jobs", "2"]));
    let expected = runs(&whole);
    assert_eq!(expected.len(), TOTAL);

    let killed = t.out("killed");
    let mut child = t
        .sweep(&killed)
        .args(["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Kill as soon as a few runs are on disk.
    let started = Instant::now();
    let lines =
        || std::fs::read_to_string(killed.join("runs.jsonl")).map_or(0, |s| s.lines().count());
    while lines() < 3 && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = lines();
    assert!(
        (3..TOTAL).contains(&at_kill),
        "the kill must land mid-sweep ({at_kill} of {TOTAL} runs written)"
    );

    let out = succeed(t.sweep(&killed).args(["--resume", "--jobs", "2"]));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already finished"));
    assert_eq!(runs(&killed), expected);
    assert!(killed.join("report.html").exists());
}

#[test]
fn two_merged_shards_equal_the_unsharded_sweep() {
    let t = Temp::new("shards");
    let whole = t.out("whole");
    succeed(&mut t.sweep(&whole));
    let (a, b, merged) = (t.out("a"), t.out("b"), t.out("merged"));
    succeed(t.sweep(&a).args(["--shard", "0/2"]));
    succeed(t.sweep(&b).args(["--shard", "1/2"]));
    let (ra, rb) = (runs(&a), runs(&b));
    assert!(!ra.is_empty() && !rb.is_empty() && ra.is_disjoint(&rb));
    succeed(&mut sparselift(&[
        "merge",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
        "--out",
        merged.to_str().unwrap(),
    ]));
    assert_eq!(runs(&merged), runs(&whole));
    let html = std::fs::read_to_string(merged.join("report.html")).unwrap();
    assert!(
        html.contains("<figure id=\"module\">"),
        "the base module is drawn"
    );
    assert!(merged.join("module.svg").exists());
}

#[test]
fn a_sweep_directory_is_not_overwritten_without_resume() {
    let t = Temp::new("again");
    let dir = t.out("d");
    succeed(t.sweep(&dir).args(["--shard", "0/6"]));
    let out = t.sweep(&dir).args(["--shard", "0/6"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--resume"));
}

#[test]
fn a_sweep_continues_whatever_spelling_stored_its_experiment_but_not_another_experiment() {
    let t = Temp::new("spelling");
    let dir = t.out("d");
    succeed(t.sweep(&dir).args(["--shard", "0/6"]));
    let stored = dir.join("experiment.toml");
    // The same experiment as an earlier version or a hand would write it.
    let respelled = EXPERIMENT.replace("witness:m=2,n=32", "witness:n=32, m=2");
    std::fs::write(&stored, &respelled).unwrap();
    succeed(t.sweep(&dir).args(["--shard", "1/6", "--resume"]));

    std::fs::write(&stored, EXPERIMENT.replace("seeds = 5", "seeds = 6")).unwrap();
    let out = t.sweep(&dir).args(["--resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("different experiment"));

    std::fs::write(&stored, "seeds = [").unwrap();
    let out = t.sweep(&dir).args(["--resume"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("experiment.toml is not an experiment"),
        "{stderr}"
    );
}

#[test]
fn a_mistake_found_by_the_check_claims_no_directory_and_the_fix_runs_into_it() {
    let t = Temp::new("check");
    // in-degree:4 cannot apply at size 2; found before anything is written.
    let bad = EXPERIMENT.replace("in-degree:2", "in-degree:4");
    std::fs::write(t.0.join("exp.toml"), &bad).unwrap();
    let fresh = t.out("fresh");
    let empty = t.out("empty");
    std::fs::create_dir(&empty).unwrap();
    for dir in [&fresh, &empty] {
        let out = t.sweep(dir).args(["--shard", "0/6"]).output().unwrap();
        assert_eq!(out.status.code(), Some(2));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("family \"sparse\" at size 2") && stderr.contains("in-degree:4"),
            "{stderr}"
        );
    }
    assert!(!fresh.exists(), "a refused sweep created its --out");
    assert_eq!(std::fs::read_dir(&empty).unwrap().count(), 0);

    std::fs::write(t.0.join("exp.toml"), EXPERIMENT).unwrap();
    for dir in [&fresh, &empty] {
        succeed(t.sweep(dir).args(["--shard", "0/6"]));
        assert_eq!(runs(dir).len(), TOTAL.div_ceil(6));
    }
}
