//! Endless inputs: `/dev/zero` given as every kind of input file (through a link with the
//! file name each kind needs) is refused with exit code 2 and a message naming the cap or
//! the damage, quickly and without exhausting memory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

struct Temp(PathBuf);

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs `sparselift args` in `dir`; returns stderr after checking exit code 2 and time.
fn refused(dir: &Path, args: &[&str]) -> String {
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "sparselift {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    // Generous for a loaded machine; reading to the end would never finish.
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "sparselift {args:?} took {:?}",
        start.elapsed()
    );
    stderr
}

#[test]
fn dev_zero_is_refused_as_every_kind_of_input() {
    let zero = Path::new("/dev/zero");
    if !cfg!(unix) || !zero.exists() {
        eprintln!("skipped: this system has no /dev/zero");
        return;
    }
    let dir = Temp(std::env::temp_dir().join(format!("sparselift-endless-{}", std::process::id())));
    let _ = std::fs::remove_dir_all(&dir.0);
    std::fs::create_dir_all(&dir.0).unwrap();
    #[cfg(unix)]
    for name in ["zero.toml", "zero.csv", "zero.safetensors", "zero.txt"] {
        std::os::unix::fs::symlink(zero, dir.0.join(name)).unwrap();
    }
    let module = "zoo:mlp?input=4&hidden=1&output=1";

    let e = refused(&dir.0, &["check", "zero.toml"]);
    assert!(
        e.contains("larger than the 64 MiB cap for module files"),
        "{e}"
    );

    let e = refused(&dir.0, &["sweep", "zero.toml", "--out", "sweep"]);
    assert!(
        e.contains("larger than the 16 MiB cap for experiment files"),
        "{e}"
    );
    assert!(
        !dir.0.join("sweep").exists(),
        "the refused sweep claimed its directory"
    );

    let e = refused(&dir.0, &["eval", "zero.safetensors"]);
    assert!(
        e.contains("not a valid sparselift checkpoint: a header of 0 bytes"),
        "{e}"
    );

    let e = refused(
        &dir.0,
        &[
            "lift",
            module,
            "--size",
            "4",
            "--edge",
            "h1-y=explicit:zero.txt",
        ],
    );
    assert!(
        e.contains("zero.txt:1: the line is longer than 4096 bytes"),
        "{e}"
    );

    let e = refused(&dir.0, &["train", module, "--data", "zero.csv"]);
    assert!(
        e.contains("larger than the 2 GiB cap for data files"),
        "{e}"
    );
}
