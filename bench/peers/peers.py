#!/usr/bin/env python3
"""Peer measurements for BENCHMARKS.md: the network of `sparselift bench` — 64 → n → n → 10,
the n → n layer an in-degree-k sparse layer — trained (forward, backward, SGD step) at a
batch size, in other tools. Prints the same JSON fields as `sparselift bench --json`:
{"limit_gflops", "threads", "results": [{kind, backend, n, k, batch, edges,
edge_samples_per_s, gflops, ratio_to_limit}]}.

Optional; never run in CI. Backends: scipy (CSR, SET style), torch-dense, torch-masked,
torch-sparse (each needs its package: pip install scipy / torch).

    python3 bench/peers/peers.py --backend scipy --n 16384 --k 32 --batch 256
    python3 bench/peers/peers.py --backend torch-sparse --kind inference --batch 1 --reps 50
"""
import argparse
import json
import os
import statistics
import time

import numpy as np


def machine_limit():
    """f32 GEMM rate of numpy's BLAS, GFLOP/s (the machine limit of BENCHMARKS.md)."""
    m = 2048
    a = np.ones((m, m), np.float32)
    b = np.ones((m, m), np.float32)
    a @ b
    ts = []
    for _ in range(5):
        t = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t)
    return 2 * m**3 / min(ts) / 1e9


def pattern(n, k, rng):
    """Each of n targets picks k distinct sources uniformly: CSR (indptr, indices)."""
    indices = np.stack([rng.choice(n, k, replace=False) for _ in range(n)])
    indices.sort(axis=1)
    return np.arange(0, n * k + 1, k), indices.ravel()


def timed(step, reps):
    step()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def scipy_step(n, k, batch, rng):
    import scipy.sparse as sp

    indptr, indices = pattern(n, k, rng)
    w1 = rng.standard_normal((n, 64), np.float32) / 8
    s = sp.csr_matrix((rng.standard_normal(n * k).astype(np.float32) / np.sqrt(k), indices, indptr), (n, n))
    w3 = rng.standard_normal((10, n), np.float32) / np.sqrt(n)
    x = rng.standard_normal((64, batch), np.float32)
    rows = np.repeat(np.arange(n), k)
    lr = np.float32(1e-4)

    def infer():
        h1 = np.maximum(w1 @ x, 0)
        return w3 @ np.maximum(s @ h1, 0)

    def step():
        nonlocal w1, w3
        z1 = w1 @ x
        h1 = np.maximum(z1, 0)
        z2 = s @ h1
        h2 = np.maximum(z2, 0)
        y = w3 @ h2
        gy = y * np.float32(1e-3)
        gw3 = gy @ h2.T
        gz2 = (w3.T @ gy) * (z2 > 0)
        # Weight gradient on the sparsity pattern only (sampled dense-dense product).
        gs = np.einsum("ij,ij->i", gz2[rows], h1[s.indices])
        gz1 = (s.T @ gz2) * (z1 > 0)
        gw1 = gz1 @ x.T
        w1 -= lr * gw1
        s.data -= lr * gs
        w3 -= lr * gw3

    return step, infer, n * 64 + n * k + n * 10


def torch_step(kind, n, k, batch, rng):
    import torch

    indptr, indices = pattern(n, k, rng)
    rows = torch.from_numpy(np.repeat(np.arange(n), k))
    cols = torch.from_numpy(indices.astype(np.int64))
    w1 = torch.randn(n, 64) / 8
    w3 = torch.randn(10, n) / n**0.5
    x = torch.randn(64, batch)
    if kind == "torch-sparse":
        w2 = torch.sparse_coo_tensor(torch.stack([rows, cols]), torch.randn(n * k) / k**0.5, (n, n)).coalesce()
        w2.requires_grad_(True)
        mask = None
    else:
        w2 = torch.randn(n, n) / k**0.5
        mask = torch.zeros(n, n)
        mask[rows, cols] = 1
        if kind == "torch-dense":
            mask = None
        w2.requires_grad_(True)
    for p in (w1, w3):
        p.requires_grad_(True)
    opt = torch.optim.SGD([w1, w2, w3], lr=1e-4)

    def forward():
        h1 = torch.relu(w1 @ x)
        if kind == "torch-sparse":
            h2 = torch.relu(torch.sparse.mm(w2, h1))
        elif mask is not None:
            h2 = torch.relu((w2 * mask) @ h1)
        else:
            h2 = torch.relu(w2 @ h1)
        return w3 @ h2

    def step():
        opt.zero_grad()
        loss = forward().square().mean()
        loss.backward()
        opt.step()

    def infer():
        with torch.no_grad():
            return forward()

    useful = n * 64 + (n * n if kind == "torch-dense" else n * k) + n * 10
    return step, infer, useful


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backend", required=True, choices=["scipy", "torch-dense", "torch-masked", "torch-sparse"])
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--k", type=int, default=32)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--kind", default="train_step", choices=["train_step", "inference"],
                    help="a training step (forward, backward, SGD), or the forward pass alone without gradients")
    ap.add_argument("--reps", type=int, default=7)
    a = ap.parse_args()
    rng = np.random.default_rng(1)
    limit = machine_limit()
    if a.backend == "scipy":
        step, infer, edges = scipy_step(a.n, a.k, a.batch, rng)
    else:
        step, infer, edges = torch_step(a.backend, a.n, a.k, a.batch, rng)
    seconds = timed(step if a.kind == "train_step" else infer, a.reps)
    es = edges * a.batch / seconds
    flops = 6 if a.kind == "train_step" else 2
    result = dict(kind=a.kind, backend=a.backend, n=a.n, k=a.k, batch=a.batch, edges=edges, seconds=seconds,
                  edge_samples_per_s=es, gflops=flops * es / 1e9, ratio_to_limit=flops * es / 1e9 / limit)
    print(json.dumps(dict(limit_gflops=limit, threads=os.cpu_count(), results=[result])))


if __name__ == "__main__":
    main()
