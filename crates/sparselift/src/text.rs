//! Serde of a typed field through its `Display` and `FromStr`: stored as the string the
//! command line takes (`#[serde(with = "crate::text")]`), so that run specs, checkpoints
//! and experiment files hold `in-degree:16` rather than a tagged structure.
//!
//! A value is stored only if its text reads back as the same value: a value built in Rust
//! that the text form cannot express is an error when stored, not a different run when
//! read back.

use serde::{de, ser, Deserialize, Deserializer, Serializer};
use std::collections::BTreeMap;
use std::fmt::Display;
use std::str::FromStr;

/// The first key of a `key=value` list that occurs more than once, if any: a repeated
/// key is refused rather than the last (or first) silently winning.
pub fn repeated<'a>(mut keys: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut seen = std::collections::HashSet::new();
    keys.find(|k| !seen.insert(*k))
}

/// The text of `value`, if it reads back as `value`.
fn checked<T: Display + FromStr + PartialEq>(value: &T) -> Result<String, String> {
    let text = value.to_string();
    match text.parse::<T>() {
        Ok(back) if back == *value => Ok(text),
        _ => Err(format!(
            "`{text}` does not read back as the value it was written from, so it cannot be \
             stored; build the value by parsing its text form"
        )),
    }
}

pub fn serialize<T, S>(value: &T, s: S) -> Result<S::Ok, S::Error>
where
    T: Display + FromStr + PartialEq,
    S: Serializer,
{
    s.serialize_str(&checked(value).map_err(ser::Error::custom)?)
}

pub fn deserialize<'de, T, D>(d: D) -> Result<T, D::Error>
where
    T: FromStr,
    T::Err: Display,
    D: Deserializer<'de>,
{
    String::deserialize(d)?.parse().map_err(de::Error::custom)
}

/// [`self`] for the values of a map.
pub mod values {
    use super::*;

    pub fn serialize<T, S>(map: &BTreeMap<String, T>, s: S) -> Result<S::Ok, S::Error>
    where
        T: Display + FromStr + PartialEq,
        S: Serializer,
    {
        let texts = map
            .iter()
            .map(|(k, v)| Ok((k, checked(v).map_err(|e| format!("`{k}`: {e}"))?)))
            .collect::<Result<Vec<_>, String>>()
            .map_err(ser::Error::custom)?;
        s.collect_map(texts)
    }

    pub fn deserialize<'de, T, D>(d: D) -> Result<BTreeMap<String, T>, D::Error>
    where
        T: FromStr,
        T::Err: Display,
        D: Deserializer<'de>,
    {
        BTreeMap::<String, String>::deserialize(d)?
            .into_iter()
            .map(|(k, v)| {
                let value = v
                    .parse()
                    .map_err(|e| de::Error::custom(format!("`{k}`: {e}")))?;
                Ok((k, value))
            })
            .collect()
    }
}
