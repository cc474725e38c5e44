#!/usr/bin/env python3
"""Runge–Kutta–Chebyshev against Dormand–Prince on the witness task of the README:

    sparselift train 'zoo:mlp?input=16&hidden=2&output=1' --data witness:m=8,n=512 \
        --size 256 --sampler in-degree:16 --method METHOD --time 1e4 --target-loss 1e-3 --seed S

for every seed S, with three methods:

- `dopri`: `flow:log=100` (Dormand–Prince at its defaults), in f32 as the command above;
- `rkc`: `flow:solver=rkc,log=100` in f32;
- `reference`: `flow:rtol=1e-10,atol=1e-12,log=100` in f64, a tight Dormand–Prince run.

(`log=100` only adds records: the steps and evaluation counts are those of the default
`log`.) It prints, per seed, the status and gradient evaluations of `dopri` and `rkc` and their
ratio, and the largest relative deviation of the `rkc` loss from the reference loss at the
`rkc` run's recorded (log-spaced) times, the reference being interpolated linearly in
(log t, log L) between its records (100 a decade, so the interpolation error is far below
the deviations measured). Runs whose `result.json` exists in OUT are not run again, so an
interrupted measurement continues where it stopped. Optional; never run in CI; needs only
Python 3. A Dormand–Prince run takes about 2·10⁵ gradient evaluations (minutes each).

    cargo build --release -p sparselift-cli
    python3 bench/rkc_flow.py target/release/sparselift --out /tmp/rkc --seeds 10
"""
import argparse
import bisect
import json
import math
import os
import subprocess

MODULE = "zoo:mlp?input=16&hidden=2&output=1"
COMMON = ["--data", "witness:m=8,n=512", "--size", "256", "--sampler", "in-degree:16",
          "--time", "1e4", "--target-loss", "1e-3"]
METHODS = {
    "dopri": ("flow:log=100", "f32"),
    "rkc": ("flow:solver=rkc,log=100", "f32"),
    "reference": ("flow:rtol=1e-10,atol=1e-12,log=100", "f64"),
}


def run(binary, out, name, seed):
    """Runs one method on one seed into OUT/NAME-SEED unless it has a result already."""
    d = os.path.join(out, f"{name}-{seed}")
    if not os.path.exists(os.path.join(d, "result.json")):
        method, precision = METHODS[name]
        subprocess.run([binary, "train", MODULE, *COMMON, "--method", method,
                        "--precision", precision, "--seed", str(seed), "--out", d, "--force"],
                       check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(d, "trajectory.jsonl")) as f:
        records = [json.loads(line) for line in f if line.strip()]
    with open(os.path.join(d, "result.json")) as f:
        result = json.load(f)
    return result, records


def field(result, *names):
    """The first of `names` found in the result (searched one level deep too)."""
    for n in names:
        if n in result:
            return result[n]
    for v in result.values():
        if isinstance(v, dict):
            for n in names:
                if n in v:
                    return v[n]
    raise KeyError(f"none of {names} in result.json")


def deviation(records, reference):
    """Max |L/L_ref − 1| over the records at t > 0, and the time where it occurs."""
    ts = [math.log(r["t"]) for r in reference if r["t"] > 0]
    ls = [math.log(r["loss"]) for r in reference if r["t"] > 0]
    worst = (0.0, 0.0)
    for r in records:
        if r["t"] <= 0 or not ts[0] <= math.log(r["t"]) <= ts[-1]:
            continue
        x = math.log(r["t"])
        i = min(max(bisect.bisect_left(ts, x), 1), len(ts) - 1)
        w = (x - ts[i - 1]) / (ts[i] - ts[i - 1])
        ref = math.exp(ls[i - 1] + w * (ls[i] - ls[i - 1]))
        worst = max(worst, (abs(r["loss"] / ref - 1.0), r["t"]))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="the sparselift binary")
    ap.add_argument("--out", required=True, help="directory of the runs (reused)")
    ap.add_argument("--seeds", type=int, default=10, help="seeds 0..N-1 (default 10)")
    ap.add_argument("--only", default="dopri,rkc,reference",
                    help="methods to run, comma-separated (default all three)")
    args = ap.parse_args()
    only = args.only.split(",")
    print("| seed | dopri status | dopri evals | rkc status | rkc evals | dopri / rkc "
          "| max deviation from reference (at t) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for seed in range(args.seeds):
        runs = {name: run(args.binary, args.out, name, seed) for name in only}
        cells = [str(seed)]
        for name in ("dopri", "rkc"):
            if name in runs:
                result = runs[name][0]
                cells += [str(field(result, "status")), str(field(result, "grad_evals"))]
            else:
                cells += ["", ""]
        if "dopri" in runs and "rkc" in runs:
            ratio = field(runs["dopri"][0], "grad_evals") / field(runs["rkc"][0], "grad_evals")
            cells.append(f"{ratio:.1f}")
        else:
            cells.append("")
        if "rkc" in runs and "reference" in runs:
            dev, t = deviation(runs["rkc"][1], runs["reference"][1])
            cells.append(f"{100 * dev:.3f}% (t = {t:.3g})")
        else:
            cells.append("")
        print("| " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
