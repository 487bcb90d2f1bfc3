"""Gaussian KDE log density, differentiable with respect to the queries.

Two routes to one formula. Isotropic kernel with a numeric bandwidth (the common training case):
the registered op ``stablemath::kde_logpdf`` ``(Tensor Y, Tensor X, float bandwidth, Tensor?
weights)``, so ``torch.compile(fullgraph=True)`` traces it without a graph break. Any other
bandwidth (``"scott"``, ``"silverman"``, ``"cv"``: chosen from the data) or covariance
(``"diagonal"``, ``"full"``, a matrix): a plain autograd.Function around a fitted
:class:`stablemath.GaussianKDE` (bandwidth selection is data dependent, so torch.compile
graph-breaks there).

Forward: the compiled core's streaming log-sum-exp. Backward:
d/dy log p(y) = H^{-1} (sum_j w_j(y) x_j - y), with w_j(y) the posterior weights (softmax over j of
the log kernel values plus log sample weights) and H the kernel covariance (h^2 I for the isotropic
kernel). The core does not expose the weights, so the backward evaluates them with torch in
float64 over chunks of queries (m_chunk x n at a time, never m x n).
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from ._registry import define

_CHUNK_ELEMENTS = 1 << 22  # queries x points per chunk of the backward (32 MiB of float64)


def _grad_queries(Yd, Xd, lw, P):
    """(m, d) float64: H^{-1} (sum_j w_j(y) x_j - y) for each row y of Yd; P = H^{-1} (d, d) or a
    scalar 1/h^2 (isotropic). Torch ops only, so the registered op's backward traces."""
    XP = Xd @ P if isinstance(P, torch.Tensor) else Xd * P
    xpx = (Xd * XP).sum(1)
    parts = []
    step = max(1, _CHUNK_ELEMENTS // max(1, Xd.shape[0]))
    for a in range(0, Yd.shape[0], step):
        y = Yd[a:a + step]
        # log kernel up to a per-query constant: -(y - x)^T P (y - x) / 2 + log w
        logk = y @ XP.T - 0.5 * xpx + lw
        w = torch.softmax(logk, dim=1)
        r = w @ Xd - y
        parts.append(r @ P if isinstance(P, torch.Tensor) else r * P)
    return torch.cat(parts) if parts else Yd.new_empty(Yd.shape)


class _KdeLogpdf(torch.autograd.Function):
    @staticmethod
    def forward(ctx, Y, X, est):
        out = est.score_samples(Y.detach())
        ctx.est = est
        ctx.save_for_backward(Y, X)
        return out

    @staticmethod
    def backward(ctx, g):
        Y, X = ctx.saved_tensors
        est = ctx.est
        P = torch.from_numpy(np.linalg.inv(est.kernel_covariance_))           # H^{-1}, (d, d)
        Xd = X.detach().to(torch.float64).reshape(X.shape[0], -1)
        Yd = Y.detach().to(torch.float64).reshape(Y.shape[0], -1)
        lw = torch.zeros(Xd.shape[0], dtype=torch.float64)
        if est._w is not None:
            with np.errstate(divide="ignore"):
                lw = torch.from_numpy(np.log(np.asarray(est._w, dtype=np.float64)))
        gy = _grad_queries(Yd, Xd, lw, P) * g.detach().to(torch.float64).reshape(-1, 1)
        return gy.reshape(Y.shape).to(Y.dtype), None, None


# ---- the registered op: isotropic kernel, numeric bandwidth ----------------------------------------
_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_kde(Y, X, bandwidth, weights):
    for name, t in (("Y", Y), ("X", X)):
        if t.dtype not in _FLOATS:
            raise TypeError(f"{name}: expected a floating tensor, got dtype {t.dtype}")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X: expected a non-empty (n, d) matrix, got shape {tuple(X.shape)}")
    if Y.ndim < 1 or Y.shape[-1] != X.shape[1]:
        raise ValueError(f"Y: expected shape (..., {X.shape[1]}) to match X's columns, got {tuple(Y.shape)}")
    if not (bandwidth > 0 and bandwidth < float("inf")):
        raise ValueError(f"bandwidth: expected a positive finite number, got {bandwidth}")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != X.shape[0]):
        raise ValueError(f"weights: expected shape ({X.shape[0]},), got {tuple(weights.shape)}")


def _kde_kernel(Y, X, bandwidth, weights):
    from .. import GaussianKDE
    _check_kde(Y, X, bandwidth, weights)
    for name, t in (("Y", Y), ("X", X), ("weights", weights)):
        if t is not None and not t.is_cpu:
            raise ValueError(f"{name}: stablemath.torch.kde_logpdf runs on CPU tensors only (got {t.device})")
    est = GaussianKDE(float(bandwidth)).fit(X.detach(), sample_weight=None if weights is None else weights.detach())
    out = est.score_samples(Y.detach().reshape(-1, Y.shape[-1]))
    return out.to(Y.dtype).reshape(Y.shape[:-1]).clone()


def _kde_fake(Y, X, bandwidth, weights):
    _check_kde(Y, X, bandwidth, weights)
    return Y.new_empty(Y.shape[:-1])


def _kde_setup(ctx, inputs, output):
    Y, X, bandwidth, weights = inputs
    ctx.bandwidth = bandwidth
    ctx.save_for_backward(Y, X, weights)


def _kde_backward(ctx, g):
    if ctx.needs_input_grad[1] or ctx.needs_input_grad[3]:
        raise NotImplementedError("X: kde_logpdf is differentiable with respect to the queries Y only; "
                                  "pass X.detach() and weights.detach()")
    Y, X, weights = ctx.saved_tensors
    if not ctx.needs_input_grad[0]:
        return None, None, None, None
    f64 = torch.float64
    Xd = X.to(f64)
    Xd = Xd - Xd.mean(0)  # the gradient is shift invariant; centring keeps y.x small
    Yd = Y.to(f64).reshape(-1, X.shape[1]) - (X.to(f64).mean(0))
    lw = torch.zeros(X.shape[0], dtype=f64) if weights is None else torch.log(weights.to(f64))
    gy = _grad_queries(Yd, Xd, lw, 1.0 / (ctx.bandwidth * ctx.bandwidth)) * g.to(f64).reshape(-1, 1)
    return gy.reshape(Y.shape).to(Y.dtype), None, None, None


kde_logpdf_op = define("kde_logpdf", "(Tensor Y, Tensor X, float bandwidth, Tensor? weights) -> Tensor",
                       impl=_kde_kernel, fake=_kde_fake, setup=_kde_setup, backward=_kde_backward)


def kde_logpdf(Y, X, bandwidth="scott", *, weights=None, covariance="isotropic"):
    """Log density at the rows of ``Y`` (..., d) of the Gaussian KDE of the rows of ``X`` (n, d)
    (:func:`stablemath.kde_logpdf` with ``kernel="gaussian"``), differentiable with respect to ``Y``:
    ``d/dy log p(y) = H^{-1} (sum_j w_j(y) x_j - y)``, ``w_j`` the posterior weights of the points.
    The result has shape ``Y.shape[:-1]`` and Y's dtype.

    ``bandwidth`` (a number, ``"scott"``, ``"silverman"``, ``"cv"``), ``weights`` and
    ``covariance`` as in :class:`stablemath.GaussianKDE`. ``X`` and ``weights`` are data: they take
    no gradient (``NotImplementedError`` if one requires grad). With a numeric bandwidth and the
    isotropic kernel this is the registered op ``torch.ops.stablemath.kde_logpdf`` (no graph break
    under ``torch.compile(fullgraph=True)``); other bandwidths and covariances fit a
    :class:`stablemath.GaussianKDE` first (data dependent: torch.compile graph-breaks there).
    """
    if not isinstance(Y, torch.Tensor):
        raise TypeError(f"Y: expected a torch.Tensor, got {type(Y).__name__}")
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(np.asarray(X))
    if weights is not None and not isinstance(weights, torch.Tensor):
        weights = torch.as_tensor(np.asarray(weights, dtype=np.float64))
    for name, t in (("X", X), ("weights", weights)):
        if t is not None and t.requires_grad and torch.is_grad_enabled():
            raise NotImplementedError(f"{name}: kde_logpdf is differentiable with respect to the queries Y only; "
                                      f"pass {name}.detach()")
    if (isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool)
            and isinstance(covariance, str) and covariance == "isotropic"):
        return kde_logpdf_op(Y, X, float(bandwidth), weights)
    from .. import GaussianKDE
    est = GaussianKDE(bandwidth, covariance=covariance).fit(X, sample_weight=weights)
    return _KdeLogpdf.apply(Y, X, est)


__all__ = ["kde_logpdf", "kde_logpdf_op"]
