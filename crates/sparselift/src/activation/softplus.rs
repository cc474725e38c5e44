//! `softplus`: `φ(z) = log(1 + e^z)`, whose derivative is the logistic sigmoid.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// `log(1 + e^z)`, computed without overflow for large `z`.
pub struct Softplus;

impl Unit for Softplus {
    const NAME: &'static str = "softplus";
}

impl ElementwiseUnit for Softplus {
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        z.max(T::zero()) + (-z.abs()).exp().ln_1p()
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        T::one() / (T::one() + (-z).exp())
    }
}
