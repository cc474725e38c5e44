//! Bounded reads: every file the library reads goes through a [`Cap`] on its size, named in
//! the error, so that a wrong file — `/dev/zero`, a dataset given as a module, a gzip file
//! that inflates to gigabytes — is refused instead of exhausting memory.
//!
//! Sizes are counted while reading, never trusted from the file's metadata (pipes and
//! devices report a length of 0); the metadata only sizes the buffer of a regular file.
//!
//! ```
//! use sparselift::bounded::{self, Cap};
//! let dir = std::env::temp_dir().join(format!("sparselift-bounded-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir)?;
//! let path = dir.join("small.txt");
//! std::fs::write(&path, "0123456789")?;
//! assert_eq!(bounded::read_string(&path, Cap::new("text files", 16))?, "0123456789");
//! let e = bounded::read(&path, Cap::new("text files", 8)).unwrap_err();
//! assert!(e.to_string().contains("larger than the 8 B cap for text files"));
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::{Error, Result};
use std::fs::File;
use std::io::Read;
use std::path::Path;

/// The largest size read for one kind of input file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cap {
    what: &'static str,
    bytes: u64,
}

impl Cap {
    /// A base module (TOML or JSON): a small graph, a few hundred tables at most.
    pub const MODULE: Cap = Cap::new("module files", 64 << 20);
    /// An experiment file: families, sizes and seeds.
    pub const EXPERIMENT: Cap = Cap::new("experiment files", 16 << 20);
    /// A data file (CSV, NPY, IDX), after decompression.
    pub const DATA: Cap = Cap::new("data files", 2 << 30);
    /// An explicit lift (JSON) or edge list: about 20 bytes per lifted edge.
    pub const LIFT: Cap = Cap::new("lift files", 32 << 30);
    /// A checkpoint: θ and the lift's indices, about 8 bytes per lifted edge.
    pub const CHECKPOINT: Cap = Cap::new("checkpoints", 32 << 30);
    /// A sweep's run log (`runs.jsonl`): one line of a few kilobytes per run.
    pub const RUN_LOG: Cap = Cap::new("run logs", 4 << 30);

    /// A cap of `bytes` for files described as `what` in errors ("module files").
    pub const fn new(what: &'static str, bytes: u64) -> Cap {
        Cap { what, bytes }
    }

    /// The cap in bytes.
    pub fn bytes(self) -> u64 {
        self.bytes
    }

    fn exceeded(self, path: &Path, verb: &str) -> Error {
        Error::invalid(
            path.display().to_string(),
            format!(
                "the file {verb} larger than the {} cap for {}",
                show(self.bytes),
                self.what
            ),
        )
        .with_hint(
            "check that this is the right file: one this large is almost surely a mistake \
             (a device such as /dev/zero, or another kind of file)",
        )
    }
}

/// `64 MiB`, `4 GiB`, `8 B`: the cap as it is written in code.
fn show(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 30 && b % (1 << 30) == 0 => format!("{} GiB", b >> 30),
        b if b >= 1 << 20 && b % (1 << 20) == 0 => format!("{} MiB", b >> 20),
        b => format!("{b} B"),
    }
}

/// Reads the whole file at `path`, refusing one larger than `cap`.
pub fn read(path: &Path, cap: Cap) -> Result<Vec<u8>> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    read_from(&file, path, cap)
}

/// Reads the whole file at `path` as UTF-8 text, refusing one larger than `cap`.
pub fn read_string(path: &Path, cap: Cap) -> Result<String> {
    String::from_utf8(read(path, cap)?).map_err(|e| {
        Error::invalid(
            path.display().to_string(),
            format!(
                "the file is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
        .with_hint(format!(
            "{} are text; check that this is the right file",
            cap.what
        ))
    })
}

/// Reads what remains of an open `file` (named `path` in errors), refusing more than `cap`.
pub fn read_from(file: &File, path: &Path, cap: Cap) -> Result<Vec<u8>> {
    // A regular file's length sizes the buffer (so it is not doubled past the cap); a
    // pipe or a device reports 0 and grows the buffer as it is read.
    let hint = file.metadata().map_or(0, |m| m.len()).min(cap.bytes);
    let mut bytes = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
    // One byte past the cap tells a file of exactly `cap` bytes from a larger one.
    file.take(cap.bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io(path, e))?;
    if bytes.len() as u64 > cap.bytes {
        return Err(cap.exceeded(path, "is"));
    }
    Ok(bytes)
}

/// Opens `path` for streaming; reading more than `cap` bytes from it fails with an error
/// (of kind `InvalidData`) that names the cap.
pub fn open(path: &Path, cap: Cap) -> Result<impl Read> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    Ok(Capped {
        inner: file.take(cap.bytes.saturating_add(1)),
        message: cap.exceeded(path, "is").to_string(),
    })
}

/// A reader that fails once more than its cap has been read.
struct Capped<R> {
    inner: std::io::Take<R>,
    message: String,
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        if self.inner.limit() == 0 && n > 0 {
            // The byte past the cap arrived: this file is larger than the cap.
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                self.message.clone(),
            ));
        }
        Ok(n)
    }
}

/// Decompresses gzip data (one or more members) read from `path`, refusing output larger
/// than `cap`.
pub fn inflate(gzip: &[u8], path: &Path, cap: Cap) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(gzip)
        .take(cap.bytes.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(|e| {
            Error::invalid(
                path.display().to_string(),
                format!("corrupt or truncated gzip data: {e}"),
            )
        })?;
    if out.len() as u64 > cap.bytes {
        return Err(cap.exceeded(path, "inflates to"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    struct Dir(std::path::PathBuf);
    impl Dir {
        fn new(tag: &str) -> Dir {
            let p = std::env::temp_dir()
                .join(format!("sparselift-bounded-{tag}-{}", std::process::id()));
            std::fs::create_dir_all(&p).unwrap();
            Dir(p)
        }
    }
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    const SMALL: Cap = Cap::new("test files", 100);

    #[test]
    fn a_file_up_to_the_cap_is_read_and_one_byte_more_is_refused() {
        let d = Dir::new("edge");
        let path = d.0.join("f");
        std::fs::write(&path, [7u8; 100]).unwrap();
        assert_eq!(read(&path, SMALL).unwrap(), vec![7u8; 100]);
        std::fs::write(&path, [7u8; 101]).unwrap();
        let e = read(&path, SMALL).unwrap_err();
        assert!(e.is_user_error());
        let text = e.to_string();
        assert!(
            text.contains("larger than the 100 B cap for test files"),
            "{text}"
        );
        assert!(text.contains(&path.display().to_string()), "{text}");
    }

    #[test]
    fn an_endless_device_is_refused_at_the_cap() {
        let path = Path::new("/dev/zero");
        if !path.exists() {
            eprintln!("skipped: this system has no /dev/zero");
            return;
        }
        let e = read(path, Cap::new("module files", 1 << 20)).unwrap_err();
        assert!(e.to_string().contains("1 MiB cap for module files"), "{e}");
        let mut reader = open(path, SMALL).unwrap();
        let e = std::io::copy(&mut reader, &mut std::io::sink()).unwrap_err();
        assert_eq!(e.kind(), std::io::ErrorKind::InvalidData);
        assert!(e.to_string().contains("/dev/zero"), "{e}");
    }

    #[test]
    fn streaming_stops_only_past_the_cap() {
        let d = Dir::new("stream");
        let path = d.0.join("f");
        std::fs::write(&path, [1u8; 100]).unwrap();
        let mut got = Vec::new();
        open(&path, SMALL).unwrap().read_to_end(&mut got).unwrap();
        assert_eq!(got.len(), 100);
        std::fs::write(&path, [1u8; 101]).unwrap();
        assert!(open(&path, SMALL)
            .unwrap()
            .read_to_end(&mut Vec::new())
            .is_err());
    }

    #[test]
    fn text_must_be_utf8() {
        let d = Dir::new("utf8");
        let path = d.0.join("f");
        std::fs::write(&path, b"ab\xffcd").unwrap();
        let e = read_string(&path, SMALL).unwrap_err().to_string();
        assert!(
            e.contains("not UTF-8 text (invalid byte at offset 2)"),
            "{e}"
        );
    }

    #[test]
    fn a_gzip_bomb_is_refused_at_the_cap_and_small_gzip_inflates() {
        let gz = |data: &[u8]| {
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            enc.write_all(data).unwrap();
            enc.finish().unwrap()
        };
        let name = Path::new("x.gz");
        assert_eq!(inflate(&gz(&[3u8; 100]), name, SMALL).unwrap(), [3u8; 100]);
        // 1 MiB of zeros compresses to about a kilobyte.
        let bomb = gz(&vec![0u8; 1 << 20]);
        assert!(bomb.len() < 4096);
        let e = inflate(&bomb, name, Cap::new("data files", 1000))
            .unwrap_err()
            .to_string();
        assert!(e.contains("inflates to larger than the 1000 B cap"), "{e}");
        let e = inflate(
            &bomb[..bomb.len() / 2],
            name,
            Cap::new("data files", 10 << 20),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("corrupt or truncated gzip"), "{e}");
    }
}
