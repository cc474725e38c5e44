//! Drawing a base module (docs/semantics.md §1) as a self-contained SVG, laid out by the
//! project itself: no Graphviz or other program is needed, and the same module always
//! gives the same bytes.
//!
//! Layers run top to bottom (`report/dag/layout.rs` says how they are found and
//! ordered). Each vertex is a box with its name, its shape and its activation; inputs are
//! blue, outputs orange, hidden vertices grey and constants dashed. Each edge is an arrow
//! labelled by its op where the label fits; weightless `identity` edges (skips and
//! residuals) are dashed green, and an edge that skips layers is routed beside the boxes
//! it passes. Hovering an edge or a vertex in a browser shows everything about it.
//!
//! The layout is written by hand (about 250 lines): the graph-layout crates of the
//! ecosystem are large, bring their own text measurement, and promise no stable output.
//!
//! ```
//! use sparselift::report::dag;
//! use sparselift::zoo::{resmlp, ResMlpConfig};
//!
//! let module = resmlp(&ResMlpConfig { blocks: 2, ..Default::default() })?;
//! let svg = dag::svg(&module)?;
//! assert!(svg.starts_with("<svg"));
//! assert_eq!(svg.matches("<g class=\"edge\"").count(), module.edges().len());
//! assert_eq!(svg, dag::svg(&module)?, "deterministic");
//! # Ok::<(), sparselift::Error>(())
//! ```

mod layout;

use super::html::escape;
use super::render::{font_width, FAMILY};
use crate::module::{Module, Op, Role, Vertex};
use crate::Result;
use layout::Layout;
use std::fmt::Write;

/// Font sizes (SVG units) of a vertex's name, of its second line, and of edge labels.
const NAME_PX: f64 = 13.0;
const INFO_PX: f64 = 11.0;
const LABEL_PX: f64 = 11.0;
/// Height of a vertex box and of the gap between two rows of boxes.
const BOX_H: f64 = 40.0;
const ROW_GAP: f64 = 56.0;
/// Horizontal padding inside a box, and the narrowest box.
const PAD_X: f64 = 10.0;
const MIN_BOX_W: f64 = 48.0;
/// Margin around the drawing, and the height taken by the legend above it.
const MARGIN: f64 = 14.0;
const LEGEND_H: f64 = 26.0;
/// Length and half width of an arrowhead.
const ARROW: f64 = 8.0;
const ARROW_HALF: f64 = 4.0;

/// Box colours (fill, stroke, stroke width, dash) per role: Okabe–Ito blue and vermillion,
/// as in the report's charts.
fn style(role: Role) -> (&'static str, &'static str, f64, Option<&'static str>) {
    match role {
        Role::Input => ("#dcecf7", "#0072b2", 2.0, None),
        Role::Output => ("#fbe2d2", "#d55e00", 2.0, None),
        Role::Hidden => ("#f3f3f3", "#555555", 1.2, None),
        Role::Constant => ("#ffffff", "#888888", 1.2, Some("3 2")),
    }
}

fn role_name(role: Role) -> &'static str {
    match role {
        Role::Input => "input",
        Role::Constant => "constant",
        Role::Hidden => "hidden",
        Role::Output => "output",
    }
}

/// The second line of a vertex box: its shape, and its activation or what it holds.
fn info(v: &Vertex) -> String {
    match v.role {
        Role::Input => format!("{:?}", v.shape),
        Role::Constant => format!("{:?} = 1", v.shape),
        Role::Hidden | Role::Output => format!("{:?} · {}", v.shape, v.activation),
    }
}

/// An edge's label: its op, with the kernel size of a convolution.
fn op_label(op: &Op) -> String {
    match op {
        Op::Conv(k) => {
            let k: Vec<String> = k.iter().map(usize::to_string).collect();
            format!("conv k={}", k.join("×"))
        }
        op => op.name().to_string(),
    }
}

/// A rectangle `(left, top, right, bottom)`.
type Rect = (f64, f64, f64, f64);

fn overlaps(a: Rect, b: Rect) -> bool {
    a.0 < b.2 && b.0 < a.2 && a.1 < b.3 && b.1 < a.3
}

fn inside((x, y): (f64, f64), r: Rect) -> bool {
    r.0 < x && x < r.2 && r.1 < y && y < r.3
}

/// A coordinate as written: one decimal.
fn n(v: f64) -> String {
    format!("{v:.1}")
}

/// One piece of an edge's path: a curve across the gap between two rows, or a straight
/// line down through a row (at a bend).
#[derive(Clone, Copy)]
enum Piece {
    Curve((f64, f64), (f64, f64)),
    Line((f64, f64), (f64, f64)),
}

impl Piece {
    /// Points along the piece, for collision tests of labels.
    fn samples(self) -> impl Iterator<Item = (f64, f64)> {
        (0..=16).map(move |i| self.point(i))
    }

    /// The point `i / 16` of the way along the piece.
    fn point(self, i: usize) -> (f64, f64) {
        let t = i as f64 / 16.0;
        match self {
            // The cubic of `write` with control points `(a.x, m)`, `(b.x, m)`, `m`
            // halfway down the gap, expanded in `t`.
            Piece::Curve(a, b) => {
                let sx = t * t * (3.0 - 2.0 * t);
                let sy = t * (1.5 - 1.5 * t + t * t);
                (a.0 + (b.0 - a.0) * sx, a.1 + (b.1 - a.1) * sy)
            }
            Piece::Line(a, b) => (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t),
        }
    }
}

/// Where everything goes, in layout coordinates (shifted into the canvas when written).
struct Drawing {
    boxes: Vec<Rect>,
    paths: Vec<Vec<Piece>>,
    labels: Vec<Option<(Rect, String)>>,
}

/// The SVG drawing of `module`. Fails only for a module too large to draw readably (more
/// than 2000 boxes and edge bends).
pub fn svg(module: &Module) -> Result<String> {
    let widths: Vec<f64> = module
        .vertices()
        .iter()
        .map(|v| {
            let text = font_width(&v.name, NAME_PX).max(font_width(&info(v), INFO_PX));
            (text + 2.0 * PAD_X).max(MIN_BOX_W).ceil()
        })
        .collect();
    let layout = layout::layout(module, &widths)?;
    let drawing = place(module, &layout, &widths);
    Ok(write(module, &drawing, layout.layers.len()))
}

/// `y` of the top of row `l`.
fn row_top(l: usize) -> f64 {
    l as f64 * (BOX_H + ROW_GAP)
}

fn place(module: &Module, layout: &Layout, widths: &[f64]) -> Drawing {
    let boxes: Vec<Rect> = (0..module.vertices().len())
        .map(|v| {
            let (x, top) = (layout.x[v], row_top(layout.layer[v]));
            (x - widths[v] / 2.0, top, x + widths[v] / 2.0, top + BOX_H)
        })
        .collect();
    let (out_ports, in_ports) = ports(module, layout, &boxes);
    let paths: Vec<Vec<Piece>> = layout
        .routes
        .iter()
        .enumerate()
        .map(|(e, route)| {
            let mut pieces = Vec::new();
            let mut at = (out_ports[e], boxes[route[0]].3);
            for &b in &route[1..route.len() - 1] {
                let top = row_top(layout.layer[b]);
                pieces.push(Piece::Curve(at, (layout.x[b], top)));
                pieces.push(Piece::Line((layout.x[b], top), (layout.x[b], top + BOX_H)));
                at = (layout.x[b], top + BOX_H);
            }
            let end = boxes[route[route.len() - 1]].1 - ARROW;
            pieces.push(Piece::Curve(at, (in_ports[e], end)));
            pieces
        })
        .collect();
    let labels = labels(module, &boxes, &paths);
    Drawing {
        boxes,
        paths,
        labels,
    }
}

/// Where each edge leaves its source and enters its target: the edges at one side of a
/// box are spread evenly along it, ordered by where their other end lies so that they do
/// not cross there.
fn ports(module: &Module, layout: &Layout, boxes: &[Rect]) -> (Vec<f64>, Vec<f64>) {
    let edges = module.edges().len();
    let (mut out_x, mut in_x) = (vec![0.0; edges], vec![0.0; edges]);
    for (v, b) in boxes.iter().enumerate() {
        let spread = |list: &[usize], next: &dyn Fn(usize) -> usize, xs: &mut [f64]| {
            let mut sorted = list.to_vec();
            sorted.sort_by(|&a, &c| {
                layout.x[next(a)]
                    .total_cmp(&layout.x[next(c)])
                    .then(a.cmp(&c))
            });
            for (i, &e) in sorted.iter().enumerate() {
                xs[e] = b.0 + (b.2 - b.0) * (i + 1) as f64 / (sorted.len() + 1) as f64;
            }
        };
        let route = |e: usize| &layout.routes[e];
        spread(module.out_edges(v), &|e| route(e)[1], &mut out_x);
        spread(
            module.in_edges(v),
            &|e| route(e)[route(e).len() - 2],
            &mut in_x,
        );
    }
    (out_x, in_x)
}

/// Each edge's label and where it goes: right or left of the edge, beside the middle of
/// one of its pieces (the first that works, from the top), else a little above or below
/// a middle, wherever it covers no box, no other label and no other edge. An edge without
/// such a place has no label.
fn labels(module: &Module, boxes: &[Rect], paths: &[Vec<Piece>]) -> Vec<Option<(Rect, String)>> {
    let samples: Vec<Vec<(f64, f64)>> = paths
        .iter()
        .map(|p| p.iter().flat_map(|piece| piece.samples()).collect())
        .collect();
    // Each edge's extent, to skip most edges at once when testing a place.
    let extents: Vec<Rect> = samples
        .iter()
        .map(|s| {
            s.iter().fold(
                (
                    f64::INFINITY,
                    f64::INFINITY,
                    f64::NEG_INFINITY,
                    f64::NEG_INFINITY,
                ),
                |r, &(x, y)| (r.0.min(x), r.1.min(y), r.2.max(x), r.3.max(y)),
            )
        })
        .collect();
    let mut placed: Vec<Rect> = Vec::new();
    let mut out = Vec::with_capacity(paths.len());
    for (e, edge) in module.edges().iter().enumerate() {
        let text = op_label(&edge.op);
        let (w, h) = (font_width(&text, LABEL_PX).ceil() + 4.0, LABEL_PX + 3.0);
        let mut candidates = Vec::new();
        for at in [8, 5, 11] {
            for piece in &paths[e] {
                let (mx, my) = piece.point(at);
                candidates.push((mx + 4.0, my - h / 2.0, mx + 4.0 + w, my + h / 2.0));
                candidates.push((mx - 4.0 - w, my - h / 2.0, mx - 4.0, my + h / 2.0));
            }
        }
        let free = |r: Rect| {
            let padded = (r.0 - 2.0, r.1 - 2.0, r.2 + 2.0, r.3 + 2.0);
            !placed.iter().any(|&p| overlaps(p, padded))
                && !boxes.iter().any(|&b| overlaps(b, padded))
                && samples
                    .iter()
                    .zip(&extents)
                    .enumerate()
                    .all(|(f, (s, &x))| {
                        f == e || !overlaps(x, padded) || !s.iter().any(|&p| inside(p, padded))
                    })
        };
        let found = candidates.into_iter().find(|&r| free(r));
        if let Some(r) = found {
            placed.push(r);
        }
        out.push(found.map(|r| (r, text)));
    }
    out
}

/// What hovering an edge shows: `from → to: op`, its weight and sampler, its name.
fn edge_title(module: &Module, e: usize) -> String {
    let edge = module.edge(e);
    let (from, to) = (&module.vertex(edge.from).name, &module.vertex(edge.to).name);
    let mut t = format!("{from} → {to}: {}", op_label(&edge.op));
    if edge.op.has_weight() {
        let _ = write!(t, ", weight {:?}", edge.weight_shape);
    }
    if let Some(s) = &edge.sampler {
        let _ = write!(t, ", sampler {s}");
    }
    let _ = write!(t, " (edge \"{}\")", edge.name);
    t
}

fn write(module: &Module, d: &Drawing, rows: usize) -> String {
    // The extent of everything drawn, to size the canvas and shift it into place.
    let mut xs: Vec<f64> = d.boxes.iter().flat_map(|b| [b.0, b.2]).collect();
    xs.extend(d.labels.iter().flatten().flat_map(|(r, _)| [r.0, r.2]));
    for p in d.paths.iter().flatten() {
        let (Piece::Curve(a, b) | Piece::Line(a, b)) = *p;
        xs.extend([
            a.0 - ARROW_HALF,
            a.0 + ARROW_HALF,
            b.0 - ARROW_HALF,
            b.0 + ARROW_HALF,
        ]);
    }
    let min_x = xs.iter().copied().fold(f64::INFINITY, f64::min);
    let max_x = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let (roles, legend_w) = legend(module);
    let width = ((max_x - min_x).max(legend_w) + 2.0 * MARGIN).ceil();
    let height = (MARGIN + LEGEND_H + row_top(rows) - ROW_GAP + MARGIN).ceil();
    let dx = MARGIN - min_x;
    let dy = MARGIN + LEGEND_H;
    let pt = |(x, y): (f64, f64)| format!("{},{}", n(x + dx), n(y + dy));

    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"{FAMILY}\" role=\"img\" aria-label=\"base module {name}\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"#ffffff\"/>\n",
        w = width as u32,
        h = height as u32,
        name = escape(module.name()),
    );
    s.push_str(&roles);
    for (e, pieces) in d.paths.iter().enumerate() {
        let edge = module.edge(e);
        let (colour, dash) = if edge.op.has_weight() {
            ("#444444", "")
        } else {
            ("#009e73", " stroke-dasharray=\"5 3\"")
        };
        let mut path = String::new();
        for (i, p) in pieces.iter().enumerate() {
            match *p {
                Piece::Curve(a, b) => {
                    if i == 0 {
                        let _ = write!(path, "M{}", pt(a));
                    }
                    let my = (a.1 + b.1) / 2.0;
                    let _ = write!(path, " C{} {} {}", pt((a.0, my)), pt((b.0, my)), pt(b));
                }
                Piece::Line(_, b) => {
                    let _ = write!(path, " L{}", pt(b));
                }
            }
        }
        let tip = match pieces.last() {
            Some(Piece::Curve(_, b) | Piece::Line(_, b)) => *b,
            None => continue,
        };
        let _ = writeln!(
            s,
            "<g class=\"edge\" data-name=\"{name}\">\n<title>{title}</title>\n\
             <path d=\"{path}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.4\"{dash}/>\n\
             <path d=\"M{l} L{r} L{t} Z\" fill=\"{colour}\"/>",
            name = escape(&edge.name),
            title = escape(&edge_title(module, e)),
            l = pt((tip.0 - ARROW_HALF, tip.1)),
            r = pt((tip.0 + ARROW_HALF, tip.1)),
            t = pt((tip.0, tip.1 + ARROW)),
        );
        if let Some((r, text)) = &d.labels[e] {
            let _ = writeln!(
                s,
                "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#ffffff\" fill-opacity=\"0.85\"/>\n\
                 <text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"{colour}\">{}</text>",
                n(r.0 + dx),
                n(r.1 + dy),
                n(r.2 - r.0),
                n(r.3 - r.1),
                n(r.0 + 2.0 + dx),
                n(r.3 - 3.5 + dy),
                n(LABEL_PX),
                escape(text),
            );
        }
        s.push_str("</g>\n");
    }
    for (v, vertex) in module.vertices().iter().enumerate() {
        let b = d.boxes[v];
        let (fill, stroke, stroke_w, dash) = style(vertex.role);
        let dash = dash
            .map(|d| format!(" stroke-dasharray=\"{d}\""))
            .unwrap_or_default();
        let cx = (b.0 + b.2) / 2.0 + dx;
        let _ = writeln!(
            s,
            "<g class=\"vertex\" data-name=\"{name}\">\n<title>{name}: {role} {info}</title>\n\
             <rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\" rx=\"6\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{sw}\"{dash}/>\n\
             <text x=\"{cx}\" y=\"{y1}\" font-size=\"{np}\" text-anchor=\"middle\" fill=\"#1a1a1a\">{name}</text>\n\
             <text x=\"{cx}\" y=\"{y2}\" font-size=\"{ip}\" text-anchor=\"middle\" fill=\"#444444\">{info}</text>\n</g>",
            name = escape(&vertex.name),
            role = role_name(vertex.role),
            info = escape(&info(vertex)),
            x = n(b.0 + dx),
            y = n(b.1 + dy),
            w = n(b.2 - b.0),
            h = n(b.3 - b.1),
            sw = n(stroke_w),
            cx = n(cx),
            y1 = n(b.1 + dy + 17.0),
            y2 = n(b.1 + dy + 32.0),
            np = n(NAME_PX),
            ip = n(INFO_PX),
        );
    }
    s.push_str("</svg>\n");
    s
}

/// The legend above the drawing: the module's name and a swatch per role it uses. Returns
/// the SVG and its width.
fn legend(module: &Module) -> (String, f64) {
    let mut s = String::from("<g class=\"legend\">\n");
    let mut x = MARGIN;
    let y = MARGIN + 12.0;
    if !module.name().is_empty() {
        let title = format!("module {}", module.name());
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"#1a1a1a\">{}</text>",
            n(x),
            n(y),
            n(NAME_PX),
            escape(&title)
        );
        x += font_width(&title, NAME_PX) + 18.0;
    }
    for role in [Role::Input, Role::Constant, Role::Hidden, Role::Output] {
        if !module.vertices().iter().any(|v| v.role == role) {
            continue;
        }
        let (fill, stroke, sw, dash) = style(role);
        let dash = dash
            .map(|d| format!(" stroke-dasharray=\"{d}\""))
            .unwrap_or_default();
        let _ = writeln!(
            s,
            "<rect x=\"{}\" y=\"{}\" width=\"16\" height=\"11\" rx=\"3\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"{}\"{dash}/>\n\
             <text x=\"{}\" y=\"{}\" font-size=\"{}\" fill=\"#444444\">{}</text>",
            n(x),
            n(y - 9.5),
            n(sw),
            n(x + 21.0),
            n(y),
            n(INFO_PX),
            role_name(role),
        );
        x += 21.0 + font_width(role_name(role), INFO_PX) + 14.0;
    }
    s.push_str("</g>\n");
    (s, x - MARGIN)
}
