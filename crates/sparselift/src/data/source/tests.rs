use super::*;

fn parse(s: &str) -> DataSource {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn error(s: &str) -> String {
    s.parse::<DataSource>().expect_err(s).to_string()
}

#[test]
fn witness_specs() {
    let w = |s: &str| match parse(s) {
        DataSource::Witness(w) => w,
        other => panic!("{other:?}"),
    };
    let spec = w("witness:m=8,n=512");
    assert_eq!(
        spec,
        WitnessSpec {
            m: 8,
            n: 512,
            noise: 0.0,
            seed: 0,
            test_n: None
        }
    );
    let spec = w("witness:n=100, m=2, noise=0.25, seed=9, test=50");
    assert_eq!(
        spec,
        WitnessSpec {
            m: 2,
            n: 100,
            noise: 0.25,
            seed: 9,
            test_n: Some(50)
        }
    );
    assert_eq!(w("witness:m=1,n=1,test_n=3").test_n, Some(3));
    for (s, message) in [
        ("witness:n=5", "missing `m=`"),
        ("witness", "missing `m=`"),
        ("witness:m=5", "missing `n=`"),
        ("witness:m=0,n=5", "at least 1"),
        (
            "witness:m=-1,n=5",
            "`m=-1`: expected a non-negative integer",
        ),
        (
            "witness:m=2,n=5,noise=-1",
            "`noise=-1`: expected a number >= 0",
        ),
        ("witness:m=2,n=5,noise=nan", "expected a number >= 0"),
        ("witness:m=2,n=5,m=3", "`m` is given twice"),
        ("witness:m=2,n=5,width=3", "unknown key `width`"),
        ("witness:m=2,n", "`n` is not key=value"),
    ] {
        let e = error(s);
        assert!(e.contains(message) && e.contains("hint:"), "{s}: {e}");
    }
}

#[test]
fn csv_sources_and_options() {
    assert_eq!(
        parse("data.csv"),
        DataSource::Csv {
            path: "data.csv".into(),
            options: CsvOptions::default()
        }
    );
    let DataSource::Csv { path, options } =
        parse("dir/iris.csv:label=species,delimiter=semicolon,header=yes")
    else {
        panic!()
    };
    assert_eq!(path, PathBuf::from("dir/iris.csv"));
    let expected = CsvOptions::label(Column::Name("species".into()))
        .delimiter(b';')
        .header(Header::Present);
    assert_eq!(options, expected);
    let DataSource::Csv { options, .. } = parse("x.csv:target=0+last+y") else {
        panic!()
    };
    let cols = vec![Column::Index(0), Column::Last, Column::Name("y".into())];
    assert_eq!(options.target, CsvTarget::Regression(cols));
    let DataSource::Csv { options, .. } = parse("x.TSV") else {
        panic!()
    };
    assert_eq!(options.delimiter, Some(b'\t'));
    // A drive letter is part of the path, not the start of the options.
    let DataSource::Csv { path, options } = parse(r"C:\data\x.csv:label=3") else {
        panic!()
    };
    assert_eq!(
        (path, options.target),
        (
            PathBuf::from(r"C:\data\x.csv"),
            CsvTarget::Classes(Column::Index(3))
        )
    );
    for (s, message) in [
        ("x.csv:label=a,target=b", "either `label=` or `target=`"),
        ("x.csv:label=", "empty column name"),
        ("x.csv:delimiter=,", "`delimiter=`: expected"),
        ("x.csv:header=maybe", "`header=maybe`"),
        ("x.csv:sep=;", "unknown CSV option `sep`"),
    ] {
        let e = error(s);
        assert!(e.contains(message) && e.contains("hint:"), "{s}: {e}");
    }
}

#[test]
fn npy_and_idx_sources() {
    assert_eq!(
        parse("a/x.npy,a/y.npy"),
        DataSource::Npy {
            x: "a/x.npy".into(),
            y: "a/y.npy".into()
        }
    );
    assert_eq!(
        parse("mnist/train-images-idx3-ubyte.gz"),
        DataSource::Idx {
            images: "mnist/train-images-idx3-ubyte.gz".into(),
            labels: "mnist/train-labels-idx1-ubyte.gz".into()
        }
    );
    assert_eq!(
        parse("t10k-images.idx3-ubyte"),
        DataSource::Idx {
            images: "t10k-images.idx3-ubyte".into(),
            labels: "t10k-labels.idx1-ubyte".into()
        }
    );
    assert_eq!(
        parse("imgs.bin,lbls.bin"),
        DataSource::Idx {
            images: "imgs.bin".into(),
            labels: "lbls.bin".into()
        }
    );
    assert!(error("x.npy").contains("hint: give them as x.npy,y.npy"));
    assert!(error("a,b,c").contains("more than two"));
    assert!(error("x.npy,y.npy:label=1").contains("options apply to CSV files only"));
    let e = error("data.parquet");
    assert!(
        e.contains("cannot tell the format") && e.contains("hint: use `digits`"),
        "{e}"
    );
    assert!(error("").contains("empty"));
}

#[test]
fn load_dispatches_to_the_loaders() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("d.csv");
    std::fs::write(&csv, "a,b,c\n1,2,x\n3,4,y\n5,6,x\n7,8,y\n").unwrap();
    let source = parse(&format!("{}:label=c", csv.display()));
    let data = source.load().unwrap();
    assert_eq!((data.len(), data.classes()), (4, Some(2)));
    let (train, test) = source.load_split(0.5, 1).unwrap();
    assert_eq!((train.len(), test.len()), (2, 2));
    let (train, test) = DataSource::Digits.load_split(0.5, 1).unwrap();
    assert_eq!(
        (train.len(), test.len()),
        (1442, 355),
        "digits keeps its fixed split"
    );
    let witness = parse("witness:m=2,n=10");
    assert!(witness
        .load()
        .unwrap_err()
        .to_string()
        .contains("generated"));
    let missing = parse("nowhere/images-idx3-ubyte");
    assert!(matches!(missing.load(), Err(Error::Io { .. })));
}

#[test]
fn sources_print_canonically_and_read_back_the_same() {
    for (text, canonical) in [
        ("digits", "digits"),
        ("witness:m=8,n=512", "witness:m=8,n=512"),
        (
            "witness:n=100, m=2, noise=0.25, seed=9, test=50",
            "witness:m=2,n=100,noise=0.25,seed=9,test=50",
        ),
        ("data.csv", "data.csv"),
        ("data.csv:target=last", "data.csv"),
        (
            "dir/iris.csv:label=species,delimiter=semicolon,header=yes",
            "dir/iris.csv:label=species,delimiter=semicolon,header=yes",
        ),
        (
            "d.csv:target=0+2+last,delimiter=#",
            "d.csv:target=0+2+last,delimiter=#",
        ),
        ("d.tsv", "d.tsv"),
        (
            "d.tsv:delimiter=comma,header=no",
            "d.tsv:delimiter=comma,header=no",
        ),
        ("d.txt:delimiter=tab", "d.txt:delimiter=tab"),
        ("x.npy,y.npy", "x.npy,y.npy"),
        ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"),
        (
            "train-images-idx3-ubyte,train-labels-idx1-ubyte",
            "train-images-idx3-ubyte",
        ),
        ("imgs.bin,lbls.bin", "imgs.bin,lbls.bin"),
    ] {
        let source = parse(text);
        assert_eq!(source.to_string(), canonical, "{text}");
        assert_eq!(parse(canonical), source, "{text}");
    }
}

#[test]
fn a_source_the_text_cannot_express_prints_as_a_different_source() {
    let numeric_header = DataSource::Csv {
        path: "d.csv".into(),
        options: CsvOptions::label(Column::Name("3".into())),
    };
    assert_ne!(parse(&numeric_header.to_string()), numeric_header);
}
