//! The built-in **digits** dataset: 1797 handwritten digits as 8×8 images, 10 classes.
//!
//! These are the UCI "Optical Recognition of Handwritten Digits" data (Alpaydin & Kaynak,
//! 1998) as bundled with scikit-learn (`sklearn.datasets.load_digits`), licensed
//! CC BY 4.0; `data/README.md` at the repository root records the source and the exact
//! command that wrote `data/digits.csv`. The file is compiled into the library, so the
//! dataset works from any directory and nothing is downloaded.
//!
//! Each of the 64 features (pixel `r, c` at feature `8 r + c`) is a count `0..=16` in the
//! file and is divided by 16 here, so inputs lie in `[0, 1]`.
//!
//! **Images and sequences.** A base module's input is fed its features in row-major
//! order, so the same 64 features are an 8×8 image to an input vertex of shape `[8, 8]`
//! with `conv` edges (`zoo:cnn?output=10`), and 8 tokens (rows) of 8 features to one
//! whose edges treat the first axis as tokens (`token_mix`, attention). A vector input
//! `[64]` sees them flat.
//!
//! **The split is fixed and stratified**: within each class, every fifth sample in file
//! order (scikit-learn's order) — the 5th, 10th, … of that class — is a test sample: 355
//! of them (20%, 34 to 36 per class); the other 1442 train. Interleaving rather than a
//! seeded shuffle keeps the split the same whatever random-number library version is in
//! use. Two simpler fixed splits are worse: the last block of the file is written by
//! other writers than the rest (a shifted distribution), and every fifth sample overall
//! follows the file's cycle through the classes (21 to 52 test samples per class).
//!
//! ```
//! let (train, test) = sparselift::data::digits();
//! assert_eq!((train.len(), test.len()), (1442, 355));
//! assert_eq!((train.input_dim(), train.classes()), (64, Some(10)));
//! assert!(train.inputs().iter().all(|&x| (0.0..=1.0).contains(&x)));
//! ```

use super::{parse_csv, Column, CsvOptions, Dataset, Header};

/// The embedded file: a header `pixel_0_0, …, pixel_7_7, label`, then one row per sample.
const DIGITS_CSV: &str = include_str!("../../../../data/digits.csv");

/// Number of samples in the digits dataset.
pub const DIGITS_SAMPLES: usize = 1797;
/// Number of samples in the fixed digits test set (every fifth of each class).
pub const DIGITS_TEST: usize = 355;

/// The digits dataset split into `(train, test)`: within each class, every fifth sample in
/// file order is a test sample (see the module docs).
pub fn digits() -> (Dataset, Dataset) {
    let all = digits_all();
    let labels = all.labels().expect("digits are classes");
    let mut seen = [0usize; 10];
    let (test, train): (Vec<usize>, Vec<usize>) = (0..DIGITS_SAMPLES).partition(|&i| {
        let c = labels[i] as usize;
        seen[c] += 1;
        seen[c] % 5 == 0
    });
    (all.subset(&train), all.subset(&test))
}

/// All 1797 digits samples, in file order, features scaled to `[0, 1]`.
pub fn digits_all() -> Dataset {
    let options = CsvOptions::label(Column::Name("label".to_string())).header(Header::Present);
    // The embedded file is part of the build and checked by the tests below: failing to
    // parse it is a bug in this crate, not a user error, so panicking is right.
    let mut data = parse_csv(DIGITS_CSV.as_bytes(), "digits.csv (built in)", &options)
        .expect("the built-in digits.csv parses");
    for x in &mut data.inputs {
        *x /= 16.0;
    }
    data
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shape_and_class_counts_match_scikit_learn() {
        let all = digits_all();
        assert_eq!(
            (all.len(), all.input_dim(), all.classes()),
            (1797, 64, Some(10))
        );
        // `np.bincount(load_digits().target)`.
        let counts = [178, 182, 177, 183, 181, 182, 181, 179, 174, 180];
        assert_eq!(all.class_counts().unwrap(), counts);
        // The first ten samples are the digits 0..9 in order, as in scikit-learn.
        assert_eq!(
            &all.labels().unwrap()[..10],
            &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]
        );
    }

    #[test]
    fn pixel_values_are_the_original_counts_over_16() {
        let all = digits_all();
        // `load_digits().data[0]`, the famous "0".
        #[rustfmt::skip]
        let first: [u8; 64] = [
            0, 0, 5, 13, 9, 1, 0, 0, 0, 0, 13, 15, 10, 15, 5, 0,
            0, 3, 15, 2, 0, 11, 8, 0, 0, 4, 12, 0, 0, 8, 8, 0,
            0, 5, 8, 0, 0, 9, 8, 0, 0, 4, 11, 0, 1, 12, 7, 0,
            0, 2, 14, 5, 10, 12, 0, 0, 0, 0, 6, 13, 10, 0, 0, 0,
        ];
        let expected: Vec<f32> = first.iter().map(|&p| p as f32 / 16.0).collect();
        assert_eq!(all.input(0), expected);
        // `load_digits().data.sum()`: every pixel of every sample, as a checksum of the file.
        let total: f64 = all.inputs().iter().map(|&x| x as f64 * 16.0).sum();
        assert_eq!(total, 561718.0);
        // Every value is an exact multiple of 1/16 in [0, 1].
        assert!(all
            .inputs()
            .iter()
            .all(|&x| (0.0..=1.0).contains(&x) && (x * 16.0).fract() == 0.0));
    }

    #[test]
    fn split_takes_every_fifth_sample_of_each_class_for_testing() {
        let all = digits_all();
        let (train, test) = digits();
        assert_eq!((train.len(), test.len()), (1442, 355));
        assert_eq!(train.input(0), all.input(0));
        // Found with Python's csv module: the first and last test rows of the file, and
        // the test samples per class.
        assert_eq!(test.input(0), all.input(33));
        assert_eq!(test.input(354), all.input(1795));
        let counts = [35, 36, 35, 36, 36, 36, 36, 35, 34, 36];
        assert_eq!(test.class_counts().unwrap(), counts);
        assert_eq!(test.classes(), Some(10));
    }
}
