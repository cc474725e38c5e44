//! Serde helpers that write floats so that they read back **bit for bit** in JSON and TOML,
//! including `NaN` and `±∞` (which JSON cannot spell and `serde_json` would write as
//! `null`, then refuse to read).
//!
//! Finite values are written as numbers: `serde_json` (built with `float_roundtrip`) and
//! `toml` print the shortest decimal that parses back to the same `f64` and parse it
//! correctly rounded. Non-finite values are written as the strings `"nan"`, `"inf"` and
//! `"-inf"`. Vectors of a [`Real`] are widened to `f64` on the way out — exact for `f32` —
//! and narrowed on the way in, which is exact again because the value came from an `f32`;
//! parsing an `f32` directly from its shortest decimal would round twice (decimal → `f64`
//! → `f32`) inside `serde_json`, which is not always exact.
//!
//! Use with `#[serde(with = "float::scalar")]` on `f64` fields and
//! `#[serde(with = "float::vec")]` on `Vec<T>` fields. Resuming a checkpointed run
//! bit-identically depends on this.

use crate::Real;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use std::fmt;
use std::marker::PhantomData;

fn write<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(x)
    } else if x.is_nan() {
        s.serialize_str("nan")
    } else if x > 0.0 {
        s.serialize_str("inf")
    } else {
        s.serialize_str("-inf")
    }
}

struct F64Visitor;

impl Visitor<'_> for F64Visitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, \"nan\", \"inf\" or \"-inf\"")
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
        Ok(v)
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
        Ok(v as f64)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<f64, E> {
        match v {
            "nan" | "NaN" => Ok(f64::NAN),
            "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
            "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
            _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// One `f64`, possibly non-finite.
pub mod scalar {
    use super::*;

    /// Writes `x` as a number, or as `"nan"`/`"inf"`/`"-inf"`.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        write(*x, s)
    }

    /// Reads a number or one of the non-finite spellings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(F64Visitor)
    }
}

/// A `Vec<T>` of a [`Real`], written as `f64`s.
pub mod vec {
    use super::*;

    struct Elem(f64);

    impl<'de> serde::Deserialize<'de> for Elem {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            d.deserialize_any(F64Visitor).map(Elem)
        }
    }

    struct Wide(f64);

    impl serde::Serialize for Wide {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            write(self.0, s)
        }
    }

    /// Writes every element widened to `f64`.
    pub fn serialize<T: Real, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            seq.serialize_element(&Wide(x.f64()))?;
        }
        seq.end()
    }

    /// Reads a sequence of numbers and narrows each to `T`.
    pub fn deserialize<'de, T: Real, D: Deserializer<'de>>(d: D) -> Result<Vec<T>, D::Error> {
        struct SeqVisitor<T>(PhantomData<T>);
        impl<'de, T: Real> Visitor<'de> for SeqVisitor<T> {
            type Value = Vec<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sequence of numbers")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some(Elem(x)) = seq.next_element()? {
                    out.push(T::of(x));
                }
                Ok(out)
            }
        }
        d.deserialize_seq(SeqVisitor(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Serialize, Deserialize)]
    struct Holder<T: Real> {
        #[serde(with = "scalar")]
        x: f64,
        #[serde(with = "vec")]
        v: Vec<T>,
    }

    fn round_trip<T: Real>(values: Vec<T>, x: f64) {
        let bits = |v: &[T]| v.iter().map(|a| a.f64().to_bits()).collect::<Vec<_>>();
        let h = Holder { x, v: values };
        let json = serde_json::to_string(&h).unwrap();
        let back: Holder<T> = serde_json::from_str(&json).unwrap();
        assert_eq!(back.x.to_bits(), x.to_bits(), "{json}");
        assert_eq!(bits(&back.v), bits(&h.v), "{json}");
        let text = toml::to_string(&h).unwrap();
        let back: Holder<T> = toml::from_str(&text).unwrap();
        assert_eq!(bits(&back.v), bits(&h.v), "{text}");
    }

    #[test]
    fn random_floats_and_non_finite_values_round_trip_exactly() {
        // Random bit patterns hit the hard cases (long decimals, subnormals) that a
        // best-effort float parser gets wrong in the last bit.
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let f64s: Vec<f64> = (0..2000)
            .map(|_| f64::from_bits(rng.random::<u64>()))
            .filter(|x| x.is_finite())
            .chain([0.0, -0.0, f64::MIN_POSITIVE, 1e-310, 0.1, 1.0 / 3.0])
            .collect();
        let f32s: Vec<f32> = (0..2000)
            .map(|_| f32::from_bits(rng.random::<u32>()))
            .filter(|x| x.is_finite())
            .collect();
        round_trip(f64s, 0.1 + 0.2);
        round_trip(f32s, f64::NAN);
        round_trip(vec![f64::INFINITY, f64::NEG_INFINITY], f64::NEG_INFINITY);
        let nan: Holder<f32> = serde_json::from_str(r#"{"x":"nan","v":["nan",1]}"#).unwrap();
        assert!(nan.x.is_nan() && nan.v[0].is_nan() && nan.v[1] == 1.0);
    }

    #[test]
    fn garbage_strings_are_refused() {
        let err = serde_json::from_str::<Holder<f64>>(r#"{"x":"big","v":[]}"#).unwrap_err();
        assert!(err.to_string().contains("\"nan\""), "{err}");
    }
}
