"""Cross-entropy losses over a class axis and the Softmax Collapse detector.

The shared machinery of the row losses (target checks, reductions, the caller's array type) lives
here; :mod:`stablemath._stablemax` uses it for ``stablemax_cross_entropy``.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Optional

import numpy as np

from . import _core
from ._api import _axis_index, _integer
from ._arrays import Converted, _check_torch_device, _torch, convert, dense_tensor

__all__ = ["softmax_cross_entropy", "softmax_collapse", "SoftmaxCollapse"]

_REDUCTIONS = ("mean", "sum", "none")
_KIND = {"softmax": 0, "stablemax": 1}
_PRECISION = {"float16": 0, "bfloat16": 1, "float32": 2, "float64": 3}


def _class_axis(conv: Converted, axis, name: str = "logits") -> int:
    if conv.ndim == 0:
        raise ValueError(f"{name}: must have at least one dimension (the class axis)")
    return _axis_index(axis, conv.ndim)


def _rows_shape(conv: Converted, ax: int) -> tuple:
    return tuple(s for i, s in enumerate(conv.shape) if i != ax)


def _target_indices(target, shape: tuple, classes: int, ignore_index: int) -> np.ndarray:
    """Integer class indices, shape = logits' shape without the class axis -> flat int64 (C order)."""
    torch = _torch()
    from_list = False
    if torch is not None and isinstance(target, torch.Tensor):
        _check_torch_device(target, "target")
        if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
            raise TypeError(f"target: expected integer class indices, got dtype {target.dtype}")
        arr = dense_tensor(target, "target").detach().numpy()
    elif isinstance(target, (np.ndarray, np.generic)):
        arr = np.asarray(target)
    elif hasattr(target, "__dlpack__") and hasattr(target, "__dlpack_device__"):
        try:
            arr = np.from_dlpack(target)
        except (BufferError, TypeError, RuntimeError) as e:
            raise TypeError(f"target: could not import the array through DLPack ({e})") from None
    else:
        if isinstance(target, (bool, float)):
            raise TypeError(f"target: expected integer class indices, got {type(target).__name__}")
        try:
            arr = np.asarray(target)
        except (TypeError, ValueError) as e:
            raise TypeError(f"target: cannot be converted to an array ({e})") from None
        from_list = True
    if from_list and arr.size == 0 and arr.dtype.kind == "f":
        arr = arr.astype(np.int64)  # [] has no integer dtype of its own
    if arr.dtype.kind == "b" or arr.dtype.kind not in "iu":
        raise TypeError(f"target: expected integer class indices, got dtype {arr.dtype}")
    if tuple(arr.shape) != tuple(shape):
        raise ValueError(
            f"target: shape {tuple(arr.shape)} does not match the logits' shape without the class axis {tuple(shape)}"
        )
    if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
        raise IndexError(f"target: class index {int(arr.max())} is out of range for {classes} classes")
    flat = np.ascontiguousarray(arr, dtype=np.int64).reshape(-1)
    bad = (flat != ignore_index) & ((flat < 0) | (flat >= classes))
    if bad.any():
        v = int(flat[np.argmax(bad)])
        raise IndexError(
            f"target: class index {v} is out of range for {classes} classes (and is not ignore_index={ignore_index})"
        )
    return flat


def _check_reduction(reduction) -> str:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        raise ValueError(f"reduction: expected one of {_REDUCTIONS}, got {reduction!r}")
    return reduction


def _to_caller(conv: Converted, arr: np.ndarray):
    """A NumPy result (computed in float32/float64) in the logits' array type and dtype."""
    if conv.kind == "torch":
        return _torch().from_numpy(np.array(arr, order="C")).to(conv.native.dtype)
    return conv.wrap(np.asarray(arr).astype(conv.native.dtype))


def _cross_entropy(kind: str, logits, target, axis, ignore_index, label_smoothing, reduction):
    conv = convert(logits, "logits")
    ax = _class_axis(conv, axis)
    reduction = _check_reduction(reduction)
    ignore_index = _integer(ignore_index, "ignore_index")
    if isinstance(label_smoothing, (bool, np.bool_)) or not isinstance(label_smoothing, (int, float, np.floating,
                                                                                        np.integer)):
        raise TypeError(f"label_smoothing: expected a float, got {type(label_smoothing).__name__}")
    label_smoothing = float(label_smoothing)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing: must be in [0, 1], got {label_smoothing}")
    classes = conv.shape[ax]
    if classes == 0:
        raise ValueError("logits: the class axis is empty; a cross-entropy needs at least one class")
    shape = _rows_shape(conv, ax)
    flat = _target_indices(target, shape, classes, ignore_index)
    acc = np.float64 if str(conv.dtype) in ("float64", "torch.float64") else np.float32
    loss = np.empty(flat.size, dtype=acc)
    _core.cross_entropy(conv.core(conv.native), ax, flat, ignore_index, label_smoothing, _KIND[kind], loss)
    if reduction == "none":
        return _to_caller(conv, loss.reshape(shape))
    total = loss.sum(dtype=np.float64)
    if reduction == "sum":
        return _to_caller(conv, np.asarray(total))
    count = int(np.count_nonzero(flat != ignore_index))
    return _to_caller(conv, np.asarray(total / count if count else math.nan))


def softmax_cross_entropy(logits, target, axis=-1, *, label_smoothing=0.0, ignore_index=-100, reduction="mean"):
    """Cross-entropy of softmax(logits) against integer class indices, as
    :func:`torch.nn.functional.cross_entropy` (class-index targets, no class weights).

    Parameters
    ----------
    logits : array_like
        NumPy array, torch CPU tensor or ``__dlpack__`` object; float16/bfloat16 are computed in
        float32. The class axis is ``axis`` (default the last; torch's ``(N, C, d1, ...)`` layout is
        ``axis=1``).
    target : array_like of int
        Class indices with the logits' shape without the class axis (any integer dtype; float or
        bool targets are rejected: class probabilities are not supported). Values outside
        ``[0, C)`` other than ``ignore_index`` raise ``IndexError``.
    label_smoothing : float in [0, 1]
        ``loss = (1 - e) * nll + e * mean_j(-log p_j)`` per row (torch's formula).
    ignore_index : int
        Rows whose target equals it contribute 0 and are left out of the mean.
    reduction : {"mean", "sum", "none"}
        ``"mean"`` divides by the number of non-ignored rows; with none left the result is NaN
        (as torch). ``"none"`` gives one loss per row (0 for ignored rows).

    Returns
    -------
    The loss in the logits' dtype and array type (a 0-d tensor / NumPy scalar when reduced).

    Notes
    -----
    Each row's ``-log p_t = (max - x_t) + log(c + s)`` comes from the library's one-pass
    (max, sum) state, with ``log1p`` for the dominant part: a confident, correct prediction gets
    its tiny loss to full relative precision (where ``logsumexp - x_t`` gives 0). A row holding
    NaN or ``+inf``, or only ``-inf``, gives NaN; ``x_t = -inf`` with finite others gives ``+inf``.
    """
    return _cross_entropy("softmax", logits, target, axis, ignore_index, label_smoothing, reduction)


@dataclass(frozen=True)
class SoftmaxCollapse:
    """Result of :func:`softmax_collapse`. Per-row fields are None unless ``per_row=True``."""

    fraction_sum_is_one: float
    fraction_gap: float
    threshold: float
    dtype: str
    rows: int
    sum_is_one: Optional[Any] = None
    gap_exceeds: Optional[Any] = None
    gap: Optional[Any] = None


def _precision_name(dtype) -> str:
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError(f"dtype: expected one of {tuple(_PRECISION)} or a NumPy/torch dtype, got None")
    name = str(dtype)
    if name.startswith("torch."):
        name = name[len("torch."):]
    try:
        if not isinstance(dtype, str) and name not in _PRECISION:
            name = np.dtype(dtype).name
    except TypeError:
        pass
    if name not in _PRECISION:
        raise ValueError(f"dtype: expected one of {tuple(_PRECISION)}, got {dtype!r}")
    return name


def softmax_collapse(logits, axis=-1, dtype="float32", *, per_row=False) -> SoftmaxCollapse:
    """Detects Softmax Collapse (Prieto et al. 2025): rows whose softmax, computed in ``dtype``,
    has absorbed every non-maximal term.

    For each row (classes along ``axis``), with ``q = round_dtype(logits)`` and ``m = max(q)``:

    * ``sum_is_one``: the criterion of the paper's code, ``sum_j exp(q_j - m) == 1`` in ``dtype``.
      Each term is formed as the code forms it, ``round(exp(round(q_j - m)))``; the terms below the
      maximum are added exactly (in float64) and ``1 + rest`` is rounded once to ``dtype``. So the
      test is order-independent: it is True iff there is a single maximum and all other terms
      together are at most half an ulp of 1 (a library sum may group small terms differently).
    * ``gap_exceeds``: ``gap = m - (largest other element) > threshold = log(1/eps)``, ``eps`` the
      machine epsilon of ``dtype`` (2^-10, 2^-7, 2^-23, 2^-52: thresholds 6.93, 4.85, 15.94, 36.04):
      every other probability is below ``eps``. A tied maximum gives ``gap = 0``; a one-class row
      gives ``gap = inf``.

    Rows holding NaN or ``+inf``, or without a finite element, count as not collapsed (gap NaN).

    Parameters
    ----------
    logits : array_like with at least one dimension; the class axis must not be empty.
    dtype : "float16", "bfloat16", "float32" or "float64" (or a NumPy/torch dtype)
        The precision the softmax is assumed to run in.
    per_row : bool
        Also return the per-row booleans and gaps (shape: logits without the class axis; the
        logits' array library, gaps in float64).

    Returns
    -------
    SoftmaxCollapse with ``fraction_sum_is_one``, ``fraction_gap`` (NaN for zero rows),
    ``threshold``, ``dtype``, ``rows`` and, with ``per_row``, ``sum_is_one``, ``gap_exceeds``, ``gap``.
    """
    conv = convert(logits, "logits")
    ax = _class_axis(conv, axis)
    name = _precision_name(dtype)
    if not isinstance(per_row, (bool, np.bool_)):
        raise TypeError(f"per_row: expected a bool, got {type(per_row).__name__}")
    if conv.shape[ax] == 0:
        raise ValueError("logits: the class axis is empty")
    shape = _rows_shape(conv, ax)
    rows = int(np.prod(shape, dtype=np.int64))
    one = np.zeros(rows, dtype=np.uint8)
    gapx = np.zeros(rows, dtype=np.uint8)
    gap = np.empty(rows, dtype=np.float64)
    threshold = _core.softmax_collapse(conv.core(conv.native), ax, _PRECISION[name], one, gapx, gap)
    frac_one = float(one.mean()) if rows else math.nan
    frac_gap = float(gapx.mean()) if rows else math.nan
    extra = {}
    if per_row:
        torch = _torch()
        per = {"sum_is_one": one.view(np.bool_).reshape(shape), "gap_exceeds": gapx.view(np.bool_).reshape(shape),
               "gap": gap.reshape(shape)}
        if conv.kind == "torch":
            extra = {k: torch.from_numpy(np.array(v, order="C")) for k, v in per.items()}
        else:
            extra = per
    return SoftmaxCollapse(frac_one, frac_gap, float(threshold), name, rows, **extra)
