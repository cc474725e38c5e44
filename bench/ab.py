#!/usr/bin/env python3
"""A/B of two sparselift builds on this machine: runs `A bench --quick --json` and
`B bench --quick --json` alternately (A B A B …, so that a drift of the machine's speed
hits both), then prints a markdown table with, for every configuration, the median
seconds per call of each build, their ratio, and the median of the per-pair ratios B / A
(above 1: B is slower). Optional; never run in CI; needs only Python 3.

    cargo build --release && cp target/release/sparselift /tmp/new
    git stash && cargo build --release && cp target/release/sparselift /tmp/old && git stash pop
    python3 bench/ab.py /tmp/old /tmp/new --runs 5 --out ab.json
"""
import argparse
import json
import statistics
import subprocess


def quick(binary):
    """One `bench --quick --json` of `binary`: {(kind, n, k, batch): seconds}, limit."""
    out = subprocess.run([binary, "bench", "--quick", "--json"], check=True,
                         capture_output=True, text=True).stdout
    report = json.loads(out)
    return {(r["kind"], r["n"], r["k"], r["batch"]): r["seconds"] for r in report["results"]}, \
        report["limit_gflops"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="the baseline binary")
    ap.add_argument("b", help="the candidate binary")
    ap.add_argument("--runs", type=int, default=5, help="runs of each binary (default 5)")
    ap.add_argument("--out", help="write every run's figures as JSON here")
    args = ap.parse_args()
    runs = {"a": [], "b": []}
    for i in range(args.runs):
        for side in ("a", "b"):
            seconds, limit = quick(getattr(args, side))
            runs[side].append({"seconds": seconds, "limit_gflops": limit})
            print(f"run {i + 1}/{args.runs} {side}: " + ", ".join(
                f"{k[0]} {k[1]}/{k[2]}/{k[3]} {1e3 * s:.2f} ms" for k, s in sorted(seconds.items())), flush=True)
    configs = sorted(runs["a"][0]["seconds"])
    print(f"\n{args.runs} runs each, alternated; A = {args.a}, B = {args.b}\n")
    print("| configuration (kind n/k/batch) | A median | B median | B / A of medians "
          "| B / A, median of pairs (min–max) |")
    print("| --- | --- | --- | --- | --- |")
    for c in configs:
        a = [r["seconds"][c] for r in runs["a"]]
        b = [r["seconds"][c] for r in runs["b"]]
        ratios = [y / x for x, y in zip(a, b)]
        ma, mb = statistics.median(a), statistics.median(b)
        print(f"| {c[0]} {c[1]}/{c[2]}/{c[3]} | {1e3 * ma:.2f} ms "
              f"| {1e3 * mb:.2f} ms | {mb / ma:.3f} | {statistics.median(ratios):.3f} "
              f"({min(ratios):.3f}–{max(ratios):.3f}) |")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({side: [{"seconds": {" ".join(map(str, k)): s for k, s in r["seconds"].items()},
                               "limit_gflops": r["limit_gflops"]} for r in rs] for side, rs in runs.items()},
                      f, indent=1)


if __name__ == "__main__":
    main()
