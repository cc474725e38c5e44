//! Graphviz renderings of a base module and of a (small) lift.
//!
//! ```
//! use sparselift::{lift::{dot, LiftSpec, Sampler}, zoo};
//!
//! let mlp = zoo::mlp(&zoo::MlpConfig { input: 2, hidden: 2, output: 1, ..Default::default() })?;
//! assert!(dot::module_to_dot(&mlp).contains("\"h1\" -> \"h2\""));
//! let lift = LiftSpec::new(3, Sampler::KLift(1)).sample(&mlp)?;
//! let text = lift.to_dot(&mlp);
//! assert_eq!(text.matches(" -> ").count() as u64, lift.num_edges());
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::Lift;
use crate::module::{Module, Role};
use std::fmt::Write;

/// A few distinct colours, one per base edge (cycled).
const COLOURS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
];

fn shape_of(role: Role) -> &'static str {
    match role {
        Role::Input => "invhouse",
        Role::Constant => "point",
        Role::Hidden => "ellipse",
        Role::Output => "house",
    }
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The base module: one node per vertex (labelled with its shape and activation), one
/// edge per base edge (labelled with its op and default sampler).
pub fn module_to_dot(module: &Module) -> String {
    let mut out = format!("digraph {} {{\n  rankdir=LR;\n", quote(module.name()));
    for v in module.vertices() {
        let label = if v.is_source() {
            format!("{} {:?}", v.name, v.shape)
        } else {
            format!("{} {:?}\\n{}", v.name, v.shape, v.activation)
        };
        let _ = writeln!(
            out,
            "  {} [shape={}, label={}];",
            quote(&v.name),
            shape_of(v.role),
            quote(&label)
        );
    }
    for (i, e) in module.edges().iter().enumerate() {
        let mut label = e.op.name().to_string();
        if let Some(s) = &e.sampler {
            let _ = write!(label, "\\n{s}");
        }
        let _ = writeln!(
            out,
            "  {} -> {} [label={}, color={}];",
            quote(&module.vertex(e.from).name),
            quote(&module.vertex(e.to).name),
            quote(&label),
            quote(COLOURS[i % COLOURS.len()])
        );
    }
    out.push_str("}\n");
    out
}

impl Lift {
    /// The lift: one cluster per fiber, lifted vertex `i` of `v` named `v#i`, lifted edges
    /// coloured by their base edge. Meant for small lifts (a few hundred vertices).
    pub fn to_dot(&self, module: &Module) -> String {
        let mut out = format!(
            "digraph {} {{\n  rankdir=LR;\n",
            quote(&format!("lift of {}", module.name()))
        );
        for (v, vert) in module.vertices().iter().enumerate() {
            let _ = writeln!(
                out,
                "  subgraph {} {{\n    label={};",
                quote(&format!("cluster_{v}")),
                quote(&vert.name)
            );
            for i in 0..self.fiber(v) {
                let _ = writeln!(
                    out,
                    "    {} [shape={}];",
                    quote(&format!("{}#{i}", vert.name)),
                    shape_of(vert.role)
                );
            }
            out.push_str("  }\n");
        }
        for (e, (edge, b)) in module.edges().iter().zip(&self.edges).enumerate() {
            let (from, to) = (&module.vertex(edge.from).name, &module.vertex(edge.to).name);
            for (s, t) in b.pairs() {
                let _ = writeln!(
                    out,
                    "  {} -> {} [color={}];",
                    quote(&format!("{from}#{s}")),
                    quote(&format!("{to}#{t}")),
                    quote(COLOURS[e % COLOURS.len()])
                );
            }
        }
        out.push_str("}\n");
        out
    }
}
