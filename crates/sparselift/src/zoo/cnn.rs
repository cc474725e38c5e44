//! The convolutional network as a base module: channel lifts.
//!
//! Every hidden vertex is **one channel map** of shape `[height, width]`, and the edges
//! between consecutive layers are `conv` edges (one `k × k` kernel per lifted edge). A
//! lift of size `n` therefore gives every layer `n` channels, and its dense lift is the
//! standard CNN with `n` channels per layer, same padding and stride 1; a sparse lift lets
//! each output channel read only some of the channels below (`in-degree:k`: `k` of them).
//! The last layer is read out to the output vector by a `readout` edge (a linear map of
//! each whole map), with a bias from the constant vertex:
//!
//! ```text
//! x [h, w] ─conv→ c1 ─conv→ c2 ─ … ─conv→ cL ─readout→ y [output] ←linear─ one
//! ```
//!
//! The conv layers have no bias: the constant vertex has shape `[1]` and no op spreads a
//! scalar over a map (docs/semantics.md §1).
//!
//! ```
//! use sparselift::zoo::{cnn, CnnConfig};
//!
//! let m = cnn(&CnnConfig { output: 10, ..Default::default() })?;
//! assert_eq!((m.input_dim(), m.output_dim()), (64, 10)); // 8 × 8 images, 10 classes
//! assert_eq!(m.find_edge("c1->c2").map(|e| m.edge(e).op.name()), Some("conv"));
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{depth, dim, Entry, Options, Param};
use crate::module::{Activation, Module, ModuleBuilder, Op};
use crate::Result;

/// Configuration of [`cnn`].
#[derive(Clone, Debug, PartialEq)]
pub struct CnnConfig {
    /// Height of the input image and of every channel map.
    pub height: usize,
    /// Width of the input image and of every channel map.
    pub width: usize,
    /// Number of conv layers (each one fiber of channels in the lift).
    pub layers: usize,
    /// Kernel size `k` (odd) of the `k × k` kernels.
    pub kernel: usize,
    /// Output dimension (classes, or regression targets).
    pub output: usize,
    /// Activation of the channel maps.
    pub activation: Activation,
    /// A bias edge from the constant vertex into the output.
    pub bias: bool,
}

impl Default for CnnConfig {
    fn default() -> Self {
        CnnConfig {
            height: 8,
            width: 8,
            layers: 2,
            kernel: 3,
            output: 1,
            activation: Activation::Relu,
            bias: true,
        }
    }
}

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "cnn",
    "convolutional network: one channel map per layer vertex, conv edges, a readout",
    PARAMS,
    from_options,
);

/// The registry's view of [`CnnConfig`] (defaults equal `CnnConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim(
        "height",
        8,
        "image height (every channel map has the image's shape)",
    ),
    dim("width", 8, "image width"),
    depth(
        "layers",
        2,
        "number of conv layers (each one fiber of channels)",
    ),
    Param::count(
        "kernel",
        3,
        MAX_KERNEL,
        "kernel size k of the k × k kernels (odd)",
    ),
    dim("output", 1, "output dimension (e.g. the number of classes)"),
    Param::activation(
        "activation",
        Activation::Relu,
        "activation of the channel maps",
    ),
    Param::switch(
        "no-bias",
        "leave out the constant vertex and the output bias",
    ),
];

/// Largest kernel size the registry accepts; a kernel wider than `2 d − 1` for a map of
/// side `d` is refused by validation in any case.
const MAX_KERNEL: usize = 63;

pub(super) fn from_options(o: &Options) -> Result<Module> {
    cnn(&CnnConfig {
        height: o.count("height")?,
        width: o.count("width")?,
        layers: o.count("layers")?,
        kernel: o.count("kernel")?,
        output: o.count("output")?,
        activation: o.activation("activation")?,
        bias: !o.switch("no-bias")?,
    })
}

/// The CNN base module `x → c1 → … → cL → y`.
pub fn cnn(cfg: &CnnConfig) -> Result<Module> {
    super::check_depth("cnn", "layers", cfg.layers)?;
    let map = [cfg.height, cfg.width];
    let mut b = ModuleBuilder::new("cnn");
    b.input("x", &map);
    if cfg.bias {
        b.constant("one");
    }
    let layers: Vec<String> = (1..=cfg.layers).map(|i| format!("c{i}")).collect();
    for c in &layers {
        b.hidden(c, &map, cfg.activation);
    }
    b.output("y", &[cfg.output], Activation::Identity);
    let kernel = Op::Conv(vec![cfg.kernel, cfg.kernel]);
    b.edge("x", &layers[0], kernel.clone());
    for pair in layers.windows(2) {
        b.edge(&pair[0], &pair[1], kernel.clone());
    }
    b.edge(&layers[cfg.layers - 1], "y", Op::Readout);
    if cfg.bias {
        b.edge("one", "y", Op::Linear);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_are_channel_maps_joined_by_conv_edges_and_read_out() {
        let m = cnn(&CnnConfig {
            height: 6,
            width: 5,
            layers: 3,
            kernel: 5,
            output: 4,
            ..Default::default()
        })
        .unwrap();
        for c in ["c1", "c2", "c3"] {
            let v = m.vertices().iter().find(|v| v.name == c).unwrap();
            assert_eq!(v.shape[..], [6, 5]);
        }
        for e in ["x->c1", "c1->c2", "c2->c3"] {
            let edge = m.edge(m.find_edge(e).unwrap());
            assert_eq!(edge.op, Op::Conv(vec![5, 5]), "{e}");
            assert_eq!(edge.weight_shape, vec![5, 5], "{e}");
        }
        let readout = m.edge(m.find_edge("c3->y").unwrap());
        assert_eq!(readout.op, Op::Readout);
        assert_eq!(readout.weight_shape, vec![4, 30]);
    }

    #[test]
    fn an_even_kernel_is_refused_with_the_reason() {
        let e = cnn(&CnnConfig {
            kernel: 4,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("odd"), "{e}");
    }
}
