//! Convergence experiments (docs/semantics.md §4): the records of finished runs, the resumable
//! results store of a sweep, and the statistics of PAC-convergence — success rates with
//! exact intervals, loss quantiles over time, and the learning number `n*(ε, δ)`.
//!
//! This module knows nothing about training: the code that trains a lift produces a
//! [`RunRecord`], appends it to a [`store::RunStore`], and everything downstream
//! (statistics, reports) works from records alone.
//!
//! ```
//! use sparselift::experiment::{store, RunRecord, Summary};
//! use sparselift::train::StatusKind;
//!
//! let dir = std::env::temp_dir().join(format!("sparselift-doc-exp-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let runs = store::RunStore::open(&dir)?;
//! for seed in 0..10 {
//!     let mut r = RunRecord::new("mlp", 32, seed);
//!     r.status = StatusKind::Converged;
//!     (r.min_loss, r.final_loss) = (1e-4, 1e-4);
//!     runs.append(&r)?;
//! }
//! let summary = Summary::new(&store::load(&dir)?.records, 1e-3, 0.5)?;
//! assert_eq!(summary.families[0].sizes[0].successes, 10);
//! print!("{}", summary.table());
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), sparselift::Error>(())
//! ```

mod check;
pub mod record;
mod spec;
pub mod stats;
pub mod store;
pub mod summary;
pub mod sweep;
pub mod table;

pub use record::{RunKey, RunRecord};
pub use spec::{Experiment, Family, MAX_RUNS};
pub use store::RunStore;
pub use summary::{learning_number, FamilySummary, LearningNumber, SizeSummary, Summary};
pub use sweep::{sweep, SweepCounts, SweepOptions};
