//! `silu` (swish): `φ(z) = z σ(z)` with `σ` the logistic sigmoid,
//! `φ'(z) = σ(z) (1 + z (1 − σ(z)))`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// The sigmoid-weighted linear unit.
pub struct Silu;

impl Unit for Silu {
    const NAME: &'static str = "silu";
}

impl ElementwiseUnit for Silu {
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        z / (T::one() + (-z).exp())
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        let one = T::one();
        let s = one / (one + (-z).exp());
        s * (one + z * (one - s))
    }
}
