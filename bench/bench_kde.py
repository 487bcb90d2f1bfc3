#!/usr/bin/env python3
"""CPU benchmark: log-space Gaussian KDE, stablemath against SciPy, scikit-learn and PyTorch.

Cases (n points, m queries, d): (1e5, 1e4, 3), (1e5, 1e4, 64), (2e4, 2e3, 1024); ``--quick``
divides n and m by 10 (a smoke run). Data: X, Y standard normal (seed 0), bandwidth
h = n^(-1/(d+4)) (Scott's rule for unit variance).

Implementations, each timed on the evaluation only (fit excluded), each in a fresh subprocess so
that its peak memory can be measured on its own:

- ``stablemath f32`` / ``f64``: ``GaussianKDE(h).fit(X).score_samples(Y)`` in float32 / float64,
  ``--threads`` threads (default: all CPUs available).
- ``scipy``: ``gaussian_kde(X.T).logpdf(Y.T)`` (float64; Scott's factor with the data covariance,
  the same cost as any kernel); single-threaded by nature.
- ``sklearn``: ``KernelDensity(kernel="gaussian", bandwidth=h, atol=0, rtol=0).fit(X).score_samples(Y)``
  (exact settings, KD-tree, float64); single-threaded.
- ``torch``: ``torch.logsumexp(-torch.cdist(Yc, X)**2 / (2 h^2), 1)`` over chunks Yc of 1000
  queries (float32; a full m x n matrix would need 4 GB at the largest case), ``--threads`` threads.

Slow peers are measured on a subset of the queries: a 16-query probe sets how many queries fit in
``--budget`` seconds; pairs/s = n * (queries measured) / time, and the table says how many were
measured. Peak memory: the subprocess's peak RSS during the evaluation above its RSS just before
it (Linux: VmHWM reset through /proc/self/clear_refs). Accuracy: max |difference| from a float64
stablemath evaluation of the same kernel (for SciPy: covariance="full", Scott); rows off by more
than 1e-3 x max|log density| are flagged MISMATCH (scikit-learn's KD-tree at d >= 64, see README).

Outputs: a markdown table on stdout, ``<out>.md`` (table, machine, date, command, load average)
and ``<out>.json``. Default ``<out>``: bench/results/kde_cpu.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FULL_CASES = [(100_000, 10_000, 3), (100_000, 10_000, 64), (20_000, 2_000, 1024)]
IMPLS = ["stablemath f32", "stablemath f64", "scipy", "sklearn", "torch"]
SLOW = {"scipy", "sklearn"}


def data(n, m, d):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, d)), rng.standard_normal((m, d))


def bandwidth(n, d):
    return n ** (-1.0 / (d + 4))


def _status(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def _reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def make_eval(impl, X, h, threads):
    """-> a function of the query array that returns log densities (NumPy float64)."""
    n, d = X.shape
    if impl.startswith("stablemath"):
        import stablemath as sm
        sm.set_num_threads(threads)
        dt = np.float32 if impl.endswith("f32") else np.float64
        est = sm.GaussianKDE(h).fit(X.astype(dt))
        return lambda Y: np.asarray(est.score_samples(Y.astype(dt)), np.float64)
    if impl == "scipy":
        from scipy.stats import gaussian_kde
        kde = gaussian_kde(X.T)
        return lambda Y: kde.logpdf(Y.T)
    if impl == "sklearn":
        from sklearn.neighbors import KernelDensity
        kd = KernelDensity(kernel="gaussian", bandwidth=h, atol=0, rtol=0).fit(X)
        return kd.score_samples
    if impl == "torch":
        import math
        import torch
        torch.set_num_threads(threads)
        Xt = torch.from_numpy(X.astype(np.float32))
        const = -0.5 * d * math.log(2 * math.pi * h * h) - math.log(n)

        def run(Y):
            Yt = torch.from_numpy(Y.astype(np.float32))
            parts = [torch.logsumexp(torch.cdist(Yt[i:i + 1000], Xt).square() * (-0.5 / (h * h)), dim=1)
                     for i in range(0, len(Yt), 1000)]
            return (torch.cat(parts) + const).double().numpy()
        return run
    raise ValueError(impl)


def worker(impl, n, m, d, threads, budget, out_npy):
    X, Y = data(n, m, d)
    h = bandwidth(n, d)
    f = make_eval(impl, X, h, threads)
    f(Y[:16])  # warm-up (and the probe for slow peers)
    mm = m
    if impl in SLOW:
        t0 = time.perf_counter()
        f(Y[:16])
        probe = time.perf_counter() - t0
        mm = int(min(m, max(16, budget / max(probe, 1e-9) * 16)))
    Yq = np.ascontiguousarray(Y[:mm])
    base = _status("VmRSS")
    ok = _reset_peak()
    t0 = time.perf_counter()
    r = f(Yq)
    t = time.perf_counter() - t0
    peak = _status("VmHWM") - base if ok else None
    np.save(out_npy, np.asarray(r, np.float64))
    return {"impl": impl, "n": n, "m": m, "d": d, "queries_measured": mm, "seconds": t,
            "pairs_per_s": n * mm / t, "peak_extra_bytes": peak}


def reference(impl, n, m, d, mm):
    import stablemath as sm
    X, Y = data(n, m, d)
    if impl == "scipy":
        est = sm.GaussianKDE("scott", covariance="full").fit(X)
    else:
        est = sm.GaussianKDE(bandwidth(n, d)).fit(X)
    return est.score_samples(Y[:mm])


def machine(threads):
    import scipy
    import sklearn
    import torch
    import stablemath as sm
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return {"cpu": cpu, "cpus available": len(os.sched_getaffinity(0)), "threads (stablemath, torch)": threads,
            "stablemath.cpu_isa()": sm.cpu_isa(), "platform": platform.platform(), "python": platform.python_version(),
            "numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__,
            "torch": torch.__version__}


def fmt_bytes(b):
    if b is None:
        return "n/a"
    return f"{b / 2**20:.0f} MiB" if abs(b) >= 2**20 else f"{b / 2**10:.0f} KiB"


def table(results):
    rows = ["| n | m | d | implementation | queries timed | time (s) | pairs/s | peak extra memory | max abs diff | stablemath f32 speed-up |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        ref = next(x for x in results if (x["n"], x["d"]) == (r["n"], r["d"]) and x["impl"] == "stablemath f32")
        ratio = ref["pairs_per_s"] / r["pairs_per_s"]
        flag = " **MISMATCH**" if r["max_abs_diff"] > 1e-3 * max(1.0, r.get("max_abs_ref", 1.0)) else ""
        measured = f"{r['queries_measured']} of {r['m']}" if r["queries_measured"] < r["m"] else f"{r['m']}"
        rows.append(f"| {r['n']} | {r['m']} | {r['d']} | {r['impl']} | {measured} | {r['seconds']:.2f} | "
                    f"{r['pairs_per_s']:.3g} | {fmt_bytes(r['peak_extra_bytes'])} | {r['max_abs_diff']:.2g}{flag} | "
                    f"{'–' if r['impl'] == 'stablemath f32' else f'{ratio:.1f}x'} |")
    return "\n".join(rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="n and m divided by 10 (smoke run)")
    ap.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    ap.add_argument("--budget", type=float, default=10.0, help="seconds per slow peer and case")
    ap.add_argument("--impls", default=",".join(IMPLS))
    ap.add_argument("--out", default=str(HERE / "results" / "kde_cpu"))
    ap.add_argument("--worker", nargs=6, metavar=("IMPL", "N", "M", "D", "THREADS", "NPY"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        impl, n, m, d, threads, npy = args.worker
        print(json.dumps(worker(impl, int(n), int(m), int(d), int(threads), args.budget, npy)))
        return
    cases = [(n // 10, m // 10, d) for n, m, d in FULL_CASES] if args.quick else FULL_CASES
    impls = args.impls.split(",")
    load_before = open("/proc/loadavg").read().strip()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, m, d in cases:
            for impl in impls:
                npy = os.path.join(tmp, "r.npy")
                cmd = [sys.executable, __file__, "--budget", str(args.budget), "--worker", impl, str(n), str(m), str(d),
                       str(args.threads), npy]
                p = subprocess.run(cmd, capture_output=True, text=True)
                if p.returncode != 0:
                    print(f"{impl} failed at {(n, m, d)}:\n{p.stderr[-2000:]}", file=sys.stderr)
                    continue
                rec = json.loads(p.stdout.strip().splitlines()[-1])
                got = np.load(npy)
                ref = reference(impl, n, m, d, len(got))
                rec["max_abs_diff"] = float(np.abs(got - ref).max())
                rec["max_abs_ref"] = float(np.abs(ref).max())
                print(f"{impl:15s} n={n} m={m} d={d}: {rec['pairs_per_s']:.3g} pairs/s "
                      f"({rec['queries_measured']} queries, {rec['seconds']:.2f} s), peak +{fmt_bytes(rec['peak_extra_bytes'])}, "
                      f"diff {rec['max_abs_diff']:.2g}", file=sys.stderr, flush=True)
                results.append(rec)
    load_after = open("/proc/loadavg").read().strip()
    tab = table(results)
    print(tab)
    info = {"date": _dt.datetime.now().isoformat(timespec="seconds"),
            "command": " ".join(shlex.quote(a) for a in [os.path.relpath(sys.executable)] + sys.argv),
            "loadavg before": load_before, "loadavg after": load_after, "machine": machine(args.threads),
            "results": results}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(info, indent=1))
    md = [f"# Gaussian KDE, log density: stablemath vs SciPy, scikit-learn, PyTorch ({'quick' if args.quick else 'full'} run)",
          "", f"Date: {info['date']}  ", f"Command: `{info['command']}`  ",
          f"Load average (`/proc/loadavg`) before: {load_before}; after: {load_after}  ",
          "Machine: " + ", ".join(f"{k} {v}" for k, v in info["machine"].items()), "",
          "Evaluation only (fit excluded). Slow peers (SciPy, scikit-learn) are timed on the first "
          "\"queries timed\" queries and their pairs/s scaled from those; peak extra memory = peak RSS "
          "during the evaluation minus RSS before it (each implementation in its own process). "
          "max abs diff: against a float64 stablemath evaluation of the same kernel (MISMATCH: more than "
          "1e-3 x max|log density|). Speed-up = "
          "stablemath f32 pairs/s / this row's pairs/s.", "", tab, ""]
    out.with_suffix(".md").write_text("\n".join(md))


if __name__ == "__main__":
    main()
