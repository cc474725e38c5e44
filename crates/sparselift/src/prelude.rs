//! What a program needs for the whole job — base module, lift, network, data, training,
//! evaluation — in one import:
//!
//! ```
//! use sparselift::prelude::*;
//! ```
//!
//! See the [crate-level example](crate) for the job from end to end.

pub use crate::data::{digits, DataSource, Dataset, Standardizer, Targets, WitnessSpec};
pub use crate::engine::Network;
pub use crate::lift::{Lift, LiftSpec, Sampler};
pub use crate::module::{Activation, Module, ModuleBuilder, Op};
pub use crate::train::{
    train, BatchObjective, Evaluation, MethodConfig, Objective, Outcome, Progress, Status,
    Supervised, Trained, Trainer,
};
pub use crate::zoo::{mlp, resmlp, MlpConfig, ModuleRef, ResMlpConfig};
pub use crate::{Error, Real, Result};
