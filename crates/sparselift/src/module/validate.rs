//! Validation: turns a [`ModuleSpec`] into a [`Module`], or says precisely what is wrong.
//!
//! Checks, in order: names (invalid, unknown, duplicate), roles (in-edges into inputs,
//! inputs with activations, constant shapes, missing outputs, hidden vertices without
//! in-edges), acyclicity (the cycle is printed), activation arity and the vertex shapes
//! that `outer`/`dsoftmul` need, op/shape compatibility (resolving every edge's
//! pre-activation and weight shape), then the pre-activation shapes of `outer`. Vertices
//! that cannot reach an output are a warning, not an error.
//!
//! The order matters for the message: arity is checked before edge shapes so that a
//! `product` vertex with three in-edges is reported as "takes exactly 2", not as a shape
//! mismatch on its third edge. All checks are linear in the size of the module, so even an
//! absurd (but size-capped) file is rejected quickly.
//!
//! ```
//! use sparselift::module::ModuleSpec;
//!
//! let text = r#"
//! vertex = [{ name = "x", role = "input" }, { name = "a" }, { name = "b", role = "output" }]
//! edge = [
//!     { from = "x", to = "a", op = "scalar" },
//!     { from = "a", to = "b", op = "scalar" },
//!     { from = "b", to = "a", op = "scalar" },
//! ]
//! "#;
//! let err = ModuleSpec::from_toml_str(text, "loop.toml")?.build().unwrap_err();
//! assert!(err.to_string().starts_with("loop.toml: the module has a cycle: a -> b -> a"));
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::Sampler;
use super::{Activation, Edge, Module, ModuleSpec, Op, Role, Shape, Vertex};
use crate::activation::Family;
use crate::op::Ends;
use crate::{Error, Result};
use std::collections::HashMap;

/// Most scalars in one vertex activation, pre-activation or edge weight (2^28). A base
/// vertex is one neuron or channel of the lifted network; anything larger than this is a
/// typo, and accepting it would only move the failure to an allocation in the engine.
pub const MAX_NUMEL: usize = 1 << 28;

fn fmt_shape(s: &[usize]) -> String {
    format!("{s:?}")
}

/// `∏ shape`, or `None` when it overflows or exceeds [`MAX_NUMEL`].
fn bounded_numel(shape: &[usize]) -> Option<usize> {
    shape
        .iter()
        .try_fold(1usize, |a, &d| a.checked_mul(d))
        .filter(|&n| n <= MAX_NUMEL)
}

/// Names appear in messages and on the command line (`--edge NAME=…`), so they must be
/// visible words. Vertex names also make up edge names (`from->to`), so they may not
/// contain the arrow; edge names may (`name = "x->h"` just spells out the default).
fn bad_name(name: &str) -> bool {
    name.is_empty() || name.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl ModuleSpec {
    /// Validates the spec and builds the [`Module`].
    pub fn build(&self) -> Result<Module> {
        if self.vertices.is_empty() {
            return Err(
                Error::invalid(self.at_module(), "the module has no vertices").with_hint(
                    "declare vertices with [[vertex]] tables and edges with [[edge]] tables; \
                 `sparselift zoo mlp` prints a complete example",
                ),
            );
        }
        let vertices = self.check_vertices()?;
        let index: HashMap<&str, usize> = vertices
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.as_str(), i))
            .collect();

        // Endpoints, ops and samplers of edges.
        let mut ends = Vec::with_capacity(self.edges.len());
        let mut ops = Vec::with_capacity(self.edges.len());
        let mut samplers = Vec::with_capacity(self.edges.len());
        for (i, e) in self.edges.iter().enumerate() {
            let at = || self.at_edge(i);
            let find = |name: &str, end: &str| {
                index.get(name).copied().ok_or_else(|| {
                    Error::invalid(at(), format!("unknown {end} vertex \"{name}\"")).with_hint(
                        format!(
                        "declare it with a [[vertex]] table named \"{name}\", or fix the spelling"
                    ),
                    )
                })
            };
            let (u, v) = (find(&e.from, "source")?, find(&e.to, "target")?);
            if u == v {
                return Err(Error::invalid(at(), format!("self-loop on vertex \"{}\"", e.from))
                    .with_hint("a base module is acyclic: for a skip connection use an identity edge from an earlier vertex"));
            }
            if vertices[v].is_source() {
                return Err(Error::invalid(
                    at(),
                    format!("edge into {} vertex \"{}\"", role_name(vertices[v].role), e.to),
                )
                .with_hint("inputs and constants receive data, not edges: make the target a hidden or output vertex"));
            }
            if e.name.as_deref().is_some_and(bad_name) {
                return Err(Error::invalid(at(), "invalid edge name")
                    .with_hint("names must be non-empty, without white space"));
            }
            ops.push(self.parse_op(i)?);
            samplers.push(match &e.sampler {
                None => None,
                Some(s) => Some(Sampler::parse(s).map_err(|m| {
                    Error::invalid(at(), m).with_hint(
                        "the `sampler` field takes the same values as `--sampler`, e.g. \"k-lift:1\" or \"in-degree:8\"",
                    )
                })?),
            });
            ends.push((u, v));
        }
        let names = self.edge_names(&ends, &vertices)?;

        let n = vertices.len();
        let mut in_edges = vec![Vec::new(); n];
        let mut out_edges = vec![Vec::new(); n];
        let mut slots = Vec::with_capacity(ends.len());
        for (i, &(u, v)) in ends.iter().enumerate() {
            slots.push(in_edges[v].len());
            in_edges[v].push(i);
            out_edges[u].push(i);
        }
        for (v, vert) in vertices.iter().enumerate() {
            if !vert.is_source() && in_edges[v].is_empty() {
                return Err(Error::invalid(self.at_vertex(v), "has no in-edges")
                    .with_hint("only input and constant vertices may have no in-edges: add an edge into it or make it an input"));
            }
        }
        if !vertices.iter().any(|v| v.role == Role::Output) {
            return Err(
                Error::invalid(self.at_module(), "the module has no output vertex")
                    .with_hint("give at least one vertex role = \"output\""),
            );
        }
        let topo = self.topological_order(&ends, &in_edges, &out_edges, &vertices)?;

        for (v, vert) in vertices.iter().enumerate() {
            if !vert.is_source() {
                check_arity_and_shape(vert, in_edges[v].len())
                    .map_err(|m| Error::invalid(self.at_vertex(v), m))?;
            }
        }
        // Shapes: each edge's pre-activation and weight, then the activations that combine
        // pre-activations of free shape (outer).
        let mut edges = Vec::with_capacity(ends.len());
        for (i, (&(u, v), op)) in ends.iter().zip(ops).enumerate() {
            let (z_shape, weight_shape) =
                self.edge_shapes(i, &op, &vertices[u], &vertices[v], slots[i])?;
            edges.push(Edge {
                name: names[i].clone(),
                from: u,
                to: v,
                op,
                slot: slots[i],
                z_shape,
                weight_shape,
                sampler: samplers[i].clone(),
            });
        }
        for (v, vert) in vertices.iter().enumerate() {
            if let Family::Joint(j) = vert.activation.family() {
                let z: Vec<&[usize]> = in_edges[v].iter().map(|&e| &edges[e].z_shape[..]).collect();
                j.check_slots(&vert.shape, &z)
                    .map_err(|m| Error::invalid(self.at_vertex(v), m))?;
            }
        }

        let warnings = unreachable_warnings(&vertices, &in_edges, &ends);
        Ok(Module {
            name: self.name.clone(),
            vertices,
            edges,
            in_edges,
            out_edges,
            topo,
            warnings,
        })
    }

    fn check_vertices(&self) -> Result<Vec<Vertex>> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        let mut out = Vec::with_capacity(self.vertices.len());
        for (i, v) in self.vertices.iter().enumerate() {
            let at = || self.at_vertex(i);
            if bad_name(&v.name) || v.name.contains("->") {
                return Err(Error::invalid(at(), "invalid vertex name")
                    .with_hint("names must be non-empty, without white space or \"->\""));
            }
            if let Some(&j) = seen.get(v.name.as_str()) {
                return Err(
                    Error::invalid(at(), "duplicate vertex name").with_hint(format!(
                        "{} already uses it; vertex names must be unique",
                        self.at_vertex(j)
                    )),
                );
            }
            seen.insert(&v.name, i);
            let activation = match &v.activation {
                None => Activation::Identity,
                Some(_) if v.role == Role::Input || v.role == Role::Constant => {
                    return Err(Error::invalid(
                        at(),
                        format!("{} vertices take no activation", role_name(v.role)),
                    )
                    .with_hint("remove the activation field, or make the vertex hidden"));
                }
                Some(a) => Activation::from_name(a).ok_or_else(|| {
                    Error::invalid(at(), format!("unknown activation \"{a}\"")).with_hint(format!(
                        "expected one of: {}",
                        Activation::ALL.map(|a| a.name()).join(", ")
                    ))
                })?,
            };
            let shape = match (&v.shape, v.role) {
                (None, _) => vec![1],
                (Some(s), Role::Constant) if s != &[1] => {
                    return Err(Error::invalid(
                        at(),
                        format!("a constant vertex has shape [1], not {}", fmt_shape(s)),
                    )
                    .with_hint(
                        "remove the shape field; use an edge op (e.g. linear) to broadcast a bias",
                    ));
                }
                (Some(s), _) => s.clone(),
            };
            if shape.is_empty() || shape.contains(&0) || shape.len() > 4 {
                return Err(
                    Error::invalid(at(), format!("invalid shape {}", fmt_shape(&shape))).with_hint(
                        "a shape is a list of 1 to 4 positive sizes, e.g. [1] or [8, 16]",
                    ),
                );
            }
            if bounded_numel(&shape).is_none() {
                return Err(Error::invalid(at(), format!("shape {} is absurdly large", fmt_shape(&shape)))
                    .with_hint("one vertex holds at most 2^28 scalars; lift the module instead of widening a vertex"));
            }
            if v.fiber == Some(0) {
                return Err(Error::invalid(at(), "fiber size 0").with_hint(
                    "a pinned fiber needs at least one lifted vertex: use fiber = 1 or more, or remove the field to take the lift size",
                ));
            }
            out.push(Vertex {
                name: v.name.clone(),
                role: v.role,
                shape,
                activation,
                fiber: v.fiber,
            });
        }
        Ok(out)
    }

    fn parse_op(&self, i: usize) -> Result<Op> {
        let e = &self.edges[i];
        let at = || self.at_edge(i);
        let op = match e.op.as_str() {
            "scalar" => Op::Scalar,
            "linear" => Op::Linear,
            "identity" => Op::Identity,
            "token_mix" => Op::TokenMix,
            "readout" => Op::Readout,
            "conv" => {
                let k = e.kernel.clone().ok_or_else(|| {
                    Error::invalid(at(), "conv edge without a kernel")
                        .with_hint("add kernel = [3] (1-D) or kernel = [3, 3] (2-D)")
                })?;
                if k.is_empty() || k.len() > 2 || k.iter().any(|&s| s % 2 == 0) {
                    return Err(Error::invalid(
                        at(),
                        format!("conv kernel {} is not 1 or 2 odd sizes", fmt_shape(&k)),
                    )
                    .with_hint("same padding needs odd kernel sizes, e.g. [3] or [3, 3]"));
                }
                Op::Conv(k)
            }
            other => {
                return Err(
                    Error::invalid(at(), format!("unknown op \"{other}\"")).with_hint(
                        "expected one of: scalar, linear, identity, token_mix, conv, readout",
                    ),
                )
            }
        };
        if e.out.is_some() && !matches!(op, Op::Linear | Op::Readout) {
            return Err(Error::invalid(
                at(),
                format!(
                    "field `out` is only for linear and readout edges, not {}",
                    op.name()
                ),
            )
            .with_hint("remove `out`, or make the edge op = \"linear\""));
        }
        if e.kernel.is_some() && op.kernel_size().is_none() {
            return Err(Error::invalid(
                at(),
                format!("field `kernel` is only for conv edges, not {}", op.name()),
            )
            .with_hint("remove `kernel`, or make the edge op = \"conv\""));
        }
        Ok(op)
    }

    /// Edge names: the user's, else `from->to`, with `#k` for the k-th unnamed parallel edge.
    fn edge_names(&self, ends: &[(usize, usize)], vertices: &[Vertex]) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::with_capacity(ends.len());
        let mut taken: HashMap<String, usize> = HashMap::new();
        let mut count: HashMap<(usize, usize), usize> = HashMap::new();
        for (i, &(u, v)) in ends.iter().enumerate() {
            let name = match &self.edges[i].name {
                Some(n) => n.clone(),
                None => {
                    let k = count.entry((u, v)).or_insert(0);
                    *k += 1;
                    default_edge_name(&vertices[u].name, &vertices[v].name, *k)
                }
            };
            if let Some(&j) = taken.get(&name) {
                return Err(Error::invalid(
                    self.at_edge(i),
                    format!("duplicate edge name \"{name}\""),
                )
                .with_hint(format!(
                    "{} has the same name; give one of them a unique `name`",
                    self.at_edge(j)
                )));
            }
            taken.insert(name.clone(), i);
            names.push(name);
        }
        Ok(names)
    }

    fn topological_order(
        &self,
        ends: &[(usize, usize)],
        in_edges: &[Vec<usize>],
        out_edges: &[Vec<usize>],
        vertices: &[Vertex],
    ) -> Result<Vec<usize>> {
        let n = vertices.len();
        let mut indeg: Vec<usize> = in_edges.iter().map(Vec::len).collect();
        let mut stack: Vec<usize> = (0..n).rev().filter(|&v| indeg[v] == 0).collect();
        let mut order = Vec::with_capacity(n);
        while let Some(u) = stack.pop() {
            order.push(u);
            for &e in out_edges[u].iter().rev() {
                let v = ends[e].1;
                indeg[v] -= 1;
                if indeg[v] == 0 {
                    stack.push(v);
                }
            }
        }
        if order.len() == n {
            return Ok(order);
        }
        // Every vertex left has an in-edge from another vertex left, so walking backwards
        // along such edges must revisit a vertex: the walk from there is a cycle.
        let left: Vec<bool> = indeg.iter().map(|&d| d > 0).collect();
        let mut pos = vec![usize::MAX; n]; // position of a vertex on the walk
        let mut walk: Vec<(usize, usize)> = Vec::new(); // (vertex, edge taken into it)
        let mut v = (0..n).find(|&v| left[v]).unwrap_or(0);
        let start = loop {
            let Some(&e) = in_edges[v].iter().find(|&&e| left[ends[e].0]) else {
                // Unreachable by the argument above; report without the cycle rather than panic.
                break None;
            };
            pos[v] = walk.len();
            walk.push((v, e));
            let u = ends[e].0;
            if pos[u] != usize::MAX {
                break Some(pos[u]);
            }
            v = u;
        };
        let mut cycle: Vec<(usize, usize)> = match start {
            // The walk goes against the edges: reverse it to print the cycle forwards.
            Some(p) => walk[p..].iter().rev().copied().collect(),
            None => Vec::new(),
        };
        // Start at the vertex declared first, so the message does not depend on the walk.
        if let Some(first) = (0..cycle.len()).min_by_key(|&i| cycle[i].0) {
            cycle.rotate_left(first);
        }
        let mut path: Vec<&str> = cycle
            .iter()
            .map(|&(v, _)| vertices[v].name.as_str())
            .collect();
        if let Some(&(v, _)) = cycle.first() {
            path.push(&vertices[v].name);
        }
        let lines: Vec<String> = match &self.origin {
            Some(o) => {
                let mut l: Vec<usize> = cycle
                    .iter()
                    .filter_map(|&(_, e)| o.edge_lines.get(e).copied())
                    .collect();
                l.sort_unstable();
                l.iter().map(usize::to_string).collect()
            }
            None => Vec::new(),
        };
        let hint = if lines.is_empty() {
            "a base module is a DAG: remove one of the edges on the cycle".to_string()
        } else {
            format!(
                "a base module is a DAG: remove one of the edges on the cycle (lines {})",
                elide(&lines, ", ")
            )
        };
        Err(Error::invalid(
            self.at_module(),
            format!("the module has a cycle: {}", elide(&path, " -> ")),
        )
        .with_hint(hint))
    }

    fn edge_shapes(
        &self,
        i: usize,
        op: &Op,
        u: &Vertex,
        v: &Vertex,
        slot: usize,
    ) -> Result<(Shape, Vec<usize>)> {
        let at = || self.at_edge(i);
        let su = &u.shape;
        // The pre-activation shape the target expects in this slot, when it fixes one
        // (check_arity_and_shape has made sure outer/dsoftmul vertices are [L, ·]).
        let expected: Option<Shape> = match v.activation.family() {
            Family::Elementwise(_) => Some(v.shape.clone()),
            Family::Joint(j) => j.slot_shape(&v.shape, slot),
        };
        let bad = |m: String| Error::invalid(at(), m);
        // Shapes are non-empty (check_vertices), as the ops' shape rules assume.
        let ends = Ends {
            src: &u.name,
            src_shape: su,
            dst: &v.name,
            dst_activation: v.activation,
            expected: expected.as_deref(),
            out: self.edges[i].out,
            kernel: op.kernel_size().unwrap_or_default(),
        };
        let (z, w) = op
            .shapes(&ends)
            .map_err(|e| bad(e.message).with_hint(e.hint))?;
        if bounded_numel(&z).is_none() || bounded_numel(&w).is_none() {
            return Err(bad(format!(
                "op {} gives a pre-activation {} and weight {}: absurdly large",
                op.name(),
                fmt_shape(&z),
                fmt_shape(&w)
            ))
            .with_hint("each holds at most 2^28 scalars; check `out`"));
        }
        if let Some(s) = expected {
            if z != s {
                return Err(bad(format!(
                    "op {} maps \"{}\" of shape {} to {}, but \"{}\" ({}) expects {} in slot {}",
                    op.name(),
                    u.name,
                    fmt_shape(su),
                    fmt_shape(&z),
                    v.name,
                    v.activation,
                    fmt_shape(&s),
                    slot + 1
                ))
                .with_hint(
                    "change the vertex shapes, or use a linear op to change the last axis",
                ));
            }
        }
        Ok((z, w))
    }
}

/// The name an unnamed edge gets: `from->to`, then `from->to#2`, … for parallel edges.
pub(super) fn default_edge_name(from: &str, to: &str, k: usize) -> String {
    if k <= 1 {
        format!("{from}->{to}")
    } else {
        format!("{from}->{to}#{k}")
    }
}

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Input => "input",
        Role::Constant => "constant",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

/// Checks the number of in-edges and the vertex shape an activation needs.
fn check_arity_and_shape(v: &Vertex, in_degree: usize) -> std::result::Result<(), String> {
    let a = v.activation;
    if let Some(k) = a.arity() {
        if in_degree != k {
            return Err(format!(
                "activation {a} takes exactly {k} in-edges (one per argument, in declaration order), but has {in_degree}"
            ));
        }
    }
    match a.family() {
        Family::Elementwise(_) => Ok(()),
        Family::Joint(j) => j.check_shape(&v.shape),
    }
}

/// Warnings for vertices from which no output can be reached. They say which vertex but
/// not which file: a [`Module`] is the same value wherever it was loaded from.
fn unreachable_warnings(
    vertices: &[Vertex],
    in_edges: &[Vec<usize>],
    ends: &[(usize, usize)],
) -> Vec<String> {
    let mut reach = vec![false; vertices.len()];
    let mut stack: Vec<usize> = (0..vertices.len())
        .filter(|&v| vertices[v].role == Role::Output)
        .collect();
    while let Some(v) = stack.pop() {
        if !std::mem::replace(&mut reach[v], true) {
            stack.extend(in_edges[v].iter().map(|&e| ends[e].0));
        }
    }
    (0..vertices.len())
        .filter(|&v| !reach[v])
        .map(|v| {
            format!(
                "vertex \"{}\" cannot reach an output: it does not affect the network",
                vertices[v].name
            )
        })
        .collect()
}

/// `items` joined by `sep`; a long list keeps its first and last few items and says how
/// many it leaves out, so that a cycle through thousands of vertices stays readable.
fn elide<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    const KEEP: usize = 6;
    let join = |part: &[S]| part.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(sep);
    if items.len() <= 2 * KEEP + 1 {
        return join(items);
    }
    let left_out = items.len() - 2 * KEEP;
    format!(
        "{}{sep}… {left_out} more …{sep}{}",
        join(&items[..KEEP]),
        join(&items[items.len() - KEEP..])
    )
}
#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
