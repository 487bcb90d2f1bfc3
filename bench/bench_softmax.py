#!/usr/bin/env python3
"""CPU benchmark: stablemath softmax / log_softmax / logsumexp against PyTorch, SciPy and NumPy.

Every implementation runs in the same process, on the same float32 input, with the same thread
count (``--threads``; torch and stablemath are set to it, NumPy/SciPy are single-threaded by
nature). Each implementation allocates its own output, as a user would call it.

Timing: warm-up calls, then the median of ``--repeat`` timed repeats (time.perf_counter). A call
shorter than ~5 ms is timed as a batch of k back-to-back calls per repeat (time / k), so that small
in-cache shapes are not dominated by timer noise. A slow implementation whose repeats would exceed
``--budget`` seconds gets fewer repeats (at least 3); the table says so in the "reps" column.

Bandwidth: model bytes = read x once + write y once (softmax, log_softmax) or read x once
(logsumexp); GB/s = model bytes / median time (1 GB = 1e9 B). The copy reference is the faster of
``np.copyto(dst, x)`` and ``torch dst.copy_(x)`` (multi-threaded) into a preallocated array of the
same size, GB/s = 2 * bytes / t.

Every result is compared with torch's (max abs diff) and with a float64 NumPy computation; a row
whose float64 error exceeds ERR_TOL_SM (stablemath) / ERR_TOL_PEER (peers) x max|reference| is flagged MISMATCH, so that a fast wrong kernel
shows up.

Outputs: a markdown table on stdout, ``<out>.md`` (table + machine + command line), ``<out>.json``
(raw numbers) and ``<out>.png`` (GB/s bars). Default ``<out>`` is bench/results/softmax_cpu.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import gc
import importlib
import json
import math
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

FULL_SHAPES = [(1024, 32768), (32768, 1024), (1, 1 << 25), (4096, 128)]
QUICK_SHAPES = [(64, 16384), (16384, 64), (1, 1 << 20), (512, 128)]
# "Large" shapes for the targets: at least this many elements (2^24 = 64 MiB of float32, twice the
# 32 MiB L3 here). In --quick mode the threshold is lowered so that the target code runs too, but
# those numbers are in cache and mean nothing.
LARGE_ELEMS_FULL = 1 << 24
LARGE_ELEMS_QUICK = 1 << 20
ALGORITHMS = ("three_pass", "online", "two_pass", "auto")
OPS = ("softmax", "log_softmax", "logsumexp")


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


_LOADED: dict = {}  # the stablemath build this process loaded, recorded at import


def import_stablemath(retries: int = 6, wait_s: float = 20.0):
    """Imports stablemath, retrying: another user may be reinstalling it right now."""
    last = None
    for i in range(retries):
        try:
            mod = importlib.import_module("stablemath")
            mod.softmax(np.zeros((1, 4), np.float32))  # the compiled core loads and runs
            _LOADED.update(core_file=sys.modules["stablemath._core"].__file__, repo_head=git_state())
            _LOADED["core_mtime"] = os.path.getmtime(_LOADED["core_file"])
            return mod
        except Exception as e:  # noqa: BLE001 - any failure here is "try again later"
            last = e
            for name in [m for m in sys.modules if m == "stablemath" or m.startswith("stablemath.")]:
                del sys.modules[name]
            log(f"import stablemath failed ({type(e).__name__}: {e}); retry {i + 1}/{retries} in {wait_s:.0f} s")
            time.sleep(wait_s)
    raise RuntimeError(f"could not import stablemath: {last}")


# ----------------------------------------------------------------------------------------------
# machine description


def cpuinfo() -> dict:
    info: dict = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" not in line:
                    if info.get("model name"):
                        break  # first processor block is enough
                    continue
                k, v = (s.strip() for s in line.split(":", 1))
                if k in ("model name", "cpu family", "model", "stepping", "flags") and k not in info:
                    info[k] = v
    except OSError:
        pass
    flags = set(info.pop("flags", "").split())
    info["simd flags"] = " ".join(f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl") if f in flags)
    for idx in range(4):
        p = Path(f"/sys/devices/system/cpu/cpu0/cache/index{idx}")
        try:
            lvl = (p / "level").read_text().strip()
            typ = (p / "type").read_text().strip()
            size = (p / "size").read_text().strip()
            if typ != "Instruction":
                info[f"L{lvl} {typ.lower()} (per cpu0 view)"] = size
        except OSError:
            pass
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["MemTotal"] = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return info


def l3_bytes(default: int = 32 << 20) -> int:
    try:
        s = Path("/sys/devices/system/cpu/cpu0/cache/index3/size").read_text().strip()
        mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1], 1)
        return int(s.rstrip("KMG")) * mult
    except (OSError, ValueError):
        return default


def git_state() -> str:
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return head + (" (working tree modified)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_description(sm, torch, threads: int) -> dict:
    import matplotlib
    import scipy

    core_file = _LOADED.get("core_file")
    mtime = _LOADED.get("core_mtime")
    core_built = _dt.datetime.fromtimestamp(mtime).isoformat(timespec="seconds") if mtime else "unknown"
    try:
        changed = core_file is not None and os.path.getmtime(core_file) != mtime
    except OSError:
        changed = True
    if changed:
        core_built += " (the installed copy was replaced during the run; the numbers are for the build loaded at start)"
    try:
        torch_cap = torch.backends.cpu.get_cpu_capability()
    except Exception:  # noqa: BLE001
        torch_cap = "unknown"
    return {
        "cpu": cpuinfo(),
        "logical cpus": os.cpu_count(),
        "cpus available to process": len(os.sched_getaffinity(0)),
        "threads used": threads,
        "stablemath.cpu_isa()": sm.cpu_isa(),
        "torch cpu capability": torch_cap,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "matplotlib": matplotlib.__version__,
        "stablemath": f"{sm.__version__} ({os.path.dirname(sm.__file__)}; _core built {core_built})",
        "repo HEAD at start": _LOADED.get("repo_head", "unknown"),
        "env": {k: v for k, v in os.environ.items()
                if k.startswith(("STABLEMATH_", "OMP_", "MKL_", "OPENBLAS_")) or k in ("ATEN_CPU_CAPABILITY",)},
    }


# ----------------------------------------------------------------------------------------------
# timing


def bench(fn, repeat: int, budget_s: float, min_batch_s: float = 0.02):
    """Returns (median seconds per call, per-repeat seconds, last output, repeats, batch, note)."""
    gc.collect()
    out = None
    t0 = time.perf_counter()
    out = fn()  # warm-up 1 (page faults, lazy init)
    t_first = time.perf_counter() - t0
    out = None
    t0 = time.perf_counter()
    out = fn()  # warm-up 2
    t_one = time.perf_counter() - t0
    batch = 1
    if t_one < 0.005:
        batch = max(1, math.ceil(min_batch_s / max(t_one, 1e-7)))
        for _ in range(batch):  # a few more warm-ups at the batch size
            out = None
            out = fn()
    reps = repeat
    note = ""
    if t_one * batch * repeat > budget_s:
        reps = max(3, min(repeat, int(budget_s / (t_one * batch))))
        if reps < repeat:
            note = f"repeats cut to {reps} (one call {t_one * 1e3:.0f} ms, budget {budget_s:g} s)"
    times = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(reps):
            out = None  # free the previous output outside the timed region
            if batch == 1:
                t0 = time.perf_counter()
                out = fn()
                times.append(time.perf_counter() - t0)
            else:
                t0 = time.perf_counter()
                for _ in range(batch):
                    out = fn()
                times.append((time.perf_counter() - t0) / batch)
    finally:
        if was_enabled:
            gc.enable()
    del t_first
    return statistics.median(times), times, out, reps, batch, note


# Other processes on the machine (this is a shared 2-core box) distort timings badly: with every
# core used by our threads, one descheduled thread stalls the whole call. Every measurement records
# the CPU time that other processes used while it ran; above --max-foreign it waits for the machine
# to go idle and measures again (--retries times), keeping the least disturbed attempt.
_HZ = os.sysconf("SC_CLK_TCK")
_NCPU = len(os.sched_getaffinity(0))


def _cpu_snapshot():
    try:
        with open("/proc/stat") as f:
            v = [int(a) for a in f.readline().split()[1:]]
        busy = (v[0] + v[1] + v[2] + v[5] + v[6] + (v[7] if len(v) > 7 else 0)) / _HZ
    except (OSError, ValueError, IndexError):
        busy = float("nan")
    t = os.times()
    return time.perf_counter(), busy, t.user + t.system


def foreign_fraction(a, b) -> float:
    """Share of the machine's CPUs used by other processes between two snapshots (0..1)."""
    wall = b[0] - a[0]
    if wall <= 0 or not math.isfinite(b[1]):
        return float("nan")
    return max(0.0, ((b[1] - a[1]) - (b[2] - a[2])) / (wall * _NCPU))


def wait_for_idle(max_wait_s: float, threshold: float = 0.1, window_s: float = 0.5) -> float:
    """Sleeps until other processes use < threshold of the CPUs over a window; returns seconds waited."""
    t0 = time.perf_counter()
    while True:
        a = _cpu_snapshot()
        time.sleep(window_s)
        f = foreign_fraction(a, _cpu_snapshot())
        waited = time.perf_counter() - t0
        if not (f >= threshold) or waited >= max_wait_s:
            if waited > 2 * window_s:
                log(f"   (waited {waited:.0f} s for other processes to go idle; load now {100 * f:.0f}%)")
            return waited


class Measurer:
    def __init__(self, repeat, budget, max_foreign, retries, max_wait, max_total_wait):
        self.repeat, self.budget = repeat, budget
        self.max_foreign, self.retries, self.max_wait = max_foreign, retries, max_wait
        self.max_total_wait = max_total_wait
        self.waited_s = 0.0

    def wait(self) -> None:
        left = self.max_total_wait - self.waited_s
        if left > 0:
            self.waited_s += wait_for_idle(min(self.max_wait, left))

    def __call__(self, fn):
        """bench() with contention control: (median, times, out, reps, batch, note, foreign, attempts)."""
        best = None
        for attempt in range(1, self.retries + 2):
            a = _cpu_snapshot()
            res = bench(fn, self.repeat, self.budget)
            foreign = foreign_fraction(a, _cpu_snapshot())
            if best is None or foreign < best[-2]:
                best = res + (foreign, attempt)
            else:
                del res
            if not (foreign > self.max_foreign) or attempt > self.retries or self.waited_s >= self.max_total_wait:
                break
            log(f"   other processes used {100 * foreign:.0f}% of the CPUs during the measurement; retrying")
            best = best[:2] + (None,) + best[3:]  # drop the kept output while waiting
            self.wait()
        if best[2] is None:  # the kept attempt's output was dropped: recompute it once, untimed
            best = best[:2] + (fn(),) + best[3:]
        return best


def to_numpy(r, torch):
    if isinstance(r, torch.Tensor):
        return r.numpy()
    return np.asarray(r)


def max_abs_diff(r, ref) -> float:
    """max |r - ref| (in float64 when ref is float64); NaN when the shapes differ or r holds NaN."""
    r = np.asarray(r)
    if r.shape != ref.shape:
        return float("nan")
    if r.size == 0:
        return 0.0
    d = np.abs(r.astype(ref.dtype, copy=False) - ref)
    return float(np.nan if np.isnan(d).any() else d.max())


def float64_reference(op: str, x: np.ndarray) -> np.ndarray:
    x64 = x.astype(np.float64)
    m = x64.max(-1, keepdims=True)
    x64 -= m
    if op == "log_softmax":
        s = np.log(np.exp(x64).sum(-1, keepdims=True))
        x64 -= s
        return x64
    e = np.exp(x64)
    if op == "softmax":
        e /= e.sum(-1, keepdims=True)
        return e
    return np.log(e.sum(-1)) + m[..., 0]  # logsumexp


# Accuracy gate: max abs error against float64, divided by max |reference|. stablemath promises a
# few ulp and lands near 1e-7..1e-5 here, so it is held to ERR_TOL_SM. Peers are only checked for
# being plainly wrong: torch's float32 softmax over one 2^20..2^25 row is off by ~1.5e-4..5e-4
# relative (serial lane sums), a wrong kernel by ~1.
ERR_TOL_SM = 1e-4
ERR_TOL_PEER = 1e-2


# ----------------------------------------------------------------------------------------------
# implementations


def implementations(sm, torch, scipy_special, with_out: bool):
    """{op: [(name, kind, fn(x, t))]}; kind is 'stablemath', 'peer' or 'ref'. torch first (reference)."""
    impls = {op: [] for op in OPS}

    impls["softmax"].append(("torch.softmax", "peer", lambda x, t: torch.softmax(t, -1)))
    for a in ALGORITHMS:
        impls["softmax"].append((f"stablemath {a}", "stablemath", lambda x, t, a=a: sm.softmax(x, -1, algorithm=a)))
    impls["softmax"].append(("scipy.special.softmax", "peer", lambda x, t: scipy_special.softmax(x, axis=-1)))

    def np_softmax(x, t):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    impls["softmax"].append(("numpy naive", "peer", np_softmax))

    impls["log_softmax"].append(("torch.log_softmax", "peer", lambda x, t: torch.log_softmax(t, -1)))
    for a in ALGORITHMS:
        impls["log_softmax"].append((f"stablemath {a}", "stablemath",
                                     lambda x, t, a=a: sm.log_softmax(x, -1, algorithm=a)))
    impls["log_softmax"].append(("scipy.special.log_softmax", "peer", lambda x, t: scipy_special.log_softmax(x, axis=-1)))

    impls["logsumexp"].append(("torch.logsumexp", "peer", lambda x, t: torch.logsumexp(t, -1)))
    impls["logsumexp"].append(("stablemath", "stablemath", lambda x, t: sm.logsumexp(x, axis=-1)))
    impls["logsumexp"].append(("scipy.special.logsumexp", "peer", lambda x, t: scipy_special.logsumexp(x, axis=-1)))

    def np_lse(x, t):
        m = x.max(-1, keepdims=True)
        return np.log(np.exp(x - m).sum(-1)) + m[..., 0]

    impls["logsumexp"].append(("numpy naive", "peer", np_lse))
    impls["logsumexp"].append(("ref: torch.sum (read-only)", "ref", lambda x, t: t.sum(-1)))

    if with_out:
        # Kernel time without allocating the output (and the first-touch page faults of a fresh
        # 128 MB array): the public out= argument with a buffer reused across calls, as the copy
        # reference is measured.
        bufs: dict = {}

        def sm_out(x, t, log=False):
            out = bufs.get((x.shape, log))
            if out is None:
                out = bufs[(x.shape, log)] = np.empty_like(x)
            return (sm.log_softmax if log else sm.softmax)(x, out=out)

        impls["softmax"].append(("stablemath auto, out=", "ref", sm_out))
        impls["log_softmax"].append(("stablemath auto, out=", "ref", lambda x, t: sm_out(x, t, True)))
    return impls


def sm_reference_name(op: str) -> str:
    return "stablemath" if op == "logsumexp" else "stablemath auto"


def model_bytes(op: str, shape) -> int:
    n = int(np.prod(shape)) * 4
    return n if op == "logsumexp" else 2 * n


# ----------------------------------------------------------------------------------------------
# main


def parse_shapes(s: str):
    shapes = []
    for part in s.split(","):
        dims = part.lower().replace("^", "**").split("x")
        shapes.append(tuple(int(eval(d, {"__builtins__": {}})) for d in dims))  # "1x2^25" allowed
    return shapes


def fmt_shape(shape) -> str:
    out = []
    for d in shape:
        out.append(f"2^{d.bit_length() - 1}" if d >= 1 << 20 and d & (d - 1) == 0 else str(d))
    return "x".join(out)


def run(args) -> dict:
    import torch
    import scipy.special as scipy_special

    sm = import_stablemath()
    threads = args.threads
    torch.set_num_threads(threads)
    sm.set_num_threads(threads)
    if sm.get_num_threads() != threads or torch.get_num_threads() != threads:
        log(f"warning: threads stablemath={sm.get_num_threads()} torch={torch.get_num_threads()}, asked {threads}")

    shapes = parse_shapes(args.shapes) if args.shapes else (QUICK_SHAPES if args.quick else FULL_SHAPES)
    ops = [o for o in OPS if o in args.ops.split(",")]
    impls = implementations(sm, torch, scipy_special, with_out=not args.no_out)
    rng = np.random.default_rng(args.seed)
    l3 = l3_bytes()
    results = []
    copies = {}
    notes = []

    measure = Measurer(args.repeat, args.budget, args.max_foreign, args.retries, args.max_wait, args.max_total_wait)
    for shape in shapes:
        measure.wait()
        sname = fmt_shape(shape)
        log(f"== shape {sname} ({int(np.prod(shape)) * 4 / 2**20:.1f} MiB float32)")
        x = rng.standard_normal(shape, dtype=np.float32)
        x *= args.scale
        t = torch.from_numpy(x)
        nbytes = x.nbytes

        # copy bandwidth into a preallocated (already faulted-in) destination
        dst = np.empty_like(x)
        dst.fill(0)
        dst_t = torch.from_numpy(dst)
        c_np, *_, f_np, _ = measure(lambda: np.copyto(dst, x))
        c_t, *_, f_t, _ = measure(lambda: dst_t.copy_(t))
        c_alloc, *_, f_alloc, _ = measure(lambda: x.copy())
        best = min(c_np, c_t)
        copy = {
            "np.copyto_ms": c_np * 1e3, "torch.copy__ms": c_t * 1e3, "np.copy_alloc_ms": c_alloc * 1e3,
            "best": "np.copyto" if c_np <= c_t else "torch copy_",
            "best_ms": best * 1e3, "GBps": 2 * nbytes / best / 1e9,
            "np.copyto_GBps": 2 * nbytes / c_np / 1e9, "torch.copy__GBps": 2 * nbytes / c_t / 1e9,
            "np.copy_alloc_GBps": 2 * nbytes / c_alloc / 1e9,
            "foreign_cpu": {"np.copyto": f_np, "torch copy_": f_t, "x.copy()": f_alloc},
        }
        copies[sname] = copy
        del dst, dst_t
        log(f"   copy: np.copyto {copy['np.copyto_GBps']:.2f} GB/s, torch copy_ {copy['torch.copy__GBps']:.2f} GB/s, "
            f"x.copy() (allocating) {copy['np.copy_alloc_GBps']:.2f} GB/s")

        for op in ops:
            ref = None  # torch's result
            ref64 = float64_reference(op, x)
            scale64 = float(np.abs(ref64).max()) or 1.0
            for name, kind, fn in impls[op]:
                try:
                    med, times, out, reps, batch, note, foreign, attempts = measure(lambda fn=fn: fn(x, t))
                except Exception as e:  # noqa: BLE001
                    log(f"   {op:11s} {name:45s} ERROR {type(e).__name__}: {e}")
                    notes.append(f"{sname} {op} {name}: error {type(e).__name__}: {e}")
                    continue
                r = to_numpy(out, torch)
                is_ref = ref is None
                if is_ref:
                    ref, ref_name = np.array(r), name
                checked = not name.startswith("ref:")  # a reference row computes something else
                dmax = max_abs_diff(r, ref) if checked else float("nan")
                err64 = max_abs_diff(r, ref64) if checked else float("nan")
                tol = ERR_TOL_SM if "stablemath" in name else ERR_TOL_PEER
                ok = (not checked) or (math.isfinite(err64) and err64 / scale64 <= tol)
                del out, r
                gbps = model_bytes(op, shape) / med / 1e9
                rec = {
                    "shape": list(shape), "shape_name": sname, "op": op, "impl": name, "kind": kind,
                    "median_ms": med * 1e3, "times_ms": [v * 1e3 for v in times], "repeats": reps, "batch": batch,
                    "GBps": gbps, "frac_copy": gbps / copy["GBps"], "max_abs_diff_vs_torch": dmax,
                    "max_abs_err_vs_float64": err64, "rel_err_vs_float64": err64 / scale64, "checked": checked,
                    "ok": ok, "note": note, "in_cache": nbytes <= l3, "is_reference": is_ref,
                    "torch_reference": ref_name, "min_ms": min(times) * 1e3,
                    "foreign_cpu": foreign, "attempts": attempts,
                }
                results.append(rec)
                if note:
                    notes.append(f"{sname} {op} {name}: {note}")
                if foreign > args.max_foreign:
                    notes.append(f"{sname} {op} {name}: other processes used {100 * foreign:.0f}% of the CPUs "
                                 f"during the best of {attempts} attempts; timing disturbed")
                if not ok:
                    notes.append(f"{sname} {op} {name}: MISMATCH, max abs err vs float64 {err64:.3g} "
                                 f"(max |ref| {scale64:.3g}); vs torch {dmax:.3g}")
                log(f"   {op:11s} {name:45s} {med * 1e3:9.3f} ms {gbps:7.2f} GB/s  vs torch {dmax:.2e}  vs f64 {err64:.2e}"
                    f"  other load {100 * foreign:.0f}%"
                    f"{'' if ok else '  MISMATCH'}{'  (' + note + ')' if note else ''}")
            del ref, ref64
            gc.collect()
        del x, t
        gc.collect()

    # ratios: this implementation's time / stablemath's (auto) time, same shape and op
    for rec in results:
        base = next((r for r in results if r["shape_name"] == rec["shape_name"] and r["op"] == rec["op"]
                     and r["impl"] == sm_reference_name(rec["op"])), None)
        rec["ratio_vs_stablemath"] = rec["median_ms"] / base["median_ms"] if base else float("nan")

    return {"shapes": [fmt_shape(s) for s in shapes], "copy": copies, "results": results, "notes": notes,
            "max_foreign": args.max_foreign,
            "l3_bytes": l3, "waited_s": measure.waited_s, "sm": sm, "torch": torch}


def find(results, shape, op, impl):
    return next((r for r in results if r["shape_name"] == shape and r["op"] == op and r["impl"] == impl), None)


def evaluate_targets(data, quick: bool):
    results, copies = data["results"], data["copy"]
    thresh = LARGE_ELEMS_QUICK if quick else LARGE_ELEMS_FULL
    large = [s for s in data["shapes"]
             if any(r["shape_name"] == s and int(np.prod(r["shape"])) >= thresh for r in results)]
    lines = []

    def add(ok, text, *recs):
        worst = max((r["foreign_cpu"] for r in recs if r is not None and math.isfinite(r["foreign_cpu"])), default=0.0)
        if worst > data["max_foreign"]:
            text += f"  [DISTURBED: other load up to {100 * worst:.0f}%]"
        lines.append((("PASS" if ok else "MISS") if ok is not None else "N/A ") + "  " + text)

    for s in large:
        for op in ("softmax", "logsumexp"):
            base = find(results, s, op, sm_reference_name(op))
            for peer, need in ((f"torch.{op}", 2.0), (f"scipy.special.{op}", 3.0)):
                p = find(results, s, op, peer)
                if base is None or p is None:
                    add(None, f"{op} {s}: stablemath vs {peer} >= {need:g}x (not measured)")
                    continue
                ratio = p["median_ms"] / base["median_ms"]
                add(ratio >= need, f"{op} {s}: {sm_reference_name(op)} {ratio:.2f}x faster than {peer} "
                                   f"({base['median_ms']:.2f} vs {p['median_ms']:.2f} ms; target >= {need:g}x)", base, p)
    # two_pass vs three_pass on an out-of-cache single row
    rows1 = [s for s in large if s.startswith("1x")]
    for s in rows1:
        for op in ("softmax", "log_softmax"):
            a, b = find(results, s, op, "stablemath two_pass"), find(results, s, op, "stablemath three_pass")
            if a is None or b is None:
                continue
            ratio = b["median_ms"] / a["median_ms"]
            text = (f"{op} {s}: two_pass {ratio:.2f}x faster than three_pass "
                    f"({a['median_ms']:.2f} vs {b['median_ms']:.2f} ms; target >= 1.2x)")
            if op == "softmax":
                add(ratio >= 1.2, text, a, b)
            else:
                lines.append("info  " + text)
    for s in large:
        for name in ("stablemath auto, out=", "stablemath auto"):
            r = find(results, s, "softmax", name)
            if r is None:
                continue
            frac = r["GBps"] / copies[s]["GBps"]
            add(frac >= 2 / 3, f"softmax {s}: {name} {r['GBps']:.2f} GB/s = {100 * frac:.0f}% of copy "
                               f"{copies[s]['GBps']:.2f} GB/s (target >= 67%)", r)
    # where auto is not the fastest stablemath algorithm
    for s in data["shapes"]:
        for op in ("softmax", "log_softmax"):
            algs = [find(results, s, op, f"stablemath {a}") for a in ALGORITHMS]
            algs = [a for a in algs if a is not None]
            if len(algs) < 2:
                continue
            best = min(algs, key=lambda r: r["median_ms"])
            auto = find(results, s, op, "stablemath auto")
            if auto and best["impl"] != "stablemath auto" and auto["median_ms"] > 1.03 * best["median_ms"]:
                lines.append(f"info  {op} {s}: auto {auto['median_ms']:.2f} ms is {auto['median_ms'] / best['median_ms']:.2f}x "
                             f"slower than {best['impl']} {best['median_ms']:.2f} ms")
    if quick:
        lines.append("info  --quick: shapes fit in cache; the targets above are only a smoke test of this code")
    return lines


def markdown_table(data) -> str:
    head = ("| shape | op | implementation | median ms | GB/s | % of copy | t / t(stablemath auto) "
            "| max abs diff vs torch | max abs err vs float64 | reps | other load |")
    lines = [head, "|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|"]
    for r in data["results"]:
        reps = f"{r['repeats']}" + (f" x{r['batch']}" if r["batch"] > 1 else "")
        if not r["checked"]:
            diff = err = "n/a"
        else:
            diff = "(reference)" if r["is_reference"] else f"{r['max_abs_diff_vs_torch']:.1e}"
            err = f"{r['max_abs_err_vs_float64']:.1e}" + ("" if r["ok"] else " **MISMATCH**")
        load = f"{100 * r['foreign_cpu']:.0f}%" + (" !" if r["attempts"] > 1 else "")
        impl = f"**{r['impl']}**" if r["impl"] == sm_reference_name(r["op"]) else r["impl"]
        lines.append(f"| {r['shape_name']} | {r['op']} | {impl} | {r['median_ms']:.3f} | {r['GBps']:.2f} | "
                     f"{100 * r['frac_copy']:.0f}% | {r['ratio_vs_stablemath']:.2f} | {diff} | {err} | {reps} | {load} |")
    return "\n".join(lines)


def copy_table(data) -> str:
    lines = ["| shape | MiB | np.copyto GB/s | torch copy_ GB/s | used | x.copy() (allocating) GB/s |",
             "|---|---:|---:|---:|---|---:|"]
    for s, c in data["copy"].items():
        r = next(r for r in data["results"] if r["shape_name"] == s) if data["results"] else None
        mib = int(np.prod(r["shape"])) * 4 / 2**20 if r else float("nan")
        lines.append(f"| {s} | {mib:.0f} | {c['np.copyto_GBps']:.2f} | {c['torch.copy__GBps']:.2f} | {c['best']} | "
                     f"{c['np.copy_alloc_GBps']:.2f} |")
    return "\n".join(lines)


_COLORS = {"stablemath three_pass": "tab:orange", "stablemath online": "tab:green", "stablemath two_pass": "tab:red",
           "stablemath auto": "tab:purple", "stablemath": "tab:purple", "stablemath auto, out=": "plum"}


def impl_color(name: str):
    if name in _COLORS:
        return _COLORS[name]
    for prefix, c in (("torch.", "tab:blue"), ("scipy", "tab:brown"), ("numpy", "tab:pink"), ("ref:", "tab:gray")):
        if name.startswith(prefix):
            return c
    return "tab:olive"


def legend_label(name: str) -> str:
    if name.startswith("torch.") and not name.startswith("torch.sum"):
        return "torch.<op>"
    if name.startswith("scipy.special."):
        return "scipy.special.<op>"
    if name in ("stablemath auto", "stablemath"):
        return "stablemath auto (logsumexp: stablemath)"
    return name


def plot(data, path: Path, title: str) -> None:
    """One panel per (op, shape), each with its own GB/s scale: the in-cache shape's copy bandwidth is
    several times the out-of-cache one and would flatten the other bars on a shared axis."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    results = data["results"]
    ops = [op for op in OPS if any(r["op"] == op for r in results)]
    shapes = data["shapes"]
    fig, axes = plt.subplots(len(ops), len(shapes), figsize=(4.2 * len(shapes) + 1, 3.9 * len(ops) + 1.6),
                             squeeze=False)
    legend = {}
    for i, op in enumerate(ops):
        for j, s in enumerate(shapes):
            ax = axes[i, j]
            rows = [r for r in results if r["op"] == op and r["shape_name"] == s]
            if not rows:
                ax.set_visible(False)
                continue
            xs = range(len(rows))
            for k, r in zip(xs, rows):
                special = r["impl"].startswith("ref:") or r["impl"].endswith("out=")
                bar = ax.bar(k, r["GBps"], 0.8, color=impl_color(r["impl"]), hatch="//" if special else None,
                             edgecolor="black" if r["impl"].startswith("stablemath") else "dimgray", linewidth=0.6)
                legend.setdefault(legend_label(r["impl"]), bar)
                disturbed = r["foreign_cpu"] > data["max_foreign"]
                ax.text(k, r["GBps"], f"{r['GBps']:.1f}" + ("*" if disturbed else ""), ha="center", va="bottom",
                        fontsize=8, color="firebrick" if disturbed else "black")
            c = data["copy"][s]["GBps"]
            ax.axhline(c, color="black", linewidth=2)
            if op != "logsumexp":
                ax.axhline(c * 2 / 3, color="black", linestyle="--", linewidth=1.1)
            ax.set_ylim(0, max([c] + [r["GBps"] for r in rows]) * 1.15)
            ax.set_xticks([])
            ax.grid(axis="y", alpha=0.3)
            where = "in cache" if rows[0]["in_cache"] else "out of cache"
            ax.set_title(f"{op}  {s}  ({where})", fontsize=10)
            if j == 0:
                byt = "read x" if op == "logsumexp" else "read x + write y"
                ax.set_ylabel(f"GB/s (model bytes:\n{byt})", fontsize=9)
            ax.tick_params(axis="y", labelsize=8)
    handles = [Patch(facecolor=b.patches[0].get_facecolor(), edgecolor="black", hatch=b.patches[0].get_hatch(),
                     label=n) for n, b in legend.items()]
    handles += [Line2D([], [], color="black", linewidth=2, label="copy bandwidth (2*bytes/t, preallocated dst)"),
                Line2D([], [], color="black", linestyle="--", linewidth=1.1, label="2/3 of copy")]
    loads = [r["foreign_cpu"] for r in results if math.isfinite(r["foreign_cpu"])]
    bad = sum(f > data["max_foreign"] for f in loads)
    if loads:
        title += (f"\nother processes' share of the CPUs during the measurements: median {100 * statistics.median(loads):.0f}%, "
                  f"max {100 * max(loads):.0f}%" + (f"; {bad} of {len(loads)} cases DISTURBED (> {100 * data['max_foreign']:.0f}%, "
                                                    "values marked *)" if bad else ""))
    fig.suptitle(title, fontsize=12, color="firebrick" if bad else "black")
    fig.legend(handles=handles, loc="lower center", ncol=4, fontsize=9, frameon=False)
    n_rows_legend = math.ceil(len(handles) / 4)
    fig.tight_layout(rect=(0, 0.022 * n_rows_legend + 0.01, 1, 1))
    fig.savefig(path, dpi=110)
    plt.close(fig)


def replot(json_path: str) -> None:
    """Re-draws <prefix>.png from <prefix>.json (used with --replot)."""
    d = json.loads(Path(json_path).read_text())
    d.setdefault("max_foreign", d.get("settings", {}).get("max_foreign", 0.1))
    m = d["machine"]
    cpu = m["cpu"]
    title = (f"stablemath softmax CPU benchmark: {cpu.get('model name', '?')} (family {cpu.get('cpu family', '?')} "
             f"model {cpu.get('model', '?')}), {m['threads used']} thread(s), isa {m['stablemath.cpu_isa()']}, "
             f"float32, {d['date'][:10]}")
    plot(d, Path(json_path[:-len(".json")] + ".png") if json_path.endswith(".json") else Path(json_path + ".png"), title)


def main(argv=None) -> int:
    ncpu = len(os.sched_getaffinity(0))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    ap.add_argument("--threads", type=int, default=ncpu, help="threads for torch and stablemath (default here: all CPUs available)")
    ap.add_argument("--repeat", type=int, default=None, help="timed repeats; the median is reported (None: 7, or 3 with --quick)")
    ap.add_argument("--budget", type=float, default=8.0,
                    help="max seconds of timed repeats per case; slower cases get fewer repeats (>= 3)")
    ap.add_argument("--max-foreign", type=float, default=0.1,
                    help="re-measure a case when other processes used more than this share of the CPUs meanwhile")
    ap.add_argument("--retries", type=int, default=2, help="re-measurements of a disturbed case")
    ap.add_argument("--max-wait", type=float, default=120.0,
                    help="seconds to wait at most for other processes to go idle before a shape / retry")
    ap.add_argument("--max-total-wait", type=float, default=600.0,
                    help="seconds of waiting for idle in the whole run; after that, no more waits or retries")
    ap.add_argument("--quick", action="store_true", help="small shapes, 3 repeats: a smoke run")
    ap.add_argument("--shapes", default=None, help="comma-separated shapes, e.g. '1024x32768,1x2^25'")
    ap.add_argument("--ops", default=",".join(OPS), help="comma-separated subset of " + ",".join(OPS))
    ap.add_argument("--scale", type=float, default=4.0, help="input = scale * standard normal")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-out", action="store_true",
                    help="skip the rows of stablemath writing into a preallocated out= array")
    ap.add_argument("--out", default=None,
                    help="output prefix for .md/.json/.png (default bench/results/softmax_cpu, "
                         "or bench/results/softmax_cpu_quick with --quick)")
    ap.add_argument("--replot", metavar="JSON", default=None, help="only redraw the PNG from a results JSON")
    args = ap.parse_args(argv)
    if args.replot:
        replot(args.replot)
        return 0
    if args.repeat is None:
        args.repeat = 3 if args.quick else 7
    if args.out is None:
        args.out = str(HERE / "results" / ("softmax_cpu_quick" if args.quick else "softmax_cpu"))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = shlex.join([sys.executable] + (sys.argv if argv is None else [sys.argv[0]] + list(argv)))
    started = _dt.datetime.now().astimezone()
    t_start = time.perf_counter()

    data = run(args)
    sm, torch = data.pop("sm"), data.pop("torch")
    machine = machine_description(sm, torch, args.threads)
    elapsed = time.perf_counter() - t_start
    targets = evaluate_targets(data, args.quick)

    table = markdown_table(data)
    ctable = copy_table(data)
    print()
    print(ctable)
    print()
    print(table)
    print()
    for n in data["notes"]:
        print("note:", n)
    print()
    for line in targets:
        print(line)

    cpu = machine["cpu"]
    title = (f"stablemath softmax CPU benchmark: {cpu.get('model name', '?')} (family {cpu.get('cpu family', '?')} "
             f"model {cpu.get('model', '?')}), {args.threads} thread(s), isa {machine['stablemath.cpu_isa()']}, "
             f"float32, {started:%Y-%m-%d}")
    md = [
        f"# stablemath CPU softmax benchmark ({args.threads} thread{'s' if args.threads != 1 else ''})",
        "",
        f"Date: {started.isoformat(timespec='seconds')}; run took {elapsed:.0f} s.",
        "",
    ]
    disturbed = [r for r in data["results"] if r["foreign_cpu"] > args.max_foreign]
    if disturbed:
        md += [f"**Warning: {len(disturbed)} of {len(data['results'])} cases ran while other processes used more than "
               f"{100 * args.max_foreign:.0f}% of the CPUs (column 'other load'); their times are inflated.**", ""]
    md += [
        "Command:",
        "",
        "```",
        f"cd {os.getcwd()} && {command}",
        "```",
        "",
        "## Machine",
        "",
    ]
    for k, v in machine.items():
        if isinstance(v, dict):
            md.append(f"- {k}: " + (", ".join(f"{a}={b}" for a, b in v.items()) or "(none)"))
        else:
            md.append(f"- {k}: {v}")
    md += [
        "",
        "## Method",
        "",
        f"float32 input = {args.scale:g} * standard normal (seed {args.seed}); reduction over the last axis. "
        f"Warm-up, then median of {args.repeat} repeats (time.perf_counter); calls under 5 ms are timed in "
        "batches (reps column 'N xk': N repeats of k calls). Every implementation allocates its output. "
        f"torch and stablemath use {args.threads} thread(s); NumPy/SciPy are single-threaded. "
        "GB/s uses model bytes (softmax/log_softmax: read x + write y; logsumexp: read x), 1 GB = 1e9 B. "
        "'% of copy' = GB/s / copy GB/s, where copy = faster of np.copyto / torch copy_ into a preallocated "
        "array of the same size, 2*bytes/t (for logsumexp the model bytes are only a read, so its % compares "
        "a read with a read+write stream). 't / t(stablemath auto)' = this row's time / stablemath auto's "
        "(stablemath logsumexp for logsumexp): > 1 means stablemath is that many times faster. "
        "'out=' rows pass a preallocated output through the public out= argument (kernel time without the "
        "first-touch page faults of a fresh output, as the copy is measured); 'ref:' rows are references, not peers. Accuracy: max abs difference from "
        "torch's result, and max abs error against a float64 NumPy computation; a row whose float64 error "
        f"exceeds {ERR_TOL_SM:g} (stablemath) or {ERR_TOL_PEER:g} (peers) x max|reference| is flagged MISMATCH. 'other load' = share of the machine's CPUs "
        "that other processes used during the measurement (from /proc/stat); above "
        f"{100 * args.max_foreign:.0f}% the case was measured again (up to {args.retries} more times, after "
        f"waiting up to {args.max_wait:g} s for the machine to go idle, {args.max_total_wait:g} s per run in all) and "
        "the least disturbed attempt kept; '!' marks a retried case. "
        f"Time spent waiting for other processes: {data['waited_s']:.0f} s.",
        "",
        "## Copy bandwidth",
        "",
        ctable,
        "",
        "## Results",
        "",
        table,
        "",
    ]
    if data["notes"]:
        md += ["## Notes", ""] + [f"- {n}" for n in data["notes"]] + [""]
    md += ["## Targets", "", "```"] + targets + ["```", ""]
    md.append(f"Plot: `{Path(str(out) + '.png').name}`")
    Path(str(out) + ".md").write_text("\n".join(md) + "\n")

    payload = {
        "date": started.isoformat(timespec="seconds"), "command": command, "cwd": os.getcwd(),
        "elapsed_s": elapsed, "machine": machine,
        "settings": {k: v for k, v in vars(args).items()},
        "shapes": data["shapes"], "copy": data["copy"], "results": data["results"],
        "notes": data["notes"], "targets": targets, "l3_bytes": data["l3_bytes"],
    }
    Path(str(out) + ".json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    plot(data, Path(str(out) + ".png"), title)
    log(f"wrote {Path(str(out) + '.md')}, {Path(str(out) + '.json')}, {Path(str(out) + '.png')} ({elapsed:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
