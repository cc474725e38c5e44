//! A layered (Sugiyama-style) layout of a base module, top to bottom:
//!
//! 1. **Layers.** Longest path from the sources: a vertex sits one layer below the lowest
//!    of its predecessors, so every edge points down. A constant vertex (a bias) is then
//!    moved down to just above its first consumer, which keeps bias edges short.
//! 2. **Bends.** An edge spanning several layers gets one bend node in each layer it
//!    crosses. Bends take a slot in their layer like vertices do, so a long edge (a
//!    residual skip) is routed beside the boxes it passes and never through them.
//! 3. **Order.** Barycenter sweeps, down then up, each node sorted by the mean position
//!    of its neighbours in the layer just swept; the order with the fewest crossings seen
//!    is kept.
//! 4. **Coordinates.** Each layer in turn, every node wants to sit at the mean `x` of its
//!    neighbours in the adjacent layer; the positions closest to those wishes that keep
//!    the order and the minimum gaps are found exactly by isotonic regression
//!    ([`place`]).
//!
//! Everything is deterministic: ties are broken by node ids, and no hash map is iterated.

use crate::module::{Module, Role};
use crate::{Error, Result};

/// Most nodes (vertices and bends) a drawing may have: a module whose drawing would be
/// larger is unreadable anyway, and the crossing count grows quadratically.
pub(super) const MAX_NODES: usize = 2000;

/// Barycenter sweeps (each one down and one up) when ordering the layers.
const ORDER_SWEEPS: usize = 12;
/// Down-and-up passes when placing the layers.
const PLACE_PASSES: usize = 8;

/// Horizontal gap between two boxes, a box and a bend, and two bends.
const GAP_BOXES: f64 = 28.0;
const GAP_BOX_BEND: f64 = 16.0;
const GAP_BENDS: f64 = 12.0;

/// A node of the layout: a vertex of the module, or a bend of a long edge.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    /// Module vertex `v`.
    Vertex(usize),
    /// A bend of a long edge.
    Bend,
}

/// The laid-out graph. Nodes `0..vertices` are the module's vertices, in order; the
/// others are bends.
#[derive(Clone, Debug)]
pub(super) struct Layout {
    /// The layer of each node (0 at the top).
    pub layer: Vec<usize>,
    /// The centre `x` of each node.
    pub x: Vec<f64>,
    /// Per layer, its nodes from left to right.
    pub layers: Vec<Vec<usize>>,
    /// Per module edge, the nodes it passes: source, bends, target.
    pub routes: Vec<Vec<usize>>,
}

/// Lays `module` out; `width[v]` is the width of vertex `v`'s box.
pub(super) fn layout(module: &Module, width: &[f64]) -> Result<Layout> {
    let layer_of = layers(module);
    let mut kind: Vec<Kind> = (0..module.vertices().len()).map(Kind::Vertex).collect();
    let mut layer = layer_of.clone();
    let mut routes = Vec::with_capacity(module.edges().len());
    for edge in module.edges() {
        let (a, b) = (layer_of[edge.from], layer_of[edge.to]);
        let bends = b - a - 1;
        if kind.len() + bends > MAX_NODES {
            return Err(too_large(module));
        }
        let mut route = vec![edge.from];
        for l in a + 1..b {
            route.push(kind.len());
            kind.push(Kind::Bend);
            layer.push(l);
        }
        route.push(edge.to);
        routes.push(route);
    }
    if kind.len() > MAX_NODES {
        return Err(too_large(module));
    }
    let depth = layer.iter().max().map_or(0, |&l| l + 1);
    let (mut up, mut down) = (vec![Vec::new(); kind.len()], vec![Vec::new(); kind.len()]);
    for route in &routes {
        for w in route.windows(2) {
            down[w[0]].push(w[1]);
            up[w[1]].push(w[0]);
        }
    }
    let mut layers = vec![Vec::new(); depth];
    for (n, &l) in layer.iter().enumerate() {
        layers[l].push(n);
    }
    order(&mut layers, &up, &down);
    let node_width: Vec<f64> = kind
        .iter()
        .map(|k| match *k {
            Kind::Vertex(v) => width[v],
            Kind::Bend => 0.0,
        })
        .collect();
    let x = coordinates(&layers, &kind, &node_width, &up, &down);
    Ok(Layout {
        layer,
        x,
        layers,
        routes,
    })
}

fn too_large(module: &Module) -> Error {
    Error::invalid(
        format!("drawing module \"{}\"", module.name()),
        format!(
            "the drawing would need more than {MAX_NODES} boxes and edge bends ({} vertices, {} edges)",
            module.vertices().len(),
            module.edges().len()
        ),
    )
    .with_hint("draw a smaller instance of the module (fewer layers or blocks)")
}

/// Longest-path layers from the sources, with constants moved down to just above their
/// first consumer.
fn layers(module: &Module) -> Vec<usize> {
    let mut layer = vec![0; module.vertices().len()];
    for &v in module.topological_order() {
        for &e in module.in_edges(v) {
            layer[v] = layer[v].max(layer[module.edge(e).from] + 1);
        }
    }
    for (v, vertex) in module.vertices().iter().enumerate() {
        if vertex.role == Role::Constant {
            let first = module
                .out_edges(v)
                .iter()
                .map(|&e| layer[module.edge(e).to]);
            // Every consumer is at least one layer down, so `first - 1` keeps edges pointing down.
            layer[v] = first.min().map_or(0, |l| l - 1);
        }
    }
    layer
}

/// Orders every layer by barycenter sweeps, keeping the order with the fewest crossings.
fn order(layers: &mut [Vec<usize>], up: &[Vec<usize>], down: &[Vec<usize>]) {
    let nodes: usize = layers.iter().map(Vec::len).sum();
    let mut pos = vec![0.0; nodes];
    let index = |layers: &[Vec<usize>], pos: &mut [f64]| {
        for layer in layers {
            for (i, &n) in layer.iter().enumerate() {
                pos[n] = i as f64;
            }
        }
    };
    index(layers, &mut pos);
    let mut best = (crossings(layers, down, &pos), layers.to_vec());
    for _ in 0..ORDER_SWEEPS {
        for layer in layers.iter_mut().skip(1) {
            sort_by_barycenter(layer, up, &mut pos);
        }
        for layer in layers.iter_mut().rev().skip(1) {
            sort_by_barycenter(layer, down, &mut pos);
        }
        index(layers, &mut pos);
        let c = crossings(layers, down, &pos);
        if c < best.0 {
            best = (c, layers.to_vec());
        }
    }
    layers.clone_from_slice(&best.1);
}

/// Sorts `layer` by the mean position of each node's `neighbours` (a node without any
/// keeps its own position as key) and renumbers it.
fn sort_by_barycenter(layer: &mut [usize], neighbours: &[Vec<usize>], pos: &mut [f64]) {
    let key = |n: usize| {
        let ns = &neighbours[n];
        if ns.is_empty() {
            pos[n]
        } else {
            ns.iter().map(|&m| pos[m]).sum::<f64>() / ns.len() as f64
        }
    };
    let mut keyed: Vec<(f64, f64, usize)> = layer.iter().map(|&n| (key(n), pos[n], n)).collect();
    keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    for (i, (_, _, n)) in keyed.into_iter().enumerate() {
        layer[i] = n;
        pos[n] = i as f64;
    }
}

/// Pairs of segments that cross between adjacent layers.
pub(super) fn crossings(layers: &[Vec<usize>], down: &[Vec<usize>], pos: &[f64]) -> usize {
    let mut total = 0;
    for layer in layers {
        let segments: Vec<(f64, f64)> = layer
            .iter()
            .flat_map(|&a| down[a].iter().map(move |&b| (pos[a], pos[b])))
            .collect();
        for (i, s) in segments.iter().enumerate() {
            for t in &segments[i + 1..] {
                if (s.0 - t.0) * (s.1 - t.1) < 0.0 {
                    total += 1;
                }
            }
        }
    }
    total
}

/// The centre `x` of every node.
fn coordinates(
    layers: &[Vec<usize>],
    kind: &[Kind],
    width: &[f64],
    up: &[Vec<usize>],
    down: &[Vec<usize>],
) -> Vec<f64> {
    let mut x = vec![0.0; kind.len()];
    let gaps = |layer: &[usize]| -> Vec<f64> {
        layer
            .windows(2)
            .map(|w| {
                let gap = match (kind[w[0]], kind[w[1]]) {
                    (Kind::Vertex(_), Kind::Vertex(_)) => GAP_BOXES,
                    (Kind::Bend, Kind::Bend) => GAP_BENDS,
                    _ => GAP_BOX_BEND,
                };
                (width[w[0]] + width[w[1]]) / 2.0 + gap
            })
            .collect()
    };
    let seps: Vec<Vec<f64>> = layers.iter().map(|l| gaps(l)).collect();
    // Start with each layer packed and centred on 0.
    for (layer, sep) in layers.iter().zip(&seps) {
        let total: f64 = sep.iter().sum();
        let mut at = -total / 2.0;
        for (i, &n) in layer.iter().enumerate() {
            x[n] = at;
            at += sep.get(i).copied().unwrap_or(0.0);
        }
    }
    let settle = |l: usize, neighbours: &[Vec<usize>], x: &mut Vec<f64>| {
        let want: Vec<f64> = layers[l]
            .iter()
            .map(|&n| {
                let ns = &neighbours[n];
                if ns.is_empty() {
                    x[n]
                } else {
                    ns.iter().map(|&m| x[m]).sum::<f64>() / ns.len() as f64
                }
            })
            .collect();
        for (&n, p) in layers[l].iter().zip(place(&want, &seps[l])) {
            x[n] = p;
        }
    };
    for _ in 0..PLACE_PASSES {
        for l in 1..layers.len() {
            settle(l, up, &mut x);
        }
        for l in (0..layers.len().saturating_sub(1)).rev() {
            settle(l, down, &mut x);
        }
    }
    x
}

/// The positions closest to `want` (least squares) with `x[i + 1] - x[i] >= sep[i]`.
///
/// With `o_i = sep[0] + … + sep[i - 1]`, the constraint says `x_i - o_i` never decreases,
/// so the answer is the isotonic regression of `want_i - o_i` (pool adjacent violators)
/// shifted back by `o_i`.
pub(super) fn place(want: &[f64], sep: &[f64]) -> Vec<f64> {
    let offsets: Vec<f64> = std::iter::once(0.0)
        .chain(sep.iter().scan(0.0, |o, s| {
            *o += s;
            Some(*o)
        }))
        .take(want.len())
        .collect();
    // Blocks of pooled values: (sum, count).
    let mut blocks: Vec<(f64, usize)> = Vec::with_capacity(want.len());
    for (w, o) in want.iter().zip(&offsets) {
        blocks.push((w - o, 1));
        while let [.., (s0, c0), (s1, c1)] = blocks[..] {
            if s0 / c0 as f64 <= s1 / c1 as f64 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().expect("two blocks were there") = (s0 + s1, c0 + c1);
        }
    }
    blocks
        .iter()
        .flat_map(|&(s, c)| std::iter::repeat_n(s / c as f64, c))
        .zip(&offsets)
        .map(|(y, o)| y + o)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn place_keeps_order_and_gaps_and_is_otherwise_free() {
        // Far apart: every node gets its wish.
        assert_eq!(place(&[0.0, 100.0], &[10.0]), [0.0, 100.0]);
        // Two nodes wanting the same spot split the difference around it.
        assert_eq!(place(&[50.0, 50.0], &[10.0]), [45.0, 55.0]);
        // Out of order wishes are pooled: the mean of (10, 0 - 10) is 0.
        let p = place(&[10.0, 0.0, 100.0], &[10.0, 10.0]);
        assert_eq!(p, [0.0, 10.0, 100.0]);
        assert!(place(&[], &[]).is_empty());
    }

    #[test]
    fn crossings_count_swapped_segment_pairs() {
        // Layer 0: nodes 0, 1; layer 1: nodes 2, 3. Edges 0 -> 3 and 1 -> 2 cross once.
        let layers = vec![vec![0, 1], vec![2, 3]];
        let down = vec![vec![3], vec![2], vec![], vec![]];
        let pos = [0.0, 1.0, 0.0, 1.0];
        assert_eq!(crossings(&layers, &down, &pos), 1);
        let down = vec![vec![2], vec![3], vec![], vec![]];
        assert_eq!(crossings(&layers, &down, &pos), 0);
    }
}
