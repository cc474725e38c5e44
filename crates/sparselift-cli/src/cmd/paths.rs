//! Checks of the paths named on the command line, made before any work starts: a path
//! that cannot be used is a user error (exit 2) naming the flag and saying what to do,
//! not a bare operating-system error after minutes of training, and an existing file or
//! run is never replaced unless `--force` says so.

use crate::user_bail;
use std::path::{Path, PathBuf};

/// The deepest existing ancestor of `path` (the path itself included) and whether it is
/// a directory. A relative path with no existing prefix resolves to `.`.
fn existing_ancestor(path: &Path) -> (PathBuf, bool) {
    for a in path.ancestors() {
        let a = if a.as_os_str().is_empty() {
            Path::new(".")
        } else {
            a
        };
        if let Ok(meta) = std::fs::metadata(a) {
            return (a.to_path_buf(), meta.is_dir());
        }
    }
    (PathBuf::from("."), true)
}

/// An output directory: an existing directory, or a path that can be created (every
/// existing ancestor is a directory).
pub fn output_dir(flag: &str, path: &Path) -> anyhow::Result<()> {
    let (existing, is_dir) = existing_ancestor(path);
    if is_dir {
        return Ok(());
    }
    if existing == path {
        user_bail!(
            "{flag} {}: is not a directory; name a directory (it is created if missing)",
            path.display()
        )
    }
    user_bail!(
        "{flag} {}: {} is a file, so no directory can be made under it; name another directory",
        path.display(),
        existing.display()
    )
}

/// An output file: its folder exists, and the path is not a directory or a device; an
/// existing file is replaced only with `force`.
pub fn output_file(flag: &str, path: &Path, force: bool) -> anyhow::Result<()> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            user_bail!("{flag} {}: is a directory; name a file", path.display())
        }
        if !meta.is_file() {
            user_bail!(
                "{flag} {}: is not a regular file (a device or a pipe); name a file",
                path.display()
            )
        }
        if !force {
            user_bail!(
                "{flag} {}: the file already exists; pass --force to replace it, or name another file",
                path.display()
            )
        }
        return Ok(());
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match std::fs::metadata(folder) {
        Ok(meta) if meta.is_dir() => Ok(()),
        Ok(_) => user_bail!(
            "{flag} {}: {} is not a folder; name a file in an existing folder",
            path.display(),
            folder.display()
        ),
        Err(_) => user_bail!(
            "{flag} {}: the folder {} does not exist; create it first, or name a file in an existing folder",
            path.display(),
            folder.display()
        ),
    }
}

/// A directory written by an earlier run: it exists, is a directory and holds `file`.
pub fn run_dir(flag: &str, path: &Path, file: &str) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {}
        Ok(_) => user_bail!(
            "{flag} {}: is not a directory; name the directory of the run (its --out)",
            path.display()
        ),
        Err(_) => user_bail!(
            "{flag} {}: no such directory; name the directory of the run (its --out)",
            path.display()
        ),
    }
    if !path.join(file).is_file() {
        user_bail!(
            "{flag} {}: the directory holds no {file}, so there is no run to continue",
            path.display()
        )
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deepest_existing_ancestor_decides() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        std::fs::write(&file, b"x").unwrap();
        assert!(output_dir("--out", &dir.path().join("new/deeper")).is_ok());
        assert!(output_dir("--out", dir.path()).is_ok());
        let e = output_dir("--out", &file).unwrap_err().to_string();
        assert!(
            e.contains("--out") && e.contains("is not a directory"),
            "{e}"
        );
        let e = output_dir("--out", &file.join("sub/x"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("is a file, so no directory"), "{e}");
        assert!(output_dir("--out", Path::new("relative/new")).is_ok());
    }

    #[test]
    fn files_are_replaced_only_when_forced() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f.dot");
        assert!(output_file("--dot", &file, false).is_ok());
        std::fs::write(&file, b"x").unwrap();
        let e = output_file("--dot", &file, false).unwrap_err().to_string();
        assert!(e.contains("--force"), "{e}");
        assert!(output_file("--dot", &file, true).is_ok());
        let e = output_file("--dot", &dir.path().join("no/f.dot"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not exist"), "{e}");
        let e = output_file("--dot", Path::new("/dev/null"), true)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a regular file"), "{e}");
    }
}
