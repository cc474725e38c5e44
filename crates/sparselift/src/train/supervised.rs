//! The engine seen by the trainers: a lifted [`Network`] on a supervised training set is a
//! [`BatchObjective`] (and, through [`FullBatch`](super::FullBatch), an
//! [`Objective`](super::Objective) for gradient flow).
//!
//! The data are held feature-major (`[feature][sample]`), as the engine wants them; a
//! mini-batch is gathered into the same layout, run forward, scored by the [`Loss`] with
//! scale `1/b` (the batch mean), and run backward.

use super::loss::{Loss, Targets};
use super::BatchObjective;
use crate::engine::{Network, Workspace};
use crate::{Error, Real, Result};

/// Targets of a whole training set.
#[derive(Clone, Debug, PartialEq)]
pub enum Labels<T> {
    /// Real values, feature-major `[dim][samples]`.
    Values(Vec<T>),
    /// One class per sample.
    Classes(Vec<u32>),
}

/// A network, its training set and its loss.
pub struct Supervised<'a, T: Real> {
    net: &'a Network,
    loss: Loss,
    n: usize,
    x: Vec<T>,
    y: Labels<T>,
    variance: f64,
    /// Workspaces by batch size (a full-batch one and a mini-batch one, typically).
    workspaces: Vec<Workspace<T>>,
    xb: Vec<T>,
    yb: Vec<T>,
    lb: Vec<u32>,
    gout: Vec<T>,
}

impl<'a, T: Real> Supervised<'a, T> {
    /// `x` is feature-major `[input_dim][n]`; the loss must fit the targets (MSE for
    /// values, cross-entropy for classes).
    pub fn new(net: &'a Network, loss: Loss, n: usize, x: Vec<T>, y: Labels<T>) -> Result<Self> {
        let m = net.module();
        let (din, dout) = (m.input_dim(), m.output_dim());
        if x.len() != din * n {
            return Err(Error::invalid(
                "data",
                format!(
                    "the module takes {din} inputs per sample, the data have {}",
                    x.len() / n.max(1)
                ),
            )
            .with_hint("choose a module whose input size matches the data's columns"));
        }
        let variance = match (&y, loss) {
            (Labels::Values(v), Loss::Mse) if v.len() == dout * n => super::loss::variance(v),
            (Labels::Values(v), Loss::Mse) => {
                return Err(Error::invalid(
                    "data",
                    format!(
                        "the module has {dout} outputs, the data have {} targets per sample",
                        v.len() / n.max(1)
                    ),
                ))
            }
            (Labels::Classes(c), Loss::CrossEntropy) => {
                if let Some(&bad) = c.iter().find(|&&c| c as usize >= dout) {
                    return Err(Error::invalid(
                        "data",
                        format!("class label {bad} but the module has only {dout} outputs (one per class)"),
                    ));
                }
                1.0
            }
            _ => {
                return Err(Error::invalid(
                    "loss",
                    format!("the {loss} loss does not fit these targets"),
                )
                .with_hint("mse needs real-valued targets, cross-entropy needs class labels"))
            }
        };
        Ok(Supervised {
            net,
            loss,
            n,
            x,
            y,
            variance,
            workspaces: Vec::new(),
            xb: Vec::new(),
            yb: Vec::new(),
            lb: Vec::new(),
            gout: Vec::new(),
        })
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
                self.workspaces.push(Workspace::new(self.net, b));
                self.workspaces.len() - 1
            }
        }
    }

    /// Gathers samples `idx` into the batch buffers (feature-major).
    fn gather(&mut self, idx: &[usize]) {
        let (b, n) = (idx.len(), self.n);
        let gather = |src: &[T], dst: &mut Vec<T>, rows: usize| {
            dst.clear();
            for r in 0..rows {
                let row = &src[r * n..(r + 1) * n];
                dst.extend(idx.iter().map(|&i| row[i]));
            }
        };
        gather(&self.x, &mut self.xb, self.net.module().input_dim());
        match &self.y {
            Labels::Values(v) => gather(v, &mut self.yb, self.net.module().output_dim()),
            Labels::Classes(c) => {
                self.lb.clear();
                self.lb.extend(idx.iter().map(|&i| c[i]));
            }
        }
        debug_assert_eq!(self.xb.len(), self.net.module().input_dim() * b);
    }

    /// Forward pass on samples `idx`; returns the mean loss, and leaves `∂loss/∂output`
    /// in `gout`.
    fn forward(&mut self, theta: &[T], idx: &[usize]) -> (usize, f64) {
        self.gather(idx);
        let b = idx.len();
        let w = self.workspace(b);
        let out = self.net.forward(theta, &self.xb, &mut self.workspaces[w]);
        self.gout.resize(out.len(), T::zero());
        let targets = match &self.y {
            Labels::Values(_) => Targets::Values(&self.yb),
            Labels::Classes(_) => Targets::Labels(&self.lb),
        };
        let d = self.net.module().output_dim();
        let loss = self
            .loss
            .eval(out, targets, d, b, 1.0 / b as f64, &mut self.gout)
            .expect("targets were checked against the loss in Supervised::new");
        (w, loss)
    }

    /// Outputs (feature-major `[output_dim][n]`) on the whole set.
    pub fn predict(&mut self, theta: &[T]) -> Vec<T> {
        let all: Vec<usize> = (0..self.n).collect();
        let (w, _) = self.forward(theta, &all);
        self.workspaces[w].output().to_vec()
    }
}

impl<T: Real> BatchObjective<T> for Supervised<'_, T> {
    fn dim(&self) -> usize {
        self.net.num_params()
    }
    fn samples(&self) -> usize {
        self.n
    }
    fn batch_loss_grad(&mut self, theta: &[T], idx: &[usize], grad: &mut [T]) -> f64 {
        let (w, loss) = self.forward(theta, idx);
        self.net
            .backward(theta, &self.gout, &mut self.workspaces[w], grad, None);
        loss
    }
    fn full_loss(&mut self, theta: &[T]) -> f64 {
        let all: Vec<usize> = (0..self.n).collect();
        self.forward(theta, &all).1
    }
    fn criterion(&self, loss: f64) -> f64 {
        self.loss
            .criterion(loss, self.net.module().output_dim(), self.variance)
    }
}

impl<'a, T: Real> Supervised<'a, T> {
    /// The objective of `net` on a dataset: MSE for regression, cross-entropy for
    /// classification.
    pub fn from_dataset(net: &'a Network, data: &crate::data::Dataset) -> Result<Self> {
        let all: Vec<usize> = (0..data.len()).collect();
        let mut x = Vec::new();
        data.gather_inputs(&all, &mut x);
        let (loss, y) = match data.labels() {
            Some(labels) => (Loss::CrossEntropy, Labels::Classes(labels.to_vec())),
            None => {
                let mut v = Vec::new();
                data.gather_targets(&all, &mut v);
                (Loss::Mse, Labels::Values(v))
            }
        };
        Supervised::new(net, loss, data.len(), x, y)
    }

    /// Loss, criterion and (for classification) accuracy of `theta` on the whole set.
    pub fn evaluate(&mut self, theta: &[T]) -> Evaluation {
        let loss = self.full_loss(theta);
        let accuracy = match self.y {
            Labels::Classes(_) => {
                let out = self.predict(theta);
                let Labels::Classes(c) = &self.y else {
                    unreachable!()
                };
                let d = self.net.module().output_dim();
                Some(super::loss::accuracy(&out, c, d, self.n))
            }
            Labels::Values(_) => None,
        };
        Evaluation {
            loss,
            criterion: self.criterion(loss),
            accuracy,
        }
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
