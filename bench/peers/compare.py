#!/usr/bin/env python3
"""Side-by-side comparison for BENCHMARKS.md, all measured in one run on this machine:
`sparselift bench --quick --json`, then the peers of peers.py on the same network
(64 → n → n → 10, the n → n layer in-degree k, f32): the training step at batch 256, the
dense lift's training step, and batch-1 inference. Prints a markdown table of useful
edge-samples per second, seconds per call, and sparselift's speed-up over each peer (the
peer's seconds over sparselift's: the peers' networks have no biases, so their useful
edges are 2% fewer than sparselift's and a ratio of rates would flatter sparselift), and
writes every measurement as JSON to --out. Optional; never run in CI; needs numpy, scipy
and torch.

    python3 bench/peers/compare.py --sparselift target/release/sparselift --out compare.json
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import peers  # noqa: E402


def peer(backend, kind, n, k, batch, reps):
    """Useful edge-samples per second of one peer, and its seconds per call."""
    rng = np.random.default_rng(1)
    if backend == "scipy":
        step, infer, edges = peers.scipy_step(n, k, batch, rng)
    else:
        step, infer, edges = peers.torch_step(backend, n, k, batch, rng)
    seconds = peers.timed(step if kind == "train_step" else infer, reps)
    return edges * batch / seconds, seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sparselift", default="target/release/sparselift")
    ap.add_argument("--out", help="write every measurement as JSON here")
    a = ap.parse_args()
    ours = json.loads(subprocess.run([a.sparselift, "bench", "--quick", "--json"], check=True,
                                     capture_output=True, text=True).stdout)

    def find(kind, n, k, batch):
        return next(r for r in ours["results"] if (r["kind"], r["n"], r["k"], r["batch"]) == (kind, n, k, batch))

    n, k = 16384, 32
    rows = [
        ("training step, batch 256", find("train_step", n, k, 256),
         [(b, peer(b, "train_step", n, k, 256, 5)) for b in ("scipy", "torch-sparse", "torch-masked")]),
        ("dense lift, training step, batch 256", find("dense", n, n, 256),
         [("torch-dense", peer("torch-dense", "train_step", n, k, 256, 3))]),
        ("inference, batch 1", find("inference", n, k, 1),
         [(b, peer(b, "inference", n, k, 1, 50)) for b in ("scipy", "torch-sparse", "torch-masked")]),
    ]
    print(f"machine limit (gemm crate, this run): {ours['limit_gflops']:.1f} GFLOP/s; "
          f"numpy's BLAS: {peers.machine_limit():.1f} GFLOP/s; {ours['threads']} threads; n = {n}, k = {k}\n")
    print("| measurement | sparselift | peer | peer rate | sparselift / peer (time) |")
    print("| --- | --- | --- | --- | --- |")
    record = {"limit_gflops": ours["limit_gflops"], "sparselift": ours, "comparisons": []}
    for what, us, theirs in rows:
        for backend, (rate, seconds) in theirs:
            us_rate = us["edge_samples_per_s"]
            print(f"| {what} | {us_rate / 1e9:.3f} G/s ({100 * us['ratio_to_limit']:.1f}% of limit), "
                  f"{1e3 * us['seconds']:.2f} ms | {backend} | {rate / 1e9:.3f} G/s, {1e3 * seconds:.1f} ms "
                  f"| {seconds / us['seconds']:.1f}× |")
            record["comparisons"].append(dict(measurement=what, backend=backend, peer_edge_samples_per_s=rate,
                                              peer_seconds=seconds, sparselift_edge_samples_per_s=us_rate,
                                              sparselift_seconds=us["seconds"]))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(record, f, indent=1)


if __name__ == "__main__":
    main()
