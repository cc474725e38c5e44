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
    #[error("{path}:{line}:{column}: {message}")]
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
    #[error("{at}: {message}{}", hint.as_ref().map(|h| format!("\n  hint: {h}")).unwrap_or_default())]
    Invalid {
        /// Where: `file:line`, a vertex, an edge or an argument.
        at: String,
        /// What is wrong.
        message: String,
        /// What to do about it, when there is something to say.
        hint: Option<String>,
    },
    /// An operating-system error while reading or writing a file.
    #[error("{}: {source}", path.display())]
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
            ),
        }
    }
}
