//! Module references: how the CLI, run specs and experiment files name a base module — a
//! file path (`.toml`/`.json`) or a zoo entry with settings, `zoo:NAME?key=value&key=value`.
//!
//! A [`ModuleRef`] is parsed once, where the user wrote it (a zoo reference is checked
//! against its entry's parameters then), and prints back as the text it was read from.
//!
//! ```
//! use sparselift::zoo::{resolve, ModuleRef};
//!
//! let m = resolve("zoo:mlp?input=16&hidden=3&output=1")?;
//! assert_eq!((m.input_dim(), m.output_dim()), (16, 1));
//! assert!(resolve("zoo:nope").is_err());
//!
//! let r: ModuleRef = "zoo:mlp?input=16&output=1".parse()?;
//! assert_eq!(r.to_string(), "zoo:mlp?input=16&output=1");
//! assert!("zoo:mlp?hiden=2".parse::<ModuleRef>().is_err()); // checked when parsed
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{entry, Entry, ENTRIES};
use crate::module::Module;
use crate::{Error, Result};
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The module named by `reference`: `zoo:NAME[?key=value&…]` or a module file.
pub fn resolve(reference: &str) -> Result<Module> {
    reference.parse::<ModuleRef>()?.resolve()
}

/// A base module by name: a zoo entry with its settings, or a module file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModuleRef {
    /// `zoo:NAME?key=value&…`: a built-in module and the settings given to it, in the
    /// order given (a bare `key` is the switch `key=true`).
    Zoo {
        /// The entry's name.
        name: String,
        /// `(parameter, value)` pairs as text.
        settings: Vec<(String, String)>,
    },
    /// A module file (`.toml` or `.json`), read when the module is resolved.
    File(PathBuf),
}

impl ModuleRef {
    /// The module itself: the zoo entry built, or the file loaded and validated.
    pub fn resolve(&self) -> Result<Module> {
        match self {
            ModuleRef::Zoo { name, settings } => {
                let given: Vec<(&str, &str)> = settings
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                zoo_entry(name, &self.to_string())?.build(&given)
            }
            ModuleRef::File(path) => Module::load(path),
        }
    }

    /// The same reference with a relative file path taken relative to `dir` (as an
    /// experiment file names a module file next to it); zoo references are unchanged.
    pub fn relative_to(self, dir: &Path) -> ModuleRef {
        match self {
            ModuleRef::File(path) if path.is_relative() => ModuleRef::File(dir.join(path)),
            other => other,
        }
    }
}

fn zoo_entry(name: &str, reference: &str) -> Result<&'static Entry> {
    entry(name).ok_or_else(|| {
        let names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        Error::invalid(
            format!("module \"{reference}\""),
            format!("no zoo entry \"{name}\""),
        )
        .with_hint(format!(
            "the zoo has: {} (see `sparselift zoo`)",
            names.join(", ")
        ))
    })
}

impl FromStr for ModuleRef {
    type Err = Error;

    /// Parses a reference; a zoo reference is built once, so that an unknown entry,
    /// parameter or value is an error here, where the user wrote it.
    fn from_str(reference: &str) -> Result<ModuleRef> {
        let Some(zoo_ref) = reference.strip_prefix("zoo:") else {
            if reference.trim().is_empty() {
                return Err(
                    Error::invalid("module", "empty module reference").with_hint(
                        "give a module file (.toml or .json) or zoo:NAME (see `sparselift zoo`)",
                    ),
                );
            }
            return Ok(ModuleRef::File(PathBuf::from(reference)));
        };
        let (name, query) = zoo_ref.split_once('?').unwrap_or((zoo_ref, ""));
        let settings: Vec<(String, String)> = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (key, value) = pair.split_once('=').unwrap_or((pair, "true"));
                (key.to_string(), value.to_string())
            })
            .collect();
        if let Some(key) = crate::text::repeated(settings.iter().map(|(k, _)| k.as_str())) {
            return Err(Error::invalid(
                format!("zoo:{name}"),
                format!("parameter \"{key}\" is given twice"),
            )
            .with_hint("give each parameter once"));
        }
        let parsed = ModuleRef::Zoo {
            name: name.to_string(),
            settings,
        };
        parsed.resolve()?;
        Ok(parsed)
    }
}

impl fmt::Display for ModuleRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModuleRef::Zoo { name, settings } => {
                write!(f, "zoo:{name}")?;
                for (i, (key, value)) in settings.iter().enumerate() {
                    write!(f, "{}{key}={value}", if i == 0 { '?' } else { '&' })?;
                }
                Ok(())
            }
            // A file whose name starts with `zoo:` is written as `./zoo:…`, so that it
            // reads back as the file.
            ModuleRef::File(path) if path.to_string_lossy().starts_with("zoo:") => {
                write!(f, "./{}", path.display())
            }
            ModuleRef::File(path) => write!(f, "{}", path.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_print_back_as_they_read_with_switches_spelled_out() {
        for text in [
            "zoo:mlp",
            "zoo:mlp?input=64&hidden=2&output=10",
            "zoo:resmlp?blocks=2",
            "examples/mlp.toml",
        ] {
            let r: ModuleRef = text.parse().unwrap();
            assert_eq!(r.to_string(), text);
            assert_eq!(r.to_string().parse::<ModuleRef>().unwrap(), r);
        }
        let r: ModuleRef = "zoo:mlp?no-bias".parse().unwrap();
        assert_eq!(r.to_string(), "zoo:mlp?no-bias=true");
        assert_eq!(r.to_string().parse::<ModuleRef>().unwrap(), r);
    }

    #[test]
    fn a_file_named_like_a_zoo_reference_stays_a_file() {
        let r = ModuleRef::File("zoo:mlp".into());
        assert_eq!(r.to_string(), "./zoo:mlp");
        assert_eq!(
            r.to_string().parse::<ModuleRef>().unwrap(),
            ModuleRef::File("./zoo:mlp".into())
        );
    }

    #[test]
    fn bad_zoo_references_fail_when_parsed() {
        let e = "zoo:nope".parse::<ModuleRef>().unwrap_err().to_string();
        assert!(
            e.contains("no zoo entry \"nope\"") && e.contains("mlp"),
            "{e}"
        );
        let e = "zoo:mlp?hiden=2"
            .parse::<ModuleRef>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("unknown parameter"), "{e}");
        let e = "zoo:mlp?input=4&input=5"
            .parse::<ModuleRef>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("parameter \"input\" is given twice"), "{e}");
        assert!("".parse::<ModuleRef>().is_err());
    }

    #[test]
    fn file_references_are_taken_relative_to_a_directory() {
        let r: ModuleRef = "m.toml".parse().unwrap();
        assert_eq!(
            r.relative_to(Path::new("exp")),
            ModuleRef::File(PathBuf::from("exp/m.toml"))
        );
        let z: ModuleRef = "zoo:mlp".parse().unwrap();
        assert_eq!(z.clone().relative_to(Path::new("exp")), z);
    }
}
