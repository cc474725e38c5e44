//! The library's layering, checked from its sources.
//!
//! * No import cycle between the top-level modules of `src/` (`module`, `lift`, `engine`,
//!   …), nor between the sibling files of one module: each layer consumes the one below
//!   it and never reaches back. Dependencies are read from the `crate::…` and `super::…`
//!   paths in code (comments are skipped), including grouped `use crate::{a, b::c}`.
//! * The comments cite only documents inside the repository: no "SPEC §n", "DESIGN" or
//!   `../shared`, and every `docs/FILE.md §N` they cite names a file and a section
//!   that exist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn src() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`, with its path relative to `src/`.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file: `engine/dense.rs` → `["engine", "dense"]`, `engine/mod.rs`
/// → `["engine"]`, `lib.rs` → `[]`. Files in a folder named after a file module
/// (`data/csv_file/tests.rs`) belong to that module's path.
fn module_path(rel: &Path) -> Vec<String> {
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The code of a file without its comments (line comments, doc comments and block
/// comments), so that doc examples and intra-doc links do not count as imports.
fn code_of(text: &str) -> String {
    let mut out = String::new();
    let mut in_block = 0usize;
    for line in text.lines() {
        let mut rest = line;
        let mut kept = String::new();
        loop {
            if in_block > 0 {
                match rest.find("*/") {
                    Some(i) => {
                        in_block -= 1;
                        rest = &rest[i + 2..];
                    }
                    None => break,
                }
            } else if let Some(i) = rest.find("/*") {
                let before = &rest[..i];
                match before.find("//") {
                    Some(j) => {
                        kept.push_str(&before[..j]);
                        break;
                    }
                    None => {
                        kept.push_str(before);
                        in_block += 1;
                        rest = &rest[i + 2..];
                    }
                }
            } else {
                kept.push_str(rest.split("//").next().unwrap_or(""));
                break;
            }
        }
        out.push_str(&kept);
        out.push('\n');
    }
    out
}

/// The first path segment of each item at the top of a `{…}` group starting at `s[0]`:
/// `{a, b::c, d::{e, f}}` → `[a, b, d]`.
fn group_heads(s: &str) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    let mut expecting = true;
    for c in s.chars() {
        match c {
            '{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                    continue;
                }
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expecting = true,
            _ => {}
        }
        if depth == 1 && expecting {
            if c.is_alphanumeric() || c == '_' {
                current.push(c);
            } else if !current.is_empty() {
                heads.push(std::mem::take(&mut current));
                expecting = false;
            }
        }
    }
    if !current.is_empty() {
        heads.push(current);
    }
    heads
}

/// The modules named right after each occurrence of `prefix` in `code`.
fn heads_after(code: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let boundary = code[..i]
            .chars()
            .next_back()
            .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == ':'));
        if !boundary {
            continue;
        }
        let rest = &code[i + prefix.len()..];
        if rest.starts_with('{') {
            out.extend(group_heads(rest));
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
    }
    out
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every set of two or more modules that import each other, directly or through others
/// (the strongly connected components of `graph`): empty when it has no cycle.
fn cycles(graph: &Graph) -> Vec<BTreeSet<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_string()];
        while let Some(n) = todo.pop() {
            for m in graph.get(&n).into_iter().flatten() {
                if seen.insert(m.clone()) {
                    todo.push(m.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<String>> =
        graph.keys().map(|n| (n, reach(n))).collect();
    let mut found: Vec<BTreeSet<String>> = Vec::new();
    for (a, from_a) in &reaches {
        let scc: BTreeSet<String> = from_a
            .iter()
            .filter(|b| reaches.get(b).is_some_and(|r| r.contains(*a)))
            .cloned()
            .collect();
        if scc.len() >= 2 && !found.contains(&scc) {
            found.push(scc);
        }
    }
    found
}

/// The dependency graphs: `""` → graph of the top-level modules; `"engine"` → graph of
/// the files directly inside `engine/` (each sub-folder counting as its file module).
fn graphs() -> BTreeMap<String, Graph> {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let top: BTreeSet<String> = files
        .iter()
        .filter_map(|f| module_path(f.strip_prefix(src()).unwrap()).first().cloned())
        .collect();
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    for file in &files {
        let path = module_path(file.strip_prefix(src()).unwrap());
        let Some(own_top) = path.first() else {
            continue;
        };
        let code = code_of(&std::fs::read_to_string(file).unwrap());
        for head in heads_after(&code, "crate::") {
            if top.contains(&head) && &head != own_top {
                graphs
                    .entry(String::new())
                    .or_default()
                    .entry(own_top.clone())
                    .or_default()
                    .insert(head);
            }
        }
        // Siblings inside one top-level module: files at depth 2 (`engine/dense.rs`).
        if path.len() >= 2 {
            let me = path[1].clone();
            let mut siblings = heads_after(&code, &format!("crate::{own_top}::"));
            if path.len() == 2 {
                siblings.extend(heads_after(&code, "super::"));
            }
            let graph = graphs.entry(own_top.clone()).or_default();
            graph.entry(me.clone()).or_default();
            for s in siblings {
                let is_module = src().join(own_top).join(format!("{s}.rs")).exists()
                    || src().join(own_top).join(&s).is_dir();
                if is_module && s != me {
                    graph.get_mut(&me).unwrap().insert(s);
                }
            }
        }
    }
    graphs
}

#[test]
fn no_import_cycle_between_modules_or_sibling_files() {
    let graphs = graphs();
    assert!(
        graphs.get("").is_some_and(|g| g.len() >= 5),
        "the top-level graph was not read: {graphs:?}"
    );
    let cycles: Vec<String> = graphs
        .iter()
        .filter_map(|(scope, g)| {
            let scope = if scope.is_empty() { "src" } else { scope };
            let found = cycles(g);
            (!found.is_empty()).then(|| format!("{scope}: {found:?}"))
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_cycles_and_reads_grouped_imports() {
    let g: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]
        .iter()
        .fold(Graph::new(), |mut g, (x, y)| {
            g.entry(x.to_string()).or_default().insert(y.to_string());
            g
        });
    let abc: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    assert_eq!(cycles(&g), [abc]);
    let mut acyclic = g.clone();
    acyclic.get_mut("c").unwrap().remove("a");
    assert!(cycles(&acyclic).is_empty());
    let code = code_of("use crate::{lift::Lift, module::{A, B}, Error}; // crate::report\n");
    assert_eq!(heads_after(&code, "crate::"), ["lift", "module", "Error"]);
    assert_eq!(heads_after("x = super::dense::f();", "super::"), ["dense"]);
}

/// Markdown sections of a file: the numbers `N` of its `## §N` / `## N.` headings.
fn sections(markdown: &str) -> BTreeSet<String> {
    markdown
        .lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| {
            let t = l.trim_start_matches('#').trim().trim_start_matches('§');
            let n: String = t
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let n = n.trim_end_matches('.').to_string();
            (!n.is_empty()).then_some(n)
        })
        .collect()
}

#[test]
fn comments_cite_only_documents_in_the_repository() {
    let mut files = Vec::new();
    for crate_dir in ["crates/sparselift", "crates/sparselift-cli"] {
        rust_files(&repo().join(crate_dir), &mut files);
    }
    files.retain(|f| !f.components().any(|c| c.as_os_str() == "target"));
    let mut bad = Vec::new();
    let this_file = file!().rsplit('/').next().unwrap();
    for file in &files {
        if file.ends_with(this_file) {
            continue;
        }
        let text = std::fs::read_to_string(file).unwrap();
        for (i, line) in text.lines().enumerate() {
            let at = || format!("{}:{}", file.display(), i + 1);
            for outside in [
                "SPEC §",
                "SPEC \"",
                "DESIGN \"",
                "DESIGN.md",
                "SPEC.md",
                "PERF.md",
                "../shared",
            ] {
                if line.contains(outside) {
                    bad.push(format!("{}: cites {outside:?}", at()));
                }
            }
            for (j, _) in line.match_indices("docs/") {
                let rest = &line[j..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || "/._-".contains(*c))
                    .collect();
                let name = name.trim_end_matches('.');
                let Ok(doc) = std::fs::read_to_string(repo().join(name)) else {
                    bad.push(format!("{}: {name} does not exist", at()));
                    continue;
                };
                if let Some(sec) = rest[name.len()..].trim_start().strip_prefix('§') {
                    let n: String = sec
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.')
                        .collect();
                    let n = n.trim_end_matches('.');
                    if !sections(&doc).contains(n) {
                        bad.push(format!("{}: {name} has no section §{n}", at()));
                    }
                }
            }
        }
    }
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}
