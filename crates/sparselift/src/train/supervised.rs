//! The engine seen by the trainers: a lifted [`Network`] on a supervised training set is a
//! [`BatchObjective`] (and, through [`FullBatch`](super::FullBatch), an
//! [`Objective`](super::Objective) for gradient flow).
//!
//! The objective keeps its [`Dataset`] as loaded (row-major) and shares its network
//! through an [`Arc`], so it owns everything it needs. Each mini-batch is gathered into the
//! engine's feature-major layout (`[feature][sample]`), run forward, scored by the
//! [`Loss`] with scale `1/b` (the batch mean), and run backward.

use super::loss::{self, Loss};
use super::BatchObjective;
use crate::data::{Dataset, Targets};
use crate::engine::{Network, Workspace};
use crate::module::Module;
use crate::{Error, Real, Result};
use std::sync::Arc;

/// A network, its training set and its loss: mean squared error for regression targets,
/// softmax cross-entropy for class labels. It owns its data and shares its network, so
/// it can be kept as long as needed.
pub struct Supervised<T: Real> {
    net: Arc<Network>,
    data: Dataset,
    loss: Loss,
    variance: f64,
    /// Workspaces by batch size (a full-batch one and a mini-batch one, typically).
    workspaces: Vec<Workspace<T>>,
    xb: Vec<T>,
    yb: Vec<T>,
    lb: Vec<u32>,
    gout: Vec<T>,
}

/// Checks that `data` fit a network on `module`: the same number of inputs, of regression
/// targets as outputs, and an output for every class label.
pub fn check_fit(module: &Module, data: &Dataset) -> Result<()> {
    let (din, dout) = (module.input_dim(), module.output_dim());
    if data.input_dim() != din {
        return Err(Error::invalid(
            "data",
            format!(
                "the module takes {din} inputs per sample, the data have {}",
                data.input_dim()
            ),
        )
        .with_hint("choose a module whose input size matches the data's columns"));
    }
    match data.targets() {
        Targets::Regression { dim, .. } if *dim != dout => Err(Error::invalid(
            "data",
            format!("the module has {dout} outputs, the data have {dim} targets per sample"),
        )),
        Targets::Regression { .. } => Ok(()),
        Targets::Classes { labels, .. } => match labels.iter().find(|&&c| c as usize >= dout) {
            Some(&bad) => Err(Error::invalid(
                "data",
                format!("class label {bad} but the module has only {dout} outputs (one per class)"),
            )),
            None => Ok(()),
        },
    }
}

impl<T: Real> Supervised<T> {
    /// The objective of `net` on `data`, sharing `net`.
    ///
    /// # Errors
    /// When the data do not fit the network: another number of inputs, of regression
    /// targets, or a class label without an output.
    pub fn new(net: Arc<Network>, data: &Dataset) -> Result<Self> {
        check_fit(net.module(), data)?;
        let (loss, variance) = match data.targets() {
            Targets::Regression { .. } => {
                // Over the feature-major values, the order the sums have always run in.
                let all: Vec<usize> = (0..data.len()).collect();
                let mut values: Vec<T> = Vec::new();
                data.gather_targets(&all, &mut values);
                (Loss::Mse, loss::variance(&values))
            }
            Targets::Classes { .. } => (Loss::CrossEntropy, 1.0),
        };
        Ok(Supervised {
            net,
            data: data.clone(),
            loss,
            variance,
            workspaces: Vec::new(),
            xb: Vec::new(),
            yb: Vec::new(),
            lb: Vec::new(),
            gout: Vec::new(),
        })
    }

    /// [`Supervised::new`] with a copy of `net`, for a one-off evaluation.
    ///
    /// # Errors
    /// See [`Supervised::new`].
    pub fn from_dataset(net: &Network, data: &Dataset) -> Result<Self> {
        Supervised::new(Arc::new(net.clone()), data)
    }

    /// The network.
    pub fn network(&self) -> &Arc<Network> {
        &self.net
    }

    /// Variance of the regression targets (1 for classification).
    pub fn target_variance(&self) -> f64 {
        self.variance
    }

    fn workspace(&mut self, b: usize) -> usize {
        match self.workspaces.iter().position(|w| w.batch() == b) {
            Some(i) => i,
            None => {
                if self.workspaces.len() >= 2 {
                    self.workspaces.remove(0);
                }
                self.workspaces.push(Workspace::new(&self.net, b));
                self.workspaces.len() - 1
            }
        }
    }

    /// Forward pass on samples `idx`; returns the mean loss, and leaves `∂loss/∂output`
    /// in `gout`.
    fn forward(&mut self, theta: &[T], idx: &[usize]) -> (usize, f64) {
        let b = idx.len();
        self.data.gather_inputs(idx, &mut self.xb);
        match self.data.targets() {
            Targets::Regression { .. } => self.data.gather_targets(idx, &mut self.yb),
            Targets::Classes { labels, .. } => {
                self.lb.clear();
                self.lb.extend(idx.iter().map(|&i| labels[i]));
            }
        }
        let w = self.workspace(b);
        let out = self.net.forward(theta, &self.xb, &mut self.workspaces[w]);
        self.gout.resize(out.len(), T::zero());
        let (d, scale) = (self.net.module().output_dim(), 1.0 / b as f64);
        let loss = match self.loss {
            Loss::Mse => loss::mse_scaled(out, &self.yb, d, b, scale, &mut self.gout),
            Loss::CrossEntropy => {
                loss::softmax_cross_entropy_scaled(out, &self.lb, d, b, scale, &mut self.gout)
            }
        };
        (w, loss)
    }

    /// Outputs (feature-major `[output_dim][n]`) on the whole set.
    pub fn predict(&mut self, theta: &[T]) -> Vec<T> {
        let all: Vec<usize> = (0..self.data.len()).collect();
        let (w, _) = self.forward(theta, &all);
        self.workspaces[w].output().to_vec()
    }

    /// Loss, criterion and (for classification) accuracy of `theta` on the whole set.
    pub fn evaluate(&mut self, theta: &[T]) -> Evaluation {
        let all: Vec<usize> = (0..self.data.len()).collect();
        let (w, loss) = self.forward(theta, &all);
        let accuracy = self.data.labels().map(|labels| {
            let d = self.net.module().output_dim();
            loss::accuracy(self.workspaces[w].output(), labels, d, labels.len())
        });
        Evaluation {
            loss,
            criterion: self.criterion(loss),
            accuracy,
        }
    }
}

impl<T: Real> BatchObjective<T> for Supervised<T> {
    fn dim(&self) -> usize {
        self.net.num_params()
    }
    fn samples(&self) -> usize {
        self.data.len()
    }
    fn batch_loss_grad(&mut self, theta: &[T], idx: &[usize], grad: &mut [T]) -> f64 {
        let (w, loss) = self.forward(theta, idx);
        self.net
            .backward(theta, &self.gout, &mut self.workspaces[w], grad, None);
        loss
    }
    fn full_loss(&mut self, theta: &[T]) -> f64 {
        let all: Vec<usize> = (0..self.data.len()).collect();
        self.forward(theta, &all).1
    }
    fn criterion(&self, loss: f64) -> f64 {
        self.loss
            .criterion(loss, self.net.module().output_dim(), self.variance)
    }
}

/// Scores of a network on a dataset.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize)]
pub struct Evaluation {
    /// The mean loss.
    #[serde(with = "crate::float::scalar")]
    pub loss: f64,
    /// The criterion compared with ε (normalised MSE for regression).
    #[serde(with = "crate::float::scalar")]
    pub criterion: f64,
    /// Fraction of correct classes (classification only).
    pub accuracy: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::{LiftSpec, Sampler};
    use crate::zoo::{mlp, MlpConfig};

    fn network(input: usize, output: usize) -> Arc<Network> {
        let module = mlp(&MlpConfig {
            input,
            hidden: 1,
            output,
            ..Default::default()
        })
        .unwrap();
        let lift = LiftSpec::new(4, Sampler::Dense).sample(&module).unwrap();
        Arc::new(Network::new(module, lift).unwrap())
    }

    #[test]
    fn data_that_do_not_fit_the_network_are_refused() {
        let err = |data: Dataset| {
            Supervised::<f64>::new(network(2, 3), &data)
                .err()
                .expect("refused")
                .to_string()
        };
        let three_inputs = Dataset::classification(vec![0.0; 6], 3, vec![0, 1], 3).unwrap();
        assert!(err(three_inputs).contains("takes 2 inputs"));
        let label_3 = Dataset::classification(vec![0.0; 4], 2, vec![0, 3], 4).unwrap();
        assert!(err(label_3).contains("class label 3"));
        let two_targets = Dataset::regression(vec![0.0; 4], 2, vec![0.0; 4], 2).unwrap();
        assert!(err(two_targets).contains("2 targets per sample"));
    }

    #[test]
    fn the_objective_keeps_its_network_and_data_alive() {
        // Built from temporaries, the objective still scores: it owns what it needs.
        let mut obj = {
            let data = Dataset::regression(vec![1.0, -1.0, 0.5, 2.0], 2, vec![1.0, 3.0], 1);
            Supervised::<f64>::new(network(2, 1), &data.unwrap()).unwrap()
        };
        assert_eq!(Arc::strong_count(obj.network()), 1);
        let theta = obj.network().init(0);
        let eval = obj.evaluate(&theta);
        assert!(eval.loss > 0.0 && eval.accuracy.is_none());
        // Targets 1 and 3: variance 1, so the criterion is 2·loss.
        assert_eq!(obj.target_variance(), 1.0);
        assert_eq!(eval.criterion, 2.0 * eval.loss);
    }
}
