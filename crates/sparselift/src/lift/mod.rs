//! Lifts (docs/semantics.md §2): a large DAG `G` with a homomorphism `π : G → B` onto a
//! base module.
//!
//! A [`Lift`] stores, per base vertex, the size of its fiber, and per base edge the
//! bipartite graph of lifted edges between the two fibers ([`Bipartite`]). Lifted vertices
//! are numbered `0..fiber` within their fiber; lifted edges are numbered in **CSR order**
//! (by target, then by source), which is also the order of their weights.
//!
//! Draw one with a [`LiftSpec`] (size, [`Sampler`]s, seed), read one from a file with
//! [`load_lift`], or assemble one from parts with [`Lift::new`]; all three check validity.
//!
//! ```
//! use sparselift::{lift::{LiftSpec, Sampler}, zoo};
//!
//! let module = zoo::mlp(&zoo::MlpConfig { input: 16, hidden: 2, output: 1, ..Default::default() }).unwrap();
//! let lift = LiftSpec::new(100, Sampler::InDegree(8)).seed(7).sample(&module).unwrap();
//! let h = module.find_edge("h1->h2").unwrap();
//! assert_eq!(lift.edge(h).num_edges(), 100 * 8);
//! // Edges out of the size-1 fiber of the input stay dense, so no neuron is cut off.
//! assert!(lift.edge(module.find_edge("x->h1").unwrap()).is_complete());
//! ```

mod bipartite;
pub mod dot;
pub mod explicit;
mod sample;
mod samplers;
#[cfg(test)]
mod samplers_tests;
mod spec;
pub mod stats;
mod validate;

pub use crate::module::Sampler;
pub use bipartite::{Bipartite, MAX_EDGES};
pub use explicit::{load_lift, read_edge_list, save_lift, ExplicitEdges, ExplicitLift};
pub use spec::{LiftPlan, LiftSpec};
pub use stats::{DegreeStats, EdgeStats, FiberStats, LiftStats};

/// A lift of a base module: fiber sizes and per-base-edge bipartite graphs.
///
/// Equality compares the graph only (fibers and lifted edges), not the record of which
/// sampler drew each edge: a lift saved and loaded back equals the original.
#[derive(Clone, Debug)]
pub struct Lift {
    fibers: Vec<u32>,
    edges: Vec<Bipartite>,
    /// The sampler that drew each base edge's graph; `None` when the graph was given.
    samplers: Vec<Option<Sampler>>,
}

impl PartialEq for Lift {
    fn eq(&self, other: &Lift) -> bool {
        self.fibers == other.fibers && self.edges == other.edges
    }
}

impl Lift {
    /// Assembles a lift from its parts; checks validity against `module` (docs/semantics.md
    /// §2): every fiber is non-empty, every bipartite graph joins the right fibers, and
    /// every lifted non-input vertex has at least one in-edge over every base edge into its image.
    pub fn new(
        module: &crate::module::Module,
        fibers: Vec<u32>,
        edges: Vec<Bipartite>,
    ) -> crate::Result<Lift> {
        let samplers = vec![None; edges.len()];
        Lift::with_samplers(module, fibers, edges, samplers)
    }

    pub(crate) fn with_samplers(
        module: &crate::module::Module,
        fibers: Vec<u32>,
        edges: Vec<Bipartite>,
        samplers: Vec<Option<Sampler>>,
    ) -> crate::Result<Lift> {
        let lift = Lift {
            fibers,
            edges,
            samplers,
        };
        lift.validate(module)?;
        Ok(lift)
    }

    /// Fiber size of every base vertex, indexed by vertex id.
    pub fn fibers(&self) -> &[u32] {
        &self.fibers
    }
    /// Fiber size `n_v` of base vertex `v`.
    pub fn fiber(&self, v: usize) -> usize {
        self.fibers[v] as usize
    }
    /// The bipartite graphs, indexed by base edge id.
    pub fn edges(&self) -> &[Bipartite] {
        &self.edges
    }
    /// The bipartite graph over base edge `e`.
    pub fn edge(&self, e: usize) -> &Bipartite {
        &self.edges[e]
    }
    /// The sampler that drew the graph over base edge `e`, or `None` when the graph was
    /// given explicitly ([`Lift::new`], [`load_lift`]).
    pub fn sampler(&self, e: usize) -> Option<&Sampler> {
        self.samplers.get(e).and_then(|s| s.as_ref())
    }
    /// Total number of lifted vertices.
    pub fn num_vertices(&self) -> u64 {
        self.fibers.iter().map(|&n| n as u64).sum()
    }
    /// Total number of lifted edges (the sum over base edges).
    pub fn num_edges(&self) -> u64 {
        self.edges.iter().map(|b| b.num_edges() as u64).sum()
    }
}
