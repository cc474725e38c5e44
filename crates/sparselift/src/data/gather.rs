//! Batch gathering: from row-major samples to the engine's feature-major layout.
//!
//! The engine keeps activations neuron-major, batch-minor (docs/design.md §3): an input
//! vertex of width `d` holds a `[d][b]` buffer, so feature `j` of the batch is one
//! contiguous vector of length `b`. These functions build exactly that buffer from a list
//! of sample indices, converting to the engine's float type on the way.
//!
//! ```
//! use sparselift::data::Dataset;
//!
//! // Three samples of two features: sample i is (i, 10 + i).
//! let data = Dataset::regression(vec![0.0, 10.0, 1.0, 11.0, 2.0, 12.0], 2, vec![5.0, 6.0, 7.0], 1)?;
//! let mut x: Vec<f64> = Vec::new();
//! data.gather_inputs(&[2, 0], &mut x);
//! assert_eq!(x, [2.0, 0.0, 12.0, 10.0]); // [feature][batch]
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{Dataset, Targets};
use crate::Real;

impl Dataset {
    /// Writes the inputs of samples `idx` feature-major into `out`, resized to
    /// `input_dim * b` with `b = idx.len()`: `out[j * b + i] = inputs[idx[i]][j]`.
    /// Panics on an index `>= len()` (indices come from code, like slice indexing).
    pub fn gather_inputs<T: Real>(&self, idx: &[usize], out: &mut Vec<T>) {
        transpose_rows(&self.inputs, self.input_dim, idx, out);
    }

    /// Writes the targets of samples `idx` as `[output_dim][b]` into `out`: the regression
    /// values, or for classification the one-hot encoding of the labels (so a squared-error
    /// loss can be used on class data too).
    pub fn gather_targets<T: Real>(&self, idx: &[usize], out: &mut Vec<T>) {
        match &self.targets {
            Targets::Regression { values, dim } => transpose_rows(values, *dim, idx, out),
            Targets::Classes { labels, classes } => {
                let b = idx.len();
                out.clear();
                out.resize(classes * b, T::zero());
                for (i, &s) in idx.iter().enumerate() {
                    out[labels[s] as usize * b + i] = T::one();
                }
            }
        }
    }

    /// Writes the class labels of samples `idx` into `out` (resized to `idx.len()`).
    /// Errors on a regression dataset: choosing a classification loss for regression data
    /// is a user mistake, not a bug.
    pub fn gather_labels(&self, idx: &[usize], out: &mut Vec<u32>) -> crate::Result<()> {
        let Targets::Classes { labels, .. } = &self.targets else {
            return Err(crate::Error::invalid(
                "dataset",
                "regression targets have no class labels",
            )
            .with_hint("use a squared-error loss, or load the data with a label column"));
        };
        out.clear();
        out.extend(idx.iter().map(|&s| labels[s]));
        Ok(())
    }
}

/// `out[j * b + i] = rows[idx[i] * width + j]`: a gather and a transpose in one pass.
fn transpose_rows<T: Real>(rows: &[f32], width: usize, idx: &[usize], out: &mut Vec<T>) {
    let b = idx.len();
    out.clear();
    out.resize(width * b, T::zero());
    // Reading each sample's row contiguously and writing with stride `b` touches every
    // input row once; for the batch sizes used (<= a few thousand) the strided writes stay
    // within cache-friendly distance.
    for (i, &s) in idx.iter().enumerate() {
        let row = &rows[s * width..(s + 1) * width];
        for (j, &x) in row.iter().enumerate() {
            out[j * b + i] = T::of(x as f64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_are_feature_major_and_batch_minor() {
        // Sample s has features (100 s + j): each value says where it came from.
        let (n, d) = (6, 3);
        let inputs: Vec<f32> = (0..n)
            .flat_map(|s| (0..d).map(move |j| (100 * s + j) as f32))
            .collect();
        let data = Dataset::regression(inputs, d, vec![0.0; n], 1).unwrap();
        let idx = [4, 1, 1, 5];
        let mut out: Vec<f32> = vec![99.0; 100]; // stale content must be replaced
        data.gather_inputs(&idx, &mut out);
        assert_eq!(out.len(), d * idx.len());
        for (i, &s) in idx.iter().enumerate() {
            for j in 0..d {
                assert_eq!(out[j * idx.len() + i], (100 * s + j) as f32);
            }
        }
        let mut empty: Vec<f64> = vec![1.0];
        data.gather_inputs(&[], &mut empty);
        assert!(empty.is_empty());
    }

    #[test]
    fn regression_targets_are_dim_major() {
        let values = vec![1.0, -1.0, 2.0, -2.0, 3.0, -3.0];
        let data = Dataset::regression(vec![0.0; 3], 1, values, 2).unwrap();
        let mut out: Vec<f64> = Vec::new();
        data.gather_targets(&[2, 0], &mut out);
        assert_eq!(out, [3.0, 1.0, -3.0, -1.0]);
        let mut labels = Vec::new();
        assert!(data.gather_labels(&[0], &mut labels).is_err());
    }

    #[test]
    fn class_targets_are_one_hot_and_labels_are_gathered() {
        let data = Dataset::classification(vec![0.0; 4], 1, vec![2, 0, 1, 2], 3).unwrap();
        let mut out: Vec<f32> = Vec::new();
        data.gather_targets(&[3, 1, 2], &mut out);
        #[rustfmt::skip]
        assert_eq!(out, [
            0.0, 1.0, 0.0, // class 0
            0.0, 0.0, 1.0, // class 1
            1.0, 0.0, 0.0, // class 2
        ]);
        let mut labels = vec![7; 10];
        data.gather_labels(&[3, 1, 2], &mut labels).unwrap();
        assert_eq!(labels, [2, 0, 1]);
    }
}
