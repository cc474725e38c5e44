//! `sparselift zoo` and `sparselift check` on good input: what they print and that the
//! two agree (every zoo module checks clean, in TOML and in JSON).

use std::path::PathBuf;
use std::process::{Command, Output};

fn sparselift(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_sparselift"))
        .args(args)
        .output()
        .expect("running sparselift")
}

fn stdout(o: &Output) -> String {
    assert!(
        o.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout.clone()).expect("UTF-8 output")
}

/// True when a line of `text` has the words of `row` (the columns are aligned with
/// varying spaces).
fn has_row(text: &str, row: &str) -> bool {
    let want: Vec<&str> = row.split_whitespace().collect();
    text.lines()
        .any(|l| l.split_whitespace().eq(want.iter().copied()))
}

/// A file in a per-process scratch directory, removed when dropped.
struct Scratch(PathBuf);

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

impl Scratch {
    fn arg(&self) -> &str {
        self.0.to_str().expect("UTF-8 temp path")
    }
}

fn scratch(name: &str, text: &str) -> Scratch {
    let dir = std::env::temp_dir().join(format!("sparselift-zoo-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    Scratch(path)
}

#[test]
fn zoo_lists_every_entry_with_its_parameters() {
    let text = stdout(&sparselift(&["zoo"]));
    for e in sparselift::zoo::ENTRIES {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", e.name)))
            .unwrap_or_else(|| panic!("{} missing from:\n{text}", e.name));
        assert!(line.contains(e.description), "{line}");
        for p in e.params {
            assert!(
                text.contains(&format!("--{}", p.name)),
                "--{} missing",
                p.name
            );
        }
    }
}

#[test]
fn zoo_prints_the_library_module_and_check_accepts_it() {
    let args = [
        "zoo",
        "mlp",
        "--input",
        "7",
        "--hidden",
        "3",
        "--output",
        "2",
        "--activation",
        "tanh",
        "--no-bias",
    ];
    let toml = stdout(&sparselift(&args));
    let want = sparselift::zoo::mlp(&sparselift::zoo::MlpConfig {
        input: 7,
        hidden: 3,
        output: 2,
        activation: sparselift::module::Activation::Tanh,
        bias: false,
    })
    .unwrap();
    assert_eq!(toml, want.to_string());
    let json = stdout(&sparselift(&[&args[..], &["--json"]].concat()));
    assert_eq!(json.trim_end(), want.to_json());

    for (name, text) in [("mlp.toml", &toml), ("mlp.json", &json)] {
        let path = scratch(name, text);
        let out = sparselift(&["check", path.arg()]);
        let summary = stdout(&out);
        assert!(
            summary.contains(
                "module \"mlp\" is valid: 5 vertices, 4 edges; 7 scalars in, 2 scalars out"
            ),
            "{summary}"
        );
        assert!(has_row(&summary, "h3 hidden [1] tanh"), "{summary}");
        assert!(
            has_row(&summary, "x -> h1 linear weight [1, 7]"),
            "{summary}"
        );
        assert!(
            has_row(&summary, "h3 -> y linear weight [2, 1]"),
            "{summary}"
        );
        assert!(
            out.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn resmlp_skip_edges_show_their_sampler() {
    let toml = stdout(&sparselift(&["zoo", "resmlp", "--blocks", "2"]));
    let path = scratch("resmlp.toml", &toml);
    let summary = stdout(&sparselift(&["check", path.arg()]));
    let skips: Vec<&str> = summary
        .lines()
        .filter(|l| l.contains("identity  no weight"))
        .collect();
    assert_eq!(skips.len(), 2, "{summary}");
    assert!(
        skips.iter().all(|l| l.ends_with("sampler k-lift:1")),
        "{summary}"
    );
}

#[test]
fn check_warns_about_dead_vertices_but_succeeds() {
    let text = "[[vertex]]\nname = \"x\"\nrole = \"input\"\n\n[[vertex]]\nname = \"unused\"\nrole = \"input\"\n\n[[vertex]]\nname = \"y\"\nrole = \"output\"\n\n[[edge]]\nfrom = \"x\"\nto = \"y\"\nop = \"scalar\"\n";
    let path = scratch("dead.toml", text);
    let out = sparselift(&["check", path.arg()]);
    assert!(stdout(&out).contains("is valid"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("warning: "), "{stderr}");
    assert!(
        stderr.contains("dead.toml: vertex \"unused\" cannot reach an output"),
        "{stderr}"
    );
}

#[test]
fn check_draws_the_module_and_never_overwrites_without_force() {
    let toml = stdout(&sparselift(&["zoo", "resmlp", "--blocks", "2"]));
    let module = scratch("resmlp-svg.toml", &toml);
    let svg = Scratch(module.0.with_file_name("resmlp.svg"));
    let _ = std::fs::remove_file(&svg.0);

    let out = sparselift(&["check", module.arg(), "--svg", svg.arg()]);
    let text = stdout(&out);
    assert!(text.contains("is valid"), "{text}");
    assert!(text.contains(&format!("drawing: {}", svg.arg())), "{text}");
    let drawn = std::fs::read_to_string(&svg.0).unwrap();
    let doc = roxmltree::Document::parse(&drawn).expect("the drawing is XML");
    assert!(doc.root_element().has_tag_name("svg"));
    let want = sparselift::report::dag::svg(&sparselift::zoo::resolve(module.arg()).unwrap());
    assert_eq!(drawn, want.unwrap(), "the library's drawing, byte for byte");

    // An existing file is refused, and left alone.
    std::fs::write(&svg.0, "keep me").unwrap();
    let out = sparselift(&["check", module.arg(), "--svg", svg.arg()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "error: --svg {}: the file already exists; pass --force",
            svg.arg()
        )),
        "{stderr}"
    );
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read_to_string(&svg.0).unwrap(), "keep me");

    let out = sparselift(&["check", module.arg(), "--svg", svg.arg(), "--force"]);
    stdout(&out);
    assert_eq!(std::fs::read_to_string(&svg.0).unwrap(), drawn);
}
