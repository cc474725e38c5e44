//! Checkpoints: a lifted network — module, lift and parameters `θ` — plus any training
//! state, in one [safetensors](https://github.com/huggingface/safetensors) file that
//! PyTorch and NumPy read directly.
//!
//! Layout, for every base edge `e` named `from->to` (or its own name when two edges join
//! the same pair):
//!
//! | tensor | dtype | shape | content |
//! | --- | --- | --- | --- |
//! | `from->to` | F32/F64 | `[lifted edges, ..weight_shape]` | weights in CSR order (by target, then source) |
//! | `from->to.dst_offsets` | U32 | `[n_to + 1]` | CSR offsets (sparse edges only) |
//! | `from->to.src_index` | U32 | `[lifted edges]` | source of each lifted edge (sparse edges only) |
//! | `state.N` | F64 | `[len]` | long numeric arrays of the training state |
//!
//! Complete (dense) edges store no indices: their weights are the row-major
//! `n_to × n_from` matrix of weight blocks. The safetensors metadata key `sparselift`
//! holds a JSON header: format version, dtype, the module as TOML, fiber sizes, which
//! edges are complete, and the caller's JSON training state — whose numeric arrays longer
//! than [`INLINE_MAX`] are moved to `state.N` tensors (and put back on load), since the
//! header is JSON text limited to 100 MB. Files are written to a
//! temporary name and renamed, so a crash never leaves a half-written checkpoint.
//!
//! ```
//! use sparselift::{checkpoint::Checkpoint, engine::Network, lift::{LiftSpec, Sampler}, zoo};
//!
//! let module = zoo::mlp(&zoo::MlpConfig::default())?;
//! let lift = LiftSpec::new(8, Sampler::Dense).sample(&module)?;
//! let net = Network::new(module, lift)?;
//! let ckpt = Checkpoint { theta: net.init::<f32>(1), network: net, state: Default::default() };
//! let path = std::env::temp_dir().join("sparselift-doc.safetensors");
//! ckpt.save(&path)?;
//! let back: Checkpoint<f32> = Checkpoint::load(&path)?;
//! assert_eq!(back.theta, ckpt.theta);
//! # Ok::<(), sparselift::Error>(())
//! ```

use crate::engine::Network;
use crate::lift::{Bipartite, Lift};
use crate::module::ModuleSpec;
use crate::{budget, Error, Real, Result};
use safetensors::tensor::{Dtype, TensorView};
use safetensors::SafeTensors;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

mod framing;

const FORMAT: u32 = 1;
/// The precisions a checkpoint's weights may be stored in.
const PRECISIONS: [&str; 2] = ["f32", "f64"];
/// Numeric arrays of the training state up to this length stay in the JSON header.
pub const INLINE_MAX: usize = 64;
/// Marks an array moved out of the header: `{"$tensor": N}` stands for tensor `state.N`.
const MOVED: &str = "$tensor";
const META_KEY: &str = "sparselift";

/// A network, its parameters and the state of the run that produced them.
#[derive(Clone, Debug)]
pub struct Checkpoint<T> {
    /// The lifted network: base module and lift.
    pub network: Network,
    /// Its parameters, in the engine's layout.
    pub theta: Vec<T>,
    /// Caller-defined JSON state (configuration, a serialised trainer, …). Numbers in
    /// long arrays must be exactly representable as `f64` (they are stored as F64).
    pub state: serde_json::Value,
}

#[derive(Serialize, Deserialize)]
struct Header {
    format: u32,
    dtype: String,
    module: String,
    fibers: Vec<u32>,
    complete: Vec<bool>,
    state: serde_json::Value,
}

fn bytes_of<T: Copy, const N: usize>(xs: &[T], f: impl Fn(T) -> [u8; N]) -> Vec<u8> {
    xs.iter().flat_map(|&x| f(x)).collect()
}

fn corrupt(path: &Path, what: impl std::fmt::Display) -> Error {
    Error::invalid(path.display().to_string(), format!("not a valid sparselift checkpoint: {what}"))
        .with_hint("was it written by `sparselift train --out`? re-create it, or check the file was copied whole")
}

impl<T: Real> Checkpoint<T> {
    /// Writes the checkpoint atomically (temporary file, then rename).
    pub fn save(&self, path: &Path) -> Result<()> {
        let net = &self.network;
        let module = net.module();
        let lift = net.lift();
        let mut tensors: Vec<(String, Dtype, Vec<usize>, Vec<u8>)> = Vec::new();
        let dtype = if T::NAME == "f32" {
            Dtype::F32
        } else {
            Dtype::F64
        };
        let to_bytes = |xs: &[T]| match dtype {
            Dtype::F32 => bytes_of(xs, |x: T| (x.f64() as f32).to_le_bytes()),
            _ => bytes_of(xs, |x: T| x.f64().to_le_bytes()),
        };
        for (e, edge) in module.edges().iter().enumerate() {
            let bip = lift.edge(e);
            if edge.weight_numel() > 0 {
                let mut shape = vec![bip.num_edges()];
                shape.extend(&edge.weight_shape);
                tensors.push((
                    edge.name.clone(),
                    dtype,
                    shape,
                    to_bytes(&self.theta[net.param_range(e)]),
                ));
            }
            if let Some((off, src)) = bip.csr() {
                let u32s = |xs: &[u32]| bytes_of(xs, u32::to_le_bytes);
                tensors.push((
                    format!("{}.dst_offsets", edge.name),
                    Dtype::U32,
                    vec![off.len()],
                    u32s(off),
                ));
                tensors.push((
                    format!("{}.src_index", edge.name),
                    Dtype::U32,
                    vec![src.len()],
                    u32s(src),
                ));
            }
        }
        let mut moved = Vec::new();
        let state = move_arrays(&self.state, &mut moved);
        for (i, v) in moved.iter().enumerate() {
            let bytes = bytes_of(v, f64::to_le_bytes);
            tensors.push((format!("state.{i}"), Dtype::F64, vec![v.len()], bytes));
        }
        let header = Header {
            format: FORMAT,
            dtype: T::NAME.to_string(),
            module: module.to_string(),
            fibers: lift.fibers().to_vec(),
            complete: lift.edges().iter().map(Bipartite::is_complete).collect(),
            state,
        };
        let meta = HashMap::from([(
            META_KEY.to_string(),
            serde_json::to_string(&header).expect("header serialises"),
        )]);
        let views = tensors
            .iter()
            .map(|(n, d, s, b)| {
                Ok((
                    n.clone(),
                    TensorView::new(*d, s.clone(), b).map_err(|e| corrupt(path, e))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let bytes = safetensors::serialize(views, Some(meta))
            .map_err(|e| Error::io(path, std::io::Error::other(e.to_string())))?;
        crate::atomic::write(path, &bytes)
    }

    /// Reads a checkpoint, rebuilding and re-validating the module and the lift. Weights
    /// stored as f64 load into f32 (rounded) and vice versa.
    pub fn load(path: &Path) -> Result<Checkpoint<T>> {
        let bytes = framing::read(path)?;
        let st = SafeTensors::deserialize(&bytes).map_err(|e| corrupt(path, e))?;
        let (_, meta) = SafeTensors::read_metadata(&bytes).map_err(|e| corrupt(path, e))?;
        let header: Header = meta
            .metadata()
            .as_ref()
            .and_then(|m| m.get(META_KEY))
            .ok_or_else(|| corrupt(path, "no sparselift header"))
            .and_then(|h| serde_json::from_str(h).map_err(|e| corrupt(path, e)))?;
        if header.format != FORMAT {
            return Err(Error::invalid(
                path.display().to_string(),
                format!(
                    "checkpoint format version {}, but this build reads only version {FORMAT}",
                    header.format
                ),
            )
            .with_hint(if header.format > FORMAT {
                "it was written by a newer sparselift: read it with that version"
            } else {
                "it was written by an older sparselift: re-create it with this version"
            }));
        }
        if !PRECISIONS.contains(&header.dtype.as_str()) {
            return Err(corrupt(
                path,
                format!(
                    "unknown precision `{}` (known: {})",
                    header.dtype,
                    PRECISIONS.join(", ")
                ),
            ));
        }
        let spec: ModuleSpec = toml::from_str(&header.module).map_err(|e| corrupt(path, e))?;
        let module = spec.build()?;
        if header.fibers.len() != module.vertices().len()
            || header.complete.len() != module.edges().len()
        {
            return Err(corrupt(path, "fibers or edges do not match the module"));
        }
        check_memory::<T>(path, &module, &header, &st)?;
        let u32s = |name: &str| -> Result<Vec<u32>> {
            let t = st
                .tensor(name)
                .map_err(|e| corrupt(path, format!("{name}: {e}")))?;
            Ok(t.data()
                .chunks_exact(4)
                .map(|c| u32::from_le_bytes(c.try_into().unwrap()))
                .collect())
        };
        let mut edges = Vec::with_capacity(module.edges().len());
        for (e, edge) in module.edges().iter().enumerate() {
            let (ns, nt) = (header.fibers[edge.from], header.fibers[edge.to]);
            edges.push(if header.complete[e] {
                Bipartite::complete(ns, nt)?
            } else {
                let off = u32s(&format!("{}.dst_offsets", edge.name))?;
                let src = u32s(&format!("{}.src_index", edge.name))?;
                Bipartite::from_csr(ns, nt, off, src).map_err(|e| corrupt(path, e))?
            });
        }
        let lift = Lift::new(&module, header.fibers.clone(), edges)?;
        let network = Network::new(module, lift)?;
        let mut theta = Vec::with_capacity(network.num_params());
        for (e, edge) in network.module().edges().iter().enumerate() {
            if edge.weight_numel() == 0 {
                continue;
            }
            let t = st
                .tensor(&edge.name)
                .map_err(|err| corrupt(path, format!("{}: {err}", edge.name)))?;
            let want = network.param_range(e).len();
            let values = read_floats(t.dtype(), t.data())
                .ok_or_else(|| corrupt(path, format!("{}: dtype", edge.name)))?;
            if values.len() != want {
                return Err(corrupt(
                    path,
                    format!(
                        "{} holds {} weights, the lift needs {want}",
                        edge.name,
                        values.len()
                    ),
                ));
            }
            theta.extend(values.into_iter().map(T::of));
        }
        let state = restore_arrays(header.state, &|i| {
            let name = format!("state.{i}");
            let t = st
                .tensor(&name)
                .map_err(|e| corrupt(path, format!("{name}: {e}")))?;
            read_floats(t.dtype(), t.data()).ok_or_else(|| corrupt(path, format!("{name}: dtype")))
        })?;
        Ok(Checkpoint {
            network,
            theta,
            state,
        })
    }
}

/// Refuses a checkpoint whose header claims a lift too large for memory — `θ`, the widest
/// weight tensor as read, and the index arrays the lift builds from its fiber sizes —
/// before anything sized by the header's numbers is allocated. A damaged or forged header
/// can claim fibers of 2³² − 1; every size is computed with saturating arithmetic.
fn check_memory<T: Real>(
    path: &Path,
    module: &crate::module::Module,
    header: &Header,
    st: &SafeTensors,
) -> Result<()> {
    let (mut params, mut widest, mut indices) = (0u64, 0u64, 0u64);
    for (e, edge) in module.edges().iter().enumerate() {
        let (ns, nt) = (
            u64::from(header.fibers[edge.from]),
            u64::from(header.fibers[edge.to]),
        );
        let count = if header.complete[e] {
            ns.saturating_mul(nt)
        } else {
            // The stored sources (a missing tensor is an error once the lift is built);
            // then the offsets of both sides and the transposed copy with its permutation.
            let stored = st
                .tensor(&format!("{}.src_index", edge.name))
                .map_or(0, |t| t.data().len() as u64 / 4);
            let offsets = budget::bytes(ns.saturating_add(nt).saturating_add(2), 4);
            indices = indices
                .saturating_add(offsets)
                .saturating_add(budget::bytes(stored, 12));
            stored
        };
        let weights = budget::bytes(count, edge.weight_numel() as u64);
        params = params.saturating_add(weights);
        widest = widest.max(weights);
    }
    let largest = header.fibers.iter().max().copied().unwrap_or(0);
    let mut e = budget::Estimate::default();
    e.add("θ", params.saturating_mul(std::mem::size_of::<T>() as u64))
        .add("weights as read", widest.saturating_mul(8))
        .add("lift indices", indices);
    e.check(
        &path.display().to_string(),
        format!(
            "its header claims fibers of up to {largest} lifted vertices; if the network is not \
             that large the file is damaged: re-create it with `sparselift train --out`"
        )
        .as_str(),
    )
}

/// A copy of `v` whose numeric arrays longer than [`INLINE_MAX`] are replaced by
/// `{"$tensor": N}`, the arrays appended to `moved`.
fn move_arrays(v: &serde_json::Value, moved: &mut Vec<Vec<f64>>) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Array(a) if a.len() > INLINE_MAX && a.iter().all(Value::is_number) => {
            moved.push(a.iter().map(|x| x.as_f64().unwrap()).collect());
            serde_json::json!({ MOVED: moved.len() - 1 })
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| move_arrays(x, moved)).collect()),
        Value::Object(o) => Value::Object(
            o.iter()
                .map(|(k, x)| (k.clone(), move_arrays(x, moved)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Inverse of [`move_arrays`], reading tensor `N` with `tensor(N)`.
fn restore_arrays(
    v: serde_json::Value,
    tensor: &dyn Fn(u64) -> Result<Vec<f64>>,
) -> Result<serde_json::Value> {
    use serde_json::Value;
    Ok(match v {
        Value::Object(o) if o.len() == 1 && o.get(MOVED).is_some_and(Value::is_u64) => {
            let values = tensor(o[MOVED].as_u64().unwrap())?;
            Value::Array(values.into_iter().map(Value::from).collect())
        }
        Value::Object(o) => Value::Object(
            o.into_iter()
                .map(|(k, x)| Ok((k, restore_arrays(x, tensor)?)))
                .collect::<Result<_>>()?,
        ),
        Value::Array(a) => Value::Array(
            a.into_iter()
                .map(|x| restore_arrays(x, tensor))
                .collect::<Result<_>>()?,
        ),
        other => other,
    })
}

fn read_floats(dtype: Dtype, data: &[u8]) -> Option<Vec<f64>> {
    match dtype {
        Dtype::F32 => Some(
            data.chunks_exact(4)
                .map(|c| f32::from_le_bytes(c.try_into().unwrap()) as f64)
                .collect(),
        ),
        Dtype::F64 => Some(
            data.chunks_exact(8)
                .map(|c| f64::from_le_bytes(c.try_into().unwrap()))
                .collect(),
        ),
        _ => None,
    }
}
