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
import time

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
    # the element-wise functions: (v, x) grids big enough to be split into pool tasks
    vv = np.concatenate([rng.uniform(0, 40, 3000), [0.0, 0.5, 1e4, -3.0]])[:, None]
    xx = 10.0 ** rng.uniform(-5, 4, 7)[None, :]
    for name in ("log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio",
                 "bessel_k_ratio"):
        fn = getattr(sm, name)
        calls.append((f"{name} grid f64", lambda f=fn: f(vv, xx)))
        calls.append((f"{name} grid f32 torch", lambda f=fn: f(torch.from_numpy(vv.astype(np.float32)), xx[0, 3:4].astype(np.float32))))
    # row functions, losses, top-k, vMF and KDE (moderate sizes: still several pool tasks each)
    target = rng.integers(0, 37, 2000)
    unit = rng.standard_normal((3000, 16))
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    kx, ky = rng.standard_normal((3000, 3)), rng.standard_normal((500, 3))
    dd = np.array([[2.0], [3.0], [16.0], [2048.0]])
    rbar = np.linspace(0.0, 0.999, 50)[None, :]
    calls += [
        ("sparsemax many f32", lambda: sm.sparsemax(many32)),
        ("sparsemax long f64", lambda: sm.sparsemax(long64)),
        ("sparsemax_backward many", lambda: sm.sparsemax_backward(sm.sparsemax(many64), many64)),
        ("sparsemax_loss many", lambda: sm.sparsemax_loss(many64, target)),
        ("stablemax long f32", lambda: sm.stablemax(long32)),
        ("log_stablemax many torch", lambda: sm.log_stablemax(many_t)),
        ("stablemax_cross_entropy many", lambda: sm.stablemax_cross_entropy(many32, target, reduction="none")),
        ("softmax_cross_entropy many", lambda: sm.softmax_cross_entropy(many64, target, reduction="none",
                                                                         label_smoothing=0.1)),
        ("softmax_collapse many", lambda: sm.softmax_collapse(many32, per_row=True).gap),
        ("softmax_topk long f32", lambda: tuple(sm.softmax_topk(long32, 16))),
        ("logsumexp_topk many", lambda: tuple(sm.logsumexp_topk(many64, 5))),
        ("vmf_log_normalizer grid", lambda: sm.vmf_log_normalizer(dd, xx)),
        ("vmf_mean_resultant grid", lambda: sm.vmf_mean_resultant(dd, xx)),
        ("vmf_kappa_mle grid", lambda: sm.vmf_kappa_mle(dd, rbar)),
        ("vmf_logpdf unit", lambda: sm.vmf_logpdf(unit, unit[0], 5.0)),
        ("vmf_fit unit", lambda: tuple(sm.vmf_fit(unit))),
        ("vmf_sample seeded", lambda: sm.vmf_sample(unit[0], 5.0, 2000, seed=3)),
        ("kde_logpdf gaussian", lambda: sm.kde_logpdf(ky, kx, 0.5)),
        ("GaussianKDE scott", lambda: sm.GaussianKDE("scott").fit(kx).score_samples(ky)),
        ("VonMisesFisherKDE kappa", lambda: sm.VonMisesFisherKDE(10.0).fit(unit).score_samples(unit[:500])),
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


def test_every_public_array_function_is_in_the_workload():
    names = {n.split(" ")[0] for n, _ in WORKLOAD}
    # SoftmaxCollapse is the result type of softmax_collapse, not a computation.
    public = {n for n in sm.__all__ if n not in ("get_num_threads", "set_num_threads", "cpu_isa", "SoftmaxCollapse")}
    assert public <= names, f"functions missing from the thread workload: {sorted(public - names)}"


def _gil_calls():
    """One call per public array function taking ~0.1 s or more on one thread."""
    rng = np.random.default_rng(5)
    big = rng.standard_normal((64, 100_000))
    vx = np.abs(rng.standard_normal(300_000)) * 20
    out = {"logsumexp": lambda: sm.logsumexp(big, axis=1), "softmax": lambda: sm.softmax(big),
           "log_softmax": lambda: sm.log_softmax(big)}
    for name in ("log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio",
                 "bessel_k_ratio"):
        out[name] = (lambda f=getattr(sm, name): f(2.5, vx))
    return out


def _releases_gil(call, attempts=3):
    """(True, []) if another thread kept running Python while `call` ran on a worker thread; else
    (False, [(longest stall, call duration)] per attempt). With the GIL held for the kernel, the
    other thread stalls for the whole call."""
    gaps = []
    for _attempt in range(attempts):  # a loaded machine may deschedule the spinner once; not three times
        span, ticks, done = [], [], threading.Event()

        def worker():
            span.append(time.perf_counter())
            call()
            span.append(time.perf_counter())
            done.set()
        th = threading.Thread(target=worker)
        th.start()
        while not done.is_set():
            ticks.append(time.perf_counter())
        th.join()
        t0, t1 = span
        inside = [t0] + [t for t in ticks if t0 < t < t1] + [t1]
        gap = max(b - a for a, b in zip(inside, inside[1:]))
        gaps.append((round(gap, 4), round(t1 - t0, 4)))
        if gap < 0.5 * (t1 - t0) and t1 - t0 > 0.02:
            return True, []
    return False, gaps


@pytest.mark.parametrize("name", sorted(_gil_calls()))
def test_kernel_releases_the_gil(name):
    with num_threads(1):
        ok, gaps = _releases_gil(_gil_calls()[name])
    assert ok, f"{name}: the other thread stalled, (stall, call duration) = {gaps} s: GIL held during the kernel?"


def test_gil_detector_catches_a_call_holding_the_gil():
    hold = ctypes.PyDLL(None).usleep  # a PyDLL function keeps the GIL while it runs
    hold.argtypes = [ctypes.c_uint]
    ok, _ = _releases_gil(lambda: hold(200_000))
    assert not ok
    assert _releases_gil(lambda: time.sleep(0.2))[0]  # time.sleep releases it


def test_eight_python_threads_at_once(serial_reference):
    with num_threads(2):
        _run_threads(8, rounds=2, ref=serial_reference)


def test_threads_while_thread_count_changes(serial_reference):
    _run_threads(6, rounds=2, ref=serial_reference, toggler=True)


# --------------------------------------------------------------------------------------------
# Leaks
# --------------------------------------------------------------------------------------------
# Three meters, read before and after a window of calls:
#   heap    bytes in use by malloc (glibc mallinfo2: uordblks + hblkhd, every arena): exact, and
#           blind to the allocator keeping freed pages (which makes RSS alone unreliable: a leak
#           that reuses pages freed by an earlier test does not raise RSS at all);
#   blocks  Python objects and buffers alive (sys.getallocatedblocks): a lost reference;
#   rss     resident pages: anything else (an mmap that is never unmapped).
# A leak grows linearly with the calls, a cache fills once: a meter is flagged only when it grows
# past its tolerance in two consecutive windows of CALLS_PER_WINDOW calls. Tolerances: the
# baseline (the same meters over a window of a call that allocates and frees, measured in this
# process) times 4, and at least HEAP_FLOOR_PER_CALL bytes / BLOCKS_FLOOR_PER_CALL blocks per call
# (2 bytes per call: a 100-byte leak is 50 times that) and HEAP_FLOOR / BLOCKS_FLOOR, RSS_FLOOR for
# RSS. Measured here (2026-11-26, 100,000 small calls): heap +0 bytes, blocks +62..128, RSS +0..16
# KiB; a 100-byte malloc per call: heap +11 MB. The self-tests below
# check that a deliberate 100-byte malloc per call, one Python object kept per call, and an
# mmap'ed page kept per call are all flagged, and that a call that frees what it allocates is not.
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
CALLS_PER_WINDOW = 100_000
HEAP_FLOOR_PER_CALL = 2.0  # bytes
BLOCKS_FLOOR_PER_CALL = 0.01  # one object per 100 calls
HEAP_FLOOR, BLOCKS_FLOOR = 64 << 10, 500  # for short windows: caches that fill over a few windows
RSS_FLOOR = 8 << 20


def rss_bytes() -> int:
    """Resident set size now (Linux /proc/self/statm); elsewhere the peak from resource."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * _PAGE
    except OSError:  # pragma: no cover - non-Linux
        import resource
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class _MallInfo2(ctypes.Structure):
    _fields_ = [(n, ctypes.c_size_t) for n in ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
                                               "fsmblks", "uordblks", "fordblks", "keepcost")]


def _load_mallinfo2():
    try:
        libc = ctypes.CDLL(None)
        fn = libc.mallinfo2
    except (OSError, AttributeError):  # not glibc >= 2.33: RSS and blocks only
        return None
    fn.restype = _MallInfo2
    fn.argtypes = []
    return fn


_MALLINFO2 = _load_mallinfo2()


def heap_bytes() -> int:
    if _MALLINFO2 is None:
        return 0
    mi = _MALLINFO2()
    return int(mi.uordblks) + int(mi.hblkhd)


def meters() -> dict:
    gc.collect()
    return {"heap": heap_bytes(), "blocks": sys.getallocatedblocks(), "rss": rss_bytes()}


def window(calls, n_calls, warmup=0) -> dict:
    """Growth of every meter over n_calls calls, round-robin over `calls`, after `warmup` calls."""
    k = len(calls)
    for i in range(warmup):
        calls[i % k]()
    before = meters()
    for i in range(n_calls):
        calls[i % k]()
    after = meters()
    return {m: after[m] - before[m] for m in before}


_BASELINE = {}


def baseline(n_calls) -> dict:
    """The meters' noise in this process for a window of n_calls calls that allocate and free
    (NumPy arrays and a malloc'ed buffer): what a leak-free call shows here and now."""
    if n_calls not in _BASELINE:
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        call = (lambda: (libc.free(libc.malloc(100)), np.ones(16).sum()))
        window([call], n_calls // 10)
        _BASELINE[n_calls] = max((window([call], n_calls) for _ in range(2)), key=lambda g: g["heap"])
    return _BASELINE[n_calls]


def tolerances(n_calls) -> dict:
    base = baseline(n_calls)
    return {"heap": max(4 * max(base["heap"], 0), HEAP_FLOOR_PER_CALL * n_calls, HEAP_FLOOR),
            "blocks": max(4 * max(base["blocks"], 0), BLOCKS_FLOOR_PER_CALL * n_calls, BLOCKS_FLOOR),
            "rss": max(4 * max(base["rss"], 0), RSS_FLOOR)}


def leaks(calls, n_calls=CALLS_PER_WINDOW, warmup=10_000) -> dict:
    """{meter: (first growth, second growth, tolerance)} for the meters that grew past their
    tolerance in two consecutive windows; empty when nothing leaks."""
    tol = tolerances(n_calls)
    first = window(calls, n_calls, warmup)
    suspects = [m for m in first if first[m] > tol[m]]
    if not suspects:
        return {}
    second = window(calls, n_calls)
    return {m: (first[m], second[m], tol[m]) for m in suspects if second[m] > tol[m]}


def assert_no_leak(calls, n_calls=CALLS_PER_WINDOW, warmup=10_000):
    found = leaks(calls, n_calls, warmup)
    assert not found, "leak: " + "; ".join(
        f"{m} grew by {a:,} then {b:,} over two windows of {n_calls:,} calls (tolerance {t:,.0f}): "
        f"~{b / n_calls:.1f} {'blocks' if m == 'blocks' else 'bytes'} per call" for m, (a, b, t) in found.items())


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
    v = np.abs(x64) * 3
    mid = rng.standard_normal((8, 4096)).astype(np.float32)  # 32K elements: goes through the pool
    mid_b = np.abs(mid[:, :512]) * 10  # 4096 Bessel evaluations: split into pool tasks too

    def errors():
        for bad in (lambda: sm.softmax(x, axis=5), lambda: sm.logsumexp([[1.0], [1.0, 2.0]]),
                    lambda: sm.logsumexp(x, b=np.ones(3)), lambda: sm.softmax(t, out=out),
                    lambda: sm.log_bessel_i(np.ones(3), np.ones(4)), lambda: sm.bessel_k_ratio("a", 1.0)):
            try:
                bad()
            except (TypeError, ValueError):
                pass

    return [
        lambda: sm.softmax(x),
        lambda: sm.log_softmax(t, axis=0, algorithm="two_pass"),
        lambda: sm.softmax(tb, where=tw, safe=True),
        lambda: sm.logsumexp(x, axis=1, b=b, return_sign=True),
        lambda: sm.logsumexp(x64, axis=1, b=np.full(8, 1e-320)),  # the rescaled-weights path
        lambda: sm.logsumexp(t, axis=-1, where=tw, keepdims=True),
        lambda: sm.softmax(x64.T, axis=0, out=None),
        lambda: sm.log_softmax(x, out=out),
        lambda: (sm.logsumexp([1.0, 2.0, 3.0]), sm.softmax(2.5), sm.logsumexp(np.empty((3, 0)), axis=1)),
        lambda: (sm.log_bessel_i(v, x64), sm.log_bessel_k(2.5, t), sm.bessel_i_ratio(v[0], 3.0)),
        lambda: (sm.log_bessel_ie(1e4, x), sm.log_bessel_ke(v, 1e300), sm.bessel_k_ratio(0.5, x64)),
        errors,
    ], [lambda: sm.softmax(mid), lambda: sm.log_bessel_k(1.5, mid_b)]


def test_small_calls_do_not_leak():
    small, _ = _small_calls()
    assert_no_leak(small)


def test_pool_calls_do_not_leak():
    """Calls that go through the thread pool (parallel_for, per-thread scratch): 2,000 of them (a
    100-byte leak per call: >= 200 KB, over HEAP_FLOOR)."""
    _, pool = _small_calls()
    with num_threads(2):
        assert_no_leak(pool, n_calls=2_000, warmup=200)


def _libc():
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    return libc


N_SELF = CALLS_PER_WINDOW * 2 + 10_000


def test_leak_detector_catches_100_bytes_per_call():
    """A deliberate malloc(100) per call, the pointers kept in a preallocated C array (so that no
    Python object is created per call): flagged by the heap meter, whatever pages the allocator
    has free."""
    libc = _libc()
    kept = (ctypes.c_void_p * N_SELF)()
    i = iter(range(N_SELF))

    def leaky():
        kept[next(i)] = libc.malloc(100)
    try:
        found = leaks([leaky])
        if _MALLINFO2 is not None:
            assert "heap" in found, f"a 100-byte malloc per call was not flagged (tolerances {tolerances(CALLS_PER_WINDOW)})"
        else:  # pragma: no cover - non-glibc: RSS only
            assert found, "a 100-byte malloc per call was not flagged"
    finally:
        for p in kept:
            if p:
                libc.free(p)


def test_leak_detector_catches_a_python_object_per_call():
    kept = [None] * N_SELF
    i = iter(range(N_SELF))

    def leaky():
        kept[next(i)] = np.float64(1.5) * 2  # a new NumPy scalar object, kept
    found = leaks([leaky])
    assert "blocks" in found, f"one Python object per call was not flagged (tolerances {tolerances(CALLS_PER_WINDOW)})"


def test_leak_detector_catches_mmap_per_call():
    """A page mapped and touched per call, never unmapped (invisible to malloc's statistics): RSS."""
    import mmap
    n = 5_000  # 5,000 pages = 20 MiB per window > RSS_FLOOR
    kept = []

    def leaky():
        m = mmap.mmap(-1, _PAGE)
        m[0] = 1
        kept.append(m)
    try:
        found = leaks([leaky], n_calls=n, warmup=0)
        assert "rss" in found, f"a mapped page per call was not flagged: {window([leaky], 10)}"
    finally:
        for m in kept:
            m.close()


def test_leak_detector_passes_a_call_that_frees():
    """No false alarm: a call that mallocs, creates arrays and frees them all."""
    libc = _libc()

    def clean():
        p = libc.malloc(100)
        a = np.ones(37) * 2
        libc.free(p)
        return a.sum()
    assert_no_leak([clean])
