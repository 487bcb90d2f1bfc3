"""Kernel density estimation in log space: Gaussian on R^d and von Mises-Fisher on S^{d-1}.

Log densities come from a streaming log-sum-exp over tiles of (queries x points) in the compiled
core (stablemath/kde.hpp): the m x n kernel matrix is never formed, and log densities stay finite
where density-space code underflows to 0 (d = 1000 Gaussian data, for example). This module
centres and whitens the data, applies the normalising constants, and selects bandwidths.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import _core
from ._arrays import _torch, convert

__all__ = ["GaussianKDE", "VonMisesFisherKDE", "kde_logpdf"]

_LOG_2PI = math.log(2.0 * math.pi)
_GAUSSIAN, _VMF = 0, 1


# ---- array helpers ----------------------------------------------------------------------------

def _matrix(x, name, d=None):
    """-> (Converted, float64/float32 NumPy 2-D array view, compute dtype). 1-D input is n points in d = 1."""
    conv = convert(x, name)
    nat = conv.native
    torch = _torch()
    if conv.kind == "torch":
        nat = nat.float().numpy() if nat.dtype in (torch.bfloat16, torch.float16) else nat.numpy()
    arr = np.asarray(nat)
    if arr.dtype == np.float16:
        arr = arr.astype(np.float32)
    if arr.ndim == 1:
        arr = arr[:, None] if d in (None, 1) else arr[None, :]
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array of shape (n, d), got {arr.ndim} dimensions")
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"{name}: has d = {arr.shape[1]} columns but the estimator was fitted with d = {d}")
    if arr.size and not np.isfinite(arr).all():
        raise ValueError(f"{name}: contains NaN or infinity")
    return conv, arr


def _result(conv, out64):
    """The caller's array type; float16/bfloat16 inputs come back in their dtype, others in theirs."""
    torch = _torch()
    if conv.kind == "torch":
        return torch.from_numpy(np.ascontiguousarray(out64)).to(conv.native.dtype)
    dt = conv.native.dtype if conv.native.dtype in (np.float16, np.float32, np.float64) else np.float64
    return conv.wrap(np.asarray(out64, dtype=dt))


def _weights(sample_weight, n):
    if sample_weight is None:
        return None
    conv = convert(sample_weight, "sample_weight", allow_int=True)
    nat = conv.native
    if conv.kind == "torch":
        nat = nat.double().numpy()
    w = np.asarray(nat, dtype=np.float64)
    if w.shape != (n,):
        raise ValueError(f"sample_weight: expected shape ({n},), got {w.shape}")
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError("sample_weight: must be finite and non-negative")
    if not w.sum() > 0:
        raise ValueError("sample_weight: the weights sum to zero")
    return w


def _progress(enabled, total, desc):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        raise ImportError("progress: needs the tqdm package (pip install tqdm)") from None
    return tqdm(total=total, desc=desc, unit="pts")


def _query_rows(d):
    """Queries handed to the core per call: bounds the temporary copies at ~64 MB."""
    return int(max(256, min(16384, (1 << 23) // max(d, 1))))


def _positive(value, name):
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a positive number or one of the documented strings, got {value!r}")
    v = float(value)
    if not (v > 0 and math.isfinite(v)):
        raise ValueError(f"{name}: must be positive and finite, got {v}")
    return v


def _candidates(values, name):
    arr = np.atleast_1d(np.asarray(values, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0 or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ValueError(f"{name}: expected a non-empty 1-D array of positive finite values")
    return arr


class _Fitted:
    """What every estimator keeps after fit: the packed points and the weights."""

    def _fit_common(self, X, sample_weight, kernel):
        self.__dict__.pop("_points", None)  # a failed refit leaves an unfitted estimator, not a mix
        conv, arr = _matrix(X, "X")
        n, d = arr.shape
        if n == 0:
            raise ValueError("X: needs at least one point (got 0 rows)")
        if d == 0:
            raise ValueError("X: needs at least one column (got d = 0)")
        w = _weights(sample_weight, n)
        self._conv, self._X = conv, arr
        self.n_, self.d_ = n, d
        self._w = w
        self._W = float(n if w is None else w.sum())
        self.dtype_ = np.float64 if arr.dtype == np.float64 else np.float32
        self.neff_ = self._W ** 2 / float(n if w is None else (w ** 2).sum())
        self._kernel = kernel
        return arr, w

    def _pack(self, Z):
        lw = None
        if self._w is not None:
            with np.errstate(divide="ignore"):
                lw = np.log(self._w).astype(self.dtype_)
        cls = _core.KdePoints64 if self.dtype_ == np.float64 else _core.KdePoints32
        self._points = cls(np.ascontiguousarray(Z, dtype=self.dtype_), lw, self._kernel)

    def _check_fitted(self):
        if not hasattr(self, "_points"):
            raise ValueError(f"{type(self).__name__}: call fit(X) before using the estimator")

    def _log_sums(self, Yt_fn, m, scales, loo, progress, desc):
        """(m, H) float64 log sums over all points; Yt_fn(a, b) gives transformed query rows a:b."""
        scales = np.asarray(scales, dtype=self.dtype_)
        out = np.empty((m, scales.size), dtype=np.float64)
        step = _query_rows(self.d_)
        bar = _progress(progress, m, desc)
        try:
            for a in range(0, m, step):
                b = min(m, a + step)
                q = np.ascontiguousarray(Yt_fn(a, b), dtype=self.dtype_)
                o = np.empty((b - a, scales.size), dtype=self.dtype_)
                self._points.log_sums(q, scales, o, a if loo else -1)
                out[a:b] = o
                if bar is not None:
                    bar.update(b - a)
        finally:
            if bar is not None:
                bar.close()
        return out

    def _loo_totals(self, scales, consts, progress):
        """Weighted LOO log-likelihood for each (scale, constant) pair: sum_i w_i log p_{-i}(x_i) / W."""
        sums = self._log_sums(self._data_rows, self.n_, scales, True, progress, "LOO-CV")
        w = np.ones(self.n_) if self._w is None else self._w
        keep = w > 0
        with np.errstate(divide="ignore", invalid="ignore"):
            rest = np.log(self._W - w)  # log of the other points' weight
            vals = sums - rest[:, None] + np.asarray(consts)[None, :]
            tot = (w[keep, None] * vals[keep]).sum(axis=0) / w[keep].sum()
        return np.where(np.isnan(tot), -np.inf, tot)

    def score(self, Y) -> float:
        """Total log-likelihood of the rows of Y (sum of :meth:`score_samples`, as float)."""
        s = self.score_samples(Y)
        return float(np.asarray(s.double() if hasattr(s, "double") else s, dtype=np.float64).sum())


def _search(evaluate, start, lo_factor=2.0 ** -5, hi_factor=4.0):
    """Maximises evaluate(candidates) -> scores over a positive parameter, with few passes: a
    half-octave grid from start*lo_factor to start*hi_factor (moved while the best is at an edge),
    then an eighth-octave grid around the best and a parabola through the top three (in log)."""
    logs = np.log(start) + np.log(2.0) * np.arange(math.log2(lo_factor) * 2, math.log2(hi_factor) * 2 + 1) / 2
    seen_x, seen_y = [], []
    for _ in range(4):
        vals = evaluate(np.exp(logs))
        seen_x.extend(logs); seen_y.extend(vals)
        k = int(np.argmax(vals))
        if 0 < k < len(logs) - 1 or not np.isfinite(vals[k]):
            break
        span = logs[-1] - logs[0]
        logs = logs + (span if k == len(logs) - 1 else -span)
    best = seen_x[int(np.argmax(seen_y))]
    fine = best + np.log(2.0) * np.arange(-4, 5) / 8
    vals = evaluate(np.exp(fine))
    k = int(np.argmax(vals))
    if 0 < k < len(fine) - 1 and np.isfinite(vals[k - 1:k + 2]).all():
        y0, y1, y2 = vals[k - 1:k + 2]
        den = y0 - 2 * y1 + y2
        step = fine[1] - fine[0]
        shift = 0.5 * (y0 - y2) / den if den < 0 else 0.0
        return float(np.exp(fine[k] + np.clip(shift, -1, 1) * step))
    return float(np.exp(fine[k]))


# ---- Gaussian ---------------------------------------------------------------------------------

class GaussianKDE(_Fitted):
    """Gaussian kernel density estimate with log densities that never underflow.

    Kernel covariance: ``bandwidth_**2 * S`` with S given by ``covariance``:

    - ``"isotropic"`` (default): S = I, so ``bandwidth`` is the kernel's standard deviation h in
      data units (scikit-learn's convention). The rules are scaled by the data:
      h = factor * sigma, sigma^2 the mean of the per-dimension (weighted) variances.
    - ``"diagonal"``: S = diag(data variances); ``bandwidth`` is a factor.
    - ``"full"``: S = the (weighted) data covariance, SciPy's ``gaussian_kde`` convention;
      ``bandwidth`` is SciPy's factor, and "scott"/"silverman" reproduce SciPy's rules exactly.
    - an array: S given as a (d, d) positive definite matrix or (d,) variances; ``bandwidth`` is a factor.

    ``bandwidth``: a positive number; ``"scott"`` (factor n_eff^(-1/(d+4))); ``"silverman"``
    (factor (n_eff (d+2)/4)^(-1/(d+4))); or ``"cv"``: the maximiser of the leave-one-out
    log-likelihood, found by a vectorised grid search (each pass evaluates a grid of bandwidths
    from one set of inner products; the self term is skipped exactly). n_eff = (sum w)^2 / sum w^2.

    ``progress=True`` shows a tqdm progress bar for the evaluations (CV, score_samples).
    """

    def __init__(self, bandwidth="scott", *, covariance="isotropic", progress=False):
        self.bandwidth = bandwidth
        self.covariance = covariance
        self.progress = progress

    def fit(self, X, sample_weight=None):
        """Fits to the rows of X (n, d) with optional non-negative weights; returns self."""
        arr, w = self._fit_common(X, sample_weight, _GAUSSIAN)
        n, d = arr.shape
        bw, cov = self.bandwidth, self.covariance
        if isinstance(bw, str):
            if bw not in ("scott", "silverman", "cv"):
                raise ValueError(f"bandwidth: expected a number, 'scott', 'silverman' or 'cv', got {bw!r}")
        else:
            bw = _positive(bw, "bandwidth")
        ww = np.ones(n) if w is None else w
        self.mean_ = (ww @ arr.astype(np.float64)) / self._W
        Xc = arr.astype(np.float64) - self.mean_
        neff = self._W ** 2 / float((ww ** 2).sum())
        self.neff_ = neff
        denom = self._W - float((ww ** 2).sum()) / self._W  # unbiased weighted (co)variance, as NumPy/SciPy
        L, mode = self._shape(cov, Xc, ww, denom, d)
        self._L, self._mode = L, mode
        self._Linv = np.linalg.inv(L) if mode == "full" else None
        Z = self._whiten(Xc).astype(self.dtype_)
        self._logdet_L = (0.0 if mode == "iso" else float(np.log(L).sum()) if mode == "diag"
                          else float(np.log(np.diag(L)).sum()))
        sigma = 1.0  # the rules' factors multiply S; for S = I they are scaled by the data's spread
        if mode == "iso" and cov == "isotropic" and isinstance(bw, str):
            var = (ww @ (Xc ** 2)) / denom if denom > 0 else np.zeros(d)
            sigma = math.sqrt(float(np.mean(var)))
            if not sigma > 0:
                raise ValueError(f"bandwidth: {bw!r} needs data with a positive spread "
                                 "(at least two distinct points); pass a number")
        self.data_scale_ = sigma
        self._pack(Z)
        del Z, Xc  # the core keeps its packed copy; LOO queries are rebuilt from X in chunks
        if bw == "scott":
            h = sigma * neff ** (-1.0 / (d + 4))
        elif bw == "silverman":
            h = sigma * (neff * (d + 2) / 4.0) ** (-1.0 / (d + 4))
        elif bw == "cv":
            h = _search(self.cv_scores, sigma * neff ** (-1.0 / (d + 4)))
        else:
            h = bw
        self.bandwidth_ = float(h)
        return self

    def _shape(self, cov, Xc, ww, denom, d):
        """Returns (L, mode): mode "iso" (L None), "diag" (L: standard deviations) or "full" (Cholesky)."""
        if isinstance(cov, str):
            if cov == "isotropic":
                return None, "iso"
            if cov not in ("diagonal", "full"):
                raise ValueError(f"covariance: expected 'isotropic', 'diagonal', 'full' or an array, got {cov!r}")
            if denom <= 0:
                raise ValueError(f"covariance: {cov!r} needs at least two points with non-zero weight")
            if cov == "diagonal":
                var = (ww @ (Xc ** 2)) / denom
                if not (var > 0).all():
                    raise ValueError("covariance: a column of X has zero variance, so the diagonal data "
                                     "covariance is singular; use covariance='isotropic' or drop the column")
                return np.sqrt(var), "diag"
            S = (Xc * ww[:, None]).T @ Xc / denom
            return self._cholesky(S, "the data covariance", d), "full"
        S = np.asarray(cov, dtype=np.float64)
        if S.shape == (d,):
            if not (np.isfinite(S).all() and (S > 0).all()):
                raise ValueError("covariance: the variances must be positive and finite")
            return np.sqrt(S), "diag"
        if S.shape != (d, d):
            raise ValueError(f"covariance: expected shape ({d},) or ({d}, {d}), got {S.shape}")
        if not np.isfinite(S).all() or not np.allclose(S, S.T, rtol=1e-10, atol=0):
            raise ValueError("covariance: must be a finite symmetric matrix")
        return self._cholesky(S, "the covariance matrix", d), "full"

    @staticmethod
    def _cholesky(S, what, d):
        try:
            L = np.linalg.cholesky(S)
        except np.linalg.LinAlgError:
            L = None
        diag = None if L is None else np.diag(L)
        # Numerically singular: a pivot below 1e-7 of the largest scale (rank deficient, or d > n).
        if L is None or not np.isfinite(L).all() or diag.min() <= 1e-7 * math.sqrt(np.abs(np.diag(S)).max()):
            raise ValueError(f"covariance: {what} is singular or not positive definite (d = {d}); "
                             "with d >= n or collinear columns use covariance='isotropic' or 'diagonal', "
                             "or reduce the dimension first (PCA)")
        return L

    def _whiten(self, Xc):
        if self._mode == "iso":
            return Xc
        if self._mode == "diag":
            return Xc / self._L
        return Xc @ self._Linv.T

    def _data_rows(self, a, b):
        return self._whiten(self._X[a:b].astype(np.float64) - self.mean_)

    @property
    def kernel_covariance_(self):
        """The kernel covariance matrix bandwidth_^2 * S, (d, d) float64."""
        self._check_fitted()
        h2 = self.bandwidth_ ** 2
        if self._mode == "iso":
            return h2 * np.eye(self.d_)
        if self._mode == "diag":
            return h2 * np.diag(self._L ** 2)
        return h2 * (self._L @ self._L.T)

    def _const(self, h):
        h = np.asarray(h, dtype=np.float64)
        return -0.5 * self.d_ * _LOG_2PI - self.d_ * np.log(h) - self._logdet_L

    def score_samples(self, Y):
        """Log density at each row of Y (m, d): log sum_j w_j N(y; x_j, H) - log sum_j w_j.

        Returns the caller's array type (NumPy -> NumPy, torch -> torch), in Y's floating dtype
        (float16/bfloat16 are computed in float32, and in any case with X's precision)."""
        self._check_fitted()
        conv, arr = _matrix(Y, "Y", self.d_)
        m = arr.shape[0]
        h = self.bandwidth_
        sums = self._log_sums(lambda a, b: self._whiten(arr[a:b].astype(np.float64) - self.mean_), m,
                              [1.0 / h ** 2], False, self.progress, "KDE")
        return _result(conv, sums[:, 0] + float(self._const(h)) - math.log(self._W))

    def cv_scores(self, bandwidths):
        """Mean leave-one-out log-likelihood, sum_i w_i log p_{-i}(x_i) / sum_i w_i, for each
        bandwidth (one streaming pass for the whole array); the self term is skipped exactly."""
        self._check_fitted()
        hs = _candidates(bandwidths, "bandwidths")
        return self._loo_totals(1.0 / hs ** 2, self._const(hs), self.progress)

    def sample(self, n_samples=1, seed=None):
        """n_samples draws from the estimate (rows chosen by weight plus kernel noise), as an
        (n_samples, d) array of X's type and dtype. seed: None, an int or a numpy Generator."""
        self._check_fitted()
        n_samples = _count(n_samples)
        rng = np.random.default_rng(seed)
        p = None if self._w is None else self._w / self._W
        idx = rng.choice(self.n_, size=n_samples, p=p)
        noise = rng.standard_normal((n_samples, self.d_)) * self.bandwidth_
        if self._mode == "diag":
            noise = noise * self._L
        elif self._mode == "full":
            noise = noise @ self._L.T
        return _sample_result(self._conv, self._X[idx].astype(np.float64) + noise)


def _count(n):
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, numbers.Integral):
        raise TypeError(f"n_samples: expected an integer, got {type(n).__name__}")
    if n < 0:
        raise ValueError(f"n_samples: must be non-negative, got {n}")
    return int(n)


def _sample_result(conv, out):
    torch = _torch()
    if conv.kind == "torch":
        return torch.from_numpy(out).to(conv.native.dtype)
    return out.astype(conv.native.dtype if conv.native.dtype in (np.float32, np.float64) else np.float64)


# ---- von Mises-Fisher -------------------------------------------------------------------------

def _core_bessel(op, v, x):
    """The core's element-wise Bessel/vMF function `op` (see python/src/bind_special.cpp) at a scalar
    v and the values x, as a float64 array."""
    x = np.atleast_1d(np.asarray(x, dtype=np.float64))
    out = np.empty_like(x)
    _core.bessel(op, np.full_like(x, float(v)), x, out)
    return out


def _vmf_log_c(d, kappa):
    """log C_d(kappa) from the core (stablemath/vmf.hpp)."""
    return _core_bessel(6, d, kappa)


def _log_bessel_i(v, x):
    return _core_bessel(0, v, x)


def _vmf_a(d, kappa):
    return _core_bessel(7, d, kappa)


def _vmf_mle_kappa(rbar, d):
    """Solves A_d(kappa) = rbar (Banerjee et al.'s start, then Newton steps)."""
    rbar = min(max(rbar, 1e-12), 1 - 1e-12)
    k = rbar * (d - rbar ** 2) / (1 - rbar ** 2)
    for _ in range(20):
        a = float(_vmf_a(d, k)[0])
        da = 1 - a * a - (d - 1) * a / k
        if not da > 0:
            break
        k_new = max(k - (a - rbar) / da, k / 10)
        if abs(k_new - k) <= 1e-12 * k:
            k = k_new
            break
        k = k_new
    return k


class VonMisesFisherKDE(_Fitted):
    """Kernel density estimate on the unit sphere S^{d-1} with von Mises-Fisher kernels:
    f(y) = sum_j w_j C_d(kappa) exp(kappa y.x_j) / sum_j w_j, in log space.

    ``kappa``: the kernel concentration (a positive number); ``"rot"`` (default): the rule of thumb
    of Garcia-Portugues (2013, Electron. J. Stat. 7) with the data's vMF concentration estimated
    by maximum likelihood; ``"cv"``: the maximiser of the leave-one-out log-likelihood.

    ``on_unnormalized``: rows of X or Y whose norm differs from 1 by more than 1e-6 (float64) or
    1e-3 (float32) are ``"warn"``: normalised with a warning (default), ``"normalize"``: normalised
    silently, or ``"raise"``: rejected with ValueError. Zero rows are always rejected.
    """

    def __init__(self, kappa="rot", *, on_unnormalized="warn", progress=False):
        self.kappa = kappa
        self.on_unnormalized = on_unnormalized
        self.progress = progress

    def _unit(self, arr, name):
        if self.on_unnormalized not in ("warn", "normalize", "raise"):
            raise ValueError(f"on_unnormalized: expected 'warn', 'normalize' or 'raise', got {self.on_unnormalized!r}")
        a = arr.astype(np.float64)
        norms = np.linalg.norm(a, axis=1)
        if (norms == 0).any():
            raise ValueError(f"{name}: row {int(np.argmin(norms))} is the zero vector, which has no direction")
        tol = 1e-6 if arr.dtype == np.float64 else 1e-3
        if (np.abs(norms - 1) > tol).any():
            if self.on_unnormalized == "raise":
                raise ValueError(f"{name}: rows must be unit vectors (largest |norm - 1| = "
                                 f"{np.abs(norms - 1).max():.3g}); normalise them or pass on_unnormalized='normalize'")
            if self.on_unnormalized == "warn":
                warnings.warn(f"{name}: rows are not unit vectors; normalising them", UserWarning, stacklevel=3)
        return a / norms[:, None]

    def fit(self, X, sample_weight=None):
        """Fits to the rows of X (n, d), unit vectors, with optional non-negative weights; returns self."""
        arr, w = self._fit_common(X, sample_weight, _VMF)
        kappa = self.kappa
        if isinstance(kappa, str):
            if kappa not in ("rot", "cv"):
                raise ValueError(f"kappa: expected a number, 'rot' or 'cv', got {kappa!r}")
        else:
            kappa = _positive(kappa, "kappa")
        Z = self._unit(arr, "X")
        self._pack(Z)
        self._resultant = np.linalg.norm((np.ones(self.n_) if w is None else w) @ Z)
        del Z  # the core keeps its packed copy; LOO queries are rebuilt from X in chunks
        if isinstance(kappa, str):
            rot = self._rule_of_thumb()
            kappa = rot if kappa == "rot" else _search(self.cv_scores, rot, 2.0 ** -6, 2.0 ** 3)
        self.kappa_ = float(kappa)
        return self

    def _rule_of_thumb(self):
        """Garcia-Portugues (2013), eq. for the vMF kernel: h^(q+4) = 4 sqrt(pi) I_{(q-1)/2}(k)^2 /
        (k^((q+1)/2) [2q I_{(q+1)/2}(2k) + (2+q) k I_{(q+3)/2}(2k)] n), kernel kappa = 1/h^2,
        q = d - 1, k the data's vMF concentration; evaluated in logs."""
        d, q = self.d_, self.d_ - 1
        rbar = float(self._resultant) / self._W
        k = min(max(_vmf_mle_kappa(rbar, d), 1e-3), 1e8)
        num = math.log(4.0) + 0.5 * math.log(math.pi) + 2 * float(_log_bessel_i((q - 1) / 2, k)[0])
        t1 = math.log(2.0 * q) + float(_log_bessel_i((q + 1) / 2, 2 * k)[0]) if q > 0 else -math.inf
        t2 = math.log(2.0 + q) + math.log(k) + float(_log_bessel_i((q + 3) / 2, 2 * k)[0])
        den = (q + 1) / 2 * math.log(k) + np.logaddexp(t1, t2) + math.log(self.neff_)
        log_h = (num - den) / (q + 4)
        return float(min(max(math.exp(-2 * log_h), 1e-8), 1e12))

    def _data_rows_of(self, idx):
        a = self._X[idx].astype(np.float64)
        return a / np.linalg.norm(a, axis=1, keepdims=True)

    def _data_rows(self, a, b):
        return self._data_rows_of(slice(a, b))

    def score_samples(self, Y):
        """Log density at each row of Y (m, d) (unit vectors; see ``on_unnormalized``). Returns the
        caller's array type in Y's floating dtype."""
        self._check_fitted()
        conv, arr = _matrix(Y, "Y", self.d_)
        Yu = self._unit(arr, "Y") if arr.shape[0] else arr.astype(np.float64)
        k = self.kappa_
        sums = self._log_sums(lambda a, b: Yu[a:b], arr.shape[0], [k], False, self.progress, "vMF KDE")
        return _result(conv, sums[:, 0] + float(_vmf_log_c(self.d_, k)[0]) - math.log(self._W))

    def cv_scores(self, kappas):
        """Mean leave-one-out log-likelihood for each concentration (one streaming pass)."""
        self._check_fitted()
        ks = _candidates(kappas, "kappas")
        return self._loo_totals(ks, _vmf_log_c(self.d_, ks), self.progress)

    def sample(self, n_samples=1, seed=None):
        """n_samples unit vectors drawn from the estimate (Wood's 1994 vMF sampler around rows
        chosen by weight), as an (n_samples, d) array of X's type and dtype."""
        self._check_fitted()
        n_samples = _count(n_samples)
        rng = np.random.default_rng(seed)
        p = None if self._w is None else self._w / self._W
        mu = self._data_rows_of(rng.choice(self.n_, size=n_samples, p=p))
        return _sample_result(self._conv, _sample_vmf(mu, self.kappa_, rng))


def _sample_vmf(mu, kappa, rng):
    """One vMF(mu_i, kappa) draw per row of mu (unit vectors)."""
    n, d = mu.shape
    if d == 1:  # S^0 = {-1, +1}: P(+mu) = e^k / (e^k + e^-k)
        sign = np.where(rng.random(n) < 1.0 / (1.0 + np.exp(-2.0 * kappa)), 1.0, -1.0)
        return mu * sign[:, None]
    # Wood (1994): the component w = mu.x by rejection from a transformed Beta((d-1)/2, (d-1)/2).
    b = (d - 1) / (2 * kappa + math.sqrt(4 * kappa ** 2 + (d - 1) ** 2))
    x0 = (1 - b) / (1 + b)
    c = kappa * x0 + (d - 1) * math.log(1 - x0 * x0)
    w = np.empty(n)
    todo = np.arange(n)
    while todo.size:
        z = rng.beta((d - 1) / 2, (d - 1) / 2, size=todo.size)
        cand = (1 - (1 + b) * z) / (1 - (1 - b) * z)
        u = rng.random(todo.size)
        ok = kappa * cand + (d - 1) * np.log1p(-x0 * cand) - c >= np.log(u)
        w[todo[ok]] = cand[ok]
        todo = todo[~ok]
    v = rng.standard_normal((n, d))
    v -= (v * mu).sum(axis=1, keepdims=True) * mu
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return w[:, None] * mu + np.sqrt(np.clip(1 - w * w, 0, None))[:, None] * v


# ---- functional form --------------------------------------------------------------------------

def kde_logpdf(Y, X, bandwidth="scott", kernel="gaussian", weights=None, **options):
    """Log density at the rows of Y of the KDE of the rows of X, without keeping an estimator.

    kernel "gaussian": ``bandwidth`` as in :class:`GaussianKDE` (options: ``covariance``,
    ``progress``); kernel "vmf": ``bandwidth`` is the concentration kappa as in
    :class:`VonMisesFisherKDE` (options: ``on_unnormalized``, ``progress``)."""
    if kernel == "gaussian":
        est = GaussianKDE(bandwidth, **options)
    elif kernel in ("vmf", "von_mises_fisher"):
        est = VonMisesFisherKDE(bandwidth, **options)
    else:
        raise ValueError(f"kernel: expected 'gaussian' or 'vmf', got {kernel!r}")
    try:
        est.fit(X, sample_weight=weights)
    except (TypeError, ValueError) as e:  # the estimators call it sample_weight; here it is weights
        msg = str(e)
        if msg.startswith("sample_weight"):
            raise type(e)("weights" + msg[len("sample_weight"):]) from None
        raise
    return est.score_samples(Y)
