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
//! assert_eq!(exp.grid()?.len(), 8);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::RunKey;
use crate::data::DataSource;
use crate::lift::Sampler;
use crate::real::Precision;
use crate::run::RunSpec;
use crate::train::MethodConfig;
use crate::zoo::ModuleRef;
use crate::{budget, Error, Result};
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

/// Most runs one experiment may have: far more than any sweep finishes, and few enough
/// that the grid's keys (40 bytes each, plus the family's name) fit in a few hundred MiB.
pub const MAX_RUNS: u64 = 10_000_000;

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
        self.method.validate()?;
        self.check_grid().map_err(|e| match e {
            Error::Invalid { message, hint, .. } => Error::Invalid {
                at: path.to_string(),
                message,
                hint,
            },
            other => other,
        })
    }

    /// Fails when the grid of runs is larger than [`MAX_RUNS`] or its keys would not fit
    /// in memory; every count is checked arithmetic.
    fn check_grid(&self) -> Result<()> {
        let (mut runs, mut bytes) = (Some(0u64), 0u64);
        for f in &self.families {
            let sizes = f
                .sizes
                .iter()
                .collect::<std::collections::BTreeSet<_>>()
                .len();
            let here = (sizes as u64).checked_mul(self.seeds);
            runs = runs.zip(here).and_then(|(a, b)| a.checked_add(b));
            let key = (std::mem::size_of::<RunKey>() + f.name.len()) as u64;
            bytes = bytes.saturating_add(budget::bytes(here.unwrap_or(u64::MAX), key));
        }
        let hint = "use fewer seeds or sizes, or split the experiment into several";
        match runs {
            Some(n) if n <= MAX_RUNS => {}
            _ => {
                let count = runs.map_or("2^64 or more".into(), |n| n.to_string());
                return Err(Error::invalid(
                    "experiment",
                    format!(
                        "{count} runs (distinct sizes × seeds, over all families), more than the limit of {MAX_RUNS} runs per experiment"
                    ),
                )
                .with_hint(hint));
            }
        }
        // The grid, and a shard's sorted copy of it.
        let mut e = budget::Estimate::default();
        e.add("the grid of runs", bytes.saturating_mul(2));
        e.check("experiment", hint)
    }

    /// The experiment as TOML, as [`Experiment::from_toml`] reads it back.
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string(self).map_err(|e| Error::invalid("experiment", e.to_string()))
    }

    /// Every run of the experiment, in canonical order (family, size, seed); an error when
    /// there are more than [`MAX_RUNS`] (an experiment built in code rather than read
    /// with [`Experiment::from_toml`] is checked here).
    pub fn grid(&self) -> Result<Vec<RunKey>> {
        self.check_grid()?;
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
        Ok(keys)
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

#[cfg(test)]
mod tests {
    use super::*;

    fn experiment(seeds: &str, sizes: &str) -> String {
        format!(
            r#"
            module = "zoo:mlp?input=4&hidden=1&output=1"
            data = "witness:m=2,n=16"
            method = "flow:t=10"
            epsilon = 1e-2
            delta = 0.1
            seeds = {seeds}

            [[family]]
            name = "sparse"
            sampler = "in-degree:2"
            sizes = {sizes}
            "#
        )
    }

    #[test]
    fn a_grid_past_the_run_limit_is_refused_before_it_is_built() {
        let e = Experiment::from_toml(&experiment("1000000000", "[4, 8]"), "exp.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("exp.toml") && e.contains("2000000000 runs") && e.contains("10000000"),
            "{e}"
        );
        // Sizes × seeds past 2^64 is not an overflow.
        let e = Experiment::from_toml(&experiment(&u64::MAX.to_string(), "[4, 8]"), "exp.toml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("2^64 or more runs") && e.contains("fewer seeds"),
            "{e}"
        );
        // Repeated sizes are one point of the grid.
        let exp = Experiment::from_toml(&experiment("5000000", "[4, 4, 4]"), "exp.toml").unwrap();
        assert!(exp.check_grid().is_ok());
        // An experiment changed in code is checked when its grid is asked for.
        let mut exp = exp;
        exp.seeds = MAX_RUNS + 1;
        match exp.grid() {
            Ok(keys) => panic!("a grid of {} runs", keys.len()),
            Err(e) => assert!(e.to_string().contains("more than the limit"), "{e}"),
        }
    }
}
