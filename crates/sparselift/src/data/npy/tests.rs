use super::*;

/// An `.npy` (format 1.0) file: magic, header length, a Python dict literal padded with
/// spaces to a multiple of 64 bytes and ending in a newline, then the raw data.
fn npy(descr: &str, fortran: bool, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let dims: Vec<String> = shape.iter().map(|s| s.to_string()).collect();
    let shape = match dims.len() {
        1 => format!("({},)", dims[0]),
        _ => format!("({})", dims.join(", ")),
    };
    let fortran = if fortran { "True" } else { "False" };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
    while (10 + header.len() + 1) % 64 != 0 {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    out.extend_from_slice(data);
    out
}

fn f32s(values: &[f32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
fn f64s(values: &[f64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}
fn i64s(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

fn parse(x: &[u8], y: &[u8]) -> crate::Result<Dataset> {
    parse_npy(x, "x.npy", y, "y.npy")
}

fn error(x: &[u8], y: &[u8]) -> String {
    parse(x, y).expect_err("expected an error").to_string()
}

#[test]
fn f32_inputs_and_f64_regression_targets() {
    let x = npy(
        "<f4",
        false,
        &[3, 2],
        &f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]),
    );
    let y = npy("<f8", false, &[3], &f64s(&[0.5, -1.0, 2.0]));
    let data = parse(&x, &y).unwrap();
    assert_eq!((data.len(), data.input_dim()), (3, 2));
    assert_eq!(data.inputs(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.5]);
    let expected = Targets::Regression {
        values: vec![0.5, -1.0, 2.0],
        dim: 1,
    };
    assert_eq!(data.targets(), &expected);
    // A 2-D float y gives several outputs.
    let y2 = npy(
        "<f4",
        false,
        &[3, 2],
        &f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    assert_eq!(parse(&x, &y2).unwrap().output_dim(), 2);
}

#[test]
fn integer_and_bool_targets_are_labels() {
    let x = npy("<f8", false, &[4, 1], &f64s(&[0.0, 1.0, 2.0, 3.0]));
    let y = npy("<i8", false, &[4], &i64s(&[3, 0, 1, 3]));
    let data = parse(&x, &y).unwrap();
    assert_eq!(data.labels(), Some(&[3, 0, 1, 3][..]));
    assert_eq!(data.classes(), Some(4));
    let y = npy("|u1", false, &[4, 1], &[1, 0, 0, 2]);
    assert_eq!(parse(&x, &y).unwrap().labels(), Some(&[1, 0, 0, 2][..]));
    let y = npy("|b1", false, &[4], &[1, 0, 0, 1]);
    let data = parse(&x, &y).unwrap();
    assert_eq!(
        (data.labels(), data.classes()),
        (Some(&[1, 0, 0, 1][..]), Some(2))
    );
    // Several integer columns are regression targets, not labels.
    let y = npy("<i8", false, &[4, 2], &i64s(&[1, 2, 3, 4, 5, 6, 7, 8]));
    assert!(!parse(&x, &y).unwrap().is_classification());
}

#[test]
fn byte_order_memory_order_and_image_shapes() {
    // Big-endian f64 in Fortran order: the file lists column 0 (1, 2, 3), then column 1.
    let data: Vec<u8> = [1.0f64, 2.0, 3.0, 10.0, 20.0, 30.0]
        .iter()
        .flat_map(|v| v.to_be_bytes())
        .collect();
    let x = npy(">f8", true, &[3, 2], &data);
    let y = npy(
        "<i4",
        false,
        &[3],
        &[0i32, 1, 2]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect::<Vec<u8>>(),
    );
    let parsed = parse(&x, &y).unwrap();
    assert_eq!(parsed.inputs(), &[1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    // A [n, 2, 2] Fortran array: element (s, r, c) sits at s + 3 (r + 2 c) in the file.
    let vals: Vec<u8> = (0..12u8).collect();
    let x = npy("|u1", true, &[3, 2, 2], &vals);
    let images = parse(&x, &y).unwrap();
    assert_eq!(images.input_dim(), 4);
    for s in 0..3 {
        for (k, (r, c)) in [(0, 0), (0, 1), (1, 0), (1, 1)].into_iter().enumerate() {
            assert_eq!(images.input(s)[k], (s + 3 * (r + 2 * c)) as f32);
        }
    }
}

#[test]
fn shape_errors_name_both_files() {
    let x = npy("<f4", false, &[3, 2], &f32s(&[0.0; 6]));
    let y = npy("<f4", false, &[2], &f32s(&[0.0; 2]));
    let e = error(&x, &y);
    assert!(
        e.starts_with("y.npy: x.npy has 3 samples (shape [3, 2]) but the targets have 2"),
        "{e}"
    );
    let x1 = npy("<f4", false, &[3], &f32s(&[0.0; 3]));
    let e = error(&x1, &y);
    assert!(
        e.contains("x.npy: inputs must be 2-D") && e.contains("reshape(-1, 1)"),
        "{e}"
    );
    let y3 = npy("<f4", false, &[3, 1, 1], &f32s(&[0.0; 3]));
    assert!(error(&x, &y3).contains("targets must be 1-D"));
    let x0 = npy("<f4", false, &[3, 0], &[]);
    assert!(error(&x0, &y).contains("has no features"));
}

#[test]
fn bad_values_name_the_element() {
    let x = npy("<f4", false, &[2, 2], &f32s(&[0.0, 1.0, f32::NAN, 3.0]));
    let y = npy("<f4", false, &[2], &f32s(&[0.0; 2]));
    assert!(error(&x, &y).starts_with("x.npy[1, 0]: NaN is not a finite number"));
    let x = npy("<f8", false, &[2, 2], &f64s(&[0.0, 1e300, 2.0, 3.0]));
    assert!(error(&x, &y).starts_with("x.npy[0, 1]: 1e300 is out of the f32 range"));
    let good_x = npy("<f4", false, &[2, 2], &f32s(&[0.0; 4]));
    let y = npy(
        "<f8",
        false,
        &[2, 2],
        &f64s(&[0.0, 0.0, 0.0, f64::INFINITY]),
    );
    assert!(error(&good_x, &y).starts_with("y.npy[1, 1]: inf is not a finite number"));
    let y = npy("<i8", false, &[2], &i64s(&[0, -1]));
    assert!(error(&good_x, &y).starts_with("y.npy[1]: class label -1 is not in 0.."));
}

#[test]
fn malformed_files_are_errors_not_panics() {
    let good = npy("<f4", false, &[2, 2], &f32s(&[0.0; 4]));
    let y = npy("<f4", false, &[2], &f32s(&[0.0; 2]));
    // Truncated data: the error says how much was expected.
    let e = error(&good[..good.len() - 3], &y);
    assert!(
        e.contains("x.npy: truncated: shape [2, 2] of <f4 needs 16 bytes of data, the file has 13"),
        "{e}"
    );
    // A header announcing an enormous array with no data behind it.
    let huge = npy("<f4", false, &[1 << 40, 1 << 20], &[]);
    assert!(
        error(&huge, &y).contains("x.npy: "),
        "must fail without allocating"
    );
    // Truncated header, no magic, garbage.
    for bad in [&good[..20], b"not an npy file at all".as_slice(), &[]] {
        let e = error(bad, &y);
        assert!(e.starts_with("x.npy: not a valid .npy file"), "{e}");
    }
    let strings = npy("<U3", false, &[2, 1], &[0u8; 24]);
    let e = error(&strings, &y);
    assert!(e.contains("dtype <U3 is not supported"), "{e}");
}

#[test]
fn load_npy_reads_files() {
    let dir = tempfile::tempdir().unwrap();
    let (xp, yp) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
    std::fs::write(
        &xp,
        npy(
            "<f4",
            false,
            &[2, 3],
            &f32s(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
        ),
    )
    .unwrap();
    std::fs::write(&yp, npy("<i8", false, &[2], &i64s(&[1, 0]))).unwrap();
    let data = load_npy(&xp, &yp).unwrap();
    assert_eq!(
        (data.len(), data.input_dim(), data.classes()),
        (2, 3, Some(2))
    );
    let e = load_npy(&xp, dir.path().join("nope.npy")).unwrap_err();
    assert!(e.to_string().contains("nope.npy"), "{e}");
}
