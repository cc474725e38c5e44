//! The report as a person sees it: headless Chromium renders `report.html` and the
//! screenshot must show the success-probability plot. Skipped (with a message) when no
//! Chromium is installed; `.ci/run` installs it.

mod common;

use common::{synthetic_runs, DELTA, EPSILON};
use sparselift::experiment::Summary;
use sparselift::report::{write_report, ReportMeta};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn find_chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
        .find(|p| p.is_file())
}

fn screenshot(chromium: &Path, html: &Path, png: &Path, profile: &Path) {
    let url = format!("file://{}", html.canonicalize().unwrap().display());
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,1600")
        .arg(url)
        .output()
        .expect("chromium starts");
    assert!(
        png.exists(),
        "no screenshot; chromium said:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn chromium_renders_the_success_plot() {
    let Some(chromium) = find_chromium() else {
        println!("skipped: chromium not installed (.ci/run installs it)");
        return;
    };
    let dir = std::env::temp_dir().join(format!("sparselift-chromium-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let runs = synthetic_runs(24, 11);
    let summary = Summary::new(&runs, EPSILON, DELTA).unwrap();
    let mut meta = ReportMeta::new("Random sparse lifts: PAC-convergence", EPSILON, DELTA);
    meta.description =
        "Synthetic sweep for the rendering test: two lift families, 24 seeds per size.".into();
    write_report(dir.join("report"), &summary, &runs, &meta).unwrap();

    let png = dir.join("screenshot.png");
    screenshot(
        &chromium,
        &dir.join("report/report.html"),
        &png,
        &dir.join("profile"),
    );

    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    assert_eq!((info.width, info.height), (1200, 1600));

    // The success plot sits right under the header: rows 250–800 of the page. Text
    // alone (a table where the plot should be) already brings hundreds of anti-aliased
    // greys, so also look for the plot's own ink: the thick curves in the first two
    // family colours (Okabe–Ito blue and vermillion).
    let family_colours = [[0u8, 114, 178], [213, 94, 0]];
    let near = |p: [u8; 3], c: [u8; 3]| {
        p.iter()
            .zip(c)
            .map(|(&a, b)| (i32::from(a) - i32::from(b)).pow(2))
            .sum::<i32>()
            <= 12 * 12
    };
    let (mut colours, mut ink, mut total) = (HashSet::new(), 0usize, 0usize);
    let mut curve_pixels = [0usize; 2];
    for y in 250..800usize {
        for x in 0..info.width as usize {
            let i = (y * info.width as usize + x) * channels;
            let rgb = [buf[i], buf[i + 1], buf[i + 2]];
            colours.insert(rgb);
            ink += usize::from(rgb != [255, 255, 255]);
            total += 1;
            for (count, c) in curve_pixels.iter_mut().zip(family_colours) {
                *count += usize::from(near(rgb, c));
            }
        }
    }
    assert!(
        colours.len() > 200,
        "{} distinct colours in the plot region",
        colours.len()
    );
    assert!(ink * 50 > total, "{ink} of {total} pixels are not white");
    assert!(
        curve_pixels.iter().all(|&n| n > 500),
        "too few pixels in the family colours: {curve_pixels:?}"
    );
    // Keep the picture for a person to look at when asked to.
    if let Some(keep) = std::env::var_os("SPARSELIFT_KEEP_SCREENSHOT") {
        std::fs::copy(&png, keep).unwrap();
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
