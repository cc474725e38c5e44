//! The malformed-input corpus: runs the `sparselift` binary on every case in
//! `tests/corpus/` and checks that it fails the way the case says — exit code 2 unless
//! `# exit:` says otherwise, every `# expect:` text on stderr, and never a panic.
//!
//! The case format is described in `tests/corpus/README.md`. The harness knows nothing
//! about particular subcommands: a case is a command line plus expectations, so cases for
//! any subcommand can be added as files without touching this code.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One case: the command to run and what it must do.
#[derive(Debug)]
struct Case {
    /// The file holding the directives (the case's name in reports).
    source: PathBuf,
    args: Vec<String>,
    expect: Vec<String>,
    exit: i32,
}

/// A case that takes longer than this is a hang (every case should fail in milliseconds).
const TIMEOUT: Duration = Duration::from_secs(60);

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("corpus")
}

/// Reads the directives at the top of `text`: the leading lines that start with `#`.
fn parse_case(source: &Path, subject: &Path, text: &str) -> Result<Case, String> {
    let dir = corpus_dir();
    let (mut run, mut expect, mut exit) = (None, Vec::new(), 2);
    for line in text.lines() {
        let Some(comment) = line.trim_start().strip_prefix('#') else {
            break;
        };
        let comment = comment.trim();
        if let Some(r) = comment.strip_prefix("run:") {
            if run.is_some() {
                return Err("more than one `# run:` line".into());
            }
            let args: Vec<String> = r
                .split_whitespace()
                .map(|a| {
                    a.replace("{file}", &subject.to_string_lossy())
                        .replace("{dir}", &dir.to_string_lossy())
                })
                .collect();
            run = Some(args);
        } else if let Some(e) = comment.strip_prefix("expect:") {
            expect.push(e.trim().to_string());
        } else if let Some(x) = comment.strip_prefix("exit:") {
            exit = x
                .trim()
                .parse()
                .map_err(|_| format!("bad `# exit:` value {x:?}"))?;
        }
    }
    let args = run.ok_or("no `# run:` line")?;
    if args.is_empty() {
        return Err("empty `# run:` line".into());
    }
    if expect.iter().all(String::is_empty) {
        // A case must name the problem, or it would pass on any failure.
        return Err("no `# expect:` line".into());
    }
    Ok(Case {
        source: source.to_path_buf(),
        args,
        expect,
        exit,
    })
}

/// Every case of the corpus: `NAME.case` files (directives for the subject file `NAME`,
/// which may not exist), and every other top-level file (directives in its own leading
/// comment lines) that has no `.case` sidecar. Subdirectories hold fixtures, not cases.
fn load_cases() -> Vec<Result<Case, String>> {
    let dir = corpus_dir();
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("reading the corpus directory").path())
        .filter(|p| p.is_file())
        .collect();
    paths.sort();
    let mut cases = Vec::new();
    for path in &paths {
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .to_string();
        if name == "README.md" {
            continue;
        }
        let (subject, directives) = match name.strip_suffix(".case") {
            Some(stem) => (dir.join(stem), path.clone()),
            None if dir.join(format!("{name}.case")).exists() => continue,
            None => (path.clone(), path.clone()),
        };
        let bytes = std::fs::read(&directives).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        cases.push(
            parse_case(path, &subject, &text).map_err(|e| format!("{}: {e}", path.display())),
        );
    }
    cases
}

/// Runs the binary; returns (exit code, stderr), or why the run itself failed.
fn run(args: &[String]) -> Result<(Option<i32>, String), String> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot start sparselift: {e}"))?;
    // Drain both pipes while waiting, so a chatty case cannot block on a full pipe.
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(child.stdout.take().map(|p| Box::new(p) as _));
    let err = drain(child.stderr.take().map(|p| Box::new(p) as _));
    let start = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if start.elapsed() > TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("still running after {TIMEOUT:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(5)),
            Err(e) => return Err(format!("waiting for sparselift: {e}")),
        }
    };
    let _ = out.join();
    let stderr = err.join().unwrap_or_default();
    Ok((status.code(), String::from_utf8_lossy(&stderr).into_owned()))
}

/// What is wrong with the outcome of `case`, if anything.
fn check(case: &Case) -> Result<(), String> {
    let (code, stderr) = run(&case.args)?;
    let mut problems = Vec::new();
    if stderr.contains("panicked") {
        problems.push("it panicked".to_string());
    }
    if code != Some(case.exit) {
        problems.push(format!("exit code {code:?}, expected {}", case.exit));
    }
    for e in &case.expect {
        if !stderr.contains(e.as_str()) {
            problems.push(format!("stderr lacks {e:?}"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\n  run: sparselift {}\n  {}\n  stderr:\n{}",
            case.source.display(),
            case.args.join(" "),
            problems.join("\n  "),
            stderr
                .lines()
                .map(|l| format!("    | {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        ))
    }
}

/// The output directory the corpus's refused sweeps name: a refusal must not create it.
const NEVER_WRITTEN: &str = "never-written";

#[test]
fn every_malformed_input_fails_cleanly() {
    let never_written = corpus_dir().join(NEVER_WRITTEN);
    // Left over by an earlier failing run, it would fail this one whatever the code does.
    let _ = std::fs::remove_dir_all(&never_written);
    let cases = load_cases();
    let mut failures: Vec<String> = Vec::new();
    let mut ran = 0;
    for case in &cases {
        match case {
            Ok(c) => {
                ran += 1;
                if let Err(f) = check(c) {
                    failures.push(f);
                }
            }
            Err(e) => failures.push(format!("malformed case {e}")),
        }
    }
    if never_written.exists() {
        failures.push(format!(
            "{} exists: a refused sweep claimed its --out",
            never_written.display()
        ));
        let _ = std::fs::remove_dir_all(&never_written);
    }
    assert!(
        failures.is_empty(),
        "{} of {} corpus cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
    assert!(ran >= 30, "only {ran} corpus cases found");
}

/// The harness itself: directives are read only from the leading comment block, and a
/// case without expectations is refused rather than passing vacuously.
#[test]
fn case_directives_are_parsed_strictly() {
    let dir = corpus_dir();
    let subject = dir.join("x.toml");
    let c = parse_case(
        &subject,
        &subject,
        "# run: check {file} --flag {dir}/y\n#expect:  a b \n# just a comment\n# exit: 1\n\n# expect: ignored\n",
    )
    .unwrap();
    let file = subject.to_string_lossy().to_string();
    let y = format!("{}/y", dir.to_string_lossy());
    assert_eq!(c.args, ["check", file.as_str(), "--flag", y.as_str()]);
    assert_eq!((c.expect, c.exit), (vec!["a b".to_string()], 1));
    assert!(parse_case(&subject, &subject, "# run: check {file}\n")
        .unwrap_err()
        .contains("no `# expect:`"));
    assert!(parse_case(&subject, &subject, "# expect: x\n")
        .unwrap_err()
        .contains("no `# run:`"));
}
