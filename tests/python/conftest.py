"""Shared configuration and independent references for the stablemath test suite.

References never call stablemath:

* float64 references built on SciPy (``scipy.special.logsumexp`` / ``softmax`` / ``log_softmax``)
  plus the documented edge-case rules (masks, NaN/+inf rows, ``safe``), written out here;
* mpmath references at high precision for cases float64 itself cannot resolve.

Tolerances are expressed in units in the last place (ulp) of the output dtype, or as multiples of
the dtype's machine epsilon, so that each test states the bound it checks.
"""
from __future__ import annotations

import contextlib
import os
import warnings
import zlib

import mpmath
import numpy as np
import pytest
import scipy.special
from hypothesis import HealthCheck, settings

import stablemath

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

# --------------------------------------------------------------------------------------------
# Hypothesis profiles: "ci" (default) keeps the whole suite well under two minutes on 2 cores.
# --------------------------------------------------------------------------------------------
settings.register_profile(
    "ci",
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=False,
    print_blob=True,
)
settings.register_profile(
    "dev",
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# --------------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------------
NUMPY_FLOAT_DTYPES = (np.float16, np.float32, np.float64)

# Machine epsilon (spacing of 1.0) per dtype name, including torch's bfloat16.
EPS = {
    "float16": float(np.finfo(np.float16).eps),
    "bfloat16": 2.0**-7,
    "float32": float(np.finfo(np.float32).eps),
    "float64": float(np.finfo(np.float64).eps),
}
# Smallest positive normal number per dtype name.
TINY = {
    "float16": float(np.finfo(np.float16).tiny),
    "bfloat16": float(np.finfo(np.float32).tiny),
    "float32": float(np.finfo(np.float32).tiny),
    "float64": float(np.finfo(np.float64).tiny),
}


def dtype_name(x) -> str:
    """'float16' | 'bfloat16' | 'float32' | 'float64' for a NumPy/torch array, dtype or scalar."""
    if isinstance(x, str):
        return x
    if isinstance(x, (type, np.dtype)):
        return np.dtype(x).name
    dt = getattr(x, "dtype", x)
    if torch is not None and isinstance(dt, torch.dtype):
        return str(dt).replace("torch.", "")
    return np.dtype(dt).name


def to_f64(x) -> np.ndarray:
    """Any result (NumPy array/scalar, torch tensor incl. bfloat16, Python float) -> float64 array."""
    if torch is not None and isinstance(x, torch.Tensor):
        return x.detach().to(torch.float64).numpy()
    return np.asarray(x, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# ulp helpers
# --------------------------------------------------------------------------------------------
_INT = {"float16": np.int16, "float32": np.int32, "float64": np.int64}


def _ordered_int(x: np.ndarray, name: str) -> np.ndarray:
    """Maps floats of dtype `name` to int64 so that adjacent representable values differ by 1
    (and +0 == -0)."""
    if name == "bfloat16":
        # bfloat16 values are the upper 16 bits of a float32 (x must already be bfloat16-exact).
        i = (x.astype(np.float32).view(np.int32) >> 16).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFF), i)
    with np.errstate(over="ignore"):
        i = np.ascontiguousarray(x.astype(getattr(np, name))).view(_INT[name]).astype(np.int64)
    bits = np.dtype(getattr(np, name)).itemsize * 8
    mag_mask = (1 << (bits - 1)) - 1
    return np.where(i < 0, -(i & mag_mask), i)


def ulp_distance(actual, expected, dtype=None) -> np.ndarray:
    """Number of representable values of `dtype` between actual and expected (elementwise).

    Both are first rounded to `dtype` (default: actual's). Equal values (incl. equal infinities
    and +0/-0) give 0; NaN against NaN gives 0; NaN against a number gives inf.
    """
    name = dtype_name(dtype if dtype is not None else actual)
    a = to_f64(actual)
    e = to_f64(expected)
    a, e = np.broadcast_arrays(a, e)
    a_nan, e_nan = np.isnan(a), np.isnan(e)
    a = np.where(a_nan, 0.0, a)
    e = np.where(e_nan, 0.0, e)
    if name == "bfloat16":
        a, e = round_to(a, name), round_to(e, name)
    ia = _ordered_int(np.asarray(a), name)
    ie = _ordered_int(np.asarray(e), name)
    same_sign = (ia >= 0) == (ie >= 0)
    # Same sign: exact int64 difference; opposite signs: sum of magnitudes (float is fine there).
    d = np.where(same_sign, np.abs(np.where(same_sign, ia - ie, 0)).astype(float),
                 np.abs(ia.astype(float)) + np.abs(ie.astype(float)))
    return np.where(a_nan == e_nan, np.where(a_nan, 0.0, d), np.inf)


def max_ulp(actual, expected, dtype=None) -> float:
    d = ulp_distance(actual, expected, dtype)
    return float(np.max(d)) if d.size else 0.0


def assert_ulp(actual, expected, max_ulps, dtype=None, msg=""):
    d = ulp_distance(actual, expected, dtype)
    if d.size and float(np.max(d)) > max_ulps:
        i = np.unravel_index(int(np.argmax(d)), d.shape)
        a = to_f64(actual)
        e = np.broadcast_to(to_f64(expected), a.shape)
        raise AssertionError(
            f"{msg} max ulp distance {float(np.max(d))} > {max_ulps} at {i}: "
            f"got {a[i]!r}, expected {e[i]!r} ({int(np.sum(d > max_ulps))} of {d.size} elements off)"
        )


def assert_same_nonfinite(actual, expected, msg=""):
    """NaN, +inf and -inf appear in exactly the same places."""
    a, e = to_f64(actual), to_f64(expected)
    assert a.shape == e.shape, f"{msg} shape {a.shape} != {e.shape}"
    for name, f in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        bad = f(a) != f(e)
        assert not bad.any(), (
            f"{msg} {name} pattern differs at {np.argwhere(bad)[:5].tolist()}: "
            f"got {a[bad][:5]}, expected {e[bad][:5]}"
        )


def round_to(x64: np.ndarray, name: str) -> np.ndarray:
    """Correct rounding of a float64 array to dtype `name`, returned as float64."""
    if name == "bfloat16":
        return torch.from_numpy(np.ascontiguousarray(x64, dtype=np.float64)).to(torch.bfloat16).to(torch.float64).numpy()
    with np.errstate(over="ignore"):
        return np.asarray(x64, dtype=np.float64).astype(getattr(np, name)).astype(np.float64)


# --------------------------------------------------------------------------------------------
# float64 references (SciPy + documented semantics)
# --------------------------------------------------------------------------------------------
def ref_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """SciPy's logsumexp in float64; `where` folded into the weights (masked = zero weight).

    Sign convention of stablemath: 0 for an empty / all -inf / zero-sum reduction (SciPy gives -1
    for an empty one).
    """
    a = np.asarray(a, dtype=np.float64)
    if where is not None:
        w = np.broadcast_to(np.asarray(where, dtype=bool), a.shape)
        b = np.ones(a.shape) if b is None else np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
        b = np.where(w, b, 0.0)
    if b is not None:
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), a.shape)
        a = np.where(b == 0, -np.inf, a)  # zero weight drops the element, even inf / NaN
    if a.size == 0:
        # SciPy raises for some empty inputs (e.g. shape (0, 0) with axis=None): an empty
        # reduction is -inf (sign 0) with the reduced shape.
        res = np.sum(np.zeros(a.shape), axis=axis, keepdims=keepdims) - np.inf
        return (res, np.zeros_like(res)) if return_sign else res
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        res, sgn = scipy.special.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    res = np.asarray(res, dtype=np.float64)
    sgn = np.asarray(sgn, dtype=np.float64)
    sgn = np.where(np.isneginf(res), 0.0, sgn)
    if not return_sign:
        return np.where(sgn < 0, np.nan, res)
    return res, sgn


def ref_softmax(x, axis=-1, where=None, safe=False, log=False):
    """float64 softmax / log_softmax with stablemath's documented edge semantics.

    * finite rows: ``scipy.special.softmax`` on float64 / ``(x - max) - scipy.special.logsumexp(x - max)``;
    * masked entries (where False) do not take part and give 0 / -inf;
    * a row with NaN or +inf among its unmasked entries gives NaN everywhere (masked entries
      still 0 / -inf);
    * a row whose unmasked entries are all -inf (or that is fully masked) gives NaN, or with
      ``safe`` 0 / -inf.
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        return ref_softmax(x.reshape(1), 0, None if where is None else np.asarray(where).reshape(-1)[:1],
                           safe, log).reshape(())
    axis = axis % x.ndim
    w = np.ones(x.shape, bool) if where is None else np.broadcast_to(np.asarray(where, bool), x.shape)
    xm = np.where(w, x, -np.inf)
    masked_val = -np.inf if log else 0.0
    bad_nan = np.any(w & (np.isnan(x) | np.isposinf(x)), axis=axis, keepdims=True)
    no_mass = np.all(np.isneginf(xm), axis=axis, keepdims=True) & ~bad_nan
    ok = ~(bad_nan | no_mass)
    # Finite part through SciPy on rows that are fine (others replaced by zeros to avoid warnings).
    xs = np.where(ok, np.where(np.isnan(xm), 0.0, xm), 0.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if log:
            # (x - max) - L with L = log(c) + log1p(rest / c) from SciPy's logsumexp of the shifted
            # row: scipy.special.log_softmax computes log(sum) directly and loses a dominant
            # element's log-probability (it returns 0 for log_softmax([0, -100])).
            d = xs - np.max(xs, axis=axis, keepdims=True)
            y = d - scipy.special.logsumexp(d, axis=axis, keepdims=True)
        else:
            y = scipy.special.softmax(xs, axis=axis)
    fill_nomass = masked_val if safe else np.nan
    y = np.where(bad_nan, np.nan, y)
    y = np.where(no_mass, fill_nomass, y)
    y = np.where(w, y, masked_val)
    return y


def ref_log_softmax(x, axis=-1, where=None, safe=False):
    return ref_softmax(x, axis=axis, where=where, safe=safe, log=True)


# --------------------------------------------------------------------------------------------
# mpmath references (high precision)
# --------------------------------------------------------------------------------------------
MP_DPS = 60


def _mp_log_sum_rel(vals, ws):
    """(m, log|S| - m, sign) for S = sum w e^v, with log|S| - m = log|c| + log1p(rest / c) so that
    a sum dominated by its largest terms keeps its digits at any working precision."""
    m = max(v for v in vals)
    c = mpmath.fsum(w for v, w in zip(vals, ws) if v == m)
    rest = mpmath.fsum(w * mpmath.exp(v - m) for v, w in zip(vals, ws) if v != m)
    if c == 0:
        total = rest
        if total == 0:
            return m, None, 0
        return m, mpmath.log(abs(total)), (1 if total > 0 else -1)
    q = rest / c
    if 1 + q == 0:
        return m, None, 0
    sign = (1 if c > 0 else -1) * (1 if 1 + q > 0 else -1)
    return m, mpmath.log(abs(c)) + mpmath.log1p(q) if q > -1 else mpmath.log(abs(c)) + mpmath.log(-1 - q), sign


def mp_logsumexp(values, weights=None, dps=MP_DPS, return_sign=False):
    """log|sum(b * exp(a))| in `dps` digits, rounded to float64 (finite inputs; zero weights
    dropped). With return_sign also the sign of the sum (0 for a zero sum, log then -inf)."""
    vals = [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]
    ws = [1.0] * len(vals) if weights is None else [float(v) for v in np.broadcast_to(
        np.asarray(weights, dtype=np.float64), np.shape(values)).ravel()]
    with mpmath.workdps(dps):
        pairs = [(mpmath.mpf(v), mpmath.mpf(w)) for v, w in zip(vals, ws) if w != 0]
        if not pairs:
            return (-np.inf, 0.0) if return_sign else -np.inf
        m, rel, sgn = _mp_log_sum_rel([p[0] for p in pairs], [p[1] for p in pairs])
        res = -np.inf if rel is None else float(m + rel)
    if return_sign:
        return res, float(sgn)
    return res if sgn >= 0 else np.nan


def mp_log_softmax(values, dps=MP_DPS) -> np.ndarray:
    """(x - max) - L with L = log(c) + log1p(rest / c), exactly (to `dps` digits)."""
    vals = [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]
    with mpmath.workdps(dps):
        mv = [mpmath.mpf(v) for v in vals]
        m, rel, _ = _mp_log_sum_rel(mv, [mpmath.mpf(1)] * len(mv))
        return np.array([float((v - m) - rel) for v in mv])


def mp_softmax(values, dps=MP_DPS) -> np.ndarray:
    vals = [float(v) for v in np.asarray(values, dtype=np.float64).ravel()]
    with mpmath.workdps(dps):
        mv = [mpmath.mpf(v) for v in vals]
        m = max(mv)
        e = [mpmath.exp(v - m) for v in mv]
        s = mpmath.fsum(e)
        return np.array([float(t / s) for t in e])


# --------------------------------------------------------------------------------------------
# Tolerances
# --------------------------------------------------------------------------------------------
def lse_tolerance(a64: np.ndarray, res64: np.ndarray, name: str, axis=None, keepdims=False, b=None):
    """Absolute error bound for logsumexp computed in dtype `name` (accumulation in float32 for
    16-bit types), against a float64 reference `res64` of the same (already rounded) input.

    error <= 4 ulp(|result|) of the output dtype                          (final rounding, m + log)
           + 8 * eps_acc * (1 + log2(n)) * cond                           (sum of n exponentials)
    with cond = sum|b e^a| / |sum b e^a| (1 without weights) and eps_acc the accumulation epsilon.
    """
    acc = "float64" if name == "float64" else "float32"
    eps_out, eps_acc = EPS[name], EPS[acc]
    a64 = np.asarray(a64, dtype=np.float64)
    n = max(1, a64.size // max(1, np.asarray(res64).size))
    if b is not None:
        bb = np.broadcast_to(np.asarray(b, np.float64), a64.shape)
        absres = ref_logsumexp(a64, axis=axis, b=np.abs(bb), keepdims=keepdims)
        with np.errstate(invalid="ignore", over="ignore"):
            cond = np.exp(np.minimum(absres - np.asarray(res64), 700.0))
        cond = np.where(np.isfinite(cond), cond, 1.0)
    else:
        cond = 1.0
    return 4 * eps_out * np.abs(res64) + 8 * eps_acc * (1 + np.log2(n)) * cond + 4 * eps_out * 1e-300


def softmax_bounds(x64: np.ndarray, axis: int, name: str):
    """Error bounds for softmax / log_softmax of a finite float64 array `x64` (the values actually
    passed, already rounded to the tested dtype), computed in dtype `name` (accumulation in
    float32 for 16-bit types). From first-order error analysis, with d = x - max, L = log sum e^d,
    p = e^d / e^L and E = sum_j p_j |d_j| (per row), eps the accumulation epsilon:

    softmax:      |y - p| <= eps (8 + 2|d| + 2E + sqrt(n)/2) p + tiny
    log_softmax:  |y - (d - L)| <= eps (2|d| + (8 + sqrt(n)/2) L + 2E) + tiny

    (rounding of x - max: eps|d|/2 relative in e^d; exp polynomial and division: a few ulp;
    summation of n terms: sqrt(n)/2 ulp covers blocked/vectorised sums; tiny = smallest normal:
    results in the subnormal range may be flushed to zero.) A log-probability of a dominant element
    (d = 0, L ~ 0) thus must be accurate relative to L itself.
    """
    acc = "float64" if name == "float64" else "float32"
    eps = EPS[acc]
    tiny = TINY[name]
    n = x64.shape[axis] if x64.ndim else 1
    d = x64 - np.max(x64, axis=axis, keepdims=True)
    L = scipy.special.logsumexp(d, axis=axis, keepdims=True)
    p = np.exp(d - L)
    E = np.sum(p * np.abs(d), axis=axis, keepdims=True)
    soft = eps * (8 + 2 * np.abs(d) + 2 * E + np.sqrt(n) / 2) * p + tiny
    logb = eps * (2 * np.abs(d) + (8 + np.sqrt(n) / 2) * L + 2 * E) + tiny
    return soft, logb


def assert_lse_close(got, a, ref, name, axis=None, keepdims=False, b=None, msg=""):
    """Checks a logsumexp result `got` for input `a` against the float64 reference `ref` under
    lse_tolerance (same non-finite pattern; finite entries within the bound)."""
    got64 = to_f64(got)
    ref64 = np.asarray(ref, dtype=np.float64)
    assert got64.shape == ref64.shape, f"{msg} shape {got64.shape} != {ref64.shape}"
    assert_same_nonfinite(got64, ref64, msg)
    fin = np.isfinite(ref64)
    tol = np.broadcast_to(lse_tolerance(to_f64(a), ref64, name, axis=axis, keepdims=keepdims, b=b), ref64.shape)
    with np.errstate(invalid="ignore"):
        err = np.abs(got64 - ref64)
    bad = fin & (err > tol)
    assert not bad.any(), (
        f"{msg} error {err[bad][:4]} > tol {tol[bad][:4]}; got {got64[bad][:4]}, ref {ref64[bad][:4]}"
    )


def assert_softmax_close(y, x, axis, func, msg=""):
    """Checks a softmax (func="softmax") or log_softmax result for input x against the float64
    reference: softmax_bounds for float32/float64, 1 ulp for float16/bfloat16."""
    name = str(y.dtype).replace("torch.", "") if isinstance(y, torch.Tensor) else np.dtype(y.dtype).name
    x64 = to_f64(x)
    y64 = to_f64(y)
    assert y64.shape == x64.shape, f"{msg} shape {y64.shape} != {x64.shape}"
    if y64.size == 0:
        return
    log = func == "log_softmax"
    ref = ref_softmax(x64, axis=axis, log=log)
    if name in ("float16", "bfloat16"):
        assert_ulp(y, ref, 1, dtype=name, msg=msg)
        return
    soft_b, log_b = softmax_bounds(x64, axis, name)
    bound = log_b if log else soft_b
    # a log-probability beyond the dtype's range (e.g. -6e38 in float32) correctly rounds to -inf
    ref = np.where(np.isfinite(ref), np.where(np.isinf(round_to(ref, name)), round_to(ref, name), ref), ref)
    assert_same_nonfinite(y64, ref, msg)
    fin = np.isfinite(ref)
    with np.errstate(invalid="ignore"):
        err = np.abs(y64 - ref)
    bad = fin & (err > bound)
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        raise AssertionError(
            f"{msg} {func} error {err[i]:.3g} > bound {bound[i]:.3g} at {i} "
            f"({int(bad.sum())} of {bad.size}): got {y64[i]!r}, ref {ref[i]!r}"
        )


# --------------------------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def num_threads(n: int):
    old = stablemath.get_num_threads()
    stablemath.set_num_threads(n)
    try:
        yield
    finally:
        stablemath.set_num_threads(old)


@pytest.fixture
def rng(request):
    """A NumPy Generator seeded from the test's node id (reproducible, distinct per test)."""
    return np.random.default_rng(zlib.crc32(request.node.nodeid.encode()))
