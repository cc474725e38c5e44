//! Shared plotting pieces: figure canvas, colours, fonts, axis ranges and tick labels.
//! One place for the look, so every figure of a report agrees.

use super::render::{register_font, FAMILY};
use crate::train::StatusKind;
use crate::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Errors inside a plot are plotters' own; they become a crate [`Error`] at the edge.
pub(crate) type PlotResult = std::result::Result<(), Box<dyn std::error::Error>>;
pub(crate) type Area<'a> = DrawingArea<SVGBackend<'a>, Shift>;

/// Width of every figure in SVG units (pixels at 100%).
pub(crate) const WIDTH: u32 = 880;

/// One figure of the report.
pub(crate) struct Figure {
    /// File stem of the `.svg` and `.png`.
    pub name: &'static str,
    pub title: String,
    pub caption: String,
    pub svg: String,
}

/// Draws a `width × height` SVG with `draw` on a white canvas.
pub(crate) fn svg(
    name: &str,
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> PlotResult,
) -> Result<String> {
    register_font();
    let mut out = String::new();
    let drawn: PlotResult = (|| {
        let root = SVGBackend::with_string(&mut out, (width, height)).into_drawing_area();
        root.fill(&WHITE)?;
        draw(&root)?;
        root.present()?;
        Ok(())
    })();
    drawn.map_err(|e| Error::invalid(format!("plot `{name}`"), e.to_string()))?;
    Ok(out)
}

/// Text at `size` (plotters units: the SVG font size is `size / 1.24`).
pub(crate) fn font(size: u32) -> FontDesc<'static> {
    (FAMILY, size).into_font()
}

/// Okabe–Ito colours: distinguishable with every common colour-vision deficiency and
/// in greyscale print, in an order that keeps the first few far apart.
const FAMILY_COLORS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),   // blue
    RGBColor(213, 94, 0),    // vermillion
    RGBColor(0, 158, 115),   // bluish green
    RGBColor(230, 159, 0),   // orange
    RGBColor(204, 121, 167), // reddish purple
    RGBColor(86, 180, 233),  // sky blue
    RGBColor(0, 0, 0),       // black
];

pub(crate) fn family_color(i: usize) -> RGBColor {
    FAMILY_COLORS[i % FAMILY_COLORS.len()]
}

/// Sequential viridis colour for the `i`-th of `n` sizes: small lifts dark purple,
/// large ones green. The yellow end is left out, it vanishes on white.
pub(crate) fn size_color(i: usize, n: usize) -> RGBColor {
    const STOPS: [(f64, f64, f64); 5] = [
        (68.0, 1.0, 84.0),
        (59.0, 82.0, 139.0),
        (33.0, 145.0, 140.0),
        (94.0, 201.0, 98.0),
        (253.0, 231.0, 37.0),
    ];
    let t = if n <= 1 {
        0.0
    } else {
        0.82 * i as f64 / (n - 1) as f64
    };
    let pos = t * (STOPS.len() - 1) as f64;
    let k = (pos.floor() as usize).min(STOPS.len() - 2);
    let w = pos - k as f64;
    let mix = |a: f64, b: f64| (a + (b - a) * w).round() as u8;
    let (a, b) = (STOPS[k], STOPS[k + 1]);
    RGBColor(mix(a.0, b.0), mix(a.1, b.1), mix(a.2, b.2))
}

/// Colour of a run status in strip plots.
pub(crate) fn status_color(status: StatusKind) -> RGBColor {
    match status {
        StatusKind::Converged => RGBColor(0, 158, 115),
        StatusKind::Timeout => RGBColor(230, 159, 0),
        StatusKind::Diverged => RGBColor(213, 94, 0),
    }
}

/// A log axis range covering every positive finite value, widened to whole decades so
/// the axis always carries labelled powers of ten.
pub(crate) fn decades(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, 0.0f64);
    for v in values {
        if v.is_finite() && v > 0.0 {
            lo = lo.min(v);
            hi = hi.max(v);
        }
    }
    if hi == 0.0 {
        return (1e-6, 1.0);
    }
    let lo = 10f64.powf(lo.log10().floor());
    let mut hi = 10f64.powf(hi.log10().ceil());
    if hi <= lo {
        hi = lo * 10.0;
    }
    // plotters places log ticks at 10^ceil(log10(start)); powf may land a hair above the
    // exact decade, which would drop the first tick. Widen by a relative 1e-9.
    (lo * (1.0 - 1e-9), hi * (1.0 + 1e-9))
}

/// Tick positions for a log axis over `[lo, hi]`: 1-2-5 steps when it spans few decades
/// (otherwise a 1 kB–10 kB axis would carry two labels), powers of ten beyond.
pub(crate) fn log_ticks(lo: f64, hi: f64) -> Vec<f64> {
    let steps: &[f64] = if hi / lo <= 400.0 {
        &[1.0, 2.0, 5.0]
    } else {
        &[1.0]
    };
    let (k0, k1) = (lo.log10().floor() as i32, hi.log10().ceil() as i32);
    (k0..=k1)
        .flat_map(|k| steps.iter().map(move |m| m * 10f64.powi(k)))
        .filter(|v| (lo..=hi).contains(v))
        .collect()
}

/// A value placed on a log axis `[lo, hi]`: non-positive values sit on the floor,
/// non-finite ones (diverged runs) on the ceiling.
pub(crate) fn clip(v: f64, (lo, hi): (f64, f64)) -> f64 {
    if v.is_nan() || v >= hi {
        hi
    } else if v <= lo {
        lo
    } else {
        v
    }
}

/// Tick label of a log axis: plain decimals near 1, `1e-5` style elsewhere.
pub(crate) fn log_tick(v: f64) -> String {
    // Round to 3 significant digits first: tick values come out of exp/ln.
    let v: f64 = format!("{v:.2e}").parse().unwrap_or(v);
    if (1e-2..1e4).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Tick label of a lift size axis.
pub(crate) fn size_tick(v: f64) -> String {
    let r = v.round();
    if (v - r).abs() < 1e-6 * v.max(1.0) {
        format!("{r}")
    } else {
        format!("{v:.1}")
    }
}

/// Decimal byte counts for a log axis (powers of ten read best in decimal units).
pub(crate) fn bytes_tick(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut x = v;
    let mut u = 0;
    while x >= 1000.0 && u + 1 < UNITS.len() {
        x /= 1000.0;
        u += 1;
    }
    format!("{} {}", log_tick(x), UNITS[u])
}

/// A linear `f64` axis over `count` categories at `0, 1, …`, ticked only at them (the
/// x axis of strip plots, where points are jittered around their category).
pub(crate) struct Categories {
    pub count: usize,
}

impl plotters::coord::ranged1d::Ranged for Categories {
    type FormatOption = plotters::coord::ranged1d::DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        let (lo, hi) = (-0.6, self.count as f64 - 0.4);
        let frac = (value - lo) / (hi - lo);
        limit.0 + (frac * (limit.1 - limit.0) as f64).round() as i32
    }

    fn key_points<H: plotters::coord::ranged1d::KeyPointHint>(&self, hint: H) -> Vec<f64> {
        if hint.weight().allow_light_points() {
            return Vec::new();
        }
        (0..self.count).map(|i| i as f64).collect()
    }

    fn range(&self) -> std::ops::Range<f64> {
        -0.6..self.count as f64 - 0.4
    }
}

/// At most `max` of `points`, evenly thinned, always keeping the last.
pub(crate) fn thin(points: &[f64], max: usize) -> Vec<f64> {
    if points.len() <= max {
        return points.to_vec();
    }
    let step = points.len().div_ceil(max);
    let mut kept: Vec<f64> = points.iter().copied().step_by(step).collect();
    if kept.last() != points.last() {
        kept.pop();
        kept.extend(points.last());
    }
    kept
}

/// Panel grid for `n` panels: one column for a single family, two otherwise.
pub(crate) fn grid(n: usize) -> (usize, usize) {
    let cols = if n > 1 { 2 } else { 1 };
    (n.div_ceil(cols).max(1), cols)
}

/// A deterministic horizontal offset in `[-0.5, 0.5)` for strip plots, from the seed, so
/// a report redrawn from the same runs is identical.
pub(crate) fn jitter(seed: u64) -> f64 {
    let h = seed
        .wrapping_add(0x9E37_79B9_7F4A_7C15)
        .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    let h = (h ^ (h >> 31)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (h >> 11) as f64 / (1u64 << 53) as f64 - 0.5
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_cover_the_data_with_whole_powers_of_ten() {
        let close = |(a, b): (f64, f64), (c, d): (f64, f64)| {
            (a / c - 1.0).abs() < 1e-8 && (b / d - 1.0).abs() < 1e-8 && a <= c && b >= d
        };
        assert!(close(decades([3e-4, 0.2, f64::NAN, 0.0]), (1e-4, 1.0)));
        assert!(close(decades([1.0]), (1.0, 10.0)));
        assert_eq!(decades([f64::INFINITY]), (1e-6, 1.0));
        assert_eq!(log_ticks(300.0, 25_000.0), [500.0, 1e3, 2e3, 5e3, 1e4, 2e4]);
        assert_eq!(log_ticks(0.5, 2000.0), [1.0, 10.0, 100.0, 1000.0]);
    }

    #[test]
    fn ticks_read_like_a_paper() {
        assert_eq!(log_tick(0.001), "1e-3");
        assert_eq!(log_tick(0.1), "0.1");
        assert_eq!(log_tick(100.00000000000003), "100");
        assert_eq!(bytes_tick(1e6), "1 MB");
        assert_eq!(size_tick(64.0), "64");
        assert_eq!(thin(&[1.0, 2.0, 3.0, 4.0, 5.0], 3), [1.0, 3.0, 5.0]);
        assert_eq!(thin(&[1.0, 2.0, 3.0, 4.0], 3), [1.0, 4.0]);
    }

    #[test]
    fn jitter_is_spread_and_deterministic() {
        let j: Vec<f64> = (0..1000).map(jitter).collect();
        assert!(j.iter().all(|x| (-0.5..0.5).contains(x)));
        let mean = j.iter().sum::<f64>() / 1000.0;
        assert!(mean.abs() < 0.05, "{mean}");
        assert_eq!(jitter(7), jitter(7));
    }
}
