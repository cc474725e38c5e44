use super::*;
use crate::train::StatusKind;

fn run(family: &str, size: u32, seed: u64, min_loss: f64) -> RunRecord {
    let mut r = RunRecord::new(family, size, seed);
    r.status = if min_loss <= 1e-3 {
        StatusKind::Converged
    } else {
        StatusKind::Timeout
    };
    r.min_loss = min_loss;
    r.final_loss = min_loss;
    r
}

/// `ok` successes and `fail` failures of `family` at `size`.
fn runs(family: &str, size: u32, ok: u64, fail: u64) -> Vec<RunRecord> {
    (0..ok + fail)
        .map(|seed| run(family, size, seed, if seed < ok { 1e-4 } else { 0.5 }))
        .collect()
}

#[test]
fn learning_number_is_the_start_of_the_final_run_of_passing_sizes() {
    let delta = 0.1;
    // Passing = lower bound ≥ 0.9.
    let monotone = [(8, 0.2), (16, 0.85), (32, 0.91), (64, 0.95)];
    assert_eq!(
        learning_number(&monotone, delta),
        LearningNumber::Reached { size: 32 }
    );
    // 16 passes but 32 does not: the bound must hold for *all* larger sizes.
    let dip = [(8, 0.2), (16, 0.93), (32, 0.7), (64, 0.92), (128, 0.99)];
    assert_eq!(
        learning_number(&dip, delta),
        LearningNumber::Reached { size: 64 }
    );
    // Order of the input does not matter.
    let shuffled = [(64, 0.92), (8, 0.2), (128, 0.99), (32, 0.7), (16, 0.93)];
    assert_eq!(
        learning_number(&shuffled, delta),
        learning_number(&dip, delta)
    );
    // The largest size failing means not reached, whatever came before.
    let late_fail = [(8, 0.95), (16, 0.95), (32, 0.5)];
    assert_eq!(
        learning_number(&late_fail, delta),
        LearningNumber::NotReached { largest_tested: 32 }
    );
    // Exactly 1 − δ counts as reaching it.
    assert_eq!(
        learning_number(&[(4, 0.75)], 0.25),
        LearningNumber::Reached { size: 4 }
    );
}

#[test]
fn summary_counts_successes_and_finds_the_learning_number_from_intervals() {
    let mut records = runs("sparse", 8, 5, 15);
    records.extend(runs("sparse", 16, 19, 1));
    records.extend(runs("sparse", 32, 20, 0));
    records.extend(runs("dense", 8, 10, 10));
    let s = Summary::new(&records, 1e-3, 0.2).unwrap();
    assert_eq!(s.runs, 80);
    assert_eq!(
        s.families
            .iter()
            .map(|f| f.family.as_str())
            .collect::<Vec<_>>(),
        ["dense", "sparse"]
    );
    let sparse = s.family("sparse").unwrap();
    let rates: Vec<(u32, u64, u64)> = sparse
        .sizes
        .iter()
        .map(|z| (z.size, z.successes, z.runs))
        .collect();
    assert_eq!(rates, [(8, 5, 20), (16, 19, 20), (32, 20, 20)]);
    // 19/20 has lower bound 0.751 < 0.8; 20/20 has 0.025^(1/20) = 0.832 ≥ 0.8.
    assert!(sparse.sizes[1].interval.lower < 0.8);
    assert!(sparse.sizes[2].interval.lower > 0.8);
    assert_eq!(sparse.learning_number, LearningNumber::Reached { size: 32 });
    // With δ = 0.3, 19/20 also passes.
    let loose = Summary::new(&records, 1e-3, 0.3).unwrap();
    assert_eq!(
        loose.family("sparse").unwrap().learning_number,
        LearningNumber::Reached { size: 16 }
    );
    assert_eq!(
        s.family("dense").unwrap().learning_number,
        LearningNumber::NotReached { largest_tested: 8 }
    );
    assert!(s.verdict().contains("sparse = 32"));
    assert!(s
        .verdict()
        .contains("dense not reached (largest tested n = 8)"));
}

#[test]
fn success_is_judged_against_the_summary_epsilon() {
    let records = vec![
        run("f", 4, 0, 1e-4),
        run("f", 4, 1, 5e-3),
        run("f", 4, 2, 0.5),
    ];
    let strict = Summary::new(&records, 1e-3, 0.1).unwrap();
    let loose = Summary::new(&records, 1e-2, 0.1).unwrap();
    assert_eq!(strict.families[0].sizes[0].successes, 1);
    assert_eq!(loose.families[0].sizes[0].successes, 2);
    // Statuses are reported as recorded.
    let z = &strict.families[0].sizes[0];
    assert_eq!((z.converged, z.timeout, z.diverged), (1, 2, 0));
}

#[test]
fn loss_curves_are_quantiles_over_runs_on_a_common_grid() {
    // Three runs with different time grids: loss 10^-k·c with c = 1, 2, 3.
    let mut records = Vec::new();
    for (seed, c) in [(0u64, 1.0), (1, 2.0), (2, 3.0)] {
        let mut r = run("f", 8, seed, 1e-2 * c);
        let dt = 1.0 + seed as f64 * 0.37; // misaligned time stamps
        r.trajectory = (0..5)
            .map(|k| [dt * 10f64.powi(k - 2), c * 10f64.powi(-k)])
            .collect();
        r.final_loss = 1e-4 * c;
        records.push(r);
    }
    let s = Summary::new(&records, 1e-3, 0.1).unwrap();
    let f = &s.families[0];
    assert_eq!(f.times.len(), GRID_POINTS);
    assert_eq!(f.times[0], 0.01); // earliest positive time of any run
    assert!((f.times[GRID_POINTS - 1] - 100.0 * 1.74).abs() < 1e-9); // latest
    let curve = &f.sizes[0].loss_curve;
    // Before every run's second record all three sit at their initial loss c.
    // Type-7 quantiles of {1, 2, 3}: 1.2, 2, 2.8.
    assert!((curve.q10[0] - 1.2).abs() < 1e-12);
    assert_eq!(curve.q50[0], 2.0);
    assert!((curve.q90[0] - 2.8).abs() < 1e-12);
    // At the end all runs have finished: final losses 1e-4·c.
    let last = GRID_POINTS - 1;
    assert!((curve.q50[last] - 2e-4).abs() < 1e-15);
    // Quantiles are ordered at every time.
    for i in 0..GRID_POINTS {
        assert!(curve.q10[i] <= curve.q50[i] && curve.q50[i] <= curve.q90[i]);
    }
}

#[test]
fn diverged_runs_count_as_the_worst_final_losses() {
    let mut records = runs("f", 8, 3, 0);
    let mut d = run("f", 8, 9, 0.7);
    d.status = StatusKind::Diverged;
    d.final_loss = f64::NAN;
    records.push(d);
    let s = Summary::new(&records, 1e-3, 0.1).unwrap();
    let z = &s.families[0].sizes[0];
    assert_eq!(z.diverged, 1);
    assert!(z.final_losses[3].is_nan());
    assert_eq!(z.final_loss.q50, 1e-4);
    assert_eq!(z.final_loss.q90, f64::INFINITY);
    // And the summary still round-trips through JSON.
    let json = serde_json::to_string(&s).unwrap();
    let back: Summary = serde_json::from_str(&json).unwrap();
    assert_eq!(back.families[0].sizes[0].final_loss.q90, f64::INFINITY);
    assert!(back.families[0].sizes[0].final_losses[3].is_nan());
}

#[test]
fn cost_is_averaged_and_memory_adds_indices() {
    let mut records = runs("f", 8, 2, 0);
    for (r, edges) in records.iter_mut().zip([100, 103]) {
        r.edges = edges;
        r.params = edges;
        r.param_bytes = 4 * edges;
        r.index_bytes = 4 * edges + 36;
        r.wall_s = edges as f64 / 100.0;
    }
    let c = Summary::new(&records, 1e-3, 0.1).unwrap().families[0].sizes[0]
        .cost
        .clone();
    assert_eq!(c.edges, 102); // mean 101.5 rounds half up
                              // Memory is the mean of the per-run sums: (836 + 860) / 2.
    assert_eq!(c.memory_bytes, 848);
    assert_eq!(c.memory_bytes, c.param_bytes + c.index_bytes);
    assert!((c.median_wall_s - 1.015).abs() < 1e-12);
}

#[test]
fn bad_inputs_are_errors_that_say_what_is_wrong() {
    let records = runs("f", 8, 1, 1);
    let msg = |e: crate::Error| e.to_string();
    assert!(msg(Summary::new(&records, 0.0, 0.1).unwrap_err()).contains("epsilon"));
    assert!(msg(Summary::new(&records, 1e-3, 1.0).unwrap_err()).contains("delta"));
    assert!(msg(Summary::new(&[], 1e-3, 0.1).unwrap_err()).contains("no runs"));
    let mut twice = records.clone();
    twice.push(records[0].clone());
    assert!(msg(Summary::new(&twice, 1e-3, 0.1).unwrap_err()).contains("f n=8 seed=0"));
}

#[test]
fn table_has_one_aligned_row_per_size() {
    let mut records = runs("sparse-in4", 8, 5, 15);
    records.extend(runs("sparse-in4", 128, 20, 0));
    let s = Summary::new(&records, 1e-3, 0.1).unwrap();
    let table = s.table();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4, "{table}");
    assert!(lines[0].starts_with("family") && lines[0].contains("95% CI"));
    assert!(lines[2].contains("5/20") && lines[2].contains("0.25"));
    assert!(lines[3].contains("20/20") && lines[3].contains("1.00]"));
    // Right-aligned numeric columns end at the same place.
    assert_eq!(lines[2].len(), lines[3].len());
}
