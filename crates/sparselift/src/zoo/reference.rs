//! Module references: how the CLI and experiment files name a base module — a file path
//! (`.toml`/`.json`) or a zoo entry with settings, `zoo:NAME?key=value&key=value`.
//!
//! ```
//! use sparselift::zoo::resolve;
//!
//! let m = resolve("zoo:mlp?input=16&hidden=3&output=1")?;
//! assert_eq!((m.input_dim(), m.output_dim()), (16, 1));
//! assert!(resolve("zoo:nope").is_err());
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{entry, ENTRIES};
use crate::module::Module;
use crate::{Error, Result};

/// The module named by `reference`: `zoo:NAME[?key=value&…]` or a module file.
pub fn resolve(reference: &str) -> Result<Module> {
    let Some(zoo_ref) = reference.strip_prefix("zoo:") else {
        return Module::load(reference);
    };
    let (name, query) = zoo_ref.split_once('?').unwrap_or((zoo_ref, ""));
    let entry = entry(name).ok_or_else(|| {
        let names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        Error::invalid(
            format!("module \"{reference}\""),
            format!("no zoo entry \"{name}\""),
        )
        .with_hint(format!(
            "the zoo has: {} (see `sparselift zoo`)",
            names.join(", ")
        ))
    })?;
    let mut given = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
        given.push((key, value));
    }
    entry.build(&given)
}
