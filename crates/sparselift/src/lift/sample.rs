//! Sampling a [`Lift`] from a [`LiftSpec`]: fiber sizes, the sampler of every base edge,
//! size checks before anything large is allocated, then one draw per base edge.
//!
//! **Fibers** (docs/semantics.md §2), first that applies: the per-vertex overrides of
//! [`LiftSpec::fibers`], the fiber the module pins on the vertex ([`Vertex::fiber`],
//! *ours*), `size` for hidden vertices and 1 for inputs, constants and outputs.
//!
//! **Sampler of a base edge**, first that applies: the lift's per-edge override
//! ([`LiftSpec::edges`]), the module's default for that edge ([`Edge::sampler`]), `dense`
//! when the source or target fiber has size 1, the lift's [`LiftSpec::sampler`]. Both
//! per-edge choices count as explicit and so also apply to edges touching a size-1 fiber
//! (*ours*: docs/semantics.md §2 only says "unless overridden").
//!
//! **Limits.** One base edge may carry at most [`MAX_EDGES`] lifted edges (32-bit
//! indices), and the index arrays of the whole lift (12 bytes per sparse edge plus the
//! offsets) must fit in the machine's memory; both are checked before sampling, so an
//! absurd lift is an error rather than an allocation failure or an overflow.

use super::explicit::read_edge_list_for;
use super::samplers::{self, EdgeStreams};
use super::{Bipartite, Lift, LiftPlan, LiftSpec, Sampler, MAX_EDGES};
#[cfg(doc)]
use crate::module::Vertex;
use crate::module::{Edge, Module, Role};
use crate::{Error, Result};

pub(super) fn sample(spec: &LiftSpec, module: &Module) -> Result<Lift> {
    let fibers = fiber_sizes(spec, module)?;
    let samplers = edge_samplers(spec, module, &fibers)?;
    check_sizes(module, &fibers, &samplers)?;
    let edges = module
        .edges()
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let streams = EdgeStreams::new(spec.seed, i);
            draw(
                module,
                e,
                &samplers[i],
                fibers[e.from],
                fibers[e.to],
                &streams,
            )
        })
        .collect::<Result<Vec<_>>>()?;
    Lift::with_samplers(
        module,
        fibers,
        edges,
        samplers.into_iter().map(Some).collect(),
    )
}

/// Everything [`sample`] checks before drawing, and an explicit edge list read and
/// checked against its fibers: the fibers and the number of lifted edges over each base
/// edge — exact for `dense`, `in-degree`, `k-lift` and explicit lists, the expected count
/// for `erdos-renyi` and `set`.
pub(super) fn plan(spec: &LiftSpec, module: &Module) -> Result<LiftPlan> {
    let fibers = fiber_sizes(spec, module)?;
    let samplers = edge_samplers(spec, module, &fibers)?;
    let mut edges = check_sizes(module, &fibers, &samplers)?;
    for ((e, sampler), count) in module.edges().iter().zip(&samplers).zip(&mut edges) {
        if let Sampler::Explicit(path) = sampler {
            let pairs = read_edge_list_for(module, e, path, fibers[e.from], fibers[e.to])?;
            *count = pairs.len() as u64;
        }
    }
    Ok(LiftPlan { fibers, edges })
}

/// `vertex "name"`, for error messages.
fn at_vertex(module: &Module, v: usize) -> String {
    format!("vertex \"{}\"", module.vertex(v).name)
}

/// `edge "h1->h2"`, for error messages.
pub(super) fn at_edge(e: &Edge) -> String {
    format!("edge \"{}\"", e.name)
}

fn fiber_sizes(spec: &LiftSpec, module: &Module) -> Result<Vec<u32>> {
    if spec.size == 0 {
        return Err(Error::invalid("lift", "size must be at least 1, got 0")
            .with_hint("every hidden vertex gets a fiber of this size: use --size 1 or more"));
    }
    let mut fibers: Vec<u32> = module
        .vertices()
        .iter()
        .map(|v| match (v.fiber, v.role) {
            (Some(pinned), _) => pinned,
            (None, Role::Hidden) => spec.size,
            (None, Role::Input | Role::Constant | Role::Output) => 1,
        })
        .collect();
    for (name, &n) in &spec.fibers {
        let v = module.vertex_id(name).ok_or_else(|| {
            let names: Vec<&str> = module.vertices().iter().map(|v| v.name.as_str()).collect();
            Error::invalid(
                format!("vertex \"{name}\""),
                format!(
                    "no such vertex in module \"{}\" (fiber override)",
                    module.name()
                ),
            )
            .with_hint(format!("vertices are: {}", names.join(", ")))
        })?;
        if n == 0 {
            return Err(Error::invalid(at_vertex(module, v), "fiber size 0")
                .with_hint("every fiber needs at least one lifted vertex: use 1 or more"));
        }
        fibers[v] = n;
    }
    Ok(fibers)
}

fn edge_samplers(spec: &LiftSpec, module: &Module, fibers: &[u32]) -> Result<Vec<Sampler>> {
    let mut chosen: Vec<Option<Sampler>> =
        module.edges().iter().map(|e| e.sampler.clone()).collect();
    let mut keys: Vec<Option<&str>> = vec![None; module.edges().len()];
    for (key, sampler) in &spec.edges {
        let e = module.find_edge(key).ok_or_else(|| {
            let names: Vec<&str> = module.edges().iter().map(|e| e.name.as_str()).collect();
            Error::invalid(
                format!("edge \"{key}\""),
                format!("no such base edge in module \"{}\"", module.name()),
            )
            .with_hint(format!(
                "name an edge as FROM->TO or FROM-TO, or by its name; the edges are: {}",
                names.join(", ")
            ))
        })?;
        if let Some(first) = keys[e].replace(key) {
            return Err(Error::invalid(
                at_edge(module.edge(e)),
                format!("sampler given twice, as \"{first}\" and as \"{key}\""),
            )
            .with_hint("give one sampler per base edge"));
        }
        chosen[e] = Some(sampler.clone());
    }
    Ok(module
        .edges()
        .iter()
        .zip(chosen)
        .map(|(e, c)| {
            c.unwrap_or_else(|| {
                if fibers[e.from] == 1 || fibers[e.to] == 1 {
                    Sampler::Dense
                } else {
                    spec.sampler.clone()
                }
            })
        })
        .collect())
}

/// The Erdős–Rényi probability of `erdos-renyi:p` or `set:ε` (capped at 1).
fn er_probability(sampler: &Sampler, n_src: u32, n_dst: u32) -> Option<f64> {
    match *sampler {
        Sampler::ErdosRenyi(p) => Some(p.min(1.0)),
        Sampler::Set(eps) => {
            let (u, v) = (n_src as f64, n_dst as f64);
            Some((eps * (u + v) / (u * v)).min(1.0))
        }
        _ => None,
    }
}

/// Checks every sampler against its fibers and the lift's size against the limits;
/// returns the number of lifted edges over each base edge (expected for random
/// samplers, 0 for an explicit edge list, which is not read here).
fn check_sizes(module: &Module, fibers: &[u32], samplers: &[Sampler]) -> Result<Vec<u64>> {
    let mut index_bytes = 0u64;
    let mut counts = Vec::with_capacity(samplers.len());
    for (e, sampler) in module.edges().iter().zip(samplers) {
        let (n_src, n_dst) = (fibers[e.from], fibers[e.to]);
        let (u, v) = (n_src as u64, n_dst as u64);
        let expected: u64 = match *sampler {
            Sampler::Dense | Sampler::Explicit(_) => 0,
            Sampler::InDegree(k) => {
                if k > n_src {
                    return Err(Error::invalid(
                        at_edge(e),
                        format!(
                            "in-degree:{k} needs k ≤ {n_src}, the fiber size of its source \"{}\"",
                            module.vertex(e.from).name
                        ),
                    )
                    .with_hint(format!(
                        "use in-degree:{n_src} or less, or give \"{}\" a larger fiber",
                        module.vertex(e.from).name
                    )));
                }
                k as u64 * v
            }
            Sampler::KLift(k) => {
                if n_src != n_dst {
                    return Err(Error::invalid(
                        at_edge(e),
                        format!(
                            "k-lift:{k} needs equal fibers, but \"{}\" has {n_src} and \"{}\" has {n_dst}",
                            module.vertex(e.from).name,
                            module.vertex(e.to).name
                        ),
                    )
                    .with_hint("a perfect matching joins fibers of the same size: make them equal, or use in-degree:k"));
                }
                k as u64 * v
            }
            Sampler::ErdosRenyi(_) | Sampler::Set(_) => {
                let p = er_probability(sampler, n_src, n_dst).unwrap_or(1.0);
                if p >= 1.0 {
                    0
                } else {
                    // Mean edge count plus the fix-ups of empty targets.
                    (p * u as f64 * v as f64 + v as f64 * (1.0 - p).powf(u as f64)).ceil() as u64
                }
            }
        };
        let complete = expected == 0 && !matches!(sampler, Sampler::Explicit(_));
        let count = if complete { u * v } else { expected };
        if count > MAX_EDGES {
            return Err(Error::invalid(
                at_edge(e),
                format!(
                    "{sampler} on fibers {n_src} → {n_dst} gives {count} lifted edges, more than the limit of {MAX_EDGES} per base edge (32-bit indices)"
                ),
            )
            .with_hint("use a smaller lift size or a sparser sampler (e.g. in-degree:16)"));
        }
        if !complete {
            index_bytes += 12 * expected + 4 * (u + v + 2);
        }
        counts.push(count);
    }
    let budget = crate::budget::machine_memory();
    if index_bytes > budget {
        return Err(Error::invalid(
            "lift",
            format!(
                "the lift's index arrays need about {:.1} GiB, more than this machine's {:.1} GiB of memory",
                index_bytes as f64 / (1u64 << 30) as f64,
                budget as f64 / (1u64 << 30) as f64
            ),
        )
        .with_hint("use a smaller lift size or a sparser sampler"));
    }
    Ok(counts)
}

/// Draws the graph over base edge `e` (sizes already checked).
fn draw(
    module: &Module,
    e: &Edge,
    sampler: &Sampler,
    n_src: u32,
    n_dst: u32,
    streams: &EdgeStreams,
) -> Result<Bipartite> {
    let regular = |k: u32, src: Vec<u32>| {
        let offsets = (0..=n_dst).map(|t| t * k).collect();
        Bipartite::from_csr(n_src, n_dst, offsets, src)
    };
    match sampler {
        Sampler::Dense => Bipartite::complete(n_src, n_dst),
        Sampler::InDegree(k) => regular(*k, samplers::in_degree(streams, n_src, n_dst, *k)),
        Sampler::KLift(k) => regular(*k, samplers::k_lift(streams, n_src, *k)),
        Sampler::ErdosRenyi(_) | Sampler::Set(_) => {
            let p = er_probability(sampler, n_src, n_dst).unwrap_or(1.0);
            if p >= 1.0 {
                // Every pair is present: the same graph as `dense`, which the engine runs
                // as a GEMM instead of a sparse loop.
                return Bipartite::complete(n_src, n_dst);
            }
            let (offsets, src) = samplers::erdos_renyi(streams, n_src, n_dst, p, MAX_EDGES)
                .ok_or_else(|| {
                    Error::invalid(
                        at_edge(e),
                        format!("{sampler} drew more than {MAX_EDGES} lifted edges"),
                    )
                    .with_hint("use a smaller lift size or a smaller probability")
                })?;
            Bipartite::from_csr(n_src, n_dst, offsets, src)
        }
        Sampler::Explicit(path) => {
            let pairs = read_edge_list_for(module, e, path, n_src, n_dst)?;
            Bipartite::from_pairs(n_src, n_dst, &pairs).map_err(|err| relocate(err, e))
        }
    }
}

/// Replaces the generic `lift` location of a storage error by the base edge.
fn relocate(err: Error, e: &Edge) -> Error {
    match err {
        Error::Invalid { at, message, hint } if at == "lift" => Error::Invalid {
            at: at_edge(e),
            message,
            hint,
        },
        other => other,
    }
}
