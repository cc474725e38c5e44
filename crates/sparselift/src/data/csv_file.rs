//! CSV loading: numeric feature columns plus regression targets or a class label column.
//!
//! - **Delimiter**: given, or guessed from the first non-empty line as whichever of `,`,
//!   tab and `;` occurs most often (comma on a tie or when none occurs).
//! - **Header**: given, or detected: the first row is a header when one of its feature
//!   cells is not a number (a header of purely numeric names is read as data: say
//!   [`Header::Present`]). A target chosen by name implies a header.
//! - **Targets**: [`CsvTarget::Regression`] takes one or more numeric columns;
//!   [`CsvTarget::Classes`] takes one label column. Every other column is a feature, in
//!   file order. By default the last column is the (single) regression target.
//! - **Labels**: when every label is a non-negative integer (`3` or `3.0`) it is the class
//!   index itself and the class count is the largest label + 1. Otherwise every label is
//!   read as text and the distinct texts, **sorted byte-wise**, are classes `0, 1, …`
//!   (`"setosa" < "versicolor" < "virginica"`), so the numbering does not depend on row order.
//! - Cells are trimmed of surrounding spaces; blank lines are skipped.
//!
//! Malformed input is an [`Error::Parse`](crate::Error::Parse) at `file:line:column`, with
//! 1-based line and column (field) numbers: ragged rows, non-numeric cells, NaN or infinite
//! values, empty labels. Column *indices* used to choose targets are 0-based, as in Rust.
//!
//! ```
//! use sparselift::data::{parse_csv, Column, CsvOptions};
//!
//! let text = "x,y,species\n1.0,2.0,b\n3.0,4.0,a\n";
//! let data = parse_csv(text.as_bytes(), "inline.csv", &CsvOptions::label(Column::Name("species".into())))?;
//! assert_eq!((data.len(), data.input_dim(), data.classes()), (2, 2, Some(2)));
//! assert_eq!(data.labels(), Some(&[1, 0][..])); // "a" < "b"
//! # Ok::<(), sparselift::Error>(())
//! ```

use std::collections::BTreeMap;
use std::path::Path;

use super::{Dataset, Targets};
use crate::Error;

/// A column of a CSV file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Column {
    /// By 0-based position.
    Index(usize),
    /// By header name (requires a header row).
    Name(String),
    /// The last column.
    Last,
}

/// Which columns are targets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CsvTarget {
    /// Numeric regression targets, in the order given.
    Regression(Vec<Column>),
    /// One column of class labels.
    Classes(Column),
}

/// Whether the first row names the columns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Header {
    /// A header when a feature cell of the first row is not a number.
    #[default]
    Auto,
    /// The first row is a header.
    Present,
    /// Every row is data.
    Absent,
}

/// How to read a CSV file; `Default` is comma-or-guessed delimiter, detected header, last
/// column as regression target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Field separator; `None` guesses it (see the module docs).
    pub delimiter: Option<u8>,
    /// Whether the first row names the columns.
    pub header: Header,
    /// The target or label columns; every other column is an input feature.
    pub target: CsvTarget,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions {
            delimiter: None,
            header: Header::Auto,
            target: CsvTarget::Regression(vec![Column::Last]),
        }
    }
}

impl CsvOptions {
    /// Regression on the given target columns.
    pub fn regression(columns: Vec<Column>) -> CsvOptions {
        CsvOptions {
            target: CsvTarget::Regression(columns),
            ..CsvOptions::default()
        }
    }
    /// Classification with labels in `column`.
    pub fn label(column: Column) -> CsvOptions {
        CsvOptions {
            target: CsvTarget::Classes(column),
            ..CsvOptions::default()
        }
    }
    /// Sets the delimiter.
    pub fn delimiter(mut self, delimiter: u8) -> CsvOptions {
        self.delimiter = Some(delimiter);
        self
    }
    /// Sets the header mode.
    pub fn header(mut self, header: Header) -> CsvOptions {
        self.header = header;
        self
    }
}

/// Reads a CSV file; see the module docs for the rules.
pub fn load_csv(path: impl AsRef<Path>, options: &CsvOptions) -> crate::Result<Dataset> {
    let path = path.as_ref();
    let bytes = crate::bounded::read(path, crate::bounded::Cap::DATA)?;
    parse_csv(&bytes, &path.display().to_string(), options)
}

/// Parses CSV text already in memory; `name` is the file name used in error messages.
pub fn parse_csv(bytes: &[u8], name: &str, options: &CsvOptions) -> crate::Result<Dataset> {
    let delimiter = options.delimiter.unwrap_or_else(|| guess_delimiter(bytes));
    let rows = read_rows(bytes, name, delimiter)?;
    let width = rows[0].1.len();
    let named_target = match &options.target {
        CsvTarget::Regression(cols) => cols.iter().any(|c| matches!(c, Column::Name(_))),
        CsvTarget::Classes(c) => matches!(c, Column::Name(_)),
    };
    // The label column of the first row may hold text in a header-less file, so header
    // detection looks at the feature cells only (needs the label index before the names).
    let label_guess = match &options.target {
        CsvTarget::Classes(Column::Index(i)) => Some(*i),
        CsvTarget::Classes(Column::Last) => Some(width - 1),
        _ => None,
    };
    let has_header = match options.header {
        Header::Present => true,
        Header::Absent => false,
        Header::Auto => {
            named_target
                || rows[0]
                    .1
                    .iter()
                    .enumerate()
                    .any(|(j, cell)| Some(j) != label_guess && cell.parse::<f64>().is_err())
        }
    };
    let (header, data) = if has_header {
        (Some(&rows[0].1), &rows[1..])
    } else {
        (None, &rows[..])
    };
    if data.is_empty() {
        return Err(Error::invalid(name, "no data rows (only a header)"));
    }
    let resolve = |c: &Column| resolve_column(c, header, width, name);
    let (target_cols, is_label) = match &options.target {
        CsvTarget::Regression(cols) => {
            if cols.is_empty() {
                return Err(Error::invalid(name, "no regression target column chosen"));
            }
            (
                cols.iter()
                    .map(resolve)
                    .collect::<crate::Result<Vec<_>>>()?,
                false,
            )
        }
        CsvTarget::Classes(c) => (vec![resolve(c)?], true),
    };
    for (k, c) in target_cols.iter().enumerate() {
        if target_cols[..k].contains(c) {
            return Err(Error::invalid(
                name,
                format!("target column index {c} is chosen twice"),
            ));
        }
    }
    let features: Vec<usize> = (0..width).filter(|j| !target_cols.contains(j)).collect();
    if features.is_empty() {
        return Err(
            Error::invalid(name, "every column is a target: no input features left")
                .with_hint("choose fewer target columns"),
        );
    }

    let cell_name = |j: usize| match header {
        Some(h) => format!("column {} ({:?})", j + 1, &h[j]),
        None => format!("column {}", j + 1),
    };
    let number = |line: usize, j: usize, text: &str| -> crate::Result<f32> {
        let parse_err = |message: String| Error::Parse {
            path: name.to_string(),
            line,
            column: j + 1,
            message,
        };
        match text.parse::<f64>() {
            Err(_) if text.is_empty() => Err(parse_err(format!(
                "{}: empty cell, expected a number",
                cell_name(j)
            ))),
            Err(_) => Err(parse_err(format!(
                "{}: expected a number, found {text:?}",
                cell_name(j)
            ))),
            Ok(x) if !x.is_finite() => Err(parse_err(format!(
                "{}: {text:?} is not a finite number (NaN and infinities are not allowed)",
                cell_name(j)
            ))),
            Ok(x) if !(x as f32).is_finite() => Err(parse_err(format!(
                "{}: {text} is out of the f32 range",
                cell_name(j)
            ))),
            Ok(x) => Ok(x as f32),
        }
    };

    let mut inputs = Vec::with_capacity(data.len() * features.len());
    let mut values = Vec::new();
    let mut labels = Vec::new();
    for (line, row) in data {
        for &j in &features {
            inputs.push(number(*line, j, &row[j])?);
        }
        if is_label {
            let j = target_cols[0];
            if row[j].is_empty() {
                return Err(Error::Parse {
                    path: name.to_string(),
                    line: *line,
                    column: j + 1,
                    message: format!("{}: empty class label", cell_name(j)),
                });
            }
            labels.push(&row[j]);
        } else {
            for &j in &target_cols {
                values.push(number(*line, j, &row[j])?);
            }
        }
    }
    let targets = if is_label {
        let (labels, classes) = class_indices(&labels);
        Targets::Classes { labels, classes }
    } else {
        Targets::Regression {
            values,
            dim: target_cols.len(),
        }
    };
    Dataset::new(inputs, features.len(), targets)
}

/// Maps label texts to class indices (module docs: integers as themselves, otherwise
/// sorted texts), returning the labels and the class count.
fn class_indices(texts: &[&str]) -> (Vec<u32>, usize) {
    let as_int = |t: &str| {
        let x = t.parse::<f64>().ok()?;
        (x.fract() == 0.0 && (0.0..=u32::MAX as f64 - 1.0).contains(&x)).then_some(x as u32)
    };
    if let Some(ints) = texts
        .iter()
        .map(|t| as_int(t))
        .collect::<Option<Vec<u32>>>()
    {
        let classes = ints.iter().max().map_or(0, |&m| m as usize + 1);
        return (ints, classes);
    }
    let mut index: BTreeMap<&str, u32> = texts.iter().map(|&t| (t, 0)).collect();
    for (k, v) in index.values_mut().enumerate() {
        *v = k as u32;
    }
    (texts.iter().map(|t| index[t]).collect(), index.len())
}

fn resolve_column(
    column: &Column,
    header: Option<&csv::StringRecord>,
    width: usize,
    name: &str,
) -> crate::Result<usize> {
    match column {
        Column::Last => Ok(width - 1),
        Column::Index(i) if *i < width => Ok(*i),
        Column::Index(i) => Err(Error::invalid(
            name,
            format!("target column index {i} is out of range: the file has {width} columns"),
        )
        .with_hint(format!("indices are 0-based: use 0..={}", width - 1))),
        Column::Name(n) => {
            let Some(header) = header else {
                return Err(Error::invalid(
                    name,
                    format!("target column {n:?} is chosen by name but the file has no header"),
                )
                .with_hint("choose the column by its 0-based index instead"));
            };
            header.iter().position(|h| h == n).ok_or_else(|| {
                Error::invalid(name, format!("unknown target column {n:?}")).with_hint(format!(
                    "the header names: {}",
                    header.iter().collect::<Vec<_>>().join(", ")
                ))
            })
        }
    }
}

fn guess_delimiter(bytes: &[u8]) -> u8 {
    let first = bytes
        .split(|&b| b == b'\n')
        .find(|line| line.iter().any(|b| !b.is_ascii_whitespace()))
        .unwrap_or_default();
    let count = |d: u8| first.iter().filter(|&&b| b == d).count();
    // `max_by_key` keeps the last maximum: list comma last so that it wins ties.
    [b';', b'\t', b',']
        .into_iter()
        .max_by_key(|&d| count(d))
        .unwrap_or(b',')
}

/// All non-blank records with their 1-based line numbers; errors on an empty file and on
/// rows whose field count differs from the first row's.
fn read_rows(
    bytes: &[u8],
    name: &str,
    delimiter: u8,
) -> crate::Result<Vec<(usize, csv::StringRecord)>> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true) // ragged rows are reported below, with both field counts
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(bytes);
    // A `StringRecord` keeps a row's fields in one buffer: one allocation per row.
    let mut rows: Vec<(usize, csv::StringRecord)> = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| csv_error(e, name))?;
        let line = record.position().map_or(0, |p| record_line(bytes, p));
        // A line of spaces is a record with one empty field: skip it like a blank line.
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if let Some((first_line, first)) = rows.first() {
            if record.len() != first.len() {
                let (k, m) = (record.len(), first.len());
                return Err(Error::Parse {
                    path: name.to_string(),
                    line,
                    column: k.min(m) + 1,
                    message: format!(
                        "row has {k} fields, expected {m} like the first row (line {first_line})"
                    ),
                });
            }
        }
        rows.push((line, record));
    }
    if rows.is_empty() {
        return Err(Error::invalid(name, "empty file: no rows"));
    }
    Ok(rows)
}

/// The 1-based line a record starts on. The reader reports the position where it began
/// looking for the record, which is before any blank lines it then skipped, so count those.
fn record_line(bytes: &[u8], position: &csv::Position) -> usize {
    let blank = bytes
        .get(position.byte() as usize..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .filter(|&&b| b == b'\n')
        .count();
    position.line() as usize + blank
}

fn csv_error(e: csv::Error, name: &str) -> Error {
    let line = e.position().map_or(0, |p| p.line() as usize);
    match e.kind() {
        csv::ErrorKind::Utf8 { err, .. } => Error::Parse {
            path: name.to_string(),
            line,
            column: err.field() + 1,
            message: "not valid UTF-8".to_string(),
        },
        _ => Error::invalid(format!("{name}:{line}"), e.to_string()),
    }
}

#[cfg(test)]
mod tests;
