//! Engine throughput under `criterion` (`cargo bench -p sparselift`): forward, backward
//! and training step of the network of `sparselift bench` — `64 → n → n → 10`, the
//! hidden-to-hidden edge `in-degree:k` — in useful edge-samples per second, and batch-1
//! inference. `sparselift bench` prints the same figures as ratios to the machine limit.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use sparselift::bench::Case;

/// `(n, k, batch)`: the acceptance configuration, a small and a sparser one.
const CONFIGS: [(u32, u32, usize); 3] = [(1024, 32, 256), (16384, 32, 256), (16384, 8, 32)];

fn training(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.sample_size(10);
    for (n, k, batch) in CONFIGS {
        let mut case = Case::mlp(n, k, batch).expect("the benchmark network samples");
        group.throughput(Throughput::Elements(case.edges() * batch as u64));
        let id = format!("n={n}/k={k}/batch={batch}");
        group.bench_function(BenchmarkId::new("forward", &id), |b| {
            b.iter(|| case.forward())
        });
        case.forward();
        group.bench_function(BenchmarkId::new("backward", &id), |b| {
            b.iter(|| case.backward())
        });
        group.bench_function(BenchmarkId::new("train_step", &id), |b| {
            b.iter(|| case.train_step())
        });
    }
    let mut case = Case::mlp(16384, 32, 1).expect("the benchmark network samples");
    group.throughput(Throughput::Elements(case.edges()));
    group.bench_function("inference/n=16384/k=32/batch=1", |b| {
        b.iter(|| case.forward())
    });
    group.finish();
}

criterion_group!(benches, training);
criterion_main!(benches);
