//! Atomic file writes: every file the library writes for users (checkpoints, trajectories,
//! results, experiment files, summaries, figures, lifts) is replaced in one step, so a
//! reader — or a run resumed after a crash or a kill — sees either the old content or the
//! new, never a torn mix.
//!
//! The content goes to a temporary file in the same directory (a rename is atomic only
//! within one file system), which is flushed to disk (`fsync`) and renamed over the
//! target; the directory is then synced too, so that the rename itself survives a power
//! loss. The temporary file is created like [`std::fs::write`] creates files (permissions
//! from the umask) and is removed when anything fails.

use crate::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Replaces the content of `path` by `bytes`, atomically and durably.
pub fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    write_with(path, |w| w.write_all(bytes))
}

/// Replaces the content of `path` by what `fill` writes (through a buffer), atomically
/// and durably. When `fill` fails, `path` keeps its old content.
pub fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    let tmp = temporary_path(path);
    let written = write_synced(&tmp, fill).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(Error::io(path, e));
    }
    sync_directory(path).map_err(|e| Error::io(path, e))
}

/// `.NAME.PID.N.tmp` beside `path`: unique among the processes and threads writing there.
fn temporary_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("out");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

fn write_synced(
    tmp: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let file = OpenOptions::new().write(true).create_new(true).open(tmp)?;
    let mut w = BufWriter::new(file);
    fill(&mut w)?;
    w.into_inner().map_err(|e| e.into_error())?.sync_all()
}

/// Syncs the directory holding `path`, which makes a rename in it durable. Only Unix can
/// open a directory as a file; elsewhere the rename is left to the file system.
fn sync_directory(path: &Path) -> std::io::Result<()> {
    if cfg!(unix) {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn writes_and_replaces_without_leaving_temporary_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        write(&path, b"first").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        write(&path, b"second, longer").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second, longer");
        write_with(&path, |w| write!(w, "third {}", 3)).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"third 3");
        assert_eq!(names(dir.path()), ["result.json"]);
    }

    #[test]
    fn a_failed_write_keeps_the_old_content_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("result.json");
        write(&path, b"old").unwrap();
        let failed = write_with(&path, |w| {
            w.write_all(b"partial")?;
            Err(std::io::Error::other("disk full"))
        });
        let message = failed.unwrap_err().to_string();
        assert!(
            message.contains("result.json") && message.contains("disk full"),
            "{message}"
        );
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["result.json"]);
    }

    #[test]
    fn a_missing_directory_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("absent").join("result.json");
        let message = write(&path, b"x").unwrap_err().to_string();
        assert!(message.contains("absent"), "{message}");
    }
}
