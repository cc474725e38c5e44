//! The multilayer perceptron as a base module.
//!
//! The base graph has one scalar vertex per hidden layer (`h1`, `h2`, …): a lift of size
//! `n` gives each layer `n` neurons, and the dense lift of width `n` is the standard MLP of
//! width `n`. The input `x` (shape `[input]`) reaches `h1` by a `linear` edge (one weight
//! row per neuron), the last layer reaches the output `y` (shape `[output]`) by a `linear`
//! edge, and biases are `scalar`/`linear` edges out of the constant vertex `one`.

use super::{depth, dim, Entry, Options, Param};
use crate::module::{Activation, Module, ModuleBuilder, Op};
use crate::Result;

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "mlp",
    "multilayer perceptron: one scalar vertex per hidden layer",
    PARAMS,
    from_options,
);

/// The registry's view of [`MlpConfig`] (defaults equal `MlpConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim("input", 16, "input dimension"),
    depth(
        "hidden",
        2,
        "number of hidden layers (each one fiber of the lift)",
    ),
    dim("output", 1, "output dimension"),
    Param::activation(
        "activation",
        Activation::Relu,
        "activation of the hidden layers",
    ),
    Param::switch(
        "no-bias",
        "leave out the constant vertex and the bias edges",
    ),
];

pub(super) fn from_options(o: &Options) -> Result<Module> {
    mlp(&MlpConfig {
        input: o.count("input")?,
        hidden: o.count("hidden")?,
        output: o.count("output")?,
        activation: o.activation("activation")?,
        bias: !o.switch("no-bias")?,
    })
}

/// Configuration of [`mlp`].
#[derive(Clone, Debug, PartialEq)]
pub struct MlpConfig {
    /// Input dimension.
    pub input: usize,
    /// Number of hidden layers (each a fiber of the lift).
    pub hidden: usize,
    /// Output dimension.
    pub output: usize,
    /// Activation of the hidden layers.
    pub activation: Activation,
    /// Bias edges from a constant vertex.
    pub bias: bool,
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig {
            input: 16,
            hidden: 2,
            output: 1,
            activation: Activation::Relu,
            bias: true,
        }
    }
}

/// The MLP base module `x → h1 → … → hL → y`.
pub fn mlp(cfg: &MlpConfig) -> Result<Module> {
    super::check_depth("mlp", "hidden", cfg.hidden)?;
    let mut b = ModuleBuilder::new("mlp");
    b.input("x", &[cfg.input]);
    if cfg.bias {
        b.constant("one");
    }
    let layers: Vec<String> = (1..=cfg.hidden).map(|i| format!("h{i}")).collect();
    for h in &layers {
        b.hidden(h, &[1], cfg.activation);
    }
    b.output("y", &[cfg.output], Activation::Identity);
    b.edge("x", &layers[0], Op::Linear);
    for w in layers.windows(2) {
        b.edge(&w[0], &w[1], Op::Scalar);
    }
    b.edge(&layers[cfg.hidden - 1], "y", Op::Linear);
    if cfg.bias {
        for h in &layers {
            b.edge("one", h, Op::Scalar);
        }
        b.edge("one", "y", Op::Linear);
    }
    b.build()
}
