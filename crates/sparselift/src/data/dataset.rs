//! [`Dataset`]: inputs stored row-major in `f32`, with regression or class targets.

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The largest class count a [`Dataset`] accepts. Every class is one network output and
/// one row of a one-hot batch, so a count far beyond any real task means a misread label
/// column, and is refused before it turns into a huge allocation.
pub const MAX_CLASSES: usize = 1 << 16;

/// What a dataset's samples are labelled with.
#[derive(Clone, Debug, PartialEq)]
pub enum Targets {
    /// Real-valued targets, row-major `[n][dim]`.
    Regression {
        /// The values, `dim` per sample.
        values: Vec<f32>,
        /// Targets per sample (the network's outputs).
        dim: usize,
    },
    /// One class label per sample, each in `0..classes`.
    Classes {
        /// One label per sample.
        labels: Vec<u32>,
        /// Number of classes (the network's outputs, one logit each).
        classes: usize,
    },
}

/// `n` samples: inputs row-major `[n][input_dim]` and their [`Targets`].
///
/// Samples are stored row-major because that is how files are laid out; the engine works
/// feature-major (see [`Dataset::gather_inputs`]), and converts one batch at a time.
///
/// ```
/// use sparselift::data::{Dataset, Targets};
///
/// let data = Dataset::classification(vec![0.0, 1.0, 2.0, 3.0, 4.0, 5.0], 2, vec![0, 1, 1], 2)?;
/// assert_eq!((data.len(), data.input_dim(), data.output_dim()), (3, 2, 2));
/// assert_eq!(data.input(1), &[2.0, 3.0]);
/// assert!(matches!(data.targets(), Targets::Classes { classes: 2, .. }));
/// # Ok::<(), sparselift::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Dataset {
    // `pub(super)` so the standardisers can rescale in place; everyone else goes through
    // the constructors, which check the invariants below.
    pub(super) n: usize,
    pub(super) input_dim: usize,
    pub(super) inputs: Vec<f32>,
    pub(super) targets: Targets,
}

impl Dataset {
    /// Builds a dataset, checking that the shapes agree, that every value is finite and
    /// that every label is below `classes`.
    pub fn new(inputs: Vec<f32>, input_dim: usize, targets: Targets) -> crate::Result<Dataset> {
        let at = "dataset";
        if input_dim == 0 {
            return Err(crate::Error::invalid(
                at,
                "a dataset needs at least one input feature",
            ));
        }
        let n = inputs.len() / input_dim;
        if n * input_dim != inputs.len() {
            return Err(crate::Error::invalid(
                at,
                format!(
                    "{} input values do not fill rows of {input_dim} features",
                    inputs.len()
                ),
            ));
        }
        if let Some(k) = inputs.iter().position(|x| !x.is_finite()) {
            return Err(crate::Error::invalid(
                at,
                format!(
                    "input of sample {}, feature {} is {}",
                    k / input_dim,
                    k % input_dim,
                    inputs[k]
                ),
            ));
        }
        match &targets {
            Targets::Regression { values, dim } => {
                if *dim == 0 {
                    return Err(crate::Error::invalid(
                        at,
                        "regression targets need dim >= 1",
                    ));
                }
                if values.len() != n * dim {
                    return Err(crate::Error::invalid(
                        at,
                        format!(
                            "{} target values for {n} samples of dimension {dim} (expected {})",
                            values.len(),
                            n * dim
                        ),
                    ));
                }
                if let Some(k) = values.iter().position(|x| !x.is_finite()) {
                    return Err(crate::Error::invalid(
                        at,
                        format!("target {} of sample {} is {}", k % dim, k / dim, values[k]),
                    ));
                }
            }
            Targets::Classes { labels, classes } => {
                if *classes == 0 {
                    return Err(crate::Error::invalid(at, "classification needs >= 1 class"));
                }
                if *classes > MAX_CLASSES {
                    return Err(crate::Error::invalid(
                        at,
                        format!("{classes} classes is more than the {MAX_CLASSES} supported"),
                    )
                    .with_hint(
                        "integer labels are class indices 0..C-1: a huge label usually means \
                         the wrong column was chosen as the label",
                    ));
                }
                if labels.len() != n {
                    return Err(crate::Error::invalid(
                        at,
                        format!("{} labels for {n} samples", labels.len()),
                    ));
                }
                if let Some(i) = labels.iter().position(|&l| l as usize >= *classes) {
                    return Err(crate::Error::invalid(
                        at,
                        format!(
                            "label {} of sample {i} is not below the class count {classes}",
                            labels[i]
                        ),
                    ));
                }
            }
        }
        Ok(Dataset {
            n,
            input_dim,
            inputs,
            targets,
        })
    }

    /// A regression dataset: `inputs` is `[n][input_dim]`, `values` is `[n][dim]`.
    pub fn regression(
        inputs: Vec<f32>,
        input_dim: usize,
        values: Vec<f32>,
        dim: usize,
    ) -> crate::Result<Dataset> {
        Dataset::new(inputs, input_dim, Targets::Regression { values, dim })
    }

    /// A classification dataset: `inputs` is `[n][input_dim]`, one label in `0..classes`
    /// per sample.
    pub fn classification(
        inputs: Vec<f32>,
        input_dim: usize,
        labels: Vec<u32>,
        classes: usize,
    ) -> crate::Result<Dataset> {
        Dataset::new(inputs, input_dim, Targets::Classes { labels, classes })
    }

    /// Number of samples `n`.
    pub fn len(&self) -> usize {
        self.n
    }
    /// True when there are no samples.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }
    /// Number of input features per sample.
    pub fn input_dim(&self) -> usize {
        self.input_dim
    }
    /// Width of the network output this data calls for: the target dimension for
    /// regression, the number of classes (one logit each) for classification.
    pub fn output_dim(&self) -> usize {
        match &self.targets {
            Targets::Regression { dim, .. } => *dim,
            Targets::Classes { classes, .. } => *classes,
        }
    }
    /// True for class labels, false for regression targets.
    pub fn is_classification(&self) -> bool {
        matches!(self.targets, Targets::Classes { .. })
    }
    /// The number of classes, or `None` for regression.
    pub fn classes(&self) -> Option<usize> {
        match &self.targets {
            Targets::Classes { classes, .. } => Some(*classes),
            Targets::Regression { .. } => None,
        }
    }
    /// All inputs, row-major `[n][input_dim]`.
    pub fn inputs(&self) -> &[f32] {
        &self.inputs
    }
    /// The inputs of sample `i` (panics when `i >= len()`, like slice indexing).
    pub fn input(&self, i: usize) -> &[f32] {
        &self.inputs[i * self.input_dim..(i + 1) * self.input_dim]
    }
    /// The targets.
    pub fn targets(&self) -> &Targets {
        &self.targets
    }
    /// All class labels, or `None` for regression.
    pub fn labels(&self) -> Option<&[u32]> {
        match &self.targets {
            Targets::Classes { labels, .. } => Some(labels),
            Targets::Regression { .. } => None,
        }
    }
    /// Number of samples in each class, or `None` for regression.
    pub fn class_counts(&self) -> Option<Vec<usize>> {
        let Targets::Classes { labels, classes } = &self.targets else {
            return None;
        };
        let mut counts = vec![0; *classes];
        for &l in labels {
            counts[l as usize] += 1;
        }
        Some(counts)
    }

    /// The samples at `idx`, in that order (an index may repeat). Panics on an index
    /// `>= len()`, like slice indexing: indices come from code, not from users.
    pub fn subset(&self, idx: &[usize]) -> Dataset {
        let d = self.input_dim;
        let mut inputs = Vec::with_capacity(idx.len() * d);
        for &i in idx {
            inputs.extend_from_slice(self.input(i));
        }
        let targets = match &self.targets {
            Targets::Regression { values, dim } => Targets::Regression {
                values: idx
                    .iter()
                    .flat_map(|&i| &values[i * dim..(i + 1) * dim])
                    .copied()
                    .collect(),
                dim: *dim,
            },
            Targets::Classes { labels, classes } => Targets::Classes {
                labels: idx.iter().map(|&i| labels[i]).collect(),
                classes: *classes,
            },
        };
        Dataset {
            n: idx.len(),
            input_dim: d,
            inputs,
            targets,
        }
    }

    /// Splits into `(train, test)`: a [`ChaCha8Rng`] seeded with `seed` shuffles the sample
    /// indices and the first `round(n * test_fraction)` of them form the test set. Both
    /// parts keep the file order of their samples, so the split is readable and depends
    /// only on `seed` (and on the `rand` version pinned by `Cargo.lock`, whose shuffle
    /// algorithm it uses). The split is not stratified.
    ///
    /// Errors when `test_fraction` is not in `[0, 1]`: it usually comes from the command line.
    ///
    /// ```
    /// # let data = sparselift::data::Dataset::regression((0..10).map(|x| x as f32).collect(), 1, vec![0.0; 10], 1)?;
    /// let (train, test) = data.split(0.2, 7)?;
    /// assert_eq!((train.len(), test.len()), (8, 2));
    /// assert_eq!(data.split(0.2, 7)?, (train, test)); // same seed, same split
    /// # Ok::<(), sparselift::Error>(())
    /// ```
    pub fn split(&self, test_fraction: f64, seed: u64) -> crate::Result<(Dataset, Dataset)> {
        if !(0.0..=1.0).contains(&test_fraction) {
            return Err(crate::Error::invalid(
                "test fraction",
                format!("{test_fraction} is not between 0 and 1"),
            )
            .with_hint("use e.g. 0.2 to hold out 20% of the samples for testing"));
        }
        let n_test = ((self.n as f64) * test_fraction).round() as usize;
        let mut perm: Vec<usize> = (0..self.n).collect();
        perm.shuffle(&mut ChaCha8Rng::seed_from_u64(seed));
        let (test, train) = perm.split_at_mut(n_test);
        test.sort_unstable();
        train.sort_unstable();
        Ok((self.subset(train), self.subset(test)))
    }

    /// The mean squared error of the best constant predictor: the variance of each
    /// regression target dimension about its own mean, averaged over dimensions, i.e.
    /// `Σ_{i,d} (y_id − ȳ_d)² / (n · dim)` over all entries. Dividing an MSE by it gives the
    /// normalised MSE of docs/semantics.md §3 (1 means "no better than predicting the
    /// mean"). Per-dimension means, rather than one pooled mean, keep that reading true
    /// when the output dimensions have different offsets; for one dimension, or
    /// standardised targets, the two agree.
    ///
    /// `None` for classification or an empty dataset. Computed in `f64`. Zero for constant
    /// targets: the caller must not divide by it then.
    pub fn target_variance(&self) -> Option<f64> {
        let Targets::Regression { values, dim } = &self.targets else {
            return None;
        };
        if self.n == 0 {
            return None;
        }
        let (mean, _) = super::standardize::column_moments(values, *dim);
        let sum: f64 = values
            .chunks_exact(*dim)
            .flat_map(|row| row.iter().zip(&mean).map(|(&y, m)| (y as f64 - m).powi(2)))
            .sum();
        Some(sum / values.len() as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toy_regression(n: usize) -> Dataset {
        // Sample i has inputs (i, 10 i) and targets (i, -i): every value tells its sample.
        let inputs = (0..n).flat_map(|i| [i as f32, 10.0 * i as f32]).collect();
        let values = (0..n).flat_map(|i| [i as f32, -(i as f32)]).collect();
        Dataset::regression(inputs, 2, values, 2).unwrap()
    }

    #[test]
    fn constructors_reject_inconsistent_shapes_and_values() {
        let e = Dataset::regression(vec![1.0; 5], 2, vec![0.0; 2], 1).unwrap_err();
        assert!(e.to_string().contains("do not fill rows"), "{e}");
        let e = Dataset::regression(vec![1.0; 4], 2, vec![0.0; 3], 1).unwrap_err();
        assert!(e.to_string().contains("3 target values"), "{e}");
        let e = Dataset::classification(vec![1.0; 4], 2, vec![0, 3], 3).unwrap_err();
        assert!(e.to_string().contains("label 3 of sample 1"), "{e}");
        let e = Dataset::regression(vec![1.0, f32::NAN], 1, vec![0.0; 2], 1).unwrap_err();
        assert!(e.to_string().contains("sample 1, feature 0 is NaN"), "{e}");
        let e = Dataset::regression(vec![1.0; 2], 1, vec![0.0, f32::INFINITY], 1).unwrap_err();
        assert!(e.to_string().contains("of sample 1 is inf"), "{e}");
        assert!(Dataset::regression(vec![], 0, vec![], 1).is_err());
        let e = Dataset::classification(vec![0.0], 1, vec![70_000], 70_001).unwrap_err();
        assert!(
            e.to_string()
                .contains("70001 classes is more than the 65536"),
            "{e}"
        );
    }

    #[test]
    fn subset_picks_rows_in_the_given_order() {
        let data = toy_regression(5);
        let sub = data.subset(&[3, 0, 3]);
        assert_eq!(sub.len(), 3);
        assert_eq!(sub.inputs(), &[3.0, 30.0, 0.0, 0.0, 3.0, 30.0]);
        assert_eq!(
            sub.targets(),
            &Targets::Regression {
                values: vec![3.0, -3.0, 0.0, -0.0, 3.0, -3.0],
                dim: 2
            }
        );
        let classes = Dataset::classification(vec![0.0, 1.0, 2.0], 1, vec![2, 0, 1], 3).unwrap();
        assert_eq!(classes.subset(&[2, 0]).labels(), Some(&[1, 2][..]));
    }

    #[test]
    fn split_is_a_deterministic_partition() {
        let data = toy_regression(100);
        let (train, test) = data.split(0.25, 3).unwrap();
        assert_eq!((train.len(), test.len()), (75, 25));
        // A partition: every sample (identified by its first input) lands in exactly one part.
        let mut seen: Vec<f32> = train
            .inputs()
            .iter()
            .chain(test.inputs())
            .step_by(2)
            .copied()
            .collect();
        seen.sort_by(f32::total_cmp);
        assert_eq!(seen, (0..100).map(|i| i as f32).collect::<Vec<_>>());
        // Targets travel with their inputs.
        for i in 0..test.len() {
            let Targets::Regression { values, .. } = test.targets() else {
                unreachable!()
            };
            assert_eq!(values[2 * i], test.input(i)[0]);
        }
        assert_eq!(data.split(0.25, 3).unwrap(), (train.clone(), test.clone()));
        let (_, other) = data.split(0.25, 4).unwrap();
        assert_ne!(
            other, test,
            "a different seed should draw a different test set"
        );
        // Both parts keep file order.
        let firsts: Vec<f32> = test.inputs().chunks(2).map(|row| row[0]).collect();
        assert!(firsts.windows(2).all(|w| w[0] < w[1]), "{firsts:?}");
    }

    #[test]
    fn split_edges_and_bad_fractions() {
        let data = toy_regression(10);
        let (train, test) = data.split(0.0, 1).unwrap();
        assert_eq!((train.len(), test.len()), (10, 0));
        let (train, test) = data.split(1.0, 1).unwrap();
        assert_eq!((train.len(), test.len()), (0, 10));
        for bad in [-0.1, 1.5, f64::NAN] {
            let e = data.split(bad, 1).unwrap_err().to_string();
            assert!(e.contains("not between 0 and 1"), "{e}");
        }
    }

    #[test]
    fn target_variance_uses_per_dimension_means() {
        // Dimension 0 holds 0..4 (variance 2), dimension 1 holds 100 + 2*(0..4) (variance 8):
        // the mean of the two is 5, whatever the offset 100.
        let values: Vec<f32> = (0..5)
            .flat_map(|i| [i as f32, 100.0 + 2.0 * i as f32])
            .collect();
        let data = Dataset::regression(vec![0.0; 5], 1, values, 2).unwrap();
        assert!((data.target_variance().unwrap() - 5.0).abs() < 1e-12);
        let classes = Dataset::classification(vec![0.0], 1, vec![0], 1).unwrap();
        assert_eq!(classes.target_variance(), None);
        assert_eq!(classes.class_counts(), Some(vec![1]));
    }
}
