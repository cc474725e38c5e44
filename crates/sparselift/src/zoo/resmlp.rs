//! The residual MLP as a base module.
//!
//! Like the [MLP](super::mlp()), every hidden vertex is a scalar neuron and a lift of size
//! `n` gives each of them `n` copies. The input `x` is mapped by a `linear` edge to the
//! residual stream `h0`; block `b` computes `a_b = σ(w h_{b-1} + bias)` and
//! `h_b = w' a_b + h_{b-1}`, then `h_B` is read out by a `linear` edge into `y`:
//!
//! ```text
//! x ─linear→ h0 ─scalar→ a1 ─scalar→ h1 ─ … ─→ hB ─linear→ y
//!             └────────identity────────┘
//! ```
//!
//! The residual edge `h_{b-1} → h_b` carries no weight. Its default sampler is `k-lift:1`:
//! each copy of `h_b` gets exactly one copy of `h_{b-1}` as its skip input, a random
//! matching. A dense skip edge would instead add the *sum* of the whole previous fiber to
//! every neuron, which is not a residual connection and grows with the lift size.
//!
//! ```
//! use sparselift::zoo::{resmlp, ResMlpConfig};
//!
//! let m = resmlp(&ResMlpConfig { input: 8, blocks: 2, output: 1, ..Default::default() })?;
//! let skip = m.find_edge("h0->h1").unwrap();
//! assert_eq!(m.edge(skip).sampler.as_ref().unwrap().to_string(), "k-lift:1");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{depth, dim, Entry, Options, Param};
use crate::lift::Sampler;
use crate::module::{Activation, Module, ModuleBuilder, Op};
use crate::Result;

/// Configuration of [`resmlp`].
#[derive(Clone, Debug, PartialEq)]
pub struct ResMlpConfig {
    /// Input dimension.
    pub input: usize,
    /// Number of residual blocks.
    pub blocks: usize,
    /// Output dimension.
    pub output: usize,
    /// Activation of the block neurons `a_b`.
    pub activation: Activation,
    /// Bias edges from a constant vertex into every `a_b` and into `y`.
    pub bias: bool,
}

impl Default for ResMlpConfig {
    fn default() -> Self {
        ResMlpConfig {
            input: 16,
            blocks: 2,
            output: 1,
            activation: Activation::Relu,
            bias: true,
        }
    }
}

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "resmlp",
    "residual MLP: blocks of scalar neurons with identity skip edges (k-lift:1)",
    PARAMS,
    from_options,
);

/// The registry's view of [`ResMlpConfig`] (defaults equal `ResMlpConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim("input", 16, "input dimension"),
    depth("blocks", 2, "number of residual blocks"),
    dim("output", 1, "output dimension"),
    Param::activation(
        "activation",
        Activation::Relu,
        "activation inside the blocks",
    ),
    Param::switch(
        "no-bias",
        "leave out the constant vertex and the bias edges",
    ),
];

pub(super) fn from_options(o: &Options) -> Result<Module> {
    resmlp(&ResMlpConfig {
        input: o.count("input")?,
        blocks: o.count("blocks")?,
        output: o.count("output")?,
        activation: o.activation("activation")?,
        bias: !o.switch("no-bias")?,
    })
}

/// The residual MLP base module `x → h0 → (a1 → h1) → … → (aB → hB) → y`.
pub fn resmlp(cfg: &ResMlpConfig) -> Result<Module> {
    super::check_depth("resmlp", "blocks", cfg.blocks)?;
    let mut b = ModuleBuilder::new("resmlp");
    b.input("x", &[cfg.input]);
    if cfg.bias {
        b.constant("one");
    }
    b.hidden("h0", &[1], Activation::Identity);
    for i in 1..=cfg.blocks {
        b.hidden(&format!("a{i}"), &[1], cfg.activation);
        b.hidden(&format!("h{i}"), &[1], Activation::Identity);
    }
    b.output("y", &[cfg.output], Activation::Identity);

    b.edge("x", "h0", Op::Linear);
    for i in 1..=cfg.blocks {
        let (prev, a, h) = (format!("h{}", i - 1), format!("a{i}"), format!("h{i}"));
        b.edge(&prev, &a, Op::Scalar);
        if cfg.bias {
            b.edge("one", &a, Op::Scalar);
        }
        b.edge(&a, &h, Op::Scalar);
        b.edge(&prev, &h, Op::Identity).sampler(&Sampler::KLift(1));
    }
    b.edge(&format!("h{}", cfg.blocks), "y", Op::Linear);
    if cfg.bias {
        b.edge("one", "y", Op::Linear);
    }
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::module::Role;

    #[test]
    fn structure_follows_the_blocks() {
        let m = resmlp(&ResMlpConfig {
            input: 5,
            blocks: 3,
            output: 2,
            ..Default::default()
        })
        .unwrap();
        // x, one, h0, (a, h) x 3, y.
        assert_eq!(m.vertices().len(), 3 + 2 * 3 + 1);
        // x->h0, per block 4 edges (in, bias, out, skip), h3->y, one->y.
        assert_eq!(m.edges().len(), 1 + 4 * 3 + 2);
        assert_eq!((m.input_dim(), m.output_dim()), (5, 2));
        let h2 = m.vertex_id("h2").unwrap();
        let ins: Vec<&str> = m
            .in_edges(h2)
            .iter()
            .map(|&e| m.edge(e).name.as_str())
            .collect();
        // `a2` is the block's output, `h1` the skip: one elementwise sum.
        assert_eq!(ins, ["a2->h2", "h1->h2"]);
        for e in m.edges() {
            let skip = e.op == Op::Identity;
            assert_eq!(e.sampler == Some(Sampler::KLift(1)), skip, "{}", e.name);
            assert_eq!(e.weight_numel() == 0, skip, "{}", e.name);
        }
        assert_eq!(
            m.vertex(m.vertex_id("a1").unwrap()).activation,
            Activation::Relu
        );
        assert_eq!(m.vertex(h2).activation, Activation::Identity);
    }

    #[test]
    fn without_bias_there_is_no_constant() {
        let m = resmlp(&ResMlpConfig {
            bias: false,
            ..Default::default()
        })
        .unwrap();
        assert!(m.vertices().iter().all(|v| v.role != Role::Constant));
        assert!(m.warnings().is_empty());
    }

    #[test]
    fn depth_is_checked() {
        for blocks in [0, super::super::MAX_DEPTH + 1] {
            let cfg = ResMlpConfig {
                blocks,
                ..Default::default()
            };
            let e = resmlp(&cfg).unwrap_err().to_string();
            assert!(e.contains("blocks must be from 1 to 1000"), "{e}");
        }
    }
}
