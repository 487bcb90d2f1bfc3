#!/usr/bin/env python3
"""CPU benchmark: stablemath.softmax_topk against torch.topk(torch.softmax(x, -1), k).

Both run in the same process on the same float32 input with the same thread count (--threads).
Timing, contention control and the machine description are bench_softmax.py's (warm-up, median
of --repeat repeats, re-measured when other processes used more than --max-foreign of the CPUs).

References (not peers) put the figures in context:
  * "ref: stablemath.logsumexp": the same single read of x with its exponentials, without the
    top-k: the floor of the fused pass on this machine.
  * "ref: torch x.sum(-1)": a read-only pass over x (memory-read bound when x is out of cache).
  * "ref: torch.topk(x) alone": top-k of the logits without any softmax.
  * "ref: torch.softmax alone": the first half of the unfused peer.
Speedup = t(torch.topk(torch.softmax)) / t(stablemath.softmax_topk). Accuracy: max relative
difference of the values from torch's, and the share of rows whose indices equal torch's.

Outputs: a markdown table on stdout, <out>.md (table, machine, command, /proc/loadavg) and
<out>.json. Default <out> is bench/results/topk (topk_quick with --quick).
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
from bench_softmax import Measurer, fmt_shape, import_stablemath, log, machine_description, parse_shapes  # noqa: E402

FULL_SHAPES = [(4096, 32768), (256, 128256), (4096, 1024), (32, 32000)]
QUICK_SHAPES = [(256, 32768), (512, 1024)]
KS = (1, 4, 16, 64)
MAIN_SHAPE = (4096, 32768)  # the target: >= 3x faster than torch for k <= 16
TARGET = 3.0


def run(args):
    import torch

    sm = import_stablemath()
    torch.set_num_threads(args.threads)
    sm.set_num_threads(args.threads)
    measure = Measurer(args.repeat, args.budget, args.max_foreign, args.retries, args.max_wait, args.max_total_wait)
    shapes = parse_shapes(args.shapes) if args.shapes else (QUICK_SHAPES if args.quick else FULL_SHAPES)
    rng = np.random.default_rng(args.seed)
    rows = []

    def cpu_time(fn, calls):
        """Median CPU seconds (all threads of this process) per call: unlike wall time, barely
        changed when other processes share the cores (they delay us, they do not add to our CPU time)."""
        per = []
        for _ in range(3):
            c0 = time.process_time()
            for _ in range(calls):
                fn()
            per.append((time.process_time() - c0) / calls)
        return sorted(per)[1]

    def record(shape, k, name, kind, fn, check=None):
        med, times, out, reps, batch, note, foreign, attempts = measure(fn)
        elems = int(np.prod(shape))
        cpu_s = cpu_time(fn, max(1, int(0.05 / med)))
        row = {"shape": list(shape), "k": k, "impl": name, "kind": kind, "median_s": med, "times_s": times,
               "reps": reps, "batch": batch, "note": note, "foreign_cpu": foreign, "attempts": attempts,
               "cpu_s": cpu_s, "gelem_s": elems / med / 1e9, "read_gb_s": elems * 4 / med / 1e9}
        if check is not None:
            row.update(check(out))
        rows.append(row)
        log(f"  {fmt_shape(shape)} k={k} {name}: {med * 1e3:.2f} ms, CPU {cpu_s * 1e3:.2f} ms "
            f"(other load {100 * foreign:.0f}%)")
        return row

    for shape in shapes:
        x = (rng.standard_normal(shape, dtype=np.float32) * args.scale).astype(np.float32)
        t = torch.from_numpy(x)
        measure.wait()
        record(shape, None, "ref: stablemath.logsumexp", "ref", lambda: sm.logsumexp(x, axis=-1))
        record(shape, None, "ref: torch x.sum(-1)", "ref", lambda: t.sum(-1))
        record(shape, None, "ref: torch.softmax alone", "ref", lambda: torch.softmax(t, -1))
        for k in KS:
            if k > shape[-1]:
                continue
            ref = torch.topk(torch.softmax(t, -1), k)
            ref_v, ref_i = ref.values.numpy(), ref.indices.numpy()

            def check(out, ref_v=ref_v, ref_i=ref_i):
                v, i = out
                return {"max_rel_diff_vs_torch": float(np.max(np.abs(v / ref_v - 1))),
                        "rows_with_torch_indices": float(np.mean(np.all(i == ref_i, axis=-1)))}

            record(shape, k, "torch.topk(torch.softmax)", "peer", lambda k=k: torch.topk(torch.softmax(t, -1), k))
            record(shape, k, "stablemath.softmax_topk", "stablemath", lambda k=k: sm.softmax_topk(x, k), check)
            record(shape, k, "stablemath.softmax_topk(torch)", "stablemath", lambda k=k: sm.softmax_topk(t, k))
            record(shape, k, "stablemath.logsumexp_topk", "stablemath", lambda k=k: sm.logsumexp_topk(x, k))
            record(shape, k, "ref: torch.topk(x) alone", "ref", lambda k=k: torch.topk(t, k))
            del ref
        del x, t
    return sm, torch, rows, measure.waited_s


def speedups(rows, key="median_s"):
    """{(shape, k): torch time / stablemath time} (wall time, or CPU time with key="cpu_s")."""
    by = {(tuple(r["shape"]), r["k"], r["impl"]): r[key] for r in rows}
    out = {}
    for (shape, k, impl), t in by.items():
        if impl == "stablemath.softmax_topk":
            out[(shape, k)] = by[(shape, k, "torch.topk(torch.softmax)")] / t
    return out


def markdown_table(rows, sp, sp_cpu):
    lines = ["| shape | k | implementation | ms | CPU ms | Gelem/s | read GB/s | speedup vs torch (CPU time) | "
             "max rel diff / rows = torch idx | other load |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        shape, k = tuple(r["shape"]), r["k"]
        spd = f"**{sp[(shape, k)]:.2f}x** ({sp_cpu[(shape, k)]:.2f}x)" if r["impl"] == "stablemath.softmax_topk" else ""
        acc = ""
        if "max_rel_diff_vs_torch" in r:
            acc = f"{r['max_rel_diff_vs_torch']:.1e} / {100 * r['rows_with_torch_indices']:.1f}%"
        retried = "!" if r["attempts"] > 1 else ""
        lines.append(f"| {fmt_shape(shape)} | {'' if k is None else k} | {r['impl']} | {r['median_s'] * 1e3:.2f} | "
                     f"{r['cpu_s'] * 1e3:.2f} | "
                     f"{r['gelem_s']:.2f} | {r['read_gb_s']:.1f} | {spd} | {acc} | {100 * r['foreign_cpu']:.0f}%{retried} |")
    return "\n".join(lines)


def targets(sp, sp_cpu, quick):
    lines = []
    for (shape, k), s in sorted(sp.items()):
        if shape == MAIN_SHAPE and k <= 16:
            c = sp_cpu[(shape, k)]
            lines.append(f"{fmt_shape(shape)} k={k}: {s:.2f}x faster than torch in wall time, {c:.2f}x in CPU time "
                         f"(target >= {TARGET:g}x): {'MET' if min(s, c) >= TARGET else 'MISSED'}")
    if not lines:
        lines.append(f"target shape {fmt_shape(MAIN_SHAPE)} not run" + (" (--quick)" if quick else ""))
    return lines


def readme_table(json_path) -> str:
    """The README's summary table from a results JSON: one row per (shape, k)."""
    d = json.loads(Path(json_path).read_text())
    by = {(tuple(r["shape"]), r["k"], r["impl"]): r for r in d["results"]}
    lines = ["| shape | k | stablemath ms | torch ms | speedup | speedup (CPU time) | stablemath Gelem/s | "
             "ref: logsumexp ms | ref: x.sum ms |",
             "|---|---|---|---|---|---|---|---|---|"]
    for (shape, k, impl), r in by.items():
        if impl != "stablemath.softmax_topk":
            continue
        t = by[(shape, k, "torch.topk(torch.softmax)")]
        lse, rd = by[(shape, None, "ref: stablemath.logsumexp")], by[(shape, None, "ref: torch x.sum(-1)")]
        lines.append(f"| {fmt_shape(shape)} | {k} | {r['median_s'] * 1e3:.1f} | {t['median_s'] * 1e3:.1f} | "
                     f"{t['median_s'] / r['median_s']:.1f}x | {t['cpu_s'] / r['cpu_s']:.1f}x | {r['gelem_s']:.2f} | "
                     f"{lse['median_s'] * 1e3:.1f} | {rd['median_s'] * 1e3:.1f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ncpu = len(os.sched_getaffinity(0))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--threads", type=int, default=ncpu, help="threads for torch and stablemath")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats (None: 5, or 3 with --quick)")
    ap.add_argument("--budget", type=float, default=8.0, help="max seconds of timed repeats per case (>= 3 repeats)")
    ap.add_argument("--max-foreign", type=float, default=0.1, help="re-measure above this share of foreign CPU use")
    ap.add_argument("--retries", type=int, default=1)
    ap.add_argument("--max-wait", type=float, default=60.0)
    ap.add_argument("--max-total-wait", type=float, default=300.0)
    ap.add_argument("--quick", action="store_true", help="small shapes, 3 repeats: a smoke run")
    ap.add_argument("--shapes", default=None, help="comma-separated shapes, e.g. '4096x32768,64x2^17'")
    ap.add_argument("--scale", type=float, default=4.0, help="input = scale * standard normal")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="output prefix (default bench/results/topk[_quick])")
    ap.add_argument("--readme", metavar="JSON", default=None, help="only print the README table from a results JSON")
    args = ap.parse_args(argv)
    if args.readme:
        print(readme_table(args.readme))
        return 0
    if args.repeat is None:
        args.repeat = 3 if args.quick else 5
    out = Path(args.out or HERE / "results" / ("topk_quick" if args.quick else "topk"))
    out.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join([sys.executable] + (sys.argv if argv is None else [sys.argv[0]] + list(argv)))
    started = _dt.datetime.now().astimezone()
    load_before = loadavg()
    t0 = time.perf_counter()
    sm, torch, rows, waited = run(args)
    elapsed = time.perf_counter() - t0
    load_after = loadavg()
    machine = machine_description(sm, torch, args.threads)
    sp, sp_cpu = speedups(rows), speedups(rows, "cpu_s")
    table = markdown_table(rows, sp, sp_cpu)
    tg = targets(sp, sp_cpu, args.quick)
    print(table)
    print()
    print("\n".join(tg))
    md = [f"# stablemath fused softmax + top-k benchmark ({args.threads} thread{'s' if args.threads != 1 else ''})", "",
          f"Date: {started.isoformat(timespec='seconds')}; run took {elapsed:.0f} s "
          f"(waited {waited:.0f} s for other processes to go idle).", "",
          f"/proc/loadavg before: `{load_before}`; after: `{load_after}` (shared machine).", "",
          "Command:", "", "```", f"cd {os.getcwd()} && {command}", "```", "", "## Machine", ""]
    for k, v in machine.items():
        md.append(f"- {k}: " + (", ".join(f"{a}={b}" for a, b in v.items()) or "(none)") if isinstance(v, dict) else f"- {k}: {v}")
    md += ["", "## Method", "",
           f"float32 input = {args.scale:g} * standard normal (seed {args.seed}), top-k over the last axis. "
           f"Median of {args.repeat} repeats after warm-up (calls under 5 ms timed in batches); every call "
           "allocates its outputs. Gelem/s and read GB/s count one read of x (4 bytes per element), 1 GB = 1e9 B. "
           "'CPU ms': CPU time of this process (all its threads) per call, median of 3 runs of >= 50 ms, "
           "which other processes on the machine inflate far less than wall time; with N threads busy it is "
           "about N x the wall time of an idle machine. "
           "'ref:' rows are context, not peers. 'other load' = CPU share used by other processes during the "
           "measurement ('!': re-measured, least disturbed attempt kept).", "",
           "## Results", "", table, "", "## Targets", "", "```"] + tg + ["```", ""]
    Path(str(out) + ".md").write_text("\n".join(md) + "\n")
    payload = {"date": started.isoformat(timespec="seconds"), "command": command, "cwd": os.getcwd(),
               "elapsed_s": elapsed, "loadavg_before": load_before, "loadavg_after": load_after, "machine": machine,
               "settings": vars(args), "results": rows,
               "speedups": {f"{fmt_shape(s)} k={k}": v for (s, k), v in sp.items()},
               "speedups_cpu_time": {f"{fmt_shape(s)} k={k}": v for (s, k), v in sp_cpu.items()}, "targets": tg}
    Path(str(out) + ".json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    log(f"wrote {out}.md and {out}.json ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
