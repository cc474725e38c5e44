use super::*;
use crate::train::testing::{same_bits, LeastSquares, TanhFit};
use crate::train::{
    AdamConfig, AnyOptimizer, FullBatch, Objective, OptimizerConfig, Sgd, SgdConfig,
};

fn sgd(dim: usize) -> Sgd<f64> {
    Sgd::new(SgdConfig::default(), dim)
}

fn cfg(lr: f64, batch: Option<usize>, epochs: u64) -> DescentConfig {
    DescentConfig {
        lr,
        batch_size: batch,
        max_epochs: epochs,
        target: 0.0,
        ..Default::default()
    }
}

#[test]
fn full_batch_sgd_is_explicit_euler() {
    // θ_{k+1} = θ_k − lr·∇L(θ_k), computed here directly on the same full-batch gradient.
    let mut ls = LeastSquares::random(30, 4, 1);
    let theta0 = vec![0.5, -0.5, 0.25, 0.0];
    let mut gd = Descent::new(cfg(0.1, None, 25), sgd(4), theta0.clone(), &mut ls).unwrap();
    assert_eq!(gd.run(&mut ls, |_| {}), Status::Timeout(Limit::Epochs));
    let mut euler = theta0;
    let mut grad = vec![0.0; 4];
    let mut full = FullBatch::new(&mut ls);
    for _ in 0..25 {
        let _: f64 = full.loss_grad(&euler, &mut grad);
        for (p, g) in euler.iter_mut().zip(&grad) {
            *p -= 0.1 * g;
        }
    }
    assert!(same_bits(gd.theta(), &euler));
    assert_eq!((gd.steps(), gd.epoch(), gd.grad_evals()), (25, 25, 25));
    assert!((gd.t() - 2.5).abs() < 1e-12);
    // Full batches are never shuffled.
    assert!(ls
        .seen
        .iter()
        .all(|idx| *idx == (0..30).collect::<Vec<_>>()));
}

#[test]
fn every_epoch_visits_each_sample_once_in_a_new_order() {
    let mut ls = LeastSquares::random(10, 2, 2);
    let mut run = Descent::new(cfg(0.01, Some(3), 3), sgd(2), vec![0.0; 2], &mut ls).unwrap();
    run.run(&mut ls, |_| {});
    // 10 samples in batches of 3: 3, 3, 3, 1 — four steps per epoch.
    assert_eq!(run.steps(), 12);
    let sizes: Vec<usize> = ls.seen.iter().map(Vec::len).collect();
    assert_eq!(sizes, [3, 3, 3, 1].repeat(3));
    let epochs: Vec<Vec<usize>> = ls.seen.chunks(4).map(|c| c.concat()).collect();
    for order in &epochs {
        let mut sorted = order.clone();
        sorted.sort();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
    }
    assert!(epochs[0] != epochs[1] && epochs[1] != epochs[2]);
}

fn mini_batch_run(seed: u64, epochs: u64) -> (Vec<f64>, Vec<Record>) {
    let mut ls = LeastSquares::random(40, 3, 3);
    let config = DescentConfig {
        seed,
        ..cfg(0.05, Some(7), epochs)
    };
    let mut run = Descent::new(config, sgd(3), vec![0.0; 3], &mut ls).unwrap();
    run.run(&mut ls, |_| {});
    (run.theta().to_vec(), run.records().to_vec())
}

#[test]
fn runs_are_deterministic_and_depend_on_the_seed() {
    let (a, ra) = mini_batch_run(11, 5);
    let (b, rb) = mini_batch_run(11, 5);
    assert!(same_bits(&a, &b));
    assert_eq!(ra, rb);
    let (c, _) = mini_batch_run(12, 5);
    assert!(!same_bits(&a, &c), "a different shuffle should change θ");
}

#[test]
fn sgd_and_adam_fit_least_squares() {
    // The noise floor of this data set is about ½·0.01²/3 ≈ 2e-5.
    for opt in [
        OptimizerConfig::Sgd(SgdConfig {
            momentum: 0.9,
            nesterov: true,
            weight_decay: 0.0,
        }),
        OptimizerConfig::Adam(AdamConfig::default()),
    ] {
        let mut ls = LeastSquares::random(64, 5, 4);
        let config = DescentConfig {
            target: 1e-4,
            ..cfg(0.02, Some(8), 500)
        };
        let opt = AnyOptimizer::new(opt, 5);
        let mut run = Descent::new(config, opt, vec![0.0; 5], &mut ls).unwrap();
        assert_eq!(run.run(&mut ls, |_| {}), Status::Converged);
        assert!(run.loss() <= 1e-4 && run.epoch() < 500);
        assert_eq!(run.records().last().unwrap().loss, run.loss());
    }
}

#[test]
fn too_large_a_step_diverges_against_the_initial_loss() {
    // GD on a quadratic with curvature up to ~λ_max diverges once lr·λ_max > 2.
    let mut ls = LeastSquares::random(30, 4, 5);
    let mut run = Descent::new(cfg(20.0, None, 1000), sgd(4), vec![0.1; 4], &mut ls).unwrap();
    match run.run(&mut ls, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("initial value"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(run.loss() > 1e6 * run.records()[0].loss);
    assert!(run.epoch() < 1000);
}

/// Least squares whose mini-batch losses turn NaN after `after` calls.
struct Poisoned {
    inner: LeastSquares,
    calls: u64,
    after: u64,
}

impl BatchObjective<f64> for Poisoned {
    fn dim(&self) -> usize {
        BatchObjective::<f64>::dim(&self.inner)
    }
    fn samples(&self) -> usize {
        BatchObjective::<f64>::samples(&self.inner)
    }
    fn batch_loss_grad(&mut self, theta: &[f64], idx: &[usize], grad: &mut [f64]) -> f64 {
        self.calls += 1;
        let l = self.inner.batch_loss_grad(theta, idx, grad);
        if self.calls > self.after {
            f64::NAN
        } else {
            l
        }
    }
    fn full_loss(&mut self, theta: &[f64]) -> f64 {
        self.inner.full_loss(theta)
    }
}

#[test]
fn a_nan_mini_batch_diverges_and_keeps_the_last_good_theta() {
    let mut obj = Poisoned {
        inner: LeastSquares::random(20, 2, 6),
        calls: 0,
        after: 5,
    };
    let mut run = Descent::new(cfg(0.01, Some(4), 10), sgd(2), vec![0.0; 2], &mut obj).unwrap();
    match run.run(&mut obj, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("step 5 in epoch 1"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(run.steps(), 5);
    assert!(run.theta().iter().all(|x| x.is_finite()));
    assert_eq!(run.step(&mut obj), run.status().cloned());
}

#[test]
fn timeout_after_the_epoch_limit_with_a_final_evaluation() {
    let mut ls = LeastSquares::random(10, 2, 7);
    let config = DescentConfig {
        eval_every: Some(4),
        ..cfg(0.01, Some(3), 2)
    };
    let mut run = Descent::new(config, sgd(2), vec![0.0; 2], &mut ls).unwrap();
    assert_eq!(run.run(&mut ls, |_| {}), Status::Timeout(Limit::Epochs));
    // 4 steps per epoch, evaluations every 4 steps: the start, 4, 8 (also the end).
    let steps: Vec<u64> = run.records().iter().map(|r| r.step).collect();
    assert_eq!(steps, [0, 4, 8]);
    assert_eq!(run.records()[2].epoch, 2);
    let config = DescentConfig {
        eval_every: Some(3),
        ..cfg(0.01, Some(3), 2)
    };
    let mut run = Descent::new(config, sgd(2), vec![0.0; 2], &mut ls).unwrap();
    run.run(&mut ls, |_| {});
    let steps: Vec<u64> = run.records().iter().map(|r| r.step).collect();
    assert_eq!(steps, [0, 3, 6, 8], "the last step is always evaluated");
}

#[test]
fn an_open_cosine_spans_the_whole_run() {
    let mut ls = LeastSquares::random(10, 2, 8);
    let config = DescentConfig {
        schedule: Schedule::parse("cosine").unwrap(),
        ..cfg(0.1, Some(4), 5)
    };
    let run = Descent::new(config, sgd(2), vec![0.0; 2], &mut ls).unwrap();
    let resolved = Schedule::Cosine {
        total_steps: Some(15),
        min_lr: 0.0,
    };
    assert_eq!(run.config().schedule, resolved);
}

fn tanh_run(checkpoint_every: u64) -> Descent<f32, AnyOptimizer<f32>> {
    let mut obj = TanhFit::new(16, 4);
    let config = DescentConfig {
        schedule: Schedule::parse("cosine").unwrap(),
        eval_every: Some(5),
        seed: 9,
        target: 1e-3,
        ..cfg(0.05, Some(5), 40)
    };
    let opt = AnyOptimizer::new(OptimizerConfig::Adam(AdamConfig::adamw()), 12);
    let mut run = Descent::new(config, opt, obj.init(1), &mut obj).unwrap();
    loop {
        if run.step(&mut obj).is_some() {
            return run;
        }
        if checkpoint_every > 0 && run.steps().is_multiple_of(checkpoint_every) {
            let json = serde_json::to_string(&run).unwrap();
            run = serde_json::from_str(&json).unwrap();
        }
    }
}

#[test]
fn a_run_resumed_from_json_ends_bit_identically() {
    let straight = tanh_run(0);
    // 16 samples in batches of 5 make 4 steps per epoch, so checkpoints every 3 steps
    // fall inside epochs.
    assert!(straight.steps() > 40, "too short a test run");
    for every in [1, 3] {
        let resumed = tanh_run(every);
        assert!(same_bits(straight.theta(), resumed.theta()));
        assert_eq!(straight.optimizer(), resumed.optimizer());
        assert_eq!(straight.records(), resumed.records());
        assert_eq!(straight.status(), resumed.status());
        assert_eq!(
            straight.path_length().to_bits(),
            resumed.path_length().to_bits()
        );
    }
}

#[test]
fn bad_settings_are_refused() {
    let mut ls = LeastSquares::random(10, 2, 10);
    for bad in [
        cfg(0.0, None, 1),
        cfg(0.1, Some(0), 1),
        DescentConfig {
            eval_every: Some(0),
            ..cfg(0.1, None, 1)
        },
    ] {
        assert!(Descent::new(bad, sgd(2), vec![0.0; 2], &mut ls).is_err());
    }
    let err = Descent::new(cfg(0.1, None, 1), sgd(3), vec![0.0; 3], &mut ls).unwrap_err();
    assert!(err.to_string().contains("3 entries"), "{err}");
    let zero = Descent::new(cfg(0.1, None, 0), sgd(2), vec![0.0; 2], &mut ls).unwrap();
    assert_eq!(zero.status(), Some(&Status::Timeout(Limit::Epochs)));
}

#[test]
fn config_reads_from_toml() {
    let c: DescentConfig =
        toml::from_str("lr = 0.1\nbatch_size = 32\nschedule = \"step:100:0.5\"").unwrap();
    assert_eq!(c.batch_size, Some(32));
    assert_eq!(
        c.schedule,
        Schedule::Step {
            every: 100,
            gamma: 0.5
        }
    );
    assert_eq!(c.max_epochs, DescentConfig::default().max_epochs);
    let back: DescentConfig = toml::from_str(&toml::to_string(&c).unwrap()).unwrap();
    assert_eq!(back, c);
}
