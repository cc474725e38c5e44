//! The library's error type.
//!
//! Every error caused by user input says *where* (a file and line, a vertex, an edge),
//! *what* was expected, and *what to do*. The CLI prints the `Display` form and exits with
//! code 2 for [`Error::is_user_error`] errors.

use std::path::PathBuf;

/// Result alias used throughout the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in sparselift.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be parsed (syntax or wrong field type).
    #[error("{path}:{line}:{column}: {}", tidy(message))]
    Parse {
        /// The file, as the user named it.
        path: String,
        /// 1-based line of the error.
        line: usize,
        /// 1-based column of the error.
        column: usize,
        /// What the parser found wrong.
        message: String,
    },
    /// The input is well-formed but describes something invalid: `at` names the place
    /// (`file:line`, a vertex or an edge), `hint` says what to do.
    #[error("{}: {}{}", tidy(at), tidy(message), hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Invalid {
        /// Where: `file:line`, a vertex, an edge or an argument.
        at: String,
        /// What is wrong.
        message: String,
        /// What to do about it, when there is something to say.
        hint: Option<String>,
    },
    /// An operating-system error while reading or writing a file.
    #[error("{}: {source}", tidy(&path.display().to_string()))]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    /// An [`Error::Invalid`] without a hint.
    pub fn invalid(at: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            at: at.into(),
            message: message.into(),
            hint: None,
        }
    }

    /// Adds (or replaces) the hint of an [`Error::Invalid`]; other variants are unchanged.
    pub fn with_hint(self, text: impl Into<String>) -> Self {
        match self {
            Error::Invalid { at, message, .. } => Error::Invalid {
                at,
                message,
                hint: Some(text.into()),
            },
            other => other,
        }
    }

    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }

    /// True when the error was caused by the user's input rather than by the machine
    /// (the CLI exits with code 2 for these).
    pub fn is_user_error(&self) -> bool {
        match self {
            Error::Parse { .. } | Error::Invalid { .. } => true,
            Error::Io { source, .. } => matches!(
                source.kind(),
                std::io::ErrorKind::NotFound
                    | std::io::ErrorKind::PermissionDenied
                    | std::io::ErrorKind::InvalidData
                    | std::io::ErrorKind::IsADirectory
                    | std::io::ErrorKind::NotADirectory
                    | std::io::ErrorKind::InvalidFilename
            ),
        }
    }
}

/// Longest text of one field of a message; more is echoed input, not explanation.
const MAX_FIELD: usize = 1000;
/// Longest run of digits shown whole; `1e308` printed in full has 309.
const MAX_DIGITS: usize = 20;

/// A message field as shown: runs of more than [`MAX_DIGITS`] digits shortened to their
/// first digits and their length, and at most [`MAX_FIELD`] bytes with the rest counted.
fn tidy(text: &str) -> std::borrow::Cow<'_, str> {
    let long_digits = text
        .as_bytes()
        .split(|b| !b.is_ascii_digit())
        .any(|run| run.len() > MAX_DIGITS);
    if !long_digits && text.len() <= MAX_FIELD {
        return text.into();
    }
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let len = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
        if len > MAX_DIGITS {
            out.push_str(&format!("{}… ({len} digits)", &run[..6]));
        } else {
            out.push_str(&run[..len]);
        }
        rest = &run[len..];
    }
    out.push_str(rest);
    if out.len() > MAX_FIELD {
        let mut cut = MAX_FIELD;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        let more = out.len() - cut;
        out.truncate(cut);
        out.push_str(&format!("… ({more} more bytes)"));
    }
    out.into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn long_digit_runs_and_long_fields_are_shortened_in_messages() {
        let big = format!("{}", 1e308_f64);
        assert_eq!(big.len(), 309);
        let e = Error::invalid("test fraction", format!("{big} is not between 0 and 1"));
        assert_eq!(
            e.to_string(),
            "test fraction: 100000… (309 digits) is not between 0 and 1"
        );
        let echoed = "x".repeat(5000);
        let e = Error::invalid(format!("data source `{echoed}`"), "empty").to_string();
        assert!(e.len() < 1100, "{}", e.len());
        assert!(e.ends_with("… (4014 more bytes): empty"), "{e}");
        let long = Path::new("x").with_file_name("y".repeat(5000));
        let e = Error::io(
            &long,
            std::io::Error::from(std::io::ErrorKind::InvalidFilename),
        );
        assert!(e.is_user_error());
        assert!(e.to_string().len() < 1100, "{}", e.to_string().len());
        let ok = Error::invalid("vertex `h1`", "in-degree 12345678901234567890 of 20 digits");
        assert!(ok.to_string().contains("12345678901234567890 of"));
    }
}
