//! Edge ops `M_e(w, y)` (docs/semantics.md §1) applied to one lifted edge, on neuron-major
//! batch-minor blocks: a vertex block is `[elements][batch]`, so element `i` of sample `s` sits at
//! `i * batch + s`. Each op has its forward, its input gradient (`Mᵀ`) and its weight
//! gradient next to each other; all accumulate (`+=`) except the weight gradient, which
//! is written, since every lifted weight belongs to exactly one lifted edge.

use crate::module::{Edge, Op, Vertex};
use crate::Real;

/// An op resolved against the shapes of its base edge.
#[derive(Clone, Debug, PartialEq)]
pub enum Kernel {
    /// `z += w y`.
    Scalar,
    /// `z += y`.
    Identity,
    /// `z[r][o] += Σ_k w[o][k] y[r][k]` over `rows` leading rows.
    Linear { rows: usize, inp: usize, out: usize },
    /// `z[l][c] += Σ_l' w[l][l'] y[l'][c]` for `L` tokens of `rest` channels each.
    TokenMix { tokens: usize, rest: usize },
    /// Same-padding 2-D cross-correlation of an `h × w` map with a `kh × kw` kernel
    /// (1-D maps are `1 × len` with `kh = 1`).
    Conv {
        h: usize,
        w: usize,
        kh: usize,
        kw: usize,
    },
}

impl Kernel {
    /// Resolves the op of `edge`, whose source vertex is `src`.
    pub fn new(edge: &Edge, src: &Vertex) -> Kernel {
        let s = &src.shape;
        match &edge.op {
            Op::Scalar => Kernel::Scalar,
            Op::Identity => Kernel::Identity,
            Op::Linear => Kernel::Linear {
                rows: s[..s.len() - 1].iter().product(),
                inp: edge.weight_shape[1],
                out: edge.weight_shape[0],
            },
            Op::TokenMix => Kernel::TokenMix {
                tokens: s[0],
                rest: s[1..].iter().product(),
            },
            Op::Conv(k) if k.len() == 1 => Kernel::Conv {
                h: 1,
                w: s[0],
                kh: 1,
                kw: k[0],
            },
            Op::Conv(k) => Kernel::Conv {
                h: s[0],
                w: s[1],
                kh: k[0],
                kw: k[1],
            },
        }
    }

    /// `z += M(w, y)` for one lifted edge.
    pub fn forward<T: Real>(&self, w: &[T], y: &[T], z: &mut [T], b: usize) {
        match *self {
            Kernel::Scalar => axpy(w[0], y, z),
            Kernel::Identity => axpy(T::one(), y, z),
            Kernel::Linear { rows, inp, out } => {
                for r in 0..rows {
                    for o in 0..out {
                        let zr = &mut z[(r * out + o) * b..][..b];
                        for k in 0..inp {
                            axpy(w[o * inp + k], &y[(r * inp + k) * b..][..b], zr);
                        }
                    }
                }
            }
            Kernel::TokenMix { tokens, rest } => {
                let row = rest * b;
                for l in 0..tokens {
                    for m in 0..tokens {
                        axpy(
                            w[l * tokens + m],
                            &y[m * row..][..row],
                            &mut z[l * row..][..row],
                        );
                    }
                }
            }
            Kernel::Conv { .. } => {
                self.conv_taps(|i, j, t| axpy(w[t], &y[j * b..][..b], &mut z[i * b..][..b]))
            }
        }
    }

    /// `gy += Mᵀ(w, gz)` for one lifted edge.
    pub fn backward_input<T: Real>(&self, w: &[T], gz: &[T], gy: &mut [T], b: usize) {
        match *self {
            Kernel::Scalar => axpy(w[0], gz, gy),
            Kernel::Identity => axpy(T::one(), gz, gy),
            Kernel::Linear { rows, inp, out } => {
                for r in 0..rows {
                    for k in 0..inp {
                        let gyr = &mut gy[(r * inp + k) * b..][..b];
                        for o in 0..out {
                            axpy(w[o * inp + k], &gz[(r * out + o) * b..][..b], gyr);
                        }
                    }
                }
            }
            Kernel::TokenMix { tokens, rest } => {
                let row = rest * b;
                for m in 0..tokens {
                    for l in 0..tokens {
                        axpy(
                            w[l * tokens + m],
                            &gz[l * row..][..row],
                            &mut gy[m * row..][..row],
                        );
                    }
                }
            }
            Kernel::Conv { .. } => {
                self.conv_taps(|i, j, t| axpy(w[t], &gz[i * b..][..b], &mut gy[j * b..][..b]))
            }
        }
    }

    /// `gw = ∂⟨gz, M(w, y)⟩/∂w` for one lifted edge (written, not accumulated).
    pub fn weight_grad<T: Real>(&self, gz: &[T], y: &[T], gw: &mut [T], b: usize) {
        match *self {
            Kernel::Scalar => gw[0] = dot(gz, y),
            Kernel::Identity => {}
            Kernel::Linear { rows, inp, out } => {
                for o in 0..out {
                    for k in 0..inp {
                        gw[o * inp + k] = (0..rows)
                            .map(|r| {
                                dot(&gz[(r * out + o) * b..][..b], &y[(r * inp + k) * b..][..b])
                            })
                            .fold(T::zero(), |a, x| a + x);
                    }
                }
            }
            Kernel::TokenMix { tokens, rest } => {
                let row = rest * b;
                for l in 0..tokens {
                    for m in 0..tokens {
                        gw[l * tokens + m] = dot(&gz[l * row..][..row], &y[m * row..][..row]);
                    }
                }
            }
            Kernel::Conv { .. } => {
                gw.iter_mut().for_each(|g| *g = T::zero());
                self.conv_taps(|i, j, t| gw[t] += dot(&gz[i * b..][..b], &y[j * b..][..b]));
            }
        }
    }

    /// Calls `f(output element, input element, tap)` for every in-bounds tap of a
    /// same-padding convolution, in a fixed order.
    fn conv_taps(&self, mut f: impl FnMut(usize, usize, usize)) {
        let Kernel::Conv { h, w, kh, kw } = *self else {
            unreachable!()
        };
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

pub use super::simd::{axpy, dot};
