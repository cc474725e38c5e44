//! Standardisation: per-column `x ↦ (x − mean) / std`, fitted on training data only.
//!
//! [`Standardizer`] rescales input features; [`TargetStandardizer`] rescales regression
//! targets to zero mean and unit variance (the witness task of docs/semantics.md §4 does
//! this, so that the target variance is 1 and the normalised MSE is the plain mean squared
//! error). Both are fitted on the training set and then applied unchanged to the test set,
//! so no test statistic leaks into training.
//!
//! Statistics are population moments (divide by `n`, as scikit-learn's `StandardScaler`),
//! accumulated in `f64`.
//!
//! **Constant columns are centred but not scaled.** A column whose training values are all
//! equal has standard deviation 0: dividing by it would produce NaN and infinities, and
//! dividing by a small epsilon instead would blow any test value that differs from the
//! constant up to an arbitrary size. The column carries no information during training
//! anyway, so it is shifted to 0 and keeps its original unit.
//!
//! ```
//! use sparselift::data::{Dataset, Standardizer};
//!
//! let mut train = Dataset::regression(vec![1.0, 5.0, 3.0, 5.0], 2, vec![0.0, 1.0], 1)?;
//! let mut test = Dataset::regression(vec![4.0, 6.0], 2, vec![0.0], 1)?;
//! let s = Standardizer::fit(&train);
//! s.apply(&mut train)?;
//! s.apply(&mut test)?;
//! // Feature 0 has mean 2 and std 1; feature 1 is constant, so it is centred only.
//! assert_eq!(train.inputs(), &[-1.0, 0.0, 1.0, 0.0]);
//! assert_eq!(test.inputs(), &[2.0, 1.0]);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{Dataset, Targets};

/// Per-feature standardisation of inputs, fitted on a training set.
#[derive(Clone, Debug, PartialEq)]
pub struct Standardizer(Affine);

/// Per-dimension standardisation of regression targets, fitted on a training set.
#[derive(Clone, Debug, PartialEq)]
pub struct TargetStandardizer(Affine);

impl Standardizer {
    /// Per-feature mean and standard deviation of `data`'s inputs. An empty dataset gives
    /// the identity (mean 0, scale 1).
    pub fn fit(data: &Dataset) -> Standardizer {
        Standardizer(Affine::fit(&data.inputs, data.input_dim))
    }
    /// Standardises `data`'s inputs in place; errors when its feature count differs from
    /// the one fitted.
    pub fn apply(&self, data: &mut Dataset) -> crate::Result<()> {
        self.0.check_width(data.input_dim, "input features")?;
        self.0.apply(&mut data.inputs);
        Ok(())
    }
    /// The fitted per-feature means.
    pub fn mean(&self) -> &[f64] {
        &self.0.mean
    }
    /// The per-feature divisors: the standard deviation, or 1 for a constant feature.
    pub fn scale(&self) -> &[f64] {
        &self.0.scale
    }
}

impl TargetStandardizer {
    /// Per-dimension mean and standard deviation of `data`'s regression targets; errors on
    /// class labels, which have no scale.
    pub fn fit(data: &Dataset) -> crate::Result<TargetStandardizer> {
        let (values, dim) = regression_values(&data.targets)?;
        Ok(TargetStandardizer(Affine::fit(values, dim)))
    }
    /// Standardises `data`'s regression targets in place.
    pub fn apply(&self, data: &mut Dataset) -> crate::Result<()> {
        let dim = regression_values(&data.targets)?.1;
        self.0.check_width(dim, "target dimensions")?;
        if let Targets::Regression { values, .. } = &mut data.targets {
            self.0.apply(values);
        }
        Ok(())
    }
    /// Maps standardised values (row-major `[n][dim]`, e.g. predictions) back to the
    /// original units.
    pub fn invert(&self, values: &mut [f32]) {
        let width = self.0.mean.len();
        for row in values.chunks_exact_mut(width) {
            for ((y, m), s) in row.iter_mut().zip(&self.0.mean).zip(&self.0.scale) {
                *y = (*y as f64 * s + m) as f32;
            }
        }
    }
    /// The fitted per-dimension means.
    pub fn mean(&self) -> &[f64] {
        &self.0.mean
    }
    /// The per-dimension divisors: the standard deviation, or 1 for a constant dimension.
    pub fn scale(&self) -> &[f64] {
        &self.0.scale
    }
}

fn regression_values(targets: &Targets) -> crate::Result<(&[f32], usize)> {
    match targets {
        Targets::Regression { values, dim } => Ok((values, *dim)),
        Targets::Classes { .. } => Err(crate::Error::invalid(
            "dataset",
            "class labels cannot be standardised",
        )
        .with_hint("target standardisation applies to regression targets only")),
    }
}

/// `x ↦ (x − mean) / scale` per column of a row-major matrix.
#[derive(Clone, Debug, PartialEq)]
struct Affine {
    mean: Vec<f64>,
    scale: Vec<f64>,
}

impl Affine {
    fn fit(values: &[f32], width: usize) -> Affine {
        let (mean, std) = column_moments(values, width);
        // `column_moments` gives exactly 0 for a constant column (see there), so an exact
        // comparison finds the constant columns and no tolerance is needed.
        let scale = std
            .into_iter()
            .map(|s| if s > 0.0 { s } else { 1.0 })
            .collect();
        Affine { mean, scale }
    }

    fn check_width(&self, width: usize, what: &str) -> crate::Result<()> {
        if width == self.mean.len() {
            return Ok(());
        }
        Err(crate::Error::invalid(
            "standardiser",
            format!(
                "fitted on {} {what}, applied to data with {width}",
                self.mean.len()
            ),
        )
        .with_hint("fit the standardiser on the training set of the same data"))
    }

    fn apply(&self, values: &mut [f32]) {
        for row in values.chunks_exact_mut(self.mean.len()) {
            for ((x, m), s) in row.iter_mut().zip(&self.mean).zip(&self.scale) {
                *x = ((*x as f64 - m) / s) as f32;
            }
        }
    }
}

/// Per-column mean and population standard deviation of a row-major `[n][width]` matrix,
/// two-pass in `f64`; zeros when `n = 0`.
///
/// A constant column gets a standard deviation of exactly 0: its `n` copies of one `f32`
/// value sum exactly in `f64` (24-bit mantissas, far fewer than 2^29 rows), so the mean is
/// that value and every deviation is 0.
pub(super) fn column_moments(values: &[f32], width: usize) -> (Vec<f64>, Vec<f64>) {
    let n = values.len() / width;
    let mut mean = vec![0.0f64; width];
    let mut var = vec![0.0f64; width];
    if n == 0 {
        return (mean, var);
    }
    for row in values.chunks_exact(width) {
        for (m, &x) in mean.iter_mut().zip(row) {
            *m += x as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    for row in values.chunks_exact(width) {
        for ((v, m), &x) in var.iter_mut().zip(&mean).zip(row) {
            *v += (x as f64 - m).powi(2);
        }
    }
    let std = var.into_iter().map(|v| (v / n as f64).sqrt()).collect();
    (mean, std)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn moments(values: &[f32]) -> (f64, f64) {
        let n = values.len() as f64;
        let m = values.iter().map(|&x| x as f64).sum::<f64>() / n;
        let v = values.iter().map(|&x| (x as f64 - m).powi(2)).sum::<f64>() / n;
        (m, v)
    }

    #[test]
    fn standardised_training_features_have_zero_mean_unit_variance() {
        // Three features on very different scales and offsets, one constant.
        let n = 50;
        let inputs: Vec<f32> = (0..n)
            .flat_map(|i| {
                let t = i as f32;
                [t, 1e4 + 300.0 * (t * 0.7).sin(), 3.5]
            })
            .collect();
        let mut train = Dataset::regression(inputs, 3, vec![0.0; n], 1).unwrap();
        let s = Standardizer::fit(&train);
        // Feature 0 is 0..49: mean 24.5, population variance (50² − 1) / 12.
        assert!((s.mean()[0] - 24.5).abs() < 1e-12);
        assert!((s.scale()[0] - ((2500.0f64 - 1.0) / 12.0).sqrt()).abs() < 1e-9);
        assert_eq!((s.mean()[2], s.scale()[2]), (3.5, 1.0));
        s.apply(&mut train).unwrap();
        for j in 0..2 {
            let col: Vec<f32> = train.inputs().iter().skip(j).step_by(3).copied().collect();
            let (m, v) = moments(&col);
            assert!(
                m.abs() < 1e-6 && (v - 1.0).abs() < 1e-5,
                "feature {j}: {m} {v}"
            );
        }
        assert!(train.inputs().iter().skip(2).step_by(3).all(|&x| x == 0.0));
    }

    #[test]
    fn test_data_uses_training_statistics() {
        let train = Dataset::regression(vec![0.0, 2.0, 4.0], 1, vec![0.0; 3], 1).unwrap();
        let mut test = Dataset::regression(vec![2.0, 10.0], 1, vec![0.0; 2], 1).unwrap();
        let s = Standardizer::fit(&train);
        s.apply(&mut test).unwrap();
        // Training mean 2, std sqrt(8/3): the test set's own moments play no part.
        let std = (8.0f64 / 3.0).sqrt();
        assert_eq!(test.inputs(), &[0.0, (8.0 / std) as f32]);
        let mut wide = Dataset::regression(vec![0.0; 4], 2, vec![0.0; 2], 1).unwrap();
        let e = s.apply(&mut wide).unwrap_err().to_string();
        assert!(
            e.contains("fitted on 1 input features, applied to data with 2"),
            "{e}"
        );
    }

    #[test]
    fn constant_column_has_exactly_zero_std() {
        // 0.1 is not representable: the sum of its copies must still average back to it.
        let (mean, std) = column_moments(&[0.1f32; 1001], 1);
        assert_eq!((mean[0], std[0]), (0.1f32 as f64, 0.0));
        assert_eq!(column_moments(&[], 2), (vec![0.0; 2], vec![0.0; 2]));
    }

    #[test]
    fn targets_standardise_per_dimension_and_invert() {
        let values: Vec<f32> = (0..20)
            .flat_map(|i| [i as f32, 50.0 - 3.0 * i as f32])
            .collect();
        let mut train = Dataset::regression(vec![0.0; 20], 1, values.clone(), 2).unwrap();
        let t = TargetStandardizer::fit(&train).unwrap();
        t.apply(&mut train).unwrap();
        let Targets::Regression { values: scaled, .. } = train.targets().clone() else {
            unreachable!()
        };
        for d in 0..2 {
            let col: Vec<f32> = scaled.iter().skip(d).step_by(2).copied().collect();
            let (m, v) = moments(&col);
            assert!(m.abs() < 1e-6 && (v - 1.0).abs() < 1e-5, "dim {d}: {m} {v}");
        }
        // Standardised targets have target variance 1 (per-dimension, see Dataset).
        assert!((train.target_variance().unwrap() - 1.0).abs() < 1e-5);
        let mut back = scaled;
        t.invert(&mut back);
        for (a, b) in back.iter().zip(&values) {
            assert!((a - b).abs() < 1e-4, "{a} vs {b}");
        }
        let classes = Dataset::classification(vec![0.0], 1, vec![0], 1).unwrap();
        assert!(TargetStandardizer::fit(&classes).is_err());
    }
}
