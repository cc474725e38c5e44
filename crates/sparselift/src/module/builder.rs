//! A Rust builder for base modules: sugar over [`ModuleSpec`], validated by the same code
//! as module files.

use super::Sampler;
use super::{Activation, EdgeSpec, Module, ModuleSpec, Op, Role, VertexSpec};
use crate::Result;

/// Builds a [`Module`] vertex by vertex and edge by edge; see the [module docs](super).
#[derive(Clone, Debug, Default)]
pub struct ModuleBuilder {
    spec: ModuleSpec,
}

impl ModuleBuilder {
    /// An empty module called `name`.
    pub fn new(name: &str) -> Self {
        ModuleBuilder {
            spec: ModuleSpec {
                name: name.to_string(),
                ..Default::default()
            },
        }
    }

    fn vertex(
        &mut self,
        name: &str,
        role: Role,
        shape: &[usize],
        act: Option<Activation>,
    ) -> &mut Self {
        self.spec.vertices.push(VertexSpec {
            name: name.to_string(),
            role,
            shape: Some(shape.to_vec()),
            activation: act.map(|a| a.name().to_string()),
            fiber: None,
        });
        self
    }

    /// An input vertex of the given shape.
    pub fn input(&mut self, name: &str, shape: &[usize]) -> &mut Self {
        self.vertex(name, Role::Input, shape, None)
    }
    /// The constant-1 vertex that biases come from.
    pub fn constant(&mut self, name: &str) -> &mut Self {
        self.vertex(name, Role::Constant, &[1], None)
    }
    /// A hidden vertex.
    pub fn hidden(&mut self, name: &str, shape: &[usize], act: Activation) -> &mut Self {
        self.vertex(name, Role::Hidden, shape, Some(act))
    }
    /// An output vertex.
    pub fn output(&mut self, name: &str, shape: &[usize], act: Activation) -> &mut Self {
        self.vertex(name, Role::Output, shape, Some(act))
    }

    /// Pins the fiber size of the last vertex added: lifts give it `size` copies whatever
    /// their size (e.g. 1 for a residual stream that is not lifted).
    pub fn fiber(&mut self, size: u32) -> &mut Self {
        if let Some(v) = self.spec.vertices.last_mut() {
            v.fiber = Some(size);
        }
        self
    }

    /// An edge `from → to` with the given op (the next slot of `to`).
    pub fn edge(&mut self, from: &str, to: &str, op: Op) -> &mut Self {
        let kernel = op.kernel_size().map(<[usize]>::to_vec);
        self.spec.edges.push(EdgeSpec {
            from: from.to_string(),
            to: to.to_string(),
            op: op.name().to_string(),
            name: None,
            out: None,
            kernel,
            sampler: None,
        });
        self
    }

    /// Sets the output size of the last edge added (a `linear` edge).
    pub fn out(&mut self, out: usize) -> &mut Self {
        if let Some(e) = self.spec.edges.last_mut() {
            e.out = Some(out);
        }
        self
    }

    /// Names the last edge added.
    pub fn named(&mut self, name: &str) -> &mut Self {
        if let Some(e) = self.spec.edges.last_mut() {
            e.name = Some(name.to_string());
        }
        self
    }

    /// Sets the default sampler of the last edge added.
    pub fn sampler(&mut self, sampler: &Sampler) -> &mut Self {
        if let Some(e) = self.spec.edges.last_mut() {
            e.sampler = Some(sampler.to_string());
        }
        self
    }

    /// The spec built so far.
    pub fn spec(&self) -> &ModuleSpec {
        &self.spec
    }

    /// Validates and builds the module.
    pub fn build(&self) -> Result<Module> {
        self.spec.build()
    }
}
