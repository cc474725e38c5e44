//! A training method as one value: gradient flow, or a discrete optimiser with its loop
//! settings. Written as a string on the command line —
//!
//! | string | method |
//! | --- | --- |
//! | `flow:rtol=1e-8,t=1000,target=1e-4` | gradient flow ([`FlowConfig`]: `solver`, `rtol`, `atol`, `t`, `target`, `evals`, `log`, `h-min`) |
//! | `flow:solver=rkc` | gradient flow by Runge–Kutta–Chebyshev instead of Dormand–Prince ([`Solver`]), for stiff flows |
//! | `gd:lr=0.1` | full-batch gradient descent, optionally with `momentum`, `nesterov`, `wd` |
//! | `sgd:lr=0.1,batch=64,momentum=0.9,nesterov` | mini-batch SGD |
//! | `adam:lr=1e-3,batch=64` | Adam (`beta1`, `beta2`, `eps`, `wd`) |
//! | `adamw:lr=1e-3,wd=0.05` | Adam with decoupled weight decay (default `wd` 0.01) |
//!
//! where `solver` is `dopri` (Dormand–Prince 5(4), the default) or `rkc`
//! (second-order Runge–Kutta–Chebyshev with as many stages as the Hessian's spectral
//! radius needs: far fewer gradients on long stiff flows; its default `rtol` is `1e-4`,
//! see [`FlowConfig::of`]). Every discrete method takes `lr`, `batch` (a number or
//! `full`), `epochs`, `target`, `schedule` (see [`Schedule`]), `seed`, `eval-every` and
//! `divergence` — or as a table in a TOML file:
//!
//! ```
//! use sparselift::train::{MethodConfig, OptimizerConfig};
//!
//! let m: MethodConfig = "sgd:lr=0.1,batch=64,momentum=0.9,schedule=step:1000:0.5".parse()?;
//! let from_toml: MethodConfig = toml::from_str(r#"
//!     kind = "descent"
//!     lr = 0.1
//!     batch_size = 64
//!     schedule = "step:1000:0.5"
//!     optimizer = { kind = "sgd", momentum = 0.9 }
//! "#).unwrap();
//! assert_eq!(m, from_toml);
//! assert_eq!(m.to_string(), "sgd:lr=0.1,batch=64,schedule=step:1000:0.5,momentum=0.9");
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{AdamConfig, DescentConfig, FlowConfig, OptimizerConfig, Schedule, SgdConfig, Solver};
use crate::{Error, Result};
use serde::de::IgnoredAny;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::{self, Display};

/// Gradient flow or a discrete method; see the [module docs](self).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", try_from = "RawMethod")]
pub enum MethodConfig {
    /// Gradient flow.
    Flow(FlowConfig),
    /// A discrete optimiser in the mini-batch loop.
    Descent {
        /// The optimiser and its hyper-parameters.
        optimizer: OptimizerConfig,
        /// The loop's settings.
        #[serde(flatten)]
        descent: DescentConfig,
    },
}

/// What a file holds, with the keys no setting claimed: serde ignores unknown keys next
/// to a flattened struct, and a misspelt `lr` must not pass silently.
#[derive(Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum RawMethod {
    Flow(FlowConfig),
    Descent {
        optimizer: OptimizerConfig,
        #[serde(flatten)]
        descent: DescentConfig,
        #[serde(flatten)]
        unknown: BTreeMap<String, IgnoredAny>,
    },
}

impl TryFrom<RawMethod> for MethodConfig {
    type Error = String;
    fn try_from(raw: RawMethod) -> std::result::Result<Self, String> {
        match raw {
            RawMethod::Flow(c) => Ok(MethodConfig::Flow(c)),
            RawMethod::Descent {
                optimizer,
                descent,
                unknown,
            } => match unknown.keys().next() {
                Some(key) => Err(format!(
                    "unknown field `{key}` of a descent method; expected optimizer, lr, \
                     schedule, batch_size, max_epochs, target, eval_every, seed or \
                     divergence_factor"
                )),
                None => Ok(MethodConfig::Descent { optimizer, descent }),
            },
        }
    }
}

impl Default for MethodConfig {
    fn default() -> Self {
        MethodConfig::Flow(FlowConfig::default())
    }
}

impl MethodConfig {
    /// The method's short name: `flow`, `gd`, `sgd`, `adam` or `adamw`.
    pub fn name(&self) -> &'static str {
        match self {
            MethodConfig::Flow(_) => "flow",
            MethodConfig::Descent {
                optimizer: OptimizerConfig::Sgd(_),
                descent,
            } if descent.batch_size.is_none() => "gd",
            MethodConfig::Descent {
                optimizer: OptimizerConfig::Sgd(_),
                ..
            } => "sgd",
            MethodConfig::Descent {
                optimizer: OptimizerConfig::Adam(a),
                ..
            } => {
                if a.decoupled {
                    "adamw"
                } else {
                    "adam"
                }
            }
        }
    }

    /// Checks every setting.
    pub fn validate(&self) -> Result<()> {
        match self {
            MethodConfig::Flow(c) => c.validate(),
            MethodConfig::Descent { optimizer, descent } => {
                optimizer.validate()?;
                descent.validate()
            }
        }
    }

    /// Parses `NAME[:KEY=VALUE,…]` (see the [module docs](self)).
    pub fn parse(text: &str) -> Result<MethodConfig> {
        let (name, options) = text.trim().split_once(':').unwrap_or((text.trim(), ""));
        let mut options: Vec<(&str, Option<&str>)> = options
            .split(',')
            .map(str::trim)
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.trim(), Some(v.trim())),
                None => (kv, None),
            })
            .collect();
        if let Some(k) = crate::text::repeated(options.iter().map(|&(k, _)| k)) {
            return Err(
                Error::invalid("method", format!("{name}: option \"{k}\" is given twice"))
                    .with_hint("give each option once"),
            );
        }
        let method = match name {
            "flow" => MethodConfig::Flow(parse_flow(&options)?),
            "gd" | "sgd" => {
                let descent = parse_descent(name, &mut options)?;
                if name == "gd" && descent.batch_size.is_some() {
                    return Err(Error::invalid("method", "gd always uses the full batch")
                        .with_hint("for mini-batches use sgd:batch=N"));
                }
                let mut c = SgdConfig::default();
                for &(k, v) in &options {
                    match k {
                        "momentum" => c.momentum = number(name, k, v)?,
                        "nesterov" => c.nesterov = flag(name, k, v)?,
                        "wd" => c.weight_decay = number(name, k, v)?,
                        _ => return Err(unknown(name, k, SGD_KEYS)),
                    }
                }
                MethodConfig::Descent {
                    optimizer: OptimizerConfig::Sgd(c),
                    descent,
                }
            }
            "adam" | "adamw" => {
                let descent = parse_descent(name, &mut options)?;
                let mut c = if name == "adamw" {
                    AdamConfig::adamw()
                } else {
                    AdamConfig::default()
                };
                for &(k, v) in &options {
                    match k {
                        "beta1" => c.beta1 = number(name, k, v)?,
                        "beta2" => c.beta2 = number(name, k, v)?,
                        "eps" => c.eps = number(name, k, v)?,
                        "wd" => c.weight_decay = number(name, k, v)?,
                        _ => return Err(unknown(name, k, ADAM_KEYS)),
                    }
                }
                MethodConfig::Descent {
                    optimizer: OptimizerConfig::Adam(c),
                    descent,
                }
            }
            _ => {
                return Err(
                    Error::invalid("method", format!("unknown method \"{name}\"")).with_hint(
                        "expected flow, gd, sgd, adam or adamw, e.g. adam:lr=1e-3,batch=64",
                    ),
                )
            }
        };
        method.validate()?;
        Ok(method)
    }
}

const FLOW_KEYS: &str = "solver, rtol, atol, t, target, evals, log, h-min";
const DESCENT_KEYS: &str = "lr, batch, epochs, target, schedule, seed, eval-every, divergence";
const SGD_KEYS: &str = "momentum, nesterov, wd";
const ADAM_KEYS: &str = "beta1, beta2, eps, wd";

fn parse_flow(options: &[(&str, Option<&str>)]) -> Result<FlowConfig> {
    // The solver decides the defaults of the other options.
    let mut c = match options.iter().find(|&&(k, _)| k == "solver") {
        Some(&(k, v)) => FlowConfig::of(solver(value("flow", k, v)?)?),
        None => FlowConfig::default(),
    };
    for &(k, v) in options {
        match k {
            "solver" => {}
            "rtol" => c.rtol = number("flow", k, v)?,
            "atol" => c.atol = number("flow", k, v)?,
            "t" => c.t_max = number("flow", k, v)?,
            "target" => c.target = number("flow", k, v)?,
            "evals" => c.max_grad_evals = whole("flow", k, v)?,
            "log" => c.log_per_decade = whole("flow", k, v)?,
            "h-min" => c.h_min = number("flow", k, v)?,
            _ => return Err(unknown("flow", k, FLOW_KEYS)),
        }
    }
    Ok(c)
}

fn solver(v: &str) -> Result<Solver> {
    Solver::ALL
        .into_iter()
        .find(|s| s.as_str() == v)
        .ok_or_else(|| {
            Error::invalid("method", format!("flow: unknown solver \"{v}\""))
                .with_hint("solver takes dopri (Dormand–Prince 5(4), the default) or rkc (Runge–Kutta–Chebyshev, for stiff flows)")
        })
}

/// Reads the loop's keys and removes them, leaving the optimiser's.
fn parse_descent(name: &str, options: &mut Vec<(&str, Option<&str>)>) -> Result<DescentConfig> {
    let mut c = DescentConfig::default();
    let mut rest = Vec::new();
    for &(k, v) in options.iter() {
        match k {
            "lr" => c.lr = number(name, k, v)?,
            "batch" if v == Some("full") => c.batch_size = None,
            "batch" => c.batch_size = Some(whole(name, k, v)?),
            "epochs" => c.max_epochs = whole(name, k, v)?,
            "target" => c.target = number(name, k, v)?,
            "schedule" => c.schedule = Schedule::parse(value(name, k, v)?)?,
            "seed" => c.seed = whole(name, k, v)?,
            "eval-every" => c.eval_every = Some(whole(name, k, v)?),
            "divergence" => c.divergence_factor = number(name, k, v)?,
            _ => rest.push((k, v)),
        }
    }
    *options = rest;
    Ok(c)
}

fn value<'a>(name: &str, key: &str, v: Option<&'a str>) -> Result<&'a str> {
    v.ok_or_else(|| {
        Error::invalid("method", format!("{name}: option \"{key}\" needs a value"))
            .with_hint(format!("write {key}=VALUE"))
    })
}

fn number(name: &str, key: &str, v: Option<&str>) -> Result<f64> {
    let v = value(name, key, v)?;
    v.parse().map_err(|_| {
        Error::invalid(
            "method",
            format!("{name}: {key} must be a number, got \"{v}\""),
        )
    })
}

fn whole<N: std::str::FromStr>(name: &str, key: &str, v: Option<&str>) -> Result<N> {
    let v = value(name, key, v)?;
    v.parse().map_err(|_| {
        Error::invalid(
            "method",
            format!("{name}: {key} must be a whole number, got \"{v}\""),
        )
    })
}

fn flag(name: &str, key: &str, v: Option<&str>) -> Result<bool> {
    match v {
        None | Some("true") => Ok(true),
        Some("false") => Ok(false),
        Some(other) => Err(Error::invalid(
            "method",
            format!("{name}: {key} is a flag, got \"{other}\""),
        )
        .with_hint(format!("write {key}, {key}=true or {key}=false"))),
    }
}

fn unknown(name: &str, key: &str, keys: &str) -> Error {
    let known = if name == "flow" {
        keys.to_string()
    } else {
        format!("{DESCENT_KEYS}, {keys}")
    };
    Error::invalid("method", format!("{name} has no option \"{key}\""))
        .with_hint(format!("{name} takes {known}"))
}

/// Collects `key=value` for the settings that differ from the defaults.
struct Options(Vec<String>);

impl Options {
    fn add<V: PartialEq + Display>(&mut self, key: &str, value: V, default: V) {
        if value != default {
            self.0.push(format!("{key}={value}"));
        }
    }
}

impl Display for MethodConfig {
    /// The string form, with only the settings that differ from the name's defaults; it
    /// parses back to the same value.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut o = Options(Vec::new());
        match self {
            MethodConfig::Flow(c) => {
                o.add("solver", c.solver, Solver::default());
                let d = FlowConfig::of(c.solver);
                o.add("rtol", c.rtol, d.rtol);
                o.add("atol", c.atol, d.atol);
                o.add("t", c.t_max, d.t_max);
                o.add("target", c.target, d.target);
                o.add("evals", c.max_grad_evals, d.max_grad_evals);
                o.add("log", c.log_per_decade, d.log_per_decade);
                o.add("h-min", c.h_min, d.h_min);
            }
            MethodConfig::Descent { optimizer, descent } => {
                let d = DescentConfig::default();
                o.add("lr", descent.lr, d.lr);
                if let Some(b) = descent.batch_size {
                    o.0.push(format!("batch={b}"));
                }
                o.add("epochs", descent.max_epochs, d.max_epochs);
                o.add("target", descent.target, d.target);
                o.add("schedule", &descent.schedule, &d.schedule);
                o.add("seed", descent.seed, d.seed);
                if let Some(k) = descent.eval_every {
                    o.0.push(format!("eval-every={k}"));
                }
                o.add("divergence", descent.divergence_factor, d.divergence_factor);
                match optimizer {
                    OptimizerConfig::Sgd(c) => {
                        let d = SgdConfig::default();
                        o.add("momentum", c.momentum, d.momentum);
                        if c.nesterov {
                            o.0.push("nesterov".into());
                        }
                        o.add("wd", c.weight_decay, d.weight_decay);
                    }
                    OptimizerConfig::Adam(c) => {
                        let d = if c.decoupled {
                            AdamConfig::adamw()
                        } else {
                            AdamConfig::default()
                        };
                        o.add("beta1", c.beta1, d.beta1);
                        o.add("beta2", c.beta2, d.beta2);
                        o.add("eps", c.eps, d.eps);
                        o.add("wd", c.weight_decay, d.weight_decay);
                    }
                }
            }
        }
        f.write_str(self.name())?;
        if !o.0.is_empty() {
            write!(f, ":{}", o.0.join(","))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for MethodConfig {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        MethodConfig::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_set_the_right_optimiser() {
        let gd = MethodConfig::parse("gd:lr=0.5").unwrap();
        let MethodConfig::Descent { optimizer, descent } = &gd else {
            panic!("{gd:?}")
        };
        assert_eq!(optimizer, &OptimizerConfig::Sgd(SgdConfig::default()));
        assert_eq!((descent.lr, descent.batch_size), (0.5, None));
        let adamw = MethodConfig::parse("adamw").unwrap();
        let MethodConfig::Descent { optimizer, .. } = &adamw else {
            panic!("{adamw:?}")
        };
        assert_eq!(optimizer, &OptimizerConfig::Adam(AdamConfig::adamw()));
        let flow = MethodConfig::parse("flow:rtol=1e-9,t=inf,evals=1000").unwrap();
        let MethodConfig::Flow(c) = &flow else {
            panic!("{flow:?}")
        };
        assert_eq!(
            (c.rtol, c.t_max, c.max_grad_evals),
            (1e-9, f64::INFINITY, 1000)
        );
    }

    #[test]
    fn strings_round_trip() {
        for text in [
            "flow",
            "flow:rtol=0.000001234,atol=1e-12,t=inf,target=0.0001,evals=500,log=3,h-min=1e-14",
            "flow:solver=rkc",
            "flow:rtol=1e-4,solver=rkc,t=100",
            "gd",
            "gd:lr=0.3,momentum=0.9,nesterov,wd=0.0001",
            "sgd:lr=0.1,batch=64,epochs=20,target=0.01,schedule=cosine::0.001,seed=7,eval-every=50,divergence=1000",
            "adam:batch=32,beta1=0.8,beta2=0.99,eps=1e-6,wd=0.1",
            "adamw:lr=0.001,wd=0.05",
            "adamw:wd=0",
        ] {
            let m = MethodConfig::parse(text).unwrap();
            let again = MethodConfig::parse(&m.to_string()).unwrap();
            assert_eq!(again, m, "{text} → {m}");
        }
        // The written form is canonical: only non-default settings, in a fixed order.
        assert_eq!(
            MethodConfig::parse("sgd:batch=8,lr=0.01,nesterov=false")
                .unwrap()
                .to_string(),
            "sgd:batch=8"
        );
        assert_eq!(
            MethodConfig::parse("sgd:batch=full").unwrap().to_string(),
            "gd"
        );
        assert_eq!(
            MethodConfig::parse("flow:t=100,solver=rkc")
                .unwrap()
                .to_string(),
            "flow:solver=rkc,t=100"
        );
        assert_eq!(
            MethodConfig::parse("flow:solver=dopri")
                .unwrap()
                .to_string(),
            "flow"
        );
    }

    #[test]
    fn serde_forms_round_trip() {
        for text in [
            "flow:t=100",
            "flow:solver=rkc,rtol=1e-4",
            "adamw:lr=0.001,batch=16",
            "gd:nesterov,momentum=0.5",
        ] {
            let m = MethodConfig::parse(text).unwrap();
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(
                serde_json::from_str::<MethodConfig>(&json).unwrap(),
                m,
                "{json}"
            );
            let toml_text = toml::to_string(&m).unwrap();
            assert_eq!(
                toml::from_str::<MethodConfig>(&toml_text).unwrap(),
                m,
                "{toml_text}"
            );
        }
        let flow: MethodConfig = toml::from_str("kind = \"flow\"\nrtol = 1e-7").unwrap();
        assert_eq!(flow.name(), "flow");
        let rkc: MethodConfig = toml::from_str("kind = \"flow\"\nsolver = \"rkc\"").unwrap();
        assert_eq!(rkc, MethodConfig::parse("flow:solver=rkc").unwrap());
        assert!(toml::from_str::<MethodConfig>("kind = \"flow\"\nlr = 1").is_err());
        let typo = "kind = \"descent\"\nlrr = 0.1\noptimizer = { kind = \"sgd\" }";
        let err = toml::from_str::<MethodConfig>(typo)
            .unwrap_err()
            .to_string();
        assert!(err.contains("`lrr`"), "{err}");
    }

    #[test]
    fn mistakes_are_explained() {
        let err = |t: &str| MethodConfig::parse(t).unwrap_err().to_string();
        assert!(err("adam:lr=1,lr=2").contains("option \"lr\" is given twice"));
        assert!(err("flow:t=1, t=2").contains("option \"t\" is given twice"));
        assert!(err("gd:batch=10").contains("sgd:batch=N"));
        let e = err("adam:momentum=0.9");
        assert!(
            e.contains("no option \"momentum\"") && e.contains("beta1"),
            "{e}"
        );
        assert!(err("sgd:lr").contains("needs a value"));
        assert!(err("sgd:lr=fast").contains("must be a number"));
        assert!(err("sgd:nesterov").contains("momentum > 0"));
        assert!(err("sgd:batch=-3").contains("whole number"));
        assert!(err("rmsprop").contains("unknown method"));
        assert!(err("flow:rtol=0,atol=0").contains("not both 0"));
        let e = err("flow:solver=euler");
        assert!(
            e.contains("unknown solver \"euler\"") && e.contains("dopri") && e.contains("rkc"),
            "{e}"
        );
        assert!(err("flow:solver").contains("needs a value"));
        assert!(err("flow:solverr=rkc").contains("solver, rtol"));
    }
}
