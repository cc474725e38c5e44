//! `conv`: same-padding convolution of a channel map with an odd-sized kernel.

use super::{axpy, axpy_rows, dot, EdgeOp, Ends, ShapeError};
use crate::simd;
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

    /// The `k`-th tap in summation order and its shift `(rows, cols)` from an output
    /// element to the element it reads: forward, taps in ascending order at `(a − ph, c −
    /// pw)`; transposed (the input gradient), in descending order at the opposite shift.
    /// Both are the order in which [`Conv::taps`] adds the terms of one element.
    fn tap(&self, k: usize, transpose: bool) -> (usize, isize, isize) {
        let (ph, pw) = ((self.kh / 2) as isize, (self.kw / 2) as isize);
        let t = if transpose {
            self.kh * self.kw - 1 - k
        } else {
            k
        };
        let (a, c) = ((t / self.kw) as isize, (t % self.kw) as isize);
        match transpose {
            false => (t, a - ph, c - pw),
            true => (t, ph - a, pw - c),
        }
    }

    /// `z[p] += Σ_e Σ_t w_e[t] x_e[p + shift(t)]` over the in-range positions of the
    /// `count` edges `edge(e) = (w_e, x_e)`: per element in order of `e`, then of the taps
    /// (see [`Conv::tap`]), the order of the per-edge loops. The bounds are hoisted: along
    /// an output row the valid taps change only near the two ends, so each row splits into
    /// at most `kw` column runs, and each run is one `simd::axpy_rows` over contiguous
    /// batch-minor rows of `(run length)·b` scalars, `z` summed in registers.
    fn shifted<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        b: usize,
        transpose: bool,
    ) {
        let Conv { h, w, kh, kw } = *self;
        let pw = (kw / 2) as isize;
        let taps: Vec<(usize, isize, isize)> =
            (0..kh * kw).map(|k| self.tap(k, transpose)).collect();
        let edges: Vec<(&'a [T], &'a [T])> = (0..count).map(edge).collect();
        let mut terms: Vec<(T, &'a [T])> = Vec::with_capacity(count * taps.len());
        // The valid column shifts at output column `j`: `0 ≤ j + dj < w`.
        let valid = |j: usize| ((-pw).max(-(j as isize)), pw.min((w - 1 - j) as isize));
        for i in 0..h {
            let mut j0 = 0;
            while j0 < w {
                let (lo, hi) = valid(j0);
                let j1 = (j0 + 1..w).find(|&j| valid(j) != (lo, hi)).unwrap_or(w);
                terms.clear();
                for &(we, xe) in &edges {
                    for &(t, di, dj) in &taps {
                        let si = i as isize + di;
                        if si < 0 || si >= h as isize || dj < lo || dj > hi {
                            continue;
                        }
                        let at = (si as usize * w + j0).wrapping_add_signed(dj) * b;
                        terms.push((we[t], &xe[at..]));
                    }
                }
                let zr = &mut z[(i * w + j0) * b..(i * w + j1) * b];
                axpy_rows(zr, terms.len(), |k| terms[k]);
                j0 = j1;
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
    fn forward_target<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        z: &mut [T],
        b: usize,
    ) {
        self.shifted(count, edge, z, b, false)
    }
    fn backward_input_source<'a, T: Real + 'a>(
        &self,
        count: usize,
        edge: impl Fn(usize) -> (&'a [T], &'a [T]),
        gy: &mut [T],
        b: usize,
    ) {
        self.shifted(count, edge, gy, b, true)
    }
    /// Per output row and tap row: the interior columns, where every column tap is in
    /// range, as one run whose `simd::dots_shifted` with the `kw` shifted source runs reads
    /// the gradient once; the border columns tap by tap. Sums in a fixed order: by row,
    /// interior then border.
    fn weight_grad_fast<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        let Conv { h, w, kh, kw } = *self;
        let (ph, pw) = (kh / 2, kw / 2);
        // Interior columns `pw .. w − pw` (possibly none).
        let (c0, c1) = (pw.min(w), w.saturating_sub(pw).max(pw.min(w)));
        let mut part = vec![T::zero(); kw];
        gw.iter_mut().for_each(|g| *g = T::zero());
        for i in 0..h {
            for a in 0..kh {
                let Some(si) = (i + a).checked_sub(ph).filter(|&si| si < h) else {
                    continue;
                };
                if c0 < c1 {
                    let x = &gz[(i * w + c0) * b..(i * w + c1) * b];
                    let shifts: Vec<usize> = (0..kw).map(|c| (si * w + c0 + c - pw) * b).collect();
                    simd::dots_shifted(x, y, &shifts, &mut part);
                    for c in 0..kw {
                        gw[a * kw + c] += part[c];
                    }
                }
                for j in (0..c0).chain(c1..w) {
                    for c in 0..kw {
                        let Some(sj) = (j + c).checked_sub(pw).filter(|&sj| sj < w) else {
                            continue;
                        };
                        gw[a * kw + c] +=
                            dot(&gz[(i * w + j) * b..][..b], &y[(si * w + sj) * b..][..b]);
                    }
                }
            }
        }
    }
}
