#!/usr/bin/env python3
"""stablemath.torch.cross_entropy: the fused softmax_cross_entropy op against the log_softmax +
nll_loss route and F.cross_entropy, fwd+bwd (mean loss, class-index targets), float32, 1 thread,
median thread CPU time. Picks stablemath.torch.FUSED_CE_MIN_NUMEL (the crossover).
Run: python bench/bench_torch_ce.py [--quick] [--out bench/results/torch_ce]
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

import stablemath.torch as smt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _timing import median_time  # noqa: E402

SHAPES = [(32, 128), (512, 256), (1024, 256), (2048, 512), (32, 32768), (4096, 1024), (256, 32768)]


def median_ms(f, n):
    return median_time(f, n, warmup=3, clock=time.thread_time)[0] * 1e3


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "results" / "torch_ce"))
    args = ap.parse_args()
    torch.set_num_threads(1)
    load = open("/proc/loadavg").read().strip()
    rows = []
    for shape in SHAPES[:4] if args.quick else SHAPES:
        n = max(5, min(200, int(2e7 / (shape[0] * shape[1]))))
        x = torch.randn(shape, requires_grad=True)
        t = torch.randint(0, shape[1], (shape[0],))

        def fb(f):
            def run():
                x.grad = None
                f(x, t).backward()
            return run
        fused = lambda a, b: (
            smt.softmax_cross_entropy_op(a, b, 1, -100, 1, 0.0))
        route = lambda a, b: smt._ce_via_log_softmax(a, b, 1, None, -100, "mean", 0.0)
        r = {"shape": f"{shape[0]}x{shape[1]}", "fused": median_ms(fb(fused), n),
             "log_softmax_route": median_ms(fb(route), n), "torch": median_ms(fb(F.cross_entropy), n)}
        rows.append(r)
        print(r, flush=True)
    cmd = "python bench/bench_torch_ce.py" + (" --quick" if args.quick else "")
    md = [f"# stablemath.torch.cross_entropy routes, fwd+bwd, float32, 1 thread (thread CPU ms, median)\n",
          f"Date: {_dt.datetime.now().isoformat(timespec='seconds')}; command: `{cmd}`; /proc/loadavg before: {load}; "
          f"FUSED_CE_MIN_NUMEL = {smt.FUSED_CE_MIN_NUMEL}\n",
          "| shape | fused op | log_softmax + nll_loss | F.cross_entropy | torch / fused |", "|---|---|---|---|---|"]
    md += [f"| {r['shape']} | {r['fused']:.3f} | {r['log_softmax_route']:.3f} | {r['torch']:.3f} | "
           f"{r['torch'] / r['fused']:.2f}x |" for r in rows]
    Path(args.out + ".md").write_text("\n".join(md) + "\n")
    Path(args.out + ".json").write_text(json.dumps({"command": cmd, "loadavg": load, "rows": rows}, indent=1))


if __name__ == "__main__":
    main()
