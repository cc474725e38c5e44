//! Every validation rule, each with the message it must give. Modules are written in a
//! compact one-line-per-table TOML so that the expected line numbers are easy to check.

use crate::module::{Activation, Module, ModuleBuilder, ModuleSpec, Op};

/// Vertices `x` (input [4]), `one` (constant), `h` (hidden [1], relu), `y` (output [1])
/// on lines 2-5, then one line per extra vertex; edge tables start after the closing `]`
/// (line 7 without extra vertices).
fn with(extra_vertices: &str, edges: &str) -> String {
    format!(
        "vertex = [\n  {{ name = \"x\", role = \"input\", shape = [4] }},\n  {{ name = \"one\", role = \"constant\" }},\n  {{ name = \"h\", activation = \"relu\" }},\n  {{ name = \"y\", role = \"output\" }},\n{extra_vertices}]\n{edges}"
    )
}

const BASE_EDGES: &str = "[[edge]]\nfrom = \"x\"\nto = \"h\"\nop = \"linear\"\n[[edge]]\nfrom = \"h\"\nto = \"y\"\nop = \"scalar\"\n";

fn build(text: &str) -> crate::Result<Module> {
    ModuleSpec::from_toml_str(text, "m.toml")?.build()
}

fn err(text: &str) -> String {
    match build(text) {
        Ok(m) => panic!("expected an error, got a module:\n{m}"),
        Err(e) => e.to_string(),
    }
}

/// `edges` followed by the fixture's `h -> y`, so that only `edges` can be wrong.
fn then_y(edges: String) -> String {
    format!("{edges}{}", edge("h", "y", "scalar", ""))
}

fn edge(from: &str, to: &str, op: &str, more: &str) -> String {
    format!("[[edge]]\nfrom = \"{from}\"\nto = \"{to}\"\nop = \"{op}\"\n{more}")
}

#[test]
fn the_base_fixture_is_valid() {
    // Guards every test below: each error comes from the one thing it changes.
    let m = build(&with("", BASE_EDGES)).unwrap();
    assert_eq!(m.edge(0).weight_shape, vec![1, 4]);
    // `one` is declared but unused: a warning, not an error.
    assert_eq!(m.warnings().len(), 1);
    assert!(m.warnings()[0].contains("vertex \"one\" cannot reach an output"));
}

#[test]
fn names() {
    let e = err(&with("  { name = \"h\" },\n", BASE_EDGES));
    assert!(
        e.starts_with("m.toml:6: vertex \"h\": duplicate vertex name"),
        "{e}"
    );
    assert!(e.contains("m.toml:4: vertex \"h\" already uses it"), "{e}");
    let e = err(&with(
        "  { name = \"a b\", role = \"input\" },\n",
        BASE_EDGES,
    ));
    assert!(e.contains("invalid vertex name"), "{e}");
    let e = err(&with("  { name = \"\", role = \"input\" },\n", BASE_EDGES));
    assert!(e.contains("invalid vertex name"), "{e}");

    let two = format!(
        "{BASE_EDGES}{}",
        edge("x", "h", "linear", "name = \"h->y\"\n")
    );
    let e = err(&with("", &two));
    // Edge tables start on lines 7, 11, 15.
    assert!(
        e.starts_with("m.toml:15: edge \"h->y\" (x -> h): duplicate edge name \"h->y\""),
        "{e}"
    );
    assert!(
        e.contains("m.toml:11: edge h -> y has the same name"),
        "{e}"
    );
    let e = err(&with("", &edge("x", "y", "linear", "name = \"my edge\"\n")));
    assert!(e.contains("invalid edge name"), "{e}");

    let e = err(&with("", &then_y(edge("x", "h2", "linear", ""))));
    assert!(
        e.starts_with("m.toml:7: edge x -> h2: unknown target vertex \"h2\""),
        "{e}"
    );
    let e = err(&with("", &then_y(edge("z", "h", "linear", ""))));
    assert!(e.contains("unknown source vertex \"z\""), "{e}");
}

#[test]
fn parallel_edges_get_numbered_names() {
    let text = with("", &format!("{BASE_EDGES}{}", edge("x", "h", "linear", "")));
    let m = build(&text).unwrap();
    let names: Vec<&str> = m.edges().iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["x->h", "h->y", "x->h#2"]);
    // Both parallel edges feed `h`, in declaration order.
    assert_eq!((m.edge(0).slot, m.edge(2).slot), (0, 1));
}

#[test]
fn roles() {
    let e = err(&with(
        "",
        &format!("{BASE_EDGES}{}", edge("h", "x", "scalar", "")),
    ));
    assert!(
        e.contains("edge h -> x: edge into input vertex \"x\""),
        "{e}"
    );
    let e = err(&with(
        "",
        &format!("{BASE_EDGES}{}", edge("h", "one", "scalar", "")),
    ));
    assert!(e.contains("edge into constant vertex \"one\""), "{e}");
    let e = err(&with(
        "  { name = \"z\", role = \"input\", activation = \"relu\" },\n",
        BASE_EDGES,
    ));
    assert!(
        e.contains("m.toml:6: vertex \"z\": input vertices take no activation"),
        "{e}"
    );
    let e = err(&with(
        "  { name = \"c\", role = \"constant\", shape = [3] },\n",
        BASE_EDGES,
    ));
    assert!(
        e.contains("a constant vertex has shape [1], not [3]"),
        "{e}"
    );
    let e = err(&with("  { name = \"lonely\" },\n", BASE_EDGES));
    assert!(e.contains("vertex \"lonely\": has no in-edges"), "{e}");
    let e = err("[[vertex]]\nname = \"x\"\nrole = \"input\"\n[[vertex]]\nname = \"h\"\n[[edge]]\nfrom = \"x\"\nto = \"h\"\nop = \"scalar\"\n");
    assert!(
        e.starts_with("m.toml: the module has no output vertex"),
        "{e}"
    );
    let e = err("name = \"empty\"\n");
    assert!(e.starts_with("m.toml: the module has no vertices"), "{e}");
}

#[test]
fn cycles_are_printed_forwards_from_the_first_declared_vertex() {
    let extra = "  { name = \"a\" },\n  { name = \"b\" },\n  { name = \"c\" },\n";
    // Declared out of order so that the walk does not happen to start at `a`.
    let edges = [
        edge("x", "a", "linear", "out = 1\n"),
        edge("c", "a", "scalar", ""),
        edge("b", "c", "scalar", ""),
        edge("a", "b", "scalar", ""),
        BASE_EDGES.to_string(),
    ]
    .concat();
    let e = err(&with(extra, &edges));
    assert!(
        e.starts_with("m.toml: the module has a cycle: a -> b -> c -> a"),
        "{e}"
    );
    // Vertex lines 2-8, `]` on 9, then edges of 5, 4, 4, 4 lines: the cycle's three
    // edges start on lines 15, 19 and 23.
    assert!(e.contains("(lines 15, 19, 23)"), "{e}");

    let e = err(&with(
        "",
        &format!("{BASE_EDGES}{}", edge("h", "h", "scalar", "")),
    ));
    assert!(
        e.contains("m.toml:15: edge h -> h: self-loop on vertex \"h\""),
        "{e}"
    );
}

#[test]
fn ops_and_their_fields() {
    let e = err(&with("", &then_y(edge("x", "h", "dense", ""))));
    assert!(e.contains("unknown op \"dense\""), "{e}");
    let e = err(&with("", &then_y(edge("x", "h", "scalar", "out = 3\n"))));
    assert!(
        e.contains("field `out` is only for linear and readout edges, not scalar"),
        "{e}"
    );
    let e = err(&with(
        "",
        &then_y(edge("x", "h", "linear", "kernel = [3]\n")),
    ));
    assert!(
        e.contains("field `kernel` is only for conv edges, not linear"),
        "{e}"
    );
    let e = err(&with("", &then_y(edge("x", "h", "linear", "out = 0\n"))));
    assert!(e.contains("linear `out` must be ≥ 1"), "{e}");
    let e = err(&with(
        "",
        &then_y(edge("x", "h", "linear", "sampler = \"k-lift:0\"\n")),
    ));
    assert!(
        e.contains(
            "edge x -> h: sampler \"k-lift\": the number of matchings k must be a whole number ≥ 1"
        ),
        "{e}"
    );
    let e = err(&with(
        "",
        &then_y(edge("x", "h", "linear", "sampler = \"sparse\"\n")),
    ));
    assert!(e.contains("unknown sampler \"sparse\""), "{e}");
}

#[test]
fn activations() {
    let e = err(&with(
        "  { name = \"g\", activation = \"ReLU\" },\n",
        BASE_EDGES,
    ));
    assert!(
        e.contains("vertex \"g\": unknown activation \"ReLU\""),
        "{e}"
    );
    assert!(e.contains("expected one of: identity, relu"), "{e}");
    for act in ["product", "outer", "dsoftmul"] {
        let extra = format!("  {{ name = \"g\", shape = [4, 4], activation = \"{act}\" }},\n");
        let edges = format!("{BASE_EDGES}{}", edge("x", "g", "scalar", ""));
        let e = err(&with(&extra, &edges));
        assert!(
            e.contains(&format!("activation {act} takes exactly 2 in-edges")),
            "{e}"
        );
        assert!(e.contains("but has 1"), "{e}");
    }
}

#[test]
fn shapes() {
    let e = err(&with("", &then_y(edge("x", "h", "scalar", ""))));
    assert!(
        e.contains(
            "op scalar maps \"x\" of shape [4] to [4], but \"h\" (relu) expects [1] in slot 1"
        ),
        "{e}"
    );
    for (shape, what) in [
        ("[0]", "invalid shape [0]"),
        ("[]", "invalid shape []"),
        ("[1, 1, 1, 1, 1]", "invalid shape"),
        ("[65536, 65536]", "absurdly large"),
        ("[18446744073709551615, 2]", "absurdly large"),
    ] {
        let e = err(&with(
            &format!("  {{ name = \"z\", role = \"input\", shape = {shape} }},\n"),
            BASE_EDGES,
        ));
        assert!(e.contains(what), "{shape}: {e}");
    }
    // A linear edge whose `out` makes an absurd weight even though the target is small
    // (outer vertices do not fix the pre-activation's channel count).
    let m = "vertex = [\n { name = \"x\", role = \"input\", shape = [4, 8] },\n { name = \"s\", role = \"output\", shape = [4, 4], activation = \"outer\" },\n]\n";
    let big = format!(
        "{m}{}{}",
        edge("x", "s", "linear", "out = 1000000000\n"),
        edge("x", "s", "linear", "out = 1000000000\n")
    );
    assert!(err(&big).contains("absurdly large"));
    let none = format!(
        "{m}{}{}",
        edge("x", "s", "linear", ""),
        edge("x", "s", "linear", "out = 2\n")
    );
    let e = err(&none);
    assert!(
        e.contains("cannot infer the output size of this linear edge into outer vertex \"s\""),
        "{e}"
    );
    let mismatched = format!(
        "{m}{}{}",
        edge("x", "s", "linear", "out = 3\n"),
        edge("x", "s", "linear", "out = 2\n")
    );
    let e = err(&mismatched);
    assert!(e.contains("outer needs two pre-activations of one shape [4, c] (queries and keys), got [4, 3] and [4, 2]"), "{e}");
    let flat = "vertex = [\n { name = \"x\", role = \"input\", shape = [4, 8] },\n { name = \"s\", role = \"output\", shape = [4, 8], activation = \"outer\" },\n]\n";
    let e = err(&format!(
        "{flat}{}{}",
        edge("x", "s", "scalar", ""),
        edge("x", "s", "scalar", "")
    ));
    assert!(
        e.contains("outer produces attention scores [L, L], but the vertex has shape [4, 8]"),
        "{e}"
    );
    let d = "vertex = [\n { name = \"x\", role = \"input\", shape = [4, 8] },\n { name = \"d\", role = \"output\", shape = [32], activation = \"dsoftmul\" },\n]\n";
    let e = err(&format!(
        "{d}{}{}",
        edge("x", "d", "scalar", ""),
        edge("x", "d", "scalar", "")
    ));
    assert!(
        e.contains("dsoftmul produces a token map [L, c], but the vertex has shape [32]"),
        "{e}"
    );
}

#[test]
fn conv_kernels() {
    let m = "vertex = [\n { name = \"x\", role = \"input\", shape = [5, 5] },\n { name = \"c\", role = \"output\", shape = [5, 5] },\n]\n";
    let ok = build(&format!(
        "{m}{}",
        edge("x", "c", "conv", "kernel = [3, 3]\n")
    ))
    .unwrap();
    assert_eq!(ok.edge(0).weight_shape, vec![3, 3]);
    for (kernel, what) in [
        ("[4, 3]", "conv kernel [4, 3] is not 1 or 2 odd sizes"),
        ("[]", "conv kernel [] is not 1 or 2 odd sizes"),
        ("[3, 3, 3]", "is not 1 or 2 odd sizes"),
        (
            "[3]",
            "a 1-D conv kernel [3] needs a 1-D channel map, but \"x\" has shape [5, 5]",
        ),
        (
            "[11, 3]",
            "conv kernel [11, 3] is wider than a map of shape [5, 5] can use (at most [9, 9])",
        ),
    ] {
        let e = err(&format!(
            "{m}{}",
            edge("x", "c", "conv", &format!("kernel = {kernel}\n"))
        ));
        assert!(e.contains(what), "{kernel}: {e}");
    }
    let e = err(&format!("{m}{}", edge("x", "c", "conv", "")));
    assert!(e.contains("conv edge without a kernel"), "{e}");
}

/// The attention shapes of docs/semantics.md §1 all resolve: q, k, v are linear maps of the
/// token map, `outer` makes [L, L] scores and `dsoftmul` applies them to the values.
#[test]
fn attention_shapes_resolve() {
    let mut b = ModuleBuilder::new("attn");
    b.input("x", &[6, 8])
        .hidden("s", &[6, 6], Activation::Outer)
        .hidden("a", &[6, 8], Activation::Dsoftmul)
        .output("y", &[6, 8], Activation::Identity);
    b.edge("x", "s", Op::Linear)
        .out(2)
        .edge("x", "s", Op::Linear)
        .out(2);
    b.edge("s", "a", Op::Identity).edge("x", "a", Op::Linear);
    b.edge("a", "y", Op::TokenMix).edge("x", "y", Op::Identity);
    let m = b.build().unwrap();
    let w: Vec<Vec<usize>> = m.edges().iter().map(|e| e.weight_shape.clone()).collect();
    assert_eq!(
        w,
        [
            vec![2, 8],
            vec![2, 8],
            vec![],
            vec![8, 8],
            vec![6, 6],
            vec![]
        ]
    );
    assert_eq!(m.edge(0).z_shape, vec![6, 2]);
    assert!(m.warnings().is_empty());
}

#[test]
fn big_chains_validate_quickly() {
    // A long chain and a long cycle: the checks are linear, so this takes milliseconds
    // (a quadratic cycle search would take minutes on the cycle).
    let n = 50_000;
    let mut b = ModuleBuilder::new("chain");
    b.input("v0", &[1]);
    for i in 1..n {
        b.hidden(&format!("v{i}"), &[1], Activation::Identity);
    }
    b.output("y", &[1], Activation::Identity);
    for i in 1..n {
        b.edge(&format!("v{}", i - 1), &format!("v{i}"), Op::Scalar);
    }
    b.edge(&format!("v{}", n - 1), "y", Op::Scalar);
    assert_eq!(b.build().unwrap().topological_order().len(), n + 1);
    b.edge(&format!("v{}", n - 1), "v1", Op::Scalar);
    let e = b.build().unwrap_err().to_string();
    assert!(e.contains("has a cycle: v1 -> v2 -> "), "{}", &e[..80]);
    // The 50 000 vertices of the cycle are elided to its ends, not echoed.
    assert!(e.contains(&format!(" -> … {} more … -> ", n - 12)), "{e}");
    assert!(e.contains(&format!("v{} -> v1", n - 1)), "{e}");
    assert!(e.len() < 300, "{e}");
}

mod random_specs {
    //! Random modules: a valid one built from random choices, then (usually) one random
    //! mistake. Without the mistake validation must accept it; with it, validation may
    //! accept or reject, but must never panic and must only give user errors. Whatever
    //! is accepted must survive the trip through TOML and JSON unchanged.
    use crate::module::{EdgeSpec, ModuleSpec, Role, VertexSpec};
    use proptest::prelude::*;

    const NAMES: [&str; 6] = ["x", "one", "a", "b", "c", "y"];
    const ELEMENTWISE: [&str; 7] = [
        "identity",
        "relu",
        "leaky_relu",
        "tanh",
        "sigmoid",
        "gelu",
        "softplus",
    ];

    #[derive(Clone, Debug)]
    struct Plan {
        base: usize,
        activations: Vec<usize>,
        /// For each of a, b, c, y: its in-edges as (source pick, op pick).
        in_edges: Vec<Vec<(usize, usize)>>,
        /// (kind, i, j): which mistake, and two picks that parameterise it.
        mistake: Option<(usize, usize, usize)>,
    }

    fn plan() -> impl Strategy<Value = Plan> {
        let edges = prop::collection::vec((0usize..100, 0usize..100), 1..4);
        let mistake = prop_oneof![1 => Just(None), 3 => (0usize..13, 0usize..100, 0usize..100).prop_map(Some)];
        (
            0usize..3,
            prop::collection::vec(0usize..7, 4),
            prop::collection::vec(edges, 4),
            mistake,
        )
            .prop_map(|(base, activations, in_edges, mistake)| Plan {
                base,
                activations,
                in_edges,
                mistake,
            })
    }

    fn vertex(name: &str, role: Role, shape: &[usize], activation: Option<&str>) -> VertexSpec {
        VertexSpec {
            name: name.into(),
            role,
            shape: (role != Role::Constant).then(|| shape.to_vec()),
            activation: activation.map(str::to_string),
            fiber: None,
        }
    }

    /// A module every choice of which is valid: all vertices share one shape, and each
    /// edge's op maps that shape to itself.
    fn valid(p: &Plan) -> ModuleSpec {
        let base = [vec![1], vec![4], vec![4, 4]][p.base].clone();
        let act = |i: usize| Some(ELEMENTWISE[p.activations[i]]);
        let vertices = vec![
            vertex("x", Role::Input, &base, None),
            vertex("one", Role::Constant, &[1], None),
            vertex("a", Role::Hidden, &base, act(0)),
            vertex("b", Role::Hidden, &base, act(1)),
            vertex("c", Role::Hidden, &base, act(2)),
            vertex("y", Role::Output, &base, act(3)),
        ];
        let mut edges = Vec::new();
        for (k, ins) in p.in_edges.iter().enumerate() {
            let to = k + 2;
            for &(src, op) in ins {
                let mut from = src % to;
                if from == 1 && base.len() > 1 {
                    from = 0; // a bias can only reach 1-D vertices (linear from [1])
                }
                let op = if from == 1 {
                    "linear"
                } else {
                    ["scalar", "identity", "linear", "token_mix", "conv"][op % 5]
                };
                let kernel = (op == "conv")
                    .then(|| base.iter().map(|&d| if d > 1 { 3 } else { 1 }).collect());
                edges.push(EdgeSpec {
                    from: NAMES[from].into(),
                    to: NAMES[to].into(),
                    op: op.into(),
                    name: None,
                    out: None,
                    kernel,
                    sampler: None,
                });
            }
        }
        ModuleSpec {
            name: "r".into(),
            vertices,
            edges,
            origin: None,
        }
    }

    fn pick<T: Clone>(options: &[T], i: usize) -> T {
        options[i % options.len()].clone()
    }

    fn make_mistake(spec: &mut ModuleSpec, (kind, i, j): (usize, usize, usize)) {
        let (nv, ne) = (spec.vertices.len(), spec.edges.len());
        let names = ["x", "one", "a", "b", "c", "y", "ghost"];
        let v = &mut spec.vertices[i % nv];
        let e = &mut spec.edges[i % ne];
        match kind {
            0 => {
                v.shape = Some(pick(
                    &[
                        vec![],
                        vec![0],
                        vec![4, 2],
                        vec![4],
                        vec![1; 5],
                        vec![1 << 20, 1 << 20],
                    ],
                    j,
                ))
            }
            1 => {
                v.activation =
                    Some(pick(&["product", "outer", "dsoftmul", "swish", "relu"], j).into())
            }
            2 => {
                v.role = pick(
                    &[Role::Input, Role::Constant, Role::Hidden, Role::Output],
                    j,
                )
            }
            3 => {
                e.op = pick(
                    &["scalar", "linear", "identity", "token_mix", "conv", "dense"],
                    j,
                )
                .into()
            }
            4 => e.from = pick(&names, j).into(),
            5 => e.to = pick(&names, j).into(),
            6 => e.out = Some(j % 6),
            7 => e.kernel = Some(pick(&[vec![3], vec![3, 3], vec![2], vec![], vec![9, 9]], j)),
            8 => e.sampler = Some(pick(&["k-lift:1", "in-degree:0", "set:0", "dense:2"], j).into()),
            9 => {
                spec.vertices.remove(i % nv);
            }
            10 => {
                let copy = v.clone();
                spec.vertices.push(copy);
            }
            11 => {
                let mut back = e.clone();
                back.from = pick(&names[2..6], j).into();
                back.to = pick(&names[2..6], i).into();
                spec.edges.push(back);
            }
            _ => e.name = Some(pick(&["x->a", "", "a b", "y->a#2"], j).into()),
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn validation_never_panics_and_valid_modules_round_trip(p in plan()) {
            let mut spec = valid(&p);
            if let Some(m) = p.mistake {
                make_mistake(&mut spec, m);
            }
            match spec.build() {
                Err(e) => {
                    prop_assert!(p.mistake.is_some(), "a valid module was rejected: {e}");
                    prop_assert!(e.is_user_error(), "{e}");
                }
                Ok(m) => {
                    let toml = ModuleSpec::from_toml_str(&m.to_string(), "r.toml").unwrap().build().unwrap();
                    prop_assert_eq!(&toml, &m);
                    let json = ModuleSpec::from_json_str(&m.to_json(), "r.json").unwrap().build().unwrap();
                    prop_assert_eq!(&json, &m);
                }
            }
        }
    }
}
