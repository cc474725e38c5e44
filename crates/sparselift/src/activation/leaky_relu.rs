//! `leaky_relu`: `φ(z) = z` for `z > 0`, `0.01 z` otherwise.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// Slope on the negative side.
const SLOPE: f64 = 0.01;

/// Leaky ReLU with slope 0.01 on the negative side.
pub struct LeakyRelu;

impl Unit for LeakyRelu {
    const NAME: &'static str = "leaky_relu";
    const GAIN: f64 = std::f64::consts::SQRT_2;
}

impl ElementwiseUnit for LeakyRelu {
    // φ' tests the sign of z, which φ keeps.
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        if z > T::zero() {
            z
        } else {
            z * T::of(SLOPE)
        }
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        if z > T::zero() {
            T::one()
        } else {
            T::of(SLOPE)
        }
    }
}
