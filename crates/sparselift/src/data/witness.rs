//! Witness tasks (docs/semantics.md §4): a *witness* network — the dense lift of size `m`
//! of the same base module, with random weights — labels standard Gaussian inputs. Targets are
//! standardised to zero mean and unit variance (fitted on the training set), then
//! optional Gaussian label noise is added. A network reaching zero training loss exists
//! among lifts of size `m`, so the task's approximation number is at most `m`.
//!
//! ```
//! use sparselift::{data::WitnessSpec, zoo};
//!
//! let module = zoo::mlp(&zoo::MlpConfig { input: 16, hidden: 2, output: 1, ..Default::default() })?;
//! let spec = WitnessSpec { m: 8, n: 512, noise: 0.0, seed: 0, test_n: Some(128) };
//! let (train, test) = spec.generate(&module)?;
//! assert_eq!((train.len(), test.len(), train.input_dim()), (512, 128, 16));
//! assert!((train.target_variance().unwrap() - 1.0).abs() < 1e-6);
//! # Ok::<(), sparselift::Error>(())
//! ```

use super::{Dataset, TargetStandardizer, WitnessSpec};
use crate::engine::{Network, Workspace};
use crate::lift::{LiftSpec, Sampler};
use crate::module::Module;
use crate::rng::{stream, Purpose};
use crate::{budget, Error, Result};
use rand::RngCore;
use rand_distr::{Distribution, StandardNormal};

/// Sub-streams of a witness task's seed.
const TEACHER: u64 = 0x7EAC;
const INPUTS: u64 = 0x1A;
const NOISE: u64 = 0x2A;

/// Largest number of samples generated in one forward pass of the teacher.
const CHUNK: usize = 4096;

impl WitnessSpec {
    /// Generates `(train, test)` for `module`; `test` is empty unless `test_n` is set.
    pub fn generate(&self, module: &Module) -> Result<(Dataset, Dataset)> {
        if self.m == 0 || self.n == 0 {
            return Err(Error::invalid("witness task", "m and n must be at least 1")
                .with_hint("e.g. witness:m=8,n=512"));
        }
        let m =
            u32::try_from(self.m).map_err(|_| Error::invalid("witness task", "m is too large"))?;
        let lift = LiftSpec::new(m, Sampler::Dense)
            .seed(self.seed)
            .sample(module)?;
        let teacher = Network::new(module.clone(), lift)?;
        let test_n = self.test_n.unwrap_or(0);
        self.check_memory(&teacher, test_n)?;
        let teacher_seed = stream(self.seed, Purpose::Data, TEACHER, 0).next_u64();
        let theta: Vec<f64> = teacher.init(teacher_seed);
        let mut train = label(&teacher, &theta, self.n, self.seed, 0)?;
        let mut test = label(&teacher, &theta, test_n, self.seed, 1)?;
        let standardizer = TargetStandardizer::fit(&train)?;
        standardizer.apply(&mut train)?;
        standardizer.apply(&mut test)?;
        if self.noise > 0.0 {
            train = add_noise(train, self.noise, self.seed, 0)?;
            test = add_noise(test, self.noise, self.seed, 1)?;
        }
        Ok((train, test))
    }
}

impl WitnessSpec {
    /// Refuses a task whose teacher (θ in f64 and its activations at a chunk of samples)
    /// and samples would not fit in memory, before any of them is allocated; sizes near
    /// 2⁶⁴ saturate here instead of overflowing.
    fn check_memory(&self, teacher: &Network, test_n: usize) -> Result<()> {
        let (din, dout) = (teacher.module().input_dim(), teacher.module().output_dim());
        let samples = self.n.saturating_add(test_n);
        let chunk = CHUNK.min(samples);
        let mut e = budget::Estimate::default();
        e.add("witness network θ", budget::bytes(teacher.num_params(), 8))
            .add(
                format!("its activations at {chunk} samples"),
                teacher.activation_bytes(chunk, 8),
            )
            .add(
                format!("{samples} samples"),
                budget::bytes(samples, 4 * (din + dout) as u64),
            );
        e.check(
            "witness task",
            "use a smaller n (training samples), test or m in witness:m=…,n=…",
        )
    }
}

/// `n` standard Gaussian inputs from stream `part` and the teacher's outputs on them.
fn label(teacher: &Network, theta: &[f64], n: usize, seed: u64, part: u64) -> Result<Dataset> {
    let (din, dout) = (teacher.module().input_dim(), teacher.module().output_dim());
    let mut rng = stream(seed, Purpose::Data, INPUTS, part);
    let inputs: Vec<f32> = (0..n * din)
        .map(|_| StandardNormal.sample(&mut rng))
        .map(|v: f64| v as f32)
        .collect();
    let mut values = vec![0f32; n * dout];
    for start in (0..n).step_by(CHUNK) {
        let b = CHUNK.min(n - start);
        // Feature-major batch, as the engine wants it.
        let mut x = vec![0f64; din * b];
        for i in 0..b {
            for j in 0..din {
                x[j * b + i] = inputs[(start + i) * din + j] as f64;
            }
        }
        let mut ws = Workspace::new(teacher, b);
        let out = teacher.forward(theta, &x, &mut ws);
        for i in 0..b {
            for o in 0..dout {
                values[(start + i) * dout + o] = out[o * b + i] as f32;
            }
        }
    }
    Dataset::regression(inputs, din, values, dout)
}

fn add_noise(data: Dataset, sigma: f64, seed: u64, part: u64) -> Result<Dataset> {
    let mut rng = stream(seed, Purpose::Data, NOISE, part);
    let super::Targets::Regression { values, dim } = data.targets() else {
        unreachable!("witness tasks are regression tasks")
    };
    let noisy: Vec<f32> = values
        .iter()
        .map(|&v| {
            let g: f64 = StandardNormal.sample(&mut rng);
            v + (sigma * g) as f32
        })
        .collect();
    Dataset::regression(data.inputs().to_vec(), data.input_dim(), noisy, *dim)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::zoo;

    fn mlp() -> Module {
        zoo::mlp(&zoo::MlpConfig {
            input: 5,
            hidden: 2,
            output: 2,
            ..Default::default()
        })
        .unwrap()
    }

    #[test]
    fn same_spec_same_task_and_seed_changes_it() {
        let spec = WitnessSpec {
            m: 4,
            n: 64,
            noise: 0.0,
            seed: 3,
            test_n: Some(16),
        };
        let (a, at) = spec.generate(&mlp()).unwrap();
        let (b, bt) = spec.generate(&mlp()).unwrap();
        assert_eq!((a.inputs(), a.targets()), (b.inputs(), b.targets()));
        assert_eq!(at.targets(), bt.targets());
        let (c, _) = WitnessSpec { seed: 4, ..spec }.generate(&mlp()).unwrap();
        assert_ne!(a.targets(), c.targets());
    }

    /// The targets are a function of the inputs: the teacher reproduces them exactly up to
    /// the standardisation, which we undo by refitting a line per output.
    #[test]
    fn targets_are_standardised_teacher_outputs_and_noise_is_added() {
        let spec = WitnessSpec {
            m: 4,
            n: 256,
            noise: 0.0,
            seed: 1,
            test_n: None,
        };
        let (clean, _) = spec.generate(&mlp()).unwrap();
        let super::super::Targets::Regression { values, dim } = clean.targets() else {
            panic!()
        };
        assert_eq!(*dim, 2);
        for o in 0..2 {
            let col: Vec<f64> = values
                .iter()
                .skip(o)
                .step_by(2)
                .map(|&v| v as f64)
                .collect();
            let mean = col.iter().sum::<f64>() / col.len() as f64;
            let var = col.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / col.len() as f64;
            assert!(
                mean.abs() < 1e-5 && (var - 1.0).abs() < 1e-4,
                "output {o}: mean {mean}, var {var}"
            );
        }
        let (noisy, _) = WitnessSpec { noise: 0.5, ..spec }.generate(&mlp()).unwrap();
        let super::super::Targets::Regression { values: nv, .. } = noisy.targets() else {
            panic!()
        };
        let diff: f64 = nv
            .iter()
            .zip(values)
            .map(|(a, b)| ((a - b) as f64).powi(2))
            .sum::<f64>()
            / nv.len() as f64;
        assert!(
            (diff - 0.25).abs() < 0.05,
            "noise variance {diff}, expected 0.25"
        );
    }

    #[test]
    fn empty_tasks_are_errors() {
        let spec = WitnessSpec {
            m: 0,
            n: 10,
            noise: 0.0,
            seed: 0,
            test_n: None,
        };
        assert!(spec.generate(&mlp()).unwrap_err().is_user_error());
    }
}
