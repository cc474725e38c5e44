//! `product`: `σ(z_1, z_2) = z_1 ⊙ z_2`.

use super::{JointUnit, Unit};
use crate::Real;

/// The elementwise product of two pre-activations of the vertex's shape.
pub struct Product;

impl Unit for Product {
    const NAME: &'static str = "product";
}

impl JointUnit for Product {
    const ARITY: usize = 2;
}

impl Product {
    /// `y = z_1 ⊙ z_2`.
    pub fn forward<T: Real>(z1: &[T], z2: &[T], y: &mut [T]) {
        for ((y, &a), &c) in y.iter_mut().zip(z1).zip(z2) {
            *y = a * c;
        }
    }

    /// `∂L/∂z_1 = ∂L/∂y ⊙ z_2` and `∂L/∂z_2 = ∂L/∂y ⊙ z_1`.
    pub fn backward<T: Real>(z: [&[T]; 2], gy: &[T], gz: [&mut [T]; 2]) {
        let [g1, g2] = gz;
        for i in 0..gy.len() {
            g1[i] = gy[i] * z[1][i];
            g2[i] = gy[i] * z[0][i];
        }
    }
}
