//! The embedded font, and SVG → PNG rasterisation.
//!
//! Plots must look the same on a machine without any installed font and must never
//! fetch one, so the library carries Liberation Sans (SIL OFL 1.1, see
//! `data/fonts/README.md`). plotters measures text with it, and resvg draws the PNGs
//! with it. The SVGs name it first in a CSS font list followed by Arial and Helvetica,
//! with which it is metric-compatible, so browsers lay text out as it was measured.

use crate::{Error, Result};
use plotters::style::IntoFont;
use resvg::{tiny_skia, usvg};
use std::sync::{Arc, Once, OnceLock};

/// The `font-family` written into every SVG (plotters registers fonts by this name).
pub(crate) const FAMILY: &str = "Liberation Sans, Arial, Helvetica, sans-serif";
const FONT_NAME: &str = "Liberation Sans";
static FONT: &[u8] = include_bytes!("../../data/fonts/LiberationSans-Regular.ttf");

/// Makes the embedded font known to plotters; idempotent.
pub(crate) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let ok = plotters::style::register_font(FAMILY, plotters::style::FontStyle::Normal, FONT)
            .is_ok();
        assert!(ok, "the embedded font is a valid TrueType file");
    });
}

fn fontdb() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_source(usvg::fontdb::Source::Binary(Arc::new(FONT)));
        db.set_sans_serif_family(FONT_NAME);
        Arc::new(db)
    })
    .clone()
}

/// Rasterises `svg` to a PNG on a white background, `scale` device pixels per SVG unit
/// (2 gives print-quality figures).
pub(crate) fn svg_to_png(svg: &str, scale: f32, what: &str) -> Result<Vec<u8>> {
    let fail = |msg: String| Error::invalid(format!("rendering {what}"), msg);
    let options = usvg::Options {
        fontdb: fontdb(),
        font_family: FONT_NAME.to_string(),
        ..Default::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(|e| fail(e.to_string()))?;
    let size = tree.size();
    let (w, h) = (
        (size.width() * scale).ceil() as u32,
        (size.height() * scale).ceil() as u32,
    );
    let mut pixmap =
        tiny_skia::Pixmap::new(w, h).ok_or_else(|| fail(format!("bad image size {w}×{h}")))?;
    pixmap.fill(tiny_skia::Color::WHITE);
    resvg::render(
        &tree,
        tiny_skia::Transform::from_scale(scale, scale),
        &mut pixmap.as_mut(),
    );
    pixmap.encode_png().map_err(|e| fail(e.to_string()))
}

/// Liberation Sans's line height (ascender − descender, 1854 + 434 units) over its em
/// (2048 units): plotters scales glyphs to a line height, SVG `font-size` is an em.
const LINE_PER_EM: f64 = 2288.0 / 2048.0;

/// The width of `text` set in the embedded font at `font-size` `px` (SVG units), for
/// layouts drawn by hand. Falls back to an average glyph width should measuring fail.
pub(crate) fn font_width(text: &str, px: f64) -> f64 {
    register_font();
    // Measured at a large size, so the whole pixels plotters rounds to lose nothing.
    const AT: u32 = 1000;
    match (FAMILY, f64::from(AT)).into_font().box_size(text) {
        Ok((w, _)) => f64::from(w) * LINE_PER_EM * px / f64::from(AT),
        Err(_) => 0.6 * px * text.chars().count() as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_measured_in_ems_of_the_embedded_font() {
        // Liberation Sans, like Arial, sets every digit 1139/2048 em wide.
        let w = font_width("0123456789", 100.0);
        assert!((w - 1000.0 * 1139.0 / 2048.0).abs() < 1.0, "{w}");
        assert!(font_width("mmm", 10.0) > font_width("iii", 10.0));
        assert_eq!(font_width("", 10.0), 0.0);
    }
}
