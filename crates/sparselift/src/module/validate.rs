//! Validation: turns a [`ModuleSpec`] into a [`Module`], or says precisely what is wrong.
//!
//! Checks, in order: names (unknown, duplicate), roles (in-edges into inputs, inputs with
//! activations, constant shapes, missing outputs, hidden vertices without in-edges),
//! acyclicity (the cycle is printed), op/shape compatibility (resolving every edge's
//! pre-activation and weight shape), activation arity and shapes. Vertices that cannot
//! reach an output are a warning, not an error.

use super::{Activation, Edge, Module, ModuleSpec, Op, Role, Shape, Vertex};
use crate::lift::Sampler;
use crate::{Error, Result};
use std::collections::HashMap;

fn fmt_shape(s: &[usize]) -> String {
    format!("{s:?}")
}

impl ModuleSpec {
    /// Validates the spec and builds the [`Module`].
    pub fn build(&self) -> Result<Module> {
        let vertices = self.check_vertices()?;
        let index: HashMap<&str, usize> = vertices
            .iter()
            .enumerate()
            .map(|(i, v)| (v.name.as_str(), i))
            .collect();

        // Endpoints, ops and names of edges.
        let mut ends = Vec::with_capacity(self.edges.len());
        let mut ops = Vec::with_capacity(self.edges.len());
        let mut samplers = Vec::with_capacity(self.edges.len());
        for (i, e) in self.edges.iter().enumerate() {
            let at = || self.at_edge(i);
            let find = |name: &str, end: &str| {
                index.get(name).copied().ok_or_else(|| {
                    Error::invalid(at(), format!("unknown {end} vertex \"{name}\""))
                        .with_hint(format!(
                        "declare it with a [[vertex]] table named \"{name}\", or fix the spelling"
                    ))
                })
            };
            let (u, v) = (find(&e.from, "source")?, find(&e.to, "target")?);
            if vertices[v].is_source() {
                return Err(Error::invalid(
                    at(),
                    format!("edge into {} vertex \"{}\"", role_name(vertices[v].role), e.to),
                )
                .with_hint("inputs and constants receive data, not edges: make the target a hidden or output vertex"));
            }
            ops.push(self.parse_op(i)?);
            samplers.push(match &e.sampler {
                None => None,
                Some(s) => Some(Sampler::parse(s).map_err(|m| Error::invalid(at(), m))?),
            });
            ends.push((u, v));
        }
        let names = self.edge_names(&ends, &vertices)?;

        let n = vertices.len();
        let mut in_edges = vec![Vec::new(); n];
        let mut out_edges = vec![Vec::new(); n];
        for (i, &(u, v)) in ends.iter().enumerate() {
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
        let topo = self.topological_order(&ends, &out_edges, &vertices)?;

        // Shapes: each edge's pre-activation and weight, then each activation.
        let mut edges = Vec::with_capacity(ends.len());
        for (i, (&(u, v), op)) in ends.iter().zip(ops).enumerate() {
            let slot = in_edges[v].iter().position(|&e| e == i).unwrap();
            let (z_shape, weight_shape) =
                self.edge_shapes(i, &op, &vertices[u], &vertices[v], slot)?;
            edges.push(Edge {
                name: names[i].clone(),
                from: u,
                to: v,
                op,
                slot,
                z_shape,
                weight_shape,
                sampler: samplers[i].clone(),
            });
        }
        for (v, vert) in vertices.iter().enumerate() {
            if !vert.is_source() {
                let z: Vec<&Shape> = in_edges[v].iter().map(|&e| &edges[e].z_shape).collect();
                check_activation(vert, &z).map_err(|m| Error::invalid(self.at_vertex(v), m))?;
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
            if v.name.is_empty() || v.name.contains("->") || v.name.chars().any(char::is_whitespace)
            {
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
                Some(_) if matches!(v.role, Role::Input | Role::Constant) => {
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
            if shape
                .iter()
                .try_fold(1usize, |a, &d| a.checked_mul(d))
                .is_none_or(|n| n > 1 << 28)
            {
                return Err(Error::invalid(at(), format!("shape {} is absurdly large", fmt_shape(&shape)))
                    .with_hint("one vertex holds at most 2^28 scalars; lift the module instead of widening a vertex"));
            }
            out.push(Vertex {
                name: v.name.clone(),
                role: v.role,
                shape,
                activation,
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
                return Err(Error::invalid(at(), format!("unknown op \"{other}\""))
                    .with_hint("expected one of: scalar, linear, identity, token_mix, conv"))
            }
        };
        if e.out.is_some() && op != Op::Linear {
            return Err(Error::invalid(at(), "field `out` is only for linear edges"));
        }
        if e.kernel.is_some() && !matches!(op, Op::Conv(_)) {
            return Err(Error::invalid(
                at(),
                "field `kernel` is only for conv edges",
            ));
        }
        Ok(op)
    }

    /// Edge names: the user's, else `from->to`, with `#k` for the k-th parallel edge.
    fn edge_names(&self, ends: &[(usize, usize)], vertices: &[Vertex]) -> Result<Vec<String>> {
        let mut names: Vec<String> = Vec::with_capacity(ends.len());
        let mut count: HashMap<(usize, usize), usize> = HashMap::new();
        for (i, &(u, v)) in ends.iter().enumerate() {
            let name = match &self.edges[i].name {
                Some(n) => n.clone(),
                None => {
                    let k = count.entry((u, v)).or_insert(0);
                    *k += 1;
                    let base = format!("{}->{}", vertices[u].name, vertices[v].name);
                    if *k == 1 {
                        base
                    } else {
                        format!("{base}#{k}")
                    }
                }
            };
            if let Some(j) = names.iter().position(|n| *n == name) {
                return Err(Error::invalid(
                    self.at_edge(i),
                    format!("duplicate edge name \"{name}\""),
                )
                .with_hint(format!(
                    "{} has the same name; give one of them a unique `name`",
                    self.at_edge(j)
                )));
            }
            names.push(name);
        }
        Ok(names)
    }

    fn topological_order(
        &self,
        ends: &[(usize, usize)],
        out_edges: &[Vec<usize>],
        vertices: &[Vertex],
    ) -> Result<Vec<usize>> {
        let n = vertices.len();
        let mut indeg = vec![0usize; n];
        for &(_, v) in ends {
            indeg[v] += 1;
        }
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
        // Every vertex left has an in-edge from another vertex left: walk back until a repeat.
        let left: Vec<bool> = indeg.iter().map(|&d| d > 0).collect();
        let mut path = vec![(0..n).find(|&v| left[v]).unwrap()];
        loop {
            let v = *path.last().unwrap();
            let e = ends.iter().position(|&(a, b)| b == v && left[a]).unwrap();
            let u = ends[e].0;
            if let Some(p) = path.iter().position(|&w| w == u) {
                let mut cycle: Vec<&str> = path[p..]
                    .iter()
                    .rev()
                    .map(|&w| vertices[w].name.as_str())
                    .collect();
                cycle.push(&vertices[u].name);
                return Err(Error::invalid(
                    self.at_module(),
                    format!("the module has a cycle: {}", cycle.join(" -> ")),
                )
                .with_hint("a base module is a DAG: remove one of these edges"));
            }
            path.push(u);
        }
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
        // The pre-activation shape the target expects in this slot, when it fixes one.
        let expected: Option<Shape> = match v.activation {
            Activation::Outer => None,
            Activation::Dsoftmul if slot == 0 => Some(vec![v.shape[0], v.shape[0]]),
            _ => Some(v.shape.clone()),
        };
        let bad = |m: String| Error::invalid(at(), m);
        let (z, w) = match op {
            Op::Scalar => (su.clone(), vec![1]),
            Op::Identity => (su.clone(), vec![]),
            Op::Linear => {
                let inp = *su.last().unwrap();
                let out = match (self.edges[i].out, &expected) {
                    (Some(o), _) if o == 0 => return Err(bad("linear `out` must be ≥ 1".into())),
                    (Some(o), _) => o,
                    (None, Some(s)) => *s.last().unwrap(),
                    (None, None) => {
                        return Err(bad(format!(
                            "cannot infer the output size of this linear edge into \"{}\"",
                            v.name
                        ))
                        .with_hint("add out = C, the channel count of the pre-activation"))
                    }
                };
                let mut z = su.clone();
                *z.last_mut().unwrap() = out;
                (z, vec![out, inp])
            }
            Op::TokenMix => (su.clone(), vec![su[0], su[0]]),
            Op::Conv(k) => {
                if su.len() != k.len() {
                    return Err(bad(format!(
                        "a {}-D conv kernel {} needs a {}-D channel map, but \"{}\" has shape {}",
                        k.len(),
                        fmt_shape(k),
                        k.len(),
                        u.name,
                        fmt_shape(su)
                    )));
                }
                (su.clone(), k.clone())
            }
        };
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

fn role_name(r: Role) -> &'static str {
    match r {
        Role::Input => "input",
        Role::Constant => "constant",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

/// Checks arity and pre-activation shapes of a non-source vertex.
fn check_activation(v: &Vertex, z: &[&Shape]) -> std::result::Result<(), String> {
    let a = v.activation;
    if let Some(k) = a.arity() {
        if z.len() != k {
            return Err(format!(
                "activation {a} takes exactly {k} in-edges (one per argument, in declaration order), but has {}",
                z.len()
            ));
        }
    }
    let s = &v.shape;
    match a {
        Activation::Outer => {
            if s.len() != 2 || s[0] != s[1] || z[0].len() != 2 || z[0] != z[1] || z[0][0] != s[0] {
                return Err(format!(
                    "outer needs two pre-activations of one shape [L, c] and a vertex shape [L, L]; got {}, {} into {}",
                    fmt_shape(z[0]),
                    fmt_shape(z[1]),
                    fmt_shape(s)
                ));
            }
        }
        Activation::Dsoftmul if s.len() != 2 => {
            return Err(format!(
                "dsoftmul needs a vertex shape [L, c], got {}",
                fmt_shape(s)
            ));
        }
        _ => {}
    }
    Ok(())
}

/// Warnings for vertices from which no output can be reached.
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
