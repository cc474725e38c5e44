//! The MLP-Mixer as a base module: the [mixing transformer](super::transformer()) with
//! token mixing by `token_mix` edges only.
//!
//! The input `x` (`[tokens, features]`) is the residual stream `r0`. Block `b` mixes
//! tokens, `t_b = gelu(T r_{b-1})` (a `token_mix` edge into a hidden `[L, features]`
//! vertex) and `u_b = r_{b-1} + T' t_b` (a second `token_mix` edge and an `identity`
//! residual edge), then mixes channels with hidden vertices `h_b` of shape `[L, 1]`
//! (a `linear` edge with `out = 1`, `gelu`) and `r_b = u_b + W h_b` (a `linear` edge back and a
//! second residual edge). The streams `u_b`, `r_b` pin their fiber to 1
//! (docs/semantics.md §1): a lift of size `n` has `n` token-mixing maps and `n` hidden
//! channels per block around one unlifted stream. The last stream is read out to the
//! output by a `readout` edge, with a bias from the constant vertex.
//!
//! ```text
//! x=r0 ─token_mix→ t1 ─token_mix→ u1 ─linear(out 1)→ h1 ─linear→ r1 ─ … ─readout→ y
//!   └──────────identity──────────┘ └──────────identity────────┘
//! ```
//!
//! As for the transformer, `zoo:mixer?tokens=8&features=8&output=10` reads the built-in
//! `digits` images as 8 tokens (rows) of 8 features (pixels).
//!
//! ```
//! use sparselift::zoo::{mixer, MixerConfig};
//!
//! let m = mixer(&MixerConfig { blocks: 3, output: 10, ..Default::default() })?;
//! assert_eq!((m.input_dim(), m.output_dim()), (64, 10));
//! assert_eq!(m.find_edge("t3->u3").map(|e| m.edge(e).op.name()), Some("token_mix"));
//! assert_eq!(m.vertex(m.vertex_id("u3").unwrap()).fiber, Some(1));
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::transformer::{blocks, TransformerConfig};
use super::{depth, dim, Entry, Options, Param};
use crate::module::{Activation, Module, ModuleBuilder};
use crate::Result;

/// Configuration of [`mixer`].
#[derive(Clone, Debug, PartialEq)]
pub struct MixerConfig {
    /// Tokens `L` of the input token map.
    pub tokens: usize,
    /// Features per token (the width of the residual stream).
    pub features: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Output dimension (e.g. the number of classes).
    pub output: usize,
    /// Activation of the token-mixing and channel-MLP hidden vertices.
    pub activation: Activation,
    /// A bias edge from the constant vertex into the output.
    pub bias: bool,
}

impl Default for MixerConfig {
    fn default() -> Self {
        MixerConfig {
            tokens: 8,
            features: 8,
            blocks: 2,
            output: 1,
            activation: Activation::Gelu,
            bias: true,
        }
    }
}

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "mixer",
    "MLP-Mixer: token_mix and channel MLP blocks around an unlifted residual stream",
    PARAMS,
    from_options,
);

/// The registry's view of [`MixerConfig`] (defaults equal `MixerConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim("tokens", 8, "tokens L of the input token map [L, features]"),
    dim(
        "features",
        8,
        "features per token (width of the residual stream)",
    ),
    depth("blocks", 2, "number of blocks"),
    dim("output", 1, "output dimension (e.g. the number of classes)"),
    Param::activation(
        "activation",
        Activation::Gelu,
        "activation of the token-mixing and channel-MLP hidden vertices",
    ),
    Param::switch(
        "no-bias",
        "leave out the constant vertex and the output bias",
    ),
];

pub(super) fn from_options(o: &Options) -> Result<Module> {
    mixer(&MixerConfig {
        tokens: o.count("tokens")?,
        features: o.count("features")?,
        blocks: o.count("blocks")?,
        output: o.count("output")?,
        activation: o.activation("activation")?,
        bias: !o.switch("no-bias")?,
    })
}

/// The MLP-Mixer base module `x → (block)^B → y`.
pub fn mixer(cfg: &MixerConfig) -> Result<Module> {
    let mut b = ModuleBuilder::new("mixer");
    blocks(
        &mut b,
        "mixer",
        &TransformerConfig {
            tokens: cfg.tokens,
            features: cfg.features,
            width: 1,
            blocks: cfg.blocks,
            output: cfg.output,
            attention: false,
            token_mix: true,
            activation: cfg.activation,
            bias: cfg.bias,
            streams: 1,
        },
    )?;
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::{LiftSpec, Sampler};
    use crate::module::Op;

    #[test]
    fn blocks_are_token_mix_then_channel_mlp_with_residuals() {
        let m = mixer(&MixerConfig {
            tokens: 6,
            features: 3,
            blocks: 2,
            output: 4,
            ..Default::default()
        })
        .unwrap();
        assert_eq!((m.input_dim(), m.output_dim()), (18, 4));
        let ops: Vec<(String, Op)> = m
            .edges()
            .iter()
            .map(|e| (e.name.clone(), e.op.clone()))
            .collect();
        let want = [
            ("x->t1", Op::TokenMix),
            ("t1->u1", Op::TokenMix),
            ("x->u1", Op::Identity),
            ("u1->h1", Op::Linear),
            ("h1->r1", Op::Linear),
            ("u1->r1", Op::Identity),
        ];
        for (i, (name, op)) in want.iter().enumerate() {
            assert_eq!((ops[i].0.as_str(), &ops[i].1), (*name, op));
        }
        assert_eq!(m.edges().len(), 6 * 2 + 2);
        assert_eq!(m.edge(m.find_edge("u1->h1").unwrap()).weight_shape, [1, 3]);
        assert_eq!(m.edge(m.find_edge("t2->u2").unwrap()).weight_shape, [6, 6]);
        assert_eq!(m.edge(m.find_edge("r2->y").unwrap()).weight_shape, [4, 18]);
        let h = m.vertex(m.vertex_id("h1").unwrap());
        assert_eq!(
            (h.shape.as_slice(), h.activation),
            (&[6, 1][..], Activation::Gelu)
        );
        let lift = LiftSpec::new(5, Sampler::InDegree(2)).sample(&m).unwrap();
        let fibers: Vec<u32> = lift.fibers().to_vec();
        // x, one, (t, u, h, r) × 2, y.
        assert_eq!(fibers, [1, 1, 5, 1, 5, 1, 5, 1, 5, 1, 1]);
        assert_eq!(
            super::super::entry("mixer").unwrap().build(&[]).unwrap(),
            mixer(&MixerConfig::default()).unwrap()
        );
    }
}
