"""von Mises-Fisher distribution on the unit sphere S^{d-1} in R^d: log normaliser, mean resultant
length, log density, maximum-likelihood fit and sampling.

The element-wise functions (vmf_log_normalizer, vmf_mean_resultant, vmf_kappa_mle) are special
functions: they broadcast like ufuncs and give NaN outside their domain. The distribution functions
(vmf_logpdf, vmf_fit, vmf_sample) check their arguments and raise ValueError/TypeError instead.
"""
from __future__ import annotations

import numbers

import numpy as np

from ._arrays import _torch, aux_to_numpy, convert
from ._special import _elementwise, _result_dtype

__all__ = ["vmf_log_normalizer", "vmf_mean_resultant", "vmf_kappa_mle", "vmf_logpdf", "vmf_fit", "vmf_sample"]

_EPS = {np.dtype(np.float64): np.finfo(np.float64).eps, np.dtype(np.float32): np.finfo(np.float32).eps}


def vmf_log_normalizer(d, kappa):
    """log C_d(kappa), where C_d(kappa) exp(kappa mu.x) is the vMF density on S^{d-1}.

    log C_d(kappa) = (d/2 - 1) log kappa - (d/2) log(2 pi) - log I_{d/2-1}(kappa), evaluated without
    overflow for any kappa in [0, inf] and any real d >= 2 (d = 32768 and beyond); at kappa = 0 it is
    minus the log of the sphere's area. d = 1 (the two points +-1) is accepted too. Element-wise
    with broadcasting; kappa < 0, d < 1, 1 < d < 2 give NaN; NaN propagates; kappa = inf gives inf.
    """
    return _elementwise("vmf_log_c", ("d", "kappa"), (d, kappa))


def vmf_mean_resultant(d, kappa):
    """A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa) = E[mu.x], in [0, 1); d/dkappa log C_d = -A_d.

    From a ratio algorithm (not a difference of logs), so 1 - A_d keeps its digits up to
    kappa ~ 1e15. Element-wise; domain as :func:`vmf_log_normalizer`; kappa = inf gives 1.
    """
    return _elementwise("vmf_a", ("d", "kappa"), (d, kappa))


def vmf_kappa_mle(d, rbar):
    """The kappa that solves A_d(kappa) = rbar: the maximum-likelihood concentration for a sample
    whose mean resultant length is rbar.

    Safeguarded Newton iteration (bracketed by Amos-type bounds, started from Banerjee et al.'s
    approximation, at most 100 steps), in compiled scalar code. Inverts A_d to a few ulp of A, i.e.
    to ~1e-16 / (1 - rbar) relative in kappa. For d >= 2^62 the root is the closed form
    (d - 2) rbar / (1 - rbar^2) (the 1/d corrections are below double precision there), inf where
    it exceeds the float range. rbar = 0 gives 0, rbar = 1 gives inf, rbar outside [0, 1], d < 2
    (except d = 1: atanh(rbar)) give NaN. Element-wise with broadcasting.
    """
    return _elementwise("vmf_kappa_mle", ("d", "rbar"), (d, rbar))


# ---- helpers for the distribution functions ------------------------------------------------------
def _as_float64(conv):
    """NumPy float64 copy/view of a converted argument."""
    native = conv.native
    torch = _torch()
    if torch is not None and isinstance(native, torch.Tensor):
        return native.to(torch.float64).numpy()
    return np.asarray(native, dtype=np.float64)


def _wrap_like(conv, lib, dtype, arr):
    """arr (float64 NumPy) in the caller's array type and the result dtype."""
    if lib == "torch":
        return _torch().from_numpy(np.array(arr, dtype=np.float64)).to(dtype)  # a writable copy
    return conv.wrap(np.asarray(arr, dtype=dtype))


def _default_atol(dtype) -> float:
    eps = _EPS.get(np.dtype(dtype), np.finfo(np.float32).eps)
    return float(np.sqrt(eps))


def _check_unit_rows(a, name, atol):
    """Rows along the last axis must have norm 1 within atol (NaN rows pass: NaN in, NaN out)."""
    dev = np.abs(np.sqrt(np.einsum("...i,...i->...", a, a)) - 1.0)
    bad = dev > atol  # NaN compares False
    if np.any(bad):
        worst = float(np.max(dev[bad]))
        where = np.unravel_index(int(np.argmax(np.where(bad, dev, -1.0))), bad.shape) if bad.ndim else ()
        raise ValueError(f"{name}: must be unit vectors along the last axis (| ||{name}|| - 1 | <= atol = {atol:.3g}); "
                         f"found a deviation of {worst:.3g}" + (f" at index {tuple(int(i) for i in where)}" if where else ""))


def _check_dim(d, name):
    if d < 2:
        raise ValueError(f"{name}: the last axis is the dimension d and must have length >= 2, got {d}")


def _kappa_array(kappa):
    conv = convert(kappa, "kappa", allow_int=True)
    k = _as_float64(conv)
    if np.any(k < 0):  # NaN passes (NaN out)
        raise ValueError(f"kappa: must be >= 0, got {float(np.min(k))}")
    return conv, k


# ---- distribution functions ----------------------------------------------------------------------
def vmf_logpdf(x, mu, kappa, *, atol=None):
    """log density of vMF(mu, kappa) at the unit vectors x: log C_d(kappa) + kappa mu.x.

    x: (..., d) unit vectors; mu: (d,) unit vector; kappa >= 0, a scalar or an array that broadcasts
    against x.shape[:-1]. The result has shape broadcast(x.shape[:-1], kappa.shape), the array type
    of x, and dtype float64 unless every array is float32 or narrower (then float32).

    Computed as (log C_d(kappa) + kappa) - kappa ||x - mu||^2 / 2, which equals the formula above on
    the sphere and has no cancellation between two O(kappa) terms: it stays accurate near the mode
    at kappa = 1e12 and in d = 32768, where log C_d alone is ~ -kappa.

    Norms are checked: | ||x|| - 1 | <= atol and | ||mu|| - 1 | <= atol, with atol defaulting to
    sqrt(eps) of the input dtype (1.5e-8 for float64, 3.5e-4 for float32 and narrower); ValueError
    otherwise, also for a shape mismatch, d < 2 or kappa < 0. NaN in any argument gives NaN where it
    reaches. kappa = inf gives +inf at x = mu and -inf elsewhere.
    """
    cx = convert(x, "x", allow_int=True)
    cm = convert(mu, "mu", allow_int=True)
    ck, k = _kappa_array(kappa)
    lib, dtype = _result_dtype([cx, cm, ck])
    if cx.ndim < 1:
        raise ValueError("x: expected an array of shape (..., d), got a 0-d value")
    d = cx.shape[-1]
    _check_dim(d, "x")
    if cm.ndim != 1 or cm.shape[0] != d:
        raise ValueError(f"mu: expected shape ({d},) to match x's last axis, got {cm.shape}")
    try:
        shape = np.broadcast_shapes(cx.shape[:-1], k.shape)
    except ValueError:
        raise ValueError(f"kappa: shape {k.shape} does not broadcast against x.shape[:-1] = {cx.shape[:-1]}") from None
    tol = _default_atol(np.float64 if "64" in str(dtype) else np.float32) if atol is None else float(atol)
    xa, ma = _as_float64(cx), _as_float64(cm)
    _check_unit_rows(xa, "x", tol)
    _check_unit_rows(ma, "mu", tol)
    diff = xa - ma
    sq = np.einsum("...i,...i->...", diff, diff)
    lcs = _elementwise("vmf_log_c_scaled", ("d", "kappa"), (float(d), k))
    with np.errstate(invalid="ignore"):
        out = np.asarray(lcs - 0.5 * k * sq, dtype=np.float64)
        inf_k = np.broadcast_to(np.isinf(k), shape)
        if np.any(inf_k):
            at_mode = np.broadcast_to(sq == 0, shape)
            out = np.where(inf_k, np.where(at_mode, np.inf, -np.inf), np.broadcast_to(out, shape))
    return _wrap_like(cx, lib, dtype, np.broadcast_to(out, shape))


def vmf_fit(X, weights=None, *, atol=None):
    """Maximum-likelihood fit of a vMF distribution to the unit vectors X (n, d): returns (mu, kappa).

    mu is the (weighted) mean direction m / ||m||, m = sum_i w_i x_i / sum_i w_i, in the array type
    of X (float64 unless X is float32 or narrower); kappa (a Python float) solves
    A_d(kappa) = ||m|| (:func:`vmf_kappa_mle`). All points equal gives kappa = inf (or a huge finite
    kappa where rounding leaves ||m|| a few ulp below 1); ||m|| = 0 gives kappa = 0 and mu NaN (no
    mean direction). It is the exact MLE: with few points in high dimension it is biased up by about
    (d-1) / (2 kappa n A_d'(kappa)) (the tangent parts of the points add to ||m||). weights: (n,) non-negative with a positive sum.
    Rows are checked to be unit vectors as in :func:`vmf_logpdf` (atol). NaN in X or weights gives
    NaN mu and kappa.
    """
    cx = convert(X, "X", allow_int=True)
    lib, dtype = _result_dtype([cx])
    if cx.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (n, d), got shape {cx.shape}")
    n, d = cx.shape
    _check_dim(d, "X")
    if n == 0:
        raise ValueError("X: needs at least one row")
    xa = _as_float64(cx)
    tol = _default_atol(np.float64 if "64" in str(dtype) else np.float32) if atol is None else float(atol)
    _check_unit_rows(xa, "X", tol)
    if weights is None:
        m = xa.mean(axis=0)
    else:
        w = aux_to_numpy(weights, "weights")
        if w.dtype.kind not in "iuf":
            raise TypeError(f"weights: expected real numbers, got dtype {w.dtype}")
        w = np.asarray(w, dtype=np.float64)
        if w.shape != (n,):
            raise ValueError(f"weights: expected shape ({n},) (one per row of X), got {w.shape}")
        if np.any(w < 0):
            raise ValueError("weights: must be non-negative")
        total = w.sum()
        if not total > 0 and not np.isnan(total):
            raise ValueError("weights: must have a positive sum")
        m = (w @ xa) / total
    r = float(np.sqrt(m @ m))
    with np.errstate(invalid="ignore", divide="ignore"):
        mu = m / r if r > 0 else np.full(d, np.nan)
    kappa = float(vmf_kappa_mle(float(d), min(r, 1.0))) if r == r else float("nan")
    if r != r:
        mu = np.full(d, np.nan)
    return _wrap_like(cx, lib, dtype, mu), kappa


def _rng(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as e:
        raise type(e)(f"seed: expected None, an integer, a sequence of integers or a numpy Generator ({e})") from None


def _sample_w(rng, d, kappa, n):
    """n draws of w = mu.x by Wood's (1994) rejection sampler, in forms without cancellation:
    returns (w, 1 - w, 1 + w), all computed directly (1 - w ~ (d-1)/(2 kappa) for huge kappa)."""
    m = d - 1.0
    two_k = 2.0 * kappa
    s = np.hypot(two_k, m)                               # sqrt(4 kappa^2 + m^2)
    b = m / (two_k + s)                                  # Wood's b, = (-2k + s)/m without cancellation
    omb = (two_k + two_k * (two_k / (s + m))) / (two_k + s)  # 1 - b (s - m = 4k^2/(s + m))
    opb = 1.0 + b
    x0 = omb / opb
    omx0, opx0 = 2.0 * b / opb, 2.0 / opb               # 1 - x0, 1 + x0
    log_c0 = np.log(omx0) + np.log(opx0)                # log(1 - x0^2)
    w = np.empty(n)
    omw = np.empty(n)
    opw = np.empty(n)
    filled = 0
    while filled < n:
        k = n - filled
        k = k + k // 4 + 16                             # acceptance is high; over-draw a little
        z = rng.beta(m / 2.0, m / 2.0, size=k)
        u = rng.random(size=k)
        den = 1.0 - omb * z
        wk = (1.0 - opb * z) / den
        omwk = 2.0 * b * z / den
        opwk = 2.0 * (1.0 - z) / den
        # kappa w + m log(1 - x0 w) - c >= log u, with c = kappa x0 + m log(1 - x0^2) and
        # 1 - x0 w = (1 - x0) + x0 (1 - w), w - x0 = (1 - x0) - (1 - w)
        with np.errstate(divide="ignore"):
            lhs = kappa * (omx0 - omwk) + m * (np.log(omx0 + x0 * omwk) - log_c0)
            ok = lhs >= np.log(u)
        take = np.flatnonzero(ok)[: n - filled]
        j = filled + take.size
        w[filled:j], omw[filled:j], opw[filled:j] = wk[take], omwk[take], opwk[take]
        filled = j
    return w, omw, opw


def vmf_sample(mu, kappa, n, seed=None):
    """n independent draws from vMF(mu, kappa): an array (n, d) of unit vectors.

    Wood (1994): the component w = mu.x by rejection sampling, the rest a uniform direction in
    the tangent space. Wood's formulas are rearranged so that nothing cancels: 1 - w and 1 + w are
    computed directly, so kappa up to 1e300 and d = 32768 and beyond work (at kappa = 1e12 in
    d = 3, 1 - mu.x ~ 1e-12 comes out with full relative precision in the tangent part).

    mu: (d,) unit vector (| ||mu|| - 1 | <= sqrt(eps), as in :func:`vmf_logpdf`; it is
    renormalised), d >= 2; kappa: a real scalar >= 0 (0 gives the uniform distribution, inf gives
    mu repeated); n >= 0; seed: None, an int or a numpy.random.Generator (NumPy's PCG64 stream).
    The result has mu's array type and dtype (float64 for lists); NaN in mu or kappa gives NaN rows.
    """
    cm = convert(mu, "mu", allow_int=True)
    lib, dtype = _result_dtype([cm])
    if cm.ndim != 1:
        raise ValueError(f"mu: expected a 1-D array (d,), got shape {cm.shape}")
    d = cm.shape[0]
    if d < 2:
        raise ValueError(f"mu: the dimension d must be >= 2, got {d}")
    if isinstance(n, bool) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n: must be an integer, got {type(n).__name__}")
    n = int(n)
    if n < 0:
        raise ValueError(f"n: must be >= 0, got {n}")
    ck, k = _kappa_array(kappa)
    if k.ndim != 0:
        raise ValueError(f"kappa: must be a scalar, got shape {k.shape}")
    kappa = float(k)
    ma = _as_float64(cm)
    tol = _default_atol(np.float64 if "64" in str(dtype) else np.float32)
    _check_unit_rows(ma, "mu", tol)
    rng = _rng(seed)
    if not (np.all(np.isfinite(ma)) and kappa == kappa):
        return _wrap_like(cm, lib, dtype, np.full((n, d), np.nan))
    ma = ma / np.sqrt(ma @ ma)
    if kappa == np.inf or n == 0:
        return _wrap_like(cm, lib, dtype, np.tile(ma, (n, 1)))
    w, omw, opw = _sample_w(rng, float(d), kappa, n)
    g = rng.standard_normal((n, d))
    g -= np.outer(g @ ma, ma)                            # project onto the tangent space at mu
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    out = w[:, None] * ma + np.sqrt(omw * opw)[:, None] * g
    return _wrap_like(cm, lib, dtype, out)
