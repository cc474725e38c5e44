//! The floating-point types the engine computes in: `f32` by default, `f64` for gradient
//! checks and tight gradient-flow tolerances.

use std::fmt::{Debug, Display};
use std::iter::Sum;
use std::ops::{AddAssign, DivAssign, MulAssign, SubAssign};

/// A float the engine, losses and optimisers are generic over (`f32` or `f64`).
pub trait Real:
    num_traits::Float
    + num_traits::FromPrimitive
    + num_traits::ToPrimitive
    + AddAssign
    + SubAssign
    + MulAssign
    + DivAssign
    + Sum
    + Default
    + Debug
    + Display
    + Send
    + Sync
    + serde::Serialize
    + 'static
{
    /// Name used in files and messages (`"f32"` or `"f64"`).
    const NAME: &'static str;
    /// Converts from `f64` (rounding for `f32`).
    fn of(x: f64) -> Self;
    /// Converts to `f64`.
    fn f64(self) -> f64;
}

impl Real for f32 {
    const NAME: &'static str = "f32";
    fn of(x: f64) -> Self {
        x as f32
    }
    fn f64(self) -> f64 {
        self as f64
    }
}

impl Real for f64 {
    const NAME: &'static str = "f64";
    fn of(x: f64) -> Self {
        x
    }
    fn f64(self) -> f64 {
        self
    }
}

/// The precision a run computes in, named `f32` or `f64` on the command line and in files.
///
/// ```
/// use sparselift::real::Precision;
///
/// assert_eq!("f64".parse::<Precision>()?, Precision::F64);
/// assert_eq!(Precision::F32.to_string(), "f32");
/// assert!("f16".parse::<Precision>().is_err());
/// # Ok::<(), sparselift::Error>(())
/// ```
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Precision {
    /// Single precision, [`f32`]: the default, and the fast one.
    #[default]
    F32,
    /// Double precision, [`f64`].
    F64,
}

impl Precision {
    /// The name used in files and on the command line (`"f32"` or `"f64"`).
    pub fn as_str(self) -> &'static str {
        match self {
            Precision::F32 => f32::NAME,
            Precision::F64 => f64::NAME,
        }
    }
}

impl Display for Precision {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Precision {
    type Err = crate::Error;

    fn from_str(s: &str) -> crate::Result<Precision> {
        match s {
            "f32" => Ok(Precision::F32),
            "f64" => Ok(Precision::F64),
            _ => Err(
                crate::Error::invalid("precision", format!("unknown precision `{s}`"))
                    .with_hint("use f32 or f64"),
            ),
        }
    }
}
