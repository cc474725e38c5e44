//! NumPy `.npy` loading: an inputs array `X` and a targets array `y`.
//!
//! - `X` has shape `[n, d]` (or `[n, d1, d2, …]`, flattened to `d = d1·d2·…` features per
//!   sample, e.g. images), of any float, integer or bool dtype; it is converted to `f32`.
//! - `y` has `n` rows. A float `y` is a regression target: shape `[n]` gives one output,
//!   `[n, m]` gives `m`. An integer or bool `y` of shape `[n]` or `[n, 1]` holds class
//!   labels (`>= 0`; the class count is the largest label + 1); an integer `y` of shape
//!   `[n, m > 1]` is read as `m` regression targets.
//! - Both byte orders and both memory orders (C and Fortran) are read.
//!
//! A malformed file (bad header, unsupported dtype such as strings or objects, truncated
//! data) is an error naming the file; a bad value (NaN, infinity, a negative label) is an
//! error naming the file and the element as `file[sample, column]`.

use std::path::Path;

use npyz::{DType, NpyFile, Order, TypeChar};

use super::{Dataset, Targets};
use crate::bounded::{self, Cap};
use crate::Error;

/// Reads inputs from `x_path` and targets from `y_path` (module docs give the rules).
///
/// ```no_run
/// let data = sparselift::data::load_npy("x.npy", "y.npy")?;
/// println!("{} samples of {} features", data.len(), data.input_dim());
/// # Ok::<(), sparselift::Error>(())
/// ```
pub fn load_npy(x_path: impl AsRef<Path>, y_path: impl AsRef<Path>) -> crate::Result<Dataset> {
    let (x_path, y_path) = (x_path.as_ref(), y_path.as_ref());
    let x_bytes = bounded::read(x_path, Cap::DATA)?;
    let y_bytes = bounded::read(y_path, Cap::DATA)?;
    parse_npy(
        &x_bytes,
        &x_path.display().to_string(),
        &y_bytes,
        &y_path.display().to_string(),
    )
}

/// [`load_npy`] on file contents already in memory; the names are used in messages.
pub fn parse_npy(x: &[u8], x_name: &str, y: &[u8], y_name: &str) -> crate::Result<Dataset> {
    let x = Array::read(x, x_name)?;
    let y = Array::read(y, y_name)?;
    if x.shape.len() < 2 {
        return Err(Error::invalid(
            x_name,
            format!(
                "inputs must be 2-D [samples, features], got shape {:?}",
                x.shape
            ),
        )
        .with_hint("for one feature per sample save x.reshape(-1, 1)"));
    }
    let n = x.shape[0];
    let input_dim: usize = x.shape[1..].iter().product();
    if input_dim == 0 {
        return Err(Error::invalid(
            x_name,
            format!("shape {:?} has no features", x.shape),
        ));
    }
    if y.shape.is_empty() || y.shape.len() > 2 {
        return Err(Error::invalid(
            y_name,
            format!(
                "targets must be 1-D [samples] or 2-D [samples, outputs], got shape {:?}",
                y.shape
            ),
        ));
    }
    if y.shape[0] != n {
        return Err(Error::invalid(
            y_name,
            format!(
                "{} has {n} samples (shape {:?}) but the targets have {} (shape {:?})",
                x_name, x.shape, y.shape[0], y.shape
            ),
        ));
    }
    let inputs = x.to_f32(x_name, input_dim)?;
    let dim = y.shape.get(1).copied().unwrap_or(1);
    let targets = match &y.values {
        Values::Int(ints) if dim == 1 => {
            let labels = ints
                .iter()
                .enumerate()
                .map(|(i, &v)| {
                    u32::try_from(v)
                        .ok()
                        .filter(|&l| l < u32::MAX)
                        .ok_or_else(|| {
                            Error::invalid(
                                format!("{y_name}[{i}]"),
                                format!("class label {v} is not in 0..{}", u32::MAX),
                            )
                        })
                })
                .collect::<crate::Result<Vec<u32>>>()?;
            let classes = labels.iter().max().map_or(1, |&m| m as usize + 1);
            Targets::Classes { labels, classes }
        }
        _ => {
            if dim == 0 {
                return Err(Error::invalid(
                    y_name,
                    format!("shape {:?} has no targets", y.shape),
                ));
            }
            Targets::Regression {
                values: y.to_f32(y_name, dim)?,
                dim,
            }
        }
    };
    Dataset::new(inputs, input_dim, targets)
}

/// A decoded array in C order.
struct Array {
    shape: Vec<usize>,
    values: Values,
}

enum Values {
    Float(Vec<f64>),
    // i128 holds every i64 and u64 value, so integer dtypes convert without loss.
    Int(Vec<i128>),
}

impl Array {
    fn read(bytes: &[u8], name: &str) -> crate::Result<Array> {
        let bad = |message: String| Error::invalid(name, message);
        let npy = NpyFile::new(bytes).map_err(|e| bad(format!("not a valid .npy file: {e}")))?;
        let DType::Plain(ty) = npy.dtype() else {
            return Err(bad(format!(
                "structured dtype {} is not supported: save a plain numeric array",
                npy.dtype().descr()
            )));
        };
        let shape: Vec<usize> = npy.shape().iter().map(|&s| s as usize).collect();
        let len = shape
            .iter()
            .try_fold(1usize, |acc, &s| acc.checked_mul(s))
            .ok_or_else(|| bad(format!("shape {shape:?} is too large")))?;
        let size = ty.size_field() as usize;
        let supported = matches!(
            (ty.type_char(), size),
            (TypeChar::Float, 4 | 8)
                | (TypeChar::Int | TypeChar::Uint, 1 | 2 | 4 | 8)
                | (TypeChar::Bool, 1)
        );
        if !supported {
            return Err(bad(format!(
                "dtype {ty} is not supported: use a float, integer or bool array"
            )));
        }
        // Check the length before decoding, so a truncated file is reported as such (and a
        // header announcing a huge shape allocates nothing).
        let order = npy.order();
        let data_len = npy.into_inner().len();
        if data_len / size < len {
            return Err(bad(format!(
                "truncated: shape {shape:?} of {ty} needs {} bytes of data, the file has {data_len}",
                len * size
            )));
        }
        let npy = NpyFile::new(bytes).map_err(|e| bad(e.to_string()))?;
        let decode_err = |e: std::io::Error| bad(format!("cannot decode data: {e}"));
        let values = match (ty.type_char(), size) {
            (TypeChar::Float, 4) => Values::Float(widen(npy.into_vec::<f32>(), decode_err)?),
            (TypeChar::Float, _) => Values::Float(widen(npy.into_vec::<f64>(), decode_err)?),
            (TypeChar::Int, 1) => Values::Int(widen(npy.into_vec::<i8>(), decode_err)?),
            (TypeChar::Int, 2) => Values::Int(widen(npy.into_vec::<i16>(), decode_err)?),
            (TypeChar::Int, 4) => Values::Int(widen(npy.into_vec::<i32>(), decode_err)?),
            (TypeChar::Int, _) => Values::Int(widen(npy.into_vec::<i64>(), decode_err)?),
            (TypeChar::Uint, 1) => Values::Int(widen(npy.into_vec::<u8>(), decode_err)?),
            (TypeChar::Uint, 2) => Values::Int(widen(npy.into_vec::<u16>(), decode_err)?),
            (TypeChar::Uint, 4) => Values::Int(widen(npy.into_vec::<u32>(), decode_err)?),
            (TypeChar::Uint, _) => Values::Int(widen(npy.into_vec::<u64>(), decode_err)?),
            _ => Values::Int(widen(npy.into_vec::<bool>(), decode_err)?),
        };
        let values = if order == Order::Fortran && shape.len() > 1 {
            match values {
                Values::Float(v) => Values::Float(fortran_to_c(&v, &shape)),
                Values::Int(v) => Values::Int(fortran_to_c(&v, &shape)),
            }
        } else {
            values
        };
        Ok(Array { shape, values })
    }

    /// The values as `f32`, each checked finite and in range; `width` is the row length
    /// used to name a bad element as `name[row, column]`.
    fn to_f32(&self, name: &str, width: usize) -> crate::Result<Vec<f32>> {
        let at = |k: usize| format!("{name}[{}, {}]", k / width, k % width);
        let convert = |k: usize, x: f64| {
            let y = x as f32;
            if y.is_finite() {
                Ok(y)
            } else if x.is_finite() {
                Err(Error::invalid(
                    at(k),
                    format!("{x:?} is out of the f32 range"),
                ))
            } else {
                Err(Error::invalid(
                    at(k),
                    format!("{x:?} is not a finite number"),
                ))
            }
        };
        match &self.values {
            Values::Float(v) => v.iter().enumerate().map(|(k, &x)| convert(k, x)).collect(),
            Values::Int(v) => v
                .iter()
                .enumerate()
                .map(|(k, &x)| convert(k, x as f64))
                .collect(),
        }
    }
}

fn widen<S, T: From<S>>(
    read: std::io::Result<Vec<S>>,
    err: impl Fn(std::io::Error) -> Error,
) -> crate::Result<Vec<T>> {
    Ok(read.map_err(err)?.into_iter().map(T::from).collect())
}

/// Reorders a Fortran-order (first index fastest) array into C order (last index fastest).
fn fortran_to_c<T: Copy>(data: &[T], shape: &[usize]) -> Vec<T> {
    // Fortran strides: 1, d0, d0·d1, …
    let mut strides = vec![1usize; shape.len()];
    for a in 1..shape.len() {
        strides[a] = strides[a - 1] * shape[a - 1];
    }
    let mut index = vec![0usize; shape.len()];
    let mut out = Vec::with_capacity(data.len());
    for _ in 0..data.len() {
        out.push(
            data[index
                .iter()
                .zip(&strides)
                .map(|(i, s)| i * s)
                .sum::<usize>()],
        );
        // Advance the multi-index in C order: the last axis fastest.
        for a in (0..shape.len()).rev() {
            index[a] += 1;
            if index[a] < shape[a] {
                break;
            }
            index[a] = 0;
        }
    }
    out
}

#[cfg(test)]
mod tests;
