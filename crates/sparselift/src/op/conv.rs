//! `conv`: same-padding convolution of a channel map with an odd-sized kernel.

use super::{axpy, dot, EdgeOp, Ends, ShapeError};
use crate::simd::{Finish, Keep};
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
    /// `Z = Y`'s shape (same padding); the kernel as weight. The kernel has one size per
    /// axis of the map, and no size beyond `2 d − 1` for an axis of `d`: wider taps only
    /// ever see padding.
    fn shapes(ends: &Ends<'_>) -> Result<(Vec<usize>, Vec<usize>), ShapeError> {
        let (k, s) = (ends.kernel, ends.src_shape);
        if s.len() != k.len() {
            return Err(ShapeError::new(
                format!(
                    "a {}-D conv kernel {k:?} needs a {}-D channel map, but \"{}\" has shape {s:?}",
                    k.len(),
                    k.len(),
                    ends.src,
                ),
                "use kernel = [k] on [len] maps and kernel = [k, k] on [h, w] maps",
            ));
        }
        let widest: Vec<usize> = s.iter().map(|&d| 2 * d - 1).collect();
        if k.iter().zip(&widest).any(|(k, w)| k > w) {
            return Err(ShapeError::new(
                format!(
                    "conv kernel {k:?} is wider than a map of shape {s:?} can use (at most {widest:?})"
                ),
                "the extra taps would only ever multiply padding: use a smaller kernel",
            ));
        }
        Ok((s.to_vec(), k.to_vec()))
    }
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
    fn fast_layout<T: Real>(&self, maps: &[T], b: usize, laid: &mut Vec<T>) -> bool {
        self.pad_lanes(maps, b, laid);
        true
    }
    fn forward_target<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        (b, overwrite): (usize, bool),
        finish: &mut impl Finish<T>,
    ) {
        self.correlate_lanes(count, edge, z, b, (false, overwrite), finish)
    }
    fn backward_input_source<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        gy: &mut [T],
        b: usize,
        overwrite: bool,
    ) {
        self.correlate_lanes(count, edge, gy, b, (true, overwrite), &mut Keep)
    }
    fn weight_grad_fast<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        self.weight_grad_lanes(gz, y, gw, b)
    }
}
