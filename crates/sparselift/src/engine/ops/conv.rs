//! `conv`: same-padding convolution of a channel map with an odd-sized kernel.

use super::{axpy, dot, EdgeOp};
use crate::Real;

/// Same-padding 2-D cross-correlation of an `h × w` map with a `kh × kw` kernel (1-D maps
/// are `1 × len` with `kh = 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv {
    /// Map height (1 for 1-D maps).
    pub h: usize,
    /// Map width.
    pub w: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
}

impl Conv {
    /// Calls `f(output element, input element, tap)` for every in-bounds tap, in a fixed
    /// order.
    fn taps(&self, mut f: impl FnMut(usize, usize, usize)) {
        let Conv { h, w, kh, kw } = *self;
        let (ph, pw) = (kh / 2, kw / 2);
        for i in 0..h {
            for j in 0..w {
                for a in 0..kh {
                    let Some(si) = (i + a).checked_sub(ph).filter(|&si| si < h) else {
                        continue;
                    };
                    for c in 0..kw {
                        let Some(sj) = (j + c).checked_sub(pw).filter(|&sj| sj < w) else {
                            continue;
                        };
                        f(i * w + j, si * w + sj, a * kw + c);
                    }
                }
            }
        }
    }
}

impl EdgeOp for Conv {
    fn fan_in(&self) -> usize {
        self.kh * self.kw
    }
    fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize) {
        self.taps(|i, j, t| axpy(w[t], &y[j * b..][..b], &mut z[i * b..][..b]))
    }
    fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize) {
        self.taps(|i, j, t| axpy(w[t], &gz[i * b..][..b], &mut gy[j * b..][..b]))
    }
    fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        gw.iter_mut().for_each(|g| *g = T::zero());
        self.taps(|i, j, t| gw[t] += dot(&gz[i * b..][..b], &y[j * b..][..b]));
    }
}
