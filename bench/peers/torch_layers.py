#!/usr/bin/env python3
"""PyTorch peers of `sparselift bench --cnn` and `sparselift bench --attention`: the same
networks, trained (forward, backward, SGD step) at the same shapes, timed the same way.

- `cnn`: the zoo `cnn` lifted densely to C channels — `Conv2d(1, C, 3)`, ReLU,
  `Conv2d(C, C, 3)`, ReLU (same padding, no bias), then `Linear(C·h·w, 10)` with bias.
- `attention`: the zoo `attention` lifted densely to H heads of width c on L tokens of d
  features — multi-head self-attention `Σ_h softmax(Q_h K_hᵀ/√c) V_h W_o,h` (queries, keys,
  values and the output projection without bias) plus the residual `x`.

The output gradient is a constant 1e-3, as in `sparselift bench` (no loss to compute).
Prints one JSON object per configuration: {kind, backend, shape fields, seconds}, the
median of `--rounds` medians of timed repetitions. Optional; never run in CI
(`pip install torch numpy`).

    python3 bench/peers/torch_layers.py cnn --side 8 --channels 32 --batch 64
    python3 bench/peers/torch_layers.py attention --tokens 64 --features 64 --width 16 --heads 4 --batch 64
"""
import argparse
import json
import statistics
import time

import torch


def timed(step, budget=0.5):
    """Median seconds of `step` over repetitions filling about `budget` seconds."""
    step()
    t = time.perf_counter()
    step()
    once = max(time.perf_counter() - t, 1e-6)
    reps = max(5, int(budget / once))
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        step()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def cnn(a):
    c, s = a.channels, a.side
    net = torch.nn.Sequential(
        torch.nn.Conv2d(1, c, 3, padding=1, bias=False),
        torch.nn.ReLU(),
        torch.nn.Conv2d(c, c, 3, padding=1, bias=False),
        torch.nn.ReLU(),
        torch.nn.Flatten(),
        torch.nn.Linear(c * s * s, 10),
    )
    x = torch.rand(a.batch, 1, s, s) * 2 - 1
    return net, x, dict(side=s, channels=c, k=c, batch=a.batch)


class Attention(torch.nn.Module):
    def __init__(self, d, c, heads):
        super().__init__()
        self.c, self.heads = c, heads
        self.qkv = torch.nn.Linear(d, 3 * heads * c, bias=False)
        self.out = torch.nn.Linear(heads * c, d, bias=False)

    def forward(self, x):
        b, l, _ = x.shape
        q, k, v = self.qkv(x).view(b, l, 3, self.heads, self.c).permute(2, 0, 3, 1, 4)
        if ATTENTION == "sdpa":
            a = torch.nn.functional.scaled_dot_product_attention(q, k, v)
        else:
            a = torch.softmax(q @ k.transpose(-1, -2) / self.c**0.5, dim=-1) @ v
        return x + self.out(a.transpose(1, 2).reshape(b, l, self.heads * self.c))


ATTENTION = "sdpa"


def attention(a):
    global ATTENTION
    ATTENTION = a.kernel
    net = Attention(a.features, a.width, a.heads)
    x = torch.rand(a.batch, a.tokens, a.features) * 2 - 1
    shape = dict(tokens=a.tokens, features=a.features, width=a.width, heads=a.heads, batch=a.batch)
    return net, x, shape


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="kind", required=True)
    c = sub.add_parser("cnn")
    c.add_argument("--side", type=int, default=8)
    c.add_argument("--channels", type=int, default=32)
    t = sub.add_parser("attention")
    t.add_argument("--tokens", type=int, default=64)
    t.add_argument("--features", type=int, default=64)
    t.add_argument("--width", type=int, default=16)
    t.add_argument("--heads", type=int, default=4)
    t.add_argument("--kernel", choices=["sdpa", "plain"], default="sdpa",
                   help="fused scaled_dot_product_attention, or softmax(QKᵀ/√c)·V written out")
    for p in (c, t):
        p.add_argument("--batch", type=int, default=64)
        p.add_argument("--rounds", type=int, default=5)
        p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    a = ap.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    net, x, shape = (cnn if a.kind == "cnn" else attention)(a)
    opt = torch.optim.SGD(net.parameters(), lr=1e-4)

    def step():
        opt.zero_grad(set_to_none=True)
        y = net(x)
        y.backward(torch.full_like(y, 1e-3))
        opt.step()

    seconds = statistics.median(timed(step) for _ in range(a.rounds))
    backend = "torch" if a.kind == "cnn" else f"torch-{a.kernel}"
    print(json.dumps(dict(kind=a.kind, backend=backend, threads=torch.get_num_threads(), **shape, seconds=seconds)))


if __name__ == "__main__":
    main()
