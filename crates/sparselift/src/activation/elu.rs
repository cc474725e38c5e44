//! `elu`: `φ(z) = z` for `z > 0`, `e^z − 1` otherwise (α = 1).
//!
//! Its derivative on the negative side, `e^z`, is `φ(z) + 1` only up to rounding, so it
//! is computed from the pre-activation, which the engine then keeps.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// The exponential linear unit with α = 1.
pub struct Elu;

impl Unit for Elu {
    const NAME: &'static str = "elu";
}

impl ElementwiseUnit for Elu {
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        if z > T::zero() {
            z
        } else {
            z.exp_m1()
        }
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        if z > T::zero() {
            T::one()
        } else {
            z.exp()
        }
    }
}
