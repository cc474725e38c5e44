//! Lift statistics (stub).
use super::Lift;
use crate::module::Module;

/// Degree statistics (stub).
pub struct DegreeStats;
/// Per-edge statistics (stub).
pub struct EdgeStats;
/// Lift statistics (stub).
pub struct LiftStats(pub u64);

impl std::fmt::Display for LiftStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} edges", self.0)
    }
}

impl Lift {
    /// Statistics of this lift (stub).
    pub fn stats(&self, _module: &Module) -> LiftStats {
        LiftStats(self.num_edges())
    }
    pub(super) fn validate(&self, _module: &Module) -> crate::Result<()> {
        Ok(())
    }
}
