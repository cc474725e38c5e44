//! Sampling (stub: complete-graph only, replaced by the real samplers).

use super::{Bipartite, Lift, LiftSpec};
use crate::module::{Module, Role};
use crate::Result;

pub(super) fn sample(spec: &LiftSpec, module: &Module) -> Result<Lift> {
    let fibers: Vec<u32> = module
        .vertices()
        .iter()
        .map(|v| if v.role == Role::Hidden { spec.size } else { 1 })
        .collect();
    let edges = module
        .edges()
        .iter()
        .map(|e| Bipartite::complete(fibers[e.from], fibers[e.to]))
        .collect::<Result<Vec<_>>>()?;
    Lift::new(module, fibers, edges)
}
