//! Learning-rate schedules: the learning rate of optimiser step `k` (counted from 0) as a
//! function of the base rate.
//!
//! Written and read as short strings — `constant`, `cosine`, `cosine:5000`,
//! `cosine:5000:1e-5`, `cosine::1e-5` (over the whole run), `step:1000:0.5` — also in TOML
//! (`schedule = "step:1000:0.5"`).
//!
//! ```
//! use sparselift::train::Schedule;
//!
//! let s: Schedule = "step:100:0.5".parse()?;
//! assert_eq!(s.lr(0.1, 99), 0.1);
//! assert_eq!(s.lr(0.1, 100), 0.05);
//! let c = Schedule::parse("cosine:1000")?;
//! assert_eq!(c.lr(0.1, 500), 0.05); // halfway down to min_lr = 0
//! # Ok::<(), sparselift::Error>(())
//! ```

use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;

/// How the learning rate changes with the step count.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Schedule {
    /// The base rate throughout.
    #[default]
    Constant,
    /// Half a cosine from the base rate down to `min_lr` over `total_steps`, then
    /// `min_lr`. Without `total_steps` the training loop uses the length of the whole run
    /// (see [`Schedule::with_total_steps`]); until then the rate is the base rate.
    Cosine {
        /// Length of the decay, in steps.
        total_steps: Option<u64>,
        /// Final rate (absolute, not a fraction of the base).
        min_lr: f64,
    },
    /// Multiply by `gamma` every `every` steps.
    Step {
        /// Steps between decays.
        every: u64,
        /// Decay factor.
        gamma: f64,
    },
}

impl Schedule {
    /// The learning rate of step `step` (0-based) for base rate `base`.
    pub fn lr(&self, base: f64, step: u64) -> f64 {
        match *self {
            Schedule::Constant
            | Schedule::Cosine {
                total_steps: None, ..
            } => base,
            Schedule::Cosine {
                total_steps: Some(total),
                min_lr,
            } => {
                let progress = step.min(total) as f64 / total.max(1) as f64;
                min_lr + (base - min_lr) * 0.5 * (1.0 + (PI * progress).cos())
            }
            Schedule::Step { every, gamma } => {
                let decays = i32::try_from(step / every.max(1)).unwrap_or(i32::MAX);
                base * gamma.powi(decays)
            }
        }
    }

    /// Fills in the decay length of a cosine schedule given without one.
    pub fn with_total_steps(self, total: u64) -> Self {
        match self {
            Schedule::Cosine {
                total_steps: None,
                min_lr,
            } => Schedule::Cosine {
                total_steps: Some(total),
                min_lr,
            },
            other => other,
        }
    }

    /// Parses `constant`, `cosine[:TOTAL[:MIN_LR]]` (an empty `TOTAL` means the whole run)
    /// or `step:EVERY:GAMMA`.
    pub fn parse(text: &str) -> Result<Schedule> {
        let parts: Vec<&str> = text.trim().split(':').map(str::trim).collect();
        let err = |msg: String| {
            Error::invalid("schedule", msg)
                .with_hint("expected constant, cosine, cosine:TOTAL, cosine:TOTAL:MIN_LR or step:EVERY:GAMMA, e.g. step:1000:0.5")
        };
        let int = |s: &str, what: &str| -> Result<u64> {
            s.parse::<u64>()
                .ok()
                .filter(|&k| k >= 1)
                .ok_or_else(|| err(format!("{what} must be a whole number ≥ 1, got \"{s}\"")))
        };
        let real = |s: &str, what: &str| -> Result<f64> {
            s.parse::<f64>()
                .ok()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| err(format!("{what} must be a number ≥ 0, got \"{s}\"")))
        };
        match parts.as_slice() {
            ["constant"] => Ok(Schedule::Constant),
            ["cosine"] => Ok(Schedule::Cosine {
                total_steps: None,
                min_lr: 0.0,
            }),
            ["cosine", total] => Ok(Schedule::Cosine {
                total_steps: Some(int(total, "the number of steps")?),
                min_lr: 0.0,
            }),
            ["cosine", total, min] => Ok(Schedule::Cosine {
                total_steps: match *total {
                    "" => None,
                    t => Some(int(t, "the number of steps")?),
                },
                min_lr: real(min, "the final learning rate")?,
            }),
            ["step", every, gamma] => Ok(Schedule::Step {
                every: int(every, "the decay interval")?,
                gamma: real(gamma, "the decay factor")?,
            }),
            _ => Err(err(format!("cannot read the schedule \"{text}\""))),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Constant => f.write_str("constant"),
            Schedule::Cosine {
                total_steps: None,
                min_lr,
            } if *min_lr == 0.0 => f.write_str("cosine"),
            Schedule::Cosine {
                total_steps,
                min_lr,
            } => {
                f.write_str("cosine:")?;
                if let Some(total) = total_steps {
                    write!(f, "{total}")?;
                }
                if *min_lr != 0.0 {
                    write!(f, ":{min_lr}")?;
                }
                Ok(())
            }
            Schedule::Step { every, gamma } => write!(f, "step:{every}:{gamma}"),
        }
    }
}

impl std::str::FromStr for Schedule {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Schedule::parse(s)
    }
}

impl TryFrom<String> for Schedule {
    type Error = Error;
    fn try_from(s: String) -> Result<Self> {
        Schedule::parse(&s)
    }
}

impl From<Schedule> for String {
    fn from(s: Schedule) -> String {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_runs_from_base_to_min() {
        let s = Schedule::parse("cosine:100:0.01").unwrap();
        assert_eq!(s.lr(1.0, 0), 1.0);
        // cos(π/2) = 0: the midpoint of base and min.
        assert!((s.lr(1.0, 50) - 0.505).abs() < 1e-15);
        assert!((s.lr(1.0, 100) - 0.01).abs() < 1e-15);
        assert!((s.lr(1.0, 10_000) - 0.01).abs() < 1e-15);
        assert!(s.lr(1.0, 30) > s.lr(1.0, 31));
    }

    #[test]
    fn open_cosine_takes_the_run_length() {
        let s = Schedule::parse("cosine").unwrap();
        assert_eq!(s.lr(0.3, 7), 0.3);
        let s = s.with_total_steps(10);
        assert!((s.lr(0.3, 5) - 0.15).abs() < 1e-15);
        assert_eq!(Schedule::Constant.with_total_steps(10), Schedule::Constant);
    }

    #[test]
    fn step_decays_geometrically() {
        let s = Schedule::parse("step:1000:0.5").unwrap();
        assert_eq!(s.lr(0.8, 999), 0.8);
        assert_eq!(s.lr(0.8, 1000), 0.4);
        assert_eq!(s.lr(0.8, 3500), 0.1);
        assert_eq!(Schedule::Constant.lr(0.8, 1 << 40), 0.8);
    }

    #[test]
    fn strings_round_trip() {
        for text in [
            "constant",
            "cosine",
            "cosine:500",
            "cosine:500:0.001",
            "cosine::0.001",
            "step:10:0.1",
        ] {
            assert_eq!(Schedule::parse(text).unwrap().to_string(), text);
        }
        #[derive(Serialize, Deserialize)]
        struct T {
            schedule: Schedule,
        }
        let t: T = toml::from_str("schedule = \"step:10:0.5\"").unwrap();
        assert_eq!(
            t.schedule,
            Schedule::Step {
                every: 10,
                gamma: 0.5
            }
        );
        assert_eq!(
            toml::to_string(&t).unwrap().trim(),
            "schedule = \"step:10:0.5\""
        );
    }

    #[test]
    fn bad_strings_are_explained() {
        let err = Schedule::parse("step:0:0.5").unwrap_err().to_string();
        assert!(err.contains("≥ 1") && err.contains("hint"), "{err}");
        assert!(Schedule::parse("linear").is_err());
        assert!(Schedule::parse("step:10").is_err());
        assert!(Schedule::parse("cosine:10:-1").is_err());
    }
}
