//! The engine: a lifted network's parameters, forward pass and reverse-mode backward pass.
//!
//! A [`Network`] joins a base [`Module`] and a [`Lift`] of it. Parameters live outside
//! it, in one flat vector `θ` (so integrators and optimisers see a plain `&mut [T]`):
//! base edge by base edge, lifted edges in CSR order (by target, then source), each lifted
//! edge's weight in row-major order of the base edge's `weight_shape`.
//!
//! Activations are **neuron-major, batch-minor** (docs/design.md §3): for a base vertex,
//! one contiguous `[fiber][elements][batch]` buffer, so a scalar lifted edge costs one
//! AXPY over a contiguous batch vector. Network inputs and outputs are feature-major
//! `[feature][batch]`.
//!
//! ```
//! use sparselift::{engine::{Network, Workspace}, lift::{LiftSpec, Sampler}, zoo};
//!
//! let module = zoo::mlp(&zoo::MlpConfig { input: 3, hidden: 2, output: 1, ..Default::default() })?;
//! let lift = LiftSpec::new(32, Sampler::InDegree(4)).seed(1).sample(&module)?;
//! let net = Network::new(module, lift)?;
//! let theta: Vec<f64> = net.init(7);
//! let mut ws = Workspace::new(&net, 2);
//! let x = [0.1, -0.2, 0.3, 0.0, 1.0, 2.0]; // [3 features][2 samples]
//! let y = net.forward(&theta, &x, &mut ws).to_vec();
//! let mut grad = vec![0.0; net.num_params()];
//! net.backward(&theta, &[1.0, 1.0], &mut ws, &mut grad, None); // ∇θ of Σ outputs
//! assert_eq!(y.len(), 2);
//! # Ok::<(), sparselift::Error>(())
//! ```

mod activation;
mod buffer;
mod dense;
mod edge;
mod init;
mod pass;
pub mod plan;
mod propagate;

pub use crate::op::Kernel;
pub use pass::Workspace;
pub use plan::{Plan, PlanTable};

use crate::activation::TokenMaps;
use crate::lift::Lift;
use crate::module::Module;
use crate::{Error, Result};

/// A lifted network: module, lift, and the layout of its parameters.
#[derive(Clone, Debug)]
pub struct Network {
    module: Module,
    lift: Lift,
    kernels: Vec<Kernel>,
    offsets: Vec<usize>,
}

impl Network {
    /// Bytes of the activations of this network at `batch` samples, `scalar` bytes each:
    /// the value of every lifted vertex and, for the backward pass, its gradient, plus the
    /// pre-activation of every lifted edge's target — a lower bound of the engine's
    /// workspace, for the memory estimate of [`crate::budget`].
    pub fn activation_bytes(&self, batch: usize, scalar: u64) -> u64 {
        Network::activation_bytes_for(self.module(), self.lift().fibers(), batch, scalar)
    }

    /// [`Network::activation_bytes`] of a network on `module` with fiber sizes `fibers`
    /// (indexed by vertex id), known before its lift is drawn.
    pub fn activation_bytes_for(module: &Module, fibers: &[u32], batch: usize, scalar: u64) -> u64 {
        let values = module
            .vertices()
            .iter()
            .zip(fibers)
            .fold(0u64, |s, (x, &n)| {
                s.saturating_add(crate::budget::bytes(n, x.numel() as u64))
            });
        let pre = module.edges().iter().fold(0u64, |s, e| {
            s.saturating_add(crate::budget::bytes(
                fibers[e.to],
                e.z_shape.iter().product::<usize>() as u64,
            ))
        });
        values
            .saturating_mul(2)
            .saturating_add(pre)
            .saturating_mul(crate::budget::bytes(batch, scalar))
    }

    /// Joins a module and a lift of it. Fails when the lift is not a lift of the module.
    pub fn new(module: Module, lift: Lift) -> Result<Network> {
        if lift.fibers().len() != module.vertices().len()
            || lift.edges().len() != module.edges().len()
        {
            return Err(Error::invalid(
                "network",
                "the lift is not a lift of this module",
            ));
        }
        let kernels = module
            .edges()
            .iter()
            .map(|e| Kernel::new(&e.op, &module.vertex(e.from).shape, &e.weight_shape))
            .collect();
        // Each product is below 2^60 (at most 2^32 lifted edges of at most 2^28 weights),
        // but a few dozen base edges can add up past `usize::MAX`.
        let mut offsets: Vec<usize> = vec![0];
        for (e, edge) in module.edges().iter().enumerate() {
            let end = lift
                .edge(e)
                .num_edges()
                .checked_mul(edge.weight_numel())
                .and_then(|n| offsets[e].checked_add(n))
                .ok_or_else(|| {
                    Error::invalid(
                        "network",
                        format!(
                            "the lift has more parameters than this machine can index ({} bits) by base edge \"{}\"",
                            usize::BITS,
                            edge.name
                        ),
                    )
                    .with_hint("use a smaller lift size or a sparser sampler")
                })?;
            offsets.push(end);
        }
        Ok(Network {
            module,
            lift,
            kernels,
            offsets,
        })
    }

    /// The base module.
    pub fn module(&self) -> &Module {
        &self.module
    }
    /// The lift.
    pub fn lift(&self) -> &Lift {
        &self.lift
    }
    /// Length of `θ`.
    pub fn num_params(&self) -> usize {
        *self.offsets.last().unwrap()
    }
    /// The range of `θ` holding the weights of base edge `e`.
    pub fn param_range(&self, e: usize) -> std::ops::Range<usize> {
        self.offsets[e]..self.offsets[e + 1]
    }
    /// Scalars per sample in a source block of edge `e` and in its pre-activation block.
    pub(crate) fn numels(&self, e: usize) -> (usize, usize) {
        let edge = self.module.edge(e);
        (
            self.module.vertex(edge.from).numel(),
            edge.z_shape.iter().product(),
        )
    }

    /// Scalars in pre-activation buffer `slot` of vertex `v` at `batch` samples: the
    /// fiber of `v`, each with the pre-activation of the edge in that slot (for an
    /// elementwise activation, slot 0: the vertex's shape).
    pub(crate) fn slot_len(&self, v: usize, slot: usize, batch: usize) -> usize {
        let e = self.module.in_edges(v)[slot];
        let numel: usize = self.module.edge(e).z_shape.iter().product();
        self.lift.fiber(v) * numel * batch
    }

    /// The token maps of an `outer` or `dsoftmul` vertex `v` (docs/semantics.md §1): its
    /// second pre-activation is `[L, c]` for both, keys or values.
    pub(crate) fn token_maps(&self, v: usize, batch: usize) -> TokenMaps {
        let z = &self.module.edge(self.module.in_edges(v)[1]).z_shape;
        TokenMaps {
            tokens: z[0],
            channels: z[1],
            batch,
        }
    }

    /// Forward FLOPs per sample: two per scalar multiply-add over every lifted edge
    /// (saturating at `u64::MAX`).
    pub fn flops_per_sample(&self) -> u64 {
        let mut flops = 0u64;
        for (e, edge) in self.module.edges().iter().enumerate() {
            let per_edge = self.kernels[e].flops(edge.z_shape.iter().product());
            flops =
                flops.saturating_add(per_edge.saturating_mul(self.lift.edge(e).num_edges() as u64));
        }
        flops
    }

    /// Index of the first lifted edge into target `t` over base edge `e` (CSR order).
    fn edge_offset(&self, e: usize, t: usize) -> usize {
        let b = self.lift.edge(e);
        match b.csr() {
            Some((off, _)) => off[t] as usize,
            None => t * b.n_src(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::Bipartite;
    use crate::module::{Activation, ModuleBuilder, Op};

    #[test]
    fn a_lift_with_more_parameters_than_an_index_holds_is_an_error() {
        // Complete edges of 65535² lifted edges with 2^28 weights each: the 17th between
        // hidden layers passes 2^64 parameters. Complete graphs store no indices, so
        // nothing large is built.
        const WIDTH: usize = 1 << 14;
        const HIDDEN: usize = 18;
        let mut b = ModuleBuilder::new("wide");
        b.input("x", &[1]);
        for i in 0..HIDDEN {
            b.hidden(&format!("h{i}"), &[WIDTH], Activation::Relu);
        }
        b.output("y", &[1], Activation::Identity);
        b.edge("x", "h0", Op::Linear);
        for i in 1..HIDDEN {
            b.edge(&format!("h{}", i - 1), &format!("h{i}"), Op::Linear);
        }
        b.edge(&format!("h{}", HIDDEN - 1), "y", Op::Linear);
        let module = b.build().unwrap();
        let fiber = |v: &crate::module::Vertex| match v.role {
            crate::module::Role::Hidden => u16::MAX as u32,
            _ => 1,
        };
        let fibers: Vec<u32> = module.vertices().iter().map(fiber).collect();
        let edges = module
            .edges()
            .iter()
            .map(|e| Bipartite::complete(fibers[e.from], fibers[e.to]).unwrap())
            .collect();
        let lift = Lift::new(&module, fibers, edges).unwrap();
        let e = Network::new(module, lift).unwrap_err();
        assert!(e.is_user_error(), "{e}");
        let m = e.to_string();
        assert!(
            m.contains("more parameters") && m.contains("h16->h17"),
            "{m}"
        );
    }
}
