"""Fused softmax + top-k: the k largest probabilities of every row without writing the softmax."""
from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from . import _core
from ._api import _axis_index, _integer
from ._arrays import _torch, convert

__all__ = ["softmax_topk", "logsumexp_topk", "SoftmaxTopk", "LogsumexpTopk"]

# Codes shared with python/src/bind_topk.cpp (stablemath::TopkMode).
_PROBS, _LOG_PROBS, _LOGITS = 0, 1, 2


class SoftmaxTopk(NamedTuple):
    """Result of :func:`softmax_topk` (fields as ``torch.topk``'s result)."""

    values: Any
    indices: Any


class LogsumexpTopk(NamedTuple):
    """Result of :func:`logsumexp_topk`."""

    values: Any
    indices: Any
    logsumexp: Any


def _check_k(k, n: int) -> int:
    k = _integer(k, "k")
    if k < 1:
        raise ValueError(f"k: must be at least 1, got {k}")
    if k > n:
        raise ValueError(f"k: {k} is larger than the length of the axis ({n})")
    return k


def _topk_impl(x, k, axis, mode):
    conv = convert(x, "x")
    nd = conv.ndim
    if nd == 0:
        _axis_index(axis, 1)  # a 0-d input is one row of length 1 (axis -1 or 0, as torch.topk)
        ax, n = 0, 1
    else:
        ax = _axis_index(axis, nd)
        n = conv.shape[ax]
    k = _check_k(k, n)
    other = tuple(s for i, s in enumerate(conv.shape) if i != ax)
    torch = _torch()
    values = conv.empty(other + (k,))
    indices = conv.empty(other + (k,), dtype=torch.int64 if conv.kind == "torch" else np.int64)
    lse = conv.empty(other) if mode == _LOGITS else None
    _core.softmax_topk(conv.core(conv.native), ax, k, mode, conv.core(values), conv.core(indices), conv.core(lse))
    if nd == 0:
        values, indices = values.reshape(()), indices.reshape(())
    elif ax != nd - 1:  # the axis of length k goes where the row axis was
        if conv.kind == "torch":
            values, indices = values.movedim(-1, ax), indices.movedim(-1, ax)
        else:
            values, indices = np.moveaxis(values, -1, ax), np.moveaxis(indices, -1, ax)
    if lse is not None:
        return conv.wrap(values), conv.wrap(indices), conv.wrap(lse)
    return conv.wrap(values), conv.wrap(indices)


def softmax_topk(x, k, axis=-1, *, log=False, sorted=True):
    """The ``k`` largest values of ``softmax(x, axis)`` and their indices, in one pass over ``x``.

    Same result as ``torch.topk(torch.softmax(x, axis), k, axis)`` (a namedtuple
    ``(values, indices)``), but the softmax is never written: each row is read once, computing its
    normaliser (max and sum of exponentials) and a running top-k of the logits together.

    Parameters
    ----------
    x : array_like
        NumPy array, torch CPU tensor, ``__dlpack__`` object or Python list; float16, bfloat16
        (torch), float32 or float64. 16-bit inputs are computed in float32.
    k : int
        How many values per row, ``1 <= k <= x.shape[axis]``.
    axis : int
        The softmax axis (default: the last).
    log : bool
        Return log-probabilities (top-k of ``log_softmax``) instead of probabilities.
    sorted : bool
        Accepted for compatibility with ``torch.topk``; the result is always sorted.

    Returns
    -------
    SoftmaxTopk(values, indices)
        Arrays of the caller's type with ``axis`` replaced by an axis of length ``k``: values in
        ``x``'s dtype, largest first; indices int64 along ``axis``.

    Notes
    -----
    Ranking is on the logits: larger first; among equal logits the smaller index first (a stable,
    documented order; ``torch.topk`` leaves the order of ties unspecified). NaN ranks above every
    number, as in ``torch.topk``. As for softmax, a row containing NaN or ``+inf``, or with every
    element ``-inf``, has NaN probabilities (its indices still follow the ranking).
    """
    if not isinstance(log, (bool, np.bool_)):
        raise TypeError(f"log: expected a bool, got {type(log).__name__}")
    if not isinstance(sorted, (bool, np.bool_)):
        raise TypeError(f"sorted: expected a bool, got {type(sorted).__name__}")
    values, indices = _topk_impl(x, k, axis, _LOG_PROBS if log else _PROBS)
    return SoftmaxTopk(values, indices)


def logsumexp_topk(x, k, axis=-1):
    """The ``k`` largest logits of every row, their indices and the row's logsumexp, in one pass.

    For beam search: the log-probabilities of the top-k are ``values - logsumexp[..., None]``
    (with ``axis=-1``); :func:`softmax_topk` with ``log=True`` returns them directly.

    Returns
    -------
    LogsumexpTopk(values, indices, logsumexp)
        ``values``: the top-k logits (``x``'s dtype), largest first, with ``axis`` replaced by an
        axis of length ``k``; ``indices``: int64; ``logsumexp``: ``x``'s shape without ``axis``,
        as :func:`stablemath.logsumexp` gives (``-inf`` for an all ``-inf`` row, ``+inf`` with a
        ``+inf``, NaN with a NaN). Ranking as in :func:`softmax_topk`.
    """
    values, indices, lse = _topk_impl(x, k, axis, _LOGITS)
    return LogsumexpTopk(values, indices, lse)
