//! Running an [`Experiment`]: its grid of (family, size, seed) runs, several at a time,
//! each finished run appended to `DIR/runs.jsonl` at once — so an interrupted sweep loses
//! only the runs in flight, and `resume` skips what is already there.
//!
//! With `jobs > 1`, each worker thread runs whole trainings one after another on a
//! single-threaded kernel pool: for the many small networks of a sweep, parallelism
//! across runs beats parallelism inside one. Results do not depend on `jobs` (the engine
//! is deterministic on any thread count).

use super::store::{self, RunStore};
use super::{Experiment, RunKey, RunRecord};
use crate::run::{train, RunOptions, RunOutcome};
use crate::{Error, Result};
use std::path::Path;
use std::sync::Mutex;

/// Name of the experiment file a sweep keeps beside its runs.
pub const EXPERIMENT_FILE: &str = "experiment.toml";

/// How to run a sweep.
#[derive(Clone, Debug)]
pub struct SweepOptions {
    /// Runs in parallel.
    pub jobs: usize,
    /// Skip runs already in `runs.jsonl` (otherwise a non-empty directory is an error).
    pub resume: bool,
    /// Run only slice `i` of `n` of the grid: `(i, n)`, `0 ≤ i < n`.
    pub shard: Option<(usize, usize)>,
}

impl Default for SweepOptions {
    fn default() -> Self {
        SweepOptions {
            jobs: 1,
            resume: false,
            shard: None,
        }
    }
}

/// What a sweep did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SweepCounts {
    /// Runs of this sweep (or shard) in all.
    pub total: usize,
    /// Runs skipped because they were already finished.
    pub skipped: usize,
    /// Runs run now.
    pub ran: usize,
}

/// The record of one finished run. Losses are the run's *criterion* (normalised MSE for
/// regression), the quantity compared with ε.
pub fn record(key: &RunKey, o: &RunOutcome) -> RunRecord {
    let mut r = RunRecord::new(key.family.clone(), key.size, key.seed);
    r.status = o.status;
    r.final_loss = o.train.criterion;
    r.min_loss = o.min_criterion;
    r.time_to_eps = o.time_to_target;
    r.grad_evals = o.grad_evals;
    r.params = o.params;
    r.edges = o.edges;
    r.flops_per_sample = o.flops_per_sample;
    r.param_bytes = o.param_bytes;
    r.index_bytes = o.index_bytes;
    r.wall_s = o.wall_s;
    r.trajectory = o.records.iter().map(|x| [x.t, x.criterion]).collect();
    r
}

/// The experiment a sweep directory holds, as [`sweep`] stored it (a module file's path
/// already taken relative to the experiment file it came from).
pub fn stored_experiment(dir: &Path) -> Result<Experiment> {
    let path = dir.join(EXPERIMENT_FILE);
    let text = crate::bounded::read_string(&path, crate::bounded::Cap::EXPERIMENT)?;
    Experiment::from_toml(&text, &path.display().to_string())
}

/// Runs `exp` into `dir`; `progress(done, total, record)` is called after each run.
///
/// The whole experiment is checked first ([`Experiment::check`]): a mistake is an error
/// before `dir` is created or its experiment file written, so the corrected experiment
/// can use the same directory.
pub fn sweep(
    exp: &Experiment,
    dir: &Path,
    opts: &SweepOptions,
    progress: &(dyn Fn(usize, usize, &RunRecord) + Sync),
) -> Result<SweepCounts> {
    exp.check()?;
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let exp_path = dir.join(EXPERIMENT_FILE);
    let text = exp.to_toml()?;
    let cap = crate::bounded::Cap::EXPERIMENT;
    match crate::bounded::read_string(&exp_path, cap) {
        // Compared as experiments, not as text: a file written by an earlier version (or
        // spelled differently) still continues the same sweep.
        Ok(old) if !old.is_empty() => {
            let stored =
                Experiment::from_toml(&old, &exp_path.display().to_string()).map_err(|e| {
                    Error::invalid(
                        dir.display().to_string(),
                        format!("its {EXPERIMENT_FILE} is not an experiment: {e}"),
                    )
                    .with_hint("choose another --out directory, or delete this one")
                })?;
            if stored != *exp {
                return Err(Error::invalid(
                    dir.display().to_string(),
                    "holds runs of a different experiment",
                )
                .with_hint("choose another --out directory, or delete this one"));
            }
        }
        Err(Error::Io { source, .. }) if source.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::io(&exp_path, source))
        }
        // Refused unread (too large, not text): not a file a sweep wrote, so not replaced.
        Err(e @ Error::Invalid { .. }) => return Err(e),
        _ => crate::atomic::write(&exp_path, text.as_bytes())?,
    }
    let done = store::finished(dir)?;
    if !done.is_empty() && !opts.resume {
        return Err(Error::invalid(
            dir.display().to_string(),
            format!("already holds {} finished runs", done.len()),
        )
        .with_hint("pass --resume to continue this sweep, or choose another --out directory"));
    }
    let mut keys = exp.grid()?;
    if let Some((i, n)) = opts.shard {
        keys = store::shard(&keys, i, n)?;
    }
    let total = keys.len();
    keys.retain(|k| !done.contains(k));
    let counts = SweepCounts {
        total,
        skipped: total - keys.len(),
        ran: keys.len(),
    };
    let store = RunStore::open(dir)?;
    // A worker per run at most: more would only wait for an empty queue.
    let jobs = opts.jobs.clamp(1, keys.len().max(1));
    let queue = Mutex::new(keys.into_iter());
    let finished = Mutex::new(counts.skipped);
    let failure: Mutex<Option<Error>> = Mutex::new(None);
    let work = || -> Result<()> {
        loop {
            if failure.lock().unwrap().is_some() {
                return Ok(());
            }
            let Some(key) = queue.lock().unwrap().next() else {
                return Ok(());
            };
            let outcome = train(&exp.run_spec(&key)?, &mut RunOptions::default())?;
            let rec = record(&key, &outcome);
            store.append(&rec)?;
            let mut n = finished.lock().unwrap();
            *n += 1;
            progress(*n, total, &rec);
        }
    };
    if jobs == 1 {
        work()?;
    } else {
        std::thread::scope(|s| {
            for _ in 0..jobs {
                s.spawn(|| {
                    let pool = rayon::ThreadPoolBuilder::new()
                        .num_threads(1)
                        .build()
                        .expect("a thread pool");
                    if let Err(e) = pool.install(work) {
                        failure.lock().unwrap().get_or_insert(e);
                    }
                });
            }
        });
        if let Some(e) = failure.into_inner().unwrap() {
            return Err(e);
        }
    }
    Ok(counts)
}
