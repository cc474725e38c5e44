//! Size and degree statistics of a lift (docs/semantics.md §6, the part that needs no
//! engine): lifted vertices, edges, parameters, bytes of indices and of `f32` parameters,
//! and per base edge its sampler, edge count and degree spread. `Display` prints an aligned table;
//! `serde` gives the JSON of `sparselift lift --json`.
//!
//! ```
//! use sparselift::{lift::{LiftSpec, Sampler}, zoo};
//!
//! let mlp = zoo::mlp(&zoo::MlpConfig { input: 4, hidden: 2, output: 1, bias: false, ..Default::default() })?;
//! let stats = LiftSpec::new(10, Sampler::InDegree(3)).sample(&mlp)?.stats(&mlp);
//! // x->h1 is dense (4×1 weights each), h1->h2 has 3 scalar in-edges per target, h2->y is dense.
//! assert_eq!(stats.edges, 10 + 30 + 10);
//! assert_eq!(stats.params, 10 * 4 + 30 + 10);
//! let h = &stats.base_edges[1];
//! assert_eq!((h.in_degree.min, h.in_degree.max), (3, 3));
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{Bipartite, Lift};
use crate::module::Module;
use serde::Serialize;
use std::fmt;

/// Spread of the degrees over one fiber.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DegreeStats {
    /// Smallest degree.
    pub min: u64,
    /// Mean degree.
    pub mean: f64,
    /// Largest degree.
    pub max: u64,
}

/// The fiber of one base vertex.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FiberStats {
    /// The base vertex's name.
    pub vertex: String,
    /// The fiber size `n_v`.
    pub size: u64,
}

/// The lifted edges over one base edge.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EdgeStats {
    /// The base edge's name.
    pub name: String,
    /// Source base vertex.
    pub from: String,
    /// Target base vertex.
    pub to: String,
    /// The sampler that drew the edges (`explicit` for a given sparse graph).
    pub sampler: String,
    /// Number of lifted edges.
    pub edges: u64,
    /// Parameters: lifted edges × scalar weights per edge.
    pub params: u64,
    /// In-degree of the target fiber's vertices over this base edge.
    pub in_degree: DegreeStats,
    /// Out-degree of the source fiber's vertices over this base edge.
    pub out_degree: DegreeStats,
}

/// Statistics of a lift; see the [module docs](self).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LiftStats {
    /// The base module's name.
    pub module: String,
    /// Lifted vertices (sum of fiber sizes).
    pub vertices: u64,
    /// Lifted edges (sum over base edges).
    pub edges: u64,
    /// Scalar parameters: Σ lifted edges × weight entries per edge.
    pub params: u64,
    /// Bytes of the sparse index arrays (complete graphs store none).
    pub index_bytes: u64,
    /// Bytes of the parameters in `f32`.
    pub param_bytes: u64,
    /// One entry per base vertex, in declaration order.
    pub fibers: Vec<FiberStats>,
    /// One entry per base edge, in declaration order.
    pub base_edges: Vec<EdgeStats>,
}

fn degrees(n: usize, degree: impl Fn(usize) -> usize) -> DegreeStats {
    let (mut min, mut max, mut sum) = (u64::MAX, 0u64, 0u64);
    for i in 0..n {
        let d = degree(i) as u64;
        min = min.min(d);
        max = max.max(d);
        sum += d;
    }
    DegreeStats {
        min: if n == 0 { 0 } else { min },
        mean: if n == 0 { 0.0 } else { sum as f64 / n as f64 },
        max,
    }
}

impl Lift {
    /// Statistics of this lift of `module`.
    pub fn stats(&self, module: &Module) -> LiftStats {
        let base_edges: Vec<EdgeStats> = module
            .edges()
            .iter()
            .zip(&self.edges)
            .enumerate()
            .map(|(i, (e, b))| {
                let edges = b.num_edges() as u64;
                EdgeStats {
                    name: e.name.clone(),
                    from: module.vertex(e.from).name.clone(),
                    to: module.vertex(e.to).name.clone(),
                    sampler: self.sampler_name(i, b),
                    edges,
                    params: edges * e.weight_numel() as u64,
                    in_degree: degrees(b.n_dst(), |t| b.in_degree(t)),
                    out_degree: degrees(b.n_src(), |s| b.out_degree(s)),
                }
            })
            .collect();
        let params: u64 = base_edges.iter().map(|e| e.params).sum();
        LiftStats {
            module: module.name().to_string(),
            vertices: self.num_vertices(),
            edges: self.num_edges(),
            params,
            index_bytes: self.edges.iter().map(|b| b.index_bytes() as u64).sum(),
            param_bytes: 4 * params,
            fibers: module
                .vertices()
                .iter()
                .zip(&self.fibers)
                .map(|(v, &n)| FiberStats {
                    vertex: v.name.clone(),
                    size: n as u64,
                })
                .collect(),
            base_edges,
        }
    }

    fn sampler_name(&self, e: usize, b: &Bipartite) -> String {
        match self.sampler(e) {
            Some(s) => s.to_string(),
            None if b.is_complete() => "dense".into(),
            None => "explicit".into(),
        }
    }
}

/// `1234567` → `1,234,567`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let head = match digits.len() % 3 {
        0 => 3.min(digits.len()),
        r => r,
    };
    let mut out = digits[..head].to_string();
    for group in digits.as_bytes()[head..].chunks(3) {
        out.push(',');
        out.extend(group.iter().map(|&b| b as char));
    }
    out
}

fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = n as f64;
    let mut u = 0;
    while x >= 1024.0 && u + 1 < UNITS.len() {
        x /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{x:.1} {}", UNITS[u])
    }
}

fn degree_cell(d: &DegreeStats) -> String {
    if d.min == d.max {
        format!("all {}", d.min)
    } else {
        format!("{} / {:.2} / {}", d.min, d.mean, d.max)
    }
}

impl fmt::Display for LiftStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "lift of \"{}\": {} vertices, {} edges, {} parameters",
            self.module,
            grouped(self.vertices),
            grouped(self.edges),
            grouped(self.params)
        )?;
        writeln!(
            f,
            "memory: {} of indices, {} of f32 parameters",
            bytes(self.index_bytes),
            bytes(self.param_bytes)
        )?;
        let fibers: Vec<String> = self
            .fibers
            .iter()
            .map(|x| format!("{}={}", x.vertex, x.size))
            .collect();
        writeln!(f, "fibers: {}", fibers.join(" "))?;
        writeln!(f)?;
        let header = [
            "base edge",
            "sampler",
            "edges",
            "params",
            "in-degree min/mean/max",
            "out-degree min/mean/max",
        ];
        let rows: Vec<[String; 6]> = self
            .base_edges
            .iter()
            .map(|e| {
                [
                    e.name.clone(),
                    e.sampler.clone(),
                    grouped(e.edges),
                    grouped(e.params),
                    degree_cell(&e.in_degree),
                    degree_cell(&e.out_degree),
                ]
            })
            .collect();
        let mut width = header.map(|h| h.chars().count());
        for row in &rows {
            for (w, cell) in width.iter_mut().zip(row) {
                *w = (*w).max(cell.chars().count());
            }
        }
        // Names left-aligned, numbers right-aligned.
        let line = |f: &mut fmt::Formatter<'_>, cells: [&str; 6]| -> fmt::Result {
            for (i, cell) in cells.iter().enumerate() {
                let pad = width[i] - cell.chars().count();
                let sep = if i + 1 < cells.len() { "  " } else { "" };
                if i < 2 {
                    write!(f, "{cell}{}{sep}", " ".repeat(pad))?;
                } else {
                    write!(f, "{}{cell}{sep}", " ".repeat(pad))?;
                }
            }
            writeln!(f)
        };
        line(f, header)?;
        for row in &rows {
            line(f, row.each_ref().map(|s| s.as_str()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_grouped_by_thousands() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(1000), "1,000");
        assert_eq!(grouped(200_004_001), "200,004,001");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(3 << 29), "1.5 GiB");
    }
}
