//! The report's figures, each a function from the summary (and, for per-run views, the
//! records) to an SVG [`Figure`].

use super::chart::{
    bytes_tick, clip, decades, family_color, font, grid, jitter, log_tick, log_ticks, size_color,
    size_tick, status_color, svg, thin, Area, Categories, Figure, PlotResult, WIDTH,
};
use super::ReportMeta;
use crate::experiment::summary::{FamilySummary, LearningNumber, SizeSummary, Summary};
use crate::experiment::table::{number, percent};
use crate::experiment::RunRecord;
use crate::train::StatusKind;
use crate::Result;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::types::RangedCoordf64;
use plotters::element::DashedPathElement;
use plotters::prelude::*;
use std::collections::BTreeMap;
use std::iter::once;

const PANEL_HEIGHT: u32 = 400;

fn legend_label(f: &FamilySummary) -> String {
    match f.learning_number {
        LearningNumber::Reached { size } => format!("{}  (n* = {size})", f.family),
        LearningNumber::NotReached { .. } => format!("{}  (n* not reached)", f.family),
    }
}

fn short_line(c: RGBColor, width: u32) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], c.stroke_width(width))
}

/// A chart drawn into a report SVG, in the coordinates `CT`.
type Chart<'a, 'b, CT> = ChartContext<'a, SVGBackend<'b>, CT>;

/// Coordinates of the success charts: a log-scale x axis with chosen ticks against a
/// linear probability axis.
type SuccessCoord = Cartesian2d<WithKeyPoints<LogCoord<f64>>, RangedCoordf64>;

/// The log-scale x axis of a success chart.
struct LogAxis<'s> {
    /// The axis spans `lo..hi`.
    range: (f64, f64),
    /// The labelled positions.
    ticks: Vec<f64>,
    /// The axis title.
    desc: &'s str,
    /// The tick label of a position.
    label: fn(f64) -> String,
}

/// A success-probability chart against `x`: the frame, the dashed `1 − δ` line at
/// `target`, what `series` draws, and the legend.
fn success_chart(
    root: &Area<'_>,
    x: LogAxis<'_>,
    y_desc: &str,
    target: f64,
    series: impl FnOnce(&mut Chart<'_, '_, SuccessCoord>) -> PlotResult,
) -> PlotResult {
    let (lo, hi) = x.range;
    let mut chart = ChartBuilder::on(root)
        .margin(18)
        .margin_right(30)
        .x_label_area_size(58)
        .y_label_area_size(72)
        .build_cartesian_2d(
            (lo..hi).log_scale().with_key_points(x.ticks),
            -0.02f64..1.04,
        )?;
    chart
        .configure_mesh()
        .x_desc(x.desc)
        .y_desc(y_desc)
        .x_label_formatter(&|v| (x.label)(*v))
        .y_label_formatter(&|v| format!("{v:.1}"))
        .label_style(font(17))
        .axis_desc_style(font(19))
        .bold_line_style(BLACK.mix(0.08))
        .light_line_style(WHITE.mix(0.0))
        .draw()?;
    dashed_level(
        &mut chart,
        x.range,
        target,
        format!("1 − δ = {}", number(target)),
    )?;
    series(&mut chart)?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .margin(14)
        .label_font(font(17))
        .background_style(WHITE.mix(0.92))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// A dashed horizontal line at height `y` over `x0..x1`, with a legend entry `label`.
fn dashed_level<CT: CoordTranslate<From = (f64, f64)>>(
    chart: &mut Chart<'_, '_, CT>,
    (x0, x1): (f64, f64),
    y: f64,
    label: String,
) -> PlotResult {
    chart
        .draw_series(DashedLineSeries::new(
            [(x0, y), (x1, y)],
            9u32,
            6u32,
            BLACK.mix(0.75).stroke_width(2),
        ))?
        .label(label)
        .legend(|(x, y)| {
            DashedPathElement::new(vec![(x, y), (x + 24, y)], 6u32, 4u32, BLACK.stroke_width(2))
        });
    Ok(())
}

/// One family's success rates, each size at `at(s)`: interval whiskers, the line (with
/// the legend entry `label`) and the points, in colour `c`.
fn rates(
    chart: &mut Chart<'_, '_, SuccessCoord>,
    f: &FamilySummary,
    c: RGBColor,
    at: impl Fn(&SizeSummary) -> f64,
    label: String,
) -> PlotResult {
    chart.draw_series(f.sizes.iter().map(|s| {
        PathElement::new(
            vec![(at(s), s.interval.lower), (at(s), s.interval.upper)],
            c.mix(0.55).stroke_width(2),
        )
    }))?;
    chart
        .draw_series(LineSeries::new(
            f.sizes.iter().map(|s| (at(s), s.rate)),
            c.stroke_width(3),
        ))?
        .label(label)
        .legend(short_line(c, 3));
    chart.draw_series(
        f.sizes
            .iter()
            .map(|s| Circle::new((at(s), s.rate), 5, c.filled())),
    )?;
    Ok(())
}

/// The legend box of a family's panel, at `position`.
fn panel_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut Chart<'a, 'b, CT>,
    position: SeriesLabelPosition,
) -> PlotResult {
    chart
        .configure_series_labels()
        .position(position)
        .margin(12)
        .label_font(font(15))
        .background_style(WHITE.mix(0.9))
        .border_style(BLACK.mix(0.3))
        .draw()?;
    Ok(())
}

/// (a) Success probability against lift size, per family, with Clopper–Pearson bands
/// and the `1 − δ` target.
pub(crate) fn success(summary: &Summary) -> Result<Figure> {
    let mut sizes: Vec<f64> = summary
        .families
        .iter()
        .flat_map(|f| f.sizes.iter().map(|s| s.size as f64))
        .collect();
    sizes.sort_by(f64::total_cmp);
    sizes.dedup();
    let draw = |root: &Area<'_>| -> PlotResult {
        let x = LogAxis {
            range: (sizes[0] / 1.35, sizes[sizes.len() - 1] * 1.35),
            ticks: thin(&sizes, 12),
            desc: "lift size n (log scale)",
            label: size_tick,
        };
        let y_desc = "success probability  P(L ≤ ε before T)";
        success_chart(root, x, y_desc, 1.0 - summary.delta, |chart| {
            let families = summary.families.len();
            for (i, f) in summary.families.iter().enumerate() {
                let c = family_color(i);
                // Nudge families apart by a few percent so equal rates do not hide each other.
                let dodge = 1.03f64.powf(i as f64 - (families - 1) as f64 / 2.0);
                let at = |s: &SizeSummary| s.size as f64 * dodge;
                let band: Vec<(f64, f64)> = f
                    .sizes
                    .iter()
                    .map(|s| (at(s), s.interval.upper))
                    .chain(f.sizes.iter().rev().map(|s| (at(s), s.interval.lower)))
                    .collect();
                chart.draw_series(once(Polygon::new(band, c.mix(0.14))))?;
                rates(chart, f, c, at, legend_label(f))?;
            }
            Ok(())
        })
    };
    Ok(Figure {
        name: "success",
        title: "Success probability against lift size".into(),
        caption: format!(
            "Fraction of seeds whose loss reached ε = {} within the time budget, with exact \
             (Clopper–Pearson) {}% intervals as bands and whiskers. The dashed line is the \
             target 1 − δ; n* is the smallest size from which the lower bound stays above it.",
            number(summary.epsilon),
            percent(summary.confidence)
        ),
        svg: svg("success", WIDTH, 540, draw)?,
    })
}

/// Splits `root` into one panel per family.
fn panels<'a>(root: &Area<'a>, n: usize) -> Vec<Area<'a>> {
    let (rows, cols) = grid(n);
    root.split_evenly((rows, cols))
}

/// (b) Median loss over time per size, with 10–90% bands; one panel per family.
pub(crate) fn loss_curves(summary: &Summary, meta: &ReportMeta) -> Result<Figure> {
    let (rows, _) = grid(summary.families.len());
    let draw = |root: &Area<'_>| -> PlotResult {
        for (panel, f) in panels(root, summary.families.len())
            .iter()
            .zip(&summary.families)
        {
            if f.times.is_empty() {
                panel.draw(&Text::new(
                    format!("{}: no trajectories recorded", f.family),
                    (40, 40),
                    font(18),
                ))?;
                continue;
            }
            let (t0, t1) = (f.times[0], f.times[f.times.len() - 1]);
            let (t0, t1) = if t1 > t0 {
                (t0, t1)
            } else {
                (t0 / 2.0, t1 * 2.0)
            };
            let ys = f.sizes.iter().flat_map(|s| {
                let c = &s.loss_curve;
                c.q10.iter().chain(&c.q50).chain(&c.q90).copied()
            });
            let y = decades(ys.chain(once(summary.epsilon)));
            let mut chart = ChartBuilder::on(panel)
                .caption(&f.family, font(20))
                .margin(14)
                .x_label_area_size(54)
                .y_label_area_size(72)
                .build_cartesian_2d((t0..t1).log_scale(), (y.0..y.1).log_scale())?;
            chart
                .configure_mesh()
                .x_desc(format!("{} (log scale)", meta.time_label))
                .y_desc(format!("{} (log scale)", meta.loss_label))
                .x_label_formatter(&|v| log_tick(*v))
                .y_label_formatter(&|v| log_tick(*v))
                .label_style(font(16))
                .axis_desc_style(font(18))
                .bold_line_style(BLACK.mix(0.08))
                .light_line_style(WHITE.mix(0.0))
                .draw()?;
            let n = f.sizes.len();
            for (j, s) in f.sizes.iter().enumerate() {
                let c = size_color(j, n);
                let curve = &s.loss_curve;
                let band: Vec<(f64, f64)> = f
                    .times
                    .iter()
                    .zip(&curve.q90)
                    .map(|(&t, &v)| (t, clip(v, y)))
                    .chain(
                        f.times
                            .iter()
                            .zip(&curve.q10)
                            .rev()
                            .map(|(&t, &v)| (t, clip(v, y))),
                    )
                    .collect();
                chart.draw_series(once(Polygon::new(band, c.mix(0.13))))?;
                chart
                    .draw_series(LineSeries::new(
                        f.times
                            .iter()
                            .zip(&curve.q50)
                            .map(|(&t, &v)| (t, clip(v, y))),
                        c.stroke_width(3),
                    ))?
                    .label(format!("n = {}", s.size))
                    .legend(short_line(c, 3));
            }
            let label = format!("ε = {}", number(summary.epsilon));
            dashed_level(&mut chart, (t0, t1), summary.epsilon, label)?;
            panel_legend(&mut chart, SeriesLabelPosition::LowerLeft)?;
        }
        Ok(())
    };
    Ok(Figure {
        name: "loss",
        title: "Loss over time".into(),
        caption: format!(
            "Median {} over seeds (line) and its 10–90% range (band) on a common log-spaced \
             time grid; each run is read as a step function and holds its final loss after \
             it stops. Dashed: ε.",
            meta.loss_label
        ),
        svg: svg("loss", WIDTH, PANEL_HEIGHT * rows as u32, draw)?,
    })
}

/// (c) Final loss of every run per size (strip plot coloured by status) with a box from
/// the 10% to the 90% quantile and the median as a bar; one panel per family.
pub(crate) fn final_loss(
    summary: &Summary,
    records: &[RunRecord],
    meta: &ReportMeta,
) -> Result<Figure> {
    let mut by_cell: BTreeMap<(&str, u32), Vec<&RunRecord>> = BTreeMap::new();
    for r in records {
        by_cell.entry((&r.family, r.size)).or_default().push(r);
    }
    let (rows, _) = grid(summary.families.len());
    let draw = |root: &Area<'_>| -> PlotResult {
        for (panel, f) in panels(root, summary.families.len())
            .iter()
            .zip(&summary.families)
        {
            let k = f.sizes.len();
            let labels: Vec<String> = f.sizes.iter().map(|s| s.size.to_string()).collect();
            let y = decades(
                f.sizes
                    .iter()
                    .flat_map(|s| s.final_losses.iter().copied())
                    .chain(once(summary.epsilon)),
            );
            // Diverged runs have no loss to plot: they go in a band above the top decade.
            let diverged = f
                .sizes
                .iter()
                .any(|s| s.final_losses.iter().any(|l| !l.is_finite()));
            let ceiling = if diverged { y.1 * 6.0 } else { y.1 };
            let above = y.1 * 6f64.sqrt();
            let place = |v: f64| if v.is_finite() { clip(v, y) } else { above };
            let mut chart = ChartBuilder::on(panel)
                .caption(&f.family, font(20))
                .margin(14)
                .x_label_area_size(54)
                .y_label_area_size(72)
                .build_cartesian_2d(Categories { count: k }, (y.0..ceiling).log_scale())?;
            let x_label = |v: &f64| labels.get(v.round() as usize).cloned().unwrap_or_default();
            chart
                .configure_mesh()
                .x_desc("lift size n")
                .y_desc(format!("final {} (log scale)", meta.loss_label))
                .x_label_formatter(&x_label)
                .y_label_formatter(&|v| log_tick(*v))
                .label_style(font(16))
                .axis_desc_style(font(18))
                .bold_line_style(BLACK.mix(0.08))
                .light_line_style(WHITE.mix(0.0))
                .disable_x_mesh()
                .draw()?;
            for (i, s) in f.sizes.iter().enumerate() {
                let x = i as f64;
                let q = s.final_loss;
                let grey = BLACK.mix(0.6);
                chart.draw_series(once(Rectangle::new(
                    [(x - 0.3, place(q.q10)), (x + 0.3, place(q.q90))],
                    grey.stroke_width(1),
                )))?;
                chart.draw_series(once(PathElement::new(
                    vec![(x - 0.34, place(q.q50)), (x + 0.34, place(q.q50))],
                    BLACK.stroke_width(3),
                )))?;
                let runs = by_cell.get(&(f.family.as_str(), s.size));
                for r in runs.into_iter().flatten() {
                    let p = (x + 0.45 * jitter(r.seed), place(r.final_loss));
                    let c = status_color(r.status);
                    if r.final_loss.is_finite() {
                        chart.draw_series(once(Circle::new(p, 4, c.mix(0.75).filled())))?;
                    } else {
                        chart.draw_series(once(Cross::new(p, 5, c.stroke_width(2))))?;
                    }
                }
            }
            if diverged {
                chart.draw_series(once(PathElement::new(
                    vec![(-0.6, y.1), (k as f64 - 0.4, y.1)],
                    BLACK.mix(0.35).stroke_width(1),
                )))?;
            }
            let label = format!("ε = {}", number(summary.epsilon));
            dashed_level(&mut chart, (-0.6, k as f64 - 0.4), summary.epsilon, label)?;
            for status in StatusKind::ALL {
                let present = f.sizes.iter().any(|s| match status {
                    StatusKind::Converged => s.converged > 0,
                    StatusKind::Timeout => s.timeout > 0,
                    StatusKind::Diverged => s.diverged > 0,
                });
                if present {
                    let c = status_color(status);
                    let legend = chart
                        .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())?
                        .label(status.as_str());
                    if status == StatusKind::Diverged {
                        legend.legend(move |(x, y)| Cross::new((x + 12, y), 5, c.stroke_width(2)));
                    } else {
                        legend.legend(move |(x, y)| Circle::new((x + 12, y), 5, c.filled()));
                    }
                }
            }
            panel_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        }
        Ok(())
    };
    Ok(Figure {
        name: "final_loss",
        title: "Final loss distribution".into(),
        caption: "Final loss of every run (dots, coloured by status; crosses above the top \
                  line are diverged runs, which have no finite loss), the 10–90% range (box) \
                  and the median (bar). Dashed: ε."
            .into(),
        svg: svg("final_loss", WIDTH, PANEL_HEIGHT * rows as u32, draw)?,
    })
}

/// (d) Success probability against memory (parameters + indices): which lift reaches a
/// given reliability most cheaply. `None` when the runs did not record their cost.
pub(crate) fn cost_vs_success(summary: &Summary) -> Result<Option<Figure>> {
    let memory = || {
        summary
            .families
            .iter()
            .flat_map(|f| f.sizes.iter().map(|s| s.cost.memory_bytes as f64))
    };
    if memory().any(|m| m <= 0.0) {
        return Ok(None);
    }
    let lo = memory().fold(f64::INFINITY, f64::min) / 1.5;
    let hi = memory().fold(0.0, f64::max) * 1.5;
    let draw = |root: &Area<'_>| -> PlotResult {
        let x = LogAxis {
            range: (lo, hi),
            ticks: log_ticks(lo, hi),
            desc: "memory: parameter + index bytes (log scale)",
            label: bytes_tick,
        };
        success_chart(
            root,
            x,
            "success probability",
            1.0 - summary.delta,
            |chart| {
                for (i, f) in summary.families.iter().enumerate() {
                    let c = family_color(i);
                    let at = |s: &SizeSummary| s.cost.memory_bytes as f64;
                    rates(chart, f, c, at, f.family.clone())?;
                    // Label each point with its size so the two axes of cost can be read together.
                    chart.draw_series(f.sizes.iter().map(|s| {
                        EmptyElement::at((at(s), s.rate))
                            + Text::new(format!("{}", s.size), (7, -22), font(14).color(&c))
                    }))?;
                }
                Ok(())
            },
        )
    };
    Ok(Some(Figure {
        name: "cost_success",
        title: "Success probability against memory".into(),
        caption: format!(
            "Success rate (with {}% intervals) against the memory of the lifted network, \
             parameters plus sparse indices; numbers are lift sizes. Curves further left reach \
             the same reliability with less memory.",
            percent(summary.confidence)
        ),
        svg: svg("cost_success", WIDTH, 540, draw)?,
    }))
}
