//! Datasets: what the networks are trained and tested on.
//!
//! A [`Dataset`] holds `n` samples, inputs row-major `[n][input_dim]` in `f32`, and either
//! regression targets or class labels ([`Targets`]). The engine reads batches
//! feature-major (`[input_dim][batch]`) through [`Dataset::gather_inputs`] and
//! [`Dataset::gather_targets`], matching its neuron-major, batch-minor activations.
//!
//! Sources, each a loader returning [`crate::Result`]`<Dataset>` with errors that name the
//! file, line and column (or array element) of bad data:
//!
//! - [`load_csv`]: CSV with header detection and chosen target or label columns;
//! - [`load_npy`]: NumPy `X.npy` and `y.npy`;
//! - [`load_idx`]: MNIST-style IDX files, gzipped or not;
//! - [`digits`]: the built-in 8×8 handwritten digits (1797 samples, 10 classes), compiled
//!   into the library;
//! - [`DataSource`]: the command line's `--data` string for all of the above, and the
//!   description of a witness task ([`WitnessSpec`]) for the engine to generate.
//!
//! [`Standardizer`] and [`TargetStandardizer`] rescale features and regression targets
//! with statistics fitted on the training set.
//!
//! ```
//! use sparselift::data::{digits, Standardizer};
//!
//! let (mut train, mut test) = digits();
//! let scaler = Standardizer::fit(&train);
//! scaler.apply(&mut train)?;
//! scaler.apply(&mut test)?;
//!
//! // A batch of samples 0, 5 and 9 as the engine reads it: [64 features][3 samples].
//! let mut x: Vec<f32> = Vec::new();
//! train.gather_inputs(&[0, 5, 9], &mut x);
//! assert_eq!(x.len(), 64 * 3);
//! let mut y = Vec::new();
//! train.gather_labels(&[0, 5, 9], &mut y)?;
//! assert_eq!(y, [0, 5, 9]); // the first digits of the file are 0, 1, …, 9
//! # Ok::<(), sparselift::Error>(())
//! ```

mod csv_file;
mod dataset;
mod digits;
mod gather;
mod idx;
mod npy;
mod source;
mod standardize;
mod witness;

pub use csv_file::{load_csv, parse_csv, Column, CsvOptions, CsvTarget, Header};
pub use dataset::{Dataset, Targets, MAX_CLASSES};
pub use digits::{digits, digits_all, DIGITS_SAMPLES, DIGITS_TEST};
pub use idx::{load_idx, parse_idx};
pub use npy::{load_npy, parse_npy};
pub use source::{DataSource, WitnessSpec};
pub use standardize::{Standardizer, TargetStandardizer};
