//! Explicit lifts: edge lists written by hand, and whole lifts saved to and loaded from
//! JSON. Everything read is validated, and errors say where (`file:line`, the vertex or
//! the base edge) and what was wrong.
//!
//! **Edge list** (the `explicit:FILE` sampler): one `source target` pair of 0-based fiber
//! indices per line; `#` starts a comment; blank lines are ignored.
//!
//! ```text
//! # h1 -> h2, fibers of size 3
//! 0 0
//! 1 0   # multi-edges and any order are fine
//! 2 1
//! 0 2
//! ```
//!
//! **Whole lift** ([`save_lift`], [`load_lift`]): one JSON object naming the module, the
//! fiber of every vertex, and the edges over every base edge — either the string `"dense"`
//! (the complete bipartite graph) or a list of `[source, target]` pairs:
//!
//! ```json
//! {"module": "mlp", "fibers": {"x": 1, "h1": 3, "y": 1},
//!  "edges": {"x->h1": "dense", "h1->y": [[0, 0], [1, 0], [2, 0]]}}
//! ```
//!
//! ```
//! use sparselift::lift::{load_lift, save_lift, LiftSpec, Sampler};
//! use sparselift::zoo;
//!
//! let mlp = zoo::mlp(&zoo::MlpConfig { hidden: 2, ..Default::default() })?;
//! let lift = LiftSpec::new(20, Sampler::InDegree(3)).seed(5).sample(&mlp)?;
//! let path = std::env::temp_dir().join(format!("doc-lift-{}.json", std::process::id()));
//! save_lift(&mlp, &lift, &path)?;
//! assert_eq!(load_lift(&mlp, &path)?, lift);
//! # std::fs::remove_file(&path).ok();
//! # Ok::<(), sparselift::Error>(())
//! ```

mod file;

pub use file::{ExplicitEdges, ExplicitLift};

use super::Lift;
use crate::bounded::{self, Cap};
use crate::module::{Edge, Module};
use crate::{Error, Result};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// Reads an edge list: one `source target` pair of 0-based fiber indices per line.
pub fn read_edge_list(path: &Path) -> Result<Vec<(u32, u32)>> {
    parse_edge_list(path, |_, _| Ok(()))
}

/// Reads the edge list of `explicit:FILE` for base edge `e` and checks every pair against
/// the fibers, naming the line of the first pair outside them.
pub(super) fn read_edge_list_for(
    module: &Module,
    e: &Edge,
    path: &Path,
    n_src: u32,
    n_dst: u32,
) -> Result<Vec<(u32, u32)>> {
    let out_of = |end: &str, v: usize, i: u32, n: u32| {
        format!(
            "{end} {i} is outside the fiber of \"{}\" (size {n}, indices 0..{}) for edge \"{}\"",
            module.vertex(v).name,
            n.saturating_sub(1),
            e.name
        )
    };
    parse_edge_list(path, |s, t| {
        if s >= n_src {
            Err(out_of("source", e.from, s, n_src))
        } else if t >= n_dst {
            Err(out_of("target", e.to, t, n_dst))
        } else {
            Ok(())
        }
    })
}

fn parse_edge_list(
    path: &Path,
    check: impl Fn(u32, u32) -> std::result::Result<(), String>,
) -> Result<Vec<(u32, u32)>> {
    let file = bounded::open(path, Cap::LIFT)?;
    let at = |line: usize| format!("{}:{line}", path.display());
    let mut pairs = Vec::new();
    let mut reader = BufReader::new(file);
    let mut line = Vec::new();
    for i in 0.. {
        // A line is two indices and perhaps a comment: one longer than this is not an
        // edge list (a binary file, or a device without line breaks).
        const MAX_LINE: u64 = 4096;
        line.clear();
        let read = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(path, e))?;
        if read == 0 {
            break;
        }
        if line.len() as u64 > MAX_LINE {
            return Err(Error::invalid(
                at(i + 1),
                format!("the line is longer than {MAX_LINE} bytes"),
            )
            .with_hint("an edge list has one `source target` pair per line; check that this is the right file"));
        }
        let line = std::str::from_utf8(&line).map_err(|_| {
            Error::invalid(at(i + 1), "the line is not UTF-8 text")
                .with_hint("an edge list is text; check that this is the right file")
        })?;
        let text = line.split('#').next().unwrap_or("").trim();
        if text.is_empty() {
            continue;
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        let hint = "each line is `source target`: two 0-based fiber indices separated by spaces";
        if fields.len() != 2 {
            return Err(Error::invalid(
                at(i + 1),
                format!(
                    "expected two indices, found {} field(s): \"{text}\"",
                    fields.len()
                ),
            )
            .with_hint(hint));
        }
        let index = |f: &str| {
            f.parse::<u32>().map_err(|_| {
                Error::invalid(
                    at(i + 1),
                    format!("\"{f}\" is not a fiber index (a whole number ≥ 0)"),
                )
                .with_hint(hint)
            })
        };
        let (s, t) = (index(fields[0])?, index(fields[1])?);
        check(s, t).map_err(|m| Error::invalid(at(i + 1), m))?;
        pairs.push((s, t));
    }
    if pairs.len() as u64 > super::MAX_EDGES {
        return Err(Error::invalid(
            path.display().to_string(),
            "more lifted edges than the limit of 32-bit indices",
        ));
    }
    Ok(pairs)
}

/// Writes `lift` as explicit-lift JSON (see the [module docs](self)); sparse edges are
/// streamed, never copied into an intermediate list.
pub fn save_lift(module: &Module, lift: &Lift, path: &Path) -> Result<()> {
    crate::atomic::write_with(path, |mut w| file::write_json(&mut w, module, lift))
}

/// Reads an explicit lift of `module` from JSON and validates it (docs/semantics.md §2).
pub fn load_lift(module: &Module, path: &Path) -> Result<Lift> {
    let file = bounded::open(path, Cap::LIFT)?;
    let explicit: ExplicitLift =
        serde_json::from_reader(BufReader::new(file)).map_err(|e| Error::Parse {
            path: path.display().to_string(),
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        })?;
    explicit.build(module, &path.display().to_string())
}
