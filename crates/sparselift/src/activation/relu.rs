//! `relu`: `φ(z) = max(z, 0)`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// `φ(z) = max(z, 0)`; `φ'(0) = 0`.
pub struct Relu;

impl Unit for Relu {
    const NAME: &'static str = "relu";
    const GAIN: f64 = std::f64::consts::SQRT_2;
}

impl ElementwiseUnit for Relu {
    // φ' tests the sign of z, which φ keeps.
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        z.max(T::zero())
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        if z > T::zero() {
            T::one()
        } else {
            T::zero()
        }
    }
}
