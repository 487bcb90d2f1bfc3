"""Gaussian KDE log density, differentiable with respect to the queries, the data points, the
weights and the bandwidth.

Two routes to one formula. Isotropic kernel with a numeric bandwidth or Scott's/Silverman's rule (the
common training cases): the registered op ``stablemath::kde_logpdf`` ``(Tensor Y, Tensor X, Tensor
bandwidth, Tensor? weights)`` (the rule's bandwidth is computed from X with torch ops first), so
``torch.compile(fullgraph=True)`` traces it without a graph break. ``"cv"`` (a data-dependent search)
and the ``"diagonal"``/``"full"``/matrix covariances: a plain autograd.Function around a fitted
:class:`stablemath.GaussianKDE`, differentiable in Y only; under torch.compile these raise a
``RuntimeError`` that says so.

Forward: the compiled core's streaming log-sum-exp. Backward, with ``r_ij`` the posterior
responsibilities (softmax over j of ``log w_j - (y_i - x_j)^T P (y_i - x_j) / 2``, P = H^{-1}, 1/h^2
for the isotropic kernel) and ``g_i`` the upstream gradient::

    d/dy_i = g_i P (sum_j r_ij x_j - y_i)           d/dx_j = P sum_i g_i r_ij (y_i - x_j)
    d/dw_j = sum_i g_i (K_ij / sum_k w_k K_ik - 1 / sum_k w_k)
    d/dh   = sum_i g_i (sum_j r_ij ||y_i - x_j||^2 / h^3 - d / h)

The core does not expose the responsibilities, so the backward evaluates them with torch in float64
over blocks of queries (a block x n matrix at a time, never m x n).
"""
from __future__ import annotations

import numbers

import numpy as np
import torch

from ._registry import batch_first, define

_CHUNK_ELEMENTS = 1 << 22  # queries x points per block of the backward (32 MiB of float64)


def _kde_grads(Yc, Xc, lw, P, g, need_x=False, need_w=False, need_h=False):
    """Gradients of sum_i g_i log p(y_i), in float64 and torch ops only (the op's backward traces).

    Yc (m, d), Xc (n, d): queries and points, both shifted by the same vector (the gradients are
    shift invariant; centring keeps y.x small); lw (n,) log weights; P: the (d, d) matrix H^{-1} or
    a 0-d tensor 1/h^2 (isotropic); g (m,). Returns (gY, gX, gw_kernel, s): gY (m, d); gX (n, d) or
    None; gw_kernel (n,) = sum_i g_i K_ij / sum_k w_k K_ik or None; s = sum_i g_i sum_j r_ij
    ||y_i - x_j||^2 (isotropic only) or None.
    """
    full = P.ndim == 2
    XP = Xc @ P if full else Xc * P
    xpx = (Xc * XP).sum(1)
    xx = None if full or not need_h else Xc.square().sum(1)
    gy = []
    gx = torch.zeros_like(Xc) if need_x else None
    gw = torch.zeros_like(lw) if need_w else None
    s = Xc.new_zeros(()) if need_h else None
    step = max(1, _CHUNK_ELEMENTS // max(1, Xc.shape[0]))
    for a in range(0, Yc.shape[0], step):
        y, gb = Yc[a:a + step], g[a:a + step, None]
        # log kernel up to a per-query constant: -(y - x)^T P (y - x) / 2 = y^T P x - x^T P x / 2 - ...
        logk = y @ XP.T - 0.5 * xpx
        z = logk + lw
        lse = torch.logsumexp(z, 1, keepdim=True)
        r = torch.exp(z - lse)  # responsibilities; a zero weight gives 0
        m = r @ Xc              # posterior mean of the points
        gy.append((m - y) @ P * gb if full else (m - y) * P * gb)
        if need_x or need_h:
            rg = r * gb
        if need_x:
            gx += rg.T @ y - Xc * rg.sum(0)[:, None]
        if need_w:
            gw += (gb * torch.exp(logk - lse)).sum(0)  # K_ij / sum_k w_k K_ik, finite for w_j = 0 too
        if need_h:
            # sum_j r_ij ||y - x_j||^2 = ||y - m||^2 + (sum_j r_ij ||x_j||^2 - ||m||^2)
            s = s + (gb[:, 0] * ((y - m).square().sum(1) + (r @ xx - m.square().sum(1)).clamp_min(0))).sum()
    gY = torch.cat(gy) if gy else Yc.new_empty(Yc.shape)
    if need_x:
        gx = gx @ P if full else gx * P
    return gY, gx, gw, s


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
        gy, _, _, _ = _kde_grads(Yd, Xd, lw, P, g.detach().to(torch.float64).reshape(-1))
        return gy.reshape(Y.shape).to(Y.dtype), None, None


# ---- the registered op: isotropic kernel, bandwidth a 0-d tensor --------------------------------
_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)


def _check_kde(Y, X, bandwidth, weights):
    """Shape and dtype checks, shared by the kernel and the fake (no data-dependent check here)."""
    for name, t in (("Y", Y), ("X", X), ("bandwidth", bandwidth)):
        if t.dtype not in _FLOATS:
            raise TypeError(f"{name}: expected a floating tensor, got dtype {t.dtype}")
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"X: expected a non-empty (n, d) matrix, got shape {tuple(X.shape)}")
    if Y.ndim < 1 or Y.shape[-1] != X.shape[1]:
        raise ValueError(f"Y: expected shape (..., {X.shape[1]}) to match X's columns, got {tuple(Y.shape)}")
    if bandwidth.ndim != 0:
        raise ValueError(f"bandwidth: expected a 0-d tensor (one isotropic bandwidth), got shape "
                         f"{tuple(bandwidth.shape)}")
    if weights is not None and (weights.ndim != 1 or weights.shape[0] != X.shape[0]):
        raise ValueError(f"weights: expected shape ({X.shape[0]},), got {tuple(weights.shape)}")


def _positive_bandwidth(h):
    if not (h > 0 and h < float("inf")):
        raise ValueError(f"bandwidth: expected a positive finite number, got {h}")
    return h


def _kde_kernel(Y, X, bandwidth, weights):
    from .. import GaussianKDE
    _check_kde(Y, X, bandwidth, weights)
    for name, t in (("Y", Y), ("X", X), ("bandwidth", bandwidth), ("weights", weights)):
        if t is not None and not t.is_cpu:
            raise ValueError(f"{name}: stablemath.torch.kde_logpdf runs on CPU tensors only (got {t.device})")
    h = _positive_bandwidth(float(bandwidth))
    est = GaussianKDE(h).fit(X.detach(), sample_weight=None if weights is None else weights.detach())
    out = est.score_samples(Y.detach().reshape(-1, Y.shape[-1]))
    return out.to(Y.dtype).reshape(Y.shape[:-1]).clone()


def _kde_fake(Y, X, bandwidth, weights):
    _check_kde(Y, X, bandwidth, weights)
    return Y.new_empty(Y.shape[:-1])


def _kde_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs)


def _kde_backward(ctx, g):
    Y, X, h, weights = ctx.saved_tensors
    need_y, need_x, need_h, need_w = ctx.needs_input_grad
    f64 = torch.float64
    Xd = X.to(f64)
    mean = Xd.mean(0)
    Xc = Xd - mean
    Yc = Y.to(f64).reshape(-1, X.shape[1]) - mean
    lw = torch.zeros(X.shape[0], dtype=f64) if weights is None else torch.log(weights.to(f64))
    hd = h.to(f64)
    gd = g.to(f64).reshape(-1)
    gY, gX, gw, s = _kde_grads(Yc, Xc, lw, 1.0 / (hd * hd), gd, need_x=need_x, need_w=need_w, need_h=need_h)
    gh = None
    if need_h:  # sum_i g_i (sum_j r_ij ||y_i - x_j||^2 / h^3 - d / h)
        gh = (s / (hd * hd * hd) - X.shape[1] * gd.sum() / hd).to(h.dtype)
    if need_w:  # minus sum_i g_i / sum_k w_k: the normalisation by the total weight
        gw = (gw - gd.sum() / weights.to(f64).sum()).to(weights.dtype)
    return (gY.reshape(Y.shape).to(Y.dtype) if need_y else None, gX.to(X.dtype) if need_x else None, gh, gw)


def _kde_vmap(info, in_dims, Y, X, bandwidth, weights):
    if in_dims[1:] == (None, None, None):  # batched queries only (the common case): one call
        Yb = batch_first(Y, in_dims[0], info.batch_size, Y.ndim - 1)
        return kde_logpdf_op.overload(Yb, X, bandwidth, weights), 0
    # batched data, bandwidth or weights: one call per sample (a different density each)
    args = (Y, X, bandwidth, weights)
    outs = [kde_logpdf_op.overload(*(a if d is None or a is None else a.select(d, b) for a, d in zip(args, in_dims)))
            for b in range(info.batch_size)]
    return torch.stack(outs), 0


kde_logpdf_op = define("kde_logpdf", "(Tensor Y, Tensor X, Tensor bandwidth, Tensor? weights) -> Tensor",
                       impl=_kde_kernel, fake=_kde_fake, setup=_kde_setup, backward=_kde_backward,
                       vmap=_kde_vmap)


def _rule_bandwidth(X, weights, rule):
    """Scott's or Silverman's isotropic bandwidth, as :class:`stablemath.GaussianKDE` computes it
    (sigma = sqrt of the mean unbiased weighted variance of the columns, n_eff = (sum w)^2 /
    sum w^2), with torch ops: it traces and is differentiable in X and the weights."""
    n, d = X.shape
    Xd = X.to(torch.float64)
    w = torch.ones(n, dtype=torch.float64) if weights is None else weights.to(torch.float64)
    W, W2 = w.sum(), (w * w).sum()
    mean = (w @ Xd) / W
    var = (w @ (Xd - mean).square()) / (W - W2 / W)
    sigma = var.mean().sqrt()
    if not torch.compiler.is_compiling() and not bool(sigma.detach() > 0):
        raise ValueError(f"bandwidth: {rule!r} needs data with a positive spread (at least two distinct "
                         "points); pass a number")
    neff = W * W / W2
    base = neff if rule == "scott" else neff * (d + 2) / 4.0
    return sigma * base ** (-1.0 / (d + 4))


def kde_logpdf(Y, X, bandwidth="scott", *, weights=None, covariance="isotropic"):
    """Log density at the rows of ``Y`` (..., d) of the Gaussian KDE of the rows of ``X`` (n, d)
    (:func:`stablemath.kde_logpdf` with ``kernel="gaussian"``); result of shape ``Y.shape[:-1]``
    in Y's dtype.

    ``bandwidth``: a number, a 0-d tensor (differentiable), ``"scott"``, ``"silverman"`` or ``"cv"``;
    ``weights`` (n,) and ``covariance`` as in :class:`stablemath.GaussianKDE`.

    Isotropic kernel with a numeric, tensor, ``"scott"`` or ``"silverman"`` bandwidth: the registered
    op ``torch.ops.stablemath.kde_logpdf`` (the rules' bandwidth computed from X with torch ops),
    differentiable in ``Y``, ``X``, ``weights`` and the bandwidth (see the module docstring for the
    formulas; a rule's bandwidth passes its own gradient on to X and the weights), traced by
    ``torch.compile(fullgraph=True)`` without a graph break. ``"cv"`` and the ``"diagonal"`` /
    ``"full"`` / matrix covariances fit a :class:`stablemath.GaussianKDE` first (data dependent):
    differentiable in ``Y`` only (``NotImplementedError`` if X or the weights require grad), and a
    ``RuntimeError`` under torch.compile (fit outside and pass the bandwidth as a number instead).
    """
    if not isinstance(Y, torch.Tensor):
        raise TypeError(f"Y: expected a torch.Tensor, got {type(Y).__name__}")
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(np.asarray(X))
    if weights is not None and not isinstance(weights, torch.Tensor):
        weights = torch.as_tensor(np.asarray(weights, dtype=np.float64))
    isotropic = isinstance(covariance, str) and covariance == "isotropic"
    if isotropic and isinstance(bandwidth, torch.Tensor):
        return kde_logpdf_op(Y, X, bandwidth, weights)
    if isotropic and isinstance(bandwidth, numbers.Real) and not isinstance(bandwidth, bool):
        h = _positive_bandwidth(float(bandwidth))
        return kde_logpdf_op(Y, X, torch.tensor(h, dtype=torch.float64), weights)
    if isotropic and bandwidth in ("scott", "silverman") and X.ndim == 2 and X.shape[0] > 0:
        return kde_logpdf_op(Y, X, _rule_bandwidth(X, weights, bandwidth), weights)
    if torch.compiler.is_compiling():
        raise RuntimeError(f"bandwidth/covariance: kde_logpdf with bandwidth={bandwidth!r} and covariance="
                           f"{covariance!r} fits a GaussianKDE (data dependent), which torch.compile cannot "
                           "trace; use the isotropic kernel with a number, a tensor, 'scott' or 'silverman', "
                           "or fit outside the compiled function and pass est.bandwidth_")
    for name, t in (("X", X), ("weights", weights)):
        if t is not None and t.requires_grad and torch.is_grad_enabled():
            raise NotImplementedError(f"{name}: kde_logpdf with bandwidth={bandwidth!r} and covariance="
                                      f"{covariance!r} is differentiable with respect to the queries Y only; "
                                      f"pass {name}.detach(), or use the isotropic kernel")
    from .. import GaussianKDE
    est = GaussianKDE(bandwidth, covariance=covariance).fit(X, sample_weight=weights)
    return _KdeLogpdf.apply(Y, X, est)


__all__ = ["kde_logpdf", "kde_logpdf_op"]
