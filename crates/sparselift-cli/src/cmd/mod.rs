//! One module per subcommand, plus the shared error reporting.

pub mod bench;
pub mod check;
pub mod demo;
pub mod eval;
pub mod lift;
pub mod merge;
pub mod paths;
pub mod report;
pub mod sweep;
pub mod train;
pub mod zoo;

use std::process::ExitCode;

/// Prints `error: …` (with its causes) and returns exit code 2 for user errors — bad
/// input files, arguments or data — and 1 for anything else.
pub fn report_error(e: &anyhow::Error) -> ExitCode {
    let message = e.to_string();
    eprintln!("error: {message}");
    for cause in e.chain().skip(1) {
        // Library errors already end with their cause (`file: No such file…`).
        let cause = cause.to_string();
        if !message.contains(&cause) {
            eprintln!("  caused by: {cause}");
        }
    }
    let user = e.chain().any(|c| {
        c.downcast_ref::<sparselift::Error>()
            .is_some_and(|e| e.is_user_error())
            || c.is::<UserError>()
    });
    ExitCode::from(if user { 2 } else { 1 })
}

/// Writes `text` to standard output. A closed pipe (`sparselift zoo mlp | head -1`) ends
/// the output quietly, where `print!` would panic.
pub fn print_stdout(text: &str) -> anyhow::Result<()> {
    use anyhow::Context;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to standard output"),
    }
}

/// An error in the command's own arguments (exit code 2).
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UserError {}

/// Returns a [`UserError`] from the enclosing function.
#[macro_export]
macro_rules! user_bail {
    ($($t:tt)*) => { return Err(anyhow::Error::new($crate::cmd::UserError(format!($($t)*)))) };
}

/// Most runs `--jobs` may ask for. Each job is a thread running whole trainings with its
/// own buffers, so jobs beyond the machine's cores only add memory; the bound keeps a typo
/// (`--jobs 1000000`) from starting a million threads, while staying far above any
/// machine's core count.
pub const MAX_JOBS: usize = 1024;

/// Parses `--jobs`: a whole number from 1 to [`MAX_JOBS`].
pub fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=MAX_JOBS).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number from 1 to {MAX_JOBS} (runs in parallel; more than the \
             machine's cores only costs memory)"
        )),
    }
}
