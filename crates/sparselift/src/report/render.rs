//! The embedded font, and SVG → PNG rasterisation.
//!
//! Plots must look the same on a machine without any installed font and must never
//! fetch one, so the library carries Liberation Sans (SIL OFL 1.1, see
//! `data/fonts/README.md`). plotters measures text with it, and resvg draws the PNGs
//! with it. The SVGs name it first in a CSS font list followed by Arial and Helvetica,
//! with which it is metric-compatible, so browsers lay text out as it was measured.

use crate::{Error, Result};
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
