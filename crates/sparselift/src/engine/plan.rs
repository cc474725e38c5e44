//! The plan of a network at one batch size: which kernel runs each base edge, what each
//! pass fuses, and which buffers are kept. [`super::Workspace::new`] compiles it once;
//! the forward and backward passes walk it and decide nothing.
//!
//! Kernels (docs/design.md §3):
//! - **GEMM**: a complete edge whose op has a matrix-product form, by fixed blocks of
//!   output rows;
//! - **gather**: a sparse `scalar` edge, each target a weighted sum of whole source
//!   blocks in CSR order;
//! - **rows**: a `conv` or `token_mix` edge, dense or sparse: each target's block summed
//!   over all its lifted edges at once, the tokens (token_mix) as contiguous rows, or the
//!   taps (conv) over source maps padded once per pass into lanes of samples, accumulated
//!   in registers; named `conv-rows` and `token-rows` in the table;
//! - **per edge**: any other edge, the op applied lifted edge by lifted edge;
//! - **sweep by source** (backward): both gradients of a sparse `scalar` edge or of a
//!   readout in one pass over sources, each source's `∂L/∂y` completed by one task.
//!
//! Fusions: the pass that completes an elementwise vertex's only pre-activation applies
//! `φ` (and the vertex's bias) on each finished tile, where `φ'` can be read from the
//! output, so that pre-activation is never stored; the backward sweep that completes a
//! source's `∂L/∂y` multiplies it by `φ'` (and sums the bias gradient) in registers.
//!
//! ```
//! use sparselift::prelude::*;
//! use sparselift::engine::Workspace;
//!
//! let module = mlp(&MlpConfig { input: 64, hidden: 2, output: 10, ..Default::default() })?;
//! let lift = LiftSpec::new(1024, Sampler::InDegree(32)).seed(1).sample(&module)?;
//! let net = Network::new(module, lift)?;
//! let ws: Workspace<f32> = Workspace::new(&net, 256);
//! assert_eq!(ws.plan().batch(), 256);
//! let table = ws.plan().table(&net, 4).to_string();
//! // The sparse edge between the hidden layers gathers forward and sweeps backward.
//! let h12 = table.lines().find(|l| l.starts_with("h1->h2")).unwrap();
//! assert!(h12.contains("gather") && h12.contains("sweep"), "{table}");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::Network;
use crate::activation::{Elementwise, Family};
use crate::module::Role;
use crate::op::{Kernel, Layout, Linear};
use crate::simd::{self, LANES};
use std::fmt;

/// How the products of one base edge run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Route {
    /// A complete edge as GEMMs of this form.
    Gemm(Layout),
    /// A sparse scalar edge: a weighted gather of source blocks per target.
    Gather,
    /// The op applied lifted edge by lifted edge.
    PerEdge,
    /// A `conv` or `token_mix` edge by the op's fast path: each target's (forward) or
    /// source's (input gradient) block summed over all its lifted edges at once, as
    /// shifted or token rows in registers, bit for bit the per-edge loops.
    Rows,
}

/// Both gradients of an edge in one sweep over its sources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Sweep {
    /// A sparse scalar edge, through its CSC arrays.
    Scalar,
    /// A readout (every source into the single target) with `linear` from scalars to
    /// `out` elements.
    Readout {
        /// The number of output elements.
        out: usize,
    },
}

/// The plan of one base edge.
#[derive(Clone, Debug)]
pub(super) struct EdgeStep {
    /// Forward products, and the separate backward passes when there is no sweep.
    pub route: Route,
    /// Backward by source, when the edge's source gets a gradient and the sweep applies.
    pub sweep: Option<Sweep>,
    /// Forward: the first edge into its pre-activation buffer, which it overwrites.
    pub first_in: bool,
    /// Backward: the first contribution to the source's `∂L/∂y`, which it overwrites.
    pub first_out: bool,
    /// Backward: the sweep finishes the source's `∂L/∂z` with this `φ'` and the bias
    /// gradient of this edge.
    pub finish_source: Option<(Elementwise, Option<usize>)>,
}

/// The plan of one base vertex.
#[derive(Clone, Debug, Default)]
pub(super) struct VertexStep {
    /// The bias edge that the activation pass takes over: a scalar edge from a constant
    /// of fiber 1, the last into an elementwise vertex.
    pub bias: Option<usize>,
    /// The only other in-edge, when its pass applies the activation itself: the
    /// pre-activation is never stored.
    pub fused_by: Option<(usize, Elementwise)>,
    /// `∂L/∂z` was completed by the sweep of the vertex's only out-edge.
    pub dz_done: bool,
    /// Some output depends on the vertex, so its `∂L/∂y` gets a contribution.
    pub has_gradient: bool,
    /// Pre-activation slots no edge writes (a vertex fed by its bias alone): zeroed.
    pub empty_slots: Vec<usize>,
}

/// The compiled plan of a network at one batch size.
#[derive(Clone, Debug)]
pub struct Plan {
    pub(super) batch: usize,
    pub(super) edges: Vec<EdgeStep>,
    pub(super) vertices: Vec<VertexStep>,
}

impl Plan {
    /// Compiles the plan of `net` at `batch` samples.
    pub fn new(net: &Network, batch: usize) -> Plan {
        let m = &net.module;
        let n = m.vertices().len();
        let mut vertices: Vec<VertexStep> = (0..n)
            .map(|v| VertexStep {
                bias: fused_bias(net, v),
                ..VertexStep::default()
            })
            .collect();
        let mut edges: Vec<EdgeStep> = (0..m.edges().len())
            .map(|e| EdgeStep {
                route: route(net, e, batch),
                sweep: None,
                first_in: false,
                first_out: false,
                finish_source: None,
            })
            .collect();
        // Forward: fusions and the first edge into each slot.
        for &v in m.topological_order() {
            let vert = m.vertex(v);
            if vert.is_source() {
                continue;
            }
            let bias = vertices[v].bias;
            let rest: Vec<usize> = m
                .in_edges(v)
                .iter()
                .copied()
                .filter(|&e| Some(e) != bias)
                .collect();
            if let ([e], Some(a)) = (&rest[..], vert.activation.elementwise()) {
                let fusable = a.derivative_from_output()
                    && matches!(
                        edges[*e].route,
                        Route::Gemm(_) | Route::Gather | Route::Rows
                    );
                if fusable {
                    vertices[v].fused_by = Some((*e, a));
                    continue;
                }
            }
            let elementwise = matches!(vert.activation.family(), Family::Elementwise(_));
            let mut written = vec![false; m.in_edges(v).len()];
            written.truncate(if elementwise { 1 } else { written.len() });
            for e in rest {
                let slot = if elementwise { 0 } else { m.edge(e).slot };
                edges[e].first_in = !std::mem::replace(&mut written[slot], true);
            }
            vertices[v].empty_slots = (0..written.len()).filter(|&i| !written[i]).collect();
        }
        // Backward: which edges carry a gradient to their source, the first of them, and
        // the sweeps with what they finish. Input vertices are planned as if their
        // gradient is asked for; the passes skip those edges when it is not.
        for t in m.outputs() {
            vertices[t].has_gradient = true;
        }
        for &v in m.topological_order().iter().rev() {
            if m.vertex(v).is_source() {
                continue;
            }
            let bias = vertices[v].bias;
            for &e in m.in_edges(v).iter().filter(|&&e| Some(e) != bias) {
                let u = m.edge(e).from;
                if m.vertex(u).role == Role::Constant {
                    continue;
                }
                edges[e].first_out = !std::mem::replace(&mut vertices[u].has_gradient, true);
                edges[e].sweep = sweep(net, e, batch);
                let source = m.vertex(u);
                let finish = match source.activation.elementwise() {
                    Some(a) if !source.is_source() && m.out_edges(u).len() == 1 => {
                        a.derivative_from_output().then(|| (a, vertices[u].bias))
                    }
                    _ => None,
                };
                if edges[e].sweep.is_some() {
                    edges[e].finish_source = finish;
                    vertices[u].dz_done = finish.is_some();
                }
            }
        }
        Plan {
            batch,
            edges,
            vertices,
        }
    }

    /// The batch size the plan is for.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The same plan with the `conv` and `token_mix` edges on the straightforward
    /// per-edge loops instead of their fast path: the reference that path is tested and
    /// measured against.
    pub fn per_edge(mut self) -> Plan {
        for step in &mut self.edges {
            if step.route == Route::Rows {
                step.route = Route::PerEdge;
            }
        }
        self
    }

    /// The plan as a table, one row a base edge: kernels, fusions, flops and bytes.
    pub fn table<'a>(&'a self, net: &'a Network, bytes_per_scalar: usize) -> PlanTable<'a> {
        PlanTable {
            plan: self,
            net,
            bytes_per_scalar,
        }
    }
}

/// The route of edge `e` at batch `b`.
fn route(net: &Network, e: usize, b: usize) -> Route {
    let (kernel, bip) = (&net.kernels[e], net.lift.edge(e));
    // Complete graphs store no indices: their weights are a matrix, if the op has a form.
    let gemm = match bip.is_complete() {
        true => kernel.gemm(bip.n_src(), bip.n_dst(), net.numels(e), b),
        false => None,
    };
    if let Some(g) = gemm {
        return Route::Gemm(g);
    }
    match kernel {
        Kernel::Scalar(_) if bip.csr().is_some() => Route::Gather,
        Kernel::TokenMix(_) | Kernel::Conv(_) => Route::Rows,
        Kernel::Scalar(_) | Kernel::Identity(_) | Kernel::Linear(_) => Route::PerEdge,
    }
}

/// The sweep by source of edge `e` at batch `b`, if one applies: whole register tiles of
/// a source block.
fn sweep(net: &Network, e: usize, b: usize) -> Option<Sweep> {
    let (kernel, bip) = (&net.kernels[e], net.lift.edge(e));
    let len = net.numels(e).0 * b;
    let readout = bip.n_dst() == 1 && bip.is_complete();
    match *kernel {
        Kernel::Scalar(_) if bip.csc().is_some() && len.is_multiple_of(LANES) => {
            Some(Sweep::Scalar)
        }
        Kernel::Linear(Linear {
            rows: 1,
            inp: 1,
            out,
        }) if readout && len.is_multiple_of(LANES) && len >= simd::TILE => {
            Some(Sweep::Readout { out })
        }
        Kernel::Scalar(_)
        | Kernel::Identity(_)
        | Kernel::Linear(_)
        | Kernel::TokenMix(_)
        | Kernel::Conv(_) => None,
    }
}

/// The bias edge of `v` that its activation's pass takes over, if any: the last edge
/// into an elementwise vertex, a scalar edge from a constant of fiber 1. Both passes then
/// run once over `v`'s buffers instead of twice.
fn fused_bias(net: &Network, v: usize) -> Option<usize> {
    let m = &net.module;
    let &e = m.in_edges(v).last()?;
    let from = m.edge(e).from;
    let fused = m.vertex(v).activation.is_elementwise()
        && matches!(net.kernels[e], Kernel::Scalar(_))
        && m.vertex(from).role == Role::Constant
        && m.vertex(from).numel() == m.vertex(v).numel()
        && net.lift.fiber(from) == 1
        && net.lift.edge(e).is_complete();
    fused.then_some(e)
}

/// [`Plan::table`]: one row a base edge, then the totals.
pub struct PlanTable<'a> {
    plan: &'a Plan,
    net: &'a Network,
    bytes_per_scalar: usize,
}

impl fmt::Display for PlanTable<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (plan, net, s) = (self.plan, self.net, self.bytes_per_scalar as f64);
        let m = &net.module;
        // In f64: display figures, and no product of sizes can overflow.
        let b = plan.batch as f64;
        writeln!(
            f,
            "plan at batch {}: {} base edges, {} lifted edges",
            plan.batch,
            m.edges().len(),
            net.lift
                .edges()
                .iter()
                .map(|e| e.num_edges() as u64)
                .sum::<u64>()
        )?;
        writeln!(
            f,
            "{:<16} {:>10}  {:<10} {:<14} {:<30} {:>12} {:>12}",
            "edge", "lifted", "forward", "backward", "fused", "fwd flops", "fwd bytes"
        )?;
        let (mut flops, mut bytes) = (0.0, 0.0);
        for (e, step) in plan.edges.iter().enumerate() {
            let edge = m.edge(e);
            let bip = net.lift.edge(e);
            let to = &plan.vertices[edge.to];
            if to.bias == Some(e) {
                writeln!(
                    f,
                    "{:<16} {:>10}  bias of {} (in its activation pass)",
                    edge.name,
                    bip.num_edges(),
                    m.vertex(edge.to).name
                )?;
                continue;
            }
            let rows = match net.kernels[e] {
                Kernel::Conv(_) => "conv-rows",
                Kernel::TokenMix(_) => "token-rows",
                Kernel::Scalar(_) | Kernel::Identity(_) | Kernel::Linear(_) => "rows",
            };
            let forward = match step.route {
                Route::Gemm(_) => "gemm",
                Route::Gather => "gather",
                Route::PerEdge => "per-edge",
                Route::Rows => rows,
            };
            let backward = match (step.sweep, step.route) {
                (Some(Sweep::Scalar), _) => "sweep",
                (Some(Sweep::Readout { .. }), _) => "readout sweep",
                (None, Route::Gemm(_)) => "gemm",
                (None, Route::Gather) => "gather+scatter",
                (None, Route::PerEdge) => "per-edge",
                (None, Route::Rows) => rows,
            };
            let mut fused = Vec::new();
            if let Some((_, a)) = to.fused_by.filter(|&(by, _)| by == e) {
                fused.push(format!(
                    "fwd:{a}{}",
                    if to.bias.is_some() { "+bias" } else { "" }
                ));
            }
            if let Some((a, bias)) = step.finish_source {
                fused.push(format!(
                    "bwd:{a}'{}",
                    if bias.is_some() { "+bias" } else { "" }
                ));
            }
            let (ns, nz) = net.numels(e);
            let edges = bip.num_edges() as f64;
            let step_flops = net.kernels[e].flops(nz) as f64 * edges * b;
            // Each operand once: weights, the source and target buffers, CSR indices.
            let index = match step.route {
                Route::Gather => 4.0 * (edges + bip.n_dst() as f64 + 1.0),
                Route::Gemm(_) | Route::PerEdge | Route::Rows => 0.0,
            };
            let step_bytes = s
                * (edge.weight_numel() as f64 * edges
                    + (bip.n_src() as f64 * ns as f64 + bip.n_dst() as f64 * nz as f64) * b)
                + index;
            flops += step_flops;
            bytes += step_bytes;
            writeln!(
                f,
                "{:<16} {:>10}  {:<10} {:<14} {:<30} {:>12} {:>12}",
                edge.name,
                edges,
                forward,
                backward,
                if fused.is_empty() {
                    "-".to_string()
                } else {
                    fused.join(", ")
                },
                human(step_flops),
                human(step_bytes),
            )?;
        }
        let stored: Vec<&str> = (0..m.vertices().len())
            .filter(|&v| !m.vertex(v).is_source() && plan.vertices[v].fused_by.is_none())
            .map(|v| m.vertex(v).name.as_str())
            .collect();
        writeln!(
            f,
            "forward total: {} flops, {} bytes moved at least; backward about twice that",
            human(flops),
            human(bytes)
        )?;
        write!(
            f,
            "pre-activations kept for the backward pass: {}",
            if stored.is_empty() {
                "none".to_string()
            } else {
                stored.join(", ")
            }
        )?;
        writeln!(f)
    }
}

/// `x` with an SI prefix: `1.23 G`.
fn human(x: f64) -> String {
    let (v, p) = match x {
        x if x >= 1e12 => (x / 1e12, " T"),
        x if x >= 1e9 => (x / 1e9, " G"),
        x if x >= 1e6 => (x / 1e6, " M"),
        x if x >= 1e3 => (x / 1e3, " k"),
        x => return format!("{x:.0}"),
    };
    format!("{v:.2}{p}")
}
