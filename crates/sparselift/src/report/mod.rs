//! Reports of convergence sweeps: a self-contained `report.html`, every figure as `.svg`
//! and `.png`, a `summary.md` table and the machine-readable `summary.json`.
//!
//! Figures (plotted with plotters, rasterised with resvg using an embedded font, so no
//! system font is needed and nothing is downloaded):
//!
//! | file | shows |
//! | --- | --- |
//! | `success` | success probability against lift size per family, Clopper–Pearson bands, `1 − δ` |
//! | `loss` | median loss over time per size with 10–90% bands, one panel per family |
//! | `final_loss` | final loss of every run per size, by status, with quantile boxes |
//! | `cost_success` | success probability against memory (only if the runs recorded it) |
//! | `module` | the base module, drawn by [`dag`] (when [`ReportMeta::module`] holds one) |
//!
//! ```
//! use sparselift::experiment::{RunRecord, Summary};
//! use sparselift::report::{write_report, ReportMeta};
//! use sparselift::train::StatusKind;
//!
//! let runs: Vec<RunRecord> = (0..8)
//!     .map(|seed| {
//!         let mut r = RunRecord::new("mlp", 16, seed);
//!         r.status = StatusKind::Converged;
//!         (r.min_loss, r.final_loss) = (1e-4, 1e-4);
//!         r.trajectory = vec![[0.1, 1.0], [1.0, 0.1], [10.0, 1e-4]];
//!         r
//!     })
//!     .collect();
//! let summary = Summary::new(&runs, 1e-3, 0.3)?;
//! let dir = std::env::temp_dir().join(format!("sparselift-doc-report-{}", std::process::id()));
//! write_report(&dir, &summary, &runs, &ReportMeta::new("Doc example", 1e-3, 0.3))?;
//! assert!(std::fs::read_to_string(dir.join("report.html"))?.contains("<svg"));
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod chart;
pub mod dag;
mod html;
mod plots;
mod render;

use crate::atomic;
use crate::data::DataSource;
use crate::experiment::sweep::stored_experiment;
use crate::experiment::{store, RunRecord, Summary};
use crate::module::Module;
use crate::train::MethodConfig;
use crate::{Error, Result};
use std::path::Path;

/// PNG pixels per SVG unit: 880-unit-wide figures become 1760-pixel PNGs, sharp in print.
const PNG_SCALE: f32 = 2.0;

/// What the report says about the experiment besides the numbers.
#[derive(Clone, Debug)]
pub struct ReportMeta {
    /// The report's title.
    pub title: String,
    /// One paragraph under the title (task, base module, samplers, method).
    pub description: String,
    /// Must equal the summary's `ε` and `δ`: a report labelled with other values than
    /// those its numbers were computed with would be wrong.
    pub epsilon: f64,
    /// The failure probability `δ` (see `epsilon`).
    pub delta: f64,
    /// Axis label of run time, e.g. `flow time t` or `epoch`.
    pub time_label: String,
    /// What the loss is, e.g. `normalised MSE` or `cross-entropy`.
    pub loss_label: String,
    /// Extra `(name, value)` lines for the header: command line, revision, machine, …
    pub provenance: Vec<(String, String)>,
    /// The base module, drawn in a section near the top.
    pub module: BaseModule,
}

/// The base module a report shows.
#[derive(Clone, Debug, Default)]
pub enum BaseModule {
    /// No base-module section.
    #[default]
    Omitted,
    /// The module, drawn as a figure ([`dag::svg`]).
    Module(Box<Module>),
    /// The experiment names a module that could not be loaded (e.g. a module file that
    /// has moved): the section says so instead of failing the report.
    Unresolved {
        /// The module reference, as the experiment gives it.
        reference: String,
        /// Why it could not be resolved.
        reason: String,
    },
}

impl ReportMeta {
    /// A report titled `title` for a gradient-flow sweep on a regression task.
    pub fn new(title: impl Into<String>, epsilon: f64, delta: f64) -> Self {
        ReportMeta {
            title: title.into(),
            description: String::new(),
            epsilon,
            delta,
            time_label: "flow time t".into(),
            loss_label: "normalised MSE".into(),
            provenance: Vec::new(),
            module: BaseModule::Omitted,
        }
    }
}

/// Writes `dir/report.html`, `dir/summary.md`, `dir/summary.json` and every figure as
/// `dir/NAME.svg` and `dir/NAME.png`, creating `dir` if needed. Each file is written to
/// a temporary name and renamed, so an interrupted run leaves no half-written file.
pub fn write_report(
    dir: impl AsRef<Path>,
    summary: &Summary,
    records: &[RunRecord],
    meta: &ReportMeta,
) -> Result<()> {
    let dir = dir.as_ref();
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-12 * a.abs().max(b.abs());
    if !same(meta.epsilon, summary.epsilon) || !same(meta.delta, summary.delta) {
        return Err(Error::invalid(
            "report",
            format!(
                "the report is labelled ε = {}, δ = {} but the summary was computed with ε = {}, δ = {}",
                meta.epsilon, meta.delta, summary.epsilon, summary.delta
            ),
        )
        .with_hint("build the summary and the report metadata from the same ε and δ"));
    }
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;

    let mut figures = vec![
        plots::success(summary)?,
        plots::loss_curves(summary, meta)?,
        plots::final_loss(summary, records, meta)?,
    ];
    figures.extend(plots::cost_vs_success(summary)?);
    let mut module_note = None;
    match &meta.module {
        BaseModule::Omitted => {}
        BaseModule::Module(m) => match module_figure(m) {
            Ok(f) => figures.push(f),
            Err(e) => module_note = Some(format!("The base module is not drawn: {e}")),
        },
        BaseModule::Unresolved { reference, reason } => {
            module_note = Some(format!(
                "The base module \"{reference}\" could not be loaded, so it is not drawn: {reason}"
            ))
        }
    }

    for f in &figures {
        atomic::write(&dir.join(format!("{}.svg", f.name)), f.svg.as_bytes())?;
        let png = render::svg_to_png(&f.svg, PNG_SCALE, f.name)?;
        atomic::write(&dir.join(format!("{}.png", f.name)), &png)?;
    }
    let json = serde_json::to_string_pretty(summary)
        .map_err(|e| Error::invalid("summary.json", e.to_string()))?;
    atomic::write(&dir.join("summary.json"), json.as_bytes())?;
    atomic::write(
        &dir.join("summary.md"),
        html::markdown(meta, summary, &figures).as_bytes(),
    )?;
    atomic::write(
        &dir.join("report.html"),
        html::page(meta, summary, &figures, module_note.as_deref()).as_bytes(),
    )?;
    Ok(())
}

/// The drawing of the base module as a report figure.
fn module_figure(module: &Module) -> Result<chart::Figure> {
    let name = if module.name().is_empty() {
        String::new()
    } else {
        format!(" \"{}\"", module.name())
    };
    Ok(chart::Figure {
        name: "module",
        title: format!("Base module{name}"),
        caption: "Each box is a base vertex with its shape and activation; each arrow a base \
                  edge with its op. Dashed green edges carry no weight (skip and residual \
                  connections). A lift copies every hidden vertex into a fiber; hover an element \
                  for its details."
            .into(),
        svg: dag::svg(module)?,
    })
}

/// Reads a sweep directory `dir` (its experiment file and runs, as written by
/// [`sweep`](crate::experiment::sweep())) and writes its report there; returns the statistics.
pub fn from_sweep_dir(dir: &Path) -> Result<Summary> {
    let exp = stored_experiment(dir).map_err(|e| match e {
        Error::Io { .. } => Error::invalid(
            dir.display().to_string(),
            "is not a sweep directory (no experiment.toml)",
        )
        .with_hint("run `sparselift sweep EXPERIMENT --out DIR` first"),
        other => other,
    })?;
    let loaded = store::load(dir)?;
    let summary = Summary::new(&loaded.records, exp.epsilon, exp.delta)?;
    let mut meta = ReportMeta::new(
        if exp.title.is_empty() {
            "Convergence of random sparse lifts".to_string()
        } else {
            exp.title.clone()
        },
        exp.epsilon,
        exp.delta,
    );
    meta.description = exp.description.clone();
    meta.provenance = vec![
        ("module".into(), exp.module.to_string()),
        ("data".into(), exp.data.to_string()),
        ("method".into(), exp.method.to_string()),
        ("seeds per point".into(), exp.seeds.to_string()),
        ("precision".into(), exp.precision.to_string()),
    ];
    meta.module = match exp.module.resolve() {
        Ok(m) => BaseModule::Module(Box::new(m)),
        Err(e) => BaseModule::Unresolved {
            reference: exp.module.to_string(),
            reason: e.to_string(),
        },
    };
    if matches!(exp.method, MethodConfig::Flow(_)) {
        meta.time_label = "gradient-flow time t".into();
    }
    meta.loss_label = if matches!(exp.data, DataSource::Witness(_)) {
        "normalised MSE".into()
    } else {
        "training criterion (normalised MSE or cross-entropy)".into()
    };
    write_report(dir, &summary, &loaded.records, &meta)?;
    Ok(summary)
}
