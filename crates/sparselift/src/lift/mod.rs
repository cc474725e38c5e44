//! Lifts (SPEC §2): a large DAG `G` with a homomorphism `π : G → B` onto a base module.
//!
//! A [`Lift`] stores, per base vertex, the size of its fiber, and per base edge the
//! bipartite graph of lifted edges between the two fibers ([`Bipartite`]). Lifted vertices
//! are numbered `0..fiber` within their fiber; lifted edges are numbered in **CSR order**
//! (by target, then by source), which is also the order of their weights.
//!
//! ```
//! use sparselift::{lift::{LiftSpec, Sampler}, zoo};
//!
//! let module = zoo::mlp(&zoo::MlpConfig { input: 16, hidden: 2, output: 1, ..Default::default() }).unwrap();
//! let lift = LiftSpec::new(100, Sampler::InDegree(8)).seed(7).sample(&module).unwrap();
//! let h = module.find_edge("h1->h2").unwrap();
//! assert_eq!(lift.edge(h).num_edges(), 100 * 8);
//! ```

mod bipartite;
mod explicit;
mod sample;
mod sampler;
mod spec;
mod stats;

pub use bipartite::Bipartite;
pub use explicit::{read_edge_list, ExplicitLift};
pub use sampler::Sampler;
pub use spec::LiftSpec;
pub use stats::{DegreeStats, EdgeStats, LiftStats};

/// A lift of a base module: fiber sizes and per-base-edge bipartite graphs.
#[derive(Clone, Debug, PartialEq)]
pub struct Lift {
    fibers: Vec<u32>,
    edges: Vec<Bipartite>,
}

impl Lift {
    /// Assembles a lift from its parts; checks validity against `module` (SPEC §2): every
    /// fiber is non-empty, every bipartite graph joins the right fibers, and every lifted
    /// non-input vertex has at least one in-edge over every base edge into its image.
    pub fn new(
        module: &crate::module::Module,
        fibers: Vec<u32>,
        edges: Vec<Bipartite>,
    ) -> crate::Result<Lift> {
        let lift = Lift { fibers, edges };
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
    /// Total number of lifted vertices.
    pub fn num_vertices(&self) -> u64 {
        self.fibers.iter().map(|&n| n as u64).sum()
    }
    /// Total number of lifted edges (the sum over base edges).
    pub fn num_edges(&self) -> u64 {
        self.edges.iter().map(|b| b.num_edges() as u64).sum()
    }
}
