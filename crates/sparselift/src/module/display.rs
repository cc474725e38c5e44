//! Rendering a module back to its file form: `Display` prints TOML that loads back to an
//! equal module.

use super::validate::default_edge_name;
use super::{EdgeSpec, Module, ModuleSpec, Role, VertexSpec};
use crate::module::{Activation, Op};
use std::collections::HashMap;

impl Module {
    /// The spec that describes this module (every default spelled out).
    pub fn to_spec(&self) -> ModuleSpec {
        let vertices = self
            .vertices
            .iter()
            .map(|v| VertexSpec {
                name: v.name.clone(),
                role: v.role,
                shape: (v.role != Role::Constant).then(|| v.shape.clone()),
                activation: (!v.is_source() && v.activation != Activation::Identity)
                    .then(|| v.activation.name().to_string()),
                fiber: v.fiber,
            })
            .collect();
        // A name is written only when loading would not regenerate it: unnamed edges get
        // `from->to`, `from->to#2`, … counted over the *unnamed* parallel edges, so the
        // count here follows the edges written without a name.
        let mut unnamed: HashMap<(usize, usize), usize> = HashMap::new();
        let edges = self
            .edges
            .iter()
            .map(|e| {
                let (from, to) = (&self.vertices[e.from].name, &self.vertices[e.to].name);
                let k = unnamed.get(&(e.from, e.to)).copied().unwrap_or(0) + 1;
                let implied = e.name == default_edge_name(from, to, k);
                if implied {
                    unnamed.insert((e.from, e.to), k);
                }
                EdgeSpec {
                    from: from.clone(),
                    to: to.clone(),
                    op: e.op.name().to_string(),
                    name: (!implied).then(|| e.name.clone()),
                    out: matches!(e.op, Op::Linear | Op::Readout).then(|| e.weight_shape[0]),
                    kernel: e.op.kernel_size().map(<[usize]>::to_vec),
                    sampler: e.sampler.as_ref().map(|s| s.to_string()),
                }
            })
            .collect();
        ModuleSpec {
            name: self.name.clone(),
            vertices,
            edges,
            origin: None,
        }
    }
}

impl std::fmt::Display for Module {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = toml::to_string(&self.to_spec()).map_err(|_| std::fmt::Error)?;
        f.write_str(&text)
    }
}
