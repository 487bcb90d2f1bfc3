"""Threads and memory: results do not depend on the thread count or on concurrent callers, and
small calls do not leak.

* README, Threads: "rows run in parallel; a single long row is split into fixed parts whose
  (max, sum) states merge associatively in a fixed order, so results are bit-identical for any
  thread count". Checked bit for bit for set_num_threads(1 / 2 / 4), for a long row (1 x 300000,
  split into parts) and for many short rows, through every algorithm and the strided, masked,
  weighted and 16-bit paths.
* The pool lets a second caller run serially while the pool is busy: 8 Python threads calling at
  once on shared inputs must give exactly the serial results, also while another thread keeps
  changing the thread count.
* 100,000 small calls (NumPy and torch, every option, error paths) keep the resident set flat.
"""
from __future__ import annotations

import ctypes
import gc
import os
import random
import sys
import threading

import numpy as np
import pytest
import torch

import stablemath as sm
from conftest import num_threads

LONG = 300_000  # > 2 parts of 65536: split across the pool


def _bytes(r):
    """Exact bit pattern (and shape/dtype) of a result: NumPy, torch (incl. bfloat16) or a tuple."""
    if isinstance(r, tuple):
        return tuple(_bytes(v) for v in r)
    if isinstance(r, torch.Tensor):
        t = r.detach().contiguous()
        return (str(t.dtype), tuple(t.shape), t.reshape(-1).view(torch.uint8).numpy().tobytes())
    a = np.asarray(r)
    return (a.dtype.str, a.shape, np.ascontiguousarray(a).tobytes())


def _workload():
    """(name, call) pairs over fixed shared inputs; each call returns a fresh result."""
    rng = np.random.default_rng(20261126)
    long64 = rng.standard_normal((1, LONG)) * 8
    long64[0, 12345] = 40.0  # a clear maximum in one part, ties elsewhere
    long64[0, 200000] = 40.0
    long32 = long64.astype(np.float32)
    long_strided = np.repeat(long64, 2, axis=1)[:, ::2]  # 1 x 300000 with stride 2 (gathered row)
    long_bf16 = torch.from_numpy(long32).to(torch.bfloat16)
    long_t16 = torch.from_numpy(long32).to(torch.float16)
    wlong = (np.arange(LONG) % 7 != 0)[None, :]
    blong = np.linspace(-0.25, 2.0, LONG)[None, :]
    many64 = rng.standard_normal((2000, 37)) * 5
    many64[::17, 3] = -np.inf
    many32 = many64.astype(np.float32)
    many_t = torch.from_numpy(many32)
    many_t16 = many_t.to(torch.float16)
    cube = rng.standard_normal((40, 30, 50)).astype(np.float32)
    wmany = rng.random((2000, 37)) < 0.8

    calls = []
    for alg in ("auto", "three_pass", "online", "two_pass"):
        for dt, x in (("f32", long32), ("f64", long64)):
            calls.append((f"softmax long {dt} {alg}", lambda x=x, a=alg: sm.softmax(x, algorithm=a)))
            calls.append((f"log_softmax long {dt} {alg}", lambda x=x, a=alg: sm.log_softmax(x, algorithm=a)))
        calls.append((f"softmax many f32 {alg}", lambda a=alg: sm.softmax(many32, algorithm=a)))
        calls.append((f"log_softmax many f64 axis0 {alg}", lambda a=alg: sm.log_softmax(many64, axis=0, algorithm=a)))
    calls += [
        ("logsumexp long f32", lambda: sm.logsumexp(long32, axis=-1)),
        ("logsumexp long f64 full", lambda: sm.logsumexp(long64)),
        ("logsumexp long f64 reshaped full", lambda: sm.logsumexp(long64.reshape(600, 500))),
        ("logsumexp long strided", lambda: sm.logsumexp(long_strided, axis=1, return_sign=True)),
        ("logsumexp long where", lambda: sm.logsumexp(long64, axis=1, where=wlong)),
        ("logsumexp long b", lambda: sm.logsumexp(long32, axis=1, b=blong, return_sign=True)),
        ("softmax long strided", lambda: sm.softmax(long_strided)),
        ("softmax long where safe", lambda: sm.softmax(long32, where=wlong, safe=True)),
        ("softmax long bf16", lambda: sm.softmax(long_bf16)),
        ("log_softmax long f16", lambda: sm.log_softmax(long_t16)),
        ("logsumexp many f32 rows", lambda: sm.logsumexp(many32, axis=-1)),
        ("logsumexp many f64 axis0", lambda: sm.logsumexp(many64, axis=0)),
        ("logsumexp many where", lambda: sm.logsumexp(many64, axis=1, where=wmany, keepdims=True)),
        ("logsumexp cube axes(0,2)", lambda: sm.logsumexp(cube, axis=(0, 2))),
        ("softmax cube axis1", lambda: sm.softmax(cube, axis=1)),
        ("softmax many torch", lambda: sm.softmax(many_t, axis=-1)),
        ("log_softmax many torch f16 axis0", lambda: sm.log_softmax(many_t16, axis=0)),
        ("softmax many where", lambda: sm.softmax(many64, where=wmany)),
    ]
    return calls


WORKLOAD = _workload()


def _run_all(order=None):
    calls = WORKLOAD if order is None else [WORKLOAD[i] for i in order]
    return {name: _bytes(fn()) for name, fn in calls}


@pytest.fixture(scope="module")
def serial_reference():
    with num_threads(1):
        return _run_all()


def _diff(got, ref):
    return sorted(name for name in ref if got.get(name) != ref[name])


def test_workload_uses_the_pool():
    """The long rows really are split (otherwise the thread-count test proves nothing)."""
    from math import ceil
    assert ceil(LONG / 65536) >= 4
    with num_threads(4):
        assert sm.get_num_threads() == 4


@pytest.mark.parametrize("threads", [2, 4])
def test_bit_identical_for_any_thread_count(threads, serial_reference):
    with num_threads(threads):
        got = _run_all()
        again = _run_all()
    assert not _diff(got, serial_reference), f"differs from set_num_threads(1): {_diff(got, serial_reference)}"
    assert not _diff(again, serial_reference), f"second run differs: {_diff(again, serial_reference)}"


def _run_threads(n_threads, rounds, ref, toggler=False, timeout=120.0):
    """n_threads Python threads start together and each run the workload `rounds` times in its own
    order; optionally one more thread keeps changing set_num_threads meanwhile."""
    barrier = threading.Barrier(n_threads + (1 if toggler else 0))
    errors, mismatches = [], []
    done = threading.Event()

    def worker(seed):
        rnd = random.Random(seed)
        try:
            barrier.wait()
            for _ in range(rounds):
                order = list(range(len(WORKLOAD)))
                rnd.shuffle(order)
                bad = _diff(_run_all(order), ref)
                if bad:
                    mismatches.append((seed, bad))
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"thread {seed}: {type(e).__name__}: {e}")

    def toggle():
        barrier.wait()
        k = 0
        while not done.is_set():
            sm.set_num_threads(1 + k % 4)
            k += 1
            done.wait(0.0005)

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n_threads)]
    tog = threading.Thread(target=toggle, daemon=True) if toggler else None
    old = sm.get_num_threads()
    try:
        for t in threads + ([tog] if tog else []):
            t.start()
        for t in threads:
            t.join(timeout)
        hung = [t.name for t in threads if t.is_alive()]
    finally:
        done.set()
        if tog:
            tog.join(10)
        sm.set_num_threads(old)
    assert not hung, f"threads still running after {timeout} s (deadlock?): {hung}"
    assert not errors, "\n".join(errors)
    assert not mismatches, f"results differ from the serial ones: {mismatches[:3]}"


def test_eight_python_threads_at_once(serial_reference):
    with num_threads(2):
        _run_threads(8, rounds=2, ref=serial_reference)


def test_threads_while_thread_count_changes(serial_reference):
    _run_threads(6, rounds=2, ref=serial_reference, toggler=True)


# --------------------------------------------------------------------------------------------
# Leaks
# --------------------------------------------------------------------------------------------
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def rss_bytes() -> int:
    """Resident set size now (Linux /proc/self/statm); elsewhere the peak from resource, which a
    leak raises just the same."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:  # pragma: no cover - non-Linux
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


CALLS_PER_WINDOW = 100_000
# Calibration (this VM, 2026-11-26, 100,000 calls per variant after 5,000 warm-up calls): the
# resident set grew by exactly 0 KiB for every variant below, while a deliberate malloc(100) per
# call grew it by 15 MiB and malloc(20) by 7 MiB (glibc chunks of 112 / 32 bytes plus the list
# keeping the pointers). The window is 100,000 calls round-robin over the variants, so a leak of
# 100 bytes in every call adds >= 10 MiB and a 100-byte leak in only one of the 9 variants still
# adds >= 1.1 MiB: both exceed 1 MiB. The tolerance leaves 256 pages for a one-off arena or page
# of allocator metadata; a leak must also show in a second window (a real leak grows linearly, a
# one-off effect does not repeat), so the test does not flake on such effects.
LEAK_TOLERANCE = 1 << 20


def _small_calls():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((4, 8)).astype(np.float32)
    x64 = x.astype(np.float64)
    t = torch.from_numpy(x)
    tb = t.to(torch.bfloat16)
    b = np.linspace(0.5, 1.5, 8).astype(np.float32)
    w = np.arange(8) % 3 != 0
    tw = torch.from_numpy(w)
    out = np.empty_like(x)
    mid = rng.standard_normal((8, 4096)).astype(np.float32)  # 32K elements: goes through the pool

    def errors():
        for bad in (lambda: sm.softmax(x, axis=5), lambda: sm.logsumexp([[1.0], [1.0, 2.0]]),
                    lambda: sm.logsumexp(x, b=np.ones(3)), lambda: sm.softmax(t, out=out)):
            try:
                bad()
            except (TypeError, ValueError):
                pass

    return [
        lambda: sm.softmax(x),
        lambda: sm.log_softmax(t, axis=0, algorithm="two_pass"),
        lambda: sm.softmax(tb, where=tw, safe=True),
        lambda: sm.logsumexp(x, axis=1, b=b, return_sign=True),
        lambda: sm.logsumexp(t, axis=-1, where=tw, keepdims=True),
        lambda: sm.softmax(x64.T, axis=0, out=None),
        lambda: sm.log_softmax(x, out=out),
        lambda: (sm.logsumexp([1.0, 2.0, 3.0]), sm.softmax(2.5), sm.logsumexp(np.empty((3, 0)), axis=1)),
        errors,
    ], [lambda: sm.softmax(mid)]


def leak_growth(calls, n_calls=CALLS_PER_WINDOW, warmup=10_000):
    """Resident-set growth over n_calls calls, round-robin over `calls`, after a warm-up."""
    k = len(calls)
    for i in range(warmup):
        calls[i % k]()
    gc.collect()
    before = rss_bytes()
    for i in range(n_calls):
        calls[i % k]()
    gc.collect()
    return rss_bytes() - before


def assert_no_leak(calls, n_calls=CALLS_PER_WINDOW, tolerance=LEAK_TOLERANCE):
    first = leak_growth(calls, n_calls)
    if first <= tolerance:
        return
    second = leak_growth(calls, n_calls, warmup=0)
    assert second <= tolerance, (f"resident memory grew by {first / 2**20:.2f} MiB and then {second / 2**20:.2f} MiB "
                                 f"over two windows of {n_calls} calls (tolerance {tolerance / 2**20:.2f} MiB): "
                                 f"~{second / n_calls:.0f} bytes per call")


def test_small_calls_do_not_leak():
    small, _ = _small_calls()
    assert_no_leak(small)


def test_pool_calls_do_not_leak():
    """Calls that go through the thread pool (parallel_for, per-thread scratch): 5,000 of them
    against a quarter of the tolerance, so a leak of 100 bytes per call (>= 560 KB with malloc's
    chunk overhead, e.g. a lost task object per call) exceeds it."""
    _, pool = _small_calls()
    with num_threads(2):
        assert_no_leak(pool, n_calls=5_000, tolerance=LEAK_TOLERANCE // 4)


def test_leak_detector_catches_100_bytes_per_call():
    """The detector itself: a deliberate 100-byte malloc per call must be flagged."""
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    kept = []
    try:
        with pytest.raises(AssertionError, match="bytes per call"):
            assert_no_leak([lambda: kept.append(libc.malloc(100))])
    finally:
        for p in kept:
            libc.free(p)
