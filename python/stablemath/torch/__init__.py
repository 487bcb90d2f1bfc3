"""PyTorch ops with autograd, ``torch.compile`` and ``torch.func`` support.

Every function here (but the two compositions below) is a ``torch.library`` custom op in the ``stablemath`` namespace
(``torch.ops.stablemath.softmax`` ...) with a CPU kernel (the compiled core, reading and writing
tensors zero-copy), a fake implementation (so ``torch.compile(fullgraph=True)`` traces it without a
graph break), a backward formula (``register_autograd``) and a vmap rule (``register_vmap``). In eager mode plain CPU tensors take a
shorter route to the same kernel and formulas (see ``_registry.py``). Use these for training; the
plain ``stablemath.softmax(tensor)`` accepts tensors too but records no autograd graph.

Arguments follow PyTorch's names (``dim``, ``keepdim``) plus stablemath's options (``algorithm``,
``where``, ``safe``, ``b``). float16/bfloat16 are accumulated in float32. Non-contiguous tensors
are read through their strides (no copy). CUDA tensors raise a clear ``ValueError`` until the CUDA
backend lands; its kernels will then be registered for the ``cuda`` device (``define(cuda=...)``).

Adding an op is one entry in ``_ops.py`` (here a simplified form of the sparsemax entry)::

    def _sparsemax_kernel(x, dim):                 # CPU: checks, allocates, calls _core
        d = _axis_index(dim, x.ndim, "dim")
        out = torch.empty_like(x)
        _core.sparsemax(_arr(x), d, _arr(out))
        return out

    def _sparsemax_setup(ctx, inputs, output):      # what backward needs
        ctx.dim = inputs[1] % inputs[0].ndim
        ctx.save_for_backward(output)

    def _sparsemax_backward(ctx, g):                # one gradient (or None) per input
        y, = ctx.saved_tensors
        s = y > 0                                   # support-mean JVP
        gs = g.masked_fill(~s, 0)
        mean = gs.sum(ctx.dim, keepdim=True) / s.sum(ctx.dim, keepdim=True)
        return (gs - mean).masked_fill(~s, 0), None

    def _sparsemax_vmap(info, in_dims, x, dim):     # optional: batch dim first, dim shifted
        nd = x.ndim - 1
        xb = batch_first(x, in_dims[0], info.batch_size, nd, expand=True)
        return sparsemax_op.overload(xb, _axis_index(dim, nd, "dim") + 1), 0

    sparsemax_op = define("sparsemax", "(Tensor x, int dim) -> Tensor", impl=_sparsemax_kernel,
                          fake=lambda x, dim: torch.empty_like(x), setup=_sparsemax_setup,
                          backward=_sparsemax_backward, vmap=_sparsemax_vmap)

then a public wrapper below (argument conversion, defaults, docstring) that calls
``sparsemax_op(x, dim)``. The tests run ``torch.library.opcheck`` over every registered op
(``_registry.ops()``), so a new op needs its sample inputs in ``OPCHECK_SAMPLES`` in
tests/python/test_torch_ops.py, plus a gradcheck. ``torch.func.grad``/``vjp``/``jacrev`` work for
every op with a backward; ``vmap`` uses the op's rule, or a per-sample loop without one.

Two public functions here are compositions rather than one op: :func:`vmf_logpdf` (the registered
``vmf_log_normalizer_scaled`` op plus torch ops) and :func:`kde_logpdf`, which is the registered op
``kde_logpdf`` (differentiable in the queries, the data, the weights and the bandwidth) for an
isotropic kernel with a numeric, tensor, "scott" or "silverman" bandwidth (the rules computed with
torch ops), and an autograd.Function around a fitted :class:`stablemath.GaussianKDE` for "cv" and
the diagonal/full covariances (data-dependent fits: gradients in the queries only, and a
RuntimeError under torch.compile).

Public stablemath functions with intentionally no torch op, because they have no useful gradient:
``softmax_collapse``/``SoftmaxCollapse`` (a diagnostic that reports whether a softmax collapsed to
one-hot: boolean/integer results), ``vmf_fit`` and ``vmf_kappa_mle`` (maximum-likelihood estimators
solved by root finding; differentiate :func:`vmf_logpdf` instead), ``vmf_sample`` and the KDE
classes' ``sample`` (random draws), ``GaussianKDE.fit``/``VonMisesFisherKDE.fit`` (bandwidth
selection, a discrete search), ``sparsemax_backward`` (already the backward of :func:`sparsemax`,
registered as ``torch.ops.stablemath.sparsemax_backward``), and the thread/ISA helpers. The vMF KDE
log density has no torch op yet either (use :func:`vmf_logpdf` of the points for small data sets).
"""
from __future__ import annotations

import numbers

import torch
import torch.nn.functional as F

from ._ops import (CE_REDUCTIONS, bessel_i_ratio_op, bessel_k_ratio_op, log_bessel_i_op, log_bessel_ie_op, log_bessel_k_op,
                   log_bessel_ke_op, log_softmax_op, log_stablemax_op, logsumexp_op, softmax_cross_entropy_op,
                   softmax_op, softmax_topk_op, sparsemax_op, stablemax_cross_entropy_op, stablemax_op, v_grad_error,
                   vmf_log_normalizer_op, vmf_log_normalizer_scaled_op, vmf_mean_resultant_op)
from ._ops_extra import logsumexp_topk_op, sparsemax_loss_op
from ._kde import kde_logpdf
from ._registry import define, ops

__all__ = ["softmax", "log_softmax", "logsumexp", "cross_entropy", "sparsemax", "stablemax", "log_stablemax",
           "stablemax_cross_entropy", "softmax_topk", "kde_logpdf", "log_bessel_i", "log_bessel_k",
           "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio", "bessel_k_ratio", "vmf_log_normalizer", "vmf_mean_resultant", "sparsemax_loss", "logsumexp_topk", "vmf_logpdf",
           "define", "ops"]


def _mask(where, x, name="where"):
    if where is None or isinstance(where, torch.Tensor):
        return where
    return torch.as_tensor(where, device=x.device if isinstance(x, torch.Tensor) else None)


def softmax(x, dim=-1, *, algorithm="auto", where=None, safe=False):
    """Softmax along ``dim``, differentiable: ``torch.softmax`` with stablemath's kernels.

    ``algorithm``, ``where`` (boolean mask broadcastable to ``x``; False entries give 0) and
    ``safe`` (rows with no finite mass give 0 instead of NaN) are as in :func:`stablemath.softmax`.
    Backward: ``y * (g - sum(g * y))``; masked entries and safe empty rows get zero gradient.
    """
    return softmax_op(x, dim, algorithm, safe, where if where is None else _mask(where, x))


def log_softmax(x, dim=-1, *, algorithm="auto", where=None, safe=False):
    """Log-softmax along ``dim``, differentiable (see :func:`stablemath.log_softmax`).

    Backward: ``g - softmax(x) * sum(g)``. Masked entries (-inf outputs) and, with ``safe``, rows
    with no finite mass get zero gradient and pass none on; unmasked ``-inf`` inputs get ``g`` as in
    PyTorch.
    """
    return log_softmax_op(x, dim, algorithm, safe, where if where is None else _mask(where, x))


def logsumexp(x, dim=None, keepdim=False, *, b=None, where=None):
    """``log(sum(b * exp(x)))`` over ``dim`` (int, tuple, or None for every dim), differentiable.

    ``dim=()`` reduces every dim, as in ``torch.sum``. ``b``: weights broadcastable to ``x`` (a weight of 0 drops the element; the gradient with
    respect to ``b`` is ``exp(x - lse)``); ``where``: boolean mask. Backward: ``g * b * exp(x - lse)``;
    rows whose result is ``-inf`` (all ``-inf``, fully masked, all weights 0) give a zero gradient,
    not NaN as ``torch.logsumexp`` does.
    """
    dims = [] if dim is None else list(dim) if isinstance(dim, (tuple, list)) else [dim]
    if b is not None and not isinstance(b, torch.Tensor):
        b = torch.as_tensor(b, dtype=x.dtype if isinstance(x, torch.Tensor) else None)
    return logsumexp_op(x, dims, keepdim, b, _mask(where, x))


def sparsemax(x, dim=-1, *, algorithm="auto"):
    """Sparsemax along ``dim`` (see :func:`stablemath.sparsemax`), differentiable.

    Backward: the support-mean JVP ``s * (g - mean_S(g))`` with ``s = y > 0`` (the C++
    ``sparsemax_backward`` kernel, registered as ``torch.ops.stablemath.sparsemax_backward``);
    entries outside the support get exactly 0. The double backward is that same JVP in the upstream
    gradient and 0 in x (the Jacobian is piecewise constant).
    """
    return sparsemax_op(x, dim, algorithm)


def softmax_topk(x, k, dim=-1, *, log=False):
    """The ``k`` largest values of ``softmax(x, dim)`` (or ``log_softmax`` with ``log``) and their
    indices, ``torch.topk``'s ``(values, indices)`` (see :func:`stablemath.softmax_topk`; the
    softmax is never written). ``values`` is differentiable: the softmax Jacobian restricted to the
    top-k rows, ``scatter(g * v) - p * sum(g * v)`` (log: ``scatter(g) - p * sum(g)``)."""
    from .._topk import SoftmaxTopk
    return SoftmaxTopk(*softmax_topk_op(x, k, dim, log))


def stablemax(x, dim=-1):
    """StableMax ``s(x_i) / sum_j s(x_j)`` along ``dim`` (see :func:`stablemath.stablemax`),
    differentiable. With ``t = 1 + |x|``, ``s'/s = 1/t`` on both sides of 0, so the backward is
    ``y / t * (g - sum(g * y))``; ``-inf`` entries get zero gradient.
    """
    return stablemax_op(x, dim)


def log_stablemax(x, dim=-1):
    """``log stablemax(x)`` along ``dim`` (see :func:`stablemath.log_stablemax`), differentiable:
    backward ``g / t - stablemax(x) / t * sum(g)`` with ``t = 1 + |x|``."""
    return log_stablemax_op(x, dim)


def _check_ce_args(input, target, reduction, name="input"):
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"{name}: expected a torch.Tensor, got {type(input).__name__}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target: expected a torch.Tensor, got {type(target).__name__}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}")


def stablemax_cross_entropy(logits, target, dim=-1, *, ignore_index=-100, reduction="mean"):
    """Cross-entropy of StableMax, ``-log_stablemax(logits)[target]`` per row, differentiable
    (the fused :func:`stablemath.stablemax_cross_entropy` kernel, accurate when the target dominates).

    ``target``: integer class indices with the logits' shape without ``dim`` (default: the last dim,
    so ``(N, C)`` logits take ``(N,)`` targets); ``ignore_index`` rows contribute 0 and are left out
    of ``"mean"``; ``reduction``: ``"mean"``, ``"sum"`` or ``"none"``. Backward per row:
    ``y_j / t_j - [j = target] / t_target`` (``y = stablemax(logits)``, ``t = 1 + |logits|``) times
    the row's weight in the reduction. Returned in the logits' dtype (computed in float32/float64).
    """
    _check_ce_args(logits, target, reduction, "logits")
    if target.dtype == torch.bool or target.dtype.is_floating_point or target.dtype.is_complex:
        raise TypeError(f"target: expected integer class indices, got dtype {target.dtype}")
    target = target.long()
    return stablemax_cross_entropy_op(logits, target, dim, int(ignore_index), CE_REDUCTIONS[reduction])


# ------------------------------------------------------------------------------------------
# cross_entropy: class-index targets without class weights take the fused
# softmax_cross_entropy op (one pass forward, softmax - one-hot backward) for large inputs and
# under torch.compile; class weights, probability targets and small eager inputs take
# stablemath's log_softmax op + torch's nll_loss.
# ------------------------------------------------------------------------------------------
def _ce_via_log_softmax(logits, target, cdim, weight, ignore_index, reduction, eps):
    """Cross-entropy with class-index targets (checked, in range or ignore_index)."""
    logp = log_softmax_op(logits, cdim, "auto", False, None)
    loss = F.nll_loss(logp, target, weight, ignore_index=ignore_index, reduction=reduction)
    if eps == 0:
        return loss
    # label smoothing: (1 - eps) * nll + eps / C * sum_c w_c * (-log p_c), same reduction weights
    n_classes = logits.shape[cdim]
    wlogp = logp if weight is None else logp * weight.view([-1 if i == cdim else 1 for i in range(logp.ndim)])
    valid = target != ignore_index
    smooth = torch.where(valid, -wlogp.sum(cdim), torch.zeros((), dtype=logp.dtype))
    if reduction == "sum":
        smooth = smooth.sum()
    elif reduction == "mean":
        denom = valid.sum() if weight is None else (weight[target.masked_fill(~valid, 0)] * valid).sum()
        smooth = smooth.sum() / denom
    return (1 - eps) * loss + (eps / n_classes) * smooth


# Below this many logits the fused op's fixed Python costs (~0.1 ms per fwd+bwd) outweigh its
# single pass; above it the fused op wins (1 thread, fwd+bwd thread CPU ms, fused / log_softmax
# route / F.cross_entropy: 1024x256 0.51 / 0.79 / 0.70, 4096x1024 5.3 / 10.2 / 12.2, 256x32768
# 21 / 63 / 69; bench/bench_torch_ce.py). Traced code always takes the fused op.
FUSED_CE_MIN_NUMEL = 1 << 18


def _ce_fused(logits, target, cdim, weight, ignore_index, reduction, eps):
    if weight is not None or (logits.numel() < FUSED_CE_MIN_NUMEL and not torch.compiler.is_compiling()):
        return _ce_via_log_softmax(logits, target, cdim, weight, ignore_index, reduction, eps)
    return softmax_cross_entropy_op(logits, target, cdim, int(ignore_index), CE_REDUCTIONS[reduction], eps)


_class_index_ce = _ce_fused


def cross_entropy(input, target, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Cross-entropy of logits ``input`` against ``target``: ``torch.nn.functional.cross_entropy``'s
    signature and results (classes along dim 1, or dim 0 for 1-d input). Class-index targets without
    ``weight`` run the fused ``softmax_cross_entropy`` kernel; otherwise stablemath's log_softmax.

    ``target``: class indices (int64, shape of ``input`` without the class dim; ``ignore_index``
    entries are left out) or class probabilities (same shape as ``input``). ``weight``: per-class
    weights; ``reduction``: ``"mean"`` (weighted mean over non-ignored targets), ``"sum"``,
    ``"none"``; ``label_smoothing`` in [0, 1].
    """
    if not isinstance(input, torch.Tensor):
        raise TypeError(f"input: expected a torch.Tensor, got {type(input).__name__}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target: expected a torch.Tensor, got {type(target).__name__}")
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction: expected 'mean', 'sum' or 'none', got {reduction!r}")
    if not isinstance(label_smoothing, numbers.Real) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing: expected a number in [0, 1], got {label_smoothing!r}")
    if input.ndim == 0:
        raise ValueError("input: expected at least 1 dimension (the classes)")
    cdim = 1 if input.ndim >= 2 else 0
    n_classes = input.shape[cdim]
    wshape = [1] * input.ndim
    wshape[cdim] = n_classes
    if weight is not None:
        if not isinstance(weight, torch.Tensor) or weight.shape != (n_classes,):
            raise ValueError(f"weight: expected a tensor of shape ({n_classes},)")
        weight = weight.to(input.dtype)
    eps = float(label_smoothing)

    if target.dtype.is_floating_point:  # class probabilities
        if target.shape != input.shape:
            raise ValueError(f"target: probabilities must have the input's shape {tuple(input.shape)}, "
                             f"got {tuple(target.shape)}")
        logp = log_softmax_op(input, cdim, "auto", False, None)
        t = target.to(input.dtype)
        if eps > 0:
            t = t * (1 - eps) + eps / n_classes
        if weight is not None:
            t = t * weight.view(wshape)
        loss = -(t * logp).sum(cdim)
        if reduction == "none":
            return loss
        return loss.sum() if reduction == "sum" else loss.sum() / max(loss.numel(), 1)

    if target.dtype in (torch.bool,) or target.dtype.is_complex:
        raise TypeError(f"target: expected class indices (int64) or probabilities, got dtype {target.dtype}")
    expected = tuple(input.shape[:cdim]) + tuple(input.shape[cdim + 1:])
    if tuple(target.shape) != expected:
        raise ValueError(f"target: expected shape {expected} for input of shape {tuple(input.shape)}, "
                         f"got {tuple(target.shape)}")
    target = target.long()
    if torch.compiler.is_compiling():
        return _class_index_ce(input, target, cdim, weight, ignore_index, reduction, eps)
    try:  # nll_loss checks the range (no extra pass here); the message names the argument
        return _class_index_ce(input, target, cdim, weight, ignore_index, reduction, eps)
    except IndexError as e:
        raise IndexError(f"target: class indices must be in [0, {n_classes}) or ignore_index ({e})") from None


# ------------------------------------------------------------------------------------------
# Log-Bessel family: differentiable in x (via the ratio algorithms), not in the order v.
# ------------------------------------------------------------------------------------------
def _bessel_args(name, v, x):
    if not isinstance(x, torch.Tensor) and not isinstance(v, torch.Tensor):
        raise TypeError("x: expected a torch.Tensor (or v a tensor); for NumPy arrays use stablemath."
                        f"{name}")
    ref = x if isinstance(x, torch.Tensor) else v
    like = ref.dtype if ref.dtype.is_floating_point else torch.float64
    if not isinstance(v, torch.Tensor):
        v = torch.as_tensor(v, dtype=like, device=ref.device)
    if not isinstance(x, torch.Tensor):
        x = torch.as_tensor(x, dtype=like, device=ref.device)
    if v.requires_grad and torch.is_grad_enabled():
        raise v_grad_error(name)
    return v, x


def log_bessel_i(v, x):
    """log I_v(x) (see :func:`stablemath.log_bessel_i`), differentiable in x:
    d/dx log I_v(x) = I_{v+1}(x)/I_v(x) + v/x (bessel_i_ratio). At x = 0 the derivative is 0 for
    v = 0 and +inf for v > 0. The order v takes no gradient (NotImplementedError if it requires grad).

    Result dtype: torch promotion of v and x (a Python number takes x's dtype), except float16 and
    bfloat16 give float32 and integer-only arguments float64.
    """
    return log_bessel_i_op(*_bessel_args("log_bessel_i", v, x))


def log_bessel_k(v, x):
    """log K_v(x), differentiable in x: d/dx log K_v(x) = v/x - K_{v+1}(x)/K_v(x) (-inf at x = 0)."""
    return log_bessel_k_op(*_bessel_args("log_bessel_k", v, x))


def log_bessel_ie(v, x):
    """log I_v(x) - x, differentiable in x: I_{v+1}/I_v + v/x - 1."""
    return log_bessel_ie_op(*_bessel_args("log_bessel_ie", v, x))


def log_bessel_ke(v, x):
    """log K_v(x) + x, differentiable in x: v/x - K_{v+1}/K_v + 1."""
    return log_bessel_ke_op(*_bessel_args("log_bessel_ke", v, x))


def bessel_i_ratio(v, x):
    """I_{v+1}(x)/I_v(x), differentiable in x: r' = 1 - (2v+1) r/x - r^2 (1/(2(v+1)) at x = 0)."""
    return bessel_i_ratio_op(*_bessel_args("bessel_i_ratio", v, x))


def bessel_k_ratio(v, x):
    """K_{v+1}(x)/K_v(x), differentiable in x: q' = q^2 - (2v+1) q/x - 1."""
    return bessel_k_ratio_op(*_bessel_args("bessel_k_ratio", v, x))


# ------------------------------------------------------------------------------------------
# von Mises-Fisher normaliser: differentiable in kappa, not in the dimension d.
# ------------------------------------------------------------------------------------------
def _vmf_args(name, d, kappa):
    if isinstance(d, torch.Tensor) and d.requires_grad and torch.is_grad_enabled():
        raise NotImplementedError(f"d: {name} is differentiable with respect to kappa only; pass d as a number "
                                  "or a tensor that does not require grad")
    if not isinstance(kappa, torch.Tensor) and not isinstance(d, torch.Tensor):
        raise TypeError(f"kappa: expected a torch.Tensor (or d a tensor); for NumPy arrays use stablemath.{name}")
    return _bessel_args(name, d, kappa)


def vmf_log_normalizer(d, kappa):
    """log C_d(kappa) of the vMF density on S^{d-1} (see :func:`stablemath.vmf_log_normalizer`),
    differentiable in kappa: d/dkappa log C_d(kappa) = -A_d(kappa) (:func:`vmf_mean_resultant`)."""
    return vmf_log_normalizer_op(*_vmf_args("vmf_log_normalizer", d, kappa))


def vmf_mean_resultant(d, kappa):
    """A_d(kappa) = I_{d/2}/I_{d/2-1} (see :func:`stablemath.vmf_mean_resultant`), differentiable in
    kappa: A' = 1 - (d - 1) A / kappa - A^2, and 1/d at kappa = 0."""
    return vmf_mean_resultant_op(*_vmf_args("vmf_mean_resultant", d, kappa))


def vmf_logpdf(x, mu, kappa, *, check=True, atol=None):
    """log density of vMF(mu, kappa) at the unit vectors ``x`` (..., d) (see
    :func:`stablemath.vmf_logpdf`), differentiable in ``x``, ``mu`` and ``kappa``.

    Computed as the library does, ``(log C_d(kappa) + kappa) - kappa ||x - mu||^2 / 2`` (equal to
    ``log C_d(kappa) + kappa mu.x`` on the sphere, without the O(kappa) cancellation), from the
    registered op ``vmf_log_normalizer_scaled`` (derivative ``1 - A_d(kappa)``) and torch ops, so it
    traces under ``torch.compile``. Gradients are those of that formula: ``d/dkappa = mu.x - A_d``
    on the sphere, ``d/dx = kappa (mu - x)``, ``d/dmu = kappa (x - mu)``. These differ from the
    gradients of ``kappa mu.x`` (``kappa mu``, ``kappa x``) only along ``x`` (resp. ``mu``), the
    radial direction, which the projection onto the sphere's tangent space (or a normalisation
    ``x = v / ||v||`` upstream) removes; the tangential parts are equal.

    ``kappa``: >= 0, broadcasting against ``x.shape[:-1]``; ``kappa = inf`` gives +inf at ``x = mu``
    and -inf elsewhere. dtype: float64 unless every argument is float32 or narrower (then float32).
    ``check`` (eager mode only; skipped while ``torch.compile`` traces, as data-dependent checks
    would break the graph): ``ValueError`` unless ``| ||x|| - 1 | <= atol``, ``| ||mu|| - 1 | <=
    atol`` (default sqrt(eps) of each argument's own dtype) and ``kappa >= 0``. ``check=False`` evaluates the
    formula as is (a gradcheck perturbs x off the sphere, for instance).
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}; for NumPy arrays use stablemath.vmf_logpdf")
    if x.ndim < 1:
        raise ValueError("x: expected a tensor of shape (..., d), got a 0-d tensor")
    d = x.shape[-1]
    if d < 2:
        raise ValueError(f"x: the last dim is the dimension d and must have length >= 2, got {d}")
    mu = mu if isinstance(mu, torch.Tensor) else torch.as_tensor(mu, device=x.device)
    if mu.ndim != 1 or mu.shape[0] != d:
        raise ValueError(f"mu: expected shape ({d},) to match x's last dim, got {tuple(mu.shape)}")
    wide = [t.dtype for t in (x, mu, kappa) if isinstance(t, torch.Tensor)]
    dt = (torch.float64 if any(t == torch.float64 or not t.is_floating_point for t in wide) else torch.float32)
    kappa = torch.as_tensor(kappa, dtype=dt, device=x.device) if not isinstance(kappa, torch.Tensor) else kappa.to(dt)
    try:
        torch.broadcast_shapes(x.shape[:-1], kappa.shape)
    except RuntimeError:
        raise ValueError(f"kappa: shape {tuple(kappa.shape)} does not broadcast against x.shape[:-1] = "
                         f"{tuple(x.shape[:-1])}") from None
    xd, md = x.to(dt), mu.to(dt)
    if check and not torch.compiler.is_compiling():
        for name, t, orig in (("x", xd, x), ("mu", md, mu)):  # each checked at its own precision
            tol = (1.5e-8 if orig.dtype == torch.float64 else 3.5e-4) if atol is None else float(atol)
            dev = (torch.linalg.vector_norm(t.detach(), dim=-1) - 1).abs()
            if bool((dev > tol).any()):
                raise ValueError(f"{name}: must be unit vectors along the last dim (| ||{name}|| - 1 | <= atol = "
                                 f"{tol:.3g}); found a deviation of {float(dev.max()):.3g}")
        if bool((kappa.detach() < 0).any()):
            raise ValueError(f"kappa: must be >= 0, got {float(kappa.detach().min())}")
    diff = xd - md
    sq = (diff * diff).sum(-1)
    lcs = vmf_log_normalizer_scaled_op(torch.tensor(float(d), dtype=dt, device=x.device), kappa)
    out = lcs - 0.5 * kappa * sq
    return torch.where(torch.isinf(kappa), torch.where(sq == 0, torch.inf, -torch.inf).to(dt), out)


# ------------------------------------------------------------------------------------------
# sparsemax loss and logsumexp_topk (registered in _ops_extra.py)
# ------------------------------------------------------------------------------------------
def sparsemax_loss(x, target, dim=-1, *, reduction="mean"):
    """Sparsemax loss (see :func:`stablemath.sparsemax_loss`) with class-index targets,
    differentiable in ``x``: ``L = (1 - ||p||^2)/2 + <p - e_y, x>``, ``p = sparsemax(x, dim)``, and
    ``dL/dx = p - e_y`` (divided by the number of rows for ``reduction="mean"``).

    ``target``: integer class indices of x's shape without ``dim``; ``reduction``: "none" (x's
    shape without ``dim``), "mean" (the default, as ``torch.nn`` losses) or "sum". The loss is summed
    in float64 and returned in x's dtype; float16/bfloat16 are computed in float32. For a
    probability-distribution target use :func:`stablemath.sparsemax_loss` (no autograd).
    """
    if reduction not in CE_REDUCTIONS:
        raise ValueError(f"reduction: expected one of {list(CE_REDUCTIONS)}, got {reduction!r}")
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}; for NumPy arrays use "
                        "stablemath.sparsemax_loss")
    if not isinstance(target, torch.Tensor):
        target = torch.as_tensor(target, device=x.device)
    return sparsemax_loss_op(x, target, dim, CE_REDUCTIONS[reduction])


def logsumexp_topk(x, k, dim=-1):
    """The ``k`` largest logits along ``dim``, their indices and the row's logsumexp, in one pass
    (see :func:`stablemath.logsumexp_topk`); returns ``LogsumexpTopk(values, indices, logsumexp)``.

    Differentiable in ``x``: the gradient of ``values`` goes to the selected positions (as
    ``torch.topk``), that of ``logsumexp`` is ``softmax(x)`` times it (zero for an all ``-inf``
    row). ``indices`` take no gradient.
    """
    from .._topk import LogsumexpTopk
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"x: expected a torch.Tensor, got {type(x).__name__}; for NumPy arrays use "
                        "stablemath.logsumexp_topk")
    return LogsumexpTopk(*logsumexp_topk_op(x, k, dim))
