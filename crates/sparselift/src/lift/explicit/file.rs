//! The JSON form of a whole explicit lift: serde types, validation on load, and a
//! streaming writer.

use crate::lift::{Bipartite, Lift};
use crate::module::Module;
use crate::{Error, Result};
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The lifted edges over one base edge in an explicit lift file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExplicitEdges {
    /// The complete bipartite graph, written `"dense"`.
    Dense,
    /// `(source, target)` pairs of fiber indices, written `[[s, t], …]`.
    Pairs(Vec<(u32, u32)>),
}

/// A whole lift as written in a file (see [`save_lift`](super::save_lift)). Fibers and
/// edges keep the file's order; keys are vertex and base-edge names.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExplicitLift {
    /// Name of the base module the lift was drawn from.
    pub module: String,
    /// Fiber size of each vertex, by vertex name.
    #[serde(with = "ordered_map")]
    pub fibers: Vec<(String, u32)>,
    /// Lifted edges of each base edge, by edge name (`from->to` and `from-to` also work).
    #[serde(with = "ordered_map")]
    pub edges: Vec<(String, ExplicitEdges)>,
}

impl ExplicitLift {
    /// The explicit form of `lift` (copies every sparse edge; prefer
    /// [`save_lift`](super::save_lift) to write a large lift).
    pub fn from_lift(module: &Module, lift: &Lift) -> ExplicitLift {
        ExplicitLift {
            module: module.name().to_string(),
            fibers: module
                .vertices()
                .iter()
                .zip(lift.fibers())
                .map(|(v, &n)| (v.name.clone(), n))
                .collect(),
            edges: module
                .edges()
                .iter()
                .zip(lift.edges())
                .map(|(e, b)| {
                    let edges = if b.is_complete() {
                        ExplicitEdges::Dense
                    } else {
                        ExplicitEdges::Pairs(b.pairs().collect())
                    };
                    (e.name.clone(), edges)
                })
                .collect(),
        }
    }

    /// Validates this explicit lift against `module` and builds the [`Lift`].
    pub fn to_lift(&self, module: &Module) -> Result<Lift> {
        self.build(module, "lift")
    }

    /// [`ExplicitLift::to_lift`], with errors located in `origin` (a file name).
    pub(super) fn build(&self, module: &Module, origin: &str) -> Result<Lift> {
        let at = |what: String| format!("{origin}: {what}");
        if self.module != module.name() {
            return Err(Error::invalid(
                at("module".into()),
                format!(
                    "the lift was saved for module \"{}\", not \"{}\"",
                    self.module,
                    module.name()
                ),
            )
            .with_hint("load it with the module it was drawn from"));
        }
        let mut fibers: Vec<Option<u32>> = vec![None; module.vertices().len()];
        for (name, n) in &self.fibers {
            let what = format!("vertex \"{name}\"");
            let v = module
                .vertex_id(name)
                .ok_or_else(|| Error::invalid(at(what.clone()), "no such vertex in the module"))?;
            if *n == 0 {
                return Err(Error::invalid(at(what), "fiber size 0")
                    .with_hint("every fiber needs at least one lifted vertex"));
            }
            fibers[v] = Some(*n);
        }
        let fibers = fibers
            .into_iter()
            .enumerate()
            .map(|(v, n)| {
                n.ok_or_else(|| {
                    let name = &module.vertex(v).name;
                    Error::invalid(at(format!("vertex \"{name}\"")), "missing fiber size")
                        .with_hint(format!("add \"{name}\": N to \"fibers\""))
                })
            })
            .collect::<Result<Vec<u32>>>()?;

        let mut edges: Vec<Option<Bipartite>> = vec![None; module.edges().len()];
        for (key, given) in &self.edges {
            let what = format!("edge \"{key}\"");
            let e = module.find_edge(key).ok_or_else(|| {
                let names: Vec<&str> = module.edges().iter().map(|e| e.name.as_str()).collect();
                Error::invalid(at(what.clone()), "no such base edge in the module")
                    .with_hint(format!("the edges are: {}", names.join(", ")))
            })?;
            if edges[e].is_some() {
                return Err(Error::invalid(at(what), "given twice"));
            }
            let edge = module.edge(e);
            let (n_src, n_dst) = (fibers[edge.from], fibers[edge.to]);
            let graph = match given {
                ExplicitEdges::Dense => Bipartite::complete(n_src, n_dst),
                ExplicitEdges::Pairs(pairs) => {
                    if let Some(i) = pairs.iter().position(|&(s, t)| s >= n_src || t >= n_dst) {
                        let (s, t) = pairs[i];
                        return Err(Error::invalid(
                            at(what),
                            format!(
                                "pair #{i} [{s}, {t}] is outside the fibers of \"{}\" ({n_src}) and \"{}\" ({n_dst})",
                                module.vertex(edge.from).name,
                                module.vertex(edge.to).name
                            ),
                        )
                        .with_hint("fiber indices are 0-based"));
                    }
                    Bipartite::from_pairs(n_src, n_dst, pairs)
                }
            };
            edges[e] =
                Some(graph.map_err(|err| relocate(err, &at(format!("edge \"{}\"", edge.name))))?);
        }
        let edges = edges
            .into_iter()
            .enumerate()
            .map(|(e, b)| {
                b.ok_or_else(|| {
                    let name = &module.edge(e).name;
                    Error::invalid(at(format!("edge \"{name}\"")), "missing lifted edges")
                        .with_hint(format!("add \"{name}\": \"dense\" or a list of [source, target] pairs to \"edges\""))
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Lift::new(module, fibers, edges).map_err(|err| match err {
            Error::Invalid {
                at: a,
                message,
                hint,
            } => Error::Invalid {
                at: at(a),
                message,
                hint,
            },
            other => other,
        })
    }
}

fn relocate(err: Error, to: &str) -> Error {
    match err {
        Error::Invalid { message, hint, .. } => Error::Invalid {
            at: to.to_string(),
            message,
            hint,
        },
        other => other,
    }
}

/// Streams the JSON of `lift` without building an [`ExplicitLift`].
pub(super) fn write_json(
    w: &mut impl std::io::Write,
    module: &Module,
    lift: &Lift,
) -> std::io::Result<()> {
    struct Fibers<'a>(&'a Module, &'a Lift);
    impl Serialize for Fibers<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(
                self.0
                    .vertices()
                    .iter()
                    .zip(self.1.fibers())
                    .map(|(v, n)| (&v.name, n)),
            )
        }
    }
    struct Pairs<'a>(&'a Bipartite);
    impl Serialize for Pairs<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            if self.0.is_complete() {
                s.serialize_str("dense")
            } else {
                s.collect_seq(self.0.pairs().map(|(a, b)| [a, b]))
            }
        }
    }
    struct Edges<'a>(&'a Module, &'a Lift);
    impl Serialize for Edges<'_> {
        fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.collect_map(
                self.0
                    .edges()
                    .iter()
                    .zip(self.1.edges())
                    .map(|(e, b)| (&e.name, Pairs(b))),
            )
        }
    }
    let mut map = serde_json::Serializer::new(&mut *w);
    let mut m = map.serialize_map(Some(3))?;
    m.serialize_entry("module", module.name())?;
    m.serialize_entry("fibers", &Fibers(module, lift))?;
    m.serialize_entry("edges", &Edges(module, lift))?;
    m.end()?;
    w.write_all(b"\n")
}

impl Serialize for ExplicitEdges {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ExplicitEdges::Dense => s.serialize_str("dense"),
            ExplicitEdges::Pairs(p) => s.collect_seq(p.iter().map(|&(a, b)| [a, b])),
        }
    }
}

impl<'de> Deserialize<'de> for ExplicitEdges {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ExplicitEdges;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"dense\" or a list of [source, target] pairs")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<ExplicitEdges, E> {
                match v {
                    "dense" => Ok(ExplicitEdges::Dense),
                    _ => Err(E::invalid_value(de::Unexpected::Str(v), &self)),
                }
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ExplicitEdges, A::Error> {
                let mut pairs = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20));
                while let Some([a, b]) = seq.next_element::<[u32; 2]>()? {
                    pairs.push((a, b));
                }
                Ok(ExplicitEdges::Pairs(pairs))
            }
        }
        d.deserialize_any(V)
    }
}

/// A JSON object read into, and written from, a list of `(key, value)` in file order;
/// a repeated key is an error.
mod ordered_map {
    use super::*;

    pub fn serialize<S: Serializer, T: Serialize>(
        v: &[(String, T)],
        s: S,
    ) -> Result<S::Ok, S::Error> {
        s.collect_map(v.iter().map(|(k, x)| (k, x)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
        d: D,
    ) -> Result<Vec<(String, T)>, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Vec<(String, T)>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out: Vec<(String, T)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, T>()? {
                    if out.iter().any(|(o, _)| *o == k) {
                        return Err(de::Error::custom(format!("\"{k}\" is given twice")));
                    }
                    out.push((k, v));
                }
                Ok(out)
            }
        }
        d.deserialize_map(V(std::marker::PhantomData))
    }
}
