#!/usr/bin/env python3
"""CPU benchmark: stablemath stablemax / log_stablemax and the cross-entropies against the
reference torch expressions (Prieto et al. 2025), torch.nn.functional.cross_entropy and NumPy/SciPy.

Peers side by side in one process, on the same float32 input (``--scale`` x standard normal) and
the same thread count (``--threads``, set for torch and stablemath; NumPy/SciPy are single-threaded).
Timing and contention control are bench_softmax.py's (``bench``/``Measurer``: warm-ups, median of
repeats, batches for short calls, re-measurement while other processes use the CPUs).

Reference expressions (torch, on the float32 tensor):

* stablemax:      s = torch.where(x >= 0, x + 1, 1 / (1 - x)); s / s.sum(-1, keepdim=True)
* log_stablemax:  torch.log(s / s.sum(-1, keepdim=True))
* stablemax CE:   the reference code: log_stablemax of x.to(float64), gathered at the labels, mean
* softmax CE:     F.cross_entropy(x, y); "scipy-style numpy": mean(logsumexp(x) - x[i, y_i]) with
                  scipy.special.logsumexp

Each result is compared with a float64 NumPy evaluation (max relative error for the
distributions, relative error for the losses) so that a fast wrong kernel shows.

Writes ``<out>.md`` and ``<out>.json`` (default bench/results/stablemax) with machine, date, the
exact command and /proc/loadavg before and after.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import loadavg  # noqa: E402
from bench_softmax import Measurer, import_stablemath, log, machine_description  # noqa: E402

FULL_SHAPES = [(4096, 1024), (256, 32768)]
QUICK_SHAPES = [(256, 1024), (16, 32768)]


def ref_s64(x):
    x = x.astype(np.float64)
    t = 1.0 + np.abs(x)
    return np.where(x >= 0, t, 1.0 / t)


def references(x, y):
    s = ref_s64(x)
    tot = s.sum(-1, keepdims=True)
    p = s / tot
    logp = np.sign(x.astype(np.float64)) * np.log1p(np.abs(x.astype(np.float64))) - np.log(tot)
    x64 = x.astype(np.float64)
    m = x64.max(-1, keepdims=True)
    lse = np.log(np.exp(x64 - m).sum(-1)) + m[:, 0]
    rows = np.arange(x.shape[0])
    return {
        "stablemax": p,
        "log_stablemax": logp,
        "softmax_cross_entropy": float(np.mean(lse - x64[rows, y])),
        "stablemax_cross_entropy": float(np.mean(-logp[rows, y])),
    }


def implementations(sm, torch, scipy_special):
    F = torch.nn.functional

    def torch_s(t):
        return torch.where(t >= 0, t + 1, 1 / (1 - t))

    def torch_stablemax(x, t, y, yt):
        s = torch_s(t)
        return s / s.sum(-1, keepdim=True)

    def torch_log_stablemax(x, t, y, yt):
        s = torch_s(t)
        return torch.log(s / s.sum(-1, keepdim=True))

    def prieto_ce(x, t, y, yt):
        t64 = t.to(torch.float64)
        s = torch_s(t64)
        logp = torch.log(s / s.sum(-1, keepdim=True))
        return -logp.gather(-1, yt[:, None]).squeeze(-1).mean()

    def numpy_ce(x, t, y, yt):
        return float(np.mean(scipy_special.logsumexp(x, axis=-1) - x[np.arange(x.shape[0]), y]))

    return {
        "stablemax": [
            ("torch expression (Prieto et al.)", "peer", torch_stablemax),
            ("stablemath.stablemax (torch in/out)", "stablemath", lambda x, t, y, yt: sm.stablemax(t)),
            ("stablemath.stablemax (numpy in/out)", "stablemath", lambda x, t, y, yt: sm.stablemax(x)),
            ("context: torch.softmax", "ref", lambda x, t, y, yt: torch.softmax(t, -1)),
        ],
        "log_stablemax": [
            ("torch expression (Prieto et al.)", "peer", torch_log_stablemax),
            ("stablemath.log_stablemax (torch in/out)", "stablemath", lambda x, t, y, yt: sm.log_stablemax(t)),
            ("context: torch.log_softmax", "ref", lambda x, t, y, yt: torch.log_softmax(t, -1)),
        ],
        "softmax_cross_entropy": [
            ("torch F.cross_entropy", "peer", lambda x, t, y, yt: F.cross_entropy(t, yt)),
            ("stablemath.softmax_cross_entropy (torch)", "stablemath",
             lambda x, t, y, yt: sm.softmax_cross_entropy(t, yt)),
            ("stablemath.softmax_cross_entropy (numpy)", "stablemath",
             lambda x, t, y, yt: sm.softmax_cross_entropy(x, y)),
            ("scipy-style numpy (logsumexp - x_y)", "peer", numpy_ce),
        ],
        "stablemax_cross_entropy": [
            ("reference code (float64 log of ratio)", "peer", prieto_ce),
            ("stablemath.stablemax_cross_entropy (torch)", "stablemath",
             lambda x, t, y, yt: sm.stablemax_cross_entropy(t, yt)),
        ],
    }


def error_of(op, out, ref) -> float:
    a = out.detach().double().numpy() if hasattr(out, "detach") else np.asarray(out, dtype=np.float64)
    if op.endswith("cross_entropy"):
        return abs(float(a) - ref) / abs(ref)
    if op == "stablemax":
        return float(np.max(np.abs(a - ref) / ref))
    # log_stablemax: absolute error relative to the magnitude of the log terms
    return float(np.max(np.abs(a - ref) / (1.0 + np.abs(ref))))


def run(args) -> dict:
    import scipy.special as scipy_special
    import torch

    sm = import_stablemath()
    torch.set_num_threads(args.threads)
    sm.set_num_threads(args.threads)
    shapes = QUICK_SHAPES if args.quick else FULL_SHAPES
    repeat = args.repeat or (3 if args.quick else 9)
    measure = Measurer(repeat, args.budget, args.max_foreign, args.retries, args.max_wait, args.max_total_wait)
    impls = implementations(sm, torch, scipy_special)
    rng = np.random.default_rng(args.seed)
    results = []
    for shape in shapes:
        x = (rng.standard_normal(shape) * args.scale).astype(np.float32)
        y = rng.integers(0, shape[1], shape[0])
        t, yt = torch.from_numpy(x), torch.from_numpy(y)
        refs = references(x, y)
        for op, entries in impls.items():
            measure.wait()
            base = None
            for name, kind, fn in entries:
                med, times, out, reps, batch, note, foreign, attempts = measure(lambda: fn(x, t, y, yt))
                err = error_of(op, out, refs[op]) if kind != "ref" else None
                del out
                if kind == "peer" and base is None:
                    base = med
                rec = {"shape": list(shape), "op": op, "impl": name, "kind": kind, "median_s": med,
                       "times_s": times, "repeats": reps, "batch": batch, "note": note,
                       "foreign_cpu": foreign, "attempts": attempts, "error_vs_float64": err,
                       "speedup_vs_first_peer": (base / med) if base else None}
                results.append(rec)
                log(f"{shape} {op:24s} {name:45s} {med * 1e3:9.3f} ms  x{rec['speedup_vs_first_peer'] or 0:5.2f}"
                    f"  err {err if err is None else '%.1e' % err}")
    return {"results": results}


def markdown(data) -> str:
    lines = ["| shape | operation | implementation | median ms | speed-up vs first peer | error vs float64 |",
             "|---|---|---|---:|---:|---:|"]
    for r in data["results"]:
        sp = r["speedup_vs_first_peer"]
        lines.append(f"| {r['shape'][0]}x{r['shape'][1]} | {r['op']} | {r['impl']} | {r['median_s'] * 1e3:.3f} | "
                     f"{'%.2fx' % sp if sp else '-'} | {'-' if r['error_vs_float64'] is None else '%.1e' % r['error_vs_float64']} |")
    return "\n".join(lines)


def main() -> None:
    ncpu = len(os.sched_getaffinity(0))
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", type=int, default=ncpu, help="threads for torch and stablemath")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats (default 9, 3 with --quick)")
    ap.add_argument("--budget", type=float, default=8.0, help="seconds per case before repeats are cut")
    ap.add_argument("--max-foreign", type=float, default=0.1, help="re-measure above this share of foreign CPU use")
    ap.add_argument("--retries", type=int, default=2)
    ap.add_argument("--max-wait", type=float, default=60.0)
    ap.add_argument("--max-total-wait", type=float, default=300.0)
    ap.add_argument("--quick", action="store_true", help="small shapes, 3 repeats: a smoke run")
    ap.add_argument("--scale", type=float, default=4.0, help="input = scale * standard normal")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="output prefix (default bench/results/stablemax[_quick])")
    args = ap.parse_args()
    out = Path(args.out) if args.out else HERE / "results" / ("stablemax_quick" if args.quick else "stablemax")
    command = "cd " + shlex.quote(os.getcwd()) + " && " + " ".join(shlex.quote(a) for a in [sys.executable] + sys.argv)
    load_before = loadavg()
    t0 = time.time()
    data = run(args)
    import torch

    sm = sys.modules["stablemath"]
    data.update(
        date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"), command=command,
        duration_s=round(time.time() - t0, 1), loadavg_before=load_before, loadavg_after=loadavg(),
        machine=machine_description(sm, torch, args.threads), threads=args.threads, scale=args.scale,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str))
    machine = "\n".join(f"- {k}: {v}" for k, v in data["machine"].items())
    md = (f"# stablemath StableMax and cross-entropy benchmark ({args.threads} threads)\n\n"
          f"Date: {data['date']}; run took {data['duration_s']} s.\n\nCommand:\n\n```\n{command}\n```\n\n"
          f"/proc/loadavg before: `{load_before}`, after: `{data['loadavg_after']}` (shared machine).\n\n"
          f"Input: float32, {args.scale:g} x standard normal; integer labels uniform. Times are medians; "
          f"speed-up is the first peer's time (the reference torch expression / F.cross_entropy) divided by "
          f"this row's. Error: max relative error against float64 NumPy (log_stablemax: |err| / (1 + |ref|); "
          f"losses: relative error of the mean loss).\n\n{markdown(data)}\n\n## Machine\n\n{machine}\n")
    out.with_suffix(".md").write_text(md)
    print(md)


if __name__ == "__main__":
    main()
