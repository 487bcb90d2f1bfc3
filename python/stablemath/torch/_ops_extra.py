"""Registered ops for the losses and top-k helpers: sparsemax_loss (class indices) and
logsumexp_topk. Same pattern as _ops.py: kernel (checks + compiled core), fake, setup, backward."""
from __future__ import annotations

import torch

from .. import _core
from ._ops import _FLOATS, _acc_dtype, _arr, _check_cpu, _check_topk, sparsemax_op
from .._api import _axis_index
from ._registry import batch_first, define

# ------------------------------------------------------------------------------------------
# sparsemax_loss: (Tensor x, Tensor target, int dim, int reduction) -> Tensor.
# L = (1 - ||p||^2)/2 + <p - e_y, z>, p = sparsemax(z); dL/dz = p - e_y (scaled by the reduction).
# ------------------------------------------------------------------------------------------
_REDUCTION_NAMES = ("none", "mean", "sum")  # the reduction codes of the schema: 0, 1, 2


def _check_sparsemax_loss(x, target, dim, reduction):
    if not isinstance(x, torch.Tensor) or x.dtype not in _FLOATS:
        raise TypeError(f"x: expected a floating tensor, got {getattr(x, 'dtype', type(x).__name__)}")
    if x.ndim == 0:
        raise ValueError("x: must have at least one dimension (the class axis)")
    d = _axis_index(dim, x.ndim, "dim")
    if x.shape[d] == 0:
        raise ValueError("x: the class axis is empty; the loss of an empty row is undefined")
    if target.dtype.is_floating_point or target.dtype.is_complex or target.dtype == torch.bool:
        raise TypeError(f"target: expected integer class indices, got dtype {target.dtype}")
    batch = x.shape[:d] + x.shape[d + 1:]
    if tuple(target.shape) != tuple(batch):
        raise ValueError(f"target: class indices must have x's shape without dim {tuple(batch)}, "
                         f"got {tuple(target.shape)}")
    if reduction not in (0, 1, 2):
        raise ValueError(f"reduction: expected a code 0, 1 or 2 ('none', 'mean', 'sum'), got {reduction}")
    return d, batch


def _sparsemax_loss_kernel(x, target, dim, reduction):
    from .. import sparsemax_loss as _np_sparsemax_loss
    d, _ = _check_sparsemax_loss(x, target, dim, reduction)
    _check_cpu(("x", x), ("target", target))
    per_row = _np_sparsemax_loss(x.detach(), target.detach(), axis=d, reduction="none").to(torch.float64)
    if reduction == 1:
        per_row = per_row.mean()
    elif reduction == 2:
        per_row = per_row.sum()
    return per_row.to(x.dtype).clone()


def _sparsemax_loss_fake(x, target, dim, reduction):
    _, batch = _check_sparsemax_loss(x, target, dim, reduction)
    return x.new_empty(batch if reduction == 0 else ())


def _sparsemax_loss_setup(ctx, inputs, output):
    x, target, dim, reduction = inputs
    ctx.dim = dim % x.ndim
    ctx.reduction = reduction
    ctx.save_for_backward(x, target)


def _sparsemax_loss_backward(ctx, g):
    x, target = ctx.saved_tensors
    d = ctx.dim
    acc = _acc_dtype(x)
    p = sparsemax_op(x.detach().to(acc), d, "auto")
    grad = p - torch.zeros_like(p).scatter(d, target.unsqueeze(d), 1.0)
    ga = g.to(acc)
    if ctx.reduction == 0:
        ga = ga.unsqueeze(d)
    elif ctx.reduction == 1:
        ga = ga / max(1, target.numel())
    return (grad * ga).to(x.dtype), None, None, None


def _sparsemax_loss_vmap(info, in_dims, x, target, dim, reduction):
    # One call with the batch dim first and per-row losses; "mean"/"sum" then reduce each sample's
    # rows (in float64, as the kernel does).
    nd = x.ndim - (in_dims[0] is not None)
    d = _axis_index(dim, max(nd, 1), "dim")
    xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
    tb = batch_first(target, in_dims[1], info.batch_size, target.ndim - (in_dims[1] is not None), expand=True)
    per_row = sparsemax_loss_op.overload(xb, tb, d + 1, 0)
    if reduction == 0:
        return per_row, 0
    total = per_row.reshape(info.batch_size, -1).to(torch.float64)
    total = total.mean(1) if reduction == 1 else total.sum(1)
    return total.to(x.dtype), 0


sparsemax_loss_op = define("sparsemax_loss", "(Tensor x, Tensor target, int dim, int reduction) -> Tensor",
                           impl=_sparsemax_loss_kernel, fake=_sparsemax_loss_fake,
                           setup=_sparsemax_loss_setup, backward=_sparsemax_loss_backward,
                           vmap=_sparsemax_loss_vmap)


# ------------------------------------------------------------------------------------------
# logsumexp_topk: (Tensor x, int k, int dim) -> (values, indices, logsumexp).
# values = x[I]: gradient scattered to the selected positions; logsumexp: gradient softmax(x).
# ------------------------------------------------------------------------------------------
_LOGITS = 2  # stablemath._topk's mode code, shared with bind_topk.cpp


def _lse_topk_kernel(x, k, dim):
    d, _ = _check_topk(x, k, dim, False)
    _check_cpu(("x", x))
    xr = x.reshape(1) if x.ndim == 0 else x
    other = [s for i, s in enumerate(xr.shape) if i != d]
    values = x.new_empty(other + [k])
    indices = torch.empty(other + [k], dtype=torch.int64)
    lse = x.new_empty(other)
    _core.softmax_topk(_arr(xr), d, k, _LOGITS, _arr(values), _arr(indices), _arr(lse))
    if x.ndim == 0:
        return values.reshape(()), indices.reshape(()), lse
    return values.movedim(-1, d).contiguous(), indices.movedim(-1, d).contiguous(), lse


def _lse_topk_fake(x, k, dim):
    d, shape = _check_topk(x, k, dim, False)
    other = [s for i, s in enumerate(x.shape) if i != d]
    return x.new_empty(shape), x.new_empty(shape, dtype=torch.int64), x.new_empty(other)


def _lse_topk_setup(ctx, inputs, output):
    x, k, dim = inputs
    ctx.dim, _ = _check_topk(x, k, dim, False)
    ctx.mark_non_differentiable(output[1])
    ctx.save_for_backward(x, output[1], output[2])


def _lse_topk_backward(ctx, gv, gi, glse):
    x, idx, lse = ctx.saved_tensors
    d = ctx.dim
    shape = x.shape
    if x.ndim == 0:  # one row of one element
        x, idx, gv = x.reshape(1), idx.reshape(1), gv.reshape(1)
    acc = _acc_dtype(x)
    xa, la = x.to(acc), lse.to(acc).unsqueeze(d)
    p = torch.where(torch.isneginf(la), 0.0, torch.exp(xa - la))  # all -inf rows: no mass, zero gradient
    dx = torch.zeros_like(xa).scatter_add(d, idx, gv.to(acc)) + glse.to(acc).unsqueeze(d) * p
    return dx.reshape(shape).to(x.dtype), None, None


def _lse_topk_vmap(info, in_dims, x, k, dim):
    nd = x.ndim - 1  # the logical rank
    d = _axis_index(dim, max(nd, 1), "dim")
    xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
    if nd == 0:  # one row of one element per sample
        v, i, lse = logsumexp_topk_op.overload(xb.unsqueeze(1), k, 1)
        return (v.squeeze(1), i.squeeze(1), lse), (0, 0, 0)
    return logsumexp_topk_op.overload(xb, k, d + 1), (0, 0, 0)


logsumexp_topk_op = define("logsumexp_topk", "(Tensor x, int k, int dim) -> (Tensor, Tensor, Tensor)",
                           impl=_lse_topk_kernel, fake=_lse_topk_fake, setup=_lse_topk_setup,
                           backward=_lse_topk_backward, vmap=_lse_topk_vmap)
