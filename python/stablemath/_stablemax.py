"""StableMax (Prieto et al. 2025, "Grokking at the edge of numerical stability"), its log and its
cross-entropy: a softmax replacement with s(x) = x + 1 (x >= 0), 1 / (1 - x) (x < 0) in place of e^x.
"""
from __future__ import annotations

import numpy as np

from . import _core
from ._api import _axis_index
from ._arrays import Converted, _torch, convert
from ._losses import _cross_entropy

__all__ = ["stablemax", "log_stablemax", "stablemax_cross_entropy"]


def _empty(conv: Converted, shape):
    """The result array. A torch result is allocated by NumPy and shared with torch.from_numpy:
    NumPy asks for transparent huge pages for large arrays and torch's CPU allocator does not, so
    first touching a fresh 32 MiB torch tensor took 120 ms against 21 ms (2-core VM), more than the
    kernel itself. (A candidate for Converted.empty, where every function would gain from it.)"""
    torch = _torch()
    if conv.kind == "torch" and conv.native.dtype != torch.bfloat16:
        np_dtype = torch.empty(0, dtype=conv.native.dtype).numpy().dtype
        return torch.from_numpy(np.empty(shape, dtype=np_dtype))
    return conv.empty(shape)


def _stablemax_impl(x, axis, log):
    conv = convert(x, "x")
    if conv.ndim == 0:  # a 0-d input is one row of one element, as softmax
        _axis_index(axis, 1)
        native = conv.native.reshape(1)
        out = _empty(conv, (1,))
        _core.stablemax(conv.core(native), 0, conv.core(out), log)
        return conv.wrap(out.reshape(()))
    ax = _axis_index(axis, conv.ndim)
    out = _empty(conv, conv.shape)
    _core.stablemax(conv.core(conv.native), ax, conv.core(out), log)
    return conv.wrap(out)


def stablemax(x, axis=-1):
    """StableMax ``s(x_i) / sum_j s(x_j)`` along one axis, ``s(x) = x + 1`` for ``x >= 0`` and
    ``1 / (1 - x)`` for ``x < 0``.

    Parameters
    ----------
    x : array_like
        NumPy array, torch CPU tensor, ``__dlpack__`` object or Python scalar/list; float16 and
        bfloat16 are computed in float32 and returned in their own dtype.
    axis : int
        The axis to normalise over (default the last).

    Notes
    -----
    StableMax is not shift-invariant, so no maximum is subtracted. ``s`` is evaluated as
    ``t = 1 + |x|``, ``s = t`` or ``1/t``: no singularity at ``x = 1``, and no overflow of the row
    sum for logits up to the float maximum (it is kept in two scaled float64 sums). A row holding
    NaN or ``+inf`` gives NaN everywhere (as softmax); ``-inf`` entries get 0; a row of only ``-inf``
    is NaN (0/0).
    """
    return _stablemax_impl(x, axis, log=False)


def log_stablemax(x, axis=-1):
    """``log stablemax(x) = sign(x) log1p(|x|) - log sum_j s(x_j)`` along one axis.

    Never the log of a ratio: ``log s`` is exact to rounding for every finite x, and an element
    that holds most of the row's mass gets ``-log1p(others / s)``, so its small log-probability
    keeps its digits. Same conventions as :func:`stablemax` (``-inf`` entries give ``-inf``).
    """
    return _stablemax_impl(x, axis, log=True)


def stablemax_cross_entropy(logits, target, axis=-1, *, ignore_index=-100, reduction="mean"):
    """Cross-entropy of StableMax: ``-log_stablemax(logits)[target]`` per row, reduced.

    Arguments, reductions and error conventions as :func:`stablemath.softmax_cross_entropy`
    (integer targets with the logits' shape without ``axis``, ``ignore_index``, ``"mean"`` over
    non-ignored rows). Per row the loss is ``log1p(sum_{j != t} s(x_j) / s(x_t))``, evaluated in
    float64 for float16/bfloat16/float32 logits: accurate even when the target dominates (the
    reference code casts the logits to float64 and takes the log of the ratio). A row with NaN or
    ``+inf`` gives NaN; ``x_t = -inf`` gives ``+inf``. Returned in the logits' dtype and array type.
    """
    return _cross_entropy("stablemax", logits, target, axis, ignore_index, 0.0, reduction)
