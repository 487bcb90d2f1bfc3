#!/usr/bin/env python3
"""CPU benchmark: stablemath.torch ops (forward + backward) against PyTorch's native ops.

Ops: softmax, log_softmax (upstream gradient g, ``y.backward(g)``) and cross_entropy (class-index
targets, mean reduction, ``loss.backward()``), float32, on the shapes 4096x1024, 256x32768 and
32x128 (the last for per-call overhead), plus the forward alone. Then the per-call overhead on a
tiny tensor (4 elements): each route of ``stablemath.torch.softmax`` minus the bare compiled-core
call it wraps (`--overhead-only`: that part alone).

Timing and contention control are bench_softmax.py's (median of repeats, small calls batched,
retried when other processes use the CPUs). Ratio = torch time / stablemath time (> 1: stablemath
faster). Writes ``<out>.md`` and ``<out>.json`` (default bench/results/torch_cpu).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import shlex
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_softmax as bs  # noqa: E402  (timing, machine description)

FULL_SHAPES = [(4096, 1024), (256, 32768), (32, 128)]
CORE_CALL = "core call (torch.empty_like + _core.softmax)"  # the baseline of the overhead column
QUICK_SHAPES = [(512, 256), (32, 4096), (32, 128)]


def cases(torch, smt, F, shape, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g).requires_grad_()
    up = torch.randn(shape, generator=g)
    t = torch.randint(0, shape[1], (shape[0],), generator=g)

    def fwd_bwd(f, *a):
        def run():
            x.grad = None
            y = f(x, *a)
            if y.ndim:
                y.backward(up)
            else:
                y.backward()
            return x.grad
        return run

    def fwd(f, *a):
        def run():
            with torch.no_grad():
                return f(x, *a)
        return run

    return {
        ("softmax", "fwd+bwd"): (fwd_bwd(smt.softmax, -1), fwd_bwd(torch.softmax, -1)),
        ("log_softmax", "fwd+bwd"): (fwd_bwd(smt.log_softmax, -1), fwd_bwd(torch.log_softmax, -1)),
        ("cross_entropy", "fwd+bwd"): (fwd_bwd(smt.cross_entropy, t), fwd_bwd(F.cross_entropy, t)),
        ("softmax", "fwd"): (fwd(smt.softmax, -1), fwd(torch.softmax, -1)),
        ("log_softmax", "fwd"): (fwd(smt.log_softmax, -1), fwd(torch.log_softmax, -1)),
        ("cross_entropy", "fwd"): (fwd(smt.cross_entropy, t), fwd(F.cross_entropy, t)),
    }


def overhead_cases(torch, smt, core):
    """Per-call costs on a 4-element tensor; the baseline is the bare core call (with allocation)."""
    x = torch.randn(4)
    xg = x.clone().requires_grad_()
    op = smt.ops()["softmax"]

    def core_call():
        out = torch.empty_like(x)
        core.softmax(x.numpy(), 0, None, out.numpy(), 0, False, False)
        return out

    to_dlpack = torch.utils.dlpack.to_dlpack

    def core_call_dlpack():  # what the kernels do since DLPack capsules replaced the NumPy views
        out = torch.empty_like(x)
        core.softmax(to_dlpack(x), 0, None, to_dlpack(out), 0, False, False)
        return out

    def fwd_bwd_smt():
        xg.grad = None
        smt.softmax(xg).backward(x)

    def fwd_bwd_torch():
        xg.grad = None
        torch.softmax(xg, -1).backward(x)

    return {
        CORE_CALL: core_call,
        "core call, DLPack capsules (torch.empty_like + _core.softmax)": core_call_dlpack,
        "stablemath.torch.softmax, no grad (kernel directly)": lambda: smt.softmax(x),
        "stablemath.torch.softmax, input requires grad (autograd.Function)": lambda: smt.softmax(xg),
        "torch.ops.stablemath.softmax, no grad (dispatcher)": lambda: op.overload(x, -1, "auto", False, None),
        "torch.ops.stablemath.softmax, input requires grad (custom_op autograd)":
            lambda: op.overload(xg, -1, "auto", False, None),
        "torch.softmax, no grad": lambda: torch.softmax(x, -1),
        "torch.softmax, input requires grad": lambda: torch.softmax(xg, -1),
        "stablemath.torch.softmax fwd+bwd": fwd_bwd_smt,
        "torch.softmax fwd+bwd": fwd_bwd_torch,
    }


def run(args) -> dict:
    sm = bs.import_stablemath()
    import torch
    import torch.nn.functional as F

    import stablemath.torch as smt
    torch.set_num_threads(args.threads)
    sm.set_num_threads(args.threads)
    measure = bs.Measurer(args.repeat, args.budget, args.max_foreign, args.retries, 20.0, 120.0)
    rows = []
    for shape in ([] if args.overhead_only else QUICK_SHAPES if args.quick else FULL_SHAPES):
        for (op, mode), (ours, theirs) in cases(torch, smt, F, shape).items():
            r_ours, r_theirs = measure(ours), measure(theirs)
            diff = float((r_ours[2] - r_theirs[2]).abs().max())
            row = dict(shape=list(shape), op=op, mode=mode, stablemath_ms=r_ours[0] * 1e3,
                       torch_ms=r_theirs[0] * 1e3, ratio=r_theirs[0] / r_ours[0], max_abs_diff=diff,
                       foreign_load=[r_ours[-2], r_theirs[-2]])
            if args.threads == 1:  # all work on the calling thread: its CPU time ignores descheduling
                n = max(1, int(0.05 / max(r_ours[0], r_theirs[0])))
                row["stablemath_cpu_ms"] = thread_cpu_us(ours, n, 5) / 1e3
                row["torch_cpu_ms"] = thread_cpu_us(theirs, n, 5) / 1e3
                row["cpu_ratio"] = row["torch_cpu_ms"] / row["stablemath_cpu_ms"]
            rows.append(row)
            bs.log(f"{shape} {op:14s} {mode:8s} stablemath {r_ours[0] * 1e3:9.3f} ms  torch {r_theirs[0] * 1e3:9.3f} ms  "
                   f"ratio {r_theirs[0] / r_ours[0]:.2f}  max|diff| {diff:.1e}")
    over, over_cpu, over_min = {}, {}, {}
    for name, fn in overhead_cases(torch, smt, sm._core).items():
        over[name] = measure(fn)[0] * 1e6
        over_cpu[name], over_min[name] = thread_cpu_us(fn, repeats=21, with_min=True)
        bs.log(f"{name:72s} {over[name]:7.2f} us wall, {over_cpu[name]:7.2f} us thread CPU "
               f"(min {over_min[name]:.2f})")
    return dict(rows=rows, overhead_us=over, overhead_cpu_us=over_cpu, overhead_cpu_min_us=over_min)


def thread_cpu_us(fn, calls=2000, repeats=9, with_min=False):
    """Median CPU time of the calling thread per call: on a shared machine, time spent descheduled
    does not count (a tiny call runs entirely on the calling thread). ``with_min``: also the
    fastest repeat, which cache and SMT interference from other processes inflate least."""
    for _ in range(min(calls, 200)):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.thread_time_ns()
        for _ in range(calls):
            fn()
        times.append((time.thread_time_ns() - t0) / calls / 1e3)
    times.sort()
    return (times[repeats // 2], times[0]) if with_min else times[repeats // 2]


def markdown(data) -> str:
    cpu = bool(data["rows"]) and "cpu_ratio" in data["rows"][0]
    lines = ["| shape | op | pass | stablemath.torch ms | torch ms | ratio (torch / stablemath) |"
             + (" thread CPU ms: stablemath / torch | CPU ratio |" if cpu else "") + " max abs diff |",
             "|---|---|---|---|---|---|" + ("---|---|" if cpu else "") + "---|"] if data["rows"] else []
    for r in data["rows"]:
        extra = f" {r['stablemath_cpu_ms']:.3f} / {r['torch_cpu_ms']:.3f} | {r['cpu_ratio']:.2f}x |" if cpu else ""
        lines.append(f"| {r['shape'][0]}x{r['shape'][1]} | {r['op']} | {r['mode']} | {r['stablemath_ms']:.3f} | "
                     f"{r['torch_ms']:.3f} | {r['ratio']:.2f}x |{extra} {r['max_abs_diff']:.1e} |")
    o, c, cmin = data["overhead_us"], data["overhead_cpu_us"], data["overhead_cpu_min_us"]
    lines += ["", "Per-call cost on a 4-element float32 tensor, in us: wall-clock median, and CPU time of the "
              "calling thread (not counting time descheduled by other processes; median and fastest of 21 "
              "repeats of 2000 calls); overhead = minus the bare core call (first row), from the medians and "
              "from the fastest repeats (the less disturbed figure on a loaded machine):", "",
              "| call | wall us | thread CPU us (median) | thread CPU us (min) | overhead (CPU) us, median / min |",
              "|---|---|---|---|---|"]
    for name, us in o.items():
        extra = (f"{c[name] - c[CORE_CALL]:.2f} / {cmin[name] - cmin[CORE_CALL]:.2f}"
                 if name.startswith(("stablemath", "torch.ops")) and "fwd+bwd" not in name else "–")
        lines.append(f"| {name} | {us:.2f} | {c[name]:.2f} | {cmin[name]:.2f} | {extra} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="small shapes, few repeats (smoke run)")
    p.add_argument("--overhead-only", action="store_true",
                   help="only the per-call costs on a 4-element tensor (no shapes)")
    p.add_argument("--threads", type=int, default=len(bs.os.sched_getaffinity(0)))
    p.add_argument("--repeat", type=int, default=15)
    p.add_argument("--budget", type=float, default=3.0, help="seconds per measurement at most")
    p.add_argument("--max-foreign", type=float, default=0.15)
    p.add_argument("--retries", type=int, default=2)
    p.add_argument("--out", default=str(HERE / "results" / "torch_cpu"))
    args = p.parse_args(argv)
    if args.quick:
        args.repeat, args.retries = 5, 0
    t0 = time.time()
    loadavg_before = Path("/proc/loadavg").read_text().strip()
    data = run(args)
    import torch
    import stablemath as sm
    data.update(
        date=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        command="python " + " ".join(shlex.quote(a) for a in [sys.argv[0], *(argv or sys.argv[1:])]),
        seconds=round(time.time() - t0),
        loadavg_before=loadavg_before, loadavg_after=Path("/proc/loadavg").read_text().strip(),
        machine=dict(cpu=bs.cpuinfo(), threads=args.threads, isa=sm.cpu_isa(), torch=torch.__version__,
                     torch_capability=torch.backends.cpu.get_cpu_capability(), repo=bs.git_state()),
    )
    table = markdown(data)
    print(table)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1))
    m = data["machine"]
    out.with_suffix(".md").write_text(
        f"# stablemath.torch vs PyTorch, CPU ({args.threads} threads)\n\n"
        f"Date: {data['date']}; run took {data['seconds']} s. Repo: {m['repo']}.\n\n"
        f"Command:\n\n```\ncd {bs.REPO} && {data['command']}\n```\n\n"
        f"Machine: {m['cpu'].get('model name', '?')} ({m['cpu'].get('simd flags', '')}), stablemath ISA {m['isa']}, "
        f"torch {m['torch']} ({m['torch_capability']}). /proc/loadavg before: {data['loadavg_before']}; "
        f"after: {data['loadavg_after']}: a machine with {bs.os.cpu_count()} CPUs shared with other jobs running "
        "at the same time, so wall-clock figures are inflated and erratic; the thread-CPU figures are the robust "
        "ones.\n\n"
        "Method: float32; median of repeats (calls under 5 ms timed in batches), retried when other processes "
        "used the CPUs (bench_softmax.py's Measurer); with 1 thread also the CPU time of the calling thread "
        "(time.thread_time), which time spent descheduled by other processes does not inflate. fwd+bwd: forward, then backward with a fixed upstream "
        "gradient (cross_entropy: mean loss, class-index targets). Ratio > 1: stablemath.torch faster.\n\n"
        + table + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
