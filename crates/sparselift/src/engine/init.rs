//! Weight initialisation (docs/semantics.md §2, *ours*): every entry of the weight of a lifted edge
//! into target `t` is drawn `N(0, g² / fan_in(t))`, where `fan_in(t)` counts the scalar
//! inputs that reach one output entry of `t` through the lifted edges over the same base
//! edge — its in-degree times the op's own fan-in — and `g` is the gain of the target's
//! activation. Sparse and dense lifts are so initialised comparably: a target with 8
//! in-edges gets weights 8× larger in variance than one with 64.
//!
//! Weights come from streams keyed by (seed, base edge, chunk of targets), independent
//! of the lift's streams, so the same seed initialises identically on any thread count.

use super::Network;
use crate::rng::{stream, Purpose};
use crate::Real;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

/// Targets per independent init stream (fixed, so chunking never depends on threads).
const CHUNK: usize = 4096;

impl Network {
    /// Fresh parameters drawn from `seed` (see the module docs for the distribution).
    pub fn init<T: Real>(&self, seed: u64) -> Vec<T> {
        let mut theta = vec![T::zero(); self.num_params()];
        for (e, edge) in self.module.edges().iter().enumerate() {
            let wn = edge.weight_numel();
            if wn == 0 {
                continue;
            }
            let bip = self.lift.edge(e);
            let gain = self.module.vertex(edge.to).activation.gain();
            let fan = self.kernels[e].fan_in();
            let params = &mut theta[self.offsets[e]..self.offsets[e + 1]];
            // Split the edge's weights at chunk boundaries of targets.
            let mut chunks = Vec::new();
            let mut rest = params;
            let mut start = 0;
            for t0 in (0..bip.n_dst()).step_by(CHUNK) {
                let t1 = (t0 + CHUNK).min(bip.n_dst());
                let end = self.edge_offset(e, t1);
                let (head, tail) = std::mem::take(&mut rest).split_at_mut((end - start) * wn);
                chunks.push((t0, t1, head));
                rest = tail;
                start = end;
            }
            chunks.into_par_iter().for_each(|(t0, t1, w)| {
                let mut rng = stream(seed, Purpose::Init, e as u64, (t0 / CHUNK) as u64);
                let mut pos = 0;
                for t in t0..t1 {
                    let deg = bip.in_degree(t);
                    let std = gain / ((deg * fan) as f64).sqrt();
                    for x in &mut w[pos..pos + deg * wn] {
                        let g: f64 = StandardNormal.sample(&mut rng);
                        *x = T::of(g * std);
                    }
                    pos += deg * wn;
                }
            });
        }
        theta
    }
}
