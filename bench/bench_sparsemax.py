#!/usr/bin/env python3
"""CPU benchmark: stablemath.sparsemax (each algorithm) against entmax.sparsemax (PyTorch, sort-based).

Same process, same float32 input, same thread count: torch.set_num_threads(stablemath.get_num_threads())
(or --threads for both). Inputs are ``scale * standard normal`` (seed 0) projected along the last
axis; scale 1 gives a support of a few entries per row, scale 0.01 a dense one (every entry is a
candidate: the filter pass keeps the whole row, the worst case for stablemath's first step).

Timing: 2 warm-up calls, then the median of --repeat calls (time.perf_counter); entmax gets
min(--repeat, 3) repeats when one call takes over a second. Each result is compared with a float64
NumPy sort-based sparsemax (max abs diff). Writes ``<out>.md`` and ``<out>.json`` (default
bench/results/sparsemax) with machine, date, command and /proc/loadavg before and after.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import shlex
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _timing import loadavg, median_time  # noqa: E402
from bench_softmax import cpuinfo, git_state  # noqa: E402  (machine description, one place)

FULL = [((4096, 1024), 1.0), ((256, 32768), 1.0), ((4096, 1024), 0.01)]
QUICK = [((512, 1024), 1.0), ((32, 32768), 1.0), ((512, 1024), 0.01)]
ALGOS = ["sort", "pivot", "bisect", "auto"]


def timed_ms(fn, repeat):
    s, reps = median_time(fn, repeat, warmup=2, max_s=1.0)
    return s * 1e3, reps


def reference(x):
    d = x.astype(np.float64)
    d -= d.max(-1, keepdims=True)
    srt = -np.sort(-d, axis=-1)
    cs = np.cumsum(srt, axis=-1)
    k = np.arange(1, d.shape[-1] + 1)
    supp = (1 + k * srt > cs).sum(-1, keepdims=True)
    tau = (np.take_along_axis(cs, supp - 1, -1) - 1) / supp
    return np.maximum(d - tau, 0)


def run(args):
    import torch
    from entmax import sparsemax as entmax_sparsemax
    from entmax import sparsemax_loss as entmax_loss

    import stablemath as sm

    if args.threads:
        sm.set_num_threads(args.threads)
    threads = sm.get_num_threads()
    torch.set_num_threads(threads)
    rows, extras = [], []
    load_before = loadavg()
    for shape, scale in (QUICK if args.quick else FULL):
        x = (np.random.default_rng(0).standard_normal(shape) * scale).astype(np.float32)
        xt = torch.from_numpy(x)
        ref = reference(x)
        support = float((ref > 0).sum(-1).mean())
        impls = {f"stablemath {a}": (lambda a=a: sm.sparsemax(x, algorithm=a)) for a in ALGOS}
        out = np.empty_like(x)
        impls["stablemath auto, out="] = lambda: sm.sparsemax(x, out=out)
        impls["entmax.sparsemax (torch)"] = lambda: entmax_sparsemax(xt, dim=-1)
        res = {}
        for name, fn in impls.items():
            y = fn()
            err = float(np.abs(np.asarray(y, np.float64) - ref).max())
            ms, reps = timed_ms(fn, args.repeat)
            res[name] = {"ms": ms, "reps": reps, "max_abs_err": err}
            print(f"{shape} scale {scale}: {name:28s} {ms:9.2f} ms  err {err:.1e}", file=sys.stderr, flush=True)
        if scale == 1.0 and shape[1] == 1024:  # training step pieces, on the first shape only
            g = np.random.default_rng(1).standard_normal(shape).astype(np.float32)
            gt = torch.from_numpy(g)
            labels = np.random.default_rng(2).integers(0, shape[1], shape[0])
            lt = torch.from_numpy(labels)

            def entmax_fwd_bwd():
                xr = xt.clone().requires_grad_(True)
                entmax_sparsemax(xr, dim=-1).backward(gt)

            extra = {"stablemath forward + backward": lambda: sm.sparsemax_backward(sm.sparsemax(x), g),
                     "entmax forward + backward (autograd)": entmax_fwd_bwd,
                     "stablemath sparsemax_loss": lambda: sm.sparsemax_loss(x, labels),
                     "entmax sparsemax_loss": lambda: entmax_loss(xt, lt)}
            for name, fn in extra.items():
                ms, reps = timed_ms(fn, args.repeat)
                extras.append({"shape": list(shape), "name": name, "ms": ms, "reps": reps})
                print(f"{shape}: {name:36s} {ms:9.2f} ms", file=sys.stderr, flush=True)
        base = res["entmax.sparsemax (torch)"]["ms"]
        for r in res.values():
            r["speedup_vs_entmax"] = base / r["ms"]
        rows.append({"shape": list(shape), "scale": scale, "mean_support": support, "results": res})
    return {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": " ".join(shlex.quote(a) for a in ["python"] + sys.argv),
        "threads": threads,
        "machine": {"cpu": cpuinfo().get("model name", "?"), "isa": sm.cpu_isa(), "platform": platform.platform(),
                    "cpus available": len(os.sched_getaffinity(0)), "torch": torch.__version__,
                    "numpy": np.__version__, "repo HEAD": git_state()},
        "loadavg_before": load_before,
        "loadavg_after": loadavg(),
        "rows": rows,
        "training": extras,
    }


def markdown(data) -> str:
    names = list(data["rows"][0]["results"])
    head = "| shape | scale (mean support) | " + " | ".join(names) + " | best vs entmax |"
    lines = [head, "|" + "---|" * (len(names) + 3)]
    for row in data["rows"]:
        res = row["results"]
        best = max((r["speedup_vs_entmax"] for n, r in res.items() if n.startswith("stablemath") and "out=" not in n))
        cells = [f"{res[n]['ms']:.2f}" for n in names]
        lines.append(f"| {row['shape'][0]}x{row['shape'][1]} | {row['scale']:g} ({row['mean_support']:.1f}) | "
                     + " | ".join(cells) + f" | {best:.0f}x |")
    return "\n".join(lines)


def training_table(data) -> str:
    if not data["training"]:
        return ""
    lines = ["Training-step pieces (same input; backward with a random incoming gradient, loss with random labels):", "",
             "| shape | what | ms |", "|---|---|---|"]
    for e in data["training"]:
        lines.append(f"| {e['shape'][0]}x{e['shape'][1]} | {e['name']} | {e['ms']:.2f} |")
    return "\n".join(lines) + "\n\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small shapes, 3 repeats: a smoke run")
    p.add_argument("--threads", type=int, default=0, help="threads for both (default: stablemath's default)")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--out", default=str(HERE / "results" / "sparsemax"))
    args = p.parse_args(argv)
    if args.quick:
        args.repeat = 3
    data = run(args)
    table = markdown(data)
    m = data["machine"]
    md = (f"# sparsemax CPU benchmark\n\n{m['cpu']}, {data['threads']} threads (stablemath and torch), kernels "
          f"`{m['isa']}`, torch {m['torch']}, {data['date']}; float32, median ms over the last axis; "
          "`best vs entmax` = entmax time / fastest stablemath algorithm.\n\n"
          f"Command: `{data['command']}`  \nload average before / after: `{data['loadavg_before']}` / "
          f"`{data['loadavg_after']}` (shared machine)  \nrepo: {m['repo HEAD']}, {m['platform']}\n\n{table}\n\n"
          + training_table(data) +
          "Max abs error against a float64 NumPy sparsemax: "
          + ", ".join(sorted({f"{r['max_abs_err']:.1e}" for row in data["rows"] for r in row["results"].values()}))
          + "\n")
    print(md)
    if not args.quick or args.out != str(HERE / "results" / "sparsemax"):
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out + ".md").write_text(md)
        Path(args.out + ".json").write_text(json.dumps(data, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
