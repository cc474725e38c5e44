//! One base edge ready to propagate — its kernel, lifted edges, weights and batch — and
//! the activation a pass may finish: what the dense and sparse kernels both take.

use super::plan::{Route, Sweep};
use super::Kernel;
use crate::activation::Elementwise;
use crate::lift::Bipartite;

/// The elementwise activation of the vertex whose pre-activation a pass completes, done by
/// that pass on each finished piece while it is in registers: one sweep over the
/// vertex's buffers instead of two. `bias`: the fused bias edge's weights (forward,
/// `&[T]`) or gradient (backward, `&mut [T]`), one per copy of the vertex.
pub(super) struct Fused<B> {
    pub activation: Elementwise,
    pub bias: Option<B>,
}

/// One base edge ready to propagate: its op, lifted edges and weights.
pub(super) struct EdgePass<'a, T> {
    pub kernel: &'a Kernel,
    /// How its products run, from the plan.
    pub route: Route,
    /// Backward by source, from the plan, when the source gets a gradient.
    pub sweep: Option<Sweep>,
    pub bip: &'a Bipartite,
    pub w: &'a [T],
    /// Weights per lifted edge.
    pub wn: usize,
    /// Scalars per sample in a source block and in a pre-activation block.
    pub src_numel: usize,
    pub dst_numel: usize,
    pub batch: usize,
}

/// One edge's blocks in its op's fast layout ([`crate::op::EdgeOp::fast_layout`]), kept
/// in the [`super::Workspace`]: the forward pass lays out the sources and the backward
/// pass reads them again, and the targets' `∂L/∂z`, laid out once, serve both the weight
/// and the input gradient. Kept between steps, the buffers are allocated once.
#[derive(Clone, Debug)]
pub(super) struct Laid<T> {
    /// The sources' `y`.
    pub y: Vec<T>,
    /// The targets' `∂L/∂z`.
    pub gz: Vec<T>,
}

impl<T> Default for Laid<T> {
    fn default() -> Self {
        Laid {
            y: Vec::new(),
            gz: Vec::new(),
        }
    }
}
