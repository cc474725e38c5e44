use super::*;
use crate::train::from_fn;
use crate::train::testing::{same_bits, Quadratic, TanhFit};

fn config(t_max: f64, rtol: f64) -> FlowConfig {
    FlowConfig {
        rtol,
        atol: rtol * 1e-2,
        t_max,
        target: 0.0,
        ..Default::default()
    }
}

/// Max-norm error of the flow at `t = T` against the closed form, relative to `‖θ(0)‖∞`,
/// and the gradient evaluations it took.
fn error_against_exact(q: &mut Quadratic, t_max: f64, rtol: f64) -> (f64, u64) {
    let theta0 = vec![1.0, -2.0, 0.5, 3.0];
    let mut flow = Flow::new(config(t_max, rtol), theta0.clone(), q).unwrap();
    assert_eq!(flow.run(q, |_| {}), Status::Timeout(Limit::Time));
    assert_eq!(flow.t(), t_max);
    let exact = q.exact(&theta0, t_max);
    let err = flow
        .theta()
        .iter()
        .zip(&exact)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max);
    (err / 3.0, flow.grad_evals())
}

#[test]
fn matches_the_closed_form_of_quadratic_flows() {
    // θ(t) = Q exp(−Λt) Qᵀ θ(0). The flow contracts, so local errors do not grow and the
    // global error stays within the tolerance.
    for mut q in [
        Quadratic::diagonal(&[0.1, 1.0, 4.0, 20.0]),
        Quadratic::rotated(&[0.1, 1.0, 4.0, 20.0]),
    ] {
        let (err, _) = error_against_exact(&mut q, 3.0, 1e-8);
        assert!(err < 1e-8, "relative error {err:e}");
    }
}

#[test]
fn tighter_tolerances_cost_more_and_err_less() {
    let tols = [1e-4, 1e-6, 1e-8, 1e-10];
    let runs: Vec<(f64, u64)> = tols
        .iter()
        .map(|&tol| error_against_exact(&mut Quadratic::rotated(&[0.1, 1.0, 4.0, 20.0]), 3.0, tol))
        .collect();
    for w in runs.windows(2) {
        assert!(w[1].0 < w[0].0, "error did not shrink: {runs:?}");
        assert!(w[1].1 > w[0].1, "evaluations did not grow: {runs:?}");
    }
    // A 5th-order method needs ~tol^(−1/5) steps: 10^6 tighter ⇒ ~10^1.2 ≈ 16× the
    // evaluations (a 4th-order one would need 32×, a 3rd-order one 100×).
    let ratio = runs[3].1 as f64 / runs[0].1 as f64;
    assert!(
        (6.0..30.0).contains(&ratio),
        "evaluation ratio {ratio}: {runs:?}"
    );
    // Error per unit tolerance stays within two orders of magnitude across 10^6.
    let per_tol: Vec<f64> = runs.iter().zip(tols).map(|(r, t)| r.0 / t).collect();
    let spread = per_tol.iter().cloned().fold(0.0, f64::max)
        / per_tol.iter().cloned().fold(f64::INFINITY, f64::min);
    assert!(spread < 100.0, "error/tolerance {per_tol:?}");
}

#[test]
fn f32_runs_reach_f32_accuracy() {
    let mut q = Quadratic::diagonal(&[0.5, 2.0]);
    let theta0 = vec![1.0_f32, -1.0];
    let mut flow = Flow::new(config(2.0, 1e-5), theta0, &mut q).unwrap();
    flow.run(&mut q, |_| {});
    let exact = q.exact(&[1.0, -1.0], 2.0);
    for (a, b) in flow.theta().iter().zip(&exact) {
        assert!((a.f64() - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn converges_at_the_first_step_past_the_analytic_time() {
    // L(t) = ½e^(−2t) from θ = 1 with L = ½θ²: L ≤ ε exactly from t* = ln(1/(2ε))/2.
    let mut q = Quadratic::diagonal(&[1.0]);
    let eps: f64 = 1e-4;
    let t_star = (0.5 / eps).ln() / 2.0;
    let cfg = FlowConfig {
        target: eps,
        ..config(100.0, 1e-9)
    };
    let mut flow = Flow::new(cfg, vec![1.0], &mut q).unwrap();
    let mut times = vec![0.0];
    let status = flow.run(&mut q, |f| times.push(f.t()));
    assert_eq!(status, Status::Converged);
    let n = times.len();
    assert!(
        times[n - 2] < t_star + 1e-6 && times[n - 1] > t_star - 1e-6,
        "{times:?}"
    );
    assert!(flow.criterion() <= eps && flow.loss() == flow.criterion());
    assert_eq!(flow.records().last().unwrap().t, flow.t());
    // Asking again changes nothing.
    let steps = flow.steps();
    assert_eq!(flow.step(&mut q), Some(Status::Converged));
    assert_eq!(flow.steps(), steps);
}

#[test]
fn a_converged_start_ends_at_once() {
    let mut q = Quadratic::diagonal(&[1.0]);
    let cfg = FlowConfig {
        target: 1.0,
        ..config(10.0, 1e-6)
    };
    let mut flow = Flow::new(cfg, vec![0.1], &mut q).unwrap();
    assert_eq!(flow.status(), Some(&Status::Converged));
    assert_eq!((flow.grad_evals(), flow.records().len()), (1, 1));
    assert_eq!(flow.step(&mut q), Some(Status::Converged));
}

#[test]
fn tiny_horizon_times_out_exactly_at_t() {
    let mut q = Quadratic::diagonal(&[1.0, 3.0]);
    let mut flow = Flow::new(config(1e-3, 1e-6), vec![1.0, 1.0], &mut q).unwrap();
    assert_eq!(flow.run(&mut q, |_| {}), Status::Timeout(Limit::Time));
    assert_eq!(flow.t(), 1e-3);
    assert_eq!(flow.records().last().unwrap().t, 1e-3);
    assert_eq!(flow.records()[0].t, 0.0);
}

#[test]
fn the_evaluation_budget_is_never_exceeded() {
    let mut q = Quadratic::diagonal(&[1.0, 3.0]);
    let cfg = FlowConfig {
        max_grad_evals: 50,
        ..config(1e3, 1e-8)
    };
    let mut flow = Flow::new(cfg, vec![1.0, 1.0], &mut q).unwrap();
    assert_eq!(
        flow.run(&mut q, |_| {}),
        Status::Timeout(Limit::Evaluations)
    );
    assert!(flow.grad_evals() <= 50 && flow.grad_evals() > 50 - 6);
    assert_eq!(flow.grad_evals(), q.evals);
    assert_eq!(flow.records().last().unwrap().grad_evals, q.evals);
}

#[test]
fn a_nan_start_diverges() {
    let mut obj = from_fn(2, |_: &[f64], g: &mut [f64]| {
        g.fill(0.0);
        f64::NAN
    });
    let mut flow = Flow::new(FlowConfig::default(), vec![1.0, 2.0], &mut obj).unwrap();
    match flow.run(&mut obj, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("θ(0)"), "{why}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn an_objective_turning_nan_diverges_by_step_underflow() {
    // Finite for 20 calls, NaN ever after: every trial is rejected with the largest
    // shrink until the step falls below h_min.
    let mut calls = 0;
    let mut obj = from_fn(1, |th: &[f64], g: &mut [f64]| {
        calls += 1;
        g[0] = th[0];
        if calls > 20 {
            f64::NAN
        } else {
            0.5 * th[0] * th[0]
        }
    });
    let mut flow = Flow::new(config(1e3, 1e-6), vec![1.0], &mut obj).unwrap();
    match flow.run(&mut obj, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("non-finite") && why.contains("h_min")),
        other => panic!("{other:?}"),
    }
    // Shrinking by 5× per trial from h ≤ 10 to 1e-10 takes about 16 one-eval trials.
    assert!(flow.grad_evals() < 60, "{}", flow.grad_evals());
    assert!(flow.loss().is_finite(), "θ stays at the last good point");
}

#[test]
fn a_finite_time_blow_up_diverges_just_before_it() {
    // L = −θ⁴/4 gives θ' = θ³, θ(t) = 1/√(1 − 2t): infinite at t = ½.
    let mut obj = from_fn(1, |th: &[f64], g: &mut [f64]| {
        g[0] = -th[0].powi(3);
        -th[0].powi(4) / 4.0
    });
    let cfg = FlowConfig {
        target: f64::NEG_INFINITY,
        ..config(10.0, 1e-8)
    };
    let mut flow = Flow::new(cfg, vec![1.0], &mut obj).unwrap();
    match flow.run(&mut obj, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("h_min"), "{why}"),
        other => panic!("{other:?}"),
    }
    // The numerical blow-up time agrees with ½ to about the tolerance.
    assert!((flow.t() - 0.5).abs() < 1e-6, "t = {}", flow.t());
    assert!(flow.theta()[0] > 1e3);
}

#[test]
fn records_are_log_spaced_and_bracket_the_run() {
    let mut q = Quadratic::diagonal(&[1e-3, 1e-2]);
    let cfg = FlowConfig {
        log_per_decade: 5,
        ..config(1e3, 1e-8)
    };
    let mut flow = Flow::new(cfg, vec![1.0, 1.0], &mut q).unwrap();
    let mut times = Vec::new();
    flow.run(&mut q, |f| times.push(f.t()));
    // Expected: t = 0, then every accepted step that opens a new interval
    // [10^(k/5), 10^((k+1)/5)), then the end (here it opens one or is the end already).
    let mut expected = vec![0.0];
    let mut last = i64::MIN;
    for &t in &times {
        let bucket = (5.0 * t.log10()).floor() as i64;
        if bucket > last {
            last = bucket;
            expected.push(t);
        }
    }
    if *expected.last().unwrap() != 1e3 {
        expected.push(1e3);
    }
    let recorded: Vec<f64> = flow.records().iter().map(|r| r.t).collect();
    assert_eq!(recorded, expected);
    assert!(times.len() > recorded.len(), "some steps were not recorded");
    let r = flow.records();
    assert!(r.windows(2).all(|w| w[0].grad_evals < w[1].grad_evals));
    assert!(r.windows(2).all(|w| w[0].loss > w[1].loss));
}

#[test]
fn path_length_matches_the_closed_form() {
    // θ(t) = e^(−2t): ∫₀³ |θ'| dt = 1 − e^(−6).
    let mut q = Quadratic::diagonal(&[2.0]);
    let mut flow = Flow::new(config(3.0, 1e-8), vec![1.0], &mut q).unwrap();
    flow.run(&mut q, |_| {});
    let exact = 1.0 - (-6.0f64).exp();
    // Quadrature by the method's own weights is as accurate as the trajectory (rtol 1e-8).
    assert!((flow.path_length() / exact - 1.0).abs() < 1e-8);
    assert_eq!(
        flow.records().last().unwrap().path_length,
        flow.path_length()
    );
}

fn resumed_run<T: Real>(solver: Solver, checkpoint_every: u64) -> Flow<T> {
    let mut obj = TanhFit::new(16, 4);
    let cfg = FlowConfig {
        solver,
        target: 1e-4,
        ..config(200.0, 1e-6)
    };
    let mut flow = Flow::new(cfg, obj.init(5), &mut obj).unwrap();
    loop {
        if flow.step(&mut obj).is_some() {
            return flow;
        }
        if checkpoint_every > 0 && flow.steps().is_multiple_of(checkpoint_every) {
            let json = serde_json::to_string(&flow).unwrap();
            flow = serde_json::from_str(&json).unwrap();
        }
    }
}

fn assert_identical<T: Real>(a: &Flow<T>, b: &Flow<T>) {
    assert!(same_bits(a.theta(), b.theta()));
    assert!(same_bits(a.grad(), b.grad()));
    assert_eq!(a.t().to_bits(), b.t().to_bits());
    assert_eq!(a.path_length().to_bits(), b.path_length().to_bits());
    assert_eq!(
        (a.steps(), a.rejected(), a.grad_evals()),
        (b.steps(), b.rejected(), b.grad_evals())
    );
    assert_eq!(a.records(), b.records());
    assert_eq!(a.status(), b.status());
}

#[test]
fn a_run_resumed_from_json_ends_bit_identically() {
    let straight = resumed_run::<f64>(Solver::Dopri, 0);
    assert!(
        straight.steps() > 30 && straight.rejected() > 0,
        "too easy a test run"
    );
    for every in [1, 7] {
        assert_identical(&straight, &resumed_run::<f64>(Solver::Dopri, every));
    }
    let straight = resumed_run::<f32>(Solver::Dopri, 0);
    assert_identical(&straight, &resumed_run::<f32>(Solver::Dopri, 3));
}

#[test]
fn an_rkc_run_resumed_from_json_ends_bit_identically() {
    // Checkpoints fall between re-estimates of ρ (every 25 accepted steps), so the
    // eigenvector, ρ and its age must travel with the state.
    let straight = resumed_run::<f64>(Solver::Rkc, 0);
    assert!(
        straight.steps() > 3 * u64::from(Spectrum::REFRESH) && straight.rejected() > 0,
        "too easy a test run: {} steps, {} rejected",
        straight.steps(),
        straight.rejected()
    );
    for every in [1, 7] {
        assert_identical(&straight, &resumed_run::<f64>(Solver::Rkc, every));
    }
    let straight = resumed_run::<f32>(Solver::Rkc, 0);
    assert_identical(&straight, &resumed_run::<f32>(Solver::Rkc, 3));
}

/// `config` for the RKC solver.
fn rkc(t_max: f64, rtol: f64) -> FlowConfig {
    FlowConfig {
        solver: Solver::Rkc,
        ..config(t_max, rtol)
    }
}

#[test]
fn rkc_matches_the_closed_form_of_a_stiff_quadratic_for_far_fewer_gradients() {
    // Eigenvalues 1 to 10⁴: Dormand–Prince is held at h ≈ 3.3·10⁻⁴ by stability over the
    // whole horizon, RKC takes steps sized for the slow modes with enough stages to stay
    // stable on the fast ones.
    let lambda = [1.0, 10.0, 100.0, 1e3, 1e4];
    let theta0 = vec![1.0, -2.0, 0.5, 3.0, -1.0];
    let t_max = 5.0;
    let mut q = Quadratic::rotated(&lambda);
    let mut flow = Flow::new(rkc(t_max, 1e-7), theta0.clone(), &mut q).unwrap();
    assert_eq!(flow.run(&mut q, |_| {}), Status::Timeout(Limit::Time));
    assert_eq!(flow.t(), t_max);
    let exact = q.exact(&theta0, t_max);
    for (a, b) in flow.theta().iter().zip(&exact) {
        // The solution has decayed to e^(−5) ≈ 7·10⁻³ of θ(0): 1e-5 absolute is a 0.1%
        // relative error on its slowest mode.
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
    assert_eq!(flow.grad_evals(), q.evals, "every evaluation is counted");
    let mut q = Quadratic::rotated(&lambda);
    let mut dopri = Flow::new(config(t_max, 1e-7), theta0, &mut q).unwrap();
    dopri.run(&mut q, |_| {});
    assert!(
        5 * flow.grad_evals() < dopri.grad_evals(),
        "RKC {} vs Dormand–Prince {} evaluations",
        flow.grad_evals(),
        dopri.grad_evals()
    );
}

#[test]
fn rkc_tighter_tolerances_cost_more_and_err_less() {
    let runs: Vec<(f64, u64)> = [1e-3, 1e-5, 1e-7]
        .iter()
        .map(|&tol| {
            let mut q = Quadratic::rotated(&[0.1, 1.0, 4.0, 20.0]);
            let theta0 = vec![1.0, -2.0, 0.5, 3.0];
            let mut flow = Flow::new(rkc(3.0, tol), theta0.clone(), &mut q).unwrap();
            flow.run(&mut q, |_| {});
            let exact = q.exact(&theta0, 3.0);
            let err = flow
                .theta()
                .iter()
                .zip(&exact)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f64::max);
            (err, flow.grad_evals())
        })
        .collect();
    for w in runs.windows(2) {
        assert!(w[1].0 < w[0].0, "error did not shrink: {runs:?}");
        assert!(w[1].1 > w[0].1, "evaluations did not grow: {runs:?}");
    }
    assert!(runs[2].0 < 1e-5, "{runs:?}");
}

#[test]
fn rkc_stops_within_the_evaluation_budget() {
    let mut q = Quadratic::diagonal(&[1.0, 3e3]);
    let cfg = FlowConfig {
        max_grad_evals: 200,
        ..rkc(1e3, 1e-8)
    };
    let mut flow = Flow::new(cfg, vec![1.0, 1.0], &mut q).unwrap();
    assert_eq!(
        flow.run(&mut q, |_| {}),
        Status::Timeout(Limit::Evaluations)
    );
    assert!(flow.grad_evals() <= 200, "{}", flow.grad_evals());
    assert_eq!(flow.grad_evals(), q.evals);
    assert_eq!(flow.records().last().unwrap().grad_evals, q.evals);
}

#[test]
fn rkc_converges_at_the_analytic_time_and_lands_on_t() {
    let mut q = Quadratic::diagonal(&[1.0]);
    let eps: f64 = 1e-4;
    let t_star = (0.5 / eps).ln() / 2.0;
    let cfg = FlowConfig {
        target: eps,
        ..rkc(100.0, 1e-8)
    };
    let mut flow = Flow::new(cfg, vec![1.0], &mut q).unwrap();
    let mut times = vec![0.0];
    assert_eq!(flow.run(&mut q, |f| times.push(f.t())), Status::Converged);
    let n = times.len();
    assert!(
        times[n - 2] < t_star + 1e-4 && times[n - 1] > t_star - 1e-4,
        "{times:?}"
    );
    let mut q = Quadratic::diagonal(&[1.0, 3.0]);
    let mut flow = Flow::new(rkc(1e-3, 1e-6), vec![1.0, 1.0], &mut q).unwrap();
    assert_eq!(flow.run(&mut q, |_| {}), Status::Timeout(Limit::Time));
    assert_eq!(flow.records().last().unwrap().t, 1e-3);
}

#[test]
fn rkc_rejects_trials_into_nan_and_diverges_by_step_underflow() {
    // Finite for 40 calls, NaN ever after: the trials and the re-estimates of ρ after
    // them fail until the run gives up.
    let mut calls = 0;
    let mut obj = from_fn(1, |th: &[f64], g: &mut [f64]| {
        calls += 1;
        g[0] = th[0];
        if calls > 40 {
            f64::NAN
        } else {
            0.5 * th[0] * th[0]
        }
    });
    let mut flow = Flow::new(rkc(1e3, 1e-6), vec![1.0], &mut obj).unwrap();
    match flow.run(&mut obj, |_| {}) {
        Status::Diverged(why) => assert!(why.contains("non-finite"), "{why}"),
        other => panic!("{other:?}"),
    }
    assert!(flow.loss().is_finite(), "θ stays at the last good point");
    assert!(flow.steps() > 0);
}

#[test]
fn bad_configs_and_shapes_are_refused() {
    let mut q = Quadratic::diagonal(&[1.0]);
    let both_zero = FlowConfig {
        rtol: 0.0,
        atol: 0.0,
        ..Default::default()
    };
    assert!(Flow::new(both_zero, vec![1.0], &mut q).is_err());
    let no_time = FlowConfig {
        t_max: 0.0,
        ..Default::default()
    };
    assert!(Flow::new(no_time, vec![1.0], &mut q).is_err());
    let err = Flow::new(FlowConfig::default(), vec![1.0, 2.0], &mut q).unwrap_err();
    assert!(err.to_string().contains("2 entries"), "{err}");
}

#[test]
fn config_reads_from_toml_with_defaults() {
    let cfg: FlowConfig = toml::from_str("rtol = 1e-9\nt_max = inf\n").unwrap();
    assert_eq!(cfg.rtol, 1e-9);
    assert_eq!(cfg.t_max, f64::INFINITY);
    assert_eq!(cfg.atol, FlowConfig::default().atol);
    assert!(toml::from_str::<FlowConfig>("rtl = 1").is_err());
    let back: FlowConfig = toml::from_str(&toml::to_string(&cfg).unwrap()).unwrap();
    assert_eq!(back, cfg);
    // Configs written before the solver existed read as Dormand–Prince, and a
    // Dormand–Prince config is still written without it.
    assert_eq!(cfg.solver, Solver::Dopri);
    assert!(!serde_json::to_string(&cfg).unwrap().contains("solver"));
    let rkc: FlowConfig = toml::from_str("solver = \"rkc\"").unwrap();
    assert_eq!(rkc.solver, Solver::Rkc);
    let err = toml::from_str::<FlowConfig>("solver = \"euler\"")
        .unwrap_err()
        .to_string();
    assert!(err.contains("dopri") && err.contains("rkc"), "{err}");
}
