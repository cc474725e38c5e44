//! Reading and writing module files: TOML (the format people write) and JSON (the format
//! programs write). Both hold the same [`ModuleSpec`].
//!
//! Loading never trusts the file: it is capped in size, must be UTF-8, and every syntax or
//! type error becomes an [`Error::Parse`] with `file:line:column`. The loader also records
//! the line of every vertex and edge (in [`Origin`]) so that validation errors, which are
//! found after parsing, still point into the file.
//!
//! ```
//! use sparselift::module::{Module, ModuleSpec};
//!
//! let text = r#"
//! [[vertex]]
//! name = "x"
//! role = "input"
//! shape = [3]
//!
//! [[vertex]]
//! name = "y"
//! role = "output"
//!
//! [[edge]]
//! from = "x"
//! to = "y"
//! op = "linear"
//! "#;
//! let spec = ModuleSpec::from_toml_str(text, "tiny.toml")?;
//! assert_eq!(spec.origin.as_ref().unwrap().edge_lines, vec![11]);
//! let module = spec.build()?;
//! assert_eq!(module.edge(0).weight_shape, vec![1, 3]);
//!
//! // `Display` prints TOML and `to_json` prints JSON; both load back to the same module.
//! let again = ModuleSpec::from_json_str(&module.to_json(), "tiny.json")?.build()?;
//! assert_eq!(again, module);
//!
//! // Errors name the file, the line and the problem.
//! let err = ModuleSpec::from_toml_str("[[vertex]]\nname = 3\n", "bad.toml").unwrap_err();
//! assert!(err.to_string().starts_with("bad.toml:2:8: invalid type: integer"));
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::spec::Origin;
use super::{Module, ModuleSpec};
use crate::bounded::{self, Cap};
use crate::{Error, Result};
use serde::de::IgnoredAny;
use serde::Deserialize;
use std::path::Path;

/// The module file formats, chosen by file extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// TOML (`.toml`), the format people write.
    Toml,
    /// JSON (`.json`), the format programs write.
    Json,
}

impl Format {
    /// The format of `path` by its extension (`.toml` or `.json`, any case).
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        if ext.eq_ignore_ascii_case("toml") {
            Ok(Format::Toml)
        } else if ext.eq_ignore_ascii_case("json") {
            Ok(Format::Json)
        } else {
            let what = if ext.is_empty() {
                "a module file needs an extension".to_string()
            } else {
                format!("unknown module file extension \".{ext}\"")
            };
            Err(Error::invalid(path.display().to_string(), what)
                .with_hint("module files are TOML (.toml) or JSON (.json); rename the file"))
        }
    }
}

impl Module {
    /// Loads and validates a module file (`.toml` or `.json`).
    pub fn load(path: impl AsRef<Path>) -> Result<Module> {
        ModuleSpec::load(path)?.build()
    }

    /// The module as pretty-printed JSON (the TOML form is its `Display`).
    pub fn to_json(&self) -> String {
        // A ModuleSpec is strings, integers and lists: serialising it cannot fail.
        serde_json::to_string_pretty(&self.to_spec()).unwrap_or_default()
    }
}

impl ModuleSpec {
    /// Reads a module file (`.toml` or `.json`) without validating it.
    pub fn load(path: impl AsRef<Path>) -> Result<ModuleSpec> {
        load_with_limit(path.as_ref(), Cap::MODULE)
    }

    /// Parses TOML; `path` names the source in error messages and in [`Origin`].
    pub fn from_toml_str(text: &str, path: &str) -> Result<ModuleSpec> {
        let parse_error = |e: toml::de::Error| {
            let (line, column) = match e.span() {
                Some(span) => line_column(text, span.start),
                None => (1, 1),
            };
            let mut message = toml_message(&e);
            // The parser says "duplicate key" without the key; its span holds it.
            if let Some(key) = e.span().and_then(|s| text.get(s)) {
                if message == "duplicate key" && !key.contains('\n') {
                    message = format!("duplicate key `{}`", key.trim());
                }
            }
            Error::Parse {
                path: path.to_string(),
                line,
                column,
                message,
            }
        };
        let mut spec: ModuleSpec = toml::from_str(text).map_err(parse_error)?;
        // Second pass over the same (already valid) document, only to learn where each
        // table starts: `Spanned` gives byte offsets, which the typed pass throws away.
        #[derive(Deserialize)]
        struct Tables {
            #[serde(default)]
            vertex: Vec<toml::Spanned<IgnoredAny>>,
            #[serde(default)]
            edge: Vec<toml::Spanned<IgnoredAny>>,
        }
        let tables: Tables = toml::from_str(text).map_err(parse_error)?;
        // One scan for the line breaks, then a binary search per table: counting from the
        // start for each table was quadratic (minutes for 20 000 vertices).
        let breaks: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
        let lines = |v: &[toml::Spanned<IgnoredAny>]| -> Vec<usize> {
            v.iter()
                .map(|s| breaks.partition_point(|&b| b < s.span().start) + 1)
                .collect()
        };
        spec.origin = Some(Origin {
            path: path.to_string(),
            vertex_lines: lines(&tables.vertex),
            edge_lines: lines(&tables.edge),
        });
        Ok(spec)
    }

    /// Parses JSON; `path` names the source in error messages and in [`Origin`].
    pub fn from_json_str(text: &str, path: &str) -> Result<ModuleSpec> {
        // serde would accept a top-level array as a tuple of fields and then complain
        // about the first element; saying what the document should be is clearer.
        let start = text.len() - text.trim_start().len();
        if !text[start..].starts_with('{') {
            let (line, column) = line_column(text, start);
            let found = if start == text.len() {
                "the file is empty"
            } else {
                "the document is not a JSON object"
            };
            return Err(Error::Parse {
                path: path.to_string(),
                line,
                column,
                message: format!(
                    "{found}; a module file is an object {{\"vertex\": [...], \"edge\": [...]}}"
                ),
            });
        }
        let mut spec: ModuleSpec = serde_json::from_str(text).map_err(|e| Error::Parse {
            path: path.to_string(),
            line: e.line().max(1),
            column: e.column().max(1),
            message: json_message(&e),
        })?;
        let (vertex_lines, edge_lines) = json_table_lines(text);
        spec.origin = Some(Origin {
            path: path.to_string(),
            vertex_lines,
            edge_lines,
        });
        Ok(spec)
    }
}

fn load_with_limit(path: &Path, cap: Cap) -> Result<ModuleSpec> {
    let format = Format::of(path)?;
    let name = path.display().to_string();
    let bytes = bounded::read(path, cap)?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let good = e.utf8_error().valid_up_to();
        // The prefix up to `good` is valid UTF-8, so the position can be counted in it.
        let prefix = String::from_utf8_lossy(&e.as_bytes()[..good]);
        let (line, column) = line_column(&prefix, good);
        Error::Parse {
            path: name.clone(),
            line,
            column,
            message: "the file is not valid UTF-8 text".into(),
        }
    })?;
    match format {
        Format::Toml => ModuleSpec::from_toml_str(&text, &name),
        Format::Json => ModuleSpec::from_json_str(&text, &name),
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_column(text: &str, at: usize) -> (usize, usize) {
    let mut at = at.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    let before = &text[..at];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    (line, before[line_start..].chars().count() + 1)
}

/// The toml error's own message plus the key it was in, on one line (the position goes in
/// front; the crate's multi-line snippet would not fit `file:line:col: message`).
fn toml_message(e: &toml::de::Error) -> String {
    // Without its input the error displays as "message\nin `key.path`".
    let mut e = e.clone();
    e.set_input(None);
    let text = e.to_string();
    let mut lines = text.lines().map(str::trim).filter(|l| !l.is_empty());
    let mut message = lines.next().unwrap_or("syntax error").to_string();
    for l in lines {
        message.push_str(" (");
        message.push_str(l);
        message.push(')');
    }
    message
}

/// serde_json's message without its trailing "at line L column C" (we print those first).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).unwrap_or(&text).to_string()
}

/// Lines of the objects in the top-level `vertex` and `edge` arrays of a JSON document
/// that has already parsed. A structural scan (strings, brackets) is enough: serde_json
/// does not report positions of nested values.
fn json_table_lines(text: &str) -> (Vec<usize>, Vec<usize>) {
    #[derive(PartialEq)]
    enum Frame {
        Object,
        Array,
        Tables(bool), // the `vertex` (true) or `edge` (false) array
    }
    let (mut vertices, mut edges) = (Vec::new(), Vec::new());
    let mut stack: Vec<Frame> = Vec::new();
    let mut line = 1;
    let mut last_key: Option<String> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            '"' => {
                let mut s = String::new();
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' => {
                            chars.next();
                        }
                        c => s.push(c),
                    }
                }
                // Only top-level keys matter; a string value there is followed by ',' or
                // '}', never by '[', so keeping it as `last_key` is harmless.
                if stack.len() == 1 {
                    last_key = Some(s);
                }
            }
            '{' => {
                if let Some(Frame::Tables(is_vertex)) = stack.last() {
                    if *is_vertex {
                        vertices.push(line);
                    } else {
                        edges.push(line);
                    }
                }
                stack.push(Frame::Object);
            }
            '[' => {
                let frame = match (stack.len(), last_key.as_deref()) {
                    (1, Some("vertex")) => Frame::Tables(true),
                    (1, Some("edge")) => Frame::Tables(false),
                    _ => Frame::Array,
                };
                stack.push(frame);
            }
            '}' | ']' => {
                stack.pop();
                if stack.len() == 1 {
                    last_key = None;
                }
            }
            _ => {}
        }
    }
    (vertices, edges)
}

/// Asserts that `m` written as TOML and as JSON loads back equal.
#[cfg(test)]
pub(crate) fn assert_round_trips(m: &Module) {
    let text = m.to_string();
    let back = ModuleSpec::from_toml_str(&text, "rt.toml").unwrap().build();
    assert_eq!(back.as_ref().ok(), Some(m), "TOML:\n{text}");
    let json = m.to_json();
    let back = ModuleSpec::from_json_str(&json, "rt.json").unwrap().build();
    assert_eq!(back.as_ref().ok(), Some(m), "JSON:\n{json}");
}

#[cfg(test)]
#[path = "load_tests.rs"]
mod tests;
