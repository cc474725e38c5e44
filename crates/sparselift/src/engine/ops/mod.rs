//! Edge ops `M_e(w, y)` (docs/semantics.md §1) applied to one lifted edge, on neuron-major
//! batch-minor blocks: a vertex block is `[elements][batch]`, so element `i` of sample `s` sits at
//! `i * batch + s`. Each op has its forward, its input gradient (`Mᵀ`) and its weight
//! gradient next to each other; all accumulate (`+=`) except the weight gradient, which
//! is written, since every lifted weight belongs to exactly one lifted edge.
//!
//! Each op is a unit in a file of its own implementing [`EdgeOp`]; [`Kernel`] maps the
//! module's [`Op`] to them and dispatches with exhaustive matches.

mod conv;
mod identity;
mod linear;
mod scalar;
mod token_mix;

pub use conv::Conv;
pub use identity::Identity;
pub use linear::Linear;
pub use scalar::Scalar;
pub use token_mix::TokenMix;

use crate::module::{Edge, Op, Vertex};
use crate::Real;

/// An edge op resolved against the shapes of its base edge, on neuron-major batch-minor
/// blocks of `b` samples.
pub trait EdgeOp {
    /// The number of weighted terms in each output element: the fan-in of the
    /// initialisation (docs/semantics.md §2).
    fn fan_in(&self) -> usize;
    /// Forward FLOPs of one lifted edge per sample, for a pre-activation block of
    /// `z_numel` scalars: a multiply and an add per weighted term.
    fn flops(&self, z_numel: usize) -> u64 {
        2 * (z_numel * self.fan_in()) as u64
    }
    /// `z += M(w, y)` for one lifted edge.
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize);
    /// `gy += Mᵀ(w, gz)` for one lifted edge.
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize);
    /// `gw = ∂⟨gz, M(w, y)⟩/∂w` for one lifted edge (written, not accumulated).
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize);
}

/// The op of a base edge, resolved: one variant per [`EdgeOp`] unit.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// [`Scalar`].
    Scalar(Scalar),
    /// [`Identity`].
    Identity(Identity),
    /// [`Linear`].
    Linear(Linear),
    /// [`TokenMix`].
    TokenMix(TokenMix),
    /// [`Conv`].
    Conv(Conv),
}

/// `$body` with `$op` bound to the unit of kernel `$k`.
macro_rules! with_op {
    ($k:expr, $op:ident => $body:expr) => {
        match $k {
            Kernel::Scalar($op) => $body,
            Kernel::Identity($op) => $body,
            Kernel::Linear($op) => $body,
            Kernel::TokenMix($op) => $body,
            Kernel::Conv($op) => $body,
        }
    };
}

impl Kernel {
    /// Resolves the op of `edge`, whose source vertex is `src`.
    pub fn new(edge: &Edge, src: &Vertex) -> Kernel {
        let s = &src.shape;
        match &edge.op {
            Op::Scalar => Kernel::Scalar(Scalar),
            Op::Identity => Kernel::Identity(Identity),
            Op::Linear => Kernel::Linear(Linear {
                rows: s[..s.len() - 1].iter().product(),
                inp: edge.weight_shape[1],
                out: edge.weight_shape[0],
            }),
            Op::TokenMix => Kernel::TokenMix(TokenMix {
                tokens: s[0],
                rest: s[1..].iter().product(),
            }),
            Op::Conv(k) => Kernel::Conv(if let [kw] = k[..] {
                Conv {
                    h: 1,
                    w: s[0],
                    kh: 1,
                    kw,
                }
            } else {
                Conv {
                    h: s[0],
                    w: s[1],
                    kh: k[0],
                    kw: k[1],
                }
            }),
        }
    }

    /// See [`EdgeOp::fan_in`].
    pub fn fan_in(&self) -> usize {
        with_op!(self, op => op.fan_in())
    }

    /// See [`EdgeOp::flops`].
    pub fn flops(&self, z_numel: usize) -> u64 {
        with_op!(self, op => op.flops(z_numel))
    }

    /// See [`EdgeOp::forward`].
    pub fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize) {
        with_op!(self, op => op.forward(w, y, z, b))
    }

    /// See [`EdgeOp::backward_input`].
    pub fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize) {
        with_op!(self, op => op.backward_input(w, gz, gy, b))
    }

    /// See [`EdgeOp::weight_grad`].
    pub fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        with_op!(self, op => op.weight_grad(gz, y, gw, b))
    }
}

pub use super::simd::{axpy, dot};
