"""Public functions: argument checking and axis normalisation (once, here), then the compiled core."""
from __future__ import annotations

import operator

import numpy as np

from . import _core
from ._arrays import Converted, convert

__all__ = ["logsumexp", "softmax", "log_softmax"]

_ALGORITHMS = {"auto": 0, "three_pass": 1, "online": 2, "two_pass": 3}

try:  # NumPy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError  # type: ignore[attr-defined, no-redef]


def _integer(value, name: str) -> int:
    """value as a Python int (anything with __index__, not bool), else TypeError naming the argument."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}")
    try:
        return operator.index(value)
    except TypeError:
        raise TypeError(f"{name}: expected an integer, got {type(value).__name__}") from None


def _axis_index(axis, ndim: int, name: str = "axis") -> int:
    a = _integer(axis, name)
    if not -ndim <= a < ndim:
        raise AxisError(f"{name}: axis {a} is out of bounds for an array of dimension {ndim}")
    return a % ndim


def _reduction_axes(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (tuple, list)):
        axes = tuple(_axis_index(a, ndim) for a in axis)
        if len(set(axes)) != len(axes):
            raise ValueError(f"axis: repeated axis in {tuple(axis)}")
        return axes
    return (_axis_index(axis, ndim),)


def _mask(conv: Converted, where, name: str = "where"):
    """A boolean mask in x's library, checked to broadcast to x's shape."""
    m = conv.aux(where, name, "mask")
    _check_broadcast(m.shape, conv.shape, name)
    return m


def _check_broadcast(shape, target, name):
    shape, target = tuple(shape), tuple(target)
    ok = len(shape) <= len(target) and all(
        s in (1, t) for s, t in zip(shape[::-1], target[::-1])
    )
    if not ok:
        raise ValueError(f"{name}: shape {shape} does not broadcast to the input's shape {target}")


def logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False, where=None):
    """Compute ``log(sum(b * exp(a)))`` over the given axes, stably.

    Follows :func:`scipy.special.logsumexp` (plus JAX's ``where``):

    Parameters
    ----------
    a : array_like
        NumPy array, torch tensor (CPU), any object with ``__dlpack__`` on the CPU, or a Python
        scalar/list (integers are converted to float64). float16/bfloat16 are accumulated in
        float32; the result has the input's dtype.
    axis : None, int or tuple of ints
        Axes to reduce; ``None`` (default) reduces all of them.
    b : array_like, optional
        Weights broadcastable to ``a``; elements with ``b == 0`` are excluded entirely (even inf
        or NaN), negative weights are allowed (see ``return_sign``).
    keepdims : bool
        Keep the reduced axes with length 1.
    return_sign : bool
        Also return the sign of the sum: +1, -1, or 0 for an empty / all ``-inf`` reduction.
        Without it a negative sum gives NaN.
    where : array_like of bool, optional
        Only elements where this is True take part.

    Returns
    -------
    res : array (or scalar for NumPy input reduced to 0-d), in the caller's array type
    sgn : same shape, only if ``return_sign``

    Notes
    -----
    The largest element is factored out and the sum is kept as (count of maxima, rest), so the
    result is ``max + log(c) + log1p(rest / c)``: accurate even when one element dominates.
    An empty reduction gives ``-inf``; any NaN gives NaN; ``+inf`` gives ``+inf``.
    """
    conv = convert(a, "a")
    nd = conv.ndim
    axes = _reduction_axes(axis, nd)
    for name, val in (("keepdims", keepdims), ("return_sign", return_sign)):
        if not isinstance(val, (bool, np.bool_)):
            raise TypeError(f"{name}: expected a bool, got {type(val).__name__}")
    mask = 0
    for ax in axes:
        mask |= 1 << ax
    shape = conv.shape
    out_shape = tuple(
        (1 if i in axes else s) for i, s in enumerate(shape) if keepdims or i not in axes
    )
    weights = None
    if b is not None:
        weights = conv.aux(b, "b", "weights")
        _check_broadcast(weights.shape, shape, "b")
    m = _mask(conv, where) if where is not None else None
    out = conv.empty(out_shape)
    sign = conv.empty(out_shape) if return_sign else None
    _core.logsumexp(conv.core(conv.native), mask, conv.core(weights), conv.core(m), conv.core(out), conv.core(sign))
    if return_sign:
        return conv.wrap(out), conv.wrap(sign)
    return conv.wrap(out)


def _softmax_impl(x, axis, algorithm, where, safe, log, out):
    conv = convert(x, "x")
    nd = conv.ndim
    if nd == 0:
        if axis is not None:
            _axis_index(axis, 1)  # 0-d input: axis -1 or 0, as in torch
        ax = 0
    else:
        if axis is None:
            raise TypeError("axis: None is not supported by softmax; give an integer axis")
        ax = _axis_index(axis, nd)
    try:
        code = _ALGORITHMS[algorithm]
    except (KeyError, TypeError):
        raise ValueError(
            f"algorithm: expected one of {sorted(_ALGORITHMS)}, got {algorithm!r}"
        ) from None
    if not isinstance(safe, (bool, np.bool_)):
        raise TypeError(f"safe: expected a bool, got {type(safe).__name__}")
    m = _mask(conv, where) if where is not None else None
    given = out
    out = conv.output(out, conv.shape)
    _core.softmax(conv.core(conv.native), ax, conv.core(m), conv.core(out), code, log, bool(safe))
    return conv.result(out, given)  # out= is returned as given, also when 0-d


def softmax(x, axis=-1, *, algorithm="auto", where=None, safe=False, out=None):
    """Softmax ``exp(x - max) / sum(exp(x - max))`` along one axis.

    Parameters
    ----------
    x : array_like
        As for :func:`logsumexp`; the result has the input's dtype and array type.
    axis : int
        Axis along which to normalise (default: the last).
    algorithm : {"auto", "three_pass", "online", "two_pass"}
        ``three_pass``: max, exponentials and sum, scale. ``online``: running (max, sum) per
        cache-sized chunk, merged (Milakov & Gimelshein), then the output pass. ``two_pass``:
        sum of exponentials as (mantissa, exponent) pairs without a max (Dukhan & Ablavatski);
        rows with ``|max| > 8192`` (float32) / ``262144`` (float64), where its range reduction
        would lose digits, are computed by ``online``; ``log_softmax`` with ``two_pass`` uses the
        online reduction (its output pass has no exponentials, and the log1p form needs the maxima
        kept apart). ``auto`` picks the fastest for the CPU. All agree within a few ulp.
    where : array_like of bool, optional
        Elements where this is False are left out; they get 0.
    safe : bool
        A row with no finite mass (all ``-inf``, or all of its unmasked entries ``-inf``) gives
        0 instead of NaN, as masked attention wants.
    out : array, optional
        Where to write the result (NumPy array or torch tensor like the input, same shape and
        dtype): saves allocating, and the page faults of first touching, a new array. It may be
        ``x`` itself (in place) but must not otherwise overlap it. Returned.

    Notes
    -----
    NaN anywhere in a row, or ``+inf``, gives NaN for the whole row (as PyTorch, JAX, SciPy).
    """
    return _softmax_impl(x, axis, algorithm, where, safe, log=False, out=out)


def log_softmax(x, axis=-1, *, algorithm="auto", where=None, safe=False, out=None):
    """``(x - max) - log(sum(exp(x - max)))`` along one axis, in that order of operations.

    Same parameters as :func:`softmax`; masked entries and (with ``safe``) rows with no finite
    mass give ``-inf``. The log of the sum is ``log(c) + log1p(rest / c)`` with c the count of
    maxima, so the log-probability of a dominant element keeps its digits (e.g. -1e-30 in float64,
    where ``x - logsumexp(x)`` gives 0).
    """
    return _softmax_impl(x, axis, algorithm, where, safe, log=True, out=out)
