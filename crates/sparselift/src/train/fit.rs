//! Training in one call, in memory: a network, its training set and a method in; the
//! network, the trained `θ` and how the run went out. Nothing is written to disk.

use super::{Evaluation, MethodConfig, Progress, Record, Status, Supervised, Trainer};
use crate::data::Dataset;
use crate::engine::Network;
use crate::{Real, Result};
use std::sync::Arc;

/// A trained network: the network, its parameters and how the run went.
#[derive(Clone, Debug)]
pub struct Trained<T: Real> {
    /// The network that was trained (shared, not copied).
    pub network: Arc<Network>,
    /// The trained parameters.
    pub theta: Vec<T>,
    /// How the run went.
    pub outcome: Outcome,
}

impl<T: Real> Trained<T> {
    /// Loss, criterion and (for classes) accuracy of the trained network on `data`.
    ///
    /// # Errors
    /// When `data` does not fit the network (input or output sizes, labels).
    pub fn evaluate(&self, data: &Dataset) -> Result<Evaluation> {
        Ok(Supervised::new(self.network.clone(), data)?.evaluate(&self.theta))
    }
}

/// How a training run went.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// How the run ended.
    pub status: Status,
    /// Scores of the final `θ` on the training set.
    pub train: Evaluation,
    /// The smallest training criterion seen along the trajectory.
    pub min_criterion: f64,
    /// Flow time (`Σ lr` for discrete methods) at which the criterion first reached ε.
    pub time_to_target: Option<f64>,
    /// Gradient evaluations.
    pub grad_evals: u64,
    /// Steps taken.
    pub steps: u64,
    /// Flow time at the end (`Σ lr` for discrete methods).
    pub t: f64,
    /// Length of the path of `θ`.
    pub path_length: f64,
    /// `‖θ − θ(0)‖ / ‖θ(0)‖`: how far the parameters moved, relative to where they started.
    pub movement: f64,
    /// The trajectory.
    pub records: Vec<Record>,
}

impl Outcome {
    /// The outcome of `trainer`, which ended with `status`, started at `theta0` and scores
    /// `train` on its training set.
    pub fn new<T: Real>(
        trainer: &Trainer<T>,
        status: Status,
        train: Evaluation,
        theta0: &[T],
    ) -> Outcome {
        let theta = trainer.theta();
        let records = trainer.records().to_vec();
        let norm = |v: &mut dyn Iterator<Item = f64>| v.map(|x| x * x).sum::<f64>().sqrt();
        let moved = norm(&mut theta.iter().zip(theta0).map(|(a, b)| (*a - *b).f64()));
        let start = norm(&mut theta0.iter().map(|a| a.f64())).max(f64::MIN_POSITIVE);
        Outcome {
            status,
            train,
            min_criterion: records
                .iter()
                .map(|r| r.criterion)
                .fold(train.criterion, f64::min),
            time_to_target: records
                .iter()
                .find(|r| r.criterion <= trainer.target())
                .map(|r| r.t),
            grad_evals: trainer.grad_evals(),
            steps: trainer.steps(),
            t: trainer.t(),
            path_length: trainer.path_length(),
            movement: moved / start,
            records,
        }
    }
}

/// Trains `network` on `data` with `method` from `θ(0) = network.init(seed)`, calling
/// `progress` (if any) after every step, the last one included. Regression data are fitted
/// by mean squared error, class labels by softmax cross-entropy.
///
/// ```
/// use sparselift::{data::WitnessSpec, engine::Network, lift::{LiftSpec, Sampler}, zoo};
/// use sparselift::train::{train, MethodConfig};
///
/// let module = zoo::mlp(&zoo::MlpConfig { input: 4, hidden: 1, output: 1, ..Default::default() })?;
/// let (data, _) = WitnessSpec { m: 2, n: 64, noise: 0.0, seed: 0, test_n: None }.generate(&module)?;
/// let net = Network::new(module.clone(), LiftSpec::new(16, Sampler::Dense).sample(&module)?)?;
/// let method = MethodConfig::parse("adam:lr=0.01,epochs=20")?;
/// let mut epochs = 0;
/// let trained = train::<f64>(net, &data, &method, 0, Some(&mut |p| epochs = p.epoch))?;
/// let first = trained.outcome.records[0].loss;
/// assert!(trained.outcome.train.loss < first && epochs == 20);
/// assert_eq!(trained.evaluate(&data)?, trained.outcome.train);
/// # Ok::<(), sparselift::Error>(())
/// ```
///
/// # Errors
/// When `data` does not fit the network, or the method's settings are invalid.
pub fn train<T: Real>(
    network: impl Into<Arc<Network>>,
    data: &Dataset,
    method: &MethodConfig,
    seed: u64,
    mut progress: Option<&mut dyn FnMut(&Progress)>,
) -> Result<Trained<T>> {
    let network = network.into();
    let theta0: Vec<T> = network.init(seed);
    let mut obj = Supervised::new(network.clone(), data)?;
    let mut trainer = Trainer::start(method, theta0.clone(), &mut obj)?;
    let status = loop {
        let status = trainer.step(&mut obj);
        if let Some(report) = progress.as_mut() {
            report(&Progress::of(&trainer));
        }
        if let Some(status) = status {
            break status;
        }
    };
    let scores = obj.evaluate(trainer.theta());
    let outcome = Outcome::new(&trainer, status, scores, &theta0);
    Ok(Trained {
        network,
        theta: trainer.theta().to_vec(),
        outcome,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lift::{LiftSpec, Sampler};
    use crate::zoo::{mlp, MlpConfig};

    #[test]
    fn progress_sees_every_step_and_the_outcome_the_last() {
        let module = mlp(&MlpConfig {
            input: 2,
            hidden: 1,
            output: 2,
            ..Default::default()
        })
        .unwrap();
        let lift = LiftSpec::new(8, Sampler::Dense).sample(&module).unwrap();
        let net = Network::new(module, lift).unwrap();
        let x = vec![1.0, 0.0, 0.0, 1.0, 1.0, 0.1, 0.2, 0.9];
        let data = Dataset::classification(x, 2, vec![0, 1, 0, 1], 2).unwrap();
        let method = MethodConfig::parse("sgd:lr=0.5,batch=2,epochs=3").unwrap();
        let mut seen = Vec::new();
        let trained =
            train::<f64>(net, &data, &method, 1, Some(&mut |p| seen.push(p.clone()))).unwrap();
        let o = &trained.outcome;
        assert_eq!(o.status, Status::Timeout(super::super::Limit::Epochs));
        // Two batches per epoch, three epochs: six steps, each reported once.
        assert_eq!(
            seen.iter().map(|p| p.steps).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5, 6]
        );
        let last = seen.last().unwrap();
        assert_eq!((last.epoch, last.grad_evals), (3, o.grad_evals));
        assert_eq!(last.loss, o.train.loss);
        assert!(o.movement > 0.0 && o.train.loss < o.records[0].loss);
        assert_eq!(trained.evaluate(&data).unwrap(), o.train);
        let wrong = Dataset::classification(vec![0.0; 3], 3, vec![0], 2).unwrap();
        assert!(trained.evaluate(&wrong).is_err());
    }

    #[test]
    fn rkc_flow_trains_a_small_lift_to_the_target() {
        // A witness task the lift can fit: both solvers reach ε, RKC with fewer gradients.
        let module = mlp(&MlpConfig {
            input: 4,
            hidden: 1,
            output: 1,
            ..Default::default()
        })
        .unwrap();
        let witness = crate::data::WitnessSpec {
            m: 2,
            n: 64,
            noise: 0.0,
            seed: 0,
            test_n: None,
        };
        let (data, _) = witness.generate(&module).unwrap();
        let lift = LiftSpec::new(16, Sampler::Dense).sample(&module).unwrap();
        let net = Arc::new(Network::new(module, lift).unwrap());
        let mut evals = Vec::new();
        for method in ["flow:solver=rkc,target=1e-3", "flow:target=1e-3"] {
            let method = MethodConfig::parse(method).unwrap();
            let trained = train::<f64>(net.clone(), &data, &method, 3, None).unwrap();
            let o = &trained.outcome;
            assert_eq!(o.status, Status::Converged, "{method}");
            assert!(o.train.criterion <= 1e-3, "{method}: {}", o.train.criterion);
            evals.push(o.grad_evals);
        }
        assert!(
            evals[0] < evals[1],
            "RKC {} vs Dormand–Prince {}",
            evals[0],
            evals[1]
        );
    }
}
