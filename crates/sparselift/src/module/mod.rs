//! Base perceptron modules (docs/semantics.md §1): a finite DAG of vertices with shapes and
//! activations, joined by edges that carry bilinear ops.
//!
//! A [`Module`] is always valid: it is only produced by [`ModuleBuilder::build`] (or the
//! file loaders, which use it), which checks names, acyclicity, shapes and arities and
//! resolves every edge's pre-activation shape and weight shape.
//!
//! ```
//! use sparselift::module::{Activation, ModuleBuilder, Op};
//!
//! let mut b = ModuleBuilder::new("tiny");
//! b.input("x", &[4]).constant("one").hidden("h", &[1], Activation::Relu).output("y", &[1], Activation::Identity);
//! b.edge("x", "h", Op::Linear).edge("one", "h", Op::Scalar).edge("h", "y", Op::Scalar);
//! let module = b.build().unwrap();
//! assert_eq!(module.vertices().len(), 4);
//! assert_eq!(module.edge(0).weight_shape, vec![1, 4]);
//! ```

mod builder;
mod display;
mod load;
mod sampler;
mod spec;
mod validate;

pub use builder::ModuleBuilder;
#[cfg(test)]
pub(crate) use load::assert_round_trips;
pub use load::Format;
pub use sampler::Sampler;
pub use spec::{EdgeSpec, ModuleSpec, Origin, VertexSpec};
pub use validate::MAX_NUMEL;

pub use crate::activation::Activation;
pub use crate::op::Op;

/// A tensor shape (`Y_v = R^shape`).
pub type Shape = Vec<usize>;

/// What a vertex is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Receives one input tensor per sample; no in-edges.
    Input,
    /// The constant 1 (shape `[1]`): biases are edges out of it.
    Constant,
    /// A hidden vertex.
    Hidden,
    /// Part of the network output (outputs are concatenated in declaration order).
    Output,
}

/// A validated base vertex.
#[derive(Clone, Debug, PartialEq)]
pub struct Vertex {
    /// Unique name, as in the module file.
    pub name: String,
    /// What the vertex is for.
    pub role: Role,
    /// The activation shape `s_v` (`Y_v = R^{s_v}`).
    pub shape: Shape,
    /// `Identity` for inputs and constants (never applied).
    pub activation: Activation,
    /// A fiber size pinned by the module (at least 1): lifts give this vertex this fiber
    /// whatever their size, unless they override it (docs/semantics.md §2).
    pub fiber: Option<u32>,
}

impl Vertex {
    /// Number of scalar entries of the activation (`∏ shape`).
    pub fn numel(&self) -> usize {
        self.shape.iter().product()
    }

    /// True for input and constant vertices.
    pub fn is_source(&self) -> bool {
        matches!(self.role, Role::Input | Role::Constant)
    }
}

/// A validated base edge `from → to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Edge {
    /// Unique name: the user's, or `from->to` (with `#k` appended for the k-th parallel edge).
    pub name: String,
    /// The source vertex.
    pub from: usize,
    /// The target vertex.
    pub to: usize,
    /// The bilinear op the edge carries.
    pub op: Op,
    /// Position of this edge among the in-edges of `to` (declaration order): the index of
    /// the pre-activation it feeds.
    pub slot: usize,
    /// Shape of the pre-activation `Z_e` this edge produces.
    pub z_shape: Shape,
    /// Shape of the weight one lifted edge carries (empty for `identity`).
    pub weight_shape: Vec<usize>,
    /// Default sampler for this edge, overriding the lift's global one (per-edge overrides
    /// given at lift time still win).
    pub sampler: Option<Sampler>,
}

impl Edge {
    /// Number of scalar weights one lifted edge carries.
    pub fn weight_numel(&self) -> usize {
        if self.op.has_weight() {
            self.weight_shape.iter().product()
        } else {
            0
        }
    }
}

/// A validated base perceptron module.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    name: String,
    vertices: Vec<Vertex>,
    edges: Vec<Edge>,
    in_edges: Vec<Vec<usize>>,
    out_edges: Vec<Vec<usize>>,
    topo: Vec<usize>,
    warnings: Vec<String>,
}

impl Module {
    /// The module's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// All vertices, in declaration order (indices are vertex ids).
    pub fn vertices(&self) -> &[Vertex] {
        &self.vertices
    }
    /// All edges, in declaration order (indices are edge ids).
    pub fn edges(&self) -> &[Edge] {
        &self.edges
    }
    /// Vertex `v`.
    pub fn vertex(&self, v: usize) -> &Vertex {
        &self.vertices[v]
    }
    /// Edge `e`.
    pub fn edge(&self, e: usize) -> &Edge {
        &self.edges[e]
    }
    /// The id of the vertex called `name`.
    pub fn vertex_id(&self, name: &str) -> Option<usize> {
        self.vertices.iter().position(|v| v.name == name)
    }
    /// Edges into `v`, in slot order.
    pub fn in_edges(&self, v: usize) -> &[usize] {
        &self.in_edges[v]
    }
    /// Edges out of `v`, in declaration order.
    pub fn out_edges(&self, v: usize) -> &[usize] {
        &self.out_edges[v]
    }
    /// Vertex ids in a topological order (sources first).
    pub fn topological_order(&self) -> &[usize] {
        &self.topo
    }
    /// Input vertices (role `input`), in declaration order.
    pub fn inputs(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.vertices.len()).filter(|&v| self.vertices[v].role == Role::Input)
    }
    /// Output vertices, in declaration order.
    pub fn outputs(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.vertices.len()).filter(|&v| self.vertices[v].role == Role::Output)
    }
    /// Total number of scalar inputs per sample (sum over input vertices).
    pub fn input_dim(&self) -> usize {
        self.inputs().map(|v| self.vertices[v].numel()).sum()
    }
    /// Total number of scalar outputs per sample (sum over output vertices).
    pub fn output_dim(&self) -> usize {
        self.outputs().map(|v| self.vertices[v].numel()).sum()
    }
    /// Non-fatal findings of validation (e.g. vertices that cannot reach an output).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
    /// Finds a base edge by its name, by `from->to`, or by `from-to` (when unambiguous).
    pub fn find_edge(&self, key: &str) -> Option<usize> {
        if let Some(e) = self.edges.iter().position(|e| e.name == key) {
            return Some(e);
        }
        let pairs: Vec<(&str, &str)> = match key.split_once("->") {
            Some(p) => vec![p],
            None => key
                .match_indices('-')
                .map(|(i, _)| (&key[..i], &key[i + 1..]))
                .collect(),
        };
        let mut found = None;
        for (a, b) in pairs {
            for (i, e) in self.edges.iter().enumerate() {
                if self.vertices[e.from].name == a && self.vertices[e.to].name == b {
                    if found.is_some_and(|f| f != i) {
                        return None;
                    }
                    found = Some(i);
                }
            }
        }
        found
    }
}
