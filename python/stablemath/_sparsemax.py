"""Sparsemax: the Euclidean projection onto the probability simplex, its Fenchel-Young loss and
its Jacobian-vector product."""
from __future__ import annotations

import numpy as np

from . import _core
from ._api import _axis_index
from ._arrays import _torch, aux_to_numpy, convert, dense_tensor

__all__ = ["sparsemax", "sparsemax_loss", "sparsemax_backward"]

# Codes shared with python/src/bind_sparsemax.cpp and stablemath::SparsemaxAlgorithm.
_ALGORITHMS = {"auto": 0, "sort": 1, "pivot": 2, "bisect": 3}
_REDUCTIONS = ("none", "mean", "sum")


def sparsemax(x, axis=-1, *, algorithm="auto", out=None):
    """Sparsemax along one axis: ``p = argmin_{p in simplex} ||p - x||^2``, i.e.
    ``p_i = max(x_i - tau, 0)`` with tau chosen so that ``sum(p) = 1`` (Martins & Astudillo 2016).

    Parameters
    ----------
    x : array_like
        NumPy array, torch tensor (CPU), any CPU object with ``__dlpack__``, or a Python scalar/list.
        float16 / bfloat16 are computed in float32; the result has the input's dtype and array type.
    axis : int
        Axis to project (default: the last). Any strides.
    algorithm : {"auto", "sort", "pivot", "bisect"}
        All three first keep, in one pass, the entries above a running lower bound of tau; then
        ``sort`` pops them from a heap in decreasing order until the support condition fails,
        ``pivot`` runs Duchi et al.'s randomised pivot (expected linear time), ``bisect`` bisects
        on tau to the dtype's precision. Each ends with the exact step ``tau = (sum_S x - 1)/|S|``
        over the support S found, so entries outside S are exactly 0.0. ``auto`` is the fastest
        measured (``pivot``). All agree to rounding.
    out : array, optional
        Output array (same library, shape and dtype as ``x``); may be ``x`` itself (in place).

    Notes
    -----
    Length-0 axis: empty result. Length 1: ``[1]``. A row containing NaN gives NaN for the whole
    row. ``+inf`` entries share the mass equally (``[inf, 0, inf] -> [0.5, 0, 0.5]``, the limit of
    equal entries growing without bound); ``-inf`` entries get 0; a row with no entry above
    ``-inf`` gives NaN (no finite mass, as :func:`softmax`). Tensors that require grad are read
    without autograd (``sparsemax_backward`` gives the gradient).
    """
    conv = convert(x, "x")
    nd = conv.ndim
    if nd == 0:
        _axis_index(axis, 1)
        ax = 0
    else:
        ax = _axis_index(axis, nd)
    try:
        code = _ALGORITHMS[algorithm]
    except (KeyError, TypeError):
        raise ValueError(f"algorithm: expected one of {sorted(_ALGORITHMS)}, got {algorithm!r}") from None
    res = conv.output(out, conv.shape)
    _core.sparsemax(conv.core(conv.native), ax, conv.core(res), code)
    return conv.result(res, out)  # out= is returned as given, also when 0-d


def _library(conv):
    return _torch() if conv.kind == "torch" else np


def _as_library(conv, value, name):
    """A secondary array in x's library (no dtype change); a torch value must be on the CPU."""
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        value = dense_tensor(value, name)
        if value.device.type != "cpu":
            raise ValueError(f"{name}: tensor is on device {value.device}; this build has no CUDA backend")
        value = value.detach()
        if conv.kind == "torch":
            return value
        return value.float().numpy() if value.dtype == torch.bfloat16 else value.numpy()
    if conv.kind == "torch":
        return torch.as_tensor(aux_to_numpy(value, name))
    return aux_to_numpy(value, name)


def _kind_of(arr):
    """'float', 'int', 'bool', 'complex' or 'other' for a NumPy array or torch tensor."""
    torch = _torch()
    if torch is not None and isinstance(arr, torch.Tensor):
        if arr.dtype == torch.bool:
            return "bool"
        if arr.dtype.is_complex:
            return "complex"
        return "float" if arr.dtype.is_floating_point else "int"
    k = arr.dtype.kind
    return {"f": "float", "i": "int", "u": "int", "b": "bool", "c": "complex"}.get(k, "other")


def sparsemax_backward(y, grad, axis=-1):
    """Vector-Jacobian product of sparsemax: ``J^T g = s * (g - mean_S(g))`` where ``y = sparsemax(x)``,
    ``s`` is the support indicator ``y > 0`` and ``mean_S(g) = sum_i s_i g_i / |S|`` (J is symmetric,
    ``J = diag(s) - s s^T / |S|``).

    ``y`` and ``grad`` have the same shape; the result has grad's dtype (float16/bfloat16 computed in
    float32) and y's array type. Entries outside the support get exactly 0; a NaN in ``y`` (a NaN
    row of the forward pass) gives NaN there.
    """
    conv = convert(y, "y")
    g = _as_library(conv, grad, "grad")
    if conv.kind != "torch" and isinstance(g, np.ndarray) and not g.dtype.isnative:
        g = g.astype(g.dtype.newbyteorder("="))
    gk = _kind_of(g)
    if gk != "float":
        raise TypeError(f"grad: expected a floating array, got dtype {g.dtype}")
    if tuple(g.shape) != conv.shape:
        raise ValueError(f"grad: shape {tuple(g.shape)} does not match y's shape {conv.shape}")
    if conv.ndim == 0:
        _axis_index(axis, 1)
        yv, gv, ax = conv.native.reshape(1), g.reshape(1), 0
    else:
        ax = _axis_index(axis, conv.ndim)
        yv, gv = conv.native, g
    if g.dtype != conv.dtype:  # one dtype for the kernel: grad's (y is a probability vector)
        yv = yv.to(g.dtype) if conv.kind == "torch" else np.asarray(yv).astype(g.dtype)
    res = _torch().empty(tuple(yv.shape), dtype=g.dtype) if conv.kind == "torch" else np.empty(yv.shape, g.dtype)
    _core.sparsemax_backward(conv.core(yv), conv.core(gv), ax, conv.core(res))
    return conv.wrap(res.reshape(conv.shape))


def sparsemax_loss(x, target, axis=-1, reduction="none"):
    """Sparsemax loss, the Fenchel-Young loss of Omega(p) = (||p||^2 - 1)/2 (Martins & Astudillo 2016;
    Blondel, Martins & Niculae 2020):

        L(z; q) = <p - q, z> + (||q||^2 - ||p||^2) / 2,    p = sparsemax(z),

    which for a class index y (q = e_y) is ``L = (1 - ||p||^2)/2 + <p - e_y, z>``, equal to
    ``-z_y + 1/2 sum_{j in S} (z_j^2 - tau^2) + 1/2``. L >= 0, L = 0 iff p = q, and
    ``dL/dz = p - q``.

    Parameters
    ----------
    x : array_like
        Scores, at least 1-d, floating; ``axis`` is the class axis (length >= 1).
    target : array_like
        Either class indices: an integer array of x's shape without ``axis``, values in
        ``[0, C)``; or a probability distribution: a floating array of x's shape, entries >= 0
        summing to 1 along ``axis`` (checked to 1e-3 for 16-bit, 1e-5 for float32, 1e-10 for
        float64 inputs).
    reduction : {"none", "mean", "sum"}
        Per-row losses (x's shape without ``axis``), their mean, or their sum.

    Returns the loss in x's dtype and array type, from scores shifted by the row maximum
    (``<p - q, z> = <p - q, z - max z>`` since both sum to 1), so large offsets cost no digits.
    Class indices: one C++ pass per row (p in x's accumulation dtype, float32 for 16/32-bit
    input, and the loss summed in float64); distributions: float64 array operations. A row with NaN gives NaN; a target on a ``-inf`` score gives ``+inf``; +inf
    scores enter as ``z - max z = 0`` when they are the maximum.
    """
    conv = convert(x, "x")
    if conv.ndim == 0:
        raise ValueError("x: must have at least one dimension (the class axis)")
    ax = _axis_index(axis, conv.ndim)
    if conv.shape[ax] == 0:
        raise ValueError("x: the class axis is empty; the loss of an empty row is undefined")
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction: expected one of {list(_REDUCTIONS)}, got {reduction!r}")
    lib = _library(conv)
    is_torch = conv.kind == "torch"
    t = _as_library(conv, target, "target")
    tk = _kind_of(t)
    batch = conv.shape[:ax] + conv.shape[ax + 1:]
    ncls = conv.shape[ax]
    if tk == "int":
        if tuple(t.shape) != batch:
            raise ValueError(f"target: class indices must have x's shape without axis {batch}, got {tuple(t.shape)}")
        if t.numel() if is_torch else t.size:
            lo, hi = int(t.min()), int(t.max())
            if lo < 0 or hi >= ncls:
                raise ValueError(f"target: class index out of range [0, {ncls}) (found {lo if lo < 0 else hi})")
        idx = np.ascontiguousarray(t.numpy() if is_torch else t, dtype=np.int64)
        per_row = np.empty(batch, np.float64)  # one pass in C++ per row, summed in double
        _core.sparsemax_loss(conv.core(conv.native), ax, idx, per_row)
        loss = lib.from_numpy(per_row) if is_torch else per_row
        return _reduce(conv, loss, reduction)
    xd = lib.moveaxis(conv.native, ax, -1)
    xd = xd.to(lib.float64) if is_torch else xd.astype(np.float64)
    if tk == "float":
        if tuple(t.shape) != conv.shape:
            raise ValueError(f"target: a distribution must have x's shape {conv.shape}, got {tuple(t.shape)}")
        q = lib.moveaxis(t, ax, -1)
        q = q.to(lib.float64) if is_torch else q.astype(np.float64)
        tol = 1e-10 if str(conv.dtype).endswith("float64") else 1e-5 if str(conv.dtype).endswith("float32") else 1e-3
        qs = q.sum(-1)
        if bool((q < 0).any()) or bool((q != q).any()) or bool((abs(qs - 1) > tol).any()):
            raise ValueError("target: a distribution must have entries >= 0 summing to 1 along axis")
    else:
        raise TypeError(f"target: expected integer class indices or a floating distribution, got dtype {t.dtype}")
    p = sparsemax(xd, axis=-1)
    m = xd.max(-1, keepdim=True).values if is_torch else xd.max(-1, keepdims=True)
    diff = p - q
    zero = lib.zeros((), dtype=lib.float64) if is_torch else 0.0
    with np.errstate(invalid="ignore"):
        d = lib.where(xd == m, zero, xd - m)
        lin = lib.where(diff != 0, diff * d, zero).sum(-1)
    loss = lin + 0.5 * ((q * q).sum(-1) - (p * p).sum(-1))
    return _reduce(conv, loss, reduction)


def _reduce(conv, loss, reduction):
    """float64 per-row losses -> the reduction, in x's dtype and array type."""
    if reduction == "mean":
        loss = loss.mean()
    elif reduction == "sum":
        loss = loss.sum()
    if conv.kind == "torch":
        return loss.to(conv.dtype)
    return conv.wrap(np.asarray(loss, dtype=conv.dtype))
