//! `identity`: `φ(z) = z`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// `φ(z) = z`; also the activation of inputs and constants (never applied to them).
pub struct Identity;

impl Unit for Identity {
    const NAME: &'static str = "identity";
}

impl ElementwiseUnit for Identity {
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        z
    }
    #[inline(always)]
    fn dphi<T: Real>(_: T) -> T {
        T::one()
    }
}
