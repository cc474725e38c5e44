//! `tanh`: `φ(z) = tanh z`, `φ' = 1 − φ²`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// The hyperbolic tangent.
pub struct Tanh;

impl Unit for Tanh {
    const NAME: &'static str = "tanh";
}

impl ElementwiseUnit for Tanh {
    // dphi computes tanh z exactly as phi does, so 1 − y² is the same bits.
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        z.tanh()
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        let t = z.tanh();
        T::one() - t * t
    }
    #[inline(always)]
    fn dphi_from_output<T: Real>(y: T) -> T {
        T::one() - y * y
    }
}
