//! The one convention for floats in the files the library writes — checkpoints, run
//! results and trajectories, sweep records and summaries, in JSON and TOML: every value
//! reads back **bit for bit**, including `NaN`, `±∞` and `−0.0`, which JSON cannot spell
//! (`serde_json` would write `null`, and read it back as nothing).
//!
//! | value | written as |
//! | --- | --- |
//! | finite | a number: the shortest decimal that parses back to the same `f64` (`serde_json` built with `float_roundtrip`, and `toml`, parse it correctly rounded) |
//! | `+∞`, `−∞` | `"inf"`, `"-inf"` |
//! | `NaN` | `"nan"` ([`f64::NAN`]), `"-nan"` (the same with the sign bit, what x86 arithmetic produces), else `"nan:0x…"` with its 16 hex digits |
//!
//! Reading accepts numbers, these strings (also `"NaN"`, `"infinity"`, `"+inf"`), and
//! `null` as NaN: files written before this convention stored every non-finite value as
//! `null` (±∞ included, which is thereby lost), and they stay readable.
//!
//! Vectors of a [`Real`] are widened to `f64` on the way out — exact for `f32` — and
//! narrowed on the way in, which is exact again because the value came from an `f32`;
//! parsing an `f32` directly from its shortest decimal would round twice (decimal → `f64`
//! → `f32`) inside `serde_json`, which is not always exact.
//!
//! Use `#[serde(with = "crate::float::scalar")]` on `f64` fields,
//! `#[serde(with = "crate::float::vec")]` on `Vec<T>` fields and
//! `#[serde(with = "crate::float::points")]` on `Vec<[f64; 2]>` fields. Resuming a
//! checkpointed run bit-identically depends on this.
//!
//! ```
//! #[derive(serde::Serialize, serde::Deserialize)]
//! struct Loss(#[serde(with = "sparselift::float::scalar")] f64);
//!
//! assert_eq!(serde_json::to_string(&Loss(f64::NEG_INFINITY))?, r#""-inf""#);
//! assert_eq!(serde_json::from_str::<Loss>("1.5")?.0, 1.5);
//! assert!(serde_json::from_str::<Loss>("null")?.0.is_nan()); // an older file
//! # Ok::<(), serde_json::Error>(())
//! ```

use crate::Real;
use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::{SerializeSeq, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// `"nan"` with the sign bit set.
const NEG_NAN: u64 = f64::NAN.to_bits() | (1 << 63);

fn write<S: Serializer>(x: f64, s: S) -> Result<S::Ok, S::Error> {
    if x.is_finite() {
        s.serialize_f64(x)
    } else if x == f64::INFINITY {
        s.serialize_str("inf")
    } else if x == f64::NEG_INFINITY {
        s.serialize_str("-inf")
    } else if x.to_bits() == f64::NAN.to_bits() {
        s.serialize_str("nan")
    } else if x.to_bits() == NEG_NAN {
        s.serialize_str("-nan")
    } else {
        s.serialize_str(&format!("nan:{:#018x}", x.to_bits()))
    }
}

/// A NaN written as `nan:0x…`; `None` for anything else.
fn nan_with_bits(v: &str) -> Option<f64> {
    let hex = v.strip_prefix("nan:0x")?;
    let x = f64::from_bits(u64::from_str_radix(hex, 16).ok()?);
    x.is_nan().then_some(x)
}

struct F64Visitor;

impl Visitor<'_> for F64Visitor {
    type Value = f64;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a number, \"nan\", \"inf\" or \"-inf\"")
    }
    /// `null`: how files written before this convention stored every non-finite value.
    fn visit_unit<E: de::Error>(self) -> Result<f64, E> {
        Ok(f64::NAN)
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
            "-nan" => Ok(f64::from_bits(NEG_NAN)),
            "inf" | "+inf" | "infinity" => Ok(f64::INFINITY),
            "-inf" | "-infinity" => Ok(f64::NEG_INFINITY),
            _ => nan_with_bits(v).ok_or_else(|| E::invalid_value(de::Unexpected::Str(v), &self)),
        }
    }
}

/// One `f64`, possibly non-finite.
pub mod scalar {
    use super::*;

    /// Writes `x` as a number, or as one of the non-finite spellings.
    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        write(*x, s)
    }

    /// Reads a number, one of the non-finite spellings, or `null` (NaN).
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        d.deserialize_any(F64Visitor)
    }
}

/// One `f64` in the convention, as a serde value of its own (elements of sequences).
struct Num(f64);

impl<'de> serde::Deserialize<'de> for Num {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(F64Visitor).map(Num)
    }
}

impl serde::Serialize for Num {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        write(self.0, s)
    }
}

/// A `Vec<T>` of a [`Real`], written as `f64`s.
pub mod vec {
    use super::*;

    /// Writes every element widened to `f64`.
    pub fn serialize<T: Real, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for &x in v {
            seq.serialize_element(&Num(x.f64()))?;
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
                while let Some(Num(x)) = seq.next_element()? {
                    out.push(T::of(x));
                }
                Ok(out)
            }
        }
        d.deserialize_seq(SeqVisitor(PhantomData))
    }
}

/// `[t, value]` pairs (a trajectory), each number in the convention.
pub mod points {
    use super::*;
    use serde::Deserialize;

    /// Writes every pair as a two-element array.
    pub fn serialize<S: Serializer>(points: &[[f64; 2]], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(points.iter().map(|&[a, b]| [Num(a), Num(b)]))
    }

    /// Reads a sequence of two-element arrays.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f64; 2]>, D::Error> {
        let raw = Vec::<[Num; 2]>::deserialize(d)?;
        Ok(raw.into_iter().map(|[Num(a), Num(b)]| [a, b]).collect())
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

    #[derive(Debug, Serialize, Deserialize)]
    struct Trajectory {
        #[serde(with = "points")]
        p: Vec<[f64; 2]>,
    }

    /// NaN (both signs and another payload), ±∞, −0.0 and ordinary numbers.
    fn specials() -> Vec<f64> {
        vec![
            f64::NAN,
            -f64::NAN,
            f64::from_bits(0x7ff0_0000_0000_0001),
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            0.0,
            1.0,
            -2.5,
            0.1,
            1e-310,
            f64::MAX,
        ]
    }

    #[test]
    fn non_finite_values_and_negative_zero_round_trip_bit_for_bit() {
        let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
        for x in specials() {
            let json = serde_json::to_string(&Holder::<f64> { x, v: vec![x] }).unwrap();
            let back: Holder<f64> = serde_json::from_str(&json).unwrap();
            assert_eq!(back.x.to_bits(), x.to_bits(), "{json}");
            assert_eq!(bits(&back.v), bits(&[x]), "{json}");
            let text = toml::to_string(&Holder::<f64> { x, v: vec![x] }).unwrap();
            let back: Holder<f64> = toml::from_str(&text).unwrap();
            assert_eq!(back.x.to_bits(), x.to_bits(), "{text}");
        }
        let p: Vec<[f64; 2]> = specials().iter().map(|&x| [1.0, x]).collect();
        let json = serde_json::to_string(&Trajectory { p: p.clone() }).unwrap();
        let back: Trajectory = serde_json::from_str(&json).unwrap();
        let flat = |p: &[[f64; 2]]| p.iter().flatten().map(|x| x.to_bits()).collect::<Vec<_>>();
        assert_eq!(flat(&back.p), flat(&p), "{json}");
        let spelled = serde_json::to_string(&Trajectory {
            p: vec![[f64::INFINITY, f64::NEG_INFINITY], [f64::NAN, -f64::NAN]],
        })
        .unwrap();
        assert_eq!(spelled, r#"{"p":[["inf","-inf"],["nan","-nan"]]}"#);
    }

    #[test]
    fn older_files_stay_readable() {
        // Run state wrote non-finite values as strings; sweep records wrote them as null.
        let h: Holder<f32> =
            serde_json::from_str(r#"{"x":"-inf","v":["nan","inf",null,2]}"#).unwrap();
        assert_eq!(h.x, f64::NEG_INFINITY);
        assert!(h.v[0].is_nan() && h.v[1] == f32::INFINITY && h.v[2].is_nan() && h.v[3] == 2.0);
        let t: Trajectory = serde_json::from_str(r#"{"p":[[0.5,null],[1,3]]}"#).unwrap();
        assert!(t.p[0][0] == 0.5 && t.p[0][1].is_nan() && t.p[1] == [1.0, 3.0]);
        let h: Holder<f64> = serde_json::from_str(r#"{"x":null,"v":[]}"#).unwrap();
        assert!(h.x.is_nan());
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
        for bad in [r#""big""#, r#""nan:0x1""#, r#""nan:0xzz""#, "true"] {
            let json = format!(r#"{{"x":{bad},"v":[]}}"#);
            let err = serde_json::from_str::<Holder<f64>>(&json).unwrap_err();
            assert!(err.to_string().contains("\"nan\""), "{err}");
        }
    }
}
