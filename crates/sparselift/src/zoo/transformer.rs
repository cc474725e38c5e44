//! The mixing transformer as a base module (docs/semantics.md §1): blocks of token mixing
//! and a channel MLP around an unlifted residual stream.
//!
//! The input `x` is a token map `[tokens, features]`; it is also the residual stream
//! `r0`. Block `b` reads the stream `r_{b-1}` and
//!
//! - mixes tokens into `u_b = r_{b-1} + Σ_heads W_o a_b + Σ_copies T' t_b`, by
//!   - an **attention path** (on by default): queries and keys of width `c` by two
//!     `linear` edges into the `outer` vertex `s_b` (`[L, L]` scores), values of width
//!     `c` by a `linear` edge into the `dsoftmul` vertex `a_b`, whose copy `h` takes the
//!     scores of exactly one copy of `s_b` (a `k-lift:1` edge), and a `linear` edge back
//!     to the stream: a lift of size `n` has `n` heads;
//!   - and/or a **token-mixing path**: `t_b = gelu(T r_{b-1})` by a `token_mix` edge into
//!     a `[L, features]` vertex, and a second `token_mix` edge back to the stream, as in
//!     MLP-Mixer;
//! - then applies a **channel MLP**: hidden vertices `h_b` of shape `[L, 1]` (one scalar
//!   channel per token) reached by a `linear` edge with `out = 1`, and a `linear` edge
//!   back, `r_b = u_b + Σ_copies W_2 h_b`: a lift of size `n` has `n` hidden channels.
//!
//! The streams `u_b` and `r_b` pin their fiber to 1 (docs/semantics.md §1), so they are
//! not lifted: the edges into and out of them are dense and the `identity` residual edges
//! join one copy to one copy. The last stream is read out to the output by a `readout`
//! edge, with a bias from the constant vertex:
//!
//! ```text
//! x=r0 ─q,k→ s1 ─k-lift:1→ a1 ─linear→ u1 ─linear(out 1)→ h1 ─linear→ r1 ─ … ─readout→ y
//!   ├────────values───────→ a1          ↑ └───────────identity────────↑
//!   └──────────────identity─────────────┘
//! ```
//!
//! **Sparse lifts.** With the streams pinned to one copy, every edge of a block but
//! `s_b → a_b` joins a lifted fiber to a stream of size 1, so it is dense (docs/semantics.md
//! §2) and the lift's global sampler changes nothing. With `streams = S > 1` each stream
//! has `S` copies, each keeping its own residual (`k-lift:1` edges between streams), and
//! the sampler reaches the edges between the streams and the heads and hidden channels:
//! `zoo:transformer?streams=4` lifted with `--size 16 --sampler in-degree:4` gives 4
//! streams, each head and hidden channel reading 4 stream copies.
//!
//! **Digits as sequences.** The built-in `digits` data stores pixel `(r, c)` at feature
//! `8 r + c`, and an input vertex of shape `[8, 8]` reads its 64 inputs row-major: token
//! `r` is image row `r`, with the 8 pixels of that row as features. So
//! `zoo:transformer?tokens=8&features=8&output=10` trains on `--data digits` as is.
//!
//! ```
//! use sparselift::zoo::{transformer, TransformerConfig};
//!
//! let m = transformer(&TransformerConfig { output: 10, ..Default::default() })?;
//! assert_eq!((m.input_dim(), m.output_dim()), (64, 10)); // 8 rows of 8 pixels
//! assert_eq!(m.vertex(m.vertex_id("r2").unwrap()).fiber, Some(1));
//! assert_eq!(m.vertex(m.vertex_id("a1").unwrap()).activation.name(), "dsoftmul");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{depth, dim, Entry, Options, Param};
use crate::lift::Sampler;
use crate::module::{Activation, Module, ModuleBuilder, Op};
use crate::{Error, Result};

/// Configuration of [`transformer`].
#[derive(Clone, Debug, PartialEq)]
pub struct TransformerConfig {
    /// Tokens `L` of the input token map.
    pub tokens: usize,
    /// Features per token (the width of the residual stream).
    pub features: usize,
    /// Width `c` of one head's queries, keys and values.
    pub width: usize,
    /// Number of blocks.
    pub blocks: usize,
    /// Output dimension (e.g. the number of classes).
    pub output: usize,
    /// Token mixing by attention (`outer` and `dsoftmul` vertices).
    pub attention: bool,
    /// Token mixing by two `token_mix` edges around a hidden token map.
    pub token_mix: bool,
    /// Activation of the channel-MLP hidden vertices (and of the token-mixing path).
    pub activation: Activation,
    /// A bias edge from the constant vertex into the output.
    pub bias: bool,
    /// Copies of each residual stream (the fiber its vertices pin): 1 leaves the stream
    /// unlifted; above 1 the lift's sampler reaches the edges between the streams and the
    /// heads and hidden channels, and the residual edges between streams are matchings
    /// (`k-lift:1`).
    pub streams: u32,
}

impl Default for TransformerConfig {
    fn default() -> Self {
        TransformerConfig {
            tokens: 8,
            features: 8,
            width: 4,
            blocks: 2,
            output: 1,
            attention: true,
            token_mix: false,
            activation: Activation::Gelu,
            bias: true,
            streams: 1,
        }
    }
}

/// This module in the zoo registry.
pub(super) const ENTRY: Entry = Entry::new(
    "transformer",
    "mixing transformer: attention and/or token_mix, channel MLP, unlifted residual stream",
    PARAMS,
    from_options,
);

/// The registry's view of [`TransformerConfig`] (defaults equal
/// `TransformerConfig::default()`).
pub(super) const PARAMS: &[Param] = &[
    dim("tokens", 8, "tokens L of the input token map [L, features]"),
    dim(
        "features",
        8,
        "features per token (width of the residual stream)",
    ),
    dim("width", 4, "width c of one head's queries, keys and values"),
    depth("blocks", 2, "number of blocks"),
    dim("output", 1, "output dimension (e.g. the number of classes)"),
    Param::switch(
        "token-mix",
        "add a token_mix path to the token mixing (MLP-Mixer style)",
    ),
    Param::switch(
        "no-attention",
        "leave out the attention path (needs --token-mix)",
    ),
    Param::activation(
        "activation",
        Activation::Gelu,
        "activation of the channel MLP and the token-mixing path",
    ),
    Param::switch(
        "no-bias",
        "leave out the constant vertex and the output bias",
    ),
    Param::count(
        "streams",
        1,
        MAX_STREAMS,
        "copies of each residual stream; above 1 the sampler reaches the block edges",
    ),
];

/// Most copies of a residual stream the registry accepts (a stream is a whole token map).
const MAX_STREAMS: usize = 1 << 16;

pub(super) fn from_options(o: &Options) -> Result<Module> {
    transformer(&TransformerConfig {
        tokens: o.count("tokens")?,
        features: o.count("features")?,
        width: o.count("width")?,
        blocks: o.count("blocks")?,
        output: o.count("output")?,
        attention: !o.switch("no-attention")?,
        token_mix: o.switch("token-mix")?,
        activation: o.activation("activation")?,
        bias: !o.switch("no-bias")?,
        streams: o.count("streams")? as u32,
    })
}

/// The mixing-transformer base module `x → (block)^B → y`.
pub fn transformer(cfg: &TransformerConfig) -> Result<Module> {
    if !cfg.attention && !cfg.token_mix {
        return Err(Error::invalid(
            "zoo transformer",
            "no token mixing: attention is off and token_mix is not on",
        )
        .with_hint("keep the attention path, or pass --token-mix (or both)"));
    }
    let mut b = ModuleBuilder::new("transformer");
    blocks(&mut b, "transformer", cfg)?;
    b.build()
}

/// Adds the input, the blocks, the output and the readout of a mixing network to `b`
/// (shared with the [mixer](super::mixer())).
pub(super) fn blocks(b: &mut ModuleBuilder, entry: &str, cfg: &TransformerConfig) -> Result<()> {
    super::check_depth(entry, "blocks", cfg.blocks)?;
    let (l, d) = (cfg.tokens, cfg.features);
    b.input("x", &[l, d]);
    if cfg.bias {
        b.constant("one");
    }
    for i in 1..=cfg.blocks {
        if cfg.attention {
            b.hidden(&format!("s{i}"), &[l, l], Activation::Outer);
            b.hidden(&format!("a{i}"), &[l, cfg.width], Activation::Dsoftmul);
        }
        if cfg.token_mix {
            b.hidden(&format!("t{i}"), &[l, d], cfg.activation);
        }
        b.hidden(&format!("u{i}"), &[l, d], Activation::Identity)
            .fiber(cfg.streams);
        b.hidden(&format!("h{i}"), &[l, 1], cfg.activation);
        b.hidden(&format!("r{i}"), &[l, d], Activation::Identity)
            .fiber(cfg.streams);
    }
    b.output("y", &[cfg.output], Activation::Identity);

    for i in 1..=cfg.blocks {
        let prev = if i == 1 {
            "x".to_string()
        } else {
            format!("r{}", i - 1)
        };
        let name = |v: &str| format!("{v}{i}");
        let (u, h, r) = (name("u"), name("h"), name("r"));
        if cfg.attention {
            let (s, a) = (name("s"), name("a"));
            b.edge(&prev, &s, Op::Linear)
                .out(cfg.width)
                .named(&format!("query{i}"));
            b.edge(&prev, &s, Op::Linear)
                .out(cfg.width)
                .named(&format!("key{i}"));
            b.edge(&s, &a, Op::Identity).sampler(&Sampler::KLift(1));
            b.edge(&prev, &a, Op::Linear).named(&format!("value{i}"));
            b.edge(&a, &u, Op::Linear);
        }
        if cfg.token_mix {
            let t = name("t");
            b.edge(&prev, &t, Op::TokenMix);
            b.edge(&t, &u, Op::TokenMix);
        }
        // Each copy of a stream keeps its own residual (the input has one copy).
        let matching = |b: &mut ModuleBuilder| {
            if cfg.streams > 1 {
                b.sampler(&Sampler::KLift(1));
            }
        };
        b.edge(&prev, &u, Op::Identity);
        if i > 1 {
            matching(b);
        }
        b.edge(&u, &h, Op::Linear).out(1);
        b.edge(&h, &r, Op::Linear);
        b.edge(&u, &r, Op::Identity);
        matching(b);
    }
    b.edge(&format!("r{}", cfg.blocks), "y", Op::Readout);
    if cfg.bias {
        b.edge("one", "y", Op::Linear);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::LiftSpec;

    fn names(m: &Module, v: &str) -> Vec<String> {
        let v = m.vertex_id(v).unwrap();
        m.in_edges(v)
            .iter()
            .map(|&e| m.edge(e).name.clone())
            .collect()
    }

    #[test]
    fn blocks_mix_tokens_then_channels_around_an_unlifted_stream() {
        let m = transformer(&TransformerConfig {
            tokens: 5,
            features: 4,
            width: 2,
            blocks: 3,
            output: 3,
            ..Default::default()
        })
        .unwrap();
        assert_eq!((m.input_dim(), m.output_dim()), (20, 3));
        // x, one, (s, a, u, h, r) × 3, y.
        assert_eq!(m.vertices().len(), 2 + 5 * 3 + 1);
        // Per block: query, key, scores, values, heads, residual, MLP in, out, residual.
        assert_eq!(m.edges().len(), 9 * 3 + 2);
        assert_eq!(names(&m, "s2"), ["query2", "key2"]);
        assert_eq!(names(&m, "a2"), ["s2->a2", "value2"]);
        assert_eq!(names(&m, "u2"), ["a2->u2", "r1->u2"]);
        assert_eq!(names(&m, "h2"), ["u2->h2"]);
        assert_eq!(names(&m, "r2"), ["h2->r2", "u2->r2"]);
        assert_eq!(names(&m, "y"), ["r3->y", "one->y"]);
        assert_eq!(names(&m, "s1"), ["query1", "key1"]);
        assert_eq!(m.edge(m.find_edge("query1").unwrap()).weight_shape, [2, 4]);
        assert_eq!(m.edge(m.find_edge("u1->h1").unwrap()).weight_shape, [1, 4]);
        assert_eq!(m.edge(m.find_edge("r3->y").unwrap()).op, Op::Readout);
        let s = m.find_edge("s1->a1").unwrap();
        assert_eq!(m.edge(s).sampler, Some(Sampler::KLift(1)));
        for v in m.vertices() {
            let pinned = v.name.starts_with('u') || v.name.starts_with('r');
            assert_eq!(v.fiber == Some(1), pinned, "{}", v.name);
        }
        // A lift of size n: n heads and n MLP channels per block, one stream.
        let lift = LiftSpec::new(6, Sampler::InDegree(2)).sample(&m).unwrap();
        for (v, vert) in m.vertices().iter().enumerate() {
            let want = match vert.name.chars().next() {
                Some('s' | 'a' | 'h') => 6,
                _ => 1,
            };
            assert_eq!(lift.fiber(v), want, "{}", vert.name);
        }
        assert_eq!(lift.edge(s).num_edges(), 6);
    }

    #[test]
    fn token_mixing_can_be_attention_token_mix_or_both() {
        let both = transformer(&TransformerConfig {
            token_mix: true,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(names(&both, "u1"), ["a1->u1", "t1->u1", "x->u1"]);
        assert_eq!(both.edge(both.find_edge("x->t1").unwrap()).op, Op::TokenMix);
        let mix = transformer(&TransformerConfig {
            token_mix: true,
            attention: false,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(names(&mix, "u2"), ["t2->u2", "r1->u2"]);
        assert!(mix.vertex_id("s1").is_none());
        let e = transformer(&TransformerConfig {
            attention: false,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("no token mixing") && e.contains("--token-mix"),
            "{e}"
        );
        let e = super::super::entry("transformer")
            .unwrap()
            .build(&[("no-attention", "true")])
            .unwrap_err()
            .to_string();
        assert!(e.contains("no token mixing"), "{e}");
    }

    #[test]
    fn registry_defaults_match_the_config_defaults_and_depth_is_checked() {
        let entry = super::super::entry("transformer").unwrap();
        assert_eq!(
            entry.build(&[]).unwrap(),
            transformer(&TransformerConfig::default()).unwrap()
        );
        let e = transformer(&TransformerConfig {
            blocks: 0,
            ..Default::default()
        })
        .unwrap_err()
        .to_string();
        assert!(e.contains("blocks must be from 1 to 1000"), "{e}");
    }

    #[test]
    fn lifted_streams_keep_their_own_residuals_and_let_the_sampler_in() {
        let m = transformer(&TransformerConfig {
            streams: 4,
            ..Default::default()
        })
        .unwrap();
        let lift = LiftSpec::new(16, Sampler::InDegree(4)).sample(&m).unwrap();
        for v in ["u1", "r1", "u2", "r2"] {
            assert_eq!(lift.fiber(m.vertex_id(v).unwrap()), 4, "{v}");
        }
        for e in ["r1->u2", "u1->r1", "u2->r2"] {
            let edge = m.find_edge(e).unwrap();
            assert_eq!(m.edge(edge).sampler, Some(Sampler::KLift(1)), "{e}");
            assert_eq!(lift.edge(edge).num_edges(), 4, "{e}: a matching");
        }
        // The heads read 4 of the 4 stream copies, the hidden channels too: in-degree 4
        // from a fiber of 4 is complete, so use a smaller in-degree to see sparsity.
        let lift = LiftSpec::new(16, Sampler::InDegree(2)).sample(&m).unwrap();
        let into_h = m.find_edge("u1->h1").unwrap();
        assert_eq!(lift.edge(into_h).num_edges(), 16 * 2);
    }
}
