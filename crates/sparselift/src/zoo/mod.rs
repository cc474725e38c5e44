//! Built-in base modules. Each is an ordinary [`Module`](crate::module::Module): print it
//! with `{}` to get its TOML, edit it, load it back.
//!
//! ```
//! use sparselift::zoo;
//! let m = zoo::mlp(&zoo::MlpConfig { input: 64, hidden: 2, output: 10, ..Default::default() }).unwrap();
//! assert_eq!(m.input_dim(), 64);
//! assert_eq!(m.output_dim(), 10);
//! ```

mod mlp;

pub use mlp::{mlp, MlpConfig};
