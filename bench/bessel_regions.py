#!/usr/bin/env python3
"""Where the log-Bessel time goes: CPU ns per element of stablemath's float64 kernels, 1 thread,
on bench_bessel.py's grids split by region (all / R = sqrt(v^2 + x^2) >= 25, the uniform expansion /
R < 25, and within R < 25 x <= 1/2 and x > 1/2, the two branches of log K), beside SciPy's
`ive`/`kve` on the same points.

CPU time of the calling process (best of --repeat), so other jobs on a shared machine do not
inflate it. Prints a markdown table; `--out PATH` also writes it to PATH.

Usage: python bench/bessel_regions.py [--n 1000000] [--repeat 3] [--out bench/results/bessel_regions.md]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import shlex
import sys
import time
from pathlib import Path

import numpy as np
import scipy.special as sp

import stablemath as sm

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_bessel import grids  # noqa: E402  (the same seeded grids)


def cpu_ns(fn, v, x, repeat):
    fn(v, x)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.process_time()
        fn(v, x)
        best = min(best, time.process_time() - t0)
    return 1e9 * best / max(1, v.size)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    sm.set_num_threads(1)
    funcs = {"log_bessel_i": sm.log_bessel_i, "log_bessel_k": sm.log_bessel_k, "bessel_i_ratio": sm.bessel_i_ratio,
             "scipy ive": sp.ive, "scipy kve": sp.kve}
    lines = ["| grid | region | fraction | " + " | ".join(f"`{f}`" for f in funcs) + " |",
             "|---|---|---|" + "---|" * len(funcs)]
    for gname, (v, x) in grids(args.n).items():
        R = np.hypot(v, x)
        regions = {"all": np.ones_like(R, bool), "R >= 25": R >= 25, "R < 25": R < 25,
                   "R < 25, x <= 1/2": (R < 25) & (x <= 0.5), "R < 25, x > 1/2": (R < 25) & (x > 0.5)}
        for rname, m in regions.items():
            vv, xx = np.ascontiguousarray(v[m]), np.ascontiguousarray(x[m])
            with np.errstate(all="ignore"):
                cells = [f"{cpu_ns(f, vv, xx, args.repeat):.0f}" for f in funcs.values()]
            lines.append(f"| {gname.split(' (')[0]} | {rname} | {m.mean():.2f} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    meta = (f"\nCPU ns/element, 1 thread, best of {args.repeat}; {args.n} points per grid before the split; "
            f"stablemath {sm.__version__} ({sm.cpu_isa()}); {_dt.datetime.now().isoformat(timespec='seconds')}; "
            f"command: `python {shlex.join(['bench/bessel_regions.py'] + sys.argv[1:])}`\n")
    print(table + meta)
    if args.out:
        Path(args.out).write_text("# log-Bessel CPU time per region\n\n" + table + "\n" + meta)


if __name__ == "__main__":
    main()
