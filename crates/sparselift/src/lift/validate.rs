//! Validity of a lift (docs/semantics.md §2): `π` is a homomorphism onto the module — one fiber per
//! base vertex, one bipartite graph between the right fibers per base edge — every fiber
//! is non-empty, and every lifted non-input vertex has at least one lifted in-edge over
//! *every* base edge into its image (otherwise one of its pre-activations is an empty sum).

use super::Lift;
use crate::module::Module;
use crate::{Error, Result};

impl Lift {
    /// Checks that this is a valid lift of `module`; the error names the base vertex, the
    /// lifted vertex (its index in the fiber) and the base edge at fault.
    ///
    /// ```
    /// use sparselift::lift::{Bipartite, Lift};
    /// use sparselift::module::{Activation, ModuleBuilder, Op};
    ///
    /// let mut b = ModuleBuilder::new("pair");
    /// b.input("x", &[1]).hidden("h", &[1], Activation::Relu).output("y", &[1], Activation::Identity);
    /// b.edge("x", "h", Op::Scalar).edge("h", "y", Op::Scalar);
    /// let m = b.build()?;
    /// // Lifted vertex 1 of h receives nothing over x->h.
    /// let x_h = Bipartite::from_pairs(1, 2, &[(0, 0)])?;
    /// let h_y = Bipartite::complete(2, 1)?;
    /// let err = Lift::new(&m, vec![1, 2, 1], vec![x_h, h_y]).unwrap_err().to_string();
    /// assert!(err.contains("vertex \"h\"") && err.contains("#1") && err.contains("x->h"));
    /// # Ok::<(), sparselift::Error>(())
    /// ```
    pub fn validate(&self, module: &Module) -> Result<()> {
        if self.fibers.len() != module.vertices().len() {
            return Err(Error::invalid(
                "lift",
                format!(
                    "{} fibers for the {} vertices of module \"{}\"",
                    self.fibers.len(),
                    module.vertices().len(),
                    module.name()
                ),
            ));
        }
        if self.edges.len() != module.edges().len() {
            return Err(Error::invalid(
                "lift",
                format!(
                    "{} bipartite graphs for the {} edges of module \"{}\"",
                    self.edges.len(),
                    module.edges().len(),
                    module.name()
                ),
            ));
        }
        for (v, &n) in self.fibers.iter().enumerate() {
            if n == 0 {
                return Err(Error::invalid(
                    format!("vertex \"{}\"", module.vertex(v).name),
                    "empty fiber",
                )
                .with_hint("every base vertex needs at least one lifted vertex"));
            }
        }
        for (e, b) in module.edges().iter().zip(&self.edges) {
            let (u, v) = (module.vertex(e.from), module.vertex(e.to));
            if b.n_src() != self.fiber(e.from) || b.n_dst() != self.fiber(e.to) {
                return Err(Error::invalid(
                    format!("edge \"{}\"", e.name),
                    format!(
                        "joins fibers of sizes {} → {}, but \"{}\" has {} and \"{}\" has {}",
                        b.n_src(),
                        b.n_dst(),
                        u.name,
                        self.fiber(e.from),
                        v.name,
                        self.fiber(e.to)
                    ),
                ));
            }
            if let Some(t) = (0..b.n_dst()).find(|&t| b.in_degree(t) == 0) {
                return Err(Error::invalid(
                    format!("vertex \"{}\" #{t}", v.name),
                    format!(
                        "lifted vertex {t} of \"{}\" has no in-edge over base edge \"{}\"",
                        v.name, e.name
                    ),
                )
                .with_hint(format!(
                    "every lifted vertex needs at least one in-edge over each base edge into \"{}\": add an edge into target {t}",
                    v.name
                )));
            }
        }
        Ok(())
    }
}
