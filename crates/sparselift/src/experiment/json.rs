//! Serde helpers: JSON has no NaN or infinity, so non-finite floats (the loss of a
//! diverged run) are written as `null` and read back as NaN.

/// `f64` as a JSON number, or `null` when not finite (read back as NaN).
pub mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        if x.is_finite() {
            s.serialize_f64(*x)
        } else {
            s.serialize_none()
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

/// `[t, loss]` pairs with the same null convention for non-finite entries.
pub mod points_finite_or_null {
    use serde::ser::SerializeSeq;
    use serde::{Deserialize, Deserializer, Serializer};

    fn opt(x: f64) -> Option<f64> {
        x.is_finite().then_some(x)
    }

    pub fn serialize<S: Serializer>(points: &[[f64; 2]], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(points.len()))?;
        for p in points {
            seq.serialize_element(&[opt(p[0]), opt(p[1])])?;
        }
        seq.end()
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f64; 2]>, D::Error> {
        let raw = Vec::<[Option<f64>; 2]>::deserialize(d)?;
        Ok(raw
            .into_iter()
            .map(|[t, l]| [t.unwrap_or(f64::NAN), l.unwrap_or(f64::NAN)])
            .collect())
    }
}

/// `Vec<f64>` with the same null convention.
pub mod vec_finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(xs: &[f64], s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(xs.iter().map(|x| x.is_finite().then_some(*x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f64>, D::Error> {
        let raw = Vec::<Option<f64>>::deserialize(d)?;
        Ok(raw.into_iter().map(|x| x.unwrap_or(f64::NAN)).collect())
    }
}
