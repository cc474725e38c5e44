//! Whole-network passes: forward in topological order, backward in reverse.

use super::edge::{EdgePass, Fused};
use super::{activation, buffer, Kernel, Network};
use crate::activation::{Elementwise, Family, Joint, Product};
use crate::module::Role;
use crate::Real;

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
    out: Vec<T>,
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
        let per_slot =
            |v: usize, slots: usize| (0..slots).map(|_| buffer::zeroed(size(v))).collect();
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
            out: vec![T::zero(); m.output_dim() * batch],
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
}

impl Network {
    fn pass<'a, T: Real>(&'a self, theta: &'a [T], e: usize, batch: usize) -> EdgePass<'a, T> {
        let edge = self.module.edge(e);
        EdgePass {
            kernel: &self.kernels[e],
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
        for &v in m.topological_order() {
            let vert = m.vertex(v);
            match vert.role {
                Role::Input => {}
                Role::Constant => ws.y[v].fill(T::one()),
                _ if self.forward_fused(theta, v, ws) => {}
                _ => {
                    let mut z = std::mem::take(&mut ws.z[v]);
                    for buf in z.iter_mut().filter(|b| b.is_empty()) {
                        *buf = buffer::zeroed(ws.y[v].len());
                    }
                    // The first edge into a slot overwrites it; later ones accumulate.
                    let mut written = vec![false; z.len()];
                    let bias = self.fused_bias(v);
                    for &e in m.in_edges(v).iter().filter(|&&e| Some(e) != bias) {
                        let slot = if z.len() == 1 { 0 } else { m.edge(e).slot };
                        let first = !std::mem::replace(&mut written[slot], true);
                        self.pass(theta, e, b)
                            .forward(&ws.y[m.edge(e).from], &mut z[slot], first);
                    }
                    for (buf, _) in z.iter_mut().zip(&written).filter(|(_, w)| !**w) {
                        buffer::zero(buf);
                    }
                    let y = &mut ws.y[v];
                    match vert.activation.family() {
                        Family::Joint(Joint::Product) => Product::forward(&z[0], &z[1], y),
                        Family::Joint(j @ (Joint::Outer | Joint::Dsoftmul)) => {
                            unreachable!("Network::new rejects {j}")
                        }
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

    /// `y_v` straight from the pass of `v`'s only edge, when that pass can apply the
    /// activation (and fused bias) itself: the pre-activation is never stored, as the
    /// backward pass reads `y_v` alone ([`Elementwise::derivative_from_output`]). False,
    /// touching nothing, otherwise.
    fn forward_fused<T: Real>(&self, theta: &[T], v: usize, ws: &mut Workspace<T>) -> bool {
        let m = &self.module;
        let Some(activation) = m.vertex(v).activation.elementwise() else {
            return false;
        };
        let bias = self.fused_bias(v);
        let mut edges = m.in_edges(v).iter().filter(|&&e| Some(e) != bias);
        let (Some(&e), None) = (edges.next(), edges.next()) else {
            return false;
        };
        if !activation.derivative_from_output() {
            return false;
        }
        let fused = Fused {
            activation,
            bias: bias.map(|e| &theta[self.param_range(e)]),
        };
        let mut y = std::mem::take(&mut ws.y[v]);
        let done =
            self.pass(theta, e, ws.batch)
                .forward_fused(&ws.y[m.edge(e).from], &mut y, fused);
        ws.y[v] = y;
        done
    }

    /// The bias edge of `v` that its activation's pass takes over, if any: the last edge
    /// into an elementwise vertex, a scalar edge from a constant of fiber 1. Both passes
    /// then run once over `v`'s buffers instead of twice.
    fn fused_bias(&self, v: usize) -> Option<usize> {
        let m = &self.module;
        let &e = m.in_edges(v).last()?;
        let from = m.edge(e).from;
        let fused = m.vertex(v).activation.is_elementwise()
            && matches!(self.kernels[e], Kernel::Scalar(_))
            && m.vertex(from).role == Role::Constant
            && m.vertex(from).numel() == m.vertex(v).numel()
            && self.lift.fiber(from) == 1
            && self.lift.edge(e).is_complete();
        fused.then_some(e)
    }

    /// The activation of edge `e`'s source and its fused bias edge, when `e`'s backward
    /// pass may apply that activation's backward: `e` is the source's only out-edge, so
    /// it completes `∂L/∂y` there, and `φ'` reads the output `y`, which the pass holds.
    fn fuse_source_activation(&self, e: usize) -> Option<(Elementwise, Option<usize>)> {
        let m = &self.module;
        let u = m.edge(e).from;
        let a = m.vertex(u).activation.elementwise()?;
        let fusable =
            !m.vertex(u).is_source() && m.out_edges(u).len() == 1 && a.derivative_from_output();
        fusable.then(|| (a, self.fused_bias(u)))
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
        // Whether ∂L/∂y_v holds anything yet: the first contribution overwrites it.
        let mut written = vec![false; m.vertices().len()];
        // Whether the pass that completed ∂L/∂y_v turned it into ∂L/∂z_v already.
        let mut dz_done = vec![false; m.vertices().len()];
        let mut off = 0;
        for t in m.outputs() {
            let block = m.vertex(t).numel() * b;
            let inv = T::one() / T::of(self.lift.fiber(t) as f64);
            for copy in ws.gy[t].chunks_mut(block) {
                copy.iter_mut()
                    .zip(&grad_out[off..off + block])
                    .for_each(|(g, &d)| *g = d * inv);
            }
            written[t] = true;
            off += block;
        }
        for &v in m.topological_order().iter().rev() {
            let vert = m.vertex(v);
            if vert.is_source() {
                continue;
            }
            // ∂L/∂z per slot: in place in gy for elementwise activations.
            let mut gy = std::mem::take(&mut ws.gy[v]);
            if !written[v] {
                buffer::zero(&mut gy); // no path to an output
            }
            let mut gz = std::mem::take(&mut ws.gz[v]);
            let bias = self.fused_bias(v);
            let z = &ws.z[v];
            // What φ' reads: y where it can, since a fused forward stores no z.
            let at = match vert.activation.elementwise() {
                Some(a) if a.derivative_from_output() => &ws.y[v],
                _ => &z[0],
            };
            match vert.activation.family() {
                _ if dz_done[v] => {}
                Family::Joint(Joint::Product) => {
                    let (g1, g2) = gz.split_at_mut(1);
                    Product::backward([&z[0], &z[1]], &gy, [&mut g1[0], &mut g2[0]]);
                }
                Family::Joint(j @ (Joint::Outer | Joint::Dsoftmul)) => {
                    unreachable!("Network::new rejects {j}")
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
                let gy_from = wanted.then(|| {
                    let first = !std::mem::replace(&mut written[edge.from], true);
                    (&mut ws.gy[edge.from][..], first)
                });
                let fuse = self.fuse_source_activation(e).filter(|_| wanted);
                let (gw, gb) = match fuse.and_then(|(_, eb)| eb) {
                    Some(eb) => {
                        let (gw, gb) = two_ranges(grad, self.param_range(e), self.param_range(eb));
                        (gw, Some(gb))
                    }
                    None => (&mut grad[self.param_range(e)], None),
                };
                let fused = fuse.map(|(activation, _)| Fused {
                    activation,
                    bias: gb,
                });
                dz_done[edge.from] = self.pass(theta, e, b).backward(
                    gze,
                    &ws.y[edge.from],
                    gw,
                    gy_from,
                    &mut ws.w_csc,
                    fused,
                );
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
                if !written[v] {
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
