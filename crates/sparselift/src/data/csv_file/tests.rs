use super::*;

fn parse(text: &str, options: &CsvOptions) -> crate::Result<Dataset> {
    parse_csv(text.as_bytes(), "t.csv", options)
}

/// The (line, column, message) of a parse error; fails the test for any other outcome.
fn parse_error(text: &str, options: &CsvOptions) -> (usize, usize, String) {
    match parse(text, options) {
        Err(Error::Parse {
            path,
            line,
            column,
            message,
        }) => {
            assert_eq!(path, "t.csv");
            (line, column, message)
        }
        other => panic!("expected a parse error, got {other:?}"),
    }
}

fn invalid(text: &str, options: &CsvOptions) -> String {
    match parse(text, options) {
        Err(e @ Error::Invalid { .. }) => e.to_string(),
        other => panic!("expected an Invalid error, got {other:?}"),
    }
}

#[test]
fn default_reads_features_and_last_column_as_regression_target() {
    let data = parse("a,b,y\n1,2,3\n4,5,6.5\n", &CsvOptions::default()).unwrap();
    assert_eq!((data.len(), data.input_dim(), data.output_dim()), (2, 2, 1));
    assert_eq!(data.inputs(), &[1.0, 2.0, 4.0, 5.0]);
    assert_eq!(
        data.targets(),
        &Targets::Regression {
            values: vec![3.0, 6.5],
            dim: 1
        }
    );
    // Without a header the first row is data.
    let data = parse("1,2,3\n4,5,6\n", &CsvOptions::default()).unwrap();
    assert_eq!(data.len(), 2);
}

#[test]
fn regression_targets_by_name_and_index_keep_the_given_order() {
    let text = "y1,x,y2\n1,10,100\n2,20,200\n";
    let by_name =
        CsvOptions::regression(vec![Column::Name("y2".into()), Column::Name("y1".into())]);
    let data = parse(text, &by_name).unwrap();
    assert_eq!(data.inputs(), &[10.0, 20.0]);
    let expected = Targets::Regression {
        values: vec![100.0, 1.0, 200.0, 2.0],
        dim: 2,
    };
    assert_eq!(data.targets(), &expected);
    let by_index = CsvOptions::regression(vec![Column::Index(2), Column::Index(0)]);
    assert_eq!(parse(text, &by_index).unwrap(), data);
}

#[test]
fn integer_labels_are_class_indices() {
    let data = parse(
        "x,label\n0.5,2\n0.25,0\n1,2.0\n",
        &CsvOptions::label(Column::Last),
    )
    .unwrap();
    assert_eq!(data.labels(), Some(&[2, 0, 2][..]));
    // The class count is max + 1 even though class 1 has no sample.
    assert_eq!(data.classes(), Some(3));
    assert_eq!(data.output_dim(), 3);
    // A huge integer label (an id column chosen by mistake) is refused, not allocated.
    let e = invalid("x,id\n1,4000000000\n", &CsvOptions::label(Column::Last));
    assert!(
        e.contains("4000000001 classes") && e.contains("wrong column"),
        "{e}"
    );
}

#[test]
fn text_labels_are_numbered_in_sorted_order() {
    let text = "virginica,1\nsetosa,2\nversicolor,3\nsetosa,4\n";
    // Header-less file whose first row holds a text label: still no header, because only
    // feature cells decide.
    let data = parse(text, &CsvOptions::label(Column::Index(0))).unwrap();
    assert_eq!(data.len(), 4);
    assert_eq!(data.labels(), Some(&[2, 0, 1, 0][..]));
    assert_eq!(data.inputs(), &[1.0, 2.0, 3.0, 4.0]);
    // One non-integer label makes all labels text: "-1" < "0" < "x" byte-wise.
    let data = parse("1,0\n2,x\n3,-1\n", &CsvOptions::label(Column::Last)).unwrap();
    assert_eq!(data.labels(), Some(&[1, 2, 0][..]));
}

#[test]
fn delimiter_is_guessed_or_given() {
    let semi = parse("a;b;y\n1,5;2;3\n", &CsvOptions::default());
    // "1,5" is a European decimal: not a number, and the error says where.
    let e = semi.unwrap_err().to_string();
    assert!(e.starts_with("t.csv:2:1: column 1 (\"a\")"), "{e}");
    let data = parse("a\tb\ty\n1\t2\t3\n", &CsvOptions::default()).unwrap();
    assert_eq!(data.inputs(), &[1.0, 2.0]);
    let data = parse("1|2|3\n", &CsvOptions::default().delimiter(b'|')).unwrap();
    assert_eq!(data.inputs(), &[1.0, 2.0]);
    // Spaces around cells and blank lines are tolerated.
    let data = parse("a, b, y\n\n 1 , 2 ,3\n   \n4,5,6\n", &CsvOptions::default()).unwrap();
    assert_eq!(data.inputs(), &[1.0, 2.0, 4.0, 5.0]);
}

#[test]
fn header_can_be_forced() {
    let text = "1,2,3\n4,5,6\n";
    let data = parse(text, &CsvOptions::default().header(Header::Present)).unwrap();
    assert_eq!(data.len(), 1);
    let data = parse(
        text,
        &CsvOptions::regression(vec![Column::Name("3".into())]).header(Header::Present),
    )
    .unwrap();
    assert_eq!(data.inputs(), &[4.0, 5.0]);
    let (line, column, msg) =
        parse_error("a,b\n1,2\n", &CsvOptions::default().header(Header::Absent));
    assert_eq!((line, column), (1, 1), "{msg}");
}

#[test]
fn ragged_rows_name_line_and_field_counts() {
    let (line, column, msg) = parse_error("a,b,y\n1,2,3\n\n4,5\n", &CsvOptions::default());
    assert_eq!((line, column), (4, 3));
    assert!(
        msg.contains("row has 2 fields, expected 3 like the first row (line 1)"),
        "{msg}"
    );
    let (line, column, _) = parse_error("1,2\n3,4,5\n", &CsvOptions::default());
    assert_eq!((line, column), (2, 3));
    // Blank lines before a record, with either line ending, still count.
    let (line, _, _) = parse_error("\n\na,b\r\n\r\n1,2\n\n\n3\n", &CsvOptions::default());
    assert_eq!(line, 8);
    // A quoted cell spanning lines: the next record's line counts them.
    let label = CsvOptions::label(Column::Index(0));
    let (line, column, _) = parse_error("a,b\n\"x\ny\",2\n3,?\n", &label);
    assert_eq!((line, column), (4, 2));
}

#[test]
fn bad_cells_name_line_column_and_text() {
    let opts = CsvOptions::default();
    let (line, column, msg) = parse_error("a,b,y\n1,2,3\n4,five,6\n", &opts);
    assert_eq!((line, column), (3, 2));
    assert!(
        msg.contains("column 2 (\"b\"): expected a number, found \"five\""),
        "{msg}"
    );
    let (line, column, msg) = parse_error("1,2,3\n4,5,\n", &opts);
    assert_eq!((line, column), (2, 3));
    assert!(msg.contains("column 3: empty cell"), "{msg}");
    for bad in ["NaN", "inf", "-infinity"] {
        let (line, column, msg) = parse_error(&format!("a,b,y\n1,{bad},3\n"), &opts);
        assert_eq!((line, column), (2, 2));
        assert!(msg.contains("not a finite number"), "{msg}");
    }
    let (_, column, msg) = parse_error("a,b,y\n1,2,1e40\n", &opts);
    assert_eq!(column, 3);
    assert!(msg.contains("out of the f32 range"), "{msg}");
    let (line, column, msg) = parse_error("x,c\n1,a\n2,\n", &CsvOptions::label(Column::Last));
    assert_eq!((line, column), (3, 2));
    assert!(msg.contains("empty class label"), "{msg}");
    let (line, column, msg) = parse_error_bytes(b"a,b,y\n1,2,3\n4,\xff,6\n");
    assert_eq!((line, column), (3, 2));
    assert!(msg.contains("UTF-8"), "{msg}");
}

fn parse_error_bytes(bytes: &[u8]) -> (usize, usize, String) {
    match parse_csv(bytes, "t.csv", &CsvOptions::default()) {
        Err(Error::Parse {
            line,
            column,
            message,
            ..
        }) => (line, column, message),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn empty_files_and_bad_column_choices_are_explained() {
    let opts = CsvOptions::default();
    assert!(invalid("", &opts).contains("t.csv: empty file"));
    assert!(invalid(" \n\n", &opts).contains("empty file"));
    assert!(invalid("a,b,y\n", &opts).contains("no data rows"));
    let e = invalid(
        "a,b,y\n1,2,3\n",
        &CsvOptions::regression(vec![Column::Name("z".into())]),
    );
    assert!(
        e.contains("unknown target column \"z\"") && e.contains("hint: the header names: a, b, y"),
        "{e}"
    );
    let e = invalid("1,2,3\n", &CsvOptions::regression(vec![Column::Index(3)]));
    assert!(
        e.contains("index 3 is out of range: the file has 3 columns"),
        "{e}"
    );
    let e = invalid(
        "1,2,3\n",
        &CsvOptions::regression(vec![Column::Name("y".into())]).header(Header::Absent),
    );
    assert!(e.contains("no header"), "{e}");
    let e = invalid(
        "1,2,3\n",
        &CsvOptions::regression(vec![Column::Index(2), Column::Last]),
    );
    assert!(e.contains("chosen twice"), "{e}");
    let e = invalid(
        "1,2\n",
        &CsvOptions::regression(vec![Column::Index(0), Column::Index(1)]),
    );
    assert!(e.contains("no input features"), "{e}");
    assert!(invalid("1,2\n", &CsvOptions::regression(vec![])).contains("no regression target"));
}

#[test]
fn load_csv_reads_a_file_and_names_it_in_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.csv");
    std::fs::write(&good, "x1,x2,y\n0,1,2\n3,4,5\n").unwrap();
    let data = load_csv(&good, &CsvOptions::default()).unwrap();
    assert_eq!((data.len(), data.input_dim()), (2, 2));
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "x1,x2,y\n0,1,2\n3,?,5\n").unwrap();
    let e = load_csv(&bad, &CsvOptions::default())
        .unwrap_err()
        .to_string();
    assert!(e.starts_with(&format!("{}:3:2:", bad.display())), "{e}");
    let missing = dir.path().join("missing.csv");
    let e = load_csv(&missing, &CsvOptions::default()).unwrap_err();
    assert!(matches!(e, Error::Io { .. }) && e.is_user_error(), "{e}");
}
