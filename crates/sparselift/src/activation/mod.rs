//! Vertex activations `σ_v` (docs/semantics.md §1) as units: each activation lives in one
//! file and implements [`Unit`], and either [`ElementwiseUnit`] — `φ(z_1 + z_2 + …)`
//! with its derivative — or [`JointUnit`], for activations of several pre-activations
//! taken in slot order.
//!
//! The list in the `activations!` macro of this file is the only place that names them
//! all. From it come the files' `mod` lines, the serialised [`Activation`], its split
//! into [`Elementwise`] and [`Joint`], and every dispatch from an enum value to a unit,
//! as exhaustive matches:
//! adding an activation is one file and one line of that list.
//!
//! ```
//! use sparselift::activation::{Activation, Elementwise, Family};
//!
//! let a = Activation::from_name("silu").unwrap();
//! let Family::Elementwise(e) = a.family() else { unreachable!() };
//! assert_eq!(e, Elementwise::Silu);
//! assert_eq!(e.phi(0.0f64), 0.0);
//! assert_eq!(e.dphi(0.0f64), 0.5);
//! ```

use crate::Real;

mod maps;

pub use maps::Scratch;

/// What every activation declares: its name in module files and its initialisation gain.
pub trait Unit {
    /// The name in module files.
    const NAME: &'static str;
    /// The initialisation gain `g` of the edges into a vertex with this activation
    /// (docs/semantics.md §2).
    const GAIN: f64 = 1.0;
}

/// An elementwise activation: `σ(z_1, z_2, …) = φ(z_1 + z_2 + …)`.
pub trait ElementwiseUnit: Unit {
    /// Whether `φ'(z)` can be computed from the output `y = φ(z)` alone, bit for bit, by
    /// [`ElementwiseUnit::dphi_from_output`]: then a kernel that completes a
    /// pre-activation may apply `φ` itself and never store the pre-activation.
    const FROM_OUTPUT: bool = false;
    /// `φ(z)`.
    fn phi<T: Real>(z: T) -> T;
    /// `φ'(z)`.
    fn dphi<T: Real>(z: T) -> T;
    /// `φ'(z)` from `y = φ(z)`, where [`ElementwiseUnit::FROM_OUTPUT`]; bit for bit
    /// [`ElementwiseUnit::dphi`]`(z)`. By default `φ'(y)`, right for activations that
    /// keep the sign of `z` and test only that.
    #[inline(always)]
    fn dphi_from_output<T: Real>(y: T) -> T {
        Self::dphi(y)
    }
}

/// An activation of exactly [`JointUnit::ARITY`] pre-activations, one per in-edge, in
/// declaration order.
pub trait JointUnit: Unit {
    /// The number of pre-activations.
    const ARITY: usize;
    /// Checks the shape of a vertex with this activation; the error says what is wrong.
    fn check_shape(_shape: &[usize]) -> Result<(), String> {
        Ok(())
    }
    /// The shape pre-activation `slot` of a vertex of shape `shape` must have, or `None`
    /// when the vertex does not fix it (then [`JointUnit::check_slots`] checks them).
    fn slot_shape(shape: &[usize], _slot: usize) -> Option<Vec<usize>> {
        Some(shape.to_vec())
    }
    /// Checks the pre-activation shapes of a vertex of shape `shape` together.
    fn check_slots(_shape: &[usize], _z: &[&[usize]]) -> Result<(), String> {
        Ok(())
    }
}

/// The sizes an `outer` or `dsoftmul` vertex computes with: token maps of `tokens` rows
/// (`L`) and `channels` columns (`c`), for `batch` samples. Their buffers are
/// `[fiber][elements][batch]`, the elements of a map row-major, so entry `(i, j)` of an
/// `[L, c]` map of one fiber vertex is the batch vector at `(i c + j) · batch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TokenMaps {
    /// `L`, the rows of every map.
    pub tokens: usize,
    /// `c`, the columns of the queries and keys (`outer`) or of the values (`dsoftmul`).
    pub channels: usize,
    /// Samples, the innermost axis of every buffer.
    pub batch: usize,
}

/// Calls the macro at path `[callback]` with `($args)` and the list of activations:
/// `elementwise { Variant: file, … } joint { Variant: file, … }`, in documentation order.
/// Each `file.rs` of this folder defines the unit type `Variant`.
macro_rules! activations {
    ([$($callback:tt)*] $($args:tt)*) => {
        $($callback)*! {
            ($($args)*)
            elementwise {
                Identity: identity,
                Relu: relu,
                LeakyRelu: leaky_relu,
                Tanh: tanh,
                Sigmoid: sigmoid,
                Gelu: gelu,
                Softplus: softplus,
                Silu: silu,
                Elu: elu,
            }
            joint {
                Product: product,
                Outer: outer,
                Dsoftmul: dsoftmul,
            }
        }
    };
}
pub(crate) use activations;

/// Declares the unit files and generates the enums and their dispatch from the list.
macro_rules! define {
    (() elementwise { $($e:ident: $ef:ident,)* } joint { $($j:ident: $jf:ident,)* }) => {
        $(mod $ef; pub use $ef::$e;)*
        $(mod $jf; pub use $jf::$j;)*

        /// A vertex activation `σ_v`, as named in module files.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Activation {
            $(#[doc = concat!("[`", stringify!($e), "`]: `", stringify!($ef), "`.")] $e,)*
            $(#[doc = concat!("[`", stringify!($j), "`]: `", stringify!($jf), "`.")] $j,)*
        }

        /// The elementwise activations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Elementwise {
            $(#[doc = concat!("[`", stringify!($e), "`].")] $e,)*
        }

        /// The activations of several pre-activations.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Joint {
            $(#[doc = concat!("[`", stringify!($j), "`].")] $j,)*
        }

        impl Activation {
            /// Every activation, in documentation order.
            pub const ALL: [Activation; [$(Activation::$e,)* $(Activation::$j,)*].len()] =
                [$(Activation::$e,)* $(Activation::$j,)*];

            /// The activation's family, to dispatch on.
            pub fn family(self) -> Family {
                match self {
                    $(Activation::$e => Family::Elementwise(Elementwise::$e),)*
                    $(Activation::$j => Family::Joint(Joint::$j),)*
                }
            }

            /// The name used in module files.
            pub fn name(self) -> &'static str {
                match self {
                    $(Activation::$e => $e::NAME,)*
                    $(Activation::$j => $j::NAME,)*
                }
            }

            /// The initialisation gain `g` (docs/semantics.md §2).
            pub fn gain(self) -> f64 {
                match self {
                    $(Activation::$e => $e::GAIN,)*
                    $(Activation::$j => $j::GAIN,)*
                }
            }
        }

        impl Elementwise {
            /// Every elementwise activation, in documentation order.
            pub const ALL: [Elementwise; [$(Elementwise::$e,)*].len()] = [$(Elementwise::$e,)*];

            /// `φ(z)`.
            #[inline(always)]
            pub fn phi<T: Real>(self, z: T) -> T {
                match self {
                    $(Elementwise::$e => $e::phi(z),)*
                }
            }

            /// `φ'(z)`.
            #[inline(always)]
            pub fn dphi<T: Real>(self, z: T) -> T {
                match self {
                    $(Elementwise::$e => $e::dphi(z),)*
                }
            }

            /// `φ'` at what the backward pass keeps: `y = φ(z)` where
            /// [`Elementwise::derivative_from_output`], else `z`.
            #[inline(always)]
            pub fn dphi_stored<T: Real>(self, x: T) -> T {
                match self {
                    $(Elementwise::$e => dphi_stored::<$e, T>(x),)*
                }
            }

            /// Whether `φ'` is computed from the output (see [`ElementwiseUnit::FROM_OUTPUT`]).
            pub fn derivative_from_output(self) -> bool {
                match self {
                    $(Elementwise::$e => $e::FROM_OUTPUT,)*
                }
            }
        }

        impl Joint {
            /// The number of pre-activations.
            pub fn arity(self) -> usize {
                match self {
                    $(Joint::$j => $j::ARITY,)*
                }
            }

            /// See [`JointUnit::check_shape`].
            pub fn check_shape(self, shape: &[usize]) -> Result<(), String> {
                match self {
                    $(Joint::$j => $j::check_shape(shape),)*
                }
            }

            /// See [`JointUnit::slot_shape`].
            pub fn slot_shape(self, shape: &[usize], slot: usize) -> Option<Vec<usize>> {
                match self {
                    $(Joint::$j => $j::slot_shape(shape, slot),)*
                }
            }

            /// See [`JointUnit::check_slots`].
            pub fn check_slots(self, shape: &[usize], z: &[&[usize]]) -> Result<(), String> {
                match self {
                    $(Joint::$j => $j::check_slots(shape, z),)*
                }
            }
        }

        impl From<Elementwise> for Activation {
            fn from(e: Elementwise) -> Activation {
                match e {
                    $(Elementwise::$e => Activation::$e,)*
                }
            }
        }

        impl From<Joint> for Activation {
            fn from(j: Joint) -> Activation {
                match j {
                    $(Joint::$j => Activation::$j,)*
                }
            }
        }
    };
}

activations!([define]);

/// `φ'` at what the backward pass keeps, for unit `U`: its output or its pre-activation.
#[inline(always)]
pub fn dphi_stored<U: ElementwiseUnit, T: Real>(x: T) -> T {
    if U::FROM_OUTPUT {
        U::dphi_from_output(x)
    } else {
        U::dphi(x)
    }
}

/// An activation split by how it takes its pre-activations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Family {
    /// `φ(z_1 + z_2 + …)`.
    Elementwise(Elementwise),
    /// A fixed number of pre-activations, in slot order.
    Joint(Joint),
}

impl Activation {
    /// Parses a name from a module file.
    pub fn from_name(name: &str) -> Option<Activation> {
        Activation::ALL.into_iter().find(|a| a.name() == name)
    }

    /// `Some(k)` when the activation takes exactly `k` pre-activations, `None` for the
    /// elementwise ones (any number ≥ 1, summed).
    pub fn arity(self) -> Option<usize> {
        match self.family() {
            Family::Elementwise(_) => None,
            Family::Joint(j) => Some(j.arity()),
        }
    }

    /// True for the elementwise activations `φ(z_1 + z_2 + …)`.
    pub fn is_elementwise(self) -> bool {
        matches!(self.family(), Family::Elementwise(_))
    }

    /// The elementwise activation this is, if it is one.
    pub fn elementwise(self) -> Option<Elementwise> {
        match self.family() {
            Family::Elementwise(e) => Some(e),
            Family::Joint(_) => None,
        }
    }
}

impl std::fmt::Display for Activation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::fmt::Display for Elementwise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Activation::from(*self).fmt(f)
    }
}

impl std::fmt::Display for Joint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        Activation::from(*self).fmt(f)
    }
}

#[cfg(test)]
mod tests;
