"""The op entries: kernel (compiled core on tensors, zero-copy), shape rule, backward formula.

Kernels receive positional arguments in schema order with dims not yet normalised (so that
``torch.ops.stablemath.*`` called directly is checked too); every check lives in a ``_check_*``
helper shared by the kernel and its fake.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.dlpack import to_dlpack as _to_dlpack

from .. import _core
from .._api import _ALGORITHMS, _axis_index, _check_broadcast, _reduction_axes
from ._registry import _REGISTRY as _REG  # vmap rules call the op itself on the batched tensors
from ._registry import batch_first, define

_FLOATS = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_ALGORITHM_NAMES = sorted(_ALGORITHMS)


def _arr(t):
    """What the core gets for a tensor: a DLPack capsule of it (zero-copy; ~0.3 us, against ~1 us for
    ``t.numpy()`` and more for the Python ``__dlpack__`` protocol), for every dtype (bfloat16
    included) and without detaching (inside the eager autograd.Function's forward). Kernels check
    the device first."""
    return None if t is None else _to_dlpack(t)


def _check_tensor(t, name, floating=True):
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(t).__name__}")
    if floating and t.dtype not in _FLOATS:
        raise TypeError(f"{name}: dtype {t.dtype} is not supported; pass a floating tensor "
                        "(float16, bfloat16, float32 or float64)")


def _check_cpu(*named):
    """Kernels only (fakes run on fake/meta tensors): the compiled core reads CPU memory."""
    for name, t in named:
        if t is not None and not t.is_cpu:
            raise ValueError(f"{name}: tensor is on device {t.device}, but this build of stablemath has no "
                             "CUDA backend; move it to the CPU with .cpu()")


def _check_mask(where, x, name="where"):
    if where is None:
        return
    _check_tensor(where, name, floating=False)
    if where.dtype != torch.bool:
        raise TypeError(f"{name}: expected a boolean mask, got dtype {where.dtype}")
    _check_broadcast(where.shape, x.shape, name)


def _acc_dtype(x):
    return torch.float64 if x.dtype == torch.float64 else torch.float32


# ------------------------------------------------------------------------------------------
# softmax / log_softmax: (Tensor x, int dim, str algorithm, bool safe, Tensor? where) -> Tensor
# ------------------------------------------------------------------------------------------
_ROWS_SCHEMA = "(Tensor x, int dim, str algorithm, bool safe, Tensor? where) -> Tensor"


def _check_rows(x, dim, algorithm, safe, where) -> int:
    _check_tensor(x, "x")
    nd = x.ndim
    if type(dim) is int and -nd <= dim < nd:  # the common case, without _axis_index's call
        d = dim % nd
    elif nd == 0:
        _axis_index(dim, 1, "dim")  # 0-d input: dim -1 or 0, as in torch
        d = 0
    else:
        d = _axis_index(dim, nd, "dim")
    if algorithm not in _ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {_ALGORITHM_NAMES}, got {algorithm!r}")
    if type(safe) is not bool:
        raise TypeError(f"safe: expected a bool, got {type(safe).__name__}")
    if where is not None:
        _check_mask(where, x)
    return d


def _rows_kernel(log: bool):
    def kernel(x, dim, algorithm, safe, where):
        d = _check_rows(x, dim, algorithm, safe, where)
        if not x.is_cpu or (where is not None and not where.is_cpu):  # _check_cpu only on the rare path
            _check_cpu(("x", x), ("where", where))
        out = torch.empty_like(x)
        _core.softmax(_arr(x), d, _arr(where), _arr(out), _ALGORITHMS[algorithm], log, safe)
        return out
    return kernel


def _rows_fake(x, dim, algorithm, safe, where):
    _check_rows(x, dim, algorithm, safe, where)
    return torch.empty_like(x)


def _rows_setup(ctx, inputs, output):
    x, dim, _, safe, where = inputs
    ctx.dim = 0 if x.ndim == 0 else dim % x.ndim
    ctx.safe = safe
    ctx.save_for_backward(output, where)


def _softmax_backward(ctx, g):
    # y * (g - sum(g * y)); masked entries and safe all-zero rows have y = 0, hence zero gradient.
    y, _ = ctx.saved_tensors
    return torch._softmax_backward_data(g, y, ctx.dim, y.dtype), None, None, None, None


def _log_softmax_backward(ctx, g):
    # g - softmax * sum(g). Masked entries and safe rows without finite mass are constant -inf
    # outputs: their upstream gradient is dropped first, so they get (and pass on) nothing.
    y, where = ctx.saved_tensors
    drop = None if where is None else ~where
    if ctx.safe:
        dead = torch.isneginf(y).all(dim=ctx.dim, keepdim=True) if y.ndim else torch.isneginf(y)
        drop = dead if drop is None else drop | dead
    if drop is not None:
        g = g.masked_fill(drop, 0)
    return torch._log_softmax_backward_data(g, y, ctx.dim, y.dtype), None, None, None, None


def _rows_vmap(name):
    def rule(info, in_dims, x, dim, algorithm, safe, where):
        nd = x.ndim - (in_dims[0] is not None)
        d = 0 if nd == 0 else _axis_index(dim, nd, "dim")
        xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
        wb = batch_first(where, in_dims[4], info.batch_size, nd)
        if nd == 0:  # a batch of 0-d inputs: rows of length 1
            out = _REG[name].overload(xb.unsqueeze(1), 1, algorithm, safe, None if wb is None else wb.reshape(-1, 1))
            return out.squeeze(1), 0
        return _REG[name].overload(xb, d + 1, algorithm, safe, wb), 0
    return rule


softmax_op = define("softmax", _ROWS_SCHEMA, impl=_rows_kernel(False), fake=_rows_fake,
                    setup=_rows_setup, backward=_softmax_backward, vmap=_rows_vmap("softmax"))
log_softmax_op = define("log_softmax", _ROWS_SCHEMA, impl=_rows_kernel(True), fake=_rows_fake,
                        setup=_rows_setup, backward=_log_softmax_backward, vmap=_rows_vmap("log_softmax"))


# ------------------------------------------------------------------------------------------
# logsumexp: (Tensor x, int[] dim, bool keepdim, Tensor? b, Tensor? where) -> Tensor
# dim = [] reduces every axis.
# ------------------------------------------------------------------------------------------
def _check_lse(x, dim, keepdim, b, where):
    _check_tensor(x, "x")
    axes = _reduction_axes(list(dim) if len(dim) else None, x.ndim)
    if not isinstance(keepdim, bool):
        raise TypeError(f"keepdim: expected a bool, got {type(keepdim).__name__}")
    if b is not None:
        _check_tensor(b, "b", floating=False)
        if b.dtype == torch.bool or b.dtype.is_complex:
            raise TypeError(f"b: expected real weights, got dtype {b.dtype}")
        _check_broadcast(b.shape, x.shape, "b")
    _check_mask(where, x)
    shape = [1 if i in axes else s for i, s in enumerate(x.shape) if keepdim or i not in axes]
    return axes, shape


def _lse_kernel(x, dim, keepdim, b, where):
    axes, shape = _check_lse(x, dim, keepdim, b, where)
    _check_cpu(("x", x), ("b", b), ("where", where))
    mask = 0
    for a in axes:
        mask |= 1 << a
    out = x.new_empty(shape)
    bw = None if b is None else b.to(_acc_dtype(x))
    _core.logsumexp(_arr(x), mask, _arr(bw), _arr(where), _arr(out), None)
    return out


def _lse_fake(x, dim, keepdim, b, where):
    _, shape = _check_lse(x, dim, keepdim, b, where)
    return x.new_empty(shape)


def _lse_setup(ctx, inputs, output):
    x, dim, keepdim, b, where = inputs
    ctx.axes = sorted(_reduction_axes(list(dim) if len(dim) else None, x.ndim))
    ctx.keepdim = keepdim
    ctx.save_for_backward(x, output, b, where)


def _lse_backward(ctx, g):
    # d/dx_i = b_i exp(x_i - lse), d/db_i = exp(x_i - lse), computed in the accumulation dtype.
    # Rows with lse = -inf (all -inf, all masked, all weights 0) get zero, not exp(-inf + inf) = NaN;
    # masked entries and entries with b = 0 take no part, so they get zero too.
    x, out, b, where = ctx.saved_tensors
    acc = _acc_dtype(x)
    if not ctx.keepdim:
        for a in ctx.axes:
            out, g = out.unsqueeze(a), g.unsqueeze(a)
    out = out.to(acc)
    p = torch.exp(x.to(acc) - out).masked_fill(torch.isneginf(out), 0)
    if where is not None:
        p = p.masked_fill(~where, 0)
    g = g.to(acc)
    gb = None
    if b is not None:
        bw = b.to(acc)
        if ctx.needs_input_grad[3]:
            gb = (g * p).sum_to_size(b.shape).to(b.dtype)
        p = (p * bw).masked_fill(bw == 0, 0)
    gx = (g * p).to(x.dtype) if ctx.needs_input_grad[0] else None
    return gx, None, None, gb, None


def _lse_vmap(info, in_dims, x, dim, keepdim, b, where):
    nd = x.ndim - (in_dims[0] is not None)
    axes = _reduction_axes(list(dim) if len(dim) else None, nd)
    xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
    bb = batch_first(b, in_dims[3], info.batch_size, nd)
    wb = batch_first(where, in_dims[4], info.batch_size, nd)
    if not axes:  # a 0-d input: nothing to reduce but the batch dim, which must stay
        return _REG["logsumexp"].overload(xb.unsqueeze(1), [1], False, None if bb is None else bb.reshape(-1, 1),
                                 None if wb is None else wb.reshape(-1, 1)), 0
    return _REG["logsumexp"].overload(xb, [a + 1 for a in axes], keepdim, bb, wb), 0


logsumexp_op = define("logsumexp", "(Tensor x, int[] dim, bool keepdim, Tensor? b, Tensor? where) -> Tensor",
                      impl=_lse_kernel, fake=_lse_fake, setup=_lse_setup, backward=_lse_backward, vmap=_lse_vmap)


# ------------------------------------------------------------------------------------------
# Log-Bessel family: (Tensor v, Tensor x) -> Tensor, element-wise with broadcasting.
# Gradients with respect to x only (via the ratio algorithms); v must not require grad.
# ------------------------------------------------------------------------------------------
_BESSEL_CODES = {"log_bessel_i": 0, "log_bessel_k": 1, "log_bessel_ie": 2, "log_bessel_ke": 3,
                 "bessel_i_ratio": 4, "bessel_k_ratio": 5,  # shared with python/src/bind_special.cpp
                 "vmf_log_normalizer": 6, "vmf_mean_resultant": 7,  # (v, x) = (d, kappa) for these
                 "vmf_log_normalizer_scaled": 8}  # log C_d(kappa) + kappa (no O(kappa) cancellation)


def _bessel_result(v, x):
    """Shape and dtype: torch promotion, except that float16/bfloat16 are computed and returned in
    float32 (log I_v leaves their range) and integer-only arguments give float64."""
    _check_tensor(v, "v", floating=False)
    _check_tensor(x, "x", floating=False)
    for name, t in (("v", v), ("x", x)):
        if t.dtype == torch.bool or t.dtype.is_complex:
            raise TypeError(f"{name}: dtype {t.dtype} is not supported; pass a real tensor")
    try:
        shape = torch.broadcast_shapes(v.shape, x.shape)
    except RuntimeError:
        raise ValueError(f"v and x: shapes do not broadcast (v {tuple(v.shape)}, x {tuple(x.shape)})") from None
    dt = torch.result_type(v, x)
    dtype = torch.float64 if dt == torch.float64 or not dt.is_floating_point else torch.float32
    return shape, dtype


def _bessel_kernel(code):
    def kernel(v, x):
        shape, dtype = _bessel_result(v, x)
        _check_cpu(("v", v), ("x", x))
        out = torch.empty(shape, dtype=dtype)
        _core.bessel(code, _arr(v.to(dtype)), _arr(x.to(dtype)), _arr(out))
        return out
    return kernel


def _bessel_fake(v, x):
    shape, dtype = _bessel_result(v, x)
    return x.new_empty(shape, dtype=dtype)


def _bessel_setup(ctx, inputs, output):
    ctx.save_for_backward(*inputs, output)


def v_grad_error(name):
    return NotImplementedError(
        f"v: {name} is differentiable with respect to x only; the derivative with respect to the order v "
        "is not implemented. Pass v as a number or a tensor that does not require grad (v.detach()).")


def _v_over_x(v, x):
    return torch.where(v == 0, torch.zeros_like(x), v / x)  # v = 0: the term is 0 (also at x = 0)


def _dlog_i(v, x, out):  # d/dx log I_v = I_{v+1}/I_v + v/x
    return bessel_i_ratio_op(v, x) + _v_over_x(v, x)


def _dlog_k(v, x, out):  # d/dx log K_v = v/x - K_{v+1}/K_v; -inf at x = 0 (inf - inf there)
    return torch.where(x == 0, -torch.inf, _v_over_x(v, x) - bessel_k_ratio_op(v, x))


def _dratio_i(v, x, r):  # r = I_{v+1}/I_v: r' = 1 - (2v+1) r / x - r^2, and 1/(2(v+1)) at x = 0
    return torch.where(x == 0, 0.5 / (v + 1), 1 - (2 * v + 1) * r / x - r * r)


def _dratio_k(v, x, q):  # q = K_{v+1}/K_v: q' = q^2 - (2v+1) q / x - 1; -inf at x = 0
    return torch.where(x == 0, -torch.inf, q * q - (2 * v + 1) * q / x - 1)


_BESSEL_DX = {
    "log_bessel_i": _dlog_i,
    "log_bessel_k": _dlog_k,
    "log_bessel_ie": lambda v, x, out: _dlog_i(v, x, out) - 1,
    "log_bessel_ke": lambda v, x, out: _dlog_k(v, x, out) + 1,
    "bessel_i_ratio": _dratio_i,
    "bessel_k_ratio": _dratio_k,
    # d/dk log C_d(k) = -A_d(k); A_d = I_{d/2}/I_{d/2-1} is the ratio with v = d/2 - 1 (2v + 1 = d - 1)
    "vmf_log_normalizer": lambda d, k, out: -vmf_mean_resultant_op(d, k),
    "vmf_log_normalizer_scaled": lambda d, k, out: 1 - vmf_mean_resultant_op(d, k),
    "vmf_mean_resultant": lambda d, k, a: torch.where(k == 0, 1 / d, 1 - (d - 1) * a / k - a * a),
}


def _bessel_backward(name):
    dx = _BESSEL_DX[name]

    def backward(ctx, g):
        if ctx.needs_input_grad[0]:
            raise v_grad_error(name)
        v, x, out = ctx.saved_tensors
        gx = None
        if ctx.needs_input_grad[1]:
            vv, xx = v.to(out.dtype), x.to(out.dtype)
            gx = (g * dx(vv, xx, out)).sum_to_size(x.shape).to(x.dtype)
        return None, gx
    return backward


def _bessel_vmap(name):
    def rule(info, in_dims, v, x):
        nd = max(v.ndim - (in_dims[0] is not None), x.ndim - (in_dims[1] is not None))
        return _REG[name].overload(batch_first(v, in_dims[0], info.batch_size, nd),
                          batch_first(x, in_dims[1], info.batch_size, nd)), 0
    return rule


def _define_bessel(name):
    return define(name, "(Tensor v, Tensor x) -> Tensor", impl=_bessel_kernel(_BESSEL_CODES[name]),
                  fake=_bessel_fake, setup=_bessel_setup, backward=_bessel_backward(name), vmap=_bessel_vmap(name))


bessel_i_ratio_op = _define_bessel("bessel_i_ratio")
bessel_k_ratio_op = _define_bessel("bessel_k_ratio")
log_bessel_i_op = _define_bessel("log_bessel_i")
log_bessel_k_op = _define_bessel("log_bessel_k")
log_bessel_ie_op = _define_bessel("log_bessel_ie")
log_bessel_ke_op = _define_bessel("log_bessel_ke")
vmf_mean_resultant_op = _define_bessel("vmf_mean_resultant")
vmf_log_normalizer_op = _define_bessel("vmf_log_normalizer")
vmf_log_normalizer_scaled_op = _define_bessel("vmf_log_normalizer_scaled")


# ------------------------------------------------------------------------------------------
# Row maps without a mask: sparsemax (str algorithm), stablemax / log_stablemax.
# A 0-d input is one row of one element (dim -1 or 0), as softmax.
# ------------------------------------------------------------------------------------------
_SPARSEMAX_ALGORITHMS = {"auto": 0, "sort": 1, "pivot": 2, "bisect": 3}  # stablemath._sparsemax's codes


def _check_row_dim(x, dim) -> int:
    _check_tensor(x, "x")
    if x.ndim == 0:
        _axis_index(dim, 1, "dim")
        return 0
    return _axis_index(dim, x.ndim, "dim")


def _check_sparsemax(x, dim, algorithm) -> int:
    d = _check_row_dim(x, dim)
    if algorithm not in _SPARSEMAX_ALGORITHMS:
        raise ValueError(f"algorithm: expected one of {sorted(_SPARSEMAX_ALGORITHMS)}, got {algorithm!r}")
    return d


def _sparsemax_kernel(x, dim, algorithm):
    d = _check_sparsemax(x, dim, algorithm)
    _check_cpu(("x", x))
    out = torch.empty_like(x)
    _core.sparsemax(_arr(x), d, _arr(out), _SPARSEMAX_ALGORITHMS[algorithm])
    return out


def _sparsemax_fake(x, dim, algorithm):
    _check_sparsemax(x, dim, algorithm)
    return torch.empty_like(x)


def _sparsemax_setup(ctx, inputs, output):
    ctx.dim = _check_row_dim(inputs[0], inputs[1])
    ctx.save_for_backward(output)


def _sparsemax_backward(ctx, g):
    # s * (g - mean_S(g)), S = support (y > 0): the C++ kernel, as an op so that tracers see it.
    y, = ctx.saved_tensors
    return sparsemax_backward_op(y, g.to(y.dtype), ctx.dim).to(g.dtype), None, None


def _check_sparsemax_bwd(y, g, dim) -> int:
    d = _check_row_dim(y, dim)
    _check_tensor(g, "grad")
    if g.shape != y.shape or g.dtype != y.dtype:
        raise ValueError(f"grad: expected shape {tuple(y.shape)} and dtype {y.dtype}, "
                         f"got {tuple(g.shape)} and {g.dtype}")
    return d


def _sparsemax_bwd_kernel(y, g, dim):
    d = _check_sparsemax_bwd(y, g, dim)
    _check_cpu(("y", y), ("grad", g))
    out = torch.empty_like(y)
    _core.sparsemax_backward(_arr(y), _arr(g), d, _arr(out))
    return out


def _sparsemax_bwd_fake(y, g, dim):
    _check_sparsemax_bwd(y, g, dim)
    return torch.empty_like(y)


def _row_map_vmap(name, n_extra):
    """vmap rule for (Tensor x, int dim, *extra) -> Tensor row maps: batch dim first, dim shifted."""
    def rule(info, in_dims, x, dim, *extra):
        nd = x.ndim - (in_dims[0] is not None)
        d = 0 if nd == 0 else _axis_index(dim, nd, "dim")
        xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
        if nd == 0:
            return _REG[name].overload(xb.unsqueeze(1), 1, *extra).squeeze(1), 0
        return _REG[name].overload(xb, d + 1, *extra), 0
    return rule


def _sparsemax_bwd_setup(ctx, inputs, output):
    ctx.dim = _check_row_dim(inputs[0], inputs[2])
    ctx.save_for_backward(inputs[0])


def _sparsemax_bwd_backward(ctx, gg):
    # J^T g is linear in g with J symmetric: d/dg = J^T gg. It depends on y only through the
    # support, which is piecewise constant: zero gradient for y (so sparsemax's double backward is 0).
    y, = ctx.saved_tensors
    return None, sparsemax_backward_op(y, gg, ctx.dim), None


def _sparsemax_bwd_vmap(info, in_dims, y, g, dim):
    nd = y.ndim - (in_dims[0] is not None)
    d = 0 if nd == 0 else _axis_index(dim, nd, "dim")
    yb = batch_first(y, in_dims[0], info.batch_size, nd, expand=True)
    gb = batch_first(g, in_dims[1], info.batch_size, nd, expand=True)
    if nd == 0:
        return _REG["sparsemax_backward"].overload(yb.unsqueeze(1), gb.unsqueeze(1), 1).squeeze(1), 0
    return _REG["sparsemax_backward"].overload(yb.contiguous(), gb.contiguous(), d + 1), 0


sparsemax_backward_op = define("sparsemax_backward", "(Tensor y, Tensor grad, int dim) -> Tensor",
                               impl=_sparsemax_bwd_kernel, fake=_sparsemax_bwd_fake, setup=_sparsemax_bwd_setup,
                               backward=_sparsemax_bwd_backward, vmap=_sparsemax_bwd_vmap)
sparsemax_op = define("sparsemax", "(Tensor x, int dim, str algorithm) -> Tensor", impl=_sparsemax_kernel,
                      fake=_sparsemax_fake, setup=_sparsemax_setup, backward=_sparsemax_backward,
                      vmap=_row_map_vmap("sparsemax", 1))


def _stablemax_kernel(log: bool):
    def kernel(x, dim):
        d = _check_row_dim(x, dim)
        _check_cpu(("x", x))
        out = torch.empty_like(x)
        if x.ndim == 0:  # the core wants at least one dim
            _core.stablemax(_arr(x.reshape(1)), 0, _arr(out.view(1)), log)
        else:
            _core.stablemax(_arr(x), d, _arr(out), log)
        return out
    return kernel


def _stablemax_fake(x, dim):
    _check_row_dim(x, dim)
    return torch.empty_like(x)


def _stablemax_setup(ctx, inputs, output):
    ctx.dim = _check_row_dim(inputs[0], inputs[1])
    ctx.save_for_backward(inputs[0], output)


def _stablemax_backward(ctx, g):
    # s'(x)/s(x) = 1/t with t = 1 + |x| on both sides of 0, so dy_i/dx_j = y_i (δij - y_j) / t_j:
    # dx = y/t * (g - sum(g*y)). -inf entries: y = 0 and 1/t = 0, zero gradient.
    x, y = ctx.saved_tensors
    acc = _acc_dtype(x)
    xa, ya, ga = x.to(acc), y.to(acc), g.to(acc)
    dot = (ga * ya).sum(ctx.dim, keepdim=True) if x.ndim else ga * ya
    return (ya / (1 + xa.abs()) * (ga - dot)).to(x.dtype), None


def _log_stablemax_backward(ctx, g):
    # z = log s(x) - log S: dx = g/t - y/t * sum(g), y = exp(z). -inf entries: 1/t = 0 and y = 0.
    x, z = ctx.saved_tensors
    acc = _acc_dtype(x)
    xa, ga = x.to(acc), g.to(acc)
    total = ga.sum(ctx.dim, keepdim=True) if x.ndim else ga
    return ((ga - torch.exp(z.to(acc)) * total) / (1 + xa.abs())).to(x.dtype), None


stablemax_op = define("stablemax", "(Tensor x, int dim) -> Tensor", impl=_stablemax_kernel(False),
                      fake=_stablemax_fake, setup=_stablemax_setup, backward=_stablemax_backward,
                      vmap=_row_map_vmap("stablemax", 0))
log_stablemax_op = define("log_stablemax", "(Tensor x, int dim) -> Tensor", impl=_stablemax_kernel(True),
                          fake=_stablemax_fake, setup=_stablemax_setup, backward=_log_stablemax_backward,
                          vmap=_row_map_vmap("log_stablemax", 0))


# ------------------------------------------------------------------------------------------
# Fused row cross-entropies: (Tensor logits, Tensor target, int dim, int ignore_index, int reduction
# [, float eps]) -> the loss in the logits' dtype (computed in float32/float64): per row (target's
# shape) for reduction 0, else a 0-d sum (2) or mean over non-ignored rows (1; NaN if none, as torch).
# ------------------------------------------------------------------------------------------
_CE_KIND = {"softmax": 0, "stablemax": 1}  # stablemath._losses._KIND, shared with bind_stablemax.cpp
CE_REDUCTIONS = {"none": 0, "mean": 1, "sum": 2}


def _check_ce(logits, target, dim, reduction):
    _check_tensor(logits, "logits")
    if logits.ndim == 0:
        raise ValueError("logits: expected at least 1 dimension (the classes)")
    d = _axis_index(dim, logits.ndim, "dim")
    _check_tensor(target, "target", floating=False)
    if target.dtype != torch.int64:
        raise TypeError(f"target: expected int64 class indices, got dtype {target.dtype}")
    expected = tuple(s for i, s in enumerate(logits.shape) if i != d)
    if tuple(target.shape) != expected:
        raise ValueError(f"target: expected shape {expected} for logits of shape {tuple(logits.shape)}, "
                         f"got {tuple(target.shape)}")
    if logits.shape[d] == 0:
        raise ValueError("logits: the class dim is empty; a cross-entropy needs at least one class")
    if reduction not in (0, 1, 2):
        raise ValueError(f"reduction: expected 0 (none), 1 (mean) or 2 (sum), got {reduction!r}")
    return d, (expected if reduction == 0 else ())


def _ce_kernel(kind):
    def kernel(logits, target, dim, ignore_index, reduction, eps=0.0):
        d, shape = _check_ce(logits, target, dim, reduction)
        _check_cpu(("logits", logits), ("target", target))
        n = logits.shape[d]
        flat = target.detach().reshape(-1).numpy()
        if flat.size and (flat.min() < 0 or flat.max() >= n):  # the core would give NaN; torch raises
            bad = flat[(flat != ignore_index) & ((flat < 0) | (flat >= n))]
            if bad.size:
                raise IndexError(f"target: class index {bad[0]} is out of range for {n} classes "
                                 f"(and is not ignore_index={ignore_index})")
        loss = np.empty(flat.size, dtype=np.float64 if logits.dtype == torch.float64 else np.float32)
        _core.cross_entropy(_arr(logits), d, np.ascontiguousarray(flat), ignore_index, float(eps),
                            _CE_KIND[kind], loss)
        if reduction == 0:
            return torch.from_numpy(loss).view(shape).to(logits.dtype)
        total = loss.sum(dtype=np.float64)
        if reduction == 1:
            count = np.count_nonzero(flat != ignore_index)
            total = total / count if count else math.nan
        return torch.tensor(total, dtype=logits.dtype)
    return kernel


def _ce_fake(logits, target, dim, ignore_index, reduction, eps=0.0):
    _, shape = _check_ce(logits, target, dim, reduction)
    return logits.new_empty(shape)


def _ce_setup(ctx, inputs, output):
    logits, target, dim, ignore_index, reduction = inputs[:5]
    ctx.dim = dim % logits.ndim
    ctx.ignore_index = ignore_index
    ctx.reduction = reduction
    ctx.eps = inputs[5] if len(inputs) > 5 else 0.0
    ctx.save_for_backward(logits, target)


def _ce_grad_parts(ctx, g):
    """(logits in the accumulation dtype, each row's weight in the loss times g, with ignored rows
    0 and the class dim restored, the target with ignored rows pointed at class 0 and the class dim)."""
    x, t = ctx.saved_tensors
    x = x.to(_acc_dtype(x))
    g = g.to(x.dtype)
    valid = t != ctx.ignore_index
    if ctx.reduction == 0:
        w = g.masked_fill(~valid, 0)
    else:
        w = valid.to(x.dtype) * (g / valid.sum() if ctx.reduction == 1 else g)
    return x, w.unsqueeze(ctx.dim), t.masked_fill(~valid, 0).unsqueeze(ctx.dim)


def _softmax_ce_backward(ctx, g):
    # d/dx [(1-e)(-log p_t) + e/C sum_j (-log p_j)] = p - (1-e) [j = t] - e/C, times the row weight.
    x, w, t = _ce_grad_parts(ctx, g)
    dx = softmax_op(x, ctx.dim, "auto", False, None).mul_(w)
    if ctx.eps:
        dx = dx.sub_(w * (ctx.eps / x.shape[ctx.dim]))
    dx = dx.scatter_add_(ctx.dim, t, w * -(1 - ctx.eps))
    return dx.to(ctx.saved_tensors[0].dtype), None, None, None, None, None


def _stablemax_ce_backward(ctx, g):
    # d/dx_j (-log y_t) = y_j / t_j - [j = t] / t_t with t = 1 + |x| (see _stablemax_backward).
    x, w, t = _ce_grad_parts(ctx, g)
    inv_t = 1 / (1 + x.abs())
    dx = stablemax_op(x, ctx.dim).mul_(inv_t).mul_(w)
    dx = dx.scatter_add_(ctx.dim, t, -w * inv_t.gather(ctx.dim, t))
    return dx.to(ctx.saved_tensors[0].dtype), None, None, None, None


def _ce_vmap(name):
    """One call on the batch with per-row losses (reduction 0); "sum" and "mean" (over each
    sample's non-ignored rows, NaN if none, as the kernel) then reduce per sample in float64."""
    def rule(info, in_dims, logits, target, dim, ignore_index, reduction, *eps):
        nd = logits.ndim - (in_dims[0] is not None)
        d = _axis_index(dim, max(nd, 1), "dim")
        xb = batch_first(logits, in_dims[0], info.batch_size, nd, expand=True)
        tb = batch_first(target, in_dims[1], info.batch_size, target.ndim - (in_dims[1] is not None), expand=True)
        per_row = _REG[name].overload(xb, tb, d + 1, ignore_index, 0, *eps)
        if reduction == 0:
            return per_row, 0
        total = per_row.reshape(info.batch_size, -1).to(torch.float64).sum(1)
        if reduction == 1:
            total = total / (tb.reshape(info.batch_size, -1) != ignore_index).sum(1)
        return total.to(logits.dtype), 0
    return rule


softmax_cross_entropy_op = define(
    "softmax_cross_entropy",
    "(Tensor logits, Tensor target, int dim, int ignore_index, int reduction, float eps) -> Tensor",
    impl=_ce_kernel("softmax"), fake=_ce_fake, setup=_ce_setup, backward=_softmax_ce_backward,
    vmap=_ce_vmap("softmax_cross_entropy"))
stablemax_cross_entropy_op = define(
    "stablemax_cross_entropy", "(Tensor logits, Tensor target, int dim, int ignore_index, int reduction) -> Tensor",
    impl=_ce_kernel("stablemax"), fake=_ce_fake, setup=_ce_setup, backward=_stablemax_ce_backward,
    vmap=_ce_vmap("stablemax_cross_entropy"))


# ------------------------------------------------------------------------------------------
# softmax_topk: (Tensor x, int k, int dim, bool log) -> (values, indices), dim replaced by k.
# ------------------------------------------------------------------------------------------
_TOPK_MODES = {False: 0, True: 1}  # stablemath._topk's _PROBS / _LOG_PROBS, shared with bind_topk.cpp


def _check_topk(x, k, dim, log):
    d = _check_row_dim(x, dim)
    n = 1 if x.ndim == 0 else x.shape[d]
    if not isinstance(k, int) or isinstance(k, bool):
        raise TypeError(f"k: expected an integer, got {type(k).__name__}")
    if not 1 <= k <= n:
        raise ValueError(f"k: expected 1 <= k <= {n} (the length of dim), got {k}")
    if not isinstance(log, bool):
        raise TypeError(f"log: expected a bool, got {type(log).__name__}")
    shape = list(x.shape)
    if shape:
        shape[d] = k
    return d, shape


def _topk_kernel(x, k, dim, log):
    d, shape = _check_topk(x, k, dim, log)
    _check_cpu(("x", x))
    xr = x.reshape(1) if x.ndim == 0 else x
    other = [s for i, s in enumerate(xr.shape) if i != d]
    values = x.new_empty(other + [k])
    indices = torch.empty(other + [k], dtype=torch.int64)
    _core.softmax_topk(_arr(xr), d, k, _TOPK_MODES[log], _arr(values), _arr(indices), None)
    if x.ndim == 0:
        return values.reshape(()), indices.reshape(())
    return values.movedim(-1, d).contiguous(), indices.movedim(-1, d).contiguous()


def _topk_fake(x, k, dim, log):
    _, shape = _check_topk(x, k, dim, log)
    return x.new_empty(shape), x.new_empty(shape, dtype=torch.int64)


def _topk_setup(ctx, inputs, output):
    x, k, dim, log = inputs
    ctx.dim, _ = _check_topk(x, k, dim, log)
    ctx.log = log
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(x, *output)


def _topk_backward(ctx, gv, gi):
    # p = softmax(x), v = p[I] (or log p[I]). dv_i/dx_j = p_i (δij - p_j), d log p_i/dx_j = δij - p_j:
    # dx = scatter_I(g * v) - p * sum(g * v) (probabilities), scatter_I(g) - p * sum(g) (log).
    # The normaliser comes from the top-1 entry, whose probability is at least 1/n: no underflow.
    x, v, idx = ctx.saved_tensors
    acc = _acc_dtype(x)
    d = ctx.dim
    if x.ndim == 0:  # one row of one element
        x, v, gv, idx = x.reshape(1), v.reshape(1), gv.reshape(1), idx.reshape(1)
    xa, va, ga, ia = x.to(acc), v.to(acc), gv.to(acc), idx
    top = xa.gather(d, ia.narrow(d, 0, 1))
    lse = top - (va.narrow(d, 0, 1) if ctx.log else torch.log(va.narrow(d, 0, 1)))
    p = torch.exp(xa - lse)
    src = ga if ctx.log else ga * va
    dx = torch.zeros_like(xa).scatter_add_(d, ia, src) - p * src.sum(d, keepdim=True)
    return dx.reshape(ctx.saved_tensors[0].shape).to(x.dtype), None, None, None


def _topk_vmap(info, in_dims, x, k, dim, log):
    nd = x.ndim - 1  # the logical rank
    d = _axis_index(dim, max(nd, 1), "dim")
    xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
    if nd == 0:  # one row of one element per sample
        v, i = softmax_topk_op.overload(xb.unsqueeze(1), k, 1, log)
        return (v.squeeze(1), i.squeeze(1)), (0, 0)
    return softmax_topk_op.overload(xb, k, d + 1, log), (0, 0)


softmax_topk_op = define("softmax_topk", "(Tensor x, int k, int dim, bool log) -> (Tensor, Tensor)",
                         impl=_topk_kernel, fake=_topk_fake, setup=_topk_setup, backward=_topk_backward,
                         vmap=_topk_vmap)
