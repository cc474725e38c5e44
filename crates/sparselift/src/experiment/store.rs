//! The resumable results store of a sweep: `DIR/runs.jsonl`, one JSON line per finished
//! run ([`RunRecord`]).
//!
//! **Crash safety.** Each record is appended as one `write_all` of a complete line on a
//! file opened with `O_APPEND`, then `sync_data`. A process killed mid-write can only
//! leave a partial *last* line; [`RunStore::open`] drops it (with a warning) and
//! truncates the file back to its last complete line before appending again, and
//! [`load`] ignores it. A failed write (disk full) is rolled back the same way, so a
//! broken line never ends up in the middle of the file.
//!
//! **Resuming and sharding.** [`finished`] lists the keys already done, so a restarted
//! sweep skips them; [`shard`] splits a grid deterministically over machines, and
//! [`merge`] combines their directories (identical duplicates collapse, conflicting ones
//! are an error naming the run).
//!
//! ```
//! use sparselift::experiment::{store, RunKey, RunRecord};
//!
//! let dir = std::env::temp_dir().join(format!("sparselift-doc-store-{}", std::process::id()));
//! # let _ = std::fs::remove_dir_all(&dir);
//! let runs = store::RunStore::open(&dir)?;
//! runs.append(&RunRecord::new("mlp", 8, 0))?;
//! runs.append(&RunRecord::new("mlp", 8, 1))?;
//! let done = store::finished(&dir)?;
//! assert!(done.contains(&RunKey::new("mlp", 8, 1)));
//! assert_eq!(store::load(&dir)?.records.len(), 2);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::record::{RunKey, RunRecord};
use crate::bounded::{self, Cap};
use crate::{Error, Result};
use std::collections::{BTreeMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Name of the results file inside a sweep directory.
pub const RUNS_FILE: &str = "runs.jsonl";

/// The results file of `dir`.
pub fn runs_path(dir: impl AsRef<Path>) -> PathBuf {
    dir.as_ref().join(RUNS_FILE)
}

/// An open results file that several worker threads append to.
///
/// Only one process may append to a directory at a time (shard across directories and
/// [`merge`] them instead).
#[derive(Debug)]
pub struct RunStore {
    path: PathBuf,
    file: Mutex<File>,
    warnings: Vec<String>,
}

impl RunStore {
    /// Opens (creating if needed) `dir/runs.jsonl` for appending, first removing a
    /// trailing partial line left by a crash.
    pub fn open(dir: impl AsRef<Path>) -> Result<RunStore> {
        let dir = dir.as_ref();
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let path = runs_path(dir);
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        let bytes = bounded::read_from(&file, &path, Cap::RUN_LOG)?;
        let scan = scan(&bytes, &path)?;
        if scan.valid_len < bytes.len() {
            file.set_len(scan.valid_len as u64)
                .and_then(|()| file.sync_all())
                .map_err(|e| Error::io(&path, e))?;
        }
        Ok(RunStore {
            path,
            file: Mutex::new(file),
            warnings: scan.warnings,
        })
    }

    /// Appends one record durably. Safe to call from several threads.
    pub fn append(&self, record: &RunRecord) -> Result<()> {
        record
            .check()
            .map_err(|m| Error::invalid(record.key().to_string(), m))?;
        let mut line = serde_json::to_string(record)
            .map_err(|e| Error::invalid(record.key().to_string(), e.to_string()))?;
        line.push('\n');
        // A panic elsewhere while holding the lock cannot leave a partial line (the
        // write below rolls back on error), so a poisoned lock is still usable.
        let mut file = self.file.lock().unwrap_or_else(|p| p.into_inner());
        let before = file
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(&self.path, e))?;
        let written = file
            .write_all(line.as_bytes())
            .and_then(|()| file.sync_data());
        if let Err(e) = written {
            // Keep the file a sequence of whole lines even after ENOSPC and friends.
            let _ = file.set_len(before);
            return Err(Error::io(&self.path, e));
        }
        Ok(())
    }

    /// The file this store appends to.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What [`RunStore::open`] repaired (a dropped partial line), for the caller to show.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// The records of a results file, plus what was skipped while reading it.
#[derive(Clone, Debug, Default)]
pub struct Loaded {
    /// Records in file order, identical duplicates removed.
    pub records: Vec<RunRecord>,
    /// One line per skipped line: where it was and why.
    pub warnings: Vec<String>,
}

/// Reads `dir/runs.jsonl`. A trailing partial line is ignored with a warning; an
/// unreadable line elsewhere, or two different records for the same run, is an error.
pub fn load(dir: impl AsRef<Path>) -> Result<Loaded> {
    let path = runs_path(&dir);
    let bytes = bounded::read(&path, Cap::RUN_LOG)?;
    let scan = scan(&bytes, &path)?;
    let mut combined = Combined::default();
    for line in scan.lines {
        combined.add(line)?;
    }
    let mut records: Vec<_> = combined.by_key.into_values().map(|l| l.record).collect();
    // File order, not key order: callers that print progress expect it.
    records.sort_by_key(|r| combined.first_seen[&r.key()]);
    Ok(Loaded {
        records,
        warnings: scan.warnings,
    })
}

/// Keys of the runs already recorded in `dir` (empty when there is no results file yet),
/// for `--resume`.
pub fn finished(dir: impl AsRef<Path>) -> Result<HashSet<RunKey>> {
    if !runs_path(&dir).exists() {
        return Ok(HashSet::new());
    }
    Ok(load(dir)?.records.iter().map(RunRecord::key).collect())
}

/// What [`merge`] did.
/// What a merge of results files did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeStats {
    /// Distinct runs written.
    pub runs: usize,
    /// Identical duplicate lines dropped.
    pub duplicates: usize,
    /// What was skipped while reading the inputs, one line each.
    pub warnings: Vec<String>,
}

/// Combines the results of shard directories into `out_dir/runs.jsonl`, sorted by key.
///
/// Runs already in `out_dir` are kept (merging is idempotent). The same run recorded
/// twice with identical content is kept once; with different content it is an error
/// naming the run and both places. The output is written to a temporary file and
/// renamed, so a crash leaves the previous file intact. Do not merge into a directory
/// that a running sweep appends to.
pub fn merge(dirs: &[impl AsRef<Path>], out_dir: impl AsRef<Path>) -> Result<MergeStats> {
    let out_dir = out_dir.as_ref();
    let mut sources: Vec<PathBuf> = dirs.iter().map(|d| d.as_ref().to_path_buf()).collect();
    if runs_path(out_dir).exists() {
        sources.push(out_dir.to_path_buf());
    }
    let mut combined = Combined::default();
    let mut warnings = Vec::new();
    for dir in &sources {
        let path = runs_path(dir);
        let bytes = bounded::read(&path, Cap::RUN_LOG)?;
        let scan = scan(&bytes, &path)?;
        warnings.extend(scan.warnings);
        for line in scan.lines {
            combined.add(line)?;
        }
    }
    std::fs::create_dir_all(out_dir).map_err(|e| Error::io(out_dir, e))?;
    let mut text = String::new();
    for line in combined.by_key.values() {
        text.push_str(&line.raw);
        text.push('\n');
    }
    crate::atomic::write(&runs_path(out_dir), text.as_bytes())?;
    Ok(MergeStats {
        runs: combined.by_key.len(),
        duplicates: combined.duplicates,
        warnings,
    })
}

/// The keys shard `index` of `count` runs: the grid in canonical order (family, size,
/// seed; duplicates removed), every `count`-th key starting at `index`. Round-robin
/// rather than contiguous blocks, so every shard gets a mix of small and large lifts.
pub fn shard(keys: &[RunKey], index: usize, count: usize) -> Result<Vec<RunKey>> {
    if count == 0 || index >= count {
        return Err(Error::invalid(
            format!("shard {index}/{count}"),
            "the shard index must be below the shard count",
        )
        .with_hint("shards are numbered 0..count, e.g. 0/4, 1/4, 2/4, 3/4"));
    }
    let mut sorted = keys.to_vec();
    sorted.sort();
    sorted.dedup();
    Ok(sorted
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % count == index)
        .map(|(_, k)| k)
        .collect())
}

/// One parsed line: the record, its JSON value (for exact comparison, including
/// fields this version does not know) and its text.
struct Line {
    record: RunRecord,
    value: serde_json::Value,
    raw: String,
    at: String,
}

struct Scan {
    lines: Vec<Line>,
    /// Length of the prefix made of complete, parseable lines.
    valid_len: usize,
    warnings: Vec<String>,
}

/// Parses a results file. Only the last line may be broken (that is what a crash during
/// an append leaves); a broken line before it means the file was damaged otherwise.
fn scan(bytes: &[u8], path: &Path) -> Result<Scan> {
    let mut lines = Vec::new();
    let mut warnings = Vec::new();
    let mut valid_len = 0;
    let mut start = 0;
    let mut number = 0;
    while start < bytes.len() {
        number += 1;
        let at = format!("{}:{number}", path.display());
        let newline = bytes[start..].iter().position(|&b| b == b'\n');
        let Some(len) = newline else {
            warnings.push(format!(
                "{at}: ignoring an incomplete last line ({} bytes, no newline), left by an interrupted run",
                bytes.len() - start
            ));
            break;
        };
        let end = start + len + 1;
        let text = &bytes[start..start + len];
        match parse_line(text) {
            Ok(None) => {}
            Ok(Some((record, value, raw))) => lines.push(Line {
                record,
                value,
                raw,
                at,
            }),
            Err(message) if end == bytes.len() => {
                warnings.push(format!(
                    "{at}: ignoring an unreadable last line, left by an interrupted run ({message})"
                ));
                break;
            }
            Err(message) => {
                return Err(Error::invalid(at, message).with_hint(
                    "only the last line can be damaged by a crash; this file was changed by \
                     something else: fix or delete that line",
                ))
            }
        }
        valid_len = end;
        start = end;
    }
    Ok(Scan {
        lines,
        valid_len,
        warnings,
    })
}

type Parsed = (RunRecord, serde_json::Value, String);

fn parse_line(text: &[u8]) -> std::result::Result<Option<Parsed>, String> {
    let text = std::str::from_utf8(text).map_err(|_| "not UTF-8".to_string())?;
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let record: RunRecord = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
    record.check()?;
    Ok(Some((record, value, text.to_string())))
}

/// Records keyed by run, with the duplicate rule shared by [`load`] and [`merge`].
#[derive(Default)]
struct Combined {
    by_key: BTreeMap<RunKey, Line>,
    first_seen: std::collections::HashMap<RunKey, usize>,
    duplicates: usize,
}

impl Combined {
    fn add(&mut self, line: Line) -> Result<()> {
        let key = line.record.key();
        if let Some(seen) = self.by_key.get(&key) {
            if seen.value == line.value {
                self.duplicates += 1;
                return Ok(());
            }
            return Err(Error::invalid(
                key.to_string(),
                format!(
                    "two different results for the same run, at {} and {}",
                    seen.at, line.at
                ),
            )
            .with_hint("a run was recorded twice with different outcomes; keep one line and delete the other"));
        }
        let order = self.first_seen.len();
        self.first_seen.insert(key.clone(), order);
        self.by_key.insert(key, line);
        Ok(())
    }
}
