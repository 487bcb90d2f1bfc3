"""Small timing helpers shared by the benchmark scripts (bench_softmax.py keeps the contention-aware
Measurer; these are the plain forms for scripts that time a few calls side by side)."""
from __future__ import annotations

import statistics
import time
from pathlib import Path


def loadavg() -> str:
    """/proc/loadavg (the benchmarks record how busy the shared machine was), or "unknown"."""
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def median_time(fn, repeat: int = 3, warmup: int = 1, clock=time.perf_counter, max_s: float | None = None):
    """Median seconds of `repeat` calls of fn after `warmup` calls, and the number of calls timed.
    clock=time.thread_time measures the calling thread's CPU time instead of wall time; with max_s,
    timing stops after 3 calls once one call took longer than max_s."""
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(repeat):
        t = clock()
        fn()
        ts.append(clock() - t)
        if max_s is not None and ts[-1] > max_s and len(ts) >= 3:
            break
    return statistics.median(ts), len(ts)
