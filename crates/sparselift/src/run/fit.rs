//! Whether a run's data fit its module, checked before training and told in terms of where
//! the data came from (`--data`, and `digits` when it is not given), with the notes a user
//! should read beside the scores: a class with no sample in the test or training split.

use crate::data::{Column, CsvTarget, DataSource, Dataset, Targets};
use crate::module::Module;
use crate::train::check_fit;
use crate::{Error, Result};

/// Checks with [`check_fit`] that `train` and `test`, drawn from `source`, fit `module`;
/// an error is placed at the split and the source, with a hint for that source. Returns
/// the notes to show with the run's result.
pub(super) fn check(
    module: &Module,
    source: &DataSource,
    train: &Dataset,
    test: Option<&Dataset>,
) -> Result<Vec<String>> {
    let splits = [("training", Some(train)), ("test", test)];
    for (split, data) in splits {
        let Some(data) = data else { continue };
        check_fit(module, data).map_err(|e| match e {
            Error::Invalid { message, .. } => Error::Invalid {
                at: format!("the {split} set of `{source}`"),
                message,
                hint: Some(hint(module, source, data)),
            },
            other => other,
        })?;
    }
    let classes = match train.targets() {
        Targets::Classes { classes, .. } => *classes,
        Targets::Regression { .. } => return Ok(Vec::new()),
    };
    Ok(splits
        .iter()
        .filter_map(|(split, data)| absent_classes(split, (*data)?, classes))
        .collect())
}

/// What to change when `data`, from `source`, do not fit `module`.
fn hint(module: &Module, source: &DataSource, data: &Dataset) -> String {
    let (din, dout) = (module.input_dim(), module.output_dim());
    match data.targets() {
        _ if data.input_dim() != din => input_hint(source, din, data.input_dim()),
        Targets::Regression { .. } => target_hint(source, dout),
        Targets::Classes { classes, .. } => format!(
            "a classifier of {classes} classes needs {classes} outputs (e.g. `output={classes}` in a zoo module)"
        ),
    }
}

fn input_hint(source: &DataSource, din: usize, have: usize) -> String {
    let data = match source {
        DataSource::Digits => "the data are `digits` (8 × 8 images, 64 inputs, 10 classes) \
            because the command line trains on them when `--data` is not given; "
            .to_string(),
        _ => String::new(),
    };
    format!(
        "{data}give data with {din} features per sample (`--data`), or a module with {have} inputs"
    )
}

fn target_hint(source: &DataSource, dout: usize) -> String {
    match source {
        DataSource::Csv { options, .. }
            if options.target == CsvTarget::Regression(vec![Column::Last]) =>
        {
            "without `:label=` or `:target=`, a CSV file's last column is taken as one \
             regression target; for classes write `--data FILE.csv:label=COLUMN`"
                .to_string()
        }
        _ => format!("give a module with one output per target, or data with {dout} targets"),
    }
}

/// A note naming the classes of `0..classes` with no sample in `data`, if any.
fn absent_classes(split: &str, data: &Dataset, classes: usize) -> Option<String> {
    let counts = data.class_counts()?;
    let absent: Vec<usize> = (0..classes.min(counts.len()))
        .filter(|&c| counts[c] == 0)
        .collect();
    if absent.is_empty() || data.is_empty() {
        return None;
    }
    const SHOWN: usize = 10;
    let mut list: Vec<String> = absent.iter().take(SHOWN).map(|c| c.to_string()).collect();
    if absent.len() > SHOWN {
        list.push(format!("and {} more", absent.len() - SHOWN));
    }
    let consequence = if split == "test" {
        "its test score does not measure them; hold out a larger fraction (--test-fraction) or use more data"
    } else {
        "the network never sees them in training"
    };
    let have = if absent.len() == 1 { "has" } else { "have" };
    Some(format!(
        "{} of {classes} classes (class {}) {have} no sample among the {} {split} samples: {consequence}",
        absent.len(),
        list.join(", "),
        data.len()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mlp(input: usize, output: usize) -> Module {
        crate::zoo::resolve(&format!("zoo:mlp?input={input}&hidden=1&output={output}")).unwrap()
    }

    fn classes(labels: Vec<u32>, classes: usize) -> Dataset {
        let n = labels.len();
        Dataset::classification(vec![0.0; n * 2], 2, labels, classes).unwrap()
    }

    #[test]
    fn an_input_mismatch_on_the_default_digits_says_that_digits_is_the_default() {
        let (train, test) = crate::data::digits();
        let e = check(&mlp(16, 10), &DataSource::Digits, &train, Some(&test))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the training set of `digits`: the module takes 16 inputs per sample, the data have 64"),
            "{e}"
        );
        assert!(e.contains("when `--data` is not given"), "{e}");
        assert!(e.contains("a module with 64 inputs"), "{e}");
    }

    #[test]
    fn a_csv_read_as_regression_says_its_last_column_was_the_target() {
        let source: DataSource = "iris.csv".parse().unwrap();
        let data = Dataset::regression(vec![0.0; 8], 2, vec![1.0; 4], 1).unwrap();
        let e = check(&mlp(2, 3), &source, &data, None)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(
                "the training set of `iris.csv`: the module has 3 outputs, the data have 1 targets"
            ),
            "{e}"
        );
        assert!(
            e.contains("last column is taken as one regression target"),
            "{e}"
        );
        assert!(e.contains(":label=COLUMN"), "{e}");
    }

    #[test]
    fn a_test_label_beyond_the_outputs_is_an_error_not_a_missing_score() {
        let source: DataSource = "x.csv:label=last".parse().unwrap();
        let (train, test) = (classes(vec![0, 1, 0, 1], 3), classes(vec![2, 0], 3));
        let e = check(&mlp(2, 2), &source, &train, Some(&test))
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("the test set of `x.csv:label=last`: class label 2 but the module has only 2 outputs"),
            "{e}"
        );
        assert!(e.contains("needs 3 outputs"), "{e}");
    }

    #[test]
    fn classes_absent_from_a_split_are_noted() {
        let source: DataSource = "x.csv:label=last".parse().unwrap();
        let (train, test) = (classes(vec![0, 1, 2, 2], 3), classes(vec![2, 2], 3));
        let notes = check(&mlp(2, 3), &source, &train, Some(&test)).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(
            notes[0]
                .starts_with("2 of 3 classes (class 0, 1) have no sample among the 2 test samples"),
            "{notes:?}"
        );
        let (train, test) = (classes(vec![0, 0, 2], 3), classes(vec![0, 1, 2], 3));
        let notes = check(&mlp(2, 3), &source, &train, Some(&test)).unwrap();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("(class 1)"), "{notes:?}");
        assert!(
            notes[0].contains("never sees them in training"),
            "{notes:?}"
        );
        assert!(check(&mlp(2, 3), &source, &test, Some(&test))
            .unwrap()
            .is_empty());
    }
}
