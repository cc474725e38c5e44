use super::*;
use crate::module::{Activation, ModuleBuilder, Op};

fn parse_err(result: Result<ModuleSpec>) -> (usize, usize, String) {
    match result {
        Err(Error::Parse {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

/// A scratch file that removes itself; named per test so parallel tests do not collide.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(name: &str, bytes: &[u8]) -> TempFile {
        let dir = std::env::temp_dir().join(format!("sparselift-load-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        // The last file of this process removes the folder (earlier attempts find it full).
        if let Some(dir) = self.0.parent() {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

#[test]
fn toml_origin_has_the_line_of_every_table() {
    let text = "name = \"t\"\n\n[[vertex]]\nname = \"x\"\nrole = \"input\"\n\n# note\n[[vertex]]\nname = \"y\"\nrole = \"output\"\n[[edge]]\nfrom = \"x\"\nto = \"y\"\nop = \"linear\"\n";
    let o = ModuleSpec::from_toml_str(text, "a.toml")
        .unwrap()
        .origin
        .unwrap();
    assert_eq!(o.path, "a.toml");
    assert_eq!((o.vertex_lines, o.edge_lines), (vec![3, 8], vec![11]));
    // Inline tables are located too.
    let text = "vertex = [\n  { name = \"x\", role = \"input\" },\n\n  { name = \"y\", role = \"output\" },\n]\nedge = [{ from = \"x\", to = \"y\", op = \"scalar\" }]\n";
    let o = ModuleSpec::from_toml_str(text, "b.toml")
        .unwrap()
        .origin
        .unwrap();
    assert_eq!((o.vertex_lines, o.edge_lines), (vec![2, 4], vec![6]));
}

#[test]
fn json_origin_has_the_line_of_every_object() {
    // Braces and brackets inside strings must not confuse the scan, nor nested arrays.
    let text = r#"{
  "name": "with \"quotes\" and [brackets] {braces}",
  "vertex": [
    {"name": "x", "role": "input", "shape": [2, 3]},
    {
      "name": "y", "role": "output", "shape": [2, 3]
    }
  ],
  "edge": [{"from": "x", "to": "y", "op": "identity"},
           {"from": "x", "to": "y", "op": "scalar", "name": "}{]["}]
}"#;
    let o = ModuleSpec::from_json_str(text, "a.json")
        .unwrap()
        .origin
        .unwrap();
    assert_eq!((o.vertex_lines, o.edge_lines), (vec![4, 5], vec![9, 10]));
    // The lines reach validation messages.
    let spec = ModuleSpec::from_json_str(
        &text.replace("\"y\", \"role\"", "\"x\", \"role\""),
        "a.json",
    )
    .unwrap();
    let e = spec.build().unwrap_err().to_string();
    assert!(
        e.starts_with("a.json:5: vertex \"x\": duplicate vertex name"),
        "{e}"
    );
}

#[test]
fn toml_errors_have_position_and_reason() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "[[vertex]]\nname = \"x\nrole = 1\n",
            (2, 10),
            "invalid basic string",
        ),
        (
            "[[vertex]]\nname = \"x\"\nrole = \"inp",
            (3, 12),
            "invalid basic string",
        ),
        (
            "[[vertex]]\nname = \"x\"\n[[edge",
            (3, 7),
            "unclosed array table",
        ),
        (
            "[[vertex]]\nname = \"x\"\nshape = \"x\"\n",
            (3, 9),
            "invalid type: string \"x\", expected a sequence (in `vertex.shape`)",
        ),
        (
            "[[vertex]]\nname = \"x\"\nshape = [-1]\n",
            (3, 10),
            "invalid value: integer `-1`",
        ),
        (
            "[[vertex]]\nname = \"x\"\nactivaton = \"relu\"\n",
            (3, 1),
            "unknown field `activaton`, expected one of `name`, `role`, `shape`, `activation`",
        ),
        (
            "[[edge]]\nfrom = \"x\"\nto = \"y\"\n",
            (1, 1),
            "missing field `op`",
        ),
        (
            "[[vertex]]\nname = \"x\"\nrole = \"bias\"\n",
            (3, 8),
            "unknown variant `bias`",
        ),
        ("nmae = \"x\"\n", (1, 1), "unknown field `nmae`"),
        (
            "name = \"a\"\nname = \"b\"\n",
            (2, 1),
            "duplicate key `name`",
        ),
    ];
    for &(text, pos, want) in cases {
        let (line, col, msg) = parse_err(ModuleSpec::from_toml_str(text, "t.toml"));
        assert_eq!((line, col), pos, "{text:?}: {msg}");
        assert!(msg.contains(want), "{text:?}: {msg}");
        // One line: the position goes in front of it.
        assert!(!msg.contains('\n'), "{msg}");
    }
    let deep = format!(
        "[[vertex]]\nname = \"x\"\nshape = {}{}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (_, _, msg) = parse_err(ModuleSpec::from_toml_str(&deep, "t.toml"));
    assert!(msg.contains("recursion"), "{msg}");
}

#[test]
fn json_errors_have_position_and_reason() {
    let cases: &[(&str, (usize, usize), &str)] = &[
        (
            "{\"vertex\": [{\"name\": \"x\"",
            (1, 24),
            "EOF while parsing an object",
        ),
        (
            "{\"vertex\": [{\"name\": \"x\",\n \"shape\": \"x\"}]}",
            (2, 13),
            "invalid type: string \"x\", expected a sequence",
        ),
        (
            "{\"vertex\": [{\"name\": \"x\", \"foo\": 1}]}",
            (1, 31),
            "unknown field `foo`",
        ),
        ("{\"vertex\": []} trailing", (1, 16), "trailing characters"),
        ("  [1, 2]", (1, 3), "the document is not a JSON object"),
        ("\n\n", (3, 1), "the file is empty"),
    ];
    for &(text, pos, want) in cases {
        let (line, col, msg) = parse_err(ModuleSpec::from_json_str(text, "t.json"));
        assert_eq!((line, col), pos, "{text:?}: {msg}");
        assert!(msg.contains(want), "{text:?}: {msg}");
        assert!(!msg.contains("at line"), "{msg}");
    }
    // Deep nesting is an error, not a stack overflow (typed fields reject it early).
    let deep = format!("{{\"vertex\": [{{\"shape\": {}", "[".repeat(100_000));
    let (_, _, msg) = parse_err(ModuleSpec::from_json_str(&deep, "t.json"));
    assert!(msg.contains("invalid type: sequence"), "{msg}");
}

#[test]
fn files_are_read_by_extension_and_checked() {
    let m = hand_written().swap_remove(0);
    let toml = TempFile::new("m.TOML", m.to_string().as_bytes());
    assert_eq!(Module::load(&toml.0).unwrap(), m);
    let json = TempFile::new("m.json", m.to_json().as_bytes());
    assert_eq!(Module::load(&json.0).unwrap(), m);

    let yaml = TempFile::new("m.yaml", b"name: x\n");
    let e = Module::load(&yaml.0).unwrap_err();
    assert!(
        e.to_string()
            .contains("unknown module file extension \".yaml\""),
        "{e}"
    );
    assert!(e.is_user_error());
    let e = Module::load("no-extension").unwrap_err();
    assert!(
        e.to_string().contains("a module file needs an extension"),
        "{e}"
    );

    let e = Module::load(toml.0.with_file_name("missing.toml")).unwrap_err();
    assert!(
        matches!(&e, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    );
    assert!(e.is_user_error());

    // Invalid UTF-8 on line 2, after 3 good characters.
    let bad = TempFile::new("bad.toml", b"name = \"x\"\nab\xc3z\n");
    let e = Module::load(&bad.0).unwrap_err();
    assert!(
        matches!(
            e,
            Error::Parse {
                line: 2,
                column: 3,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("not valid UTF-8"));
}

#[test]
fn oversized_files_are_refused_before_parsing() {
    let f = TempFile::new("big.toml", &vec![b'#'; 2 << 20]);
    let e = load_with_limit(&f.0, Cap::new("module files", 1 << 20)).unwrap_err();
    assert!(
        e.to_string()
            .contains("the file is larger than the 1 MiB cap for module files"),
        "{e}"
    );
    // At the limit exactly, the file is read (and is an empty, comment-only module).
    let spec = load_with_limit(&f.0, Cap::new("module files", 2 << 20)).unwrap();
    assert!(spec.vertices.is_empty());
}

/// Modules using every op and the two-argument activations, named and parallel edges, and
/// per-edge samplers: what `Display` and `to_json` print must load back to the same value.
fn hand_written() -> Vec<Module> {
    let mut out = Vec::new();

    let mut b = ModuleBuilder::new("attention");
    b.input("x", &[6, 8]);
    b.hidden("s", &[6, 6], Activation::Outer)
        .hidden("a", &[6, 8], Activation::Dsoftmul)
        .hidden("m", &[6, 8], Activation::Gelu)
        .fiber(1)
        .output("y", &[6, 8], Activation::Identity)
        .fiber(3);
    b.edge("x", "s", Op::Linear).out(2).named("query");
    b.edge("x", "s", Op::Linear).out(2).named("key");
    b.edge("s", "a", Op::Identity);
    b.edge("x", "a", Op::Linear).named("value");
    b.edge("a", "m", Op::TokenMix);
    b.edge("m", "y", Op::Scalar)
        .edge("x", "y", Op::Identity)
        .sampler(&crate::module::Sampler::KLift(1));
    out.push(b.build().unwrap());

    let mut b = ModuleBuilder::new("cnn");
    b.input("img", &[8, 8]).input("seq", &[10]);
    b.hidden("c", &[8, 8], Activation::Relu)
        .hidden("g", &[10], Activation::Product)
        .output("y", &[8, 1], Activation::Sigmoid)
        .output("z", &[10], Activation::LeakyRelu);
    b.edge("img", "c", Op::Conv(vec![3, 5]))
        .sampler(&crate::module::Sampler::InDegree(4));
    b.edge("seq", "g", Op::Conv(vec![3]))
        .edge("seq", "g", Op::Conv(vec![1]));
    b.edge("c", "y", Op::Linear)
        .edge("c", "y", Op::Linear)
        .out(1);
    b.edge("g", "z", Op::Scalar)
        .named("g->z#3")
        .edge("g", "z", Op::Scalar);
    b.edge("g", "z", Op::Scalar)
        .sampler(&crate::module::Sampler::ErdosRenyi(0.1));
    out.push(b.build().unwrap());

    // Unnamed parallel edges followed by one that *looks* auto-named but is not.
    let mut b = ModuleBuilder::new("");
    b.input("x", &[3]).output("y", &[1], Activation::Softplus);
    b.edge("x", "y", Op::Linear)
        .edge("x", "y", Op::Linear)
        .named("x->y#7");
    b.edge("x", "y", Op::Linear)
        .edge("x", "y", Op::Linear)
        .named("x->y-custom");
    out.push(b.build().unwrap());
    out
}

#[test]
fn display_and_json_load_back_to_equal_modules() {
    let modules = hand_written();
    modules.iter().for_each(assert_round_trips);
    // The names the third module's edges got, and kept.
    let names: Vec<&str> = modules[2].edges().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["x->y", "x->y#7", "x->y#2", "x->y-custom"]);
    // Pinned fibers are printed, and only where given.
    let text = modules[0].to_string();
    assert_eq!(text.matches("fiber = ").count(), 2, "{text}");
    assert!(text.contains(
        "name = \"m\"\nrole = \"hidden\"\nshape = [6, 8]\nactivation = \"gelu\"\nfiber = 1\n"
    ));
}

#[test]
fn a_pinned_fiber_is_at_least_one() {
    let text = "[[vertex]]\nname = \"x\"\nrole = \"input\"\n\n[[vertex]]\nname = \"h\"\nfiber = 0\n\n[[vertex]]\nname = \"y\"\nrole = \"output\"\n\n[[edge]]\nfrom = \"x\"\nto = \"h\"\nop = \"scalar\"\n\n[[edge]]\nfrom = \"h\"\nto = \"y\"\nop = \"scalar\"\n";
    let err = ModuleSpec::from_toml_str(text, "pin.toml")
        .unwrap()
        .build()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("pin.toml:5: vertex \"h\": fiber size 0"),
        "{err}"
    );
    assert!(err.contains("fiber = 1 or more"), "{err}");
    let negative = text.replace("fiber = 0", "fiber = -2");
    assert!(ModuleSpec::from_toml_str(&negative, "pin.toml").is_err());
}

#[test]
fn a_toml_module_of_twenty_thousand_vertices_loads_with_the_line_of_every_table() {
    // Counting lines from the start for each table was quadratic: minutes at this size.
    let n = 20_000;
    let mut text = String::from("name = \"chain\"\n");
    for i in 0..n {
        let role = if i == 0 { "input" } else { "hidden" };
        text += &format!("[[vertex]]\nname = \"v{i}\"\nrole = \"{role}\"\n");
    }
    for i in 1..n {
        text += &format!(
            "[[edge]]\nfrom = \"v{}\"\nto = \"v{i}\"\nop = \"scalar\"\n",
            i - 1
        );
    }
    let o = ModuleSpec::from_toml_str(&text, "chain.toml")
        .unwrap()
        .origin
        .unwrap();
    // Line 1 is the name; each vertex table takes 3 lines, each edge table 4.
    assert_eq!(o.vertex_lines[0], 2);
    assert_eq!(o.vertex_lines[n - 1], 2 + 3 * (n - 1));
    assert_eq!(o.edge_lines[0], 2 + 3 * n);
    assert_eq!(o.edge_lines[n - 2], 2 + 3 * n + 4 * (n - 2));
}
