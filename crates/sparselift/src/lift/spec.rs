//! [`LiftSpec`]: what to lift and how — size, fiber overrides, samplers, seed.

use super::{Lift, Sampler};
use crate::module::Module;
use crate::Result;
use std::collections::BTreeMap;

/// A recipe for sampling a [`Lift`] of a module.
#[derive(Clone, Debug, PartialEq)]
pub struct LiftSpec {
    /// Fiber size of every hidden vertex (inputs and outputs get 1).
    pub size: u32,
    /// Sampler of every base edge without an override.
    pub sampler: Sampler,
    /// Per-vertex fiber-size overrides, by vertex name.
    pub fibers: BTreeMap<String, u32>,
    /// Per-base-edge sampler overrides, by edge name, `from->to` or `from-to`.
    pub edges: BTreeMap<String, Sampler>,
    /// Seed of the lift's random streams.
    pub seed: u64,
}

impl LiftSpec {
    /// Size `n` and one sampler for every edge; seed 0.
    pub fn new(size: u32, sampler: Sampler) -> Self {
        LiftSpec {
            size,
            sampler,
            fibers: BTreeMap::new(),
            edges: BTreeMap::new(),
            seed: 0,
        }
    }
    /// Sets the seed.
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Overrides the fiber size of one vertex.
    pub fn fiber(mut self, vertex: &str, size: u32) -> Self {
        self.fibers.insert(vertex.to_string(), size);
        self
    }
    /// Overrides the sampler of one base edge.
    pub fn edge(mut self, edge: &str, sampler: Sampler) -> Self {
        self.edges.insert(edge.to_string(), sampler);
        self
    }

    /// Samples the lift of `module`.
    pub fn sample(&self, module: &Module) -> Result<Lift> {
        super::sample::sample(self, module)
    }

    /// Checks the recipe against `module` as [`LiftSpec::sample`] does — fiber overrides,
    /// samplers, in-degrees and the size limits — without drawing, and returns the sizes
    /// of the lift it would draw. Cheap at any size, except that an explicit edge list is
    /// read (and checked against its fibers).
    pub fn plan(&self, module: &Module) -> Result<LiftPlan> {
        super::sample::plan(self, module)
    }
}

/// The sizes of a lift before it is drawn ([`LiftSpec::plan`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiftPlan {
    /// Fiber size of every base vertex, indexed by vertex id.
    pub fibers: Vec<u32>,
    /// Lifted edges over every base edge, indexed by edge id: exact for `dense`,
    /// `in-degree`, `k-lift` and explicit edge lists, the expected count for
    /// `erdos-renyi` and `set`.
    pub edges: Vec<u64>,
}

impl LiftPlan {
    /// Scalar parameters of a network on this lift (saturating at `u64::MAX`).
    pub fn params(&self, module: &Module) -> u64 {
        module
            .edges()
            .iter()
            .zip(&self.edges)
            .fold(0u64, |sum, (e, &n)| {
                sum.saturating_add(n.saturating_mul(e.weight_numel() as u64))
            })
    }
}
