//! Nothing the user already has is replaced without `--force`: a run in `train --out`,
//! and the files of `lift --dot` and `--save`. Refused commands leave every file as it was.

use std::path::Path;
use std::process::{Command, Output};

fn sparselift(args: &[&str], out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .args(args)
        .arg(out)
        .output()
        .expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const TRAIN: &[&str] = &[
    "train",
    "zoo:mlp?input=4&hidden=1&output=1",
    "--data",
    "witness:m=2,n=32",
    "--size",
    "4",
    "--method",
    "flow:t=10",
];

fn with(extra: &[&'static str]) -> Vec<&'static str> {
    TRAIN.iter().chain(extra).copied().collect()
}

#[test]
fn a_run_directory_is_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run");
    let first = sparselift(&with(&["--out"]), &run);
    assert!(first.status.success(), "{}", stderr(&first));
    let before: Vec<Vec<u8>> = ["checkpoint.safetensors", "result.json"]
        .iter()
        .map(|f| std::fs::read(run.join(f)).unwrap())
        .collect();

    let again = sparselift(&with(&["--seed", "1", "--out"]), &run);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    let e = stderr(&again);
    assert!(
        e.contains("already holds a run") && e.contains("--resume") && e.contains("--force"),
        "{e}"
    );
    let after: Vec<Vec<u8>> = ["checkpoint.safetensors", "result.json"]
        .iter()
        .map(|f| std::fs::read(run.join(f)).unwrap())
        .collect();
    assert!(before == after, "a refused run changed the directory");

    // A resumed run writing into another run's directory is refused the same way.
    let other = dir.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::write(other.join("result.json"), b"{}").unwrap();
    let resumed = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .args(["train", "--resume"])
        .arg(&run)
        .arg("--out")
        .arg(&other)
        .output()
        .unwrap();
    assert_eq!(resumed.status.code(), Some(2), "{}", stderr(&resumed));
    assert_eq!(std::fs::read(other.join("result.json")).unwrap(), b"{}");

    let forced = sparselift(&with(&["--seed", "1", "--force", "--out"]), &run);
    assert!(forced.status.success(), "{}", stderr(&forced));
    let result = std::fs::read(run.join("result.json")).unwrap();
    assert_ne!(result, before[1], "--force replaced the run");
}

#[test]
fn lift_files_are_replaced_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let (dot, save) = (dir.path().join("lift.dot"), dir.path().join("lift.json"));
    for path in [&dot, &save] {
        std::fs::write(path, b"keep").unwrap();
    }
    let lift = |flag: &str, path: &Path, force: bool| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sparselift"));
        c.args(["lift", "zoo:mlp", "--size", "4", flag]).arg(path);
        if force {
            c.arg("--force");
        }
        c.output().unwrap()
    };
    for (flag, path) in [("--dot", &dot), ("--save", &save)] {
        let refused = lift(flag, path, false);
        assert_eq!(refused.status.code(), Some(2), "{}", stderr(&refused));
        assert!(stderr(&refused).contains(flag), "{}", stderr(&refused));
        assert_eq!(std::fs::read(path).unwrap(), b"keep");
        let forced = lift(flag, path, true);
        assert!(forced.status.success(), "{}", stderr(&forced));
        assert_ne!(std::fs::read(path).unwrap(), b"keep");
    }
}
