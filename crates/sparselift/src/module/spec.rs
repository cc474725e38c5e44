//! The serialisable description of a base module — what TOML/JSON files and the
//! [`ModuleBuilder`](super::ModuleBuilder) produce — and its loaders.
//!
//! ```toml
//! name = "tiny"
//!
//! [[vertex]]
//! name = "x"
//! role = "input"
//! shape = [4]
//!
//! [[vertex]]
//! name = "h"
//! shape = [1]          # role defaults to "hidden"
//! activation = "relu"
//!
//! [[vertex]]
//! name = "r"
//! shape = [1]
//! fiber = 1            # optional: a fixed fiber size, whatever the lift size
//!
//! [[vertex]]
//! name = "y"
//! role = "output"
//! shape = [1]
//!
//! [[edge]]
//! from = "x"
//! to = "h"
//! op = "linear"
//!
//! [[edge]]
//! from = "h"
//! to = "r"
//! op = "scalar"
//!
//! [[edge]]
//! from = "r"
//! to = "y"
//! op = "scalar"
//! ```

use super::Role;
use serde::{Deserialize, Serialize};

/// A base module as written in a file: vertices and edges in declaration order.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModuleSpec {
    /// The module's name (optional in files).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub name: String,
    /// The `[[vertex]]` tables.
    #[serde(default, rename = "vertex")]
    pub vertices: Vec<VertexSpec>,
    /// The `[[edge]]` tables; their order among the edges into one vertex is the order of
    /// that vertex's pre-activations.
    #[serde(default, rename = "edge")]
    pub edges: Vec<EdgeSpec>,
    /// Where the spec came from, for error messages (not serialised).
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// One `[[vertex]]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VertexSpec {
    /// Unique name, referenced by edges.
    pub name: String,
    /// Defaults to `hidden`.
    #[serde(default = "hidden")]
    pub role: Role,
    /// Defaults to `[1]` (a scalar channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shape: Option<Vec<usize>>,
    /// Defaults to `identity`; not allowed on inputs and constants.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<String>,
    /// A fixed fiber size (at least 1) that does not scale with the lift size, e.g. `1`
    /// for a residual stream that is not lifted (docs/semantics.md §2). Without it, a
    /// hidden vertex gets the lift size and any other vertex 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiber: Option<u32>,
}

fn hidden() -> Role {
    Role::Hidden
}

/// One `[[edge]]` table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeSpec {
    /// Source vertex name.
    pub from: String,
    /// Target vertex name.
    pub to: String,
    /// The op's name: `scalar`, `linear`, `identity`, `token_mix`, `conv` or `readout`.
    pub op: String,
    /// Optional unique name (defaults to `from->to`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// `linear` and `readout` only: output size of the last axis, when the target does not
    /// fix it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub out: Option<usize>,
    /// `conv` only: the kernel size, `[k]` (1-D) or `[k, k]` (2-D), odd.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<Vec<usize>>,
    /// Default sampler for this edge (e.g. `"k-lift:1"` for residual edges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sampler: Option<String>,
}

/// The file a spec was read from and the line of each vertex and edge table.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Origin {
    /// The file, as the user named it.
    pub path: String,
    /// 1-based line of each `[[vertex]]` table (each vertex object in JSON).
    pub vertex_lines: Vec<usize>,
    /// 1-based line of each `[[edge]]` table (each edge object in JSON).
    pub edge_lines: Vec<usize>,
}

impl ModuleSpec {
    /// `file:line: vertex "name"` (or just `vertex "name"` without an origin).
    pub(crate) fn at_vertex(&self, i: usize) -> String {
        let what = format!("vertex \"{}\"", self.vertices[i].name);
        self.locate(what, |o| o.vertex_lines.get(i).copied())
    }

    /// `file:line: edge "from" -> "to"`.
    pub(crate) fn at_edge(&self, i: usize) -> String {
        let e = &self.edges[i];
        let what = match &e.name {
            Some(n) => format!("edge \"{n}\" ({} -> {})", e.from, e.to),
            None => format!("edge {} -> {}", e.from, e.to),
        };
        self.locate(what, |o| o.edge_lines.get(i).copied())
    }

    /// `file` or `module "name"`, for errors about the whole module.
    pub(crate) fn at_module(&self) -> String {
        match &self.origin {
            Some(o) => o.path.clone(),
            None => format!("module \"{}\"", self.name),
        }
    }

    fn locate(&self, what: String, line: impl Fn(&Origin) -> Option<usize>) -> String {
        match &self.origin {
            Some(o) => match line(o) {
                Some(l) => format!("{}:{l}: {what}", o.path),
                None => format!("{}: {what}", o.path),
            },
            None => what,
        }
    }
}
