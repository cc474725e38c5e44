//! Experiment files (TOML): one base module, one task, one method, and lift *families*
//! swept over sizes and seeds. See `examples/experiment.toml` for a complete example.
//!
//! ```
//! use sparselift::experiment::Experiment;
//!
//! let exp = Experiment::from_toml(r#"
//!     title = "Sparse vs dense"
//!     module = "zoo:mlp?input=4&hidden=1&output=1"
//!     data = "witness:m=2,n=64"
//!     method = "flow:t=100"
//!     epsilon = 1e-2
//!     delta = 0.1
//!     seeds = 4
//!
//!     [[family]]
//!     name = "sparse"
//!     sampler = "in-degree:2"
//!     sizes = [4, 8]
//! "#, "exp.toml")?;
//! assert_eq!(exp.grid().len(), 8);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::RunKey;
use crate::data::DataSource;
use crate::lift::Sampler;
use crate::real::Precision;
use crate::run::RunSpec;
use crate::train::MethodConfig;
use crate::zoo::ModuleRef;
use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// A convergence experiment (docs/semantics.md §4).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// Shown at the top of the report.
    #[serde(default)]
    pub title: String,
    /// A sentence or two on what is being tested.
    #[serde(default)]
    pub description: String,
    /// The base module: `zoo:NAME?k=v&…` or a module file (relative to the experiment
    /// file's directory).
    #[serde(with = "crate::text")]
    pub module: ModuleRef,
    /// The task: `witness:m=…,n=…` or any data source `sparselift train --data` takes.
    #[serde(with = "crate::text")]
    pub data: DataSource,
    /// The method, as for `sparselift train --method`; its target is set to `epsilon`.
    #[serde(with = "crate::text")]
    pub method: MethodConfig,
    /// Success threshold ε on the criterion (normalised MSE for regression).
    pub epsilon: f64,
    /// Failure probability δ: the learning number is the size from which the success
    /// rate's lower confidence bound stays ≥ 1 − δ.
    pub delta: f64,
    /// Number of seeds per (family, size): seeds `0..seeds` (each a new lift and init).
    pub seeds: u64,
    /// `f32` or `f64` (default `f64`, the precision the flow's theory is about).
    #[serde(default = "f64_precision")]
    pub precision: Precision,
    /// Standardise input features of data files.
    #[serde(default)]
    pub standardize: bool,
    /// The lift families.
    #[serde(rename = "family")]
    pub families: Vec<Family>,
}

fn f64_precision() -> Precision {
    Precision::F64
}

/// A lift family: a sampler swept over sizes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Family {
    /// The family's name in records, tables and plots (unique within the experiment).
    pub name: String,
    /// Sampler of every base edge (edges into or out of a size-1 fiber are dense).
    #[serde(with = "crate::text")]
    pub sampler: Sampler,
    /// Lift sizes `n`.
    pub sizes: Vec<u32>,
    /// Per-base-edge sampler overrides.
    #[serde(default, with = "crate::text::values")]
    pub edges: BTreeMap<String, Sampler>,
}

impl Experiment {
    /// Parses and validates an experiment file's text; `path` names it in errors.
    pub fn from_toml(text: &str, path: &str) -> Result<Experiment> {
        let exp: Experiment = toml::from_str(text).map_err(|e| {
            let at = e.span().map_or(0, |s| s.start).min(text.len());
            let line = text[..at].matches('\n').count() + 1;
            let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1) + 1;
            Error::Parse {
                path: path.to_string(),
                line,
                column,
                message: e.message().to_string(),
            }
        })?;
        exp.validate(path)?;
        Ok(exp)
    }

    /// Reads an experiment file; a module file it names is resolved next to it.
    pub fn load(path: &Path) -> Result<Experiment> {
        let text = crate::bounded::read_string(path, crate::bounded::Cap::EXPERIMENT)?;
        let mut exp = Experiment::from_toml(&text, &path.display().to_string())?;
        if let Some(dir) = path.parent() {
            exp.module = exp.module.relative_to(dir);
        }
        Ok(exp)
    }

    /// Checks every field before any run starts.
    pub fn validate(&self, path: &str) -> Result<()> {
        let bad = |what: String, hint: &str| Err(Error::invalid(path, what).with_hint(hint));
        if !(self.epsilon > 0.0 && self.epsilon.is_finite()) {
            return bad(
                format!("epsilon must be a positive number, got {}", self.epsilon),
                "e.g. epsilon = 1e-3",
            );
        }
        if !(self.delta > 0.0 && self.delta < 1.0) {
            return bad(
                format!("delta must lie in (0, 1), got {}", self.delta),
                "e.g. delta = 0.1",
            );
        }
        if self.seeds == 0 {
            return bad(
                "seeds = 0: every point needs at least one run".into(),
                "e.g. seeds = 12",
            );
        }
        if self.families.is_empty() {
            return bad(
                "no [[family]]".into(),
                "add a [[family]] table with name, sampler and sizes",
            );
        }
        let mut names = std::collections::HashSet::new();
        for f in &self.families {
            if !names.insert(f.name.as_str()) {
                return bad(
                    format!("two families are called \"{}\"", f.name),
                    "family names must be unique",
                );
            }
            if f.sizes.is_empty() {
                return bad(
                    format!("family \"{}\": the size list is empty", f.name),
                    "e.g. sizes = [4, 8, 16, 32]",
                );
            }
            if f.sizes.contains(&0) {
                return bad(
                    format!("family \"{}\": size 0", f.name),
                    "sizes are fiber sizes, at least 1",
                );
            }
        }
        self.method.validate()
    }

    /// The experiment as TOML, as [`Experiment::from_toml`] reads it back.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::invalid("experiment", e.to_string()))
    }

    /// Every run of the experiment, in canonical order (family, size, seed).
    pub fn grid(&self) -> Vec<RunKey> {
        let mut keys: Vec<RunKey> = self
            .families
            .iter()
            .flat_map(|f| {
                f.sizes
                    .iter()
                    .flat_map(move |&n| (0..self.seeds).map(move |s| RunKey::new(&f.name, n, s)))
            })
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// The training run behind `key`.
    pub fn run_spec(&self, key: &RunKey) -> Result<RunSpec> {
        let family = self
            .families
            .iter()
            .find(|f| f.name == key.family)
            .ok_or_else(|| Error::invalid("experiment", format!("no family \"{}\"", key.family)))?;
        let mut method = self.method.clone();
        match &mut method {
            MethodConfig::Flow(c) => c.target = self.epsilon,
            MethodConfig::Descent { descent, .. } => descent.target = self.epsilon,
        }
        Ok(RunSpec {
            module: self.module.clone(),
            data: self.data.clone(),
            standardize: self.standardize,
            size: key.size,
            sampler: family.sampler.clone(),
            edges: family.edges.clone(),
            seed: key.seed,
            method,
            precision: self.precision,
            ..RunSpec::default()
        })
    }
}
