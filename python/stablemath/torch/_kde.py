"""Gaussian KDE log density, differentiable with respect to the queries (first version).

Forward: stablemath.GaussianKDE (streaming log-sum-exp in the compiled core). Backward:
d/dy log p(y) = H^{-1} (sum_j w_j(y) x_j - y), with w_j(y) the posterior weights (softmax over j of
the log kernel values plus log sample weights) and H the kernel covariance (h^2 I for the isotropic
kernel). The core does not expose the weights, so the backward evaluates them with torch in
float64 over chunks of queries (m_chunk x n at a time, never m x n). A plain autograd.Function, not
a registered op: fitting (bandwidth selection) is data dependent, so torch.compile graph-breaks here.
"""
from __future__ import annotations

import numpy as np
import torch

_CHUNK_ELEMENTS = 1 << 22  # queries x points per chunk of the backward (32 MiB of float64)


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
        XP = Xd @ P
        xpx = (Xd * XP).sum(1)
        grad = torch.empty_like(Yd)
        step = max(1, _CHUNK_ELEMENTS // max(1, Xd.shape[0]))
        for a in range(0, Yd.shape[0], step):
            y = Yd[a:a + step]
            # log kernel up to a per-query constant: -(y - x)^T P (y - x) / 2 + log w
            logk = y @ XP.T - 0.5 * xpx + lw
            w = torch.softmax(logk, dim=1)
            grad[a:a + step] = (w @ Xd - y) @ P
        gy = grad * g.detach().to(torch.float64).reshape(-1, 1)
        return gy.reshape(Y.shape).to(Y.dtype), None, None


def kde_logpdf(Y, X, bandwidth="scott", *, weights=None, covariance="isotropic"):
    """Log density at the rows of ``Y`` (m, d) of the Gaussian KDE of the rows of ``X`` (n, d)
    (:func:`stablemath.kde_logpdf` with ``kernel="gaussian"``), differentiable with respect to ``Y``:
    ``d/dy log p(y) = H^{-1} (sum_j w_j(y) x_j - y)``, ``w_j`` the posterior weights of the points.

    ``bandwidth`` (a number, ``"scott"``, ``"silverman"``, ``"cv"``), ``weights`` and
    ``covariance`` as in :class:`stablemath.GaussianKDE`. ``X`` and ``weights`` are data: they take
    no gradient (``NotImplementedError`` if ``X`` requires grad). torch.compile graph-breaks here.
    """
    from .. import GaussianKDE
    if not isinstance(Y, torch.Tensor):
        raise TypeError(f"Y: expected a torch.Tensor, got {type(Y).__name__}")
    if not isinstance(X, torch.Tensor):
        X = torch.as_tensor(np.asarray(X))
    if X.requires_grad and torch.is_grad_enabled():
        raise NotImplementedError("X: kde_logpdf is differentiable with respect to the queries Y only; "
                                  "pass X.detach()")
    est = GaussianKDE(bandwidth, covariance=covariance).fit(X, sample_weight=weights)
    return _KdeLogpdf.apply(Y, X, est)


__all__ = ["kde_logpdf"]
