//! # sparselift
//!
//! Random sparse lifts of base computation graphs (Robin, Scaman, Lelarge, "Random Sparse
//! Lifts", ICLR 2024): describe a small base [`module::Module`], [`lift`] it densely or
//! with a random sparse [`lift::Sampler`], and inspect, train and measure the result.
//!
//! The whole job from Rust — base module, lift, training, evaluation — with the
//! [`prelude`]:
//!
//! ```
//! use sparselift::prelude::*;
//!
//! // The base module: 64 pixels → two scalar hidden vertices → 10 class logits.
//! let module = mlp(&MlpConfig { input: 64, hidden: 2, output: 10, ..Default::default() })?;
//! // Its random sparse lift: two hidden layers of 64 neurons, each neuron of the second
//! // reading 16 random neurons of the first (edges touching the size-1 input and output
//! // fibers stay dense).
//! let lift = LiftSpec::new(64, Sampler::InDegree(16)).seed(1).sample(&module)?;
//! println!("{}", lift.stats(&module));
//! let network = Network::new(module, lift)?;
//!
//! // Adam on the built-in digits, in memory; θ(0) from seed 0.
//! let (train_set, test_set) = digits();
//! let method: MethodConfig = "adam:lr=1e-2,batch=32,epochs=3".parse()?;
//! let trained = train::<f32>(network, &train_set, &method, 0, None)?;
//! assert!(trained.outcome.train.loss < trained.outcome.records[0].loss / 10.0);
//!
//! // Scored on the held-out digits.
//! let accuracy = trained.evaluate(&test_set)?.accuracy.unwrap();
//! assert!(accuracy > 0.9, "{accuracy}");
//! # Ok::<(), sparselift::Error>(())
//! ```
//!
//! `examples/train_digits.rs` is a longer version of the same job, with progress.

#![warn(missing_docs)]

pub mod activation;
pub mod atomic;
pub mod bench;
pub mod bounded;
pub mod budget;
pub mod checkpoint;
pub mod data;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod float;
pub mod lift;
pub mod module;
pub mod op;
pub mod prelude;
pub mod real;
pub mod report;
pub mod rng;
pub mod run;
mod simd;
mod text;
pub mod train;
pub mod zoo;

pub use error::{Error, Result};
pub use real::Real;
