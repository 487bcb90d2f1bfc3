"""Helpers shared by the stablemath.torch tests (test_torch_ops*.py): inputs, value-and-gradient,
an independent KDE reference. Import after ``pytest.importorskip("torch")``."""
from __future__ import annotations

import numpy as np
import torch

f64 = torch.float64
close = torch.testing.assert_close


def rand(*shape, dtype=f64, seed=0, grad=True, scale=1.0):
    """Seeded normal samples (drawn in float64, then cast), requiring grad by default."""
    g = torch.Generator().manual_seed(seed)
    t = (torch.randn(shape, generator=g, dtype=f64) * scale).to(dtype)
    return t.requires_grad_(grad)


def mask(*shape, seed=1, p=0.3):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(*shape, generator=g) > p


def grads(fn, x, g):
    """(fn(x), d/dx <fn(x), g>) on a fresh leaf copy of x."""
    x = x.detach().clone().requires_grad_()
    y = fn(x)
    y.backward(g)
    return y.detach(), x.grad


def ref_kde_logpdf(Y, X, h, w=None):
    """Gaussian KDE log density at Y (..., d) from plain torch ops (autograd differentiates it in
    every argument; h may be a number or a 0-d tensor)."""
    d2 = ((Y[..., None, :] - X) ** 2).sum(-1)
    lw = torch.zeros(X.shape[0], dtype=f64) if w is None else torch.log(w)
    h = torch.as_tensor(h, dtype=f64)
    return (torch.logsumexp(-0.5 * d2 / h ** 2 + lw, -1) - torch.logsumexp(lw, 0)
            - 0.5 * X.shape[1] * torch.log(2 * np.pi * h * h))
