//! Edge ops `M_e(w, y)` (docs/semantics.md §1) applied to one lifted edge, on neuron-major
//! batch-minor blocks: a vertex block is `[elements][batch]`, so element `i` of sample `s` sits at
//! `i * batch + s`. Each op has its forward, its input gradient (`Mᵀ`) and its weight
//! gradient next to each other; all accumulate (`+=`) except the weight gradient, which
//! is written, since every lifted weight belongs to exactly one lifted edge.
//!
//! Each op is a unit in a file of its own implementing [`EdgeOp`]; [`Kernel`] maps the
//! module's [`Op`] to them and dispatches with exhaustive matches.

mod conv;
mod conv_lanes;
mod identity;
mod linear;
mod readout;
mod scalar;
mod token_mix;

pub use conv::Conv;
pub use identity::Identity;
pub use linear::Linear;
pub use readout::Readout;
pub use scalar::Scalar;
pub use token_mix::TokenMix;

use crate::activation::Activation;
use crate::Real;

/// The bilinear op `M_e(w, y)` carried by an edge (docs/semantics.md §1).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    /// `w · y`, `w ∈ R`.
    Scalar,
    /// `w y` on the last axis, `w ∈ R^{out×in}`; `out` is resolved by validation (from the
    /// edge's `out` field, or from the target's shape).
    Linear,
    /// `y`, no parameter (skip/residual connection).
    Identity,
    /// `w y` along the first (token) axis, `w ∈ R^{L×L}`.
    TokenMix,
    /// Same-padding convolution of a channel map with a kernel of the given (odd) size:
    /// one entry for 1-D (`[len]` maps), two for 2-D (`[h, w]` maps).
    Conv(Vec<usize>),
    /// `w vec(y)`, `w ∈ R^{out×numel(y)}`: a whole map read out to a vector; `out` is
    /// resolved like a linear edge's.
    Readout,
}

impl Op {
    /// The name used in module files.
    pub fn name(&self) -> &'static str {
        match self {
            Op::Scalar => "scalar",
            Op::Linear => "linear",
            Op::Identity => "identity",
            Op::TokenMix => "token_mix",
            Op::Conv(_) => "conv",
            Op::Readout => "readout",
        }
    }

    /// True when the op has trainable weights.
    pub fn has_weight(&self) -> bool {
        match self {
            Op::Scalar | Op::Linear | Op::TokenMix | Op::Conv(_) | Op::Readout => true,
            Op::Identity => false,
        }
    }

    /// The kernel size of a `conv`, `None` for the other ops.
    pub fn kernel_size(&self) -> Option<&[usize]> {
        match self {
            Op::Conv(k) => Some(k),
            Op::Scalar | Op::Linear | Op::Identity | Op::TokenMix | Op::Readout => None,
        }
    }

    /// See [`EdgeOp::shapes`].
    pub fn shapes(&self, ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        match self {
            Op::Scalar => Scalar::shapes(ends),
            Op::Linear => Linear::shapes(ends),
            Op::Identity => Identity::shapes(ends),
            Op::TokenMix => TokenMix::shapes(ends),
            Op::Conv(_) => Conv::shapes(ends),
            Op::Readout => Readout::shapes(ends),
        }
    }
}

/// What shape inference sees of an edge: its two ends and its own fields.
#[derive(Clone, Copy, Debug)]
pub struct Ends<'a> {
    /// The source vertex's name.
    pub src: &'a str,
    /// The source vertex's shape (non-empty).
    pub src_shape: &'a [usize],
    /// The target vertex's name.
    pub dst: &'a str,
    /// The target vertex's activation.
    pub dst_activation: Activation,
    /// The pre-activation shape the target expects in this edge's slot, when it fixes one.
    pub expected: Option<&'a [usize]>,
    /// The edge's `out` field (linear and readout edges).
    pub out: Option<usize>,
    /// The kernel size of a conv edge; empty for other ops.
    pub kernel: &'a [usize],
}

/// Why an op does not fit the ends of its edge.
#[derive(Clone, Debug, PartialEq)]
pub struct ShapeError {
    /// What is wrong.
    pub message: String,
    /// What to do.
    pub hint: &'static str,
}

impl ShapeError {
    fn new(message: impl Into<String>, hint: &'static str) -> ShapeError {
        ShapeError {
            message: message.into(),
            hint,
        }
    }
}

/// The GEMM form of a complete edge: `Z (m × n) += A (m × k) · Y (k × n)`, with `Y` and
/// `Z` row-major (`y_rs`, `z_rs` row strides, unit column stride) and the weights `A`, in
/// their CSR order, at strides `(a_rs, a_cs)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Rows of `Z` and `A`.
    pub m: usize,
    /// The reduction: columns of `A`, rows of `Y`.
    pub k: usize,
    /// Columns of `Y` and `Z`.
    pub n: usize,
    /// Row stride of `A`.
    pub a_rs: usize,
    /// Column stride of `A`.
    pub a_cs: usize,
    /// Row stride of `Y`.
    pub y_rs: usize,
    /// Row stride of `Z`.
    pub z_rs: usize,
}

/// An edge op: its shape rules, and resolved against the shapes of its base edge, its
/// products on neuron-major batch-minor blocks of `b` samples.
pub trait EdgeOp {
    /// The pre-activation shape `Z_e` and the weight shape `W_e` of an edge with this op
    /// between `ends` (docs/semantics.md §1).
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError>
    where
        Self: Sized;
    /// The number of weighted terms in each output element: the fan-in of the
    /// initialisation (docs/semantics.md §2).
    fn fan_in(&self) -> usize;
    /// Forward FLOPs of one lifted edge per sample, for a pre-activation block of
    /// `z_numel` scalars: a multiply and an add per weighted term.
    fn flops(&self, z_numel: usize) -> u64 {
        2 * (z_numel * self.fan_in()) as u64
    }
    /// The GEMM form of a complete edge from `ns` sources of `src_numel` scalars to `nt`
    /// targets of `dst_numel`, at batch `b`, if the op offers one; by default none, and
    /// the planner runs the per-edge loops.
    fn gemm(&self, _ns: usize, _nt: usize, _numels: (usize, usize), _b: usize) -> Option<Layout> {
        None
    }
    /// `z += M(w, y)` for one lifted edge.
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize);
    /// `gy += Mᵀ(w, gz)` for one lifted edge.
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize);
    /// `gw = ∂⟨gz, M(w, y)⟩/∂w` for one lifted edge (written, not accumulated).
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize);
    /// Writes the blocks `maps` (each `numel · b` scalars) into `laid` in the layout that
    /// the fast path ([`EdgeOp::forward_target`], [`EdgeOp::backward_input_source`],
    /// [`EdgeOp::weight_grad_fast`]) reads, as many blocks of equal size, and returns
    /// true; returns false (the default) when it reads the blocks as they are. `laid` is
    /// empty or holds what an earlier call on blocks of the same shape wrote: kept
    /// between passes, it is allocated once, and what does not depend on `maps` stays.
    fn fast_layout<T: Real>(&self, _maps: &[T], _b: usize, _laid: &mut Vec<T>) -> bool {
        false
    }
    /// `z += Σ_j M(w_j, y_j)` over the `count` lifted edges into one target, `edge(j) =
    /// (w_j, y_j)` with `y_j` in the [`EdgeOp::fast_layout`], in order of `j`; with
    /// `overwrite`, `z =`; then `finish` (an elementwise map such as the target's
    /// activation) on the finished sums. By default [`EdgeOp::forward`] edge by edge and
    /// `finish` on all of `z`; an op with a fast path sums a whole target at once, bit for
    /// bit the same.
    fn forward_target<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        (b, overwrite): (usize, bool),
        finish: &mut impl Finish<T>,
    ) {
        if overwrite {
            z.fill(T::zero());
        }
        (0..count).for_each(|j| {
            let (w, y) = edge(j);
            self.forward(w, y, z, b)
        });
        finish.tile(z, &[]);
    }
    /// `gy += Σ_j Mᵀ(w_j, gz_j)` over the `count` lifted edges out of one source,
    /// `edge(j) = (w_j, gz_j)` with `gz_j` in the [`EdgeOp::fast_layout`], in order of
    /// `j`; with `overwrite`, `gy =`. By default [`EdgeOp::backward_input`] edge by edge;
    /// an op with a fast path sums a whole source at once, bit for bit the same.
    fn backward_input_source<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        gy: &mut [T],
        b: usize,
        overwrite: bool,
    ) {
        if overwrite {
            gy.fill(T::zero());
        }
        (0..count).for_each(|j| {
            let (w, gz) = edge(j);
            self.backward_input(w, gz, gy, b)
        })
    }
    /// [`EdgeOp::weight_grad`] by the op's fast path, if it has one, `gz` and `y` in the
    /// [`EdgeOp::fast_layout`]: equal up to the order of its sums.
    fn weight_grad_fast<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        self.weight_grad(gz, y, gw, b)
    }
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
    /// Resolves `op` from a source of shape `s`, with the weight shape that validation
    /// gave its edge.
    pub fn new(op: &Op, s: &[usize], weight_shape: &[usize]) -> Kernel {
        match op {
            Op::Scalar => Kernel::Scalar(Scalar),
            Op::Identity => Kernel::Identity(Identity),
            Op::Linear => Kernel::Linear(Linear {
                rows: s[..s.len() - 1].iter().product(),
                inp: weight_shape[1],
                out: weight_shape[0],
            }),
            Op::TokenMix => Kernel::TokenMix(TokenMix {
                tokens: s[0],
                rest: s[1..].iter().product(),
            }),
            // A readout is a linear map of the flattened source: one row.
            Op::Readout => Kernel::Linear(Linear {
                rows: 1,
                inp: weight_shape[1],
                out: weight_shape[0],
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

    /// See [`EdgeOp::gemm`].
    pub fn gemm(&self, ns: usize, nt: usize, numels: (usize, usize), b: usize) -> Option<Layout> {
        with_op!(self, op => op.gemm(ns, nt, numels, b))
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

    /// See [`EdgeOp::fast_layout`].
    pub fn fast_layout<T: Real>(&self, maps: &[T], b: usize, laid: &mut Vec<T>) -> bool {
        with_op!(self, op => op.fast_layout(maps, b, laid))
    }

    /// See [`EdgeOp::forward_target`].
    pub fn forward_target<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        batch: (usize, bool),
        finish: &mut impl Finish<T>,
    ) {
        with_op!(self, op => op.forward_target(count, edge, z, batch, finish))
    }

    /// See [`EdgeOp::backward_input_source`].
    pub fn backward_input_source<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        gy: &mut [T],
        b: usize,
        overwrite: bool,
    ) {
        with_op!(self, op => op.backward_input_source(count, edge, gy, b, overwrite))
    }

    /// See [`EdgeOp::weight_grad_fast`].
    pub fn weight_grad_fast<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        with_op!(self, op => op.weight_grad_fast(gz, y, gw, b))
    }
}

use crate::simd::{axpy, axpy_rows, dot, Finish};
