"""Hostile-input corpus for stablemath's public functions: the corpus as data, plus a runner.

Used by ``tests/python/test_hostile.py`` (every case, grouped by kind of input), ``bench/edge_table.py``
(the README's edge-case table, rendered from the documented-value entries) and
``tests/fuzz/fuzz_api.py`` (the references, tolerances and invariant checks). Needs NumPy and
stablemath; PyTorch is optional (its entries are left out without it). Never calls SciPy.

Two tables:

``FUNCTIONS``
    one ``Func`` per public array function: its name, how to call it with an input and keyword
    arguments, the name its data argument has in error messages, the keyword arguments it accepts,
    its family (``"reduce"``: logsumexp-like, ``"normalize"``: softmax-like) and a float64 reference
    of the documented semantics with an error bound. A new function plugs in with one entry; the
    corpus entries whose keyword arguments it accepts then run against it, e.g. for a softmax-like
    ``sparsemax(x, axis=-1, *, where=None)``::

        Func("sparsemax", lambda x, **kw: sm.sparsemax(x, **kw), "x", "normalize",
             frozenset({"axis", "where"}), ref_sparsemax, tol_sparsemax)

    (test_hostile.test_every_public_function_is_in_the_corpus fails until every name in
    ``stablemath.__all__`` has an entry here or in CONFIG_CASES). The argument roles decide which
    cases run: a data array with ``axis`` (families "reduce" / "normalize"; ``where``, ``b``,
    ``out``, ... as listed in ``params``), element-wise arguments (``elementwise(name, op)``:
    family "elementwise", f(v, x) broadcasting, the "ew-*" groups run with hostile values in v
    and in x). An integer argument such as ``k`` or ``target`` goes into ``params``; its
    out-of-range cases (0, negative, > n, float, bool) are added as cases with that keyword, which
    then run against every function that accepts it.

``CONFIG_CASES``
    rows ``(id, call, expected)`` for functions outside those two shapes: no array input
    (``set_num_threads``), or extra required arguments (``k``, ``target``, ``grad``, the KDE and vMF
    distribution functions, the estimator classes): ``expected`` is ``("value", predicate)`` (the
    predicate compares with a float64 / mpmath reference) or ``Raises``; the id starts with the
    function's name and "(".

``CASES``
    one ``Case`` per hostile input: a builder of a fresh input (NumPy, torch or plain Python), the
    keyword arguments (values may be ``Lazy(fn)``, evaluated against the input, e.g. ``out=x``) and
    what must happen: ``VALUE`` (a result equal to the float64 reference within the function's
    error bound, of the documented array type, dtype and shape) or ``Raises(types, arg)`` (that
    exception, its message naming the argument). ``expect`` may be a dict keyed by function name
    or family when they differ (e.g. ``axis=None``: a full reduction for logsumexp, TypeError for
    softmax). A case applies to a function that accepts all of its keyword arguments.

For every case the runner also checks: the inputs (x, b, where) are bit-for-bit unchanged, their
shape/strides/flags untouched; no output shares memory with any input (except ``out=x``); no
exception type other than the expected one; no hang (``faulthandler`` aborts the process with a
traceback after ``timeout`` seconds). ``python hostile_corpus.py`` runs everything and prints a
summary (test_hostile.py runs it once in a subprocess to catch crashes).
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import faulthandler
import math
import pickle
from pathlib import Path
import re
import sys
import warnings
from typing import Any, Callable

import numpy as np

import stablemath as sm

try:
    import torch
except ImportError:  # pragma: no cover - torch is a test dependency
    torch = None

try:  # NumPy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError  # type: ignore[attr-defined, no-redef]

try:  # NumPy >= 2.0
    from numpy.lib.array_utils import byte_bounds as _byte_bounds
except ImportError:  # pragma: no cover
    _byte_bounds = np.byte_bounds  # type: ignore[attr-defined]

# ============================================================================================
# dtype facts
# ============================================================================================
NUMPY_DTYPES = ("float16", "float32", "float64")
TORCH_DTYPES = ("float16", "bfloat16", "float32", "float64")


@dataclasses.dataclass(frozen=True)
class FloatInfo:
    eps: float  # spacing of 1.0
    tiny: float  # smallest positive normal
    sub: float  # smallest positive subnormal
    max: float


FINFO = {
    "float16": FloatInfo(2.0**-10, 2.0**-14, 2.0**-24, 65504.0),
    "bfloat16": FloatInfo(2.0**-7, 2.0**-126, 2.0**-133, float.fromhex("0x1.fep127")),
    "float32": FloatInfo(2.0**-23, 2.0**-126, 2.0**-149, float(np.finfo(np.float32).max)),
    "float64": FloatInfo(2.0**-52, 2.0**-1022, 5e-324, float(np.finfo(np.float64).max)),
}


def acc_name(name: str) -> str:
    """Accumulation dtype: float16/bfloat16 are computed in float32 (README, Inputs)."""
    return "float64" if name == "float64" else "float32"


def dtype_name(dt) -> str:
    if torch is not None and isinstance(dt, torch.dtype):
        return str(dt).replace("torch.", "")
    return np.dtype(dt).name


def round_to(x64, name: str) -> np.ndarray:
    """Correct rounding of float64 values to dtype `name`, returned as float64."""
    x64 = np.asarray(x64, dtype=np.float64)
    if name == "bfloat16":
        return torch.from_numpy(np.array(x64, dtype=np.float64)).to(torch.bfloat16).to(torch.float64).numpy()
    with np.errstate(over="ignore"):
        return x64.astype(name).astype(np.float64)


# ============================================================================================
# Conversions used by the references and checks (never by the code under test)
# ============================================================================================
def is_tensor(v) -> bool:
    return torch is not None and isinstance(v, torch.Tensor)


def to_f64(v) -> np.ndarray:
    """Any valid input or result -> float64 NumPy array with the same logical values."""
    if is_tensor(v):
        t = v.detach()
        if t.layout != torch.strided:
            t = t.to_dense()
        return t.resolve_neg().resolve_conj().to(torch.float64).numpy()
    if isinstance(v, DLPackOnly):
        return to_f64(v.inner)
    return np.asarray(v, dtype=np.float64)


def to_bool(v) -> np.ndarray:
    if is_tensor(v):
        return v.detach().resolve_neg().numpy().astype(bool)
    return np.asarray(v, dtype=bool)


def expected_container(x):
    """('torch', dtype) or ('numpy', np.dtype) of the result for input x (README, Outputs)."""
    if is_tensor(x):
        return "torch", x.dtype
    if isinstance(x, np.ndarray):
        return "numpy", x.dtype.newbyteorder("=")
    if isinstance(x, np.generic):
        return "numpy", x.dtype
    if isinstance(x, DLPackOnly):
        return "numpy", np.from_dlpack(x.inner).dtype
    arr = np.asarray(x)
    return "numpy", np.dtype(np.float64) if arr.dtype.kind in "iu" else arr.dtype


class DLPackOnly:
    """A minimal DLPack producer reporting any device (``(2, 0)`` is kDLCUDA): a CUDA array from a
    library stablemath cannot see into, without needing a GPU."""

    def __init__(self, inner, device=(1, 0)):
        self.inner = inner
        self.device = device

    def __dlpack__(self, **kwargs):
        return self.inner.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self.device

    def __repr__(self):
        return f"DLPackOnly(device={self.device})"


# ============================================================================================
# float64 references of the documented semantics (README: Python API, Edge cases)
# ============================================================================================
def _axes_of(axis, nd):
    if axis is None:
        return tuple(range(nd))
    if isinstance(axis, (tuple, list)):
        return tuple(int(a) % nd for a in axis)
    return (int(axis) % max(nd, 1),) if nd else ()


def _lse_rows(v: np.ndarray, w: np.ndarray):
    """(log|sum w e^v|, sign, m, n, cond) of each row of v, w (shape (R, n)) in float64.

    Zero weights drop the element (even inf/NaN); NaN anywhere, 0 * inf, or +inf terms of both
    signs give NaN; +inf terms of one sign give +inf with that sign; an empty / all -inf / exactly
    cancelling sum gives -inf with sign 0. Finite sums are m + log(c) + log1p(rest / c) with m the
    largest exponent and c the weight at it, the weights pre-scaled by a power of two when they
    approach the ends of the float64 range (so the reference itself cannot overflow).
    cond = sum|w e^v| / |sum w e^v|.
    """
    inf = math.inf
    with np.errstate(all="ignore"):
        keep = w != 0
        n = np.sum(keep, axis=-1).astype(np.float64)
        nan_row = np.any(keep & (np.isnan(v) | np.isnan(w) | (np.isneginf(v) & np.isinf(w))), axis=-1)
        inf_term = keep & (np.isposinf(v) | np.isinf(w))
        pos_inf = np.any(inf_term & (w > 0), axis=-1)
        neg_inf = np.any(inf_term & (w < 0), axis=-1)
        fin = keep & ~inf_term & (v > -inf) & ~np.isnan(v)
        m = np.max(np.where(fin, v, -inf), axis=-1, initial=-inf)
        wmax = np.max(np.where(fin, np.abs(w), 0.0), axis=-1, initial=0.0)
        e = np.where((wmax > 2.0**500) | ((wmax < 2.0**-500) & (wmax > 0)), np.frexp(wmax)[1], 0)
        ws = np.ldexp(np.where(fin, w, 0.0), -e[..., None])
        at_max = fin & (v == m[..., None])
        terms = np.where(fin & ~at_max, ws * np.exp(v - m[..., None]), 0.0)
        c = np.sum(np.where(at_max, ws, 0.0), axis=-1)
        rest = np.sum(terms, axis=-1)
        total = c + rest
        absum = np.sum(np.abs(np.where(at_max, ws, 0.0)) + np.abs(terms), axis=-1)
        # log(y 2^e) = log(g) + (k + e) ln 2 with y = g 2^k, g in [0.5, 1): exact exponents, so the
        # rescaling adds no rounding of its own (e ln 2 ~ 690 would carry an error of 1e-13)
        def log_scaled(y):
            g, k = np.frexp(y)
            return np.log(g) + (k + e) * math.log(2.0)
        use1p = (c > 0) & (rest > -c)
        d = np.where(use1p, log_scaled(c) + np.log1p(rest / c), log_scaled(np.abs(total)))
        sgn = np.where(use1p, 1.0, np.sign(total))
        res = m + d
        cond = absum / np.abs(total)
    zero = ~(total != 0) | (m == -inf)
    res = np.where(zero, -inf, res)
    sgn = np.where(zero, 0.0, sgn)
    cond = np.where(zero, 1.0, cond)
    m = np.where(zero, -inf, m)
    inf_row = (pos_inf | neg_inf) & ~nan_row
    both = pos_inf & neg_inf
    res = np.where(inf_row, inf, res)
    sgn = np.where(inf_row, np.where(pos_inf, 1.0, -1.0), sgn)
    m = np.where(inf_row, inf, m)
    bad = nan_row | both
    res, sgn, m = (np.where(bad, math.nan, a) for a in (res, sgn, m))
    return res, sgn, m, n, np.where(inf_row | bad, 1.0, cond)


def _cached(fn):
    """Remembers the last few results: the reference and its error bound need the same details."""
    cache = {}

    def key_of(v):
        if isinstance(v, np.ndarray):
            return ("nd", v.shape, v.dtype.str, v.tobytes())
        if isinstance(v, (list, tuple)):
            return ("seq", tuple(key_of(u) for u in v))
        return ("py", repr(v))

    def wrapper(*args, **kwargs):
        key = key_of(args) + key_of(tuple(sorted(kwargs.items())))
        if key not in cache:
            if len(cache) > 8:
                cache.clear()
            cache[key] = fn(*args, **kwargs)
        return cache[key]
    return wrapper


@_cached
def _lse_detail(x, axis=None, b=None, where=None, keepdims=False):
    x = np.asarray(x, dtype=np.float64)
    nd = x.ndim
    axes = _axes_of(axis, nd)
    w = np.ones(x.shape) if b is None else np.broadcast_to(np.asarray(b, np.float64), x.shape)
    if where is not None:
        w = np.where(np.broadcast_to(np.asarray(where, bool), x.shape), w, 0.0)
    keep_axes = [a for a in range(nd) if a not in axes]
    perm = keep_axes + list(axes)
    outer = tuple(x.shape[a] for a in keep_axes)
    n = int(np.prod([x.shape[a] for a in axes], dtype=np.int64)) if axes else 1
    # contiguous rows: NumPy sums a contiguous last axis pairwise (error ~ log2(n) eps), a strided
    # one term by term (~ n eps: 1000 ulp for 5e5 terms, more than the library's own error)
    xt = np.ascontiguousarray(np.transpose(x, perm).reshape(outer + (n,)))
    wt = np.ascontiguousarray(np.transpose(w, perm).reshape(outer + (n,)))
    stats = _lse_rows(xt, wt)
    if keepdims:
        shape = tuple(1 if a in axes else x.shape[a] for a in range(nd))
        stats = tuple(a.reshape(shape) for a in stats)
    return stats


def ref_logsumexp(x, axis=None, b=None, keepdims=False, return_sign=False, where=None, **_):
    res, sgn, _m, _n, _c = _lse_detail(x, axis, b, where, keepdims)
    if return_sign:
        return res, sgn
    return np.where(sgn < 0, np.nan, res)


def tol_logsumexp(x, name, axis=None, b=None, keepdims=False, return_sign=False, where=None, **_):
    """Absolute error bound of logsumexp in dtype `name`, from the documented algorithm
    (res = m + d, d = log(c) + log1p(rest / c), rest a sum of n terms in the accumulation dtype):

    |err| <= 4 eps_out |res|                 final rounding (and m + d)
           + 2 eps_acc |m|                    m itself is exact; its addition rounds
           + (8 + 2n) eps_acc |d|             d: log, log1p and the n-term sum, relative to d
           + (8 + 2n) eps_acc cond            only with weights: cancellation in sum(b e^a)
           + slack                            flush of subnormal results (1 subnormal for 16-bit)

    Relative to d, so a dominant element keeps its digits: logsumexp([0, -40]) must be 4.2e-18,
    not 0. The sign is exact.
    """
    res, sgn, m, n, cond = _lse_detail(x, axis, b, where, keepdims)
    fo, fa = FINFO[name], FINFO[acc_name(name)]
    slack = fo.sub if name in ("float16", "bfloat16") else fo.tiny
    with np.errstate(invalid="ignore", over="ignore"):
        d = np.abs(res - m)
        tol = 4 * fo.eps * np.abs(res) + 2 * fa.eps * np.abs(m) + (8 + 2 * n) * fa.eps * d + slack
        if b is not None:
            tol = tol + (8 + 2 * n) * fa.eps * np.where(np.isfinite(cond), cond, 0.0)
    return (tol, np.zeros_like(tol)) if return_sign else tol


def _softmax_rows(v, keep, safe, log):
    """Rows (last axis) of softmax / log_softmax in float64 with the documented edge rules:
    masked entries 0 / -inf; NaN or +inf among the kept entries: the kept entries NaN; no finite
    mass (all kept entries -inf, or none kept): NaN, or with safe 0 / -inf. Also p = e^(d - L),
    L = log sum e^d and E = sum p|d| per row, and |d|, for the error bound."""
    inf = math.inf
    masked = -inf if log else 0.0
    with np.errstate(all="ignore"):
        bad = np.any(keep & (np.isnan(v) | np.isposinf(v)), axis=-1, keepdims=True)
        vk = np.where(keep, v, -inf)
        m = np.max(vk, axis=-1, keepdims=True, initial=-inf)
        nomass = ~bad & (m == -inf)
        ok = ~bad & ~nomass
        mm = np.where(ok, m, 0.0)
        d = np.where(keep & ok, vk - mm, -inf)  # may overflow to -inf for +-max: what the dtype gives
        e = np.exp(d)
        c = np.sum(keep & ok & (vk == mm), axis=-1, keepdims=True)
        rest = np.sum(np.where(vk < mm, e, 0.0), axis=-1, keepdims=True)
        L = np.where(ok, np.log(c) + np.log1p(rest / c), 0.0)
        y = (d - L) if log else e / np.sum(e, axis=-1, keepdims=True)
        p = np.where(ok, np.exp(d - L), 0.0)
        ad = np.where(np.isfinite(d), np.abs(d), 0.0)
        E = np.sum(np.where(p > 0, p * ad, 0.0), axis=-1, keepdims=True)
    y = np.where(bad, math.nan, y)
    y = np.where(nomass, masked if safe else math.nan, y)
    y = np.where(keep, y, masked)
    return y, p, np.broadcast_to(L, v.shape), np.broadcast_to(E, v.shape), ad


@_cached
def _softmax_detail(x, axis=-1, where=None, safe=False, log=False):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        w = None if where is None else np.asarray(where, bool).reshape(1)
        outs = _softmax_detail(x.reshape(1), 0, w, safe, log)
        return tuple(o.reshape(()) for o in outs[:-1]) + (1,)
    ax = int(axis) % x.ndim
    w = np.ones(x.shape, bool) if where is None else np.broadcast_to(np.asarray(where, bool), x.shape)
    # contiguous rows, so that NumPy's sums are pairwise (see _lse_detail)
    xt, wt = np.ascontiguousarray(np.moveaxis(x, ax, -1)), np.ascontiguousarray(np.moveaxis(w, ax, -1))
    y, p, Lr, Er, dd = _softmax_rows(xt, wt, safe, log)
    n = xt.shape[-1]
    return tuple(np.moveaxis(a, -1, ax) for a in (y, p, Lr, Er, dd)) + (n,)


def ref_softmax(x, axis=-1, where=None, safe=False, **_):
    return _softmax_detail(x, axis, where, safe, log=False)[0]


def ref_log_softmax(x, axis=-1, where=None, safe=False, **_):
    return _softmax_detail(x, axis, where, safe, log=True)[0]


def _tol_softmax(x, name, axis, where, safe, log):
    """Bounds of the test suite's error analysis (conftest.softmax_bounds), per element, with
    d = x - max, L = log sum e^d, p = e^(d - L), E = sum p|d|, eps the accumulation epsilon:

    softmax:      eps (8 + 2|d| + 2E + sqrt(n)/2) p + eps_out p + slack
    log_softmax:  eps (2|d| + (8 + sqrt(n)/2) L + 2E) + eps_out |y| + slack
    """
    y, p, L, E, d, n = _softmax_detail(x, axis, where, safe, log)
    fo, fa = FINFO[name], FINFO[acc_name(name)]
    slack = fo.sub if name in ("float16", "bfloat16") else fo.tiny
    root = math.sqrt(max(n, 1)) / 2
    with np.errstate(invalid="ignore", over="ignore"):
        if log:
            return fa.eps * (2 * d + (8 + root) * L + 2 * E) + fo.eps * np.abs(np.nan_to_num(y)) + slack
        # (p = 0 where d overflows: that term is 0, not inf * 0)
        return np.where(p > 0, fa.eps * (8 + 2 * d + 2 * E + root) * p, 0.0) + fo.eps * p + slack


def tol_softmax(x, name, axis=-1, where=None, safe=False, **_):
    return _tol_softmax(x, name, axis, where, safe, log=False)


def tol_log_softmax(x, name, axis=-1, where=None, safe=False, **_):
    return _tol_softmax(x, name, axis, where, safe, log=True)


# ============================================================================================
# FUNCTIONS: one entry per public array function
# ============================================================================================
@dataclasses.dataclass(frozen=True)
class Func:
    name: str
    call: Callable[..., Any]  # call(x, **kwargs)
    data_arg: str  # how error messages name the data argument
    family: str  # "reduce" | "normalize"
    params: frozenset  # keyword arguments accepted
    reference: Callable[..., Any]  # reference(x64, **kwargs64) -> array or tuple of arrays
    tolerance: Callable[..., Any]  # tolerance(x64, dtype_name, **kwargs64) -> same structure
    # case groups it takes: None = the array-function groups (every group not starting "ew-")
    case_groups: frozenset | None = None
    # container(x, kwargs) -> ("numpy" | "torch", dtype) of the result; None: expected_container(x)
    container: Callable | None = None
    # the inputs are cast to the result dtype before computing (element-wise functions: a Python
    # number next to a float32 array is float32, as NumPy's weak scalars): the reference takes the
    # cast values
    cast_inputs: bool = False
    # how the function's error messages name the cases' arguments ("v"/"x" of the element-wise
    # cases: "d"/"kappa" for the vMF functions); None: as the cases name them
    arg_names: dict | None = None


FUNCTIONS = [
    Func("logsumexp", lambda x, **kw: sm.logsumexp(x, **kw), "a", "reduce",
         frozenset({"axis", "b", "keepdims", "return_sign", "where"}), ref_logsumexp, tol_logsumexp),
    Func("softmax", lambda x, **kw: sm.softmax(x, **kw), "x", "normalize",
         frozenset({"axis", "algorithm", "where", "safe", "out"}), ref_softmax, tol_softmax),
    Func("log_softmax", lambda x, **kw: sm.log_softmax(x, **kw), "x", "normalize",
         frozenset({"axis", "algorithm", "where", "safe", "out"}), ref_log_softmax, tol_log_softmax),
]
FUNC_BY_NAME = {f.name: f for f in FUNCTIONS}


# --- sparsemax, stablemax, log_stablemax (python/stablemath/_sparsemax.py, _stablemax.py) -----
def _sparsemax_rows(v):
    """Rows (last axis) of sparsemax in float64 by the sort formula, with the documented edge
    rules: NaN in the row -> NaN row; +inf entries share the mass equally (the others 0); no entry
    above -inf -> NaN. Computed on z = x - max (shift invariant; so +-max cannot overflow).
    Also the bound scale per row: max |z_j| over the support, plus 1."""
    out = np.zeros(v.shape)
    scale = np.ones(v.shape[:-1] + (1,))
    for idx in np.ndindex(v.shape[:-1]):
        r = v[idx]
        if r.size == 0:
            continue
        if np.any(np.isnan(r)):
            out[idx] = math.nan
            continue
        pinf = np.isposinf(r)
        if pinf.any():
            out[idx] = np.where(pinf, 1.0 / pinf.sum(), 0.0)
            continue
        m = np.max(r)
        if m == -math.inf:
            out[idx] = math.nan
            continue
        with np.errstate(over="ignore"):
            z = r - m  # -inf for -inf entries (and for -max next to +max: their p is 0 either way)
        zs = np.sort(z)[::-1]
        cs = np.cumsum(np.where(np.isfinite(zs), zs, 0.0))
        k = np.arange(1, r.size + 1)
        supp = np.isfinite(zs) & (1 + k * zs > cs)
        kk = int(k[supp][-1])
        tau = (cs[kk - 1] - 1) / kk
        out[idx] = np.maximum(z - tau, 0.0)
        scale[idx] = np.max(np.abs(zs[:kk])) + 1.0
    return out, np.broadcast_to(scale, v.shape)


@_cached
def _sparsemax_detail(x, axis=-1):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 0:
        y, s, _n = _sparsemax_detail(x.reshape(1), 0)
        return y.reshape(()), s.reshape(()), 1
    ax = int(axis) % x.ndim
    y, s = _sparsemax_rows(np.ascontiguousarray(np.moveaxis(x, ax, -1)))
    return np.moveaxis(y, -1, ax), np.moveaxis(s, -1, ax), x.shape[ax]


def ref_sparsemax(x, axis=-1, **_):
    return _sparsemax_detail(x, axis)[0]


def tol_sparsemax(x, name, axis=-1, **_):
    """tau = (sum_S z - 1)/|S| sums |S| <= n terms: error (4 + 2n) eps_acc (max_S |z| + 1);
    plus the output rounding and the flush of subnormals."""
    y, s, n = _sparsemax_detail(x, axis)
    fo, fa = FINFO[name], FINFO[acc_name(name)]
    slack = fo.sub if name in ("float16", "bfloat16") else fo.tiny
    return (4 + 2 * n) * fa.eps * s + fo.eps * np.abs(np.nan_to_num(y)) + slack


def _log_s(x):
    """log s(x) = sign(x) log1p(|x|): stablemax(x) is softmax(log s(x)), log_stablemax its log_softmax
    (s(-inf) = 0, s(+inf) = inf -> NaN row, NaN -> NaN row: the documented rules)."""
    x = np.asarray(x, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(x < 0, -np.log1p(-x), np.log1p(np.abs(x)))


def _stablemax_ref(log):
    def ref(x, axis=-1, **_):
        return _softmax_detail(_log_s(x), axis, None, False, log)[0]
    return ref


def _stablemax_tol(log):
    """softmax's bound on v = log s(x), plus the effect of the error of log s itself (8 eps_acc |v_j|
    per entry): y_i = v_i - L moves by dv_i - sum_j p_j dv_j, at most
    8 eps ((1 - p_i)|v_i| + sum_{j != i} p_j |v_j|) (relative for stablemax). So a dominant entry
    keeps its digits: log_stablemax([1e20, 0])[0] = -1e-20, not 0 (README, log_stablemax)."""
    def tol(x, name, axis=-1, **_):
        v = _log_s(x)
        y, p, L, E, d, n = _softmax_detail(v, axis, None, False, log)
        ylog = y if log else _softmax_detail(v, axis, None, False, True)[0]
        fa = FINFO[acc_name(name)]
        with np.errstate(invalid="ignore"):
            av = np.abs(np.where(np.isfinite(v), v, 0.0))
            # (1 - p_i)|v_i| + sum_{j != i} p_j |v_j| <= q_i (|v_i| + max_j |v_j|), q_i = 1 - p_i taken
            # as -expm1(log p_i): written as av + S - 2 p av it cancels to 0 for a dominant entry
            # (p_i = 1 in double), whose reference then carries more error than the bound allowed.
            q = -np.expm1(np.where(np.isfinite(ylog), ylog, -np.inf))
            if v.ndim and v.size:
                vmax = np.max(av, axis=int(axis) % v.ndim, keepdims=True)
            else:
                vmax = av
            extra = 8 * fa.eps * q * (av + vmax)
        return _tol_softmax(v, name, axis, None, False, log) + (extra if log else extra * p)
    return tol


FUNCTIONS += [
    Func("sparsemax", lambda x, **kw: sm.sparsemax(x, **kw), "x", "normalize",
         frozenset({"axis", "algorithm", "out"}), ref_sparsemax, tol_sparsemax),
    Func("stablemax", lambda x, **kw: sm.stablemax(x, **kw), "x", "normalize",
         frozenset({"axis"}), _stablemax_ref(False), _stablemax_tol(False)),
    Func("log_stablemax", lambda x, **kw: sm.log_stablemax(x, **kw), "x", "normalize",
         frozenset({"axis"}), _stablemax_ref(True), _stablemax_tol(True)),
]
FUNC_BY_NAME = {f.name: f for f in FUNCTIONS}


# ============================================================================================
# Expectations and cases
# ============================================================================================
VALUE = "value"
DATA = "<data>"  # placeholder: the function's data argument name


@dataclasses.dataclass(frozen=True)
class Raises:
    types: tuple
    arg: str  # argument the message must name (DATA: the function's data argument)

    def __repr__(self):
        return f"Raises({'/'.join(t.__name__ for t in self.types)}, {self.arg})"


TYPE_ERR = Raises((TypeError,), DATA)


class Lazy:
    """A keyword-argument value computed from the built input: Lazy(lambda x: x) is out=x."""

    def __init__(self, fn):
        self.fn = fn


@dataclasses.dataclass(frozen=True)
class Case:
    id: str
    make: Callable[[], Any]  # fresh input
    kwargs: dict = dataclasses.field(default_factory=dict)
    expect: Any = VALUE  # VALUE | Raises | {function name or family or "*": VALUE | Raises}
    group: str = ""
    inplace: bool = False  # out=x: x is the output, so it is expected to change
    # extra check(x, kwargs, result) -> list of problems (e.g. memory around `out` untouched)
    extra: Callable | None = None
    # rendering in the README edge table: (row label, input shown, variant label or "")
    table: tuple | None = None

    def expectation(self, func: Func):
        e = self.expect
        if isinstance(e, dict):
            for key in (func.name, func.family, "*"):
                if key in e:
                    return e[key]
            return None
        return e

    def applies_to(self, func: Func) -> bool:
        groups_ok = (not self.group.startswith("ew-")) if func.case_groups is None else self.group in func.case_groups
        return groups_ok and set(self.kwargs) <= func.params and self.expectation(func) is not None

    def build(self):
        with warnings.catch_warnings():  # torch's "beta"/"prototype" notices for sparse CSR / nested inputs
            warnings.simplefilter("ignore")
            x = self.make()
            kw = {k: (v.fn(x) if isinstance(v, Lazy) else v) for k, v in self.kwargs.items()}
        return x, kw


CASES: list[Case] = []


def add(*a, **k):
    c = Case(*a, **k)
    CASES.append(c)
    return c


def _arr(values, lib, name):
    """A fresh array of `values` (nested lists, may hold inf/nan) in library `lib`, dtype `name`."""
    a64 = np.asarray(values, dtype=np.float64)
    if lib == "torch":
        return torch.from_numpy(a64.copy()).to(getattr(torch, name))
    with np.errstate(over="ignore"):
        return a64.astype(name)


def _libs_dtypes():
    out = [("numpy", n) for n in NUMPY_DTYPES]
    if torch is not None:
        out += [("torch", n) for n in TORCH_DTYPES]
    return out


INF, NAN = math.inf, math.nan
NORMAL_ROW = [0.5, -1.25, 2.0, 0.0]


def _patterns(name):
    """Rows of special values for dtype `name` (each paired with a normal row in the corpus)."""
    f = FINFO[name]
    big = {"float16": 6.0e4, "bfloat16": 1e30, "float32": 1e30, "float64": 1e300}[name]
    return {
        "nan": [1.0, NAN, 2.0, -1.0],
        "+inf": [1.0, INF, 2.0, -1.0],
        "-inf-some": [-INF, 0.5, -INF, 1.0],
        "all-inf-neg": [-INF, -INF, -INF, -INF],
        "+inf-and-inf-neg": [INF, -INF, 0.0, 1.0],
        "nan-and-+inf": [NAN, INF, -INF, 0.0],
        "two-+inf": [INF, INF, 1.0, 0.0],
        "signed-zeros": [-0.0, 0.0, -0.0, 0.0],
        "subnormals": [f.sub, -f.sub, 3 * f.sub, 0.0],
        "tiny": [f.tiny, -f.tiny, 0.5 * f.tiny, 0.0],
        "max": [f.max, f.max, 0.0, -1.0],
        "max-and-min": [f.max, -f.max, 0.0, 1.0],
        "min": [-f.max, -f.max, -f.max, -f.max],
        "huge-magnitudes": [big, -big, 0.0, -big],
        "dominant": [0.0, -40.0 if name == "float64" else -12.0, -50.0, -60.0],
        "ties": [3.0, 3.0, 3.0, 3.0],
        "two-pass-threshold": ([9000.0, 8999.0, 8990.0, -9000.0] if name == "float32"
                               else [3e5, 3e5 - 1, 3e5 - 5, 0.0] if name == "float64"
                               else [60000.0, 59968.0, 0.0, 1.0] if name == "float16"
                               else [9000.0, 8960.0, 0.0, 1.0]),
    }


# --- 1. special values x (numpy, torch) x dtypes x call variants ------------------------------
_VALUE_VARIANTS = [
    ("default-axis", {}, VALUE),
    ("axis=-1", {"axis": -1}, VALUE),
    ("axis=0", {"axis": 0}, VALUE),
    ("axis=-1,return_sign", {"axis": -1, "return_sign": True}, VALUE),
    ("axis=None,keepdims", {"axis": None, "keepdims": True}, VALUE),
    ("safe", {"safe": True}, VALUE),
    ("three_pass", {"algorithm": "three_pass"}, {"sparsemax": None, "*": VALUE}),
    ("online", {"algorithm": "online"}, {"sparsemax": None, "*": VALUE}),
    ("two_pass", {"algorithm": "two_pass"}, {"sparsemax": None, "*": VALUE}),
    ("sort", {"algorithm": "sort"}, {"sparsemax": VALUE}),
    ("bisect", {"algorithm": "bisect"}, {"sparsemax": VALUE}),
]

for _lib, _dt in _libs_dtypes():
    for _pname, _row in _patterns(_dt).items():
        for _vname, _kw, _exp in _VALUE_VARIANTS:
            add(f"values/{_pname}/{_lib}-{_dt}/{_vname}",
                (lambda r=_row, lib=_lib, dt=_dt: _arr([r, NORMAL_ROW], lib, dt)), _kw, _exp, group="values")


# --- 2. shapes: empty, 0-d, scalars, size-1 axes ----------------------------------------------
_AXIS_ERR = Raises((AxisError,), "axis")
_TUPLE_AXIS = Raises((TypeError,), "axis")  # softmax normalises along one axis: a tuple is not an integer
for _lib, _dt in _libs_dtypes():
    _mk = (lambda shape, lib=_lib, dt=_dt: (lambda: _arr(np.zeros(shape), lib, dt)))
    for _shape, _kw in [
        ((0, 5), {"axis": -1}), ((0, 5), {"axis": 0}), ((5, 0), {"axis": -1}), ((5, 0), {"axis": 0}),
        ((0,), {}), ((2, 0, 3), {"axis": 1}), ((2, 0, 3), {"axis": 2}),
    ]:
        add(f"shapes/empty{_shape}/{_lib}-{_dt}/{_kw}", _mk(_shape), _kw, group="shapes")
    add(f"shapes/empty(0,0)/{_lib}-{_dt}/full", _mk((0, 0)), {}, {"reduce": VALUE}, group="shapes")
    add(f"shapes/empty(0,0)/{_lib}-{_dt}/full-keepdims", _mk((0, 0)), {"axis": None, "keepdims": True},
        group="shapes")
    add(f"shapes/empty(2,0,3)/{_lib}-{_dt}/axes(0,1)", _mk((2, 0, 3)), {"axis": (0, 1)},
        {"reduce": VALUE, "normalize": _TUPLE_AXIS}, group="shapes")
    add(f"shapes/empty(2,0,3)/{_lib}-{_dt}/axes(0,2)-sign", _mk((2, 0, 3)),
        {"axis": (0, 2), "return_sign": True}, group="shapes")
    for _v in (1.5, -0.0, -INF, INF, NAN, FINFO[_dt].max, FINFO[_dt].sub):
        _mk0 = (lambda v=_v, lib=_lib, dt=_dt: _arr(v, lib, dt))
        add(f"shapes/0-d({_v!r})/{_lib}-{_dt}/default", _mk0, {}, group="shapes")
        add(f"shapes/0-d({_v!r})/{_lib}-{_dt}/safe", _mk0, {"safe": True}, group="shapes")
        add(f"shapes/0-d({_v!r})/{_lib}-{_dt}/return_sign", _mk0, {"return_sign": True}, group="shapes")
    _mk0 = (lambda lib=_lib, dt=_dt: _arr(0.25, lib, dt))
    for _ax in (0, -1):
        add(f"shapes/0-d/{_lib}-{_dt}/axis={_ax}", _mk0, {"axis": _ax},
            {"reduce": _AXIS_ERR, "normalize": VALUE}, group="shapes")
    add(f"shapes/0-d/{_lib}-{_dt}/axis=1", _mk0, {"axis": 1}, _AXIS_ERR, group="shapes")
    add(f"shapes/0-d/{_lib}-{_dt}/axis=()", _mk0, {"axis": ()}, {"reduce": VALUE}, group="shapes")
    add(f"shapes/0-d/{_lib}-{_dt}/where=False", _mk0, {"where": False}, group="shapes")
    add(f"shapes/0-d/{_lib}-{_dt}/where=False-safe", _mk0, {"where": False, "safe": True}, group="shapes")
    _mk1 = (lambda shape, lib=_lib, dt=_dt: (lambda: _arr(np.arange(np.prod(shape)).reshape(shape) - 2.5, lib, dt)))
    for _shape, _kw in [((3, 1), {"axis": -1}), ((3, 1), {"axis": 0}), ((1, 5), {"axis": 0}),
                        ((1, 1, 1), {"axis": 1}), ((1,), {}), ((1, 4, 1), {"axis": (0, 2)})]:
        add(f"shapes/size-1{_shape}/{_lib}-{_dt}/{_kw}", _mk1(_shape), _kw,
            {"reduce": VALUE, "normalize": VALUE if "axis" not in _kw or isinstance(_kw["axis"], int) else _TUPLE_AXIS},
            group="shapes")
    add(f"shapes/nothing-reduced/{_lib}-{_dt}/axis=()", _mk1((2, 3)), {"axis": ()}, {"reduce": VALUE},
        group="shapes")
    add(f"shapes/nothing-reduced/{_lib}-{_dt}/axis=(),nan", lambda lib=_lib, dt=_dt: _arr([NAN, -INF, 1.0], lib, dt),
        {"axis": (), "return_sign": True}, {"reduce": VALUE}, group="shapes")

# numpy scalars and Python scalars / lists
for _v in (1.5, -0.0, INF, -INF, NAN):
    for _t in ("float16", "float32", "float64"):
        add(f"python/np.{_t}({_v!r})", lambda v=_v, t=_t: np.dtype(t).type(v), {},
            group="python")
    add(f"python/float({_v!r})", lambda v=_v: float(v), {}, group="python")
for _name, _mk in [
    ("int", lambda: 7), ("negative-int", lambda: -3), ("int-list", lambda: [1, 2, 3]),
    ("nested-int-list", lambda: [[1, 2], [3, 4]]), ("float-list", lambda: [1.0, NAN, 2.0]),
    ("tuple", lambda: (0.5, -INF)), ("list-of-np.float32", lambda: [np.float32(1), np.float32(2)]),
    ("list-of-0d-arrays", lambda: [np.array(1.0), np.array(2.0)]), ("empty-list", lambda: []),
    ("list-of-empty-list", lambda: [[]]), ("big-uint64-list", lambda: [2**64 - 1, 1]),
    ("mixed-int-float", lambda: [1, 2.5, -INF]),
]:
    add(f"python/{_name}", _mk, {}, group="python")
    add(f"python/{_name}/axis=-1", _mk, {"axis": -1},
        {"*": VALUE} if _name not in ("int", "negative-int") else {"normalize": VALUE, "reduce": _AXIS_ERR},
        group="python")


# --- 3. layouts: strides, views, alignment, byte order -----------------------------------------
def _base(dt, shape=(4, 6), seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape) * 3
    a.flat[1] = -INF
    a.flat[7] = 20.0
    return a.astype(dt)


def _misaligned(a, offset=1):
    """A copy of `a` in a buffer at an odd byte offset (np.frombuffer), writable."""
    buf = bytearray(a.nbytes + offset)
    m = np.frombuffer(buf, dtype=a.dtype, offset=offset, count=a.size).reshape(a.shape)
    m[...] = a
    assert m.ctypes.data % 2 == 1
    return m


def _readonly(a):
    a = a.copy()
    a.flags.writeable = False
    return a


_NP_LAYOUTS = {
    "neg-stride-row": lambda a: a[:, ::-1],
    "neg-stride-both": lambda a: a[::-1, ::-2],
    "transposed": lambda a: a.T,
    "fortran": lambda a: np.asfortranarray(a),
    "broadcast-rows(zero-stride)": lambda a: np.broadcast_to(a[1], (5, 6)),
    "broadcast-cols(zero-stride)": lambda a: np.broadcast_to(a[:, :1], (4, 6)),
    "broadcast-scalar": lambda a: np.broadcast_to(a[0, 2], (3, 4)),
    "read-only": _readonly,
    "misaligned": _misaligned,
    "misaligned-strided": lambda a: _misaligned(a)[:, ::2],
    "byteswapped": lambda a: a.astype(a.dtype.newbyteorder("S")),
    "byteswapped-transposed": lambda a: a.astype(a.dtype.newbyteorder("S")).T,
    "sliding-window(overlapping)": lambda a: np.lib.stride_tricks.sliding_window_view(a.ravel(), 5),
    "3-d": lambda a: a.reshape(2, 2, 6),
    "3-d-permuted": lambda a: a.reshape(2, 2, 6).transpose(2, 0, 1),
    "step-and-offset": lambda a: a[1:, 1::2],
}


def _torch_layouts():
    T = {
        "transposed": lambda t: t.t(),
        "step": lambda t: t[::2, 1::2],
        "expand-rows(zero-stride)": lambda t: t[1:2].expand(5, 6),
        "expand-cols(zero-stride)": lambda t: t[:, :1].expand(4, 6),
        "permuted-3d": lambda t: t.reshape(2, 2, 6).permute(2, 0, 1),
        "as_strided(overlapping)": lambda t: torch.as_strided(t.reshape(-1), (5, 4), (3, 1)),
        "channels_last": lambda t: t.reshape(1, 2, 2, 6).contiguous(memory_format=torch.channels_last),
        "requires_grad": lambda t: t.clone().requires_grad_(True),
        "nn.Parameter": lambda t: torch.nn.Parameter(t.clone()),
        "subclass": lambda t: t.as_subclass(_TensorSub),
        "storage-offset": lambda t: t.reshape(-1)[3:].reshape(3, 7),
    }
    return T


if torch is not None:
    class _TensorSub(torch.Tensor):
        pass

_LAYOUT_VARIANTS = [("axis=-1", {"axis": -1}), ("axis=0", {"axis": 0}), ("default", {}),
                    ("where", {"axis": -1, "where": Lazy(
                        lambda x: np.asarray(np.arange(np.prod(np.shape(x))).reshape(np.shape(x)) % 3 != 1))}),
                    ("b", {"axis": 0, "b": Lazy(lambda x: np.linspace(-0.5, 2.0, int(np.prod(np.shape(x)))).reshape(
                        np.shape(x)))})]

for _dt in NUMPY_DTYPES:
    for _lname, _fn in _NP_LAYOUTS.items():
        for _vname, _kw in _LAYOUT_VARIANTS:
            add(f"layout/{_lname}/numpy-{_dt}/{_vname}", (lambda fn=_fn, dt=_dt: fn(_base(dt))), _kw,
                group="layout")
        add(f"layout/{_lname}/numpy-{_dt}/axes(0,-1)", (lambda fn=_fn, dt=_dt: fn(_base(dt))), {"axis": (0, -1)},
            {"reduce": VALUE}, group="layout")
if torch is not None:
    for _dt in TORCH_DTYPES:
        for _lname, _fn in _torch_layouts().items():
            _mkt = (lambda fn=_fn, dt=_dt: fn(torch.from_numpy(_base("float64")).to(getattr(torch, dt))))
            for _vname, _kw in _LAYOUT_VARIANTS:
                add(f"layout/{_lname}/torch-{_dt}/{_vname}", _mkt, _kw, group="layout")
            add(f"layout/{_lname}/torch-{_dt}/axes(0,-1)", _mkt, {"axis": (0, -1)}, {"reduce": VALUE},
                group="layout")
        # imaginary part of a complex tensor: a real view with stride 2 (float32/float64 only)
        if _dt in ("float32", "float64"):
            _cdt = torch.complex64 if _dt == "float32" else torch.complex128
            add(f"layout/complex.imag(stride-2)/torch-{_dt}",
                lambda c=_cdt: torch.complex(*[torch.from_numpy(_base("float64"))] * 2).to(c).imag, {"axis": -1},
                group="layout")
            # conj().imag has torch's negative bit set: a float CPU tensor whose .numpy() refuses
            add(f"layout/neg-bit(conj().imag)/torch-{_dt}",
                lambda c=_cdt: torch.complex(*[torch.from_numpy(_base("float64"))] * 2).to(c).conj().imag,
                {"axis": -1}, group="layout")
    for _lname, _mkl in [
        ("sparse_coo", lambda: torch.from_numpy(_base("float32")).to_sparse()),
        ("sparse_csr", lambda: torch.from_numpy(_base("float32")).to_sparse_csr()),
        ("mkldnn", lambda: torch.from_numpy(_base("float32")).to_mkldnn()),
        ("nested", lambda: torch.nested.nested_tensor([torch.ones(2), torch.ones(3)])),
    ]:
        # README: torch CPU tensors are read through their strided memory; another layout must
        # be a clear TypeError naming the argument (as for any other unsupported input).
        add(f"layout/torch-{_lname}", _mkl, {}, TYPE_ERR, group="layout")

# --- 4. wrong kinds ----------------------------------------------------------------------------
_KINDS = {
    "numpy-bool": lambda: np.array([True, False]),
    "numpy-int8": lambda: np.arange(3, dtype=np.int8),
    "numpy-int64": lambda: np.arange(3),
    "numpy-uint64": lambda: np.arange(3, dtype=np.uint64),
    "numpy-complex64": lambda: np.ones(3, np.complex64),
    "numpy-complex128-0d": lambda: np.complex128(1 + 1j),
    "numpy-object-floats": lambda: np.array([1.0, 2.0], dtype=object),
    "numpy-str": lambda: np.array(["1.0", "2.0"]),
    "numpy-bytes": lambda: np.array([b"a"]),
    "numpy-longdouble": lambda: np.ones(3, np.longdouble),
    "numpy-datetime64": lambda: np.array(["2020-01-01"], dtype="datetime64[D]"),
    "numpy-timedelta64": lambda: np.array([1, 2], dtype="timedelta64[s]"),
    "numpy-structured": lambda: np.zeros(3, dtype=[("a", "f8")]),
    "numpy-void": lambda: np.zeros(3, dtype="V8"),
    "numpy-int-0d": lambda: np.int64(3),
    "numpy-bool-0d": lambda: np.True_,
    "python-bool": lambda: True,
    "python-complex": lambda: 1 + 2j,
    "python-str": lambda: "abc",
    "python-bytes": lambda: b"abc",
    "None": lambda: None,
    "ragged-list": lambda: [[1.0, 2.0], [3.0]],
    "list-with-None": lambda: [1.0, None],
    "list-with-str": lambda: [1.0, "a"],
    "list-of-bools": lambda: [True, False],
    "huge-python-int": lambda: [2**70, 1],
    "dict": lambda: {"a": 1.0},
    "set": lambda: {1.0, 2.0},
    "object()": lambda: object(),
    "function": lambda: (lambda: 1.0),
    "dlpack-int": lambda: DLPackOnly(np.arange(3)),
}
if torch is not None:
    _KINDS.update({
        "torch-bool": lambda: torch.ones(3, dtype=torch.bool),
        "torch-uint8": lambda: torch.ones(3, dtype=torch.uint8),
        "torch-int64": lambda: torch.arange(3),
        "torch-complex64": lambda: torch.ones(3, dtype=torch.complex64),
        "torch-complex-conj": lambda: torch.ones(3, dtype=torch.complex64).conj(),
        "torch-float8": lambda: torch.ones(3).to(torch.float8_e4m3fn),
    })
for _kname, _mk in _KINDS.items():
    add(f"kinds/{_kname}", _mk, {}, TYPE_ERR, group="kinds")
    add(f"kinds/{_kname}/axis=-1", _mk, {"axis": -1}, TYPE_ERR, group="kinds")

# --- 5. devices (no CUDA backend in this build) ------------------------------------------------
_DEV_ERR = Raises((ValueError,), DATA)
add("device/dlpack-cuda(2,0)", lambda: DLPackOnly(np.ones(3), device=(2, 0)), {}, _DEV_ERR, group="device")
add("device/dlpack-cuda-host(3,0)", lambda: DLPackOnly(np.ones(3), device=(3, 0)), {}, _DEV_ERR, group="device")
add("device/dlpack-cpu", lambda: DLPackOnly(np.linspace(-1, 1, 6).reshape(2, 3)), {"axis": -1}, group="device")
if torch is not None:
    for _dt in TORCH_DTYPES:
        add(f"device/meta-tensor/{_dt}", lambda dt=_dt: torch.empty(2, 3, device="meta", dtype=getattr(torch, dt)),
            {}, _DEV_ERR, group="device")
    add("device/meta-0d", lambda: torch.empty((), device="meta"), {}, _DEV_ERR, group="device")
    add("device/meta-empty", lambda: torch.empty(0, device="meta"), {}, _DEV_ERR, group="device")
    _x = (lambda: torch.ones(2, 3))
    add("device/b-meta", _x, {"b": torch.ones(3, device="meta")}, Raises((ValueError,), "b"), group="device")
    add("device/where-meta", _x, {"where": torch.ones(3, device="meta", dtype=torch.bool)},
        Raises((ValueError,), "where"), group="device")
    add("device/out-meta", _x, {"out": torch.empty(2, 3, device="meta")}, Raises((ValueError,), "out"),
        group="device")
    add("device/b-meta-numpy-x", lambda: np.ones((2, 3)), {"b": torch.ones(3, device="meta")},
        Raises((ValueError,), "b"), group="device")
    add("device/where-dlpack-cuda", lambda: np.ones((2, 3)), {"where": DLPackOnly(np.ones(3, bool), (2, 0))},
        Raises((ValueError,), "where"), group="device")

# --- 6. axis -----------------------------------------------------------------------------------
for _lib in ("numpy", "torch") if torch is not None else ("numpy",):
    _x = (lambda lib=_lib: _arr(np.arange(6.0).reshape(2, 3), lib, "float64"))
    for _ax in (2, -3, 5, 2**70, -(2**70)):
        add(f"axis/out-of-range({_ax})/{_lib}", _x, {"axis": _ax}, _AXIS_ERR, group="axis")
    add(f"axis/out-of-range-in-tuple/{_lib}", _x, {"axis": (0, 2)}, {"reduce": _AXIS_ERR}, group="axis")
    for _ax in ((0, 0), (1, -1), [0, 1, 0]):
        add(f"axis/repeated{_ax}/{_lib}", _x, {"axis": _ax},
            {"reduce": Raises((ValueError,), "axis"), "normalize": Raises((TypeError,), "axis")}, group="axis")
    for _name, _ax in [("float", 1.0), ("str", "0"), ("bool", True), ("np.bool_", np.False_),
                       ("np.float64", np.float64(1.0)), ("tuple-of-float", (0, 1.5)), ("complex", 1j),
                       ("float-nan", NAN), ("object", object())]:
        add(f"axis/non-integer({_name})/{_lib}", _x, {"axis": _ax}, Raises((TypeError,), "axis"), group="axis")
    add(f"axis/None/{_lib}", _x, {"axis": None},
        {"reduce": VALUE, "normalize": Raises((TypeError,), "axis")}, group="axis")
    for _name, _ax in [("np.int64", np.int64(1)), ("np.int8-negative", np.int8(-1)), ("0-d-int-array", np.array(0)),
                       ("list", [1]), ("empty-tuple", ()), ("all-negative", (-1, -2))]:
        _exp = VALUE if _name not in ("list", "empty-tuple", "all-negative") else {
            "reduce": VALUE, "normalize": Raises((TypeError,), "axis")}
        add(f"axis/{_name}/{_lib}", _x, {"axis": _ax}, _exp, group="axis")
    if _lib == "torch":
        add("axis/torch-int-tensor", _x, {"axis": torch.tensor(1)}, group="axis")

# --- 7. weights b (logsumexp) --------------------------------------------------------------------
_B_VAL = [
    ("zero-drops-inf-nan", [[1.0, INF, NAN, 2.0]], [1.0, 0.0, 0.0, 2.0], {}),
    ("negative-sum", [[0.0, 1.0]], [1.0, -1.0], {}),
    ("negative-sum-sign", [[0.0, 1.0]], [1.0, -1.0], {"return_sign": True}),
    ("exact-cancel", [[0.0, 0.0]], [1.0, -1.0], {"return_sign": True}),
    ("inf-weight", [[1.0, 2.0]], [INF, 1.0], {"return_sign": True}),
    ("-inf-weight", [[1.0, 2.0]], [-INF, 1.0], {"return_sign": True}),
    ("nan-weight", [[1.0, 2.0]], [NAN, 1.0], {}),
    ("inf-weight-on-inf-neg", [[-INF, 2.0]], [INF, 1.0], {}),
    ("+inf-x-negative-weight", [[INF, 0.0]], [-1.0, 1.0], {"return_sign": True}),
    ("+inf-x-both-signs", [[INF, INF]], [1.0, -1.0], {"return_sign": True}),
    ("all-zero-weights", [[1.0, 2.0]], [0.0, 0.0], {"return_sign": True}),
    ("subnormal-weight", [[0.0, 0.0]], [5e-324, 1.0], {}),
    ("dominant-weighted", [[0.0, -40.0]], [1.0, 1.0], {}),
    ("broadcast-row", [[0.0, 1.0, 2.0], [3.0, -INF, 1.0]], [0.5, 2.0, 1.0], {"axis": -1}),
    ("broadcast-col", [[0.0, 1.0, 2.0], [3.0, -INF, 1.0]], [[0.5], [2.0]], {"axis": 0}),
    ("scalar", [[0.0, 1.0, 2.0]], 2.0, {}),
    ("scalar-zero", [[0.0, 1.0, 2.0]], 0.0, {"axis": -1, "return_sign": True}),
    ("int-weights", [[0.0, 1.0, 2.0]], np.array([1, 2, 3]), {}),
    ("float16-weights", [[0.0, 1.0, 2.0]], np.array([1, 0.5, 3], np.float16), {}),
    ("list-weights", [[0.0, 1.0, 2.0]], [1, 0.5, 3], {}),
    ("negative-stride-weights", [[0.0, 1.0, 2.0]], lambda: np.array([1.0, 0.5, 3.0])[::-1], {}),
    ("byteswapped-weights", [[0.0, 1.0, 2.0]], lambda: np.array([1.0, 0.5, 3.0], ">f8"), {}),
    ("misaligned-weights", [[0.0, 1.0, 2.0]], lambda: _misaligned(np.array([1.0, 0.5, 3.0])), {}),
    ("with-where", [[0.0, 1.0, NAN]], [1.0, -0.5, 1.0], {"where": [True, True, False], "return_sign": True}),
]
for _lib, _dt in _libs_dtypes():
    for _bname, _xv, _bv, _kw in _B_VAL:
        add(f"weights/{_bname}/{_lib}-{_dt}", (lambda xv=_xv, lib=_lib, dt=_dt: _arr(xv, lib, dt)),
            {"b": Lazy(lambda x, bv=_bv: bv() if callable(bv) else copy.deepcopy(bv)), **_kw}, group="weights")
    # the documented "no overflow" extends to weights: b at the dtype's max must not overflow the sum
    _bm = (lambda dt=_dt, lib=_lib: _arr([FINFO[dt].max, FINFO[dt].max], lib, dt))
    add(f"weights/max-weights/{_lib}-{_dt}", (lambda lib=_lib, dt=_dt: _arr([0.0, 0.0], lib, dt)),
        {"b": Lazy(lambda x, f=_bm: f())}, group="weights")
    # ... and at the other end: weights that are all subnormal keep their relative precision
    _bs = (lambda dt=_dt, lib=_lib: _arr([FINFO[dt].sub, FINFO[dt].sub], lib, dt))
    add(f"weights/subnormal-weights/{_lib}-{_dt}", (lambda lib=_lib, dt=_dt: _arr([0.0, -1.0], lib, dt)),
        {"b": Lazy(lambda x, f=_bs: f())}, group="weights")
# the dominant term has a weight 2^-997 times the largest (found by test_properties): exactly 0
add("weights/dominant-term-small-weight/numpy-float64", lambda: np.array([0.0, -1e4, 0.0]),
    {"b": [1.0, 1e300, 1e300], "where": [True, True, False], "return_sign": True}, group="weights")
# a weight near the maximum on x = -inf (adds 0) chose the rescaling of the others (found by fuzz_api: 8.6e-15 off)
for _lib, _dt in (("numpy", "float64"), ("numpy", "float32")):
    add(f"weights/max-weight-on-minus-inf/{_lib}-{_dt}",
        (lambda lib=_lib, dt=_dt: _arr([-INF, -1.3635415240283253, -0.7771760684086706], lib, dt)),
        {"b": Lazy(lambda x, lib=_lib, dt=_dt: _arr([-FINFO[dt].max, -1.1527943498779758, -0.8863752925154662], lib, dt)),
         "return_sign": True}, group="weights")
if torch is not None:
    add("weights/torch-b-for-numpy-x", lambda: np.array([0.0, 1.0, 2.0]), {"b": torch.tensor([1.0, 2.0, 0.5])},
        group="weights")
    add("weights/numpy-b-for-torch-x", lambda: torch.tensor([0.0, 1.0, 2.0]), {"b": np.array([1.0, 2.0, 0.5])},
        group="weights")
    add("weights/bfloat16-b-for-numpy-x", lambda: np.array([0.0, 1.0, 2.0]),
        {"b": torch.tensor([1.0, 2.0, 0.5], dtype=torch.bfloat16)}, group="weights")
    add("weights/expanded-b", lambda: torch.zeros(3, 4), {"b": torch.tensor([2.0]).expand(4)}, group="weights")
    add("weights/neg-bit-b", lambda: torch.zeros(3),
        {"b": Lazy(lambda x: torch.tensor([1j, 2j, 3j]).conj().imag)}, group="weights")
    add("weights/sparse-b", lambda: torch.zeros(3), {"b": Lazy(lambda x: torch.ones(3).to_sparse())},
        Raises((TypeError,), "b"), group="weights")
_B_ERR = Raises((ValueError,), "b")
_B_TYPE = Raises((TypeError,), "b")
for _bname, _bv, _exp in [
    ("not-broadcast(2,)", np.ones(2), _B_ERR), ("more-dims", np.ones((3, 2, 3)), _B_ERR),
    ("not-broadcast(4,)", np.ones(4), _B_ERR), ("not-broadcast(2,2)", np.ones((2, 2)), _B_ERR),
    ("complex", np.array([1 + 1j, 1, 1]), _B_TYPE), ("bool", np.ones(3, bool), _B_TYPE),
    ("str", "abc", _B_TYPE), ("str-array", np.array(["1", "2", "3"]), _B_TYPE),
    ("ragged", [[1.0], [1.0, 2.0]], _B_TYPE), ("list-with-None", [1.0, None, 2.0], _B_TYPE),
    ("object", np.array([1.0, 2.0, 3.0], dtype=object), _B_TYPE),
    ("datetime64", np.array(["2020-01-01"] * 3, dtype="datetime64[D]"), _B_TYPE),
    ("timedelta64", np.array([1, 2, 3], dtype="timedelta64[s]"), _B_TYPE),
    ("python-complex", 1j, _B_TYPE), ("dict", {"a": 1}, _B_TYPE),
]:
    add(f"weights/{_bname}", lambda: np.zeros((2, 3)), {"b": _bv}, _exp, group="weights")
    if torch is not None and isinstance(_bv, np.ndarray) and _bv.dtype.kind in "fc":
        add(f"weights/{_bname}/torch", lambda: torch.zeros(2, 3), {"b": torch.from_numpy(_bv)}, _exp,
            group="weights")

# --- 8. masks where ------------------------------------------------------------------------------
_W_VAL = [
    ("partial", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], [[True, False, True], [False, True, True]]),
    ("row-fully-masked", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], [[False, False, False], [True, True, True]]),
    ("masked-nan-inf-left-out", [[1.0, NAN, INF], [0.0, -1.0, 4.0]], [[True, False, False], [True, True, True]]),
    ("kept-all-inf-neg", [[-INF, 2.0, -INF], [0.0, -1.0, 4.0]], [[True, False, True], [True, True, True]]),
    ("broadcast-row", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], [True, False, True]),
    ("broadcast-col", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], [[True], [False]]),
    ("scalar-False", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], False),
    ("scalar-True", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], np.True_),
    ("negative-stride", [[1.0, 2.0, 3.0], [0.0, -1.0, 4.0]], np.array([True, True, False])[::-1]),
]
for _lib, _dt in _libs_dtypes():
    for _wname, _xv, _wv in _W_VAL:
        for _vname, _kw in [("axis=-1", {"axis": -1}), ("axis=0", {"axis": 0}), ("safe", {"axis": -1, "safe": True}),
                            ("sign", {"axis": -1, "return_sign": True})]:
            add(f"where/{_wname}/{_lib}-{_dt}/{_vname}", (lambda xv=_xv, lib=_lib, dt=_dt: _arr(xv, lib, dt)),
                {"where": _wv, **_kw}, group="where")
if torch is not None:
    add("where/torch-mask-numpy-x", lambda: np.array([1.0, 2.0, 3.0]), {"where": torch.tensor([True, False, True])},
        group="where")
    add("where/numpy-mask-torch-x", lambda: torch.tensor([1.0, 2.0, 3.0]), {"where": np.array([True, False, True])},
        group="where")
    add("where/expanded-mask", lambda: torch.ones(4, 3), {"where": torch.tensor([[True, False, True]]).expand(4, 3)},
        group="where")
_W_ERR = Raises((ValueError,), "where")
_W_TYPE = Raises((TypeError,), "where")
for _wname, _wv, _exp in [
    ("not-broadcast", np.ones(2, bool), _W_ERR), ("more-dims", np.ones((1, 2, 3), bool), _W_ERR),
    ("float", np.ones((2, 3)), _W_TYPE), ("int", np.ones((2, 3), np.int64), _W_TYPE),
    ("int-list", [1, 0, 1], _W_TYPE), ("str", "yes", _W_TYPE), ("python-float", 1.5, _W_TYPE),
    ("ragged", [[True], [True, False]], _W_TYPE), ("list-with-None", [True, None, False], _W_TYPE),
    ("object", np.array([True, False, True], dtype=object), _W_TYPE),
]:
    add(f"where/{_wname}", lambda: np.ones((2, 3)), {"where": _wv}, _exp, group="where")
if torch is not None:
    add("where/torch-float-mask", lambda: torch.ones(2, 3), {"where": torch.ones(2, 3)}, _W_TYPE, group="where")
    add("where/sparse-mask", lambda: torch.ones(2, 3), {"where": Lazy(lambda x: torch.ones(2, 3, dtype=torch.bool)
                                                                  .to_sparse())}, _W_TYPE, group="where")

# --- 9. flags and options -----------------------------------------------------------------------
_x23 = (lambda: np.arange(6.0).reshape(2, 3))
for _flag in ("keepdims", "return_sign", "safe"):
    for _name, _v in [("int", 1), ("str", "yes"), ("None", None), ("float", 1.0), ("array", np.array([True]))]:
        add(f"flags/{_flag}={_name}", _x23, {_flag: _v}, Raises((TypeError,), _flag), group="flags")
    add(f"flags/{_flag}=np.True_", _x23, {_flag: np.True_}, group="flags")
for _name, _v in [("unknown", "fast"), ("empty", ""), ("case", "Online"), ("None", None), ("int", 1),
                  ("list", ["auto"]), ("bytes", b"auto")]:
    add(f"flags/algorithm={_name}", _x23, {"algorithm": _v}, Raises((ValueError,), "algorithm"), group="flags")


# --- 10. out= (softmax family) ------------------------------------------------------------------
def _untouched_around(x, kw, result):
    """out was a strided view of a larger array: the elements in between keep their value."""
    base = kw["out"].base
    mask = np.ones(base.shape, bool)
    mask[:, ::2] = False
    return [] if np.all(base[mask] == 7.0) else ["out=: elements of out's base outside the view were overwritten"]


_OUT_ERR, _OUT_TYPE = Raises((ValueError,), "out"), Raises((TypeError,), "out")
add("out/fresh-array", _x23, {"out": Lazy(lambda x: np.empty_like(x))}, group="out")
add("out/strided-view", _x23, {"out": Lazy(lambda x: np.full((2, 6), 7.0)[:, ::2])}, group="out",
    extra=_untouched_around)
add("out/in-place", lambda: np.array([[1.0, NAN, 2.0], [0.0, 1.0, -INF]]), {"out": Lazy(lambda x: x)},
    group="out", inplace=True)
add("out/in-place-transposed", lambda: np.arange(6.0).reshape(2, 3).T, {"out": Lazy(lambda x: x), "axis": 0},
    group="out", inplace=True)
# README/docstring: out is "Returned" (NumPy's out= returns the out array too, also when 0-d)
add("out/0-d", lambda: np.array(0.5), {"out": Lazy(lambda x: np.empty(()))}, group="out")
add("out/0-d-in-place", lambda: np.array(0.5), {"out": Lazy(lambda x: x)}, group="out", inplace=True)
# in place on byte-swapped data: the result cannot be written in the input's own byte order;
# a clear TypeError naming out (not documented either way)
add("out/in-place-byteswapped", lambda: np.arange(6.0).reshape(2, 3).astype(">f8"), {"out": Lazy(lambda x: x)},
    Raises((TypeError,), "out"), group="out", inplace=True)
add("out/wrong-shape", _x23, {"out": Lazy(lambda x: np.empty((3, 2)))}, _OUT_ERR, group="out")
add("out/wrong-dtype", _x23, {"out": Lazy(lambda x: np.empty((2, 3), np.float32))}, _OUT_TYPE, group="out")
add("out/read-only", _x23, {"out": Lazy(lambda x: _readonly(np.empty((2, 3))))}, _OUT_ERR, group="out")
add("out/list", _x23, {"out": Lazy(lambda x: [[0.0] * 3] * 2)}, _OUT_TYPE, group="out")
add("out/overlapping-input", lambda: np.arange(12.0).reshape(4, 3)[:2],
    {"out": Lazy(lambda x: x.base.reshape(4, 3)[1:3])}, _OUT_ERR, group="out")
add("out/broadcast-view(read-only)", _x23, {"out": Lazy(lambda x: np.broadcast_to(np.zeros(3), (2, 3)))},
    _OUT_ERR, group="out")
# A writable view whose elements overlap each other (zero stride): rows would overwrite one
# another, so it must be refused like an overlapping input (torch refuses it for out= too).
add("out/self-overlapping(as_strided-writeable)", lambda: np.array([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]]),
    {"out": Lazy(lambda x: np.lib.stride_tricks.as_strided(np.zeros(3), (2, 3), (0, 8), writeable=True))},
    _OUT_ERR, group="out")
if torch is not None:
    _t23 = (lambda: torch.tensor([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]]))
    add("out/torch-fresh", _t23, {"out": Lazy(lambda x: torch.empty_like(x))}, group="out")
    add("out/torch-in-place", _t23, {"out": Lazy(lambda x: x)}, group="out", inplace=True)
    add("out/torch-for-numpy-x", _x23, {"out": Lazy(lambda x: torch.empty(2, 3, dtype=torch.float64))}, _OUT_TYPE,
        group="out")
    add("out/numpy-for-torch-x", _t23, {"out": Lazy(lambda x: np.empty((2, 3), np.float32))}, _OUT_TYPE,
        group="out")
    add("out/torch-requires-grad", _t23, {"out": Lazy(lambda x: torch.empty(2, 3, requires_grad=True))}, _OUT_ERR,
        group="out")
    add("out/torch-wrong-dtype", _t23, {"out": Lazy(lambda x: torch.empty(2, 3, dtype=torch.float64))}, _OUT_TYPE,
        group="out")
    add("out/torch-overlapping-input", lambda: torch.arange(12.0).reshape(4, 3)[:2],
        {"out": Lazy(lambda x: torch.as_strided(x, (2, 3), (3, 1), 3))}, _OUT_ERR, group="out")
    add("out/torch-self-overlapping(expand)", _t23, {"out": Lazy(lambda x: torch.zeros(3).expand(2, 3))}, _OUT_ERR,
        group="out")
    # in place on an expanded (self-overlapping) input: every row writes the same memory
    add("out/torch-in-place-on-expanded-input", lambda: torch.tensor([0.0, 1.0, 2.0]).expand(2, 3),
        {"out": Lazy(lambda x: x)}, _OUT_ERR, group="out", inplace=True)
    add("out/torch-neg-bit", _t23, {"out": Lazy(lambda x: torch.tensor([[1j] * 3] * 2).conj().imag)}, group="out")


# --- 11. the README edge-case table (each cell one or more corpus cases) ------------------------
def _table(label, shown, make, per_func):
    """per_func: {func name: [(variant label, kwargs)]}; the first variant is the plain result."""
    for fname, variants in per_func.items():
        for vlabel, kw in variants:
            add(f"table/{label}/{fname}/{vlabel or 'plain'}", make, kw,
                {fname: VALUE}, group="table", table=(label, shown, vlabel))


_F64 = (lambda v: (lambda: np.array(v, dtype=np.float64)))
_F32 = (lambda v: (lambda: np.array(v, dtype=np.float32)))
_ALL_PLAIN = {f: [("", {})] for f in ("logsumexp", "softmax", "log_softmax", "sparsemax", "stablemax",
                                       "log_stablemax")}
_table("NaN anywhere in the reduction", "`[1, nan, 2]`", _F64([1.0, NAN, 2.0]), _ALL_PLAIN)
_table("`+inf` present (no NaN)", "`[1, inf, -inf]`", _F64([1.0, INF, -INF]), _ALL_PLAIN)
_table("all `-inf`", "`[-inf, -inf]`", _F64([-INF, -INF]),
       {"logsumexp": [("", {"return_sign": True})], "softmax": [("", {}), ("`safe=True`", {"safe": True})],
        "log_softmax": [("", {}), ("`safe=True`", {"safe": True})],
        "sparsemax": [("", {})], "stablemax": [("", {})], "log_stablemax": [("", {})]})
_table("empty reduction (length-0 axis)", "shape `(2, 0)`, `axis=-1`", _F64(np.zeros((2, 0))),
       {"logsumexp": [("", {"axis": -1, "return_sign": True})], "softmax": [("", {"axis": -1})],
        "log_softmax": [("", {"axis": -1})], "sparsemax": [("", {"axis": -1})], "stablemax": [("", {"axis": -1})],
        "log_stablemax": [("", {"axis": -1})]})
_table("0-d input", "`2.5`", _F64(2.5), _ALL_PLAIN)
_table("`where=False` entries", "`[1, 2, 3]`, `where=[T, F, T]`", _F64([1.0, 2.0, 3.0]),
       {f: [("", {"where": [True, False, True]})] for f in ("logsumexp", "softmax", "log_softmax")})
_table("row with every entry masked", "`[1, 2]`, `where=[F, F]`", _F64([1.0, 2.0]),
       {"logsumexp": [("", {"where": [False, False], "return_sign": True})],
        "softmax": [("", {"where": [False, False]})], "log_softmax": [("", {"where": [False, False]})]})
_table("weight `b == 0`", "`[1, inf, nan]`, `b=[1, 0, 0]`", _F64([1.0, INF, NAN]),
       {"logsumexp": [("", {"b": [1.0, 0.0, 0.0]})]})
_table("negative weighted sum", "`[0, 1]`, `b=[1, -1]`", _F64([0.0, 1.0]),
       {"logsumexp": [("", {"b": [1.0, -1.0]}), ("`return_sign=True`", {"b": [1.0, -1.0], "return_sign": True})]})
_table("dominant element (float64)", "`[0, -40]`", _F64([0.0, -40.0]), _ALL_PLAIN)
_table("±1e30 (float32)", "`[1e30, -1e30, 0]`", _F32([1e30, -1e30, 0.0]), _ALL_PLAIN)
_table("±1e300 (float64)", "`[1e300, -1e300, 0]`", _F64([1e300, -1e300, 0.0]), _ALL_PLAIN)
_table("two `+inf`", "`[inf, 0, inf]`", _F64([INF, 0.0, INF]),
       {f: [("", {})] for f in ("softmax", "sparsemax", "stablemax", "log_stablemax")})
_table("`-inf` entries", "`[-inf, 0, 1]`", _F64([-INF, 0.0, 1.0]),
       {f: [("", {})] for f in ("softmax", "log_softmax", "sparsemax", "stablemax", "log_stablemax")})


# ============================================================================================
# Element-wise functions f(v, x): the log-Bessel family (python/stablemath/_special.py)
# ============================================================================================
# Documented semantics (the functions' docstrings), which the reference below implements:
# NaN in v or x -> NaN; x < 0 (also -inf) -> NaN; I-type functions (log_bessel_i, log_bessel_ie,
# bessel_i_ratio): a negative non-integer order -> NaN, a negative integer order uses I_{-n} = I_n;
# K-type: K_{-v} = K_v. Limits: x = 0: log I_0 = 0, log I_v = -inf (v != 0), log K = +inf, the
# ratios their limits (0, inf or 1 by the orders); x = +inf: log I = +inf, log K, log Ie, log Ke
# = -inf, ratios 1; an infinite order with finite x: the limit (log I -inf, log K +inf,
# bessel_i_ratio 0 and bessel_k_ratio inf for +inf, mirrored for -inf); infinite order and x: NaN.
# Result type: a torch tensor if any argument is one; float64 if any array argument is float64
# (integer arrays count as float64) or every argument is a Python number, else float32
# (float16/bfloat16 are computed and returned in float32); a NumPy scalar for 0-d NumPy/Python.
try:
    import mpmath
except ImportError:  # pragma: no cover - mpmath is a test dependency
    mpmath = None


def _is_int(v: float) -> bool:
    return math.isfinite(v) and v == math.floor(v)


def _reference_tool():
    """tests/tools/gen_bessel_reference.py (the C++ tests' table generator): its Debye sum and its
    K integral, shared rather than written twice."""
    import importlib
    tools = str(Path(__file__).resolve().parents[1] / "tools")
    if tools not in sys.path:
        sys.path.insert(0, tools)
    return importlib.import_module("gen_bessel_reference")


_LOG_SCALED_CACHE: dict = {}


def _log_scaled(kind, v, x):
    """log(I_v(x) e^-x) or log(K_v(x) e^x) as an mpf, for an order v >= 0 and 0 < x < inf."""
    key = (kind, v, x)
    if key not in _LOG_SCALED_CACHE:
        # enough digits that v * eta - x keeps 30 of them for x, v up to 1e308 (x may be an mpf
        # beyond the float range: the vMF kappa_mle reference's bisection)
        with mpmath.workdps(40 + max(0, int(mpmath.log10(max(x, v, 1))))):
            r = None
            if kind == "k" and 30 < x < 1e4 and v < 500:
                # mpmath's besselk takes (I_{-v} - I_v) / sin(v pi) for non-integer v, which cancels like
                # e^{2x}: it was silently wrong in the 4th digit at v = 255.43, x = 167 (fuzz_api), where
                # this integral (DLMF 10.32.9) and the Debye sum agree to 1e-19. From x ~ 1e4 besselk's
                # large-x expansion agrees with the integral in ~1 ms (the quadrature: ~70 ms).
                r = _reference_tool().logke_quad(v, x)
            elif v < 500:
                try:
                    if kind == "i":
                        r = mpmath.log(mpmath.besseli(v, x, maxterms=10**6) * mpmath.exp(-x))
                    else:
                        r = mpmath.log(mpmath.besselk(v, x) * mpmath.exp(x))
                except (mpmath.libmp.NoConvergence, ValueError, ZeroDivisionError):
                    r = None
            if r is None:  # v >= 500 (or mpmath failed): R >= 500, the Debye sum to ~1e-50
                r = _reference_tool().debye_logs(v, x, r_min=500)[0 if kind == "i" else 1]
            _LOG_SCALED_CACHE[key] = +r
    return _LOG_SCALED_CACHE[key]


def _ew_scalar(op: str, v: float, x: float) -> float:
    """The documented value of op(v, x) for one pair of float64 numbers."""
    inf, nan = math.inf, math.nan
    if math.isnan(v) or math.isnan(x) or x < 0:
        return nan
    ikind = op in ("log_i", "log_ie", "ratio_i")
    if ikind and v < 0 and not math.isinf(v) and not _is_int(v):
        return nan
    if math.isinf(v):
        if math.isinf(x):
            return nan
        up = v > 0  # |order| -> inf: I -> 0, K -> inf; the ratio's orders move away from / towards 0
        return {"log_i": -inf, "log_ie": -inf, "log_k": inf, "log_ke": inf,
                "ratio_i": 0.0 if up else inf, "ratio_k": inf if up else 0.0}[op]
    with mpmath.workprec(1200):  # v + 1 exactly, also for v ~ 1e308
        a = abs(mpmath.mpf(v) + 1)  # orders of the ratio's numerator and denominator, after the symmetries
    b = abs(v)
    if math.isinf(x):
        return {"log_i": inf, "log_ie": -inf, "log_k": -inf, "log_ke": -inf, "ratio_i": 1.0, "ratio_k": 1.0}[op]
    if x == 0:
        if op in ("log_i", "log_ie"):
            return 0.0 if v == 0 else -inf
        if op in ("log_k", "log_ke"):
            return inf
        # I_a / I_b ~ (x/2)^(a-b) and K_a / K_b ~ (x/2)^(b-a) as x -> 0 (K_0 ~ -log x)
        if a == b:
            return 1.0
        return (0.0 if a > b else inf) if op == "ratio_i" else (inf if a > b else 0.0)
    kind = "i" if ikind else "k"
    with mpmath.workdps(40 + max(0, int(math.log10(max(x, 1.0))))):
        if op in ("log_ie", "log_ke"):
            return float(_log_scaled(kind, b, x))
        if op == "log_i":
            return float(_log_scaled("i", b, x) + mpmath.mpf(x))
        if op == "log_k":
            return float(_log_scaled("k", b, x) - mpmath.mpf(x))
        return float(mpmath.exp(_log_scaled(kind, a, x) - _log_scaled(kind, b, x)))


def _ew_reference(op):
    def ref(x, v=None, **_):
        vv, xx = np.broadcast_arrays(np.asarray(v, np.float64), np.asarray(x, np.float64))
        out = np.empty(vv.shape)
        for i in np.ndindex(out.shape):
            out[i] = (_vmf_scalar if op.startswith("vmf") else _ew_scalar)(op, float(vv[i]), float(xx[i]))
        return out
    return ref


def _ew_tolerance(op):
    """64 eps of the result dtype, relative to max(|value|, 1) for the logs (an absolute error
    for values near 0, e.g. log I_0(x) ~ x^2/4) and to |value| for the ratios (plus the
    smallest normal number)."""
    ref = _ew_reference(op)

    def tol(x, name, v=None, **_):
        r = ref(x, v=v)
        f = FINFO[name]
        with np.errstate(invalid="ignore", over="ignore"):
            if op == "vmf_kappa_mle":
                return 64 * f.eps * np.abs(r) + f.tiny + _kappa_mle_conditioning(x, v, r, f.eps)
            if op.startswith(("ratio", "vmf_a")):
                return 64 * f.eps * np.abs(r) + f.tiny
            return 64 * f.eps * np.maximum(np.abs(r), 1.0)
    return tol


def _kappa_mle_conditioning(rbar, d, kappa, eps):
    """4 eps rbar / A_d'(kappa): kappa_mle inverts A_d, whose slope A' = 1 - A^2 - (d-1) A / kappa
    (taken at A = rbar) falls like (d-1) / (2 kappa^2), so an error of a few ulp in evaluating A moves
    the root by that much (found by test_properties: d = 2, rbar = 1 - 2^-9, kappa = 256 is 92 eps off
    while 1 ulp of A alone is worth 130 000 eps of kappa there)."""
    rb, dd, kk = np.broadcast_arrays(np.asarray(rbar, np.float64), np.asarray(d, np.float64),
                                     np.asarray(kappa, np.float64))
    out = np.zeros(kk.shape)
    for i in np.ndindex(kk.shape):
        r, dv, k = float(rb[i]), float(dd[i]), float(kk[i])
        if not (0 < r < 1 and 0 < k < math.inf and 2 <= dv < math.inf):
            continue
        with mpmath.workprec(200):
            R = mpmath.mpf(r)
            slope = 1 - R * R - (mpmath.mpf(dv) - 1) * R / mpmath.mpf(k)
        out[i] = float(4 * eps * R / slope) if slope > 0 else 0.0
    return out


def _ew_arg_info(a):
    """(library, counts as float64, is a Python number/list) of one element-wise argument."""
    if is_tensor(a):
        return "torch", a.dtype == torch.float64 or not (a.dtype.is_floating_point or a.dtype.is_complex), False
    if isinstance(a, DLPackOnly):
        return _ew_arg_info(np.from_dlpack(a.inner))[0:2] + (False,)
    if isinstance(a, (np.ndarray, np.generic)):
        return "numpy", a.dtype.newbyteorder("=") == np.float64 or a.dtype.kind in "iu", False
    return "numpy", True, True


def ew_container(x, kw):
    infos = [_ew_arg_info(a) for a in (kw["v"], x)]
    wide = any(i[1] for i in infos if not i[2]) or all(i[2] for i in infos)
    if any(i[0] == "torch" for i in infos):
        return "torch", torch.float64 if wide else torch.float32
    return "numpy", np.dtype(np.float64 if wide else np.float32)


EW_GROUPS = frozenset({"ew-values", "ew-shapes", "ew-layout", "ew-kinds", "ew-device", "ew-mixed", "ew-table"})


def elementwise(name: str, op: str, names=("v", "x")) -> Func:
    """An element-wise function f(v, x) of the public API: one entry, the cases of EW_GROUPS run
    against it (x is the data argument, v a keyword argument of the cases; `names`: what the
    function calls them in its error messages)."""
    fn = getattr(sm, name)
    return Func(name, lambda x, v, _f=fn: _f(v, x), names[1], "elementwise", frozenset({"v"}),
                _ew_reference(op), _ew_tolerance(op), case_groups=EW_GROUPS, container=ew_container, cast_inputs=True,
                arg_names={"v": names[0], "x": names[1]})


if mpmath is not None:
    FUNCTIONS += [
        elementwise("log_bessel_i", "log_i"), elementwise("log_bessel_k", "log_k"),
        elementwise("log_bessel_ie", "log_ie"), elementwise("log_bessel_ke", "log_ke"),
        elementwise("bessel_i_ratio", "ratio_i"), elementwise("bessel_k_ratio", "ratio_k"),
    ]
    FUNC_BY_NAME = {f.name: f for f in FUNCTIONS}


# --- vMF scalar functions f(d, kappa) / f(d, rbar) (python/stablemath/_vmf.py) --------------------
# Documented (docstrings): NaN in d or the second argument -> NaN; kappa < 0, d < 1, 1 < d < 2 -> NaN;
# d = 1 is the two points +-1 (log C = -log(2 cosh kappa), A = tanh kappa, kappa_mle = atanh rbar);
# kappa = 0: log C = -log(area of S^{d-1}), A = 0; kappa = inf: log C = inf, A = 1; kappa_mle: rbar = 0
# -> 0, rbar = 1 -> inf, rbar outside [0, 1] -> NaN. d = +inf is not documented: the reference takes
# the library's choice (log C NaN, A = 0 = the limit of I_{d/2}/I_{d/2-1}, kappa_mle NaN; kappa = inf
# and rbar = 0 keep their rules), so that a change shows up here.
_KAPPA_MLE_CACHE: dict = {}


def _vmf_nu(d):
    """d/2 - 1 exactly (an mpf: in float64 it is d/2 for d >= 2^54)."""
    with mpmath.workprec(1200):
        return +(mpmath.mpf(d) / 2 - 1)


def _vmf_a_mp(d, k):
    """A_d(kappa) as an mpf, d >= 2, 0 < kappa < inf (to 120 bits: kappa_mle's bisection on it
    must resolve A to far below an ulp, its root being ~1/(1 - rbar) times as sensitive)."""
    with mpmath.workprec(120):
        return mpmath.exp(_log_scaled("i", d / 2, k) - _log_scaled("i", _vmf_nu(d), k))


def _vmf_kappa_mle(d, r):
    """Solves A_d(kappa) = r (0 < r < 1, d >= 2) by bisection on log kappa (A is increasing), in
    mpf numbers: for d ~ 1e308 the root and its bracket lie beyond the float range (-> inf)."""
    key = (d, r)
    if key not in _KAPPA_MLE_CACHE:
        if r < 1e-100:  # A_d(k) = k/d (1 - k^2/(d^2 (d+2)) + ...): kappa = d r to double precision
            _KAPPA_MLE_CACHE[key] = d * r
        else:
            with mpmath.workprec(120):
                D, R = mpmath.mpf(d), mpmath.mpf(r)
                k0 = R * (D - R * R) / (1 - R * R)  # Banerjee et al.'s approximation: the bracket around it
                lo, hi = k0 / 4, k0 * 4
            while _vmf_a_mp(d, lo) > r:
                lo /= 4
            while _vmf_a_mp(d, hi) < r:
                hi *= 4
            for _ in range(72):  # the bracket's ratio 16 -> 1 + 6e-21
                with mpmath.workprec(120):
                    mid = mpmath.sqrt(lo * hi)
                lo, hi = (mid, hi) if _vmf_a_mp(d, mid) < r else (lo, mid)
            with mpmath.workprec(120):
                _KAPPA_MLE_CACHE[key] = float(mpmath.sqrt(lo * hi))
    return _KAPPA_MLE_CACHE[key]


def _vmf_scalar(op: str, d: float, k: float) -> float:
    inf, nan = math.inf, math.nan
    if math.isnan(d) or math.isnan(k) or k < 0 or d < 1 or 1 < d < 2 or (op == "vmf_kappa_mle" and k > 1):
        return nan
    if op == "vmf_kappa_mle":
        if k == 0:
            return 0.0
        if math.isinf(d):
            return nan
        if k == 1:
            return inf
        return float(mpmath.atanh(k)) if d == 1 else _vmf_kappa_mle(d, k)
    if math.isinf(k):
        return inf if op == "vmf_log_c" else 1.0
    if math.isinf(d):
        return nan if op == "vmf_log_c" else 0.0
    mp = mpmath
    with mp.workdps(40 + max(0, int(math.log10(max(k, d, 1.0))))):
        D, K = mp.mpf(d), mp.mpf(k)
        if op == "vmf_a":
            if k == 0:
                return 0.0
            return float(mp.tanh(K)) if d == 1 else float(_vmf_a_mp(d, k))
        if k == 0:
            return float(mp.loggamma(D / 2) - mp.log(2) - D / 2 * mp.log(mp.pi))
        if d == 1:
            return float(-mp.log(2 * mp.cosh(K)))
        return float((D / 2 - 1) * mp.log(K) - D / 2 * mp.log(2 * mp.pi) - _log_scaled("i", _vmf_nu(d), k) - K)


if mpmath is not None:
    FUNCTIONS += [
        elementwise("vmf_log_normalizer", "vmf_log_c", ("d", "kappa")),
        elementwise("vmf_mean_resultant", "vmf_a", ("d", "kappa")),
        elementwise("vmf_kappa_mle", "vmf_kappa_mle", ("d", "rbar")),
    ]
    FUNC_BY_NAME = {f.name: f for f in FUNCTIONS}


def _ew_x_values(dt):
    f = FINFO[dt]
    big = {"float16": 6.0e4, "bfloat16": 1e30, "float32": 1e30, "float64": 1e300}[dt]
    return [0.0, -0.0, f.sub, f.tiny, 0.5, 2.5, 30.0, big, f.max, INF, -INF, NAN, -1.0]


EW_ORDERS = [0.0, 0.5, 1.0, 2.5, -3.0, -2.5, 100.0, 1e4, NAN, INF, -INF]

# --- 1. values: every order against a row of special x, per array library and dtype -------------
for _lib, _dt in _libs_dtypes():
    _mkx = (lambda lib=_lib, dt=_dt: _arr(_ew_x_values(dt), lib, dt))
    for _v in EW_ORDERS:
        add(f"ew-values/v={_v!r}/{_lib}-{_dt}", _mkx, {"v": _v}, group="ew-values")
    # the grid: v a column of the same library and dtype, x a row: result (11, 13)
    add(f"ew-values/grid/{_lib}-{_dt}", _mkx,
        {"v": Lazy(lambda x, lib=_lib, dt=_dt: _arr(np.reshape(EW_ORDERS, (-1, 1)), lib, dt))}, group="ew-values")

# beyond the documented range (x <= 1e300): huge x with a huge order (found by fuzz_api: R = sqrt(v^2 + x^2)
# and R + x overflowed, log_bessel_ie/ke were off by 2x and bessel_k_ratio(max, max) inf)
for _f in ("log_bessel_ie", "log_bessel_ke", "bessel_k_ratio"):
    add(f"ew-values/huge-v-and-x/{_f}", lambda: np.array([1e308, 1.7976931348623157e308]),
        {"v": Lazy(lambda x: np.array([1e200, 1.7976931348623157e308]))}, {_f: VALUE}, group="ew-values")

# found by bench/fuzz_long.sh: the reference itself was off at (597.45, 391.55) (Debye with three terms
# at v >= 500, now eight) and at (-256.43, 167) (mpmath's besselk cancelling; now the K integral), and
# bessel_i_ratio(-max, 2) was inf for the finite I_{n-1}/I_n ~ 2n/x (1 / a subnormal ratio; now 2n/x + I_{n+1}/I_n)
add("ew-values/fuzz-found/log_bessel_k", lambda: np.array([391.5537673266626, 167.0, 2000.0]),
    {"v": Lazy(lambda x: np.array([597.4543487336722, 256.429165712301, 600.5]))}, {"log_bessel_k": VALUE},
    group="ew-values")
add("ew-values/fuzz-found/bessel_k_ratio", lambda: np.array([167.0, 167.0, 45.5]),
    {"v": Lazy(lambda x: np.array([-256.429165712301, 255.429165712301, 120.25]))}, {"bessel_k_ratio": VALUE},
    group="ew-values")
add("ew-values/fuzz-found/bessel_i_ratio", lambda: np.array([2.0, 2.0, 1e-300, 3.0, 0.0]),
    {"v": Lazy(lambda x: np.array([-1.7976931348623157e308, -8.98846567431158e307, -1e300, -4.0, -1.0]))},
    {"bessel_i_ratio": VALUE}, group="ew-values")

# vMF functions: 1 < d < 2 is outside the domain for every second argument, the rbar = 0 / 1 and
# kappa = 0 / inf shortcuts included (docstrings: "1 < d < 2 give NaN")
for _f in ("vmf_log_normalizer", "vmf_mean_resultant", "vmf_kappa_mle"):
    add(f"ew-values/vmf-d=1.5/{_f}", lambda: np.array([0.0, 0.5, 1.0, INF]), {"v": 1.5}, {_f: VALUE}, group="ew-values")
# huge dimensions (d/2 - 1 == d/2 in float64; found by fuzz_api: A_d(d) -> (sqrt 5 - 1)/2)
for _f in ("vmf_log_normalizer", "vmf_mean_resultant"):
    add(f"ew-values/vmf-huge-d/{_f}", lambda: np.array([1e29, 1e30, 1e6]), {"v": np.array([1e30, 1e30, 1e6])},
        {_f: VALUE}, group="ew-values")
# d up to the float maximum (found by fuzz_api: vmf_kappa_mle(6e307, 0.5) was inf; log C's terms
# overflowed before log C, and A_d(d, max) was 0)
_MAXF = 1.7976931348623157e308
for _f in ("vmf_log_normalizer", "vmf_mean_resultant"):
    add(f"ew-values/vmf-d-to-max/{_f}", lambda: np.array([_MAXF, _MAXF, 0.0, 1e-300, 1.0, 3e307]),
        {"v": np.array([1e306, _MAXF, 6e307, 1e300, 2.0**62, 6e307])}, {_f: VALUE}, group="ew-values")
add("ew-values/vmf-d-to-max/vmf_kappa_mle", lambda: np.array([0.5, 0.5, 1e-300, 0.9, 0.5, 0.25]),
    {"v": np.array([6e307, _MAXF, 1e300, 1e300, 2.0**62, 2.0**62 * 0.999])}, {"vmf_kappa_mle": VALUE},
    group="ew-values")

# --- 2. shapes: empty, 0-d, scalars, lists, broadcasting ------------------------------------------
_EW_BCAST = Raises((ValueError,), "x")  # "v and x: shapes do not broadcast (...)"
_EW_SHAPES = [
    ("empty(0,)", lambda: np.zeros(0), 1.5, VALUE),
    ("empty(0,3)-v(3,)", lambda: np.zeros((0, 3)), Lazy(lambda x: np.array([0.0, 1.0, 2.5])), VALUE),
    ("empty(2,0)-v(2,1)", lambda: np.zeros((2, 0), np.float32), Lazy(lambda x: np.ones((2, 1), np.float32)), VALUE),
    ("empty-v", lambda: 2.0, Lazy(lambda x: np.zeros((0, 2))), VALUE),
    ("0-d-array", lambda: np.array(2.5), 1.0, VALUE),
    ("0-d-float32", lambda: np.float32(2.5), 1.0, VALUE),
    ("0-d-both-float32", lambda: np.float32(2.5), Lazy(lambda x: np.float32(0.5)), VALUE),
    ("python-floats", lambda: 2.5, 1.0, VALUE),
    ("python-ints", lambda: 3, 2, VALUE),
    ("python-lists", lambda: [0.5, 1.0, 2.0], Lazy(lambda x: [[0], [1]]), VALUE),
    ("int-arrays", lambda: np.arange(1, 4), Lazy(lambda x: np.int64(2)), VALUE),
    ("uint8-order", lambda: np.array([0.5, 3.0]), Lazy(lambda x: np.array([1, 2], np.uint8)), VALUE),
    ("size-1-broadcast", lambda: np.linspace(0.1, 3, 3).reshape(3, 1), Lazy(lambda x: np.array([[0.0, 1.0, 2.5, 7.0]])),
     VALUE),
    ("size-1-both", lambda: np.ones((1, 1, 1)), Lazy(lambda x: np.full((1,), 2.0)), VALUE),
    ("3-d-broadcast", lambda: np.linspace(0.1, 40, 24).reshape(2, 3, 4), Lazy(lambda x: np.array([[0.5], [1.0], [3.0]])),
     VALUE),
    ("not-broadcast(3)-(4)", lambda: np.ones(3), Lazy(lambda x: np.ones(4)), _EW_BCAST),
    ("not-broadcast(2,3)-(3,2)", lambda: np.ones((2, 3)), Lazy(lambda x: np.ones((3, 2))), _EW_BCAST),
    ("not-broadcast-empty", lambda: np.ones((0,)), Lazy(lambda x: np.ones(2)), _EW_BCAST),
]
for _sname, _mk, _v, _exp in _EW_SHAPES:
    add(f"ew-shapes/{_sname}", _mk, {"v": _v}, _exp, group="ew-shapes")
if torch is not None:
    for _dt in TORCH_DTYPES:
        add(f"ew-shapes/torch-0-d/{_dt}", lambda dt=_dt: torch.tensor(2.5, dtype=getattr(torch, dt)), {"v": 1.0},
            group="ew-shapes")
        add(f"ew-shapes/torch-empty/{_dt}", lambda dt=_dt: torch.zeros(0, 3, dtype=getattr(torch, dt)), {"v": 1.0},
            group="ew-shapes")
    add("ew-shapes/torch-not-broadcast", lambda: torch.ones(3), {"v": Lazy(lambda x: torch.ones(4))}, _EW_BCAST,
        group="ew-shapes")


# --- 3. layouts: the same views as for the array functions, on x, on v, and on both -----------------
def _ew_xbase(dt):
    return np.abs(_base(dt)) + np.asarray(0.25, dt)  # |.| of the array-function base: +inf, 20, ~0.25..10


def _ew_vbase(dt):
    return (np.arange(24).reshape(4, 6) % 5 * 0.75).astype(dt)  # orders 0, 0.75, ..., 3


for _dt in NUMPY_DTYPES:
    for _lname, _fn in _NP_LAYOUTS.items():
        _mkx = (lambda fn=_fn, dt=_dt: fn(_ew_xbase(dt)))
        add(f"ew-layout/{_lname}/numpy-{_dt}/x", _mkx, {"v": 1.5}, group="ew-layout")
        add(f"ew-layout/{_lname}/numpy-{_dt}/both", _mkx, {"v": Lazy(lambda x, fn=_fn, dt=_dt: fn(_ew_vbase(dt)))},
            group="ew-layout")
        add(f"ew-layout/{_lname}/numpy-{_dt}/v", lambda: 2.0, {"v": Lazy(lambda x, fn=_fn, dt=_dt: fn(_ew_vbase(dt)))},
            group="ew-layout")
if torch is not None:
    for _dt in TORCH_DTYPES:
        for _lname, _fn in _torch_layouts().items():
            _mkt = (lambda fn=_fn, dt=_dt: fn(torch.from_numpy(_ew_xbase("float64")).to(getattr(torch, dt))))
            add(f"ew-layout/{_lname}/torch-{_dt}/x", _mkt, {"v": 1.5}, group="ew-layout")
            add(f"ew-layout/{_lname}/torch-{_dt}/both", _mkt,
                {"v": Lazy(lambda x, fn=_fn, dt=_dt: fn(torch.from_numpy(_ew_vbase("float64")).to(getattr(torch, dt))))},
                group="ew-layout")

# --- 4. wrong kinds, as x and as v (integers are orders/arguments like SciPy's: a value) --------------
_EW_INT_KINDS = {"numpy-int8", "numpy-int64", "numpy-uint64", "numpy-int-0d", "torch-uint8", "torch-int64",
                 "dlpack-int"}
for _kname, _mk in _KINDS.items():
    _ok = _kname in _EW_INT_KINDS
    add(f"ew-kinds/x={_kname}", _mk, {"v": 1.0}, VALUE if _ok else TYPE_ERR, group="ew-kinds")
    add(f"ew-kinds/v={_kname}", lambda: np.float64(2.0), {"v": Lazy(lambda x, mk=_mk: mk())},
        VALUE if _ok else Raises((TypeError,), "v"), group="ew-kinds")

# --- 5. devices ------------------------------------------------------------------------------------
add("ew-device/x-dlpack-cuda(2,0)", lambda: DLPackOnly(np.ones(3), device=(2, 0)), {"v": 1.0},
    Raises((ValueError,), "x"), group="ew-device")
add("ew-device/v-dlpack-cuda(2,0)", lambda: np.ones(3), {"v": Lazy(lambda x: DLPackOnly(np.ones(3), device=(2, 0)))},
    Raises((ValueError,), "v"), group="ew-device")
add("ew-device/dlpack-cpu", lambda: DLPackOnly(np.linspace(0.5, 3, 6).reshape(2, 3)), {"v": 1.0}, group="ew-device")
if torch is not None:
    add("ew-device/x-meta", lambda: torch.empty(2, 3, device="meta"), {"v": 1.0}, Raises((ValueError,), "x"),
        group="ew-device")
    add("ew-device/v-meta", lambda: torch.ones(3), {"v": Lazy(lambda x: torch.empty(3, device="meta"))},
        Raises((ValueError,), "v"), group="ew-device")
    add("ew-device/v-meta-numpy-x", lambda: np.ones(3), {"v": Lazy(lambda x: torch.empty(3, device="meta"))},
        Raises((ValueError,), "v"), group="ew-device")

# --- 6. mixed array types and dtypes -----------------------------------------------------------------
_EW_MIXED = [
    ("float16-x-float64-v", lambda: np.array([0.5, 2.0, 30.0], np.float16), Lazy(lambda x: np.array([1.0, 2.0, 0.5]))),
    ("float32-x-python-list-v", lambda: np.array([0.5, 2.0], np.float32), Lazy(lambda x: [[0.0], [3.0]])),
    ("float32-x-float64-0d-v", lambda: np.array([0.5, 2.0], np.float32), Lazy(lambda x: np.float64(1.0))),
    ("negative-stride-v", lambda: np.array([0.5, 2.0, 9.0]), Lazy(lambda x: np.array([0.0, 1.0, 2.5])[::-1])),
]
if torch is not None:
    _EW_MIXED += [
        ("torch-v-numpy-x", lambda: np.array([0.5, 2.0, 9.0]), Lazy(lambda x: torch.tensor([0.0, 1.0, 2.5]))),
        ("numpy-v-torch-x", lambda: torch.tensor([0.5, 2.0, 9.0]), Lazy(lambda x: np.array([0.0, 1.0, 2.5]))),
        ("numpy-float64-v-torch-float32-x", lambda: torch.tensor([0.5, 2.0, 9.0]),
         Lazy(lambda x: np.array([0.0, 1.0, 2.5], np.float64))),
        ("bfloat16-x-python-v", lambda: torch.tensor([0.5, 2.0, 9.0], dtype=torch.bfloat16), 1.5),
        ("float16-x-bfloat16-v", lambda: torch.tensor([0.5, 2.0, 9.0], dtype=torch.float16),
         Lazy(lambda x: torch.tensor([1.0, 0.5, 3.0], dtype=torch.bfloat16))),
        ("negative-stride-numpy-v-torch-x", lambda: torch.tensor([0.5, 2.0, 9.0]),
         Lazy(lambda x: np.array([0.0, 1.0, 2.5])[::-1])),
        ("negative-stride-numpy-x-torch-v", lambda: np.array([0.5, 2.0, 9.0])[::-1],
         Lazy(lambda x: torch.tensor([0.0, 1.0, 2.5]))),
        ("requires-grad-x", lambda: torch.tensor([0.5, 2.0, 9.0], requires_grad=True), 1.5),
        ("int-tensor-v-float32-x", lambda: torch.tensor([0.5, 2.0, 9.0]), Lazy(lambda x: torch.tensor([0, 1, 3]))),
    ]
for _mname, _mk, _v in _EW_MIXED:
    add(f"ew-mixed/{_mname}", _mk, {"v": _v}, group="ew-mixed")


# --- 7. the README's edge table for the element-wise functions ----------------------------------------
def _ew_table(label, shown, v, x):
    for f in ("log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio", "bessel_k_ratio"):
        add(f"ew-table/{label}/{f}", lambda x=x: np.float64(x), {"v": v}, {f: VALUE}, group="ew-table",
            table=(label, shown, ""))


_ew_table("x = 0, v = 0", "`(0, 0)`", 0.0, 0.0)
_ew_table("x = 0, v > 0", "`(1.5, 0)`", 1.5, 0.0)
_ew_table("x < 0", "`(1, -1)`", 1.0, -1.0)
_ew_table("x = +inf", "`(1, inf)`", 1.0, INF)
_ew_table("NaN in v or x", "`(nan, 1)`", NAN, 1.0)
_ew_table("negative integer order (I_-n = I_n)", "`(-3, 2)`", -3.0, 2.0)
_ew_table("negative non-integer order (K_-v = K_v)", "`(-2.5, 2)`", -2.5, 2.0)
_ew_table("order +inf", "`(inf, 1)`", INF, 1.0)
_ew_table("huge x (no overflow)", "`(1, 1e300)`", 1.0, 1e300)
_ew_table("tiny x (no underflow)", "`(100, 1e-300)`", 100.0, 1e-300)
_ew_table("huge order", "`(1e6, 1)`", 1e6, 1.0)


# ============================================================================================
# Runner
# ============================================================================================
@dataclasses.dataclass
class Outcome:
    func: str
    case: str
    ok: bool
    problems: list
    result: Any = None
    exc: BaseException | None = None

    def __str__(self):
        head = f"{self.func} / {self.case}: {'ok' if self.ok else 'FAILED'}"
        return head + "".join(f"\n  - {p}" for p in self.problems)


def _fingerprint(v):
    """Everything about an argument that a call must leave unchanged."""
    if is_tensor(v):
        if v.is_nested:
            return ("nested", repr(v))
        if v.device.type == "meta":
            return ("meta", tuple(v.shape), v.dtype)
        meta = (tuple(v.shape), v.dtype, v.layout, v.requires_grad, v.is_neg(), v.is_conj())
        if v.layout != torch.strided:
            return meta + (repr(v.detach().to_dense()),)
        t = v.detach().resolve_neg().resolve_conj()
        t = torch.empty(t.shape, dtype=t.dtype).copy_(t).reshape(-1)  # standard strides, then raw bytes
        return meta + (tuple(v.stride()), v.storage_offset(), t.view(torch.uint8).numpy().tobytes())
    if isinstance(v, np.ndarray):
        return (v.shape, v.strides, v.dtype.str, v.flags.writeable, v.flags.aligned,
                v.tobytes() if v.dtype != object else repr(v.tolist()))
    if isinstance(v, DLPackOnly):
        return ("dlpack", v.device, _fingerprint(v.inner))
    if isinstance(v, (list, tuple)):
        try:
            return ("seq", pickle.dumps(v, protocol=4))  # much faster than repr for long lists
        except Exception:  # noqa: BLE001 - unpicklable members
            return ("seq", repr(v))
    if isinstance(v, (np.generic, float, int, complex, bool, str, bytes)) or v is None:
        return ("py", repr(v))
    return ("obj", id(v))


def _extent(v):
    """(lo, hi) byte range of an array's memory, or None (no memory of its own / empty)."""
    if is_tensor(v):
        if v.device.type != "cpu" or v.layout != torch.strided or v.is_nested:
            return None
        s = v.untyped_storage()
        return (s.data_ptr(), s.data_ptr() + s.nbytes()) if s.nbytes() else None
    if isinstance(v, np.ndarray) and v.size and v.itemsize:
        lo, hi = _byte_bounds(v)
        return (lo, hi)
    return None


_ARG_RE = "(?<![\\w.]){0}(?=\\s*:)|['\"`]{0}['\"`]"


def names_argument(message: str, arg: str) -> bool:
    """The library's convention is "arg: ..."; a quoted name also counts."""
    return re.search(_ARG_RE.format(re.escape(arg)), message) is not None


def _short(v, limit=160):
    s = repr(v).replace("\n", " ")
    return s if len(s) <= limit else s[:limit] + "..."


def _check_output(func: Func, x, kw, r, expected, tol, idx) -> list:
    problems = []
    what = f"output {idx}" if idx is not None else "result"
    kind, dt = func.container(x, kw) if func.container is not None else expected_container(x)
    exp = np.asarray(expected, dtype=np.float64)
    if kind == "torch":
        if not is_tensor(r):
            return [f"{what}: expected a torch.Tensor, got {type(r).__name__}"]
        if r.dtype != dt:
            problems.append(f"{what}: dtype {r.dtype}, expected {dt}")
        if r.device.type != "cpu" or r.requires_grad:
            problems.append(f"{what}: device {r.device}, requires_grad {r.requires_grad}")
    else:
        if exp.ndim == 0 and "out" not in kw:
            if not isinstance(r, np.generic):
                return [f"{what}: expected a NumPy scalar for a 0-d result, got {type(r).__name__}"]
        elif type(r) is not np.ndarray:
            return [f"{what}: expected numpy.ndarray, got {type(r).__name__}"]
        if r.dtype != dt:
            problems.append(f"{what}: dtype {r.dtype}, expected {dt}")
    got = to_f64(r)
    if got.shape != exp.shape:
        return problems + [f"{what}: shape {got.shape}, expected {exp.shape}"]
    name = dtype_name(r.dtype)
    er = round_to(exp, name)  # overflow of the exact value to +-inf is the right answer
    for label, f in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
        bad = f(got) != f(er)
        if bad.any():
            i = tuple(np.argwhere(bad)[0])
            problems.append(f"{what}: {label} pattern differs at {i}: got {got[i]!r}, expected {exp[i]!r} "
                            f"({int(bad.sum())} of {bad.size})")
            return problems
    fin = np.isfinite(er)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(got - exp)
        bad = fin & ~(err <= np.broadcast_to(tol, exp.shape))
    if bad.any():
        i = tuple(np.argwhere(bad)[0])
        t = np.broadcast_to(tol, exp.shape)[i]
        problems.append(f"{what}: error {err[i]:.3g} > bound {t:.3g} at {i}: got {got[i]!r}, "
                        f"expected {exp[i]!r} ({int(bad.sum())} of {bad.size} elements)")
    return problems


# keyword arguments that are numeric arrays: converted to float64 for the references, and checked
# for aliasing with the outputs (b: logsumexp's weights; v: the order of the element-wise functions)
ARRAY_KWARGS = ("b", "v")


def reference_inputs(x, kw):
    """(x, kwargs) as the references take them: float64 x and weights, boolean mask, no out."""
    kw64 = {}
    for k, v in kw.items():
        if k in ARRAY_KWARGS:
            kw64[k] = to_f64(v)
        elif k == "where":
            kw64[k] = to_bool(v)
        elif k != "out":
            kw64[k] = v
    return to_f64(x).copy(), kw64


def check_value(func: Func, case_inplace: bool, x, kw, result, ref_in=None) -> list:
    """Result of func(x, **kw) against the float64 reference of the documented semantics.
    ref_in: reference_inputs(x, kw) taken before the call (needed when x is also the output)."""
    x64, kw64 = ref_in if ref_in is not None else reference_inputs(x, kw)
    name = dtype_name((func.container(x, kw) if func.container is not None else expected_container(x))[1])
    if "b" in kw64 and acc_name(name) == "float32":
        kw64["b"] = round_to(kw64["b"], "float32")  # weights are cast to the accumulation dtype (README)
    if func.cast_inputs:
        x64 = round_to(x64, name)
        kw64 = {k: (round_to(v, name) if k in ARRAY_KWARGS else v) for k, v in kw64.items()}
    expected = func.reference(x64, **kw64)
    tol = func.tolerance(x64, name, **kw64)
    outs = result if isinstance(expected, tuple) else (result,)
    exps = expected if isinstance(expected, tuple) else (expected,)
    tols = tol if isinstance(expected, tuple) else (tol,)
    if isinstance(expected, tuple) and not (isinstance(result, tuple) and len(result) == len(expected)):
        return [f"expected a tuple of {len(expected)} results, got {_short(result)}"]
    problems = []
    if "out" in kw and outs[0] is not kw["out"]:
        problems.append("out=: the returned object is not `out`")
    for i, (r, e, t) in enumerate(zip(outs, exps, tols)):
        problems += _check_output(func, x, kw, r, e, t, i if len(outs) > 1 else None)
    # outputs never alias inputs (out=x is the documented exception)
    inputs = [("x", x)] + [(k, v) for k, v in kw.items() if k in ("where",) + ARRAY_KWARGS]
    for i, r in enumerate(outs):
        er = _extent(r)
        if er is None:
            continue
        for nm, v in inputs:
            if nm == "x" and case_inplace:
                continue
            ev = _extent(v if not isinstance(v, DLPackOnly) else v.inner)
            if ev is not None and er[0] < ev[1] and ev[0] < er[1]:
                problems.append(f"output {i} shares memory with input {nm}")
        if len(outs) == 2 and i == 1 and _extent(outs[0]) is not None:
            e0 = _extent(outs[0])
            if er[0] < e0[1] and e0[0] < er[1]:
                problems.append("the result and the sign share memory")
    return problems


_nothing = contextlib.nullcontext


class watchdog:
    """A hang inside aborts the process with every thread's traceback after `timeout` seconds
    (faulthandler), so it shows up as a failed test or a dead subprocess, never a stuck run."""

    def __init__(self, timeout: float):
        self.timeout = timeout

    def __enter__(self):
        faulthandler.dump_traceback_later(self.timeout, exit=True)
        return self

    def __exit__(self, *exc):
        faulthandler.cancel_dump_traceback_later()


def run_case(func: Func, case: Case, timeout: float | None = 60.0) -> Outcome:
    """Runs one case in this process, under a watchdog of `timeout` seconds (None: the caller
    runs a watchdog around several cases)."""
    expect = case.expectation(func)
    x, kw = case.build()
    before = {k: _fingerprint(v) for k, v in [("x", x)] + [(k, v) for k, v in kw.items() if k != "out"]}
    with np.errstate(all="ignore"):
        ref_in = reference_inputs(x, kw) if expect == VALUE else None
    result, exc = None, None
    try:
        with warnings.catch_warnings(), (watchdog(timeout) if timeout else _nothing()):
            warnings.simplefilter("ignore")  # warnings on hostile input (e.g. overflow in a cast) are allowed
            result = func.call(x, **kw)
    except Exception as e:  # noqa: BLE001 - classified below
        exc = e
    problems = []
    for k, v in [("x", x)] + [(k, v) for k, v in kw.items() if k != "out"]:
        if k == "x" and case.inplace:
            continue
        if _fingerprint(v) != before[k]:
            problems.append(f"input {k} was modified")
    if isinstance(expect, Raises):
        arg = func.data_arg if expect.arg == DATA else (func.arg_names or {}).get(expect.arg, expect.arg)
        if exc is None:
            problems.append(f"returned {_short(result)} instead of raising {expect!r}")
        elif not isinstance(exc, expect.types):
            problems.append(f"raised {type(exc).__module__}.{type(exc).__name__}: {exc} (expected {expect!r})")
        elif not names_argument(str(exc), arg):
            problems.append(f"{type(exc).__name__} message does not name `{arg}`: {str(exc)!r}")
    elif exc is not None:
        problems.append(f"raised {type(exc).__module__}.{type(exc).__name__}: {exc} (expected a value)")
    else:
        try:
            with np.errstate(all="ignore"):  # the checks' own float64 arithmetic at +-max
                problems += check_value(func, case.inplace, x, kw, result, ref_in)
        except Exception as e:  # noqa: BLE001 - a check that cannot run is a finding too
            problems.append(f"result could not be checked: {type(e).__name__}: {e}; result {_short(result)}")
        if case.extra is not None:
            problems += case.extra(x, kw, result)
    return Outcome(func.name, case.id, not problems, problems, result, exc)


def applicable(funcs=None, cases=None):
    """(func, case) pairs: every case against every function that accepts its keyword arguments."""
    funcs = FUNCTIONS if funcs is None else funcs
    cases = CASES if cases is None else cases
    return [(f, c) for c in cases for f in funcs if c.applies_to(f)]


# ============================================================================================
# The other public functions (no array input): thread count and ISA
# ============================================================================================
def _set_threads(n):
    old = sm.get_num_threads()
    try:
        sm.set_num_threads(n)
        return sm.get_num_threads()
    finally:
        sm.set_num_threads(old)


# (id, call, expected: ("value", predicate) | Raises)
CONFIG_CASES = [
    ("set_num_threads(1)", lambda: _set_threads(1), ("value", lambda r: r == 1)),
    ("set_num_threads(3)", lambda: _set_threads(3), ("value", lambda r: r == 3)),
    ("set_num_threads(np.int64(2))", lambda: _set_threads(np.int64(2)), ("value", lambda r: r == 2)),
    ("set_num_threads(0)", lambda: _set_threads(0), Raises((ValueError,), "n")),
    ("set_num_threads(-1)", lambda: _set_threads(-1), Raises((ValueError,), "n")),
    ("set_num_threads(2**40)", lambda: _set_threads(2**40), Raises((ValueError, TypeError), "n")),
    ("set_num_threads(None)", lambda: _set_threads(None), Raises((TypeError,), "n")),
    ("set_num_threads(1.5)", lambda: _set_threads(1.5), Raises((TypeError,), "n")),
    ("set_num_threads('2')", lambda: _set_threads("2"), Raises((TypeError,), "n")),
    ("set_num_threads(True)", lambda: _set_threads(True), Raises((TypeError,), "n")),
    ("get_num_threads()", lambda: sm.get_num_threads(), ("value", lambda r: isinstance(r, int) and r >= 1)),
    ("cpu_isa()", lambda: sm.cpu_isa(), ("value", lambda r: r in ("avx512", "avx2", "baseline"))),
]


# --- functions with extra required arguments (k, target, grad): hostile rows, float64 NumPy references
def _close(r, ref, rtol=1e-12, atol=0.0):
    """r (any array type) equals the float64 reference, NaN where it is NaN."""
    a, b = to_f64(r), np.asarray(ref, np.float64)
    with np.errstate(invalid="ignore"):
        return a.shape == b.shape and bool(np.all((np.isnan(a) == np.isnan(b)) &
                                                  ((a == b) | (np.abs(a - b) <= atol + rtol * np.abs(b)) | np.isnan(b))))


def _ref_softmax64(x, log=False):
    x = np.asarray(x, np.float64)
    m = np.max(x, axis=-1, keepdims=True)
    lse = m + np.log(np.sum(np.exp(x - m), axis=-1, keepdims=True))
    return x - lse if log else np.exp(x - lse)


_X24 = np.array([[1.0, 3.0, 2.0, -1.0], [0.5, -2.0, 4.0, 1.5]])
_T2 = np.array([1, 2])


def _topk_ok(r, x, k, log=False):
    p = _ref_softmax64(x, log)
    idx = np.argsort(-np.asarray(x, np.float64), axis=-1, kind="stable")[..., :k]
    return (np.array_equal(to_f64(r.indices), idx) and _close(r.values, np.take_along_axis(p, idx, -1), 1e-12))


def _lse_topk_ok(r, x, k):
    x = np.asarray(x, np.float64)
    idx = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    lse = np.log(np.sum(np.exp(x), axis=-1))
    return (np.array_equal(to_f64(r.indices), idx) and _close(r.values, np.take_along_axis(x, idx, -1))
            and _close(r.logsumexp, lse, 1e-13))


def _ce_ref(x, t, kind):
    x = np.asarray(x, np.float64)
    if kind == "softmax":
        lp = _ref_softmax64(x, log=True)
    else:
        s = np.where(x >= 0, x + 1, 1 / (1 - np.minimum(x, 0)))
        lp = np.log(s / np.sum(s, axis=-1, keepdims=True))
    return -np.take_along_axis(lp, np.asarray(t)[..., None], -1)[..., 0]


def _sparsemax_loss_ref(x, t):
    p = _sparsemax_rows(np.asarray(x, np.float64))[0]
    z = np.asarray(x, np.float64)
    q = np.eye(z.shape[-1])[t]
    return np.sum((p - q) * z, axis=-1) + (np.sum(q * q, axis=-1) - np.sum(p * p, axis=-1)) / 2


def _tensor(v, dt="float64"):
    return torch.tensor(v, dtype=getattr(torch, dt))


_KROWS = []
for _f in ("softmax_topk", "logsumexp_topk"):
    _fn = getattr(sm, _f)
    for _kname, _k, _exp in [("0", 0, ValueError), ("-1", -1, ValueError), ("5>n", 5, ValueError), ("1.5", 1.5, TypeError),
                             ("2.0", 2.0, TypeError), ("True", True, TypeError), ("'2'", "2", TypeError),
                             ("None", None, TypeError), ("np.float64(2)", np.float64(2.0), TypeError)]:
        _KROWS.append((f"{_f}(k={_kname})", lambda fn=_fn, k=_k: fn(_X24, k), Raises((_exp,), "k")))
    _KROWS += [
        (f"{_f}(empty-axis,k=1)", lambda fn=_fn: fn(np.zeros((2, 0)), 1), Raises((ValueError,), "k")),
        (f"{_f}(axis=2)", lambda fn=_fn: fn(_X24, 1, axis=2), Raises((AxisError,), "axis")),
        (f"{_f}(int-x)", lambda fn=_fn: fn(np.array([1, 2, 3]), 1), Raises((TypeError,), "x")),
        (f"{_f}(bool-x)", lambda fn=_fn: fn(np.array([True, False]), 1), Raises((TypeError,), "x")),
        (f"{_f}(str-x)", lambda fn=_fn: fn("abc", 1), Raises((TypeError,), "x")),
    ]
_KROWS += [
    ("softmax_topk(k=np.int64(2))", lambda: _topk_ok(sm.softmax_topk(_X24, np.int64(2)), _X24, 2), ("value", bool)),
    ("softmax_topk(k=n,log)", lambda: _topk_ok(sm.softmax_topk(_X24, 4, log=True), _X24, 4, True), ("value", bool)),
    ("softmax_topk(axis=0)", lambda: (lambda r: r.values.shape == (1, 2) and _topk_ok(
        type(r)(to_f64(r.values).T, to_f64(r.indices).T.astype(np.int64)), _X24, 1))(
        sm.softmax_topk(_X24.T.copy(), 1, axis=0)), ("value", bool)),
    ("softmax_topk(huge)", lambda: _topk_ok(sm.softmax_topk(_X24 * 1e300, 2), _X24 * 1e300, 2), ("value", bool)),
    ("softmax_topk(nan-row)", lambda: _close(sm.softmax_topk(np.array([1.0, NAN, 2.0]), 2).values, [NAN, NAN]),
     ("value", bool)),
    ("softmax_topk(+inf-row)", lambda: _close(sm.softmax_topk(np.array([INF, 0.0, -INF]), 1).values, [NAN]),
     ("value", bool)),
    ("softmax_topk(0-d)", lambda: sm.softmax_topk(np.array(1.5), 1).values == 1.0, ("value", bool)),
    ("softmax_topk(log=1)", lambda: sm.softmax_topk(_X24, 1, log=1), Raises((TypeError,), "log")),
    ("logsumexp_topk(k=n)", lambda: _lse_topk_ok(sm.logsumexp_topk(_X24, 4), _X24, 4), ("value", bool)),
    ("logsumexp_topk(all-inf-neg)", lambda: _close(sm.logsumexp_topk(np.array([-INF, -INF]), 1).logsumexp, -INF),
     ("value", bool)),
    ("logsumexp_topk(+inf)", lambda: _close(sm.logsumexp_topk(np.array([INF, 0.0]), 1).logsumexp, INF),
     ("value", bool)),
    ("logsumexp_topk(nan)", lambda: _close(sm.logsumexp_topk(np.array([NAN, 0.0]), 1).logsumexp, NAN),
     ("value", bool)),
]
if torch is not None:
    _KROWS += [
        ("softmax_topk(torch-bfloat16,log)", lambda: (lambda r: r.values.dtype == torch.bfloat16 and r.indices.dtype
                                                      == torch.int64 and _close(r.values, [-0.4076, -1.4076], 1e-2))(
            sm.softmax_topk(_tensor([1.0, 2.0, 3.0], "bfloat16"), 2, log=True)), ("value", bool)),
        ("logsumexp_topk(torch-float16)", lambda: (lambda r: r.values.dtype == torch.float16 and _close(
            r.logsumexp, np.log(np.exp(1.0) + np.exp(2.0)), 2e-3))(sm.logsumexp_topk(_tensor([1.0, 2.0], "float16"), 1)),
         ("value", bool)),
    ]

_CE = {"softmax_cross_entropy": ("softmax", "logits"), "stablemax_cross_entropy": ("stablemax", "logits")}
for _f, (_kind, _xarg) in _CE.items():
    _fn = getattr(sm, _f)
    _KROWS += [
        (f"{_f}(ok)", lambda fn=_fn, k=_kind: _close(fn(_X24, _T2, reduction="none"), _ce_ref(_X24, _T2, k), 1e-12),
         ("value", bool)),
        (f"{_f}(mean)", lambda fn=_fn, k=_kind: _close(fn(_X24, _T2), np.mean(_ce_ref(_X24, _T2, k)), 1e-12),
         ("value", bool)),
        (f"{_f}(target-out-of-range)", lambda fn=_fn: fn(_X24, np.array([1, 4])), Raises((IndexError,), "target")),
        (f"{_f}(target-negative)", lambda fn=_fn: fn(_X24, np.array([-1, 0])), Raises((IndexError,), "target")),
        (f"{_f}(target-uint64-2**63)", lambda fn=_fn: fn(_X24, np.array([2**63, 0], np.uint64)),
         Raises((IndexError,), "target")),
        (f"{_f}(target-float)", lambda fn=_fn: fn(_X24, np.array([1.0, 2.0])), Raises((TypeError,), "target")),
        (f"{_f}(target-bool)", lambda fn=_fn: fn(_X24, np.array([True, False])), Raises((TypeError,), "target")),
        (f"{_f}(target-str)", lambda fn=_fn: fn(_X24, "a"), Raises((TypeError,), "target")),
        (f"{_f}(target-shape)", lambda fn=_fn: fn(_X24, np.array([1, 2, 0])), Raises((ValueError,), "target")),
        (f"{_f}(target-scalar)", lambda fn=_fn: fn(_X24, 1), Raises((ValueError,), "target")),
        (f"{_f}(ignore_index)", lambda fn=_fn, k=_kind: _close(fn(_X24, np.array([-100, 2]), reduction="none"),
                                                               [0.0, _ce_ref(_X24, _T2, k)[1]], 1e-12), ("value", bool)),
        (f"{_f}(all-ignored-mean)", lambda fn=_fn: _close(fn(_X24, np.array([-100, -100])), NAN), ("value", bool)),
        (f"{_f}(empty-batch)", lambda fn=_fn: _close(fn(np.zeros((0, 3)), np.zeros(0, np.int64)), NAN),
         ("value", bool)),
        (f"{_f}(empty-class-axis)", lambda fn=_fn: fn(np.zeros((2, 0)), np.array([0, 0])), Raises((ValueError,), _xarg)),
        (f"{_f}(0-d)", lambda fn=_fn: fn(np.array(1.0), np.array(0)), Raises((ValueError,), _xarg)),
        (f"{_f}(int-logits)", lambda fn=_fn: fn(np.array([[1, 2]]), np.array([0])), Raises((TypeError,), _xarg)),
        (f"{_f}(target-on-inf-neg)", lambda fn=_fn: _close(fn(np.array([[-INF, 0.0]]), np.array([0])), INF),
         ("value", bool)),
        (f"{_f}(nan-row)", lambda fn=_fn: _close(fn(np.array([[NAN, 0.0]]), np.array([1])), NAN), ("value", bool)),
        (f"{_f}(+inf-row)", lambda fn=_fn: _close(fn(np.array([[INF, 0.0]]), np.array([1])), NAN), ("value", bool)),
        (f"{_f}(reduction='avg')", lambda fn=_fn: fn(_X24, _T2, reduction="avg"), Raises((ValueError,), "reduction")),
        (f"{_f}(axis=2)", lambda fn=_fn: fn(_X24, _T2, axis=2), Raises((AxisError,), "axis")),
    ]
    if torch is not None:
        _KROWS.append((f"{_f}(torch-logits-numpy-target)", lambda fn=_fn, k=_kind: (
            lambda r: is_tensor(r) and r.dtype == torch.float32 and _close(r, _ce_ref(_X24, _T2, k), 1e-5))(
            fn(_tensor(_X24.tolist(), "float32"), _T2, reduction="none")), ("value", bool)))

_KROWS += [
    ("sparsemax_loss(ok)", lambda: _close(sm.sparsemax_loss(_X24, _T2), _sparsemax_loss_ref(_X24, _T2), 1e-12, 1e-15),
     ("value", bool)),
    ("sparsemax_loss(target-out-of-range)", lambda: sm.sparsemax_loss(_X24, np.array([1, 4])),
     Raises((ValueError, IndexError), "target")),
    ("sparsemax_loss(target-negative)", lambda: sm.sparsemax_loss(_X24, np.array([-1, 0])),
     Raises((ValueError, IndexError), "target")),
    ("sparsemax_loss(target-bool)", lambda: sm.sparsemax_loss(_X24, np.array([True, False])),
     Raises((TypeError,), "target")),
    ("sparsemax_loss(target-str)", lambda: sm.sparsemax_loss(_X24, "a"), Raises((TypeError,), "target")),
    ("sparsemax_loss(target-shape)", lambda: sm.sparsemax_loss(_X24, np.array([1, 2, 0])),
     Raises((ValueError,), "target")),
    ("sparsemax_loss(target-float-wrong-shape)", lambda: sm.sparsemax_loss(_X24, np.array([1.0, 2.0])),
     Raises((ValueError,), "target")),
    ("sparsemax_loss(target-not-a-distribution)", lambda: sm.sparsemax_loss(_X24, np.full((2, 4), 0.5)),
     Raises((ValueError,), "target")),
    ("sparsemax_loss(target-distribution)", lambda: _close(sm.sparsemax_loss(_X24, np.eye(4)[_T2]),
                                                           _sparsemax_loss_ref(_X24, _T2), 1e-12, 1e-15), ("value", bool)),
    ("sparsemax_loss(empty-class-axis)", lambda: sm.sparsemax_loss(np.zeros((2, 0)), np.array([0, 0])),
     Raises((ValueError,), "x")),
    ("sparsemax_loss(0-d)", lambda: sm.sparsemax_loss(np.array(1.0), np.array(0)), Raises((ValueError,), "x")),
    ("sparsemax_loss(empty-batch)", lambda: to_f64(sm.sparsemax_loss(np.zeros((0, 3)), np.zeros(0, np.int64))).shape
     == (0,), ("value", bool)),
    ("sparsemax_loss(target-on-inf-neg)", lambda: _close(sm.sparsemax_loss(np.array([[-INF, 0.0]]), np.array([0])), [INF]),
     ("value", bool)),
    ("sparsemax_loss(nan-row)", lambda: _close(sm.sparsemax_loss(np.array([[NAN, 0.0]]), np.array([0])), [NAN]),
     ("value", bool)),
    ("sparsemax_loss(reduction='avg')", lambda: sm.sparsemax_loss(_X24, _T2, reduction="avg"),
     Raises((ValueError,), "reduction")),
    ("sparsemax_loss(huge-offset)", lambda: _close(sm.sparsemax_loss(_X24 + 1e15, _T2), _sparsemax_loss_ref(_X24, _T2),
                                                   1e-9, 1e-9), ("value", bool)),
]

_Y = np.array([[0.55, 0.45, 0.0]])
_KROWS += [
    ("sparsemax_backward(ok)", lambda: _close(sm.sparsemax_backward(_Y, np.array([[1.0, 2.0, 3.0]])), [[-0.5, 0.5, 0.0]]),
     ("value", bool)),
    ("sparsemax_backward(grad-shape)", lambda: sm.sparsemax_backward(_Y, np.ones(3)), Raises((ValueError,), "grad")),
    ("sparsemax_backward(grad-int)", lambda: sm.sparsemax_backward(_Y, np.array([[1, 2, 3]])),
     Raises((TypeError,), "grad")),
    ("sparsemax_backward(grad-bool)", lambda: sm.sparsemax_backward(_Y, np.ones((1, 3), bool)),
     Raises((TypeError,), "grad")),
    ("sparsemax_backward(grad-str)", lambda: sm.sparsemax_backward(_Y, "abc"), Raises((TypeError,), "grad")),
    ("sparsemax_backward(y-int)", lambda: sm.sparsemax_backward(np.array([[1, 0]]), np.ones((1, 2))),
     Raises((TypeError,), "y")),
    ("sparsemax_backward(axis=2)", lambda: sm.sparsemax_backward(_Y, np.ones((1, 3)), axis=2),
     Raises((AxisError,), "axis")),
    ("sparsemax_backward(axis=0)", lambda: _close(sm.sparsemax_backward(_Y.T.copy(), np.array([[1.0], [2.0], [3.0]]),
                                                                        axis=0), [[-0.5], [0.5], [0.0]]), ("value", bool)),
    ("sparsemax_backward(grad-float32)", lambda: (lambda r: r.dtype == np.float32 and _close(r, [[-0.5, 0.5, 0.0]]))(
        sm.sparsemax_backward(_Y, np.array([[1.0, 2.0, 3.0]], np.float32))), ("value", bool)),
    ("sparsemax_backward(nan-y)", lambda: _close(sm.sparsemax_backward(np.array([NAN, NAN]), np.ones(2)), [NAN, NAN]),
     ("value", bool)),
    ("sparsemax_backward(empty)", lambda: to_f64(sm.sparsemax_backward(np.zeros((2, 0)), np.zeros((2, 0)))).shape
     == (2, 0), ("value", bool)),
    ("sparsemax_backward(0-d)", lambda: _close(sm.sparsemax_backward(np.array(1.0), np.array(3.0)), 0.0),
     ("value", bool)),
]
if torch is not None:
    _KROWS.append(("sparsemax_backward(torch-y-numpy-grad)", lambda: (lambda r: is_tensor(r) and _close(
        r, [[-0.5, 0.5, 0.0]]))(sm.sparsemax_backward(torch.tensor(_Y), np.array([[1.0, 2.0, 3.0]]))), ("value", bool)))

_C2 = np.array([[0.0, -20.0], [0.0, 0.0]])
_KROWS += [
    ("softmax_collapse(float32)", lambda: (lambda r: (r.fraction_sum_is_one, r.fraction_gap, r.rows) == (0.5, 0.5, 2))(
        sm.softmax_collapse(_C2)), ("value", bool)),
    ("softmax_collapse(float64)", lambda: sm.softmax_collapse(_C2, dtype="float64").fraction_gap == 0.0, ("value", bool)),
    ("softmax_collapse(bfloat16-threshold)", lambda: abs(sm.softmax_collapse(_C2, dtype="bfloat16").threshold
                                                         - 7 * math.log(2)) < 1e-12, ("value", bool)),
    ("softmax_collapse(np.float16)", lambda: sm.softmax_collapse(_C2, dtype=np.float16).dtype == "float16",
     ("value", bool)),
    ("softmax_collapse(dtype='int32')", lambda: sm.softmax_collapse(_C2, dtype="int32"),
     Raises((ValueError, TypeError), "dtype")),
    ("softmax_collapse(dtype=3)", lambda: sm.softmax_collapse(_C2, dtype=3), Raises((ValueError, TypeError), "dtype")),
    ("softmax_collapse(dtype=None)", lambda: sm.softmax_collapse(_C2, dtype=None), Raises((ValueError, TypeError), "dtype")),
    ("softmax_collapse(non-finite-rows)", lambda: (lambda r: not r.sum_is_one.any() and not r.gap_exceeds.any()
                                                   and np.isnan(r.gap).all())(
        sm.softmax_collapse(np.array([[NAN, 0.0], [INF, 0.0], [-INF, -INF]]), per_row=True)), ("value", bool)),
    ("softmax_collapse(tie)", lambda: (lambda r: r.gap[0] == 0 and not r.sum_is_one[0])(
        sm.softmax_collapse(np.array([[5.0, 5.0, 1.0]]), per_row=True)), ("value", bool)),
    ("softmax_collapse(one-class)", lambda: (lambda r: np.isposinf(r.gap).all() and r.sum_is_one.all())(
        sm.softmax_collapse(np.array([[1.0], [2.0]]), per_row=True)), ("value", bool)),
    ("softmax_collapse(empty-class-axis)", lambda: sm.softmax_collapse(np.zeros((2, 0))),
     Raises((ValueError,), "logits")),
    ("softmax_collapse(0-d)", lambda: sm.softmax_collapse(np.array(1.0)), Raises((ValueError,), "logits")),
    ("softmax_collapse(int-logits)", lambda: sm.softmax_collapse(np.array([[1, 2]])), Raises((TypeError,), "logits")),
    ("softmax_collapse(per_row=1)", lambda: sm.softmax_collapse(_C2, per_row=1), Raises((TypeError,), "per_row")),
    ("softmax_collapse(axis=2)", lambda: sm.softmax_collapse(_C2, axis=2), Raises((AxisError,), "axis")),
    ("softmax_collapse(empty-batch)", lambda: (lambda r: r.rows == 0 and math.isnan(r.fraction_gap))(
        sm.softmax_collapse(np.zeros((0, 2)))), ("value", bool)),
]
CONFIG_CASES += _KROWS


# --- density estimation and the vMF distribution: data / parameter arguments ---------------------
def _no_warn(fn):
    """Runs fn with warnings turned into errors (a hostile input must not pass with only a warning
    unless documented: on_unnormalized="warn")."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return fn()


def _gauss_kde_ref(Y, X, h):
    """log mean_j N(y; x_j, h^2 I) in float64, log-sum-exp shifted."""
    Y, X = np.asarray(Y, np.float64), np.asarray(X, np.float64)
    d = X.shape[1]
    e = -np.sum((Y[:, None, :] - X[None, :, :]) ** 2, axis=-1) / (2 * h * h)
    m = np.max(e, axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.mean(np.exp(e - m), axis=1)) - d / 2 * np.log(2 * np.pi * h * h))


def _vmf_logc64(d, k):
    return float(_vmf_scalar("vmf_log_c", float(d), float(k)))


_KX = np.array([[0.0, 0.0], [1.0, 0.5], [-1.0, 2.0], [0.5, -0.5]])
_KU = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]])
_MU = np.array([0.0, 0.0, 1.0])
_kde = sm.kde_logpdf
_KROWS2 = [
    ("kde_logpdf(gaussian)", lambda: _close(_kde(_KX[:2], _KX, bandwidth=1.0), _gauss_kde_ref(_KX[:2], _KX, 1.0), 1e-12),
     ("value", bool)),
    ("kde_logpdf(far-query-no-underflow)", lambda: _close(_kde(np.array([[1e4, 0.0]]), _KX, bandwidth=0.01),
                                                          _gauss_kde_ref([[1e4, 0.0]], _KX, 0.01), 1e-12), ("value", bool)),
    ("kde_logpdf(nan-in-X)", lambda: _kde(_KX[:1], np.array([[NAN, 0.0], [1.0, 1.0]]), bandwidth=1.0),
     Raises((ValueError,), "X")),
    ("kde_logpdf(inf-in-X)", lambda: _kde(_KX[:1], np.array([[INF, 0.0], [1.0, 1.0]]), bandwidth=1.0),
     Raises((ValueError,), "X")),
    ("kde_logpdf(nan-in-Y)", lambda: _kde(np.array([[NAN, 0.0]]), _KX, bandwidth=1.0), Raises((ValueError,), "Y")),
    ("kde_logpdf(d-mismatch)", lambda: _kde(np.ones((2, 3)), _KX, bandwidth=1.0), Raises((ValueError,), "Y")),
    ("kde_logpdf(n=0)", lambda: _kde(_KX[:1], np.zeros((0, 2)), bandwidth=1.0), Raises((ValueError,), "X")),
    ("kde_logpdf(no-queries)", lambda: to_f64(_kde(np.zeros((0, 2)), _KX, bandwidth=1.0)).shape == (0,),
     ("value", bool)),
    ("kde_logpdf(int-X)", lambda: _kde(_KX[:1], np.ones((3, 2), np.int64), bandwidth=1.0), Raises((TypeError,), "X")),
    ("kde_logpdf(bool-X)", lambda: _kde(_KX[:1], np.ones((3, 2), bool), bandwidth=1.0), Raises((TypeError,), "X")),
    ("kde_logpdf(str-X)", lambda: _kde(_KX[:1], "abc", bandwidth=1.0), Raises((TypeError,), "X")),
    ("kde_logpdf(kernel='tophat')", lambda: _kde(_KX[:1], _KX, kernel="tophat"), Raises((ValueError,), "kernel")),
    ("kde_logpdf(covariance='weird')", lambda: _kde(_KX[:1], _KX, covariance="weird"),
     Raises((ValueError,), "covariance")),
    ("kde_logpdf(scott-one-point)", lambda: _kde(_KX[:1], _KX[:1]), Raises((ValueError,), "bandwidth")),
    ("kde_logpdf(weights-negative)", lambda: _kde(_KX[:1], _KX, bandwidth=1.0, weights=np.array([1.0, -1, 1, 1])),
     Raises((ValueError,), "weights")),
    ("kde_logpdf(weights-zero-sum)", lambda: _kde(_KX[:1], _KX, bandwidth=1.0, weights=np.zeros(4)),
     Raises((ValueError,), "weights")),
    ("kde_logpdf(weights-shape)", lambda: _kde(_KX[:1], _KX, bandwidth=1.0, weights=np.ones(3)),
     Raises((ValueError,), "weights")),
    ("kde_logpdf(vmf)", lambda: _close(_kde(_KU[:1], _KU, bandwidth=5.0, kernel="vmf"), [np.log(np.mean(np.exp(
        _vmf_logc64(3, 5.0) + 5.0 * (_KU @ _KU[0]))))], 1e-12), ("value", bool)),
    ("kde_logpdf(vmf-zero-row)", lambda: _kde(_KU[:1], np.vstack([_KU, np.zeros(3)]), bandwidth=5.0, kernel="vmf"),
     Raises((ValueError,), "X")),
    ("kde_logpdf(vmf-nan)", lambda: _kde(_KU[:1], np.vstack([_KU, [NAN, 0, 0]]), bandwidth=5.0, kernel="vmf"),
     Raises((ValueError,), "X")),
    ("kde_logpdf(vmf-unnormalized-raise)", lambda: _kde(_KU[:1], 2 * _KU, bandwidth=5.0, kernel="vmf",
                                                        on_unnormalized="raise"), Raises((ValueError,), "X")),
    ("kde_logpdf(vmf-on_unnormalized='x')", lambda: _kde(_KU[:1], _KU, bandwidth=5.0, kernel="vmf", on_unnormalized="x"),
     Raises((ValueError,), "on_unnormalized")),
]
for _bname, _bw, _exp in [("0", 0.0, ValueError), ("-1", -1.0, ValueError), ("nan", NAN, ValueError),
                          ("inf", INF, ValueError), ("'x'", "x", ValueError), ("None", None, TypeError),
                          ("True", True, TypeError), ("[1.0]", [1.0], TypeError)]:
    _KROWS2.append((f"kde_logpdf(bandwidth={_bname})", lambda bw=_bw: _kde(_KX[:1], _KX, bandwidth=bw),
                    Raises((_exp,), "bandwidth")))
    if _bname in ("0", "-1", "nan", "inf", "'x'"):
        _KROWS2.append((f"kde_logpdf(vmf,kappa={_bname})", lambda bw=_bw: _kde(_KU[:1], _KU, bandwidth=bw, kernel="vmf"),
                        Raises((_exp,), "kappa")))
if torch is not None:
    _KROWS2.append(("kde_logpdf(torch-float32)", lambda: (lambda r: is_tensor(r) and _close(
        r, _gauss_kde_ref(_KX[:2], _KX, 1.0), 1e-5))(_kde(_tensor(_KX[:2].tolist(), "float32"), _tensor(_KX.tolist()),
                                                          bandwidth=1.0)), ("value", bool)))

_KROWS2 += [
    ("GaussianKDE(unfitted)", lambda: sm.GaussianKDE(1.0).score_samples(_KX), Raises((ValueError,), "GaussianKDE")),
    ("GaussianKDE(fit-score_samples)", lambda: _close(sm.GaussianKDE(1.0).fit(_KX).score_samples(_KX),
                                                      _gauss_kde_ref(_KX, _KX, 1.0), 1e-12), ("value", bool)),
    ("GaussianKDE(score)", lambda: _close(sm.GaussianKDE(1.0).fit(_KX).score(_KX),
                                          np.sum(_gauss_kde_ref(_KX, _KX, 1.0)), 1e-12), ("value", bool)),
    ("GaussianKDE(fit-nan)", lambda: sm.GaussianKDE(1.0).fit(np.array([[NAN, 0.0], [0.0, 1.0]])),
     Raises((ValueError,), "X")),
    ("GaussianKDE(fit-n=0)", lambda: sm.GaussianKDE(1.0).fit(np.zeros((0, 2))), Raises((ValueError,), "X")),
    ("GaussianKDE(bandwidth=-1)", lambda: sm.GaussianKDE(-1.0).fit(_KX), Raises((ValueError,), "bandwidth")),
    ("GaussianKDE(score_samples-d-mismatch)", lambda: sm.GaussianKDE(1.0).fit(_KX).score_samples(np.ones((1, 3))),
     Raises((ValueError,), "Y")),
    ("GaussianKDE(sample)", lambda: (lambda s: s.shape == (3, 2) and np.isfinite(s).all())(
        sm.GaussianKDE(1.0).fit(_KX).sample(3, seed=0)), ("value", bool)),
    ("GaussianKDE(sample-n=-1)", lambda: sm.GaussianKDE(1.0).fit(_KX).sample(-1, seed=0),
     Raises((ValueError,), "n_samples")),
    ("GaussianKDE(sample-n=1.5)", lambda: sm.GaussianKDE(1.0).fit(_KX).sample(1.5, seed=0),
     Raises((TypeError,), "n_samples")),
    ("GaussianKDE(cv_scores-negative)", lambda: sm.GaussianKDE(1.0).fit(_KX).cv_scores([1.0, -1.0]),
     Raises((ValueError,), "bandwidths")),
    ("VonMisesFisherKDE(unfitted)", lambda: sm.VonMisesFisherKDE(5.0).score_samples(_KU),
     Raises((ValueError,), "VonMisesFisherKDE")),
    ("VonMisesFisherKDE(kappa=0)", lambda: sm.VonMisesFisherKDE(0.0).fit(_KU), Raises((ValueError,), "kappa")),
    ("VonMisesFisherKDE(kappa=-1)", lambda: sm.VonMisesFisherKDE(-1.0).fit(_KU), Raises((ValueError,), "kappa")),
    ("VonMisesFisherKDE(fit-zero-row)", lambda: sm.VonMisesFisherKDE(5.0).fit(np.vstack([_KU, np.zeros(3)])),
     Raises((ValueError,), "X")),
    ("VonMisesFisherKDE(fit-n=0)", lambda: sm.VonMisesFisherKDE(5.0).fit(np.zeros((0, 3))), Raises((ValueError,), "X")),
    ("VonMisesFisherKDE(score_samples-d-mismatch)", lambda: sm.VonMisesFisherKDE(5.0).fit(_KU).score_samples(
        np.array([[1.0, 0.0]])), Raises((ValueError,), "Y")),
    ("VonMisesFisherKDE(rot-identical-points)", lambda: (lambda k: k > 0 and math.isfinite(k))(
        sm.VonMisesFisherKDE().fit(np.tile(_MU, (3, 1))).kappa_), ("value", bool)),
    ("VonMisesFisherKDE(sample)", lambda: (lambda s: s.shape == (2, 3) and _close(np.linalg.norm(s, axis=1), [1, 1], 1e-12))(
        sm.VonMisesFisherKDE(5.0).fit(_KU).sample(2, seed=0)), ("value", bool)),
    ("SoftmaxCollapse(fields)", lambda: (lambda r: (r.rows, r.dtype, r.gap) == (2, "float32", None))(
        sm.SoftmaxCollapse(0.5, 0.5, 1.0, "float32", 2)), ("value", bool)),
    ("SoftmaxCollapse(returned-by-softmax_collapse)", lambda: isinstance(
        sm.softmax_collapse(np.array([[0.0, -20.0]])), sm.SoftmaxCollapse), ("value", bool)),
]

_vl = sm.vmf_logpdf
_KROWS2 += [
    ("vmf_logpdf(ok)", lambda: _close(_vl(_KU, _MU, 2.0), _vmf_logc64(3, 2.0) + 2.0 * (_KU @ _MU), 1e-13),
     ("value", bool)),
    ("vmf_logpdf(kappa=0)", lambda: _close(_vl(_KU, _MU, 0.0), np.full(4, _vmf_logc64(3, 0.0)), 1e-13), ("value", bool)),
    ("vmf_logpdf(kappa=inf)", lambda: _close(_vl(np.vstack([_KU, _MU]), _MU, INF), [-INF] * 4 + [INF]), ("value", bool)),
    ("vmf_logpdf(kappa=nan)", lambda: _close(_vl(_KU, _MU, NAN), [NAN] * 4), ("value", bool)),
    ("vmf_logpdf(x-nan)", lambda: _close(_vl(np.array([[NAN, 0, 0]]), _MU, 1.0), [NAN]), ("value", bool)),
    # log C_3(k) + k = log(k / 2 pi) - log1p(-e^-2k): no cancellation of two 1e12 terms allowed
    ("vmf_logpdf(kappa=1e12-at-mode)", lambda: _close(_vl(_MU[None], _MU, 1e12), [math.log(1e12 / (2 * math.pi))], 1e-13),
     ("value", bool)),
    ("vmf_logpdf(kappa-array)", lambda: _close(_vl(_KU, _MU, np.array([1.0, 2.0, 3.0, 4.0])), [
        _vmf_logc64(3, k) + k * c for k, c in zip([1.0, 2.0, 3.0, 4.0], _KU @ _MU)], 1e-13), ("value", bool)),
    ("vmf_logpdf(kappa=-1)", lambda: _vl(_KU, _MU, -1.0), Raises((ValueError,), "kappa")),
    ("vmf_logpdf(kappa-str)", lambda: _vl(_KU, _MU, "a"), Raises((TypeError,), "kappa")),
    ("vmf_logpdf(kappa-not-broadcast)", lambda: _vl(_KU, _MU, np.ones(3)), Raises((ValueError,), "kappa")),
    ("vmf_logpdf(mu-shape)", lambda: _vl(_KU, _MU[:2], 1.0), Raises((ValueError,), "mu")),
    ("vmf_logpdf(mu-not-unit)", lambda: _vl(_KU, 2 * _MU, 1.0), Raises((ValueError,), "mu")),
    ("vmf_logpdf(x-not-unit)", lambda: _vl(2 * _KU, _MU, 1.0), Raises((ValueError,), "x")),
    ("vmf_logpdf(d=1)", lambda: _vl(np.ones((2, 1)), np.ones(1), 1.0), Raises((ValueError,), "x")),
    ("vmf_logpdf(0-d)", lambda: _vl(np.array(1.0), _MU, 1.0), Raises((ValueError,), "x")),
    ("vmf_logpdf(bool-mu)", lambda: _vl(_KU, np.array([False, False, True]), 1.0), Raises((TypeError,), "mu")),
    ("vmf_logpdf(empty)", lambda: to_f64(_vl(np.zeros((0, 3)), _MU, 2.0)).shape == (0,), ("value", bool)),
    ("vmf_fit(ok)", lambda: (lambda r: _close(r[0], _KU.mean(0) / np.linalg.norm(_KU.mean(0)), 1e-14) and abs(
        r[1] - _vmf_kappa_mle(3.0, float(np.linalg.norm(_KU.mean(0))))) <= 1e-12 * r[1])(sm.vmf_fit(_KU)),
     ("value", bool)),
    ("vmf_fit(identical-points)", lambda: (lambda r: _close(r[0], _MU) and r[1] > 1e12)(sm.vmf_fit(np.tile(_MU, (3, 1)))),
     ("value", bool)),
    ("vmf_fit(opposite-points)", lambda: (lambda r: np.isnan(to_f64(r[0])).all() and r[1] == 0.0)(
        sm.vmf_fit(np.array([_MU, -_MU]))), ("value", bool)),
    ("vmf_fit(nan)", lambda: (lambda r: np.isnan(to_f64(r[0])).all() and math.isnan(r[1]))(
        sm.vmf_fit(np.array([_MU, [NAN, 0, 0]]))), ("value", bool)),
    ("vmf_fit(weights-nan)", lambda: (lambda r: np.isnan(to_f64(r[0])).all() and math.isnan(r[1]))(
        sm.vmf_fit(_KU, np.array([1.0, NAN, 1, 1]))), ("value", bool)),
    ("vmf_fit(n=0)", lambda: sm.vmf_fit(np.zeros((0, 3))), Raises((ValueError,), "X")),
    ("vmf_fit(1-d)", lambda: sm.vmf_fit(_MU), Raises((ValueError,), "X")),
    ("vmf_fit(d=1)", lambda: sm.vmf_fit(np.ones((3, 1))), Raises((ValueError,), "X")),
    ("vmf_fit(not-unit)", lambda: sm.vmf_fit(2 * _KU), Raises((ValueError,), "X")),
    ("vmf_fit(weights-negative)", lambda: sm.vmf_fit(_KU, np.array([1.0, -1, 1, 1])), Raises((ValueError,), "weights")),
    ("vmf_fit(weights-zero-sum)", lambda: sm.vmf_fit(_KU, np.zeros(4)), Raises((ValueError,), "weights")),
    ("vmf_fit(weights-shape)", lambda: sm.vmf_fit(_KU, np.ones(3)), Raises((ValueError,), "weights")),
    ("vmf_sample(ok)", lambda: (lambda s: s.shape == (3, 3) and _close(np.linalg.norm(s, axis=1), [1] * 3, 1e-12))(
        sm.vmf_sample(_MU, 2.0, 3, seed=0)), ("value", bool)),
    ("vmf_sample(n=0)", lambda: to_f64(sm.vmf_sample(_MU, 2.0, 0, seed=0)).shape == (0, 3), ("value", bool)),
    ("vmf_sample(kappa=inf)", lambda: _close(sm.vmf_sample(_MU, INF, 2, seed=0), [_MU, _MU]), ("value", bool)),
    ("vmf_sample(kappa=nan)", lambda: np.isnan(to_f64(sm.vmf_sample(_MU, NAN, 2, seed=0))).all(), ("value", bool)),
    ("vmf_sample(mu-nan)", lambda: np.isnan(to_f64(sm.vmf_sample(np.array([NAN, 0, 1.0]), 1.0, 2, seed=0))).all(),
     ("value", bool)),
    ("vmf_sample(kappa=1e300)", lambda: (lambda s: np.all(np.abs(s[:, 2] - 1) == 0) and np.all(np.abs(s[:, :2]) < 1e-140))(
        to_f64(sm.vmf_sample(_MU, 1e300, 2, seed=0))), ("value", bool)),
    ("vmf_sample(np.int64-n)", lambda: to_f64(sm.vmf_sample(_MU, 1.0, np.int64(2), seed=0)).shape == (2, 3),
     ("value", bool)),
    ("vmf_sample(kappa=-1)", lambda: sm.vmf_sample(_MU, -1.0, 2, seed=0), Raises((ValueError,), "kappa")),
    ("vmf_sample(kappa-array)", lambda: sm.vmf_sample(_MU, np.array([1.0, 2.0]), 2, seed=0),
     Raises((ValueError,), "kappa")),
    ("vmf_sample(kappa-str)", lambda: sm.vmf_sample(_MU, "a", 2, seed=0), Raises((TypeError,), "kappa")),
    ("vmf_sample(mu-not-unit)", lambda: sm.vmf_sample(2 * _MU, 1.0, 2, seed=0), Raises((ValueError,), "mu")),
    ("vmf_sample(d=1)", lambda: sm.vmf_sample(np.ones(1), 1.0, 2, seed=0), Raises((ValueError,), "mu")),
    ("vmf_sample(seed='x')", lambda: sm.vmf_sample(_MU, 1.0, 2, seed="x"), Raises((TypeError, ValueError), "seed")),
]
for _nname, _n, _exp in [("-1", -1, ValueError), ("1.5", 1.5, TypeError), ("True", True, TypeError),
                         ("'3'", "3", TypeError), ("None", None, TypeError)]:
    _KROWS2.append((f"vmf_sample(n={_nname})", lambda n=_n: sm.vmf_sample(_MU, 2.0, n, seed=0), Raises((_exp,), "n")))
if torch is not None:
    _KROWS2 += [
        ("vmf_logpdf(torch-float32)", lambda: (lambda r: is_tensor(r) and r.dtype == torch.float32 and _close(
            r, _vmf_logc64(3, 2.0) + 2.0 * (_KU @ _MU), 1e-5))(_vl(_tensor(_KU.tolist(), "float32"),
                                                                _tensor(_MU.tolist(), "float32"), 2.0)), ("value", bool)),
        ("vmf_fit(torch)", lambda: is_tensor(sm.vmf_fit(_tensor(_KU.tolist()))[0]), ("value", bool)),
        ("vmf_sample(torch-float32)", lambda: (lambda s: is_tensor(s) and s.dtype == torch.float32 and tuple(s.shape)
                                               == (2, 3))(sm.vmf_sample(_tensor(_MU.tolist(), "float32"), 1.0, 2, seed=0)),
         ("value", bool)),
    ]
CONFIG_CASES += [(cid, (lambda f=f: _no_warn(f)), e) for cid, f, e in _KROWS2]


def run_config_case(case) -> Outcome:
    cid, call, expect = case
    try:
        r, exc = call(), None
    except Exception as e:  # noqa: BLE001
        r, exc = None, e
    problems = []
    if isinstance(expect, Raises):
        if exc is None:
            problems.append(f"returned {_short(r)} instead of raising {expect!r}")
        elif not isinstance(exc, expect.types):
            problems.append(f"raised {type(exc).__name__}: {exc} (expected {expect!r})")
        elif not names_argument(str(exc), expect.arg):
            problems.append(f"message does not name `{expect.arg}`: {str(exc)!r}")
    elif exc is not None:
        problems.append(f"raised {type(exc).__name__}: {exc}")
    elif not expect[1](r):
        problems.append(f"unexpected value {r!r}")
    return Outcome(cid.split("(")[0], cid, not problems, problems, r, exc)


def main(argv=None) -> int:
    import argparse
    import collections
    import time

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-v", "--verbose", action="store_true", help="print every failing case")
    ap.add_argument("-k", default="", help="only cases whose id contains this")
    ap.add_argument("--trace", action="store_true", help="print each case id to stderr before running it")
    args = ap.parse_args(argv)
    faulthandler.enable()
    t0 = time.perf_counter()
    counts, fails = collections.Counter(), collections.Counter()
    outcomes = []
    with watchdog(600):
        for func, case in applicable():
            if args.k in case.id:
                if args.trace:  # the last line on stderr names the case of a crash
                    print(f"running {func.name}: {case.id}", file=sys.stderr, flush=True)
                outcomes.append((func, run_case(func, case, timeout=None)))
    for func, o in outcomes:
        counts[func.name] += 1
        if not o.ok:
            fails[func.name] += 1
            if args.verbose:
                print(o)
    for case in CONFIG_CASES:
        o = run_config_case(case)
        counts[o.func] += 1
        if not o.ok:
            fails[o.func] += 1
            if args.verbose:
                print(o)
    for name in counts:
        print(f"{name}: {counts[name]} cases, {fails[name]} failing")
    print(f"corpus completed in {time.perf_counter() - t0:.1f} s: {sum(counts.values())} cases, "
          f"{sum(fails.values())} failing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
