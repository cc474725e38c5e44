//! Built-in base modules. Each is an ordinary [`Module`]: print it with `{}` to get its
//! TOML, edit it, load it back.
//!
//! Every entry is also listed in [`ENTRIES`] with its parameters, which is all the command
//! line needs: `sparselift zoo` lists the entries and `sparselift zoo NAME --param value`
//! builds one, with no per-entry code in the CLI. Adding an entry is one line in
//! [`ENTRIES`] (plus its own file with the builder function, its [`Param`] list and its
//! `ENTRY`).
//!
//! ```
//! use sparselift::zoo;
//!
//! let m = zoo::mlp(&zoo::MlpConfig { input: 64, hidden: 2, output: 10, ..Default::default() })?;
//! assert_eq!(m.input_dim(), 64);
//! assert_eq!(m.output_dim(), 10);
//!
//! // The same module through the registry, as `sparselift zoo mlp --input 64 --output 10`.
//! let entry = zoo::entry("mlp").unwrap();
//! assert_eq!(entry.build(&[("input", "64"), ("output", "10")])?, m);
//! # Ok::<(), sparselift::Error>(())
//! ```

mod attention;
mod cnn;
mod mixer;
mod mlp;
mod reference;
mod resmlp;
mod transformer;

pub use attention::{attention, AttentionConfig};
pub use cnn::{cnn, CnnConfig};
pub use mixer::{mixer, MixerConfig};
pub use mlp::{mlp, MlpConfig};
pub use reference::{resolve, ModuleRef};
pub use resmlp::{resmlp, ResMlpConfig};
pub use transformer::{transformer, TransformerConfig};

use crate::module::{Activation, Module, MAX_NUMEL};
use crate::{Error, Result};

/// The built-in modules, in the order `sparselift zoo` lists them. Each file of the zoo
/// declares its own `ENTRY` (name, description, parameters, builder) next to its code.
pub const ENTRIES: &[Entry] = &[
    mlp::ENTRY,
    resmlp::ENTRY,
    cnn::ENTRY,
    attention::ENTRY,
    mixer::ENTRY,
    transformer::ENTRY,
];

/// Most layers or blocks a zoo module may have: deeper base graphs are a typo (and would
/// take a long time to build), not an experiment.
pub const MAX_DEPTH: usize = 1000;

/// The zoo entry called `name`.
pub fn entry(name: &str) -> Option<&'static Entry> {
    ENTRIES.iter().find(|e| e.name == name)
}

/// One built-in module: its name, a one-line description, its parameters, and how to
/// build it from them.
#[derive(Clone, Copy, Debug)]
pub struct Entry {
    /// The name after `zoo:` and `sparselift zoo`.
    pub name: &'static str,
    /// One line for `sparselift zoo`'s list.
    pub description: &'static str,
    /// The settings the module takes, in the order they are listed.
    pub params: &'static [Param],
    build: fn(&Options) -> Result<Module>,
}

impl Entry {
    pub(crate) const fn new(
        name: &'static str,
        description: &'static str,
        params: &'static [Param],
        build: fn(&Options) -> Result<Module>,
    ) -> Entry {
        Entry {
            name,
            description,
            params,
            build,
        }
    }

    /// Builds the module from `(parameter, value)` pairs (as text, as on the command line:
    /// `("input", "16")`, `("no-bias", "true")`); parameters not given take their default.
    pub fn build(&self, given: &[(&str, &str)]) -> Result<Module> {
        let mut values: Vec<(&'static str, Value)> = self
            .params
            .iter()
            .map(|p| (p.name, p.kind.default()))
            .collect();
        for &(name, text) in given {
            let at = format!("zoo {} --{name}", self.name);
            let Some(i) = self.params.iter().position(|p| p.name == name) else {
                let known: Vec<String> = self
                    .params
                    .iter()
                    .map(|p| format!("--{}", p.name))
                    .collect();
                return Err(Error::invalid(at, "unknown parameter").with_hint(format!(
                    "{} takes {}",
                    self.name,
                    known.join(", ")
                )));
            };
            values[i].1 = self.params[i]
                .kind
                .parse(text)
                .map_err(|m| Error::invalid(at, m))?;
        }
        (self.build)(&Options {
            entry: self.name,
            values,
        })
    }
}

/// A parameter of a zoo entry: `--name VALUE`, or `--name` alone for a switch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Param {
    /// The option's name, without `--`.
    pub name: &'static str,
    /// One line of help.
    pub help: &'static str,
    /// The values it takes and its default.
    pub kind: ParamKind,
}

impl Param {
    /// A whole number in `1..=max`.
    pub const fn count(
        name: &'static str,
        default: usize,
        max: usize,
        help: &'static str,
    ) -> Param {
        Param {
            name,
            help,
            kind: ParamKind::Count { default, max },
        }
    }
    /// An elementwise activation.
    pub const fn activation(name: &'static str, default: Activation, help: &'static str) -> Param {
        Param {
            name,
            help,
            kind: ParamKind::Activation(default),
        }
    }
    /// A flag, off unless given.
    pub const fn switch(name: &'static str, help: &'static str) -> Param {
        Param {
            name,
            help,
            kind: ParamKind::Switch,
        }
    }
}

/// What values a [`Param`] takes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ParamKind {
    /// A whole number in `1..=max`.
    Count {
        /// The value when the parameter is not given.
        default: usize,
        /// The largest accepted value.
        max: usize,
    },
    /// One of the elementwise activations.
    Activation(Activation),
    /// A flag: `true` when given.
    Switch,
}

/// A dimension: at most the size of one vertex.
const MAX_DIM: usize = MAX_NUMEL;

#[derive(Clone, Copy, Debug, PartialEq)]
enum Value {
    Count(usize),
    Activation(Activation),
    Switch(bool),
}

impl ParamKind {
    /// The default, as the text the command line would show.
    pub fn default_text(&self) -> Option<String> {
        match self {
            ParamKind::Count { default, .. } => Some(default.to_string()),
            ParamKind::Activation(a) => Some(a.name().to_string()),
            ParamKind::Switch => None,
        }
    }

    /// The values accepted, for help texts.
    pub fn choices(&self) -> Vec<&'static str> {
        match self {
            ParamKind::Activation(_) => Activation::ALL
                .into_iter()
                .filter(|a| a.is_elementwise())
                .map(Activation::name)
                .collect(),
            _ => Vec::new(),
        }
    }

    fn default(&self) -> Value {
        match *self {
            ParamKind::Count { default, .. } => Value::Count(default),
            ParamKind::Activation(a) => Value::Activation(a),
            ParamKind::Switch => Value::Switch(false),
        }
    }

    fn parse(&self, text: &str) -> std::result::Result<Value, String> {
        match *self {
            ParamKind::Count { max, .. } => match text.trim().parse::<usize>() {
                Ok(n) if (1..=max).contains(&n) => Ok(Value::Count(n)),
                _ => Err(format!(
                    "expected a whole number from 1 to {max}, got \"{text}\""
                )),
            },
            ParamKind::Activation(_) => match Activation::from_name(text.trim()) {
                Some(a) if a.is_elementwise() => Ok(Value::Activation(a)),
                _ => Err(format!(
                    "expected one of {}, got \"{text}\"",
                    self.choices().join(", ")
                )),
            },
            ParamKind::Switch => match text.trim() {
                "" | "true" => Ok(Value::Switch(true)),
                "false" => Ok(Value::Switch(false)),
                _ => Err(format!(
                    "a switch takes no value (or true/false), got \"{text}\""
                )),
            },
        }
    }
}

/// The parameter values an entry's builder receives (defaults filled in).
pub(crate) struct Options {
    entry: &'static str,
    values: Vec<(&'static str, Value)>,
}

impl Options {
    fn get(&self, name: &str) -> Result<Value> {
        // Reaching the error means an entry asks for a parameter it did not declare: a
        // bug in the zoo, caught by the tests that build every entry.
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|&(_, v)| v)
            .ok_or_else(|| {
                Error::invalid(
                    format!("zoo {}", self.entry),
                    format!("no parameter --{name}"),
                )
            })
    }
    pub(crate) fn count(&self, name: &str) -> Result<usize> {
        match self.get(name)? {
            Value::Count(n) => Ok(n),
            _ => Err(Error::invalid(
                format!("zoo {}", self.entry),
                format!("--{name} is not a count"),
            )),
        }
    }
    pub(crate) fn activation(&self, name: &str) -> Result<Activation> {
        match self.get(name)? {
            Value::Activation(a) => Ok(a),
            _ => Err(Error::invalid(
                format!("zoo {}", self.entry),
                format!("--{name} is not an activation"),
            )),
        }
    }
    pub(crate) fn switch(&self, name: &str) -> Result<bool> {
        match self.get(name)? {
            Value::Switch(b) => Ok(b),
            _ => Err(Error::invalid(
                format!("zoo {}", self.entry),
                format!("--{name} is not a switch"),
            )),
        }
    }
}

/// Shared by the entries: a dimension parameter.
const fn dim(name: &'static str, default: usize, help: &'static str) -> Param {
    Param::count(name, default, MAX_DIM, help)
}

/// Shared by the entries: a depth parameter (layers, blocks).
const fn depth(name: &'static str, default: usize, help: &'static str) -> Param {
    Param::count(name, default, MAX_DEPTH, help)
}

/// Checks a depth given through the library API (the registry checks it when parsing).
fn check_depth(entry: &str, what: &str, n: usize) -> Result<()> {
    if (1..=MAX_DEPTH).contains(&n) {
        Ok(())
    } else {
        Err(Error::invalid(
            format!("zoo {entry}"),
            format!("{what} must be from 1 to {MAX_DEPTH}, got {n}"),
        )
        .with_hint(format!("pass --{what} between 1 and {MAX_DEPTH}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_builds_with_its_defaults_and_round_trips() {
        for e in ENTRIES {
            let m = e.build(&[]).unwrap();
            assert_eq!(m.name(), e.name);
            assert!(m.warnings().is_empty(), "{}: {:?}", e.name, m.warnings());
            let again = crate::module::ModuleSpec::from_toml_str(&m.to_string(), "zoo.toml")
                .unwrap()
                .build()
                .unwrap();
            assert_eq!(again, m, "{}", e.name);
        }
        let names: Vec<&str> = ENTRIES.iter().map(|e| e.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(
            names.len(),
            unique.len(),
            "duplicate entry names: {names:?}"
        );
    }

    /// Zoo modules of several configurations written as TOML and as JSON load back equal.
    #[test]
    fn configurations_round_trip_through_toml_and_json() {
        let mut modules = Vec::new();
        for hidden in [1, 3] {
            for bias in [true, false] {
                let cfg = MlpConfig {
                    hidden,
                    bias,
                    activation: Activation::Tanh,
                    ..Default::default()
                };
                modules.push(mlp(&cfg).unwrap());
                let cfg = ResMlpConfig {
                    blocks: hidden,
                    bias,
                    ..Default::default()
                };
                modules.push(resmlp(&cfg).unwrap());
            }
        }
        modules.iter().for_each(crate::module::assert_round_trips);
    }

    #[test]
    fn registry_defaults_match_the_config_defaults() {
        assert_eq!(
            entry("mlp").unwrap().build(&[]).unwrap(),
            mlp(&MlpConfig::default()).unwrap()
        );
        assert_eq!(
            entry("resmlp").unwrap().build(&[]).unwrap(),
            resmlp(&ResMlpConfig::default()).unwrap()
        );
    }

    #[test]
    fn parameters_are_parsed_and_checked() {
        let mlp_entry = entry("mlp").unwrap();
        let m = mlp_entry
            .build(&[("hidden", "3"), ("activation", "tanh"), ("no-bias", "true")])
            .unwrap();
        let want = mlp(&MlpConfig {
            hidden: 3,
            activation: Activation::Tanh,
            bias: false,
            ..Default::default()
        })
        .unwrap();
        assert_eq!(m, want);
        let msg = |given: &[(&str, &str)]| mlp_entry.build(given).unwrap_err().to_string();
        assert!(msg(&[("hidden", "0")])
            .starts_with("zoo mlp --hidden: expected a whole number from 1 to 1000, got \"0\""));
        assert!(msg(&[("hidden", "1001")]).contains("from 1 to 1000"));
        assert!(msg(&[("input", "-3")]).contains("got \"-3\""));
        assert!(msg(&[("activation", "product")]).contains("expected one of identity, relu"));
        assert!(msg(&[("depth", "2")]).contains("zoo mlp --depth: unknown parameter"));
        assert!(msg(&[("depth", "2")])
            .contains("mlp takes --input, --hidden, --output, --activation, --no-bias"));
        assert!(msg(&[("no-bias", "yes")]).contains("a switch takes no value"));
        assert!(entry("cnn9").is_none());
    }
}
