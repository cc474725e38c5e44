//! Reading a checkpoint file within bounds. A safetensors file is an 8-byte little-endian
//! header length, the JSON header, then the tensor data, whose extent the header gives.
//! The header is read first, so that a file's size is known — and checked against the
//! cap and the machine's memory — before the data are read; a device such as `/dev/zero`
//! or a file with bytes after its tensors is refused, never read to the end.

use super::corrupt;
use crate::bounded::{self, Cap};
use crate::{budget, Error, Result};
use std::io::Read;
use std::path::Path;

/// The largest header read: the safetensors format's own limit.
const MAX_HEADER: u64 = 100_000_000;

/// The bytes of the checkpoint at `path`, read only as far as its header says it extends.
pub(super) fn read(path: &Path) -> Result<Vec<u8>> {
    let mut file = bounded::open(path, Cap::CHECKPOINT)?;
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::UnexpectedEof => corrupt(path, "the file is truncated"),
        _ => Error::io(path, e),
    };
    let mut prefix = [0u8; 8];
    file.read_exact(&mut prefix).map_err(io)?;
    let header_len = u64::from_le_bytes(prefix);
    if header_len == 0 || header_len > MAX_HEADER {
        return Err(corrupt(
            path,
            format!("a header of {header_len} bytes (a safetensors header has 1 to {MAX_HEADER})"),
        ));
    }
    let mut bytes = prefix.to_vec();
    (&mut file)
        .take(header_len)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if (bytes.len() as u64) < 8 + header_len {
        return Err(corrupt(path, "the file is truncated in its header"));
    }
    let data_len = data_extent(&bytes[8..]).map_err(|e| corrupt(path, e))?;
    let total = data_len.saturating_add(8 + header_len);
    let mut estimate = budget::Estimate::default();
    estimate.add("the checkpoint file", total);
    estimate.check(
        &path.display().to_string(),
        "this checkpoint is larger than this machine can hold; is its header damaged?",
    )?;
    if total > Cap::CHECKPOINT.bytes() {
        return Err(corrupt(
            path,
            format!("its header describes {total} bytes, over the checkpoint cap"),
        ));
    }
    // Fits in memory, as just checked, so it fits in usize.
    bytes.reserve(usize::try_from(data_len).unwrap_or(0));
    file.take(data_len.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    match (bytes.len() as u64).cmp(&total) {
        std::cmp::Ordering::Less => Err(corrupt(
            path,
            format!(
                "the file is truncated: its header describes {total} bytes, it has {}",
                bytes.len()
            ),
        )),
        std::cmp::Ordering::Greater => Err(corrupt(
            path,
            "bytes after the tensors its header describes",
        )),
        std::cmp::Ordering::Equal => Ok(bytes),
    }
}

/// The length of the data section: the largest end offset of the header's tensors.
fn data_extent(header: &[u8]) -> std::result::Result<u64, String> {
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(header).map_err(|e| format!("unreadable header: {e}"))?;
    let mut end = 0u64;
    for (name, tensor) in header.iter().filter(|(k, _)| *k != "__metadata__") {
        let offsets = tensor
            .get("data_offsets")
            .and_then(|o| o.as_array())
            .filter(|o| o.len() == 2)
            .and_then(|o| Some((o[0].as_u64()?, o[1].as_u64()?)))
            .ok_or_else(|| format!("tensor `{name}` has no valid data_offsets"))?;
        end = end.max(offsets.1);
    }
    Ok(end)
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Dir(std::path::PathBuf);
    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn file(dir: &Dir, name: &str, bytes: &[u8]) -> std::path::PathBuf {
        let path = dir.0.join(name);
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn safetensors(header: &str, data: &[u8]) -> Vec<u8> {
        let mut out = (header.len() as u64).to_le_bytes().to_vec();
        out.extend_from_slice(header.as_bytes());
        out.extend_from_slice(data);
        out
    }

    #[test]
    fn a_file_is_read_exactly_as_far_as_its_header_says() {
        let dir =
            Dir(std::env::temp_dir().join(format!("sparselift-framing-{}", std::process::id())));
        std::fs::create_dir_all(&dir.0).unwrap();
        let header = r#"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,3]}}"#;
        let good = safetensors(header, &[1, 2, 3]);
        assert_eq!(read(&file(&dir, "good", &good)).unwrap(), good);

        let mut longer = good.clone();
        longer.push(0);
        let e = read(&file(&dir, "longer", &longer))
            .unwrap_err()
            .to_string();
        assert!(e.contains("bytes after the tensors"), "{e}");

        let e = read(&file(&dir, "short", &good[..good.len() - 1]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("truncated: its header describes 64 bytes, it has 63"),
            "{e}"
        );

        let huge = r#"{"a":{"dtype":"U8","shape":[3],"data_offsets":[0,18000000000000000000]}}"#;
        let e = read(&file(&dir, "huge", &safetensors(huge, &[])))
            .unwrap_err()
            .to_string();
        assert!(e.contains("needs an estimated"), "{e}");

        let e = read(&file(&dir, "zero", &[0u8; 64]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("a header of 0 bytes"), "{e}");
    }

    #[test]
    fn an_endless_device_is_refused_without_reading_it() {
        let path = Path::new("/dev/zero");
        if !path.exists() {
            eprintln!("skipped: this system has no /dev/zero");
            return;
        }
        let e = read(path).unwrap_err().to_string();
        assert!(e.contains("a header of 0 bytes"), "{e}");
    }
}
