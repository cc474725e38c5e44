//! One head of self-attention as a base module: a lift of size `n` is `n` heads.
//!
//! The input `x` is a token map `[tokens, features]`. Two `linear` edges make queries and
//! keys of width `c` into the `outer` vertex `s` (`[L, L]` scores), a `linear` edge makes
//! values of width `c` into the `dsoftmul` vertex `a`, and a `linear` edge maps `a` back
//! to the output token map `y` (`[tokens, features]`), to which `x` is added by an
//! `identity` residual edge (docs/semantics.md §1):
//!
//! ```text
//! x ─query, key→ s ─identity (k-lift:1)→ a ─linear→ y
//! ├──────────values──────────────────────↑          ↑
//! └──────────────────identity───────────────────────┘
//! ```
//!
//! The edge `s → a` has the default sampler `k-lift:1`: each copy of `a` takes the scores
//! of exactly one copy of `s`, so each head applies its own scores to its own values, and
//! the dense lift of size `n` is standard `n`-head self-attention with an output
//! projection (a dense `s → a` would instead sum the scores of all heads). The output is
//! the token map; for a class vector, use the [transformer](super::transformer()), whose
//! last stream is read out to `output`.
//!
//! ```
//! use sparselift::zoo::{attention, AttentionConfig};
//!
//! let m = attention(&AttentionConfig::default())?;
//! assert_eq!((m.input_dim(), m.output_dim()), (64, 64)); // 8 tokens of 8 features
//! let s = m.find_edge("s->a").unwrap();
//! assert_eq!(m.edge(s).sampler.as_ref().unwrap().to_string(), "k-lift:1");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{dim, Entry, Options, Param};
use crate::lift::Sampler;
use crate::module::{Activation, Module, ModuleBuilder, Op};
use crate::Result;

/// Configuration of [`attention`].
#[derive(Clone, Debug, PartialEq)]
pub struct AttentionConfig {
    /// Tokens `L` of the token map.
    pub tokens: usize,
    /// Features per token.
    pub features: usize,
    /// Width `c` of one head's queries, keys and values.
    pub width: usize,
}

impl Default for AttentionConfig {
    fn default() -> Self {
        AttentionConfig {
            tokens: 8,
            features: 8,
            width: 4,
        }
    }
}

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "attention",
    "self-attention, one head per lifted copy, with a residual: token map to token map",
    PARAMS,
    from_options,
);

/// The registry's view of [`AttentionConfig`] (defaults equal `AttentionConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim("tokens", 8, "tokens L of the token map [L, features]"),
    dim("features", 8, "features per token"),
    dim("width", 4, "width c of one head's queries, keys and values"),
];

pub(super) fn from_options(o: &Options) -> Result<Module> {
    attention(&AttentionConfig {
        tokens: o.count("tokens")?,
        features: o.count("features")?,
        width: o.count("width")?,
    })
}

/// The self-attention base module `x → s → a → y` with the residual `x → y`.
pub fn attention(cfg: &AttentionConfig) -> Result<Module> {
    let (l, d, c) = (cfg.tokens, cfg.features, cfg.width);
    let mut b = ModuleBuilder::new("attention");
    b.input("x", &[l, d])
        .hidden("s", &[l, l], Activation::Outer)
        .hidden("a", &[l, c], Activation::Dsoftmul)
        .output("y", &[l, d], Activation::Identity);
    b.edge("x", "s", Op::Linear).out(c).named("query");
    b.edge("x", "s", Op::Linear).out(c).named("key");
    b.edge("s", "a", Op::Identity).sampler(&Sampler::KLift(1));
    b.edge("x", "a", Op::Linear).named("value");
    b.edge("a", "y", Op::Linear);
    b.edge("x", "y", Op::Identity);
    b.build()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::LiftSpec;

    #[test]
    fn one_head_whose_lift_is_n_heads() {
        let m = attention(&AttentionConfig {
            tokens: 5,
            features: 4,
            width: 2,
        })
        .unwrap();
        let shape = |e: &str| m.edge(m.find_edge(e).unwrap()).weight_shape.clone();
        assert_eq!(shape("query"), [2, 4]);
        assert_eq!(shape("key"), [2, 4]);
        assert_eq!(shape("value"), [2, 4]);
        assert_eq!(shape("a->y"), [4, 2]);
        assert!(shape("x->y").is_empty());
        let y = m.vertex_id("y").unwrap();
        let ins: Vec<&str> = m
            .in_edges(y)
            .iter()
            .map(|&e| m.edge(e).name.as_str())
            .collect();
        assert_eq!(ins, ["a->y", "x->y"]);
        // A dense lift of size 3: three heads, each with its own scores.
        let lift = LiftSpec::new(3, Sampler::Dense).sample(&m).unwrap();
        assert_eq!(lift.fibers(), &[1, 3, 3, 1]);
        let s = lift.edge(m.find_edge("s->a").unwrap());
        assert_eq!(s.num_edges(), 3);
        assert!(lift.edge(m.find_edge("a->y").unwrap()).is_complete());
        assert_eq!(
            super::super::entry("attention")
                .unwrap()
                .build(&[])
                .unwrap(),
            attention(&AttentionConfig::default()).unwrap()
        );
    }
}
