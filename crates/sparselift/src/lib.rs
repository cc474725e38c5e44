//! # sparselift
//!
//! Random sparse lifts of base computation graphs (Robin, Scaman, Lelarge, "Random Sparse
//! Lifts", ICLR 2024): describe a small base [`module::Module`], [`lift`] it densely or
//! with a random sparse [`lift::Sampler`], and inspect, train and measure the result.
//!
//! ```
//! use sparselift::{lift::{LiftSpec, Sampler}, zoo};
//!
//! let mlp = zoo::mlp(&zoo::MlpConfig { input: 16, hidden: 3, output: 1, ..Default::default() })?;
//! let lift = LiftSpec::new(1000, Sampler::InDegree(10)).seed(1).sample(&mlp)?;
//! println!("{}", lift.stats(&mlp));
//! # Ok::<(), sparselift::Error>(())
//! ```

pub mod atomic;
pub mod bench;
pub mod checkpoint;
pub mod data;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod float;
pub mod lift;
pub mod module;
pub mod real;
pub mod report;
pub mod rng;
pub mod run;
pub mod train;
pub mod zoo;

pub use error::{Error, Result};
pub use real::Real;
