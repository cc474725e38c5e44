//! IDX loading (the MNIST file format): an images file and a labels file.
//!
//! An IDX file is a 4-byte magic `0x00 0x00 TYPE NDIM`, then `NDIM` big-endian `u32`
//! dimensions, then the elements in C order. Only unsigned bytes (`TYPE = 0x08`) are read,
//! which is what MNIST, Fashion-MNIST and KMNIST use. Images (`NDIM >= 2`, e.g.
//! `[n, 28, 28]`) become `n` samples of `28·28` features scaled to `[0, 1]` by dividing by
//! 255; labels (`NDIM = 1`) become classes, the class count being the largest label + 1.
//!
//! Either file may be gzip-compressed as distributed (`.gz`): that is detected from the
//! gzip magic bytes `1f 8b`, not from the file name. A truncated or corrupt file is an
//! error naming the file, never a panic.

use std::path::Path;

use super::Dataset;
use crate::bounded::{self, Cap};
use crate::Error;

/// Reads an IDX images file and its labels file (module docs give the format).
///
/// ```no_run
/// let train = sparselift::data::load_idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz")?;
/// assert_eq!(train.input_dim(), 28 * 28);
/// # Ok::<(), sparselift::Error>(())
/// ```
pub fn load_idx(images: impl AsRef<Path>, labels: impl AsRef<Path>) -> crate::Result<Dataset> {
    let (images, labels) = (images.as_ref(), labels.as_ref());
    let image_bytes = bounded::read(images, Cap::DATA)?;
    let label_bytes = bounded::read(labels, Cap::DATA)?;
    parse_idx(
        &image_bytes,
        &images.display().to_string(),
        &label_bytes,
        &labels.display().to_string(),
    )
}

/// [`load_idx`] on file contents already in memory; the names are used in messages.
pub fn parse_idx(
    images: &[u8],
    images_name: &str,
    labels: &[u8],
    labels_name: &str,
) -> crate::Result<Dataset> {
    let (image_dims, pixels) = read_idx(images, images_name)?;
    let (label_dims, labels) = read_idx(labels, labels_name)?;
    if image_dims.len() < 2 {
        return Err(Error::invalid(
            images_name,
            format!("images need at least 2 dimensions [n, ...], got {image_dims:?}"),
        )
        .with_hint("is this the labels file? give the images file first"));
    }
    if label_dims.len() != 1 {
        return Err(Error::invalid(
            labels_name,
            format!("labels need 1 dimension [n], got {label_dims:?}"),
        )
        .with_hint("is this the images file? give the labels file second"));
    }
    let n = image_dims[0];
    if label_dims[0] != n {
        return Err(Error::invalid(
            labels_name,
            format!("{} labels for {n} images in {images_name}", label_dims[0]),
        ));
    }
    let input_dim: usize = image_dims[1..].iter().product();
    if input_dim == 0 {
        return Err(Error::invalid(
            images_name,
            format!("image dimensions {image_dims:?} hold no pixels"),
        ));
    }
    let inputs = pixels.iter().map(|&p| p as f32 / 255.0).collect();
    let labels: Vec<u32> = labels.iter().map(|&l| l as u32).collect();
    let classes = labels.iter().max().map_or(1, |&m| m as usize + 1);
    Dataset::classification(inputs, input_dim, labels, classes)
}

/// Decompresses if gzipped, checks the header against the length, returns the dimensions
/// and the element bytes.
fn read_idx(bytes: &[u8], name: &str) -> crate::Result<(Vec<usize>, Vec<u8>)> {
    let bad = |message: String| Error::invalid(name, message);
    let bytes = if bytes.starts_with(&[0x1f, 0x8b]) {
        bounded::inflate(bytes, Path::new(name), Cap::DATA)?
    } else {
        bytes.to_vec()
    };
    if bytes.len() < 4 {
        return Err(bad(format!(
            "truncated: {} bytes, shorter than the 4-byte IDX magic",
            bytes.len()
        )));
    }
    let [z0, z1, kind, ndim] = [bytes[0], bytes[1], bytes[2], bytes[3]];
    if z0 != 0 || z1 != 0 {
        return Err(bad(format!(
            "not an IDX file: magic {:02x} {:02x} {:02x} {:02x} should start with 00 00",
            z0, z1, kind, ndim
        )));
    }
    if kind != 0x08 {
        return Err(bad(format!(
            "IDX element type 0x{kind:02x} is not supported: only unsigned bytes (0x08) are"
        )));
    }
    if ndim == 0 {
        return Err(bad("IDX file with 0 dimensions".to_string()));
    }
    let header = 4 + 4 * ndim as usize;
    if bytes.len() < header {
        return Err(bad(format!(
            "truncated: the header announces {ndim} dimensions but the file has {} bytes",
            bytes.len()
        )));
    }
    let dims: Vec<usize> = bytes[4..header]
        .chunks_exact(4)
        .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize)
        .collect();
    // At most 255 factors below 2^32 each: the product can overflow, so check it.
    let len = dims
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| bad(format!("dimensions {dims:?} are too large")))?;
    let data = &bytes[header..];
    if data.len() < len {
        return Err(bad(format!(
            "truncated: dimensions {dims:?} need {len} data bytes, the file has {}",
            data.len()
        )));
    }
    if data.len() > len {
        return Err(bad(format!(
            "{} bytes after the {len} announced by dimensions {dims:?}",
            data.len() - len
        )));
    }
    Ok((dims, data.to_vec()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn idx(dims: &[u32], data: &[u8]) -> Vec<u8> {
        let mut out = vec![0, 0, 0x08, dims.len() as u8];
        for d in dims {
            out.extend_from_slice(&d.to_be_bytes());
        }
        out.extend_from_slice(data);
        out
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn error(images: &[u8], labels: &[u8]) -> String {
        parse_idx(images, "img", labels, "lbl")
            .expect_err("expected an error")
            .to_string()
    }

    #[test]
    fn images_are_scaled_and_flattened_labels_are_classes() {
        // Two 2x3 images; pixel values chosen so that /255 is easy to check.
        let pixels = [0, 255, 51, 102, 153, 204, 255, 0, 0, 0, 0, 51];
        let images = idx(&[2, 2, 3], &pixels);
        let labels = idx(&[2], &[7, 2]);
        let data = parse_idx(&images, "img", &labels, "lbl").unwrap();
        assert_eq!(
            (data.len(), data.input_dim(), data.classes()),
            (2, 6, Some(8))
        );
        assert_eq!(data.input(0), &[0.0, 1.0, 0.2, 0.4, 0.6, 0.8]);
        assert_eq!(data.labels(), Some(&[7, 2][..]));
        // The gzipped files read the same, detected by content.
        let zipped = parse_idx(&gzip(&images), "img", &gzip(&labels), "lbl").unwrap();
        assert_eq!(zipped, data);
    }

    #[test]
    fn truncated_and_corrupt_files_are_errors() {
        let images = idx(&[2, 2, 2], &[1; 8]);
        let labels = idx(&[2], &[0, 1]);
        let e = error(&images[..images.len() - 1], &labels);
        assert!(
            e.starts_with("img: truncated: dimensions [2, 2, 2] need 8 data bytes, the file has 7"),
            "{e}"
        );
        let e = error(&images[..9], &labels);
        assert!(
            e.contains("img: truncated: the header announces 3 dimensions"),
            "{e}"
        );
        assert!(error(&images[..3], &labels).contains("shorter than the 4-byte IDX magic"));
        let zipped = gzip(&images);
        let e = error(&zipped[..zipped.len() / 2], &labels);
        assert!(e.starts_with("img: corrupt or truncated gzip data"), "{e}");
        assert!(
            error(&[&images[..], &[9]].concat(), &labels).contains("1 bytes after the 8 announced")
        );
        assert!(error(b"P5 28 28 255", &labels).contains("not an IDX file"));
        let floats = [0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0];
        assert!(error(&floats, &labels).contains("element type 0x0d is not supported"));
        // Claimed dimensions far beyond the data: an error, no huge allocation.
        let e = error(&idx(&[u32::MAX, u32::MAX, u32::MAX], &[]), &labels);
        assert!(e.contains("too large"), "{e}");
    }

    #[test]
    fn mismatched_or_swapped_files_are_explained() {
        let images = idx(&[3, 2], &[0; 6]);
        let e = error(&images, &idx(&[2], &[0, 1]));
        assert!(e.starts_with("lbl: 2 labels for 3 images in img"), "{e}");
        let labels = idx(&[3], &[0, 1, 2]);
        assert!(error(&labels, &images).contains("is this the labels file?"));
        assert!(error(&images, &images).contains("is this the images file?"));
    }

    #[test]
    fn load_idx_reads_files() {
        let dir = tempfile::tempdir().unwrap();
        let (ip, lp) = (
            dir.path().join("i-idx3-ubyte.gz"),
            dir.path().join("l-idx1-ubyte"),
        );
        std::fs::write(&ip, gzip(&idx(&[1, 2, 2], &[0, 255, 255, 0]))).unwrap();
        std::fs::write(&lp, idx(&[1], &[4])).unwrap();
        let data = load_idx(&ip, &lp).unwrap();
        assert_eq!(data.inputs(), &[0.0, 1.0, 1.0, 0.0]);
        let e = load_idx(&ip, dir.path().join("missing")).unwrap_err();
        assert!(matches!(e, Error::Io { .. }), "{e}");
    }
}
