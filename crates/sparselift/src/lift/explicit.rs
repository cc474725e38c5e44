//! Explicit lifts (stub).

/// A lift given by the user (stub).
pub struct ExplicitLift;

/// Reads an edge list (stub).
pub fn read_edge_list(_path: &std::path::Path) -> crate::Result<Vec<(u32, u32)>> {
    Ok(Vec::new())
}
