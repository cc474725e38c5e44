//! `sigmoid`: the logistic function `φ(z) = 1 / (1 + e^{−z})`, `φ' = φ (1 − φ)`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// The logistic sigmoid.
pub struct Sigmoid;

impl Unit for Sigmoid {
    const NAME: &'static str = "sigmoid";
}

impl ElementwiseUnit for Sigmoid {
    // dphi computes σ(z) exactly as phi does, so y (1 − y) is the same bits.
    const FROM_OUTPUT: bool = true;
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        T::one() / (T::one() + (-z).exp())
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        let s = T::one() / (T::one() + (-z).exp());
        s * (T::one() - s)
    }
    #[inline(always)]
    fn dphi_from_output<T: Real>(y: T) -> T {
        y * (T::one() - y)
    }
}
