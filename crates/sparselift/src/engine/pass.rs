//! Whole-network passes: forward in topological order, backward in reverse.

use super::edge::{EdgePass, Fused, Laid};
use super::plan::Plan;
use super::{activation, buffer, Network};
use crate::activation::{Dsoftmul, Elementwise, Family, Joint, Outer, Product, Scratch};
use crate::module::Role;
use crate::Real;
use std::sync::Arc;

mod rows;

/// Buffers for one batch size: activations, pre-activations and their gradients, per base
/// vertex, each `[fiber][elements][batch]`. Reused across calls to avoid reallocation.
#[derive(Clone, Debug)]
pub struct Workspace<T> {
    batch: usize,
    /// `y_v`.
    y: Vec<Vec<T>>,
    /// Pre-activations: one summed buffer for elementwise activations, one per slot else.
    /// Left empty where the pass of a vertex's only edge applies the activation itself
    /// (the backward pass then reads `y`, see [`Elementwise::derivative_from_output`]):
    /// 256 MiB a hidden layer at the scale of BENCHMARKS.md.
    z: Vec<Vec<Vec<T>>>,
    /// `∂L/∂y_v`, overwritten in place by `∂L/∂z_v` for elementwise activations.
    gy: Vec<Vec<T>>,
    /// `∂L/∂z` per slot for activations with several arguments.
    gz: Vec<Vec<Vec<T>>>,
    /// Scratch for the weights of a sparse scalar edge in CSC order during its backward
    /// pass, shared by the edges: as large as the largest.
    w_csc: Vec<T>,
    /// Per base edge, its blocks in its op's fast layout, when its route reads one.
    laid: Vec<Laid<T>>,
    out: Vec<T>,
    /// Buffers of `outer` and `dsoftmul`, kept from one pass to the next.
    maps: Scratch<T>,
    /// What runs where, compiled for this network and batch size.
    plan: Arc<Plan>,
}

impl<T: Real> Workspace<T> {
    /// Buffers for `net` at batch size `batch`.
    pub fn new(net: &Network, batch: usize) -> Self {
        let m = &net.module;
        let size = |v: usize| net.lift.fiber(v) * m.vertex(v).numel() * batch;
        let slots = |v: usize| {
            let vert = m.vertex(v);
            match vert.activation.family() {
                _ if vert.is_source() => 0,
                Family::Elementwise(_) => 1,
                Family::Joint(_) => m.in_edges(v).len(),
            }
        };
        let n = m.vertices().len();
        let per_slot = |v: usize, slots: usize| {
            (0..slots)
                .map(|slot| buffer::zeroed(net.slot_len(v, slot, batch)))
                .collect()
        };
        // Allocated by the first forward pass that stores them (see `z`).
        let z = (0..n).map(|v| vec![Vec::new(); slots(v)]).collect();
        // Gradients per slot only where there are several slots.
        let gz = (0..n)
            .map(|v| per_slot(v, if slots(v) > 1 { slots(v) } else { 0 }))
            .collect();
        Workspace {
            batch,
            y: (0..n).map(|v| buffer::zeroed(size(v))).collect(),
            z,
            gy: (0..n).map(|v| buffer::zeroed(size(v))).collect(),
            gz,
            w_csc: Vec::new(),
            laid: (0..m.edges().len()).map(|_| Laid::default()).collect(),
            maps: Scratch::default(),
            out: vec![T::zero(); m.output_dim() * batch],
            plan: Arc::new(Plan::new(net, batch)),
        }
    }

    /// The batch size these buffers hold.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// The network outputs of the last forward pass, feature-major `[output_dim][batch]`.
    pub fn output(&self) -> &[T] {
        &self.out
    }

    /// Activations `[fiber][elements][batch]` of base vertex `v` after a forward pass.
    pub fn activation(&self, v: usize) -> &[T] {
        &self.y[v]
    }

    /// The plan the passes follow at this batch size.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// These buffers with the `conv` and `token_mix` edges on the straightforward
    /// per-edge loops (see [`Plan::per_edge`]).
    pub fn per_edge(mut self) -> Self {
        self.plan = Arc::new((*self.plan).clone().per_edge());
        self
    }
}

impl Network {
    fn pass<'a, T: Real>(&'a self, theta: &'a [T], e: usize, plan: &Plan) -> EdgePass<'a, T> {
        let edge = self.module.edge(e);
        let (step, batch) = (&plan.edges[e], plan.batch);
        EdgePass {
            kernel: &self.kernels[e],
            route: step.route,
            sweep: step.sweep,
            bip: self.lift.edge(e),
            w: &theta[self.param_range(e)],
            wn: edge.weight_numel(),
            src_numel: self.module.vertex(edge.from).numel(),
            dst_numel: edge.z_shape.iter().product(),
            batch,
        }
    }

    /// Forward pass of a batch. `x` is feature-major `[input_dim][batch]` (input vertices
    /// in declaration order); returns the outputs, feature-major `[output_dim][batch]`:
    /// for each output vertex, the mean of its fiber.
    ///
    /// # Panics
    /// If `theta`, `x` or `ws` do not fit this network (a programming error).
    pub fn forward<'w, T: Real>(&self, theta: &[T], x: &[T], ws: &'w mut Workspace<T>) -> &'w [T] {
        let b = ws.batch;
        let m = &self.module;
        assert_eq!(theta.len(), self.num_params(), "θ has the wrong length");
        assert_eq!(x.len(), m.input_dim() * b, "x must be [input_dim][batch]");
        let mut x_rest = x;
        for v in m.inputs() {
            let (xv, rest) = x_rest.split_at(m.vertex(v).numel() * b);
            for copy in ws.y[v].chunks_mut(xv.len()) {
                copy.copy_from_slice(xv);
            }
            x_rest = rest;
        }
        let plan = Arc::clone(&ws.plan);
        for &v in m.topological_order() {
            let vert = m.vertex(v);
            let step = &plan.vertices[v];
            match (vert.role, step.fused_by) {
                (Role::Input, _) => {}
                (Role::Constant, _) => ws.y[v].fill(T::one()),
                (Role::Hidden | Role::Output, Some((e, activation))) => {
                    let fused = Fused {
                        activation,
                        bias: step.bias.map(|e| &theta[self.param_range(e)]),
                    };
                    let mut y = std::mem::take(&mut ws.y[v]);
                    let (src, laid) = (&ws.y[m.edge(e).from], &mut ws.laid[e].y);
                    self.pass(theta, e, &plan)
                        .forward_fused(src, &mut y, fused, laid);
                    ws.y[v] = y;
                }
                (Role::Hidden | Role::Output, None) => {
                    let mut z = std::mem::take(&mut ws.z[v]);
                    for (slot, buf) in z.iter_mut().enumerate().filter(|(_, buf)| buf.is_empty()) {
                        *buf = buffer::zeroed(self.slot_len(v, slot, b));
                    }
                    let bias = step.bias;
                    for &e in m.in_edges(v).iter().filter(|&&e| Some(e) != bias) {
                        let slot = if z.len() == 1 { 0 } else { m.edge(e).slot };
                        let (pass, first) = (self.pass(theta, e, &plan), plan.edges[e].first_in);
                        let src = &ws.y[m.edge(e).from];
                        match rows::linear(&pass) {
                            Some(l) => rows::forward(&pass, l, src, &mut z[slot], first),
                            None => pass.forward(src, &mut z[slot], first, &mut ws.laid[e].y),
                        }
                    }
                    for &slot in &step.empty_slots {
                        buffer::zero(&mut z[slot]);
                    }
                    let y = &mut ws.y[v];
                    match vert.activation.family() {
                        Family::Joint(Joint::Product) => Product::forward(&z[0], &z[1], y),
                        Family::Joint(Joint::Outer) => {
                            Outer::forward(self.token_maps(v, b), [&z[0], &z[1]], y, &mut ws.maps)
                        }
                        Family::Joint(Joint::Dsoftmul) => Dsoftmul::forward(
                            self.token_maps(v, b),
                            [&z[0], &z[1]],
                            y,
                            &mut ws.maps,
                        ),
                        Family::Elementwise(a) => match bias {
                            Some(e) => activation::forward_biased(
                                a,
                                &mut z[0],
                                y,
                                &theta[self.param_range(e)],
                            ),
                            None => activation::forward(a, &z[0], y),
                        },
                    }
                    ws.z[v] = z;
                }
            }
        }
        self.gather_outputs(ws);
        &ws.out
    }

    fn gather_outputs<T: Real>(&self, ws: &mut Workspace<T>) {
        let b = ws.batch;
        let mut off = 0;
        for t in self.module.outputs() {
            let block = self.module.vertex(t).numel() * b;
            let n = self.lift.fiber(t);
            let out = &mut ws.out[off..off + block];
            out.copy_from_slice(&ws.y[t][..block]);
            for copy in ws.y[t].chunks(block).skip(1) {
                out.iter_mut().zip(copy).for_each(|(o, &c)| *o += c);
            }
            if n > 1 {
                let inv = T::one() / T::of(n as f64);
                out.iter_mut().for_each(|o| *o *= inv);
            }
            off += block;
        }
    }

    /// Reverse-mode pass after [`Network::forward`] on the same `theta` and `ws`:
    /// given `∂L/∂output` (feature-major), writes `∂L/∂θ` into `grad` and, when asked,
    /// `∂L/∂x` (feature-major) into `grad_x`.
    pub fn backward<T: Real>(
        &self,
        theta: &[T],
        grad_out: &[T],
        ws: &mut Workspace<T>,
        grad: &mut [T],
        grad_x: Option<&mut [T]>,
    ) {
        let b = ws.batch;
        let m = &self.module;
        assert_eq!(grad.len(), self.num_params(), "∇θ has the wrong length");
        assert_eq!(
            grad_out.len(),
            m.output_dim() * b,
            "∂L/∂output must be [output_dim][batch]"
        );
        let plan = Arc::clone(&ws.plan);
        let mut off = 0;
        for t in m.outputs() {
            let block = m.vertex(t).numel() * b;
            let inv = T::one() / T::of(self.lift.fiber(t) as f64);
            for copy in ws.gy[t].chunks_mut(block) {
                copy.iter_mut()
                    .zip(&grad_out[off..off + block])
                    .for_each(|(g, &d)| *g = d * inv);
            }
            off += block;
        }
        for &v in m.topological_order().iter().rev() {
            let vert = m.vertex(v);
            if vert.is_source() {
                continue;
            }
            // ∂L/∂z per slot: in place in gy for elementwise activations.
            let step = &plan.vertices[v];
            let mut gy = std::mem::take(&mut ws.gy[v]);
            if !step.has_gradient {
                buffer::zero(&mut gy); // no path to an output
            }
            let mut gz = std::mem::take(&mut ws.gz[v]);
            let bias = step.bias;
            let z = &ws.z[v];
            // What φ' reads: y where it can, since a fused forward stores no z.
            let from_output = |a: Elementwise| a.derivative_from_output();
            let at = if vert.activation.elementwise().is_some_and(from_output) {
                &ws.y[v]
            } else {
                &z[0]
            };
            match vert.activation.family() {
                _ if step.dz_done => {}
                Family::Joint(Joint::Product) => {
                    let (g1, g2) = gz.split_at_mut(1);
                    Product::backward([&z[0], &z[1]], &gy, [&mut g1[0], &mut g2[0]]);
                }
                Family::Joint(Joint::Outer) => {
                    let (g1, g2) = gz.split_at_mut(1);
                    let maps = self.token_maps(v, b);
                    let (ins, g) = (([&z[0][..], &z[1]], &gy[..]), [&mut g1[0][..], &mut g2[0]]);
                    Outer::backward(maps, ins, g, &mut ws.maps);
                }
                Family::Joint(Joint::Dsoftmul) => {
                    let (g1, g2) = gz.split_at_mut(1);
                    let maps = self.token_maps(v, b);
                    let (ins, g) = (([&z[0][..], &z[1]], &gy[..]), [&mut g1[0][..], &mut g2[0]]);
                    Dsoftmul::backward(maps, ins, g, &mut ws.maps);
                }
                Family::Elementwise(a) => match bias {
                    Some(e) => activation::backward_biased(
                        a,
                        at,
                        &mut gy,
                        &ws.y[m.edge(e).from],
                        &mut grad[self.param_range(e)],
                    ),
                    None => activation::backward(a, at, &mut gy),
                },
            }
            for &e in m.in_edges(v).iter().filter(|&&e| Some(e) != bias) {
                let edge = m.edge(e);
                let gze: &[T] = if gz.is_empty() { &gy } else { &gz[edge.slot] };
                let wanted = match m.vertex(edge.from).role {
                    Role::Constant => false,
                    Role::Input => grad_x.is_some(),
                    _ => true,
                };
                let gy_from = wanted.then(|| (&mut ws.gy[edge.from][..], plan.edges[e].first_out));
                let finish = plan.edges[e].finish_source;
                let (gw, gb) = match finish.and_then(|(_, eb)| eb) {
                    Some(eb) => {
                        let (gw, gb) = two_ranges(grad, self.param_range(e), self.param_range(eb));
                        (gw, Some(gb))
                    }
                    None => (&mut grad[self.param_range(e)], None),
                };
                let fused = finish.map(|(activation, _)| Fused {
                    activation,
                    bias: gb,
                });
                let pass = self.pass(theta, e, &plan);
                match (rows::linear(&pass), fused.is_none()) {
                    (Some(l), true) => rows::backward(&pass, l, gze, &ws.y[edge.from], gw, gy_from),
                    _ => {
                        let (y, laid) = (&ws.y[edge.from], &mut ws.laid[e]);
                        pass.backward(gze, y, gw, gy_from, &mut ws.w_csc, fused, laid)
                    }
                }
            }
            ws.gy[v] = gy;
            ws.gz[v] = gz;
        }
        if let Some(gx) = grad_x {
            let mut off = 0;
            for v in m.inputs() {
                let block = m.vertex(v).numel() * b;
                let dst = &mut gx[off..off + block];
                dst.fill(T::zero());
                if !plan.vertices[v].has_gradient {
                    buffer::zero(&mut ws.gy[v]);
                }
                for copy in ws.gy[v].chunks(block) {
                    dst.iter_mut().zip(copy).for_each(|(d, &c)| *d += c);
                }
                off += block;
            }
        }
    }
}

/// Disjoint ranges `a` and `b` of `x`, both mutable.
fn two_ranges<T>(
    x: &mut [T],
    a: std::ops::Range<usize>,
    b: std::ops::Range<usize>,
) -> (&mut [T], &mut [T]) {
    assert!(a.end <= b.start || b.end <= a.start, "overlapping ranges");
    if a.start < b.start {
        let (lo, hi) = x.split_at_mut(b.start);
        (&mut lo[a], &mut hi[..b.len()])
    } else {
        let (lo, hi) = x.split_at_mut(a.start);
        (&mut hi[..a.len()], &mut lo[b])
    }
}
