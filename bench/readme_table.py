"""Prints the README's benchmark table from a results JSON written by bench_softmax.py.

    python bench/readme_table.py bench/results/softmax_cpu.json
"""
from __future__ import annotations

import json
import sys


def find(results, shape, op, impl):
    for r in results:
        if r["shape_name"] == shape and r["op"] == op and r["impl"] == impl:
            return r
    return None


def main(path: str) -> None:
    d = json.load(open(path))
    res, copies = d["results"], d["copy"]
    m = d["machine"]
    print(f"{m['cpu'].get('model name', '?')}, {m['threads used']} threads, kernels `{m['stablemath.cpu_isa()']}`, "
          f"torch {m['torch']}, SciPy {m['scipy']}, {d['date'][:10]}; float32, median ms; "
          "ratio = peer time / stablemath time; GB/s counts reading x once and writing y once (logsumexp: read only).")
    print("Command: `" + d["command"] + "`\n")
    print("| shape | op | stablemath | with `out=` | torch | SciPy | vs torch | vs SciPy | GB/s (`out=`) | copy GB/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for shape in d["shapes"]:
        for op in ("softmax", "log_softmax", "logsumexp"):
            name = "stablemath" if op == "logsumexp" else "stablemath auto"
            s = find(res, shape, op, name)
            o = find(res, shape, op, "stablemath auto, out=")
            t = find(res, shape, op, f"torch.{op}")
            sc = find(res, shape, op, f"scipy.special.{op}")
            if s is None:
                continue
            f = lambda r: f"{r['median_ms']:.2f}" if r else "–"  # noqa: E731
            ratio = lambda r: f"{r['median_ms'] / s['median_ms']:.1f}x" if r else "–"  # noqa: E731
            gb = (o or s)["GBps"]
            print(f"| {shape} | {op} | {f(s)} | {f(o)} | {f(t)} | {f(sc)} | {ratio(t)} | {ratio(sc)} | {gb:.1f} | "
                  f"{copies[shape]['GBps']:.1f} |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "bench/results/softmax_cpu.json")
