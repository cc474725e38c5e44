//! `gelu`: GELU in its tanh approximation,
//! `φ(z) = z (1 + tanh(√(2/π) (z + 0.044715 z³))) / 2`.

use super::{ElementwiseUnit, Unit};
use crate::Real;

/// `√(2/π)`.
const C: f64 = 0.797_884_560_802_865_4;
const A: f64 = 0.044_715;

/// GELU, tanh approximation.
pub struct Gelu;

impl Unit for Gelu {
    const NAME: &'static str = "gelu";
}

impl ElementwiseUnit for Gelu {
    #[inline(always)]
    fn phi<T: Real>(z: T) -> T {
        let u = T::of(C) * (z + T::of(A) * z * z * z);
        T::of(0.5) * z * (T::one() + u.tanh())
    }
    #[inline(always)]
    fn dphi<T: Real>(z: T) -> T {
        let one = T::one();
        let z2 = z * z;
        let u = T::of(C) * (z + T::of(A) * z2 * z);
        let t = u.tanh();
        let du = T::of(C) * (one + T::of(3.0 * A) * z2);
        T::of(0.5) * (one + t) + T::of(0.5) * z * (one - t * t) * du
    }
}
