//! Reports written from synthetic sweeps: the files exist, are self-contained, the PNGs
//! are real pictures, and the tables carry the summary's numbers.

mod common;

use common::{synthetic_runs, DELTA, EPSILON, SIZES};
use sparselift::experiment::{LearningNumber, Summary};
use sparselift::report::{dag, write_report, BaseModule, ReportMeta};
use sparselift::zoo::{resmlp, ResMlpConfig};
use std::collections::HashSet;
use std::path::{Path, PathBuf};

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sparselift-report-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// Width, height and RGBA pixels of a PNG file.
fn decode_png(path: &Path) -> (u32, u32, Vec<[u8; 4]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!(info.color_type, png::ColorType::Rgba, "{}", path.display());
    let px = buf[..info.buffer_size()]
        .chunks_exact(4)
        .map(|c| [c[0], c[1], c[2], c[3]])
        .collect();
    (info.width, info.height, px)
}

fn svg_size(svg: &str) -> (u32, u32) {
    let attr = |name: &str| -> u32 {
        let start = svg.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
        svg[start..].split('"').next().unwrap().parse().unwrap()
    };
    (attr("width"), attr("height"))
}

#[test]
fn report_files_exist_and_the_html_is_self_contained() {
    let runs = synthetic_runs(24, 1);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let dir = temp_dir("full");
    let mut meta = ReportMeta::new("Synthetic sweep", EPSILON, DELTA);
    meta.description = "Teacher–student task, <sparse> vs dense lifts & co.".into();
    meta.provenance
        .push(("command".into(), "sparselift sweep x.toml".into()));
    write_report(&dir, &summary, &runs, &meta).unwrap();

    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4, "four inline figures");
    assert!(!html.contains("<script") && !html.contains("<link") && !html.contains("src="));
    // The only URL is the SVG namespace.
    let urls = html.matches("http").count();
    assert_eq!(urls, html.matches("http://www.w3.org/2000/svg").count());
    assert!(html.contains("Teacher–student task, &lt;sparse&gt; vs dense lifts &amp; co."));
    assert!(html.contains("sparselift sweep x.toml"));
    for family in &summary.families {
        assert!(html.contains(&family.family));
    }

    for name in ["success", "loss", "final_loss", "cost_success"] {
        let svg = std::fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
        assert!(svg.starts_with("<svg"), "{name}.svg");
        assert!(html.contains(svg.trim()), "{name} is inlined verbatim");
        let (w, h, px) = decode_png(&dir.join(format!("{name}.png")));
        let (sw, sh) = svg_size(&svg);
        assert_eq!((w, h), (2 * sw, 2 * sh), "{name}.png is rendered at 2x");
        let colours: HashSet<[u8; 4]> = px.iter().copied().collect();
        let ink = px.iter().filter(|p| p[..3] != [255, 255, 255]).count();
        assert!(colours.len() > 100, "{name}.png: {} colours", colours.len());
        assert!(ink * 100 > px.len(), "{name}.png: {ink} non-white pixels");
    }

    // The success PNG shows the curves in the family colours, and its text was drawn
    // with the embedded font: the rotated axis title is the only ink in the left margin.
    let (w, _, px) = decode_png(&dir.join("success.png"));
    let near =
        |p: &[u8; 4], c: [u8; 3]| (0..3).all(|i| (i32::from(p[i]) - i32::from(c[i])).abs() <= 8);
    let blue = px.iter().filter(|p| near(p, [0, 114, 178])).count();
    assert!(blue > 2000, "{blue} pixels of the first family's colour");
    let margin_text = px
        .iter()
        .enumerate()
        .filter(|(i, p)| (*i as u32 % w) < 110 && p[0] < 100)
        .count();
    assert!(
        margin_text > 300,
        "{margin_text} dark pixels of axis-title text"
    );

    let md = std::fs::read_to_string(dir.join("summary.md")).unwrap();
    assert!(md.starts_with("# Synthetic sweep"));
    assert!(md.contains(&summary.verdict()));
    assert_eq!(
        md.lines().filter(|l| l.starts_with("| mlp-")).count(),
        2 * SIZES.len()
    );
    assert!(md.contains("![Success probability against lift size](success.png)"));

    let json = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back.runs, runs.len());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn synthetic_sweep_behaves_like_the_theory_says() {
    // Guards the fixture the report tests rely on: rates rise with size and at least
    // one family reaches its learning number.
    let runs = synthetic_runs(24, 1);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    for f in &summary.families {
        let first = f.sizes.first().unwrap().rate;
        let last = f.sizes.last().unwrap().rate;
        assert!(first < 0.5 && last > 0.95, "{}: {first} → {last}", f.family);
    }
    assert!(
        summary
            .families
            .iter()
            .any(|f| matches!(f.learning_number, LearningNumber::Reached { .. })),
        "{}",
        summary.verdict()
    );
}

#[test]
fn reports_are_reproducible_byte_for_byte() {
    let runs = synthetic_runs(6, 2);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let meta = ReportMeta::new("Twice", EPSILON, DELTA);
    let (a, b) = (temp_dir("twice-a"), temp_dir("twice-b"));
    write_report(&a, &summary, &runs, &meta).unwrap();
    write_report(&b, &summary, &runs, &meta).unwrap();
    for file in ["report.html", "summary.md", "success.png", "final_loss.svg"] {
        assert_eq!(
            std::fs::read(a.join(file)).unwrap(),
            std::fs::read(b.join(file)).unwrap(),
            "{file}"
        );
    }
    std::fs::remove_dir_all(&a).unwrap();
    std::fs::remove_dir_all(&b).unwrap();
}

#[test]
fn runs_without_cost_or_trajectories_still_give_a_report() {
    let mut runs = synthetic_runs(4, 3);
    for r in &mut runs {
        r.param_bytes = 0;
        r.index_bytes = 0;
        r.trajectory.clear();
    }
    runs.retain(|r| r.family == "mlp-dense");
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let dir = temp_dir("bare");
    write_report(
        &dir,
        &summary,
        &runs,
        &ReportMeta::new("Bare", EPSILON, DELTA),
    )
    .unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 3);
    assert!(html.contains("cost is not plotted"));
    assert!(html.contains("no trajectories recorded"));
    assert!(!dir.join("cost_success.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_report_labelled_with_another_epsilon_is_refused() {
    let runs = synthetic_runs(2, 4);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let dir = temp_dir("mislabelled");
    let err = write_report(&dir, &summary, &runs, &ReportMeta::new("x", 1e-2, DELTA))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ε = 0.01"), "{err}");
    assert!(!dir.join("report.html").exists());
}

#[test]
fn the_base_module_is_drawn_near_the_top_or_a_note_says_why_not() {
    let runs = synthetic_runs(4, 3);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let module = resmlp(&ResMlpConfig::default()).unwrap();
    let mut meta = ReportMeta::new("With its module", EPSILON, DELTA);
    meta.module = BaseModule::Module(Box::new(module.clone()));
    let dir = temp_dir("module");
    write_report(&dir, &summary, &runs, &meta).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 5, "four plots and the module");
    let section = html
        .find("<h2>Base module &quot;resmlp&quot;</h2>")
        .unwrap();
    assert!(section < html.find("<h2>Success rates</h2>").unwrap());
    assert!(html.contains(dag::svg(&module).unwrap().trim()));
    let (w, h, _) = decode_png(&dir.join("module.png"));
    let (sw, sh) = svg_size(&std::fs::read_to_string(dir.join("module.svg")).unwrap());
    assert_eq!((w, h), (2 * sw, 2 * sh));
    std::fs::remove_dir_all(&dir).unwrap();

    meta.module = BaseModule::Unresolved {
        reference: "moved.toml".into(),
        reason: "moved.toml: No such file or directory".into(),
    };
    let dir = temp_dir("module-missing");
    write_report(&dir, &summary, &runs, &meta).unwrap();
    let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
    assert_eq!(html.matches("<svg").count(), 4);
    assert!(html.contains(
        "<h2>Base module</h2>\n<p class=\"note\">The base module &quot;moved.toml&quot; could not be loaded"
    ));
    assert!(!dir.join("module.svg").exists());
    std::fs::remove_dir_all(&dir).unwrap();
}
