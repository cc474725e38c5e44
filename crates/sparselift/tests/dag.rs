//! Drawings of base modules (`report::dag`): well-formed SVG that shows every vertex with
//! its shape and activation and every edge exactly once, with boxes apart and edges —
//! residual skips included — routed around the boxes they pass.

use roxmltree::{Document, Node};
use sparselift::module::{Activation, Module, ModuleBuilder, Op};
use sparselift::report::dag;
use sparselift::zoo::{mlp, resmlp, MlpConfig, ResMlpConfig};

/// A box `(left, top, right, bottom)`.
type Rect = (f64, f64, f64, f64);

fn attr(n: Node<'_, '_>, name: &str) -> f64 {
    n.attribute(name)
        .unwrap_or_else(|| panic!("no {name} on {n:?}"))
        .parse()
        .unwrap()
}

/// The `<g class="...">` groups of a drawing.
fn groups<'a, 'i>(doc: &'a Document<'i>, class: &str) -> Vec<Node<'a, 'i>> {
    doc.descendants()
        .filter(|n| n.has_tag_name("g") && n.attribute("class") == Some(class))
        .collect()
}

fn texts(n: Node<'_, '_>) -> Vec<String> {
    n.children()
        .filter(|c| c.has_tag_name("text"))
        .map(|c| c.text().unwrap_or("").to_string())
        .collect()
}

/// Points along an edge path written as `M x,y C x,y x,y x,y … L x,y`, curves sampled.
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let mut points = Vec::new();
    let mut at = (0.0, 0.0);
    let mut tokens = d.split_whitespace();
    let pair = |t: &str| {
        let (x, y) = t
            .trim_start_matches(['M', 'C', 'L'])
            .split_once(',')
            .unwrap();
        (x.parse::<f64>().unwrap(), y.parse::<f64>().unwrap())
    };
    while let Some(t) = tokens.next() {
        match &t[..1] {
            "M" | "L" => {
                let p = pair(t);
                for i in 0..=8 {
                    let s = i as f64 / 8.0;
                    points.push((at.0 + (p.0 - at.0) * s, at.1 + (p.1 - at.1) * s));
                }
                if t.starts_with('M') {
                    points.clear();
                    points.push(p);
                }
                at = p;
            }
            "C" => {
                let (c1, c2, p) = (
                    pair(t),
                    pair(tokens.next().unwrap()),
                    pair(tokens.next().unwrap()),
                );
                for i in 0..=32 {
                    let s = i as f64 / 32.0;
                    let b = |a: f64, b: f64, c: f64, d: f64| {
                        let r = 1.0 - s;
                        r * r * r * a + 3.0 * r * r * s * b + 3.0 * r * s * s * c + s * s * s * d
                    };
                    points.push((b(at.0, c1.0, c2.0, p.0), b(at.1, c1.1, c2.1, p.1)));
                }
                at = p;
            }
            other => panic!("unexpected path command {other} in {d}"),
        }
    }
    points
}

/// Parses the drawing of `module` and checks everything the drawing promises.
fn check_drawing(module: &Module) -> String {
    let svg = dag::svg(module).unwrap();
    let doc = Document::parse(&svg).unwrap_or_else(|e| panic!("not XML: {e}\n{svg}"));
    let root = doc.root_element();
    assert!(root.has_tag_name("svg"));
    let (width, height) = (attr(root, "width"), attr(root, "height"));

    // Every vertex once, with its name, shape and activation.
    let vertices = groups(&doc, "vertex");
    assert_eq!(vertices.len(), module.vertices().len());
    let mut boxes: Vec<(String, Rect)> = Vec::new();
    for v in module.vertices() {
        let g = vertices
            .iter()
            .find(|g| g.attribute("data-name") == Some(v.name.as_str()))
            .unwrap_or_else(|| panic!("vertex {} is not drawn", v.name));
        let t = texts(*g);
        assert_eq!(t[0], v.name);
        assert!(t[1].starts_with(&format!("{:?}", v.shape)), "{t:?}");
        if !v.is_source() {
            assert!(t[1].ends_with(v.activation.name()), "{t:?}");
        }
        let r = g.children().find(|c| c.has_tag_name("rect")).unwrap();
        let (x, y) = (attr(r, "x"), attr(r, "y"));
        let b = (x, y, x + attr(r, "width"), y + attr(r, "height"));
        assert!(
            b.0 >= 0.0 && b.1 >= 0.0 && b.2 <= width && b.3 <= height,
            "{b:?} off the canvas"
        );
        boxes.push((v.name.clone(), b));
    }
    for (i, (a, ra)) in boxes.iter().enumerate() {
        for (b, rb) in &boxes[i + 1..] {
            let apart = ra.2 <= rb.0 || rb.2 <= ra.0 || ra.3 <= rb.1 || rb.3 <= ra.1;
            assert!(apart, "boxes of {a} {ra:?} and {b} {rb:?} overlap");
        }
    }

    // Every edge exactly once, never through a box (its own ends excepted, where it
    // touches the border).
    let edges = groups(&doc, "edge");
    assert_eq!(edges.len(), module.edges().len());
    for e in module.edges() {
        let drawn: Vec<_> = edges
            .iter()
            .filter(|g| g.attribute("data-name") == Some(e.name.as_str()))
            .collect();
        assert_eq!(
            drawn.len(),
            1,
            "edge {} drawn {} times",
            e.name,
            drawn.len()
        );
        let title = drawn[0]
            .children()
            .find(|c| c.has_tag_name("title"))
            .unwrap();
        let (from, to) = (&module.vertex(e.from).name, &module.vertex(e.to).name);
        assert!(title
            .text()
            .unwrap()
            .starts_with(&format!("{from} → {to}: ")));
        let d = drawn[0]
            .children()
            .find(|c| c.has_tag_name("path"))
            .and_then(|p| p.attribute("d"))
            .unwrap();
        for p in path_points(d) {
            for (name, b) in &boxes {
                let inside =
                    b.0 + 1.0 < p.0 && p.0 < b.2 - 1.0 && b.1 + 1.0 < p.1 && p.1 < b.3 - 1.0;
                assert!(!inside, "edge {} passes through {name} at {p:?}", e.name);
            }
        }
    }
    svg
}

#[test]
fn mlp_is_drawn_whole() {
    let m = mlp(&MlpConfig {
        input: 8,
        hidden: 3,
        output: 2,
        ..Default::default()
    })
    .unwrap();
    let svg = check_drawing(&m);
    assert!(svg.contains(">[8]<"), "the input's shape");
    assert_eq!(svg, dag::svg(&m).unwrap(), "same module, same bytes");
}

#[test]
fn resmlp_residual_edges_are_routed_around_the_blocks() {
    let m = resmlp(&ResMlpConfig {
        blocks: 3,
        ..Default::default()
    })
    .unwrap();
    let svg = check_drawing(&m);
    let doc = Document::parse(&svg).unwrap();
    let skips: Vec<&str> = m
        .edges()
        .iter()
        .filter(|e| e.op == Op::Identity)
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(skips.len(), 3);
    for g in groups(&doc, "edge") {
        let name = g.attribute("data-name").unwrap();
        if !skips.contains(&name) {
            continue;
        }
        // A skip spans two layers: it bends once, beside the block it skips.
        let path = g.children().find(|c| c.has_tag_name("path")).unwrap();
        let d = path.attribute("d").unwrap();
        assert_eq!(d.matches('C').count(), 2, "{name}: {d}");
        assert!(
            path.attribute("stroke-dasharray").is_some(),
            "{name} is dashed"
        );
    }
    assert!(
        svg.contains(">identity</text>"),
        "a residual edge is labelled"
    );
}

#[test]
fn names_are_escaped_and_ops_labelled() {
    let mut b = ModuleBuilder::new("<odd> & co");
    b.input("x&y", &[5, 5])
        .hidden("a<b", &[5, 5], Activation::Tanh)
        .hidden("g", &[5, 5], Activation::Sigmoid)
        .hidden("u", &[5, 5], Activation::Product)
        .output("out\"", &[5, 5], Activation::Identity);
    b.edge("x&y", "a<b", Op::Conv(vec![3, 3]))
        .edge("x&y", "g", Op::Conv(vec![1, 1]))
        .edge("a<b", "u", Op::Identity)
        .edge("g", "u", Op::Identity)
        .edge("u", "out\"", Op::Scalar)
        .edge("x&y", "out\"", Op::Scalar)
        .named("skip'");
    let m = b.build().unwrap();
    let svg = check_drawing(&m);
    assert!(svg.contains(">a&lt;b<") && svg.contains(">x&amp;y<") && svg.contains(">out&quot;<"));
    assert!(svg.contains("data-name=\"skip&#39;\""));
    assert!(svg.contains("base module &lt;odd&gt; &amp; co"));
    assert!(!svg.contains("a<b") && !svg.contains("x&y"));
    assert!(svg.contains(">conv k=3×3</text>"), "{svg}");
    assert!(svg.contains(">[5, 5] · product<"));
}

#[test]
fn parallel_edges_are_drawn_apart() {
    let mut b = ModuleBuilder::new("gate");
    b.input("x", &[1])
        .hidden("u", &[1], Activation::Product)
        .output("y", &[1], Activation::Identity);
    b.edge("x", "u", Op::Scalar)
        .edge("x", "u", Op::Scalar)
        .edge("u", "y", Op::Scalar);
    let m = b.build().unwrap();
    let svg = check_drawing(&m);
    let doc = Document::parse(&svg).unwrap();
    let paths: Vec<String> = groups(&doc, "edge")
        .iter()
        .map(|g| {
            let p = g.children().find(|c| c.has_tag_name("path")).unwrap();
            p.attribute("d").unwrap().to_string()
        })
        .collect();
    assert_ne!(
        paths[0], paths[1],
        "the two edges x -> u have their own ports"
    );
}

#[test]
fn a_module_too_large_to_draw_is_an_error() {
    // A bias edge into every block spans ever more layers: ~blocks² bends.
    let m = resmlp(&ResMlpConfig {
        blocks: 60,
        ..Default::default()
    })
    .unwrap();
    let e = dag::svg(&m).unwrap_err().to_string();
    assert!(e.contains("more than 2000 boxes and edge bends"), "{e}");
    assert!(e.contains("hint:"), "{e}");
}

#[test]
fn the_largest_drawable_modules_are_drawn_quickly() {
    // 40 blocks: about 1600 bends of the bias edges, close to the limit.
    let m = resmlp(&ResMlpConfig {
        blocks: 40,
        ..Default::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    check_drawing(&m);
    let took = started.elapsed();
    assert!(took.as_secs_f64() < 10.0, "{took:?}");
}
