//! The loops of `outer` and `dsoftmul` over batch vectors: sums of products of token-map
//! entries held in registers tile by tile, and the row softmax with a vectorisable `exp`.
//! Their callers run them inside their own instruction-set variants (`#[inline(always)]`),
//! since the activations are compiled for the baseline otherwise.

use crate::Real;
use std::any::TypeId;

/// `out = (Σ_n x_n ⊙ y_n) · scale` (or without `scale`) for `(x_n, y_n) = pair(n)`, batch
/// vectors as long as `out`, the sum over `n` in order from zero: what a loop of
/// elementwise products added into a zeroed `out` computes, bit for bit. A tile of 64
/// samples keeps eight AVX2 registers of independent sums instead of loading and storing
/// `out` once per term.
#[inline(always)]
pub(super) fn sum_products<'a, T: Real + 'a>(
    out: &mut [T],
    n: usize,
    pair: impl Fn(usize) -> (&'a [T], &'a [T]),
    scale: Option<T>,
) {
    let mut start = 0;
    tiles::<T, 64>(out, &mut start, n, &pair, scale);
    tiles::<T, 16>(out, &mut start, n, &pair, scale);
    tiles::<T, 1>(out, &mut start, n, &pair, scale);
}

/// The tiles of `W` samples of [`sum_products`] from `start` on, as far as they fit.
#[inline(always)]
fn tiles<'a, T: Real + 'a, const W: usize>(
    out: &mut [T],
    start: &mut usize,
    n: usize,
    pair: &impl Fn(usize) -> (&'a [T], &'a [T]),
    scale: Option<T>,
) {
    while *start + W <= out.len() {
        let s = *start;
        let mut acc = [T::zero(); W];
        for k in 0..n {
            let (x, y) = pair(k);
            let (x, y) = (&x[s..s + W], &y[s..s + W]);
            for i in 0..W {
                acc[i] += x[i] * y[i];
            }
        }
        if let Some(scale) = scale {
            for a in &mut acc {
                *a *= scale;
            }
        }
        out[s..s + W].copy_from_slice(&acc);
        *start += W;
    }
}

/// `x ⟵ exp(x)` over a slice of arguments at most 0 (a softmax's scores less their
/// maximum). For `f32` a polynomial written out, which vectorises where a call to the C
/// library's `expf` cannot: within 2 ulp of `exp`, the same bits on every instruction
/// set (no fused multiply-adds), NaN for NaN, and below `e^-87.3` the value there instead
/// of a subnormal. For `f64` (gradient checks) the library's `exp`.
#[inline(always)]
pub(super) fn exp_nonpositive<T: Real>(x: &mut [T]) {
    if TypeId::of::<T>() == TypeId::of::<f32>() {
        // SAFETY: `T` is `f32`, so the slices are the same.
        let x = unsafe { &mut *(x as *mut [T] as *mut [f32]) };
        x.iter_mut().for_each(|x| *x = exp_f32(*x));
    } else {
        x.iter_mut().for_each(|x| *x = x.exp());
    }
}

/// `e^x` for `x ≤ 0` in `f32`: `x = n ln 2 + r` with `|r| ≤ ln 2 / 2`, `e^r` by a
/// polynomial of degree 7, times `2^n` built from its exponent bits.
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    const LOG2E: f32 = std::f32::consts::LOG2_E;
    // Adding and subtracting 1.5 · 2^23 rounds to the nearest integer, in any ISA.
    const ROUND: f32 = 12_582_912.0;
    // ln 2 in two parts; the first has few bits, so `n · LN2_HI` is exact.
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    const LOWEST: f32 = -87.3;
    // Comparing, not `max`, so that NaN stays NaN.
    let x = if x < LOWEST { LOWEST } else { x };
    let n = (x * LOG2E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = 1.987_569_2e-4f32;
    p = p * r + 1.398_2e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let e = (p * r) * r + r + 1.0;
    // 2^n for n in -126..=0: a normal float's exponent field. NaN casts to 0.
    let two_n = f32::from_bits(((n as i32 + 127) as u32) << 23);
    e * two_n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The polynomial `exp` is within 2 ulp of the library's over the range softmax uses,
    /// exactly 1 at 0, and keeps NaN.
    #[test]
    fn exp_f32_is_within_two_ulp() {
        let mut worst = 0;
        let mut x = -87.0f32;
        while x <= 0.0 {
            let (got, want) = (exp_f32(x), x.exp());
            let ulp = (got.to_bits() as i64 - want.to_bits() as i64).unsigned_abs();
            worst = worst.max(ulp);
            x += 1.0e-3 + x.abs() * 1e-5;
        }
        assert!(worst <= 2, "{worst} ulp");
        assert_eq!(exp_f32(0.0), 1.0);
        assert_eq!(exp_f32(-0.0), 1.0);
        assert!(exp_f32(f32::NAN).is_nan());
        assert!(exp_f32(-1e30) > 0.0 && exp_f32(-1e30) < 1e-37);
        let mut v = [0.0f32, -1.0, -2.5];
        exp_nonpositive(&mut v);
        assert_eq!(v, [exp_f32(0.0), exp_f32(-1.0), exp_f32(-2.5)]);
    }
}
