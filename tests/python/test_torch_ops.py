"""stablemath.torch: custom ops with autograd, fake impls, torch.compile and torch.func.

References are PyTorch's own ops (torch.softmax/log_softmax/logsumexp, F.cross_entropy), finite
differences (gradcheck in float64) and SciPy's Bessel derivatives (ivp/kvp).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import scipy.special  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from torch.autograd import gradcheck, gradgradcheck  # noqa: E402

import stablemath  # noqa: E402
import stablemath.torch as smt  # noqa: E402
from stablemath.torch import _registry  # noqa: E402

from torch_helpers import f64, grads, mask, rand  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ------------------------------------------------------------------------------------------
# Import boundaries
# ------------------------------------------------------------------------------------------
def test_import_stablemath_does_not_import_torch():
    code = "import sys, stablemath; assert 'torch' not in sys.modules, 'torch imported'; " \
           "import stablemath.torch; assert 'torch' in sys.modules; print('ok')"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


def test_plain_function_records_no_graph():
    x = rand(3, 4)
    y = stablemath.softmax(x, axis=-1)
    assert isinstance(y, torch.Tensor) and y.grad_fn is None and not y.requires_grad
    assert smt.softmax(x).grad_fn is not None


# ------------------------------------------------------------------------------------------
# gradcheck (float64) for every op, on both routes: the eager fast path and torch.ops.stablemath.*
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [smt.softmax, smt.log_softmax])
@pytest.mark.parametrize("dim,algorithm", [(0, "auto"), (1, "three_pass"), (-1, "online"), (-1, "two_pass")])
def test_gradcheck_rows(fn, dim, algorithm):
    x = rand(3, 4, 5)
    assert gradcheck(lambda t: fn(t, dim, algorithm=algorithm), (x,))


@pytest.mark.parametrize("fn", [smt.softmax, smt.log_softmax])
def test_gradcheck_rows_masked_safe(fn):
    x = rand(4, 6)
    m = mask(4, 6)
    m[2] = False  # a fully masked row
    # log_softmax gives -inf there, which finite differences cannot take: compare the other entries
    # (test_masked_entries_get_zero_grad checks the masked ones with a nonzero upstream gradient)
    assert gradcheck(lambda t: fn(t, -1, where=m, safe=True).masked_fill(~m, 0), (x,))
    assert gradcheck(lambda t: fn(t, 0, where=m[:1], safe=True).masked_fill(~m[:1], 0), (x,))  # broadcast mask


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_gradcheck_registered_op(name):
    op = getattr(torch.ops.stablemath, name)
    x = rand(3, 5)
    m = mask(3, 5)
    assert gradcheck(lambda t: op(t, 1, "online", False, m).masked_fill(~m, 0), (x,))
    assert gradcheck(lambda t: torch.ops.stablemath.logsumexp(t, [0], True, None, None), (x,))


@pytest.mark.parametrize("fn", [smt.softmax, smt.log_softmax])
def test_gradgradcheck_rows(fn):
    assert gradgradcheck(lambda t: fn(t, -1), (rand(3, 5),))


@pytest.mark.parametrize("dim,keepdim", [(None, False), (1, False), (1, True), ((0, 2), False), ((0, 2), True),
                                         (-1, False), ((), False)])
def test_gradcheck_logsumexp(dim, keepdim):
    assert gradcheck(lambda t: smt.logsumexp(t, dim, keepdim), (rand(3, 4, 2),))


def test_gradcheck_logsumexp_weights_and_mask():
    x = rand(3, 5)
    b = (torch.rand(5, dtype=f64) + 0.1).requires_grad_()
    m = mask(3, 5)
    m[:, 0] = True
    assert gradcheck(lambda t, w: smt.logsumexp(t, 1, b=w, where=m), (x, b))
    assert gradgradcheck(lambda t, w: smt.logsumexp(t, 1, b=w), (x, b))


BESSEL = ["log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio", "bessel_k_ratio"]


@pytest.mark.parametrize("name", BESSEL)
def test_gradcheck_bessel(name):
    fn = getattr(smt, name)
    x = (torch.rand(3, 4, dtype=f64, generator=torch.Generator().manual_seed(3)) * 6 + 0.2).requires_grad_()
    v = torch.tensor([0.0, 0.5, 2.0, 7.5], dtype=f64)
    assert gradcheck(lambda t: fn(v, t), (x,))                       # v broadcast over rows
    assert gradcheck(lambda t: fn(1.25, t), (x,))                    # Python number order
    xs = x[:1, :1].detach().clone().requires_grad_()
    assert gradcheck(lambda t: fn(v, t), (xs,))                      # x broadcast: gradient summed


@pytest.mark.parametrize("name,ref", [
    ("log_bessel_i", lambda v, x: scipy.special.ivp(v, x) / scipy.special.iv(v, x)),
    ("log_bessel_k", lambda v, x: scipy.special.kvp(v, x) / scipy.special.kv(v, x)),
    ("log_bessel_ie", lambda v, x: scipy.special.ivp(v, x) / scipy.special.iv(v, x) - 1),
    ("log_bessel_ke", lambda v, x: scipy.special.kvp(v, x) / scipy.special.kv(v, x) + 1),
])
def test_bessel_derivative_vs_scipy(name, ref):
    v = np.array([0.0, 0.3, 1.0, 4.5, 30.0])[:, None]
    x = np.array([1e-3, 0.1, 1.0, 7.0, 40.0, 300.0])[None, :]
    xt = torch.tensor(np.broadcast_to(x, (5, 6)).copy(), requires_grad=True)
    getattr(smt, name)(torch.tensor(v), xt).sum().backward()
    np.testing.assert_allclose(xt.grad.numpy(), ref(v, x), rtol=1e-9, atol=1e-12)


def test_bessel_ratio_derivative_vs_scipy():
    v = np.array([0.0, 0.5, 3.0, 20.0])[:, None]
    x = np.array([0.05, 0.7, 5.0, 60.0])[None, :]
    iv, ivp = scipy.special.iv, scipy.special.ivp
    kv, kvp = scipy.special.kv, scipy.special.kvp
    ref_i = (ivp(v + 1, x) * iv(v, x) - iv(v + 1, x) * ivp(v, x)) / iv(v, x) ** 2
    ref_k = (kvp(v + 1, x) * kv(v, x) - kv(v + 1, x) * kvp(v, x)) / kv(v, x) ** 2
    for fn, ref in ((smt.bessel_i_ratio, ref_i), (smt.bessel_k_ratio, ref_k)):
        xt = torch.tensor(np.broadcast_to(x, (4, 4)).copy(), requires_grad=True)
        fn(torch.tensor(v), xt).sum().backward()
        np.testing.assert_allclose(xt.grad.numpy(), ref, rtol=1e-8, atol=1e-12)


def test_bessel_x_zero_edges():
    x = torch.zeros(3, dtype=f64, requires_grad=True)
    v = torch.tensor([0.0, 1.0, 2.0], dtype=f64)
    smt.log_bessel_i(v, x).sum().backward()
    assert x.grad[0] == 0 and torch.isposinf(x.grad[1:]).all()  # log I_0 is flat at 0; log I_v -> -inf
    x.grad = None
    smt.bessel_i_ratio(v, x).sum().backward()
    torch.testing.assert_close(x.grad, 0.5 / (v + 1))            # r ~ x / (2(v+1)) near 0
    x.grad = None
    smt.log_bessel_k(v, x).sum().backward()
    assert torch.isneginf(x.grad).all()
    x.grad = None
    smt.bessel_k_ratio(v, x).sum().backward()
    assert torch.isneginf(x.grad).all()


def test_bessel_v_grad_not_implemented():
    x = torch.rand(3, dtype=f64) + 0.5
    v = torch.ones(3, dtype=f64, requires_grad=True)
    with pytest.raises(NotImplementedError, match="order v"):
        smt.log_bessel_i(v, x)
    y = torch.ops.stablemath.log_bessel_k(v, x.requires_grad_())  # the op itself: caught in backward
    with pytest.raises(NotImplementedError, match="order v"):
        y.sum().backward()
    with torch.no_grad():
        smt.log_bessel_i(v, x)  # no graph, no error


def test_bessel_dtypes():
    x32 = torch.rand(4) + 0.5
    assert smt.log_bessel_i(2, x32).dtype == torch.float32
    assert smt.log_bessel_i(torch.tensor([2.0], dtype=f64), x32).dtype == torch.float64
    assert smt.log_bessel_i(torch.tensor(2.0, dtype=f64), x32).dtype == torch.float32  # 0-d: torch promotion
    assert smt.log_bessel_i(torch.tensor([1, 2]), torch.tensor([3, 4])).dtype == torch.float64
    xh = (torch.rand(4) + 0.5).half().requires_grad_()
    y = smt.log_bessel_k(1.5, xh)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert xh.grad.dtype == torch.float16
    ref = scipy.special.kvp(1.5, xh.detach().double().numpy()) / scipy.special.kv(1.5, xh.detach().double().numpy())
    np.testing.assert_allclose(xh.grad.double().numpy(), ref, rtol=2e-3)


# ------------------------------------------------------------------------------------------
# Against PyTorch's own gradients, including -inf entries and all -inf rows
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, f64])
@pytest.mark.parametrize("pair", [(smt.softmax, torch.softmax), (smt.log_softmax, torch.log_softmax)])
def test_rows_match_torch(pair, dtype):
    ours, theirs = pair
    x = rand(6, 33, dtype=dtype, grad=False) * 5
    x[1, 3] = x[4, :7] = float("-inf")
    g = rand(6, 33, dtype=dtype, seed=5, grad=False)
    for dim in (0, 1):
        y1, g1 = grads(lambda t: ours(t, dim), x, g)
        y2, g2 = grads(lambda t: theirs(t, dim), x, g)
        tol = dict(rtol=1e-5, atol=1e-6) if dtype == torch.float32 else dict(rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(y1, y2, **tol)
        torch.testing.assert_close(g1, g2, **tol)


def test_logsumexp_matches_torch_and_all_neginf_rows_get_zero_grad():
    x = rand(5, 7, grad=False)
    x[2] = float("-inf")       # a row with no mass
    x[3, :4] = float("-inf")
    g = rand(5, seed=2, grad=False)
    y1, g1 = grads(lambda t: smt.logsumexp(t, 1), x, g)
    y2, g2 = grads(lambda t: torch.logsumexp(t, 1), x, g)
    torch.testing.assert_close(y1, y2, rtol=1e-13, atol=1e-13)
    assert torch.isnan(g2[2]).all()                                  # PyTorch: NaN
    assert (g1[2] == 0).all()                                        # stablemath: zero
    keep = torch.arange(5) != 2
    torch.testing.assert_close(g1[keep], g2[keep], rtol=1e-13, atol=1e-13)


def test_masked_entries_get_zero_grad():
    x = rand(4, 6, grad=False)
    m = mask(4, 6)
    m[1] = False
    g = rand(4, 6, seed=3, grad=False)
    for fn in (smt.softmax, smt.log_softmax):
        _, gx = grads(lambda t: fn(t, -1, where=m, safe=True), x, g)
        assert (gx[~m] == 0).all()
        # unmasked entries: the gradient of the op on the unmasked entries alone
        ref_fn = torch.softmax if fn is smt.softmax else torch.log_softmax
        for r in (0, 2, 3):
            xr = x[r, m[r]]
            _, gr = grads(lambda t: ref_fn(t, 0), xr, g[r, m[r]])
            torch.testing.assert_close(gx[r, m[r]], gr, rtol=1e-12, atol=1e-13)
    _, gx = grads(lambda t: smt.logsumexp(t, 1, where=m), x, torch.ones(4, dtype=f64))
    assert (gx[~m] == 0).all() and torch.isfinite(gx).all()
    torch.testing.assert_close(gx.sum(1), torch.tensor([1.0, 0.0, 1.0, 1.0], dtype=f64))


def test_logsumexp_weights_grad_matches_formula():
    x = rand(3, 5, grad=False)
    b = torch.rand(5, dtype=f64) + 0.1
    b[2] = 0.0                                                        # dropped element
    xx, bb = x.clone().requires_grad_(), b.clone().requires_grad_()
    smt.logsumexp(xx, 1, b=bb).sum().backward()
    xr, br = x.clone().requires_grad_(), b.clone().requires_grad_()
    torch.logsumexp(xr + torch.log(br), 1).sum().backward()
    torch.testing.assert_close(xx.grad, xr.grad, rtol=1e-12, atol=1e-14)
    keep = b != 0
    torch.testing.assert_close(bb.grad[keep], br.grad[keep], rtol=1e-12, atol=1e-14)
    xx = x.clone().requires_grad_()
    y = smt.logsumexp(xx, 1, b=torch.zeros(5, dtype=f64))                    # all weights 0: -inf
    y.sum().backward()
    assert torch.isneginf(y).all() and (xx.grad == 0).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision_forward_backward(dtype):
    x = rand(8, 50, dtype=torch.float32, grad=False) * 3
    g = rand(8, 50, dtype=torch.float32, seed=4, grad=False)
    for ours, theirs in ((smt.softmax, torch.softmax), (smt.log_softmax, torch.log_softmax)):
        y1, g1 = grads(lambda t: ours(t, 1), x.to(dtype), g.to(dtype))
        y2, g2 = grads(lambda t: theirs(t, 1), x, g)   # float32 reference
        assert y1.dtype == dtype and g1.dtype == dtype
        tol = 1e-2 if dtype == torch.float16 else 4e-2
        torch.testing.assert_close(y1.float(), y2, rtol=tol, atol=tol * 0.1)
        torch.testing.assert_close(g1.float(), g2, rtol=tol, atol=tol)
    y1, g1 = grads(lambda t: smt.logsumexp(t, 1), x.to(dtype), g[:, 0].to(dtype))
    y2, g2 = grads(lambda t: torch.logsumexp(t, 1), x, g[:, 0])
    assert y1.dtype == dtype and g1.dtype == dtype
    torch.testing.assert_close(g1.float(), g2, rtol=4e-2, atol=4e-3)


def test_zero_d_and_empty_inputs():
    x = torch.tensor(2.0, dtype=f64, requires_grad=True)
    for fn, value in ((smt.softmax, 1.0), (smt.log_softmax, 0.0)):
        y = fn(x)
        assert y.shape == () and y.item() == value
        (g,) = torch.autograd.grad(y, x)
        assert g.item() == 0.0
    y = smt.logsumexp(x)
    (g,) = torch.autograd.grad(y, x)
    assert y.item() == 2.0 and g.item() == 1.0
    e = torch.empty(3, 0, dtype=f64, requires_grad=True)
    y = smt.logsumexp(e, 1)
    assert torch.isneginf(y).all()
    (g,) = torch.autograd.grad(y.sum(), e)
    assert g.shape == (3, 0)


def test_cross_entropy_half_precision():
    x = rand(16, 10, dtype=torch.float32, grad=False) * 2
    t = torch.randint(0, 10, (16,), generator=torch.Generator().manual_seed(2))
    for dtype in (torch.float16, torch.bfloat16):
        y1, g1 = grads(lambda z: smt.cross_entropy(z, t), x.to(dtype), torch.tensor(1.0, dtype=dtype))
        y2, g2 = grads(lambda z: F.cross_entropy(z, t), x, torch.tensor(1.0))
        assert y1.dtype == dtype and g1.dtype == dtype
        torch.testing.assert_close(y1.float(), y2, rtol=2e-2, atol=2e-2)
        torch.testing.assert_close(g1.float(), g2, rtol=5e-2, atol=2e-3)


def test_non_contiguous_inputs():
    base = rand(7, 9, grad=False)
    for fn in (smt.softmax, smt.log_softmax):
        xt = base.t()                                                   # strided view, no copy
        y1, g1 = grads(lambda t: fn(t, 1), xt, base.t() * 2)
        y2, g2 = grads(lambda t: fn(t, 1), xt.contiguous(), base.t().contiguous() * 2)
        assert torch.equal(y1, y2) and torch.equal(g1, g2)
    xe = base[:, :1].expand(7, 9)                                       # stride-0 axis
    torch.testing.assert_close(smt.softmax(xe, 1), torch.full((7, 9), 1 / 9, dtype=f64))
    assert torch.equal(smt.logsumexp(base[::2, ::3], 1), smt.logsumexp(base[::2, ::3].contiguous(), 1))


def test_fast_path_and_registered_op_agree():
    x = rand(4, 9)
    g = rand(4, 9, seed=7, grad=False)
    m = mask(4, 9)
    for name, args in (("softmax", (1, "two_pass", True, m)), ("log_softmax", (0, "online", True, m))):
        op = _registry.ops()[name]
        y1, g1 = grads(lambda t: op(t, *args), x, g)                      # fast path
        y2, g2 = grads(lambda t: op.overload(t, *args), x, g)             # dispatcher + custom op autograd
        assert torch.equal(y1, y2) and torch.equal(g1, g2)



def test_call_routes():
    """Op.__call__: the eager routes for plain CPU tensors, the registered op for everything else."""
    from torch.overrides import TorchFunctionMode
    from torch.utils._python_dispatch import TorchDispatchMode
    op = _registry.ops()["softmax"]
    x = rand(3, 4)
    assert type(op(x, 1, "auto", False, None).grad_fn).__name__ == "softmax_functionBackward"   # autograd.Function
    assert op(x.detach(), 1, "auto", False, None).grad_fn is None                              # kernel directly
    with torch.no_grad():
        assert op(x, 1, "auto", False, None).grad_fn is None
    p = torch.nn.Parameter(x.detach().clone())
    assert type(op(p, 1, "auto", False, None).grad_fn).__name__ == "softmax_functionBackward"
    meta = op(torch.empty(3, 4, device="meta"), 1, "auto", False, None)                       # the fake kernel
    assert meta.device.type == "meta" and meta.shape == (3, 4)
    seen = []

    class Spy(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    class DispatchSpy(TorchDispatchMode):
        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            seen.append(func)
            return func(*args, **(kwargs or {}))

    for mode in (Spy(), DispatchSpy()):
        seen.clear()
        with mode:
            y = op(x.detach(), 1, "auto", False, None)
        assert op.overload in seen
        torch.testing.assert_close(y, torch.softmax(x.detach(), 1))
    with pytest.raises(TypeError, match="^x:"):  # not a tensor: the kernel's own message
        op(x.detach().numpy(), 1, "auto", False, None)
    # a tensor leaked out of a torch.func transform (a dead wrapper) is unwrapped, as Function.apply does
    leaked = []
    torch.func.grad(lambda t: leaked.append(t * 2) or leaked[-1].sum())(x.detach().clone())
    torch.testing.assert_close(smt.softmax(leaked[0]).detach(), torch.softmax(x.detach() * 2, -1))

# ------------------------------------------------------------------------------------------
# cross_entropy vs F.cross_entropy
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", [(6, 5), (3, 5, 4), (5,)])
def test_cross_entropy_matches_torch(reduction, weighted, smoothing, shape):
    x = rand(*shape, grad=False) * 3
    cdim = 1 if len(shape) >= 2 else 0
    tshape = shape[:cdim] + shape[cdim + 1:]
    t = torch.randint(0, shape[cdim], tshape, generator=torch.Generator().manual_seed(1))
    if t.ndim:
        t.view(-1)[0] = -100                                               # an ignored target
    w = torch.rand(shape[cdim], dtype=f64) + 0.5 if weighted else None
    kw = dict(weight=w, reduction=reduction, label_smoothing=smoothing)
    g = rand(*tshape, seed=9, grad=False) if reduction == "none" else torch.tensor(1.3, dtype=f64)
    y1, g1 = grads(lambda z: smt.cross_entropy(z, t, **kw), x, g)
    y2, g2 = grads(lambda z: F.cross_entropy(z, t, **kw), x, g)
    torch.testing.assert_close(y1, y2, rtol=1e-12, atol=1e-13)
    torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets(weighted):
    x = rand(6, 5, grad=False)
    p = torch.softmax(rand(6, 5, seed=3, grad=False), 1)
    w = torch.rand(5, dtype=f64) + 0.5 if weighted else None
    for red in ("mean", "sum", "none"):
        g = torch.ones(6, dtype=f64) if red == "none" else torch.tensor(1.0, dtype=f64)
        y1, g1 = grads(lambda z: smt.cross_entropy(z, p, weight=w, reduction=red, label_smoothing=0.1), x, g)
        y2, g2 = grads(lambda z: F.cross_entropy(z, p, weight=w, reduction=red, label_smoothing=0.1), x, g)
        torch.testing.assert_close(y1, y2, rtol=1e-12, atol=1e-13)
        torch.testing.assert_close(g1, g2, rtol=1e-12, atol=1e-13)


def test_cross_entropy_gradcheck_and_errors():
    t = torch.tensor([0, 3, -100, 1])
    assert gradcheck(lambda z: smt.cross_entropy(z, t, label_smoothing=0.1), (rand(4, 5),))
    with pytest.raises(IndexError, match="target"):
        smt.cross_entropy(rand(2, 3), torch.tensor([0, 3]))
    with pytest.raises(ValueError, match="target"):
        smt.cross_entropy(rand(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="reduction"):
        smt.cross_entropy(rand(2, 3), torch.tensor([0, 1]), reduction="avg")
    with pytest.raises(ValueError, match="label_smoothing"):
        smt.cross_entropy(rand(2, 3), torch.tensor([0, 1]), label_smoothing=1.5)


# ------------------------------------------------------------------------------------------
# opcheck for every registered op (a new op must add its samples here)
# ------------------------------------------------------------------------------------------
def _opcheck_samples():
    x = rand(3, 5)
    m = mask(3, 5)
    xp = (torch.rand(2, 3, dtype=f64, generator=torch.Generator().manual_seed(2)) + 0.3).requires_grad_()
    bessel = [(torch.tensor([0.5, 2.0, 3.5], dtype=f64), xp), (torch.tensor(1.0, dtype=torch.float32), xp.float())]
    rows = [(x, 1, "auto", False, None), (x, 0, "online", True, m), (x.float(), -1, "two_pass", False, m[0])]
    return {
        "softmax": rows,
        "log_softmax": rows,
        "logsumexp": [(x, [1], False, None, None), (x, [], True, (torch.rand(5, dtype=f64) + 0.1).requires_grad_(), m),
                      (x.float(), [0, 1], True, None, None)],
        **{name: bessel for name in BESSEL},
        **{name: [(torch.tensor([2.0, 3.0, 50.0], dtype=f64), xp)] for name in ("vmf_log_normalizer",
                                                                              "vmf_mean_resultant")},
        **_opcheck_samples_more(x),
        **_opcheck_samples_extra(x),
    }


def _opcheck_samples_more(x):
    """sparsemax, StableMax and the fused cross-entropies (their tests: test_torch_ops_more.py)."""
    t = torch.tensor([0, 4, -100])
    t3 = torch.tensor([[0, 2, 1], [1, -100, 0]])
    x3 = rand(2, 4, 3, seed=4)
    y = stablemath.sparsemax(x.detach())
    stable = [(x, 1), (x.float(), 0), (x3, -1)]
    return {
        "sparsemax": [(x, 1, "auto"), (x.float(), 0, "sort"), (x3, -2, "bisect")],
        "sparsemax_backward": [(y, torch.ones_like(y), 1), (y.float(), x.detach().float(), 1)],
        "stablemax": stable,
        "log_stablemax": stable,
        "softmax_cross_entropy": [(x, t, 1, -100, 1, 0.0), (x3, t3, 1, -100, 0, 0.1),
                                  (x.float(), t.clamp(min=0), -1, 4, 2, 0.0)],
        "softmax_topk": [(x, 2, 1, False), (x3, 2, 0, True), (x.float(), 5, -1, False)],
        "stablemax_cross_entropy": [(x, t, 1, -100, 0), (x3, t3, 1, -100, 1), (x.float(), t.clamp(min=0), -1, 4, 2)],
    }


def _opcheck_samples_extra(x):
    """kde_logpdf, sparsemax_loss, logsumexp_topk, vmf_log_normalizer_scaled (test_torch_ops_extra.py)."""
    X = rand(6, 5, seed=5, grad=False)
    w = torch.rand(6, dtype=f64, generator=torch.Generator().manual_seed(6)) + 0.1
    x3 = rand(2, 4, 3, seed=4)
    t = torch.tensor([0, 4, 1])
    return {
        "kde_logpdf": [(x, X, torch.tensor(0.8, dtype=f64), None),
                       (x3, X[:, :3].clone().requires_grad_(), torch.tensor(1.5, dtype=f64, requires_grad=True),
                        w.clone().requires_grad_()),
                       (x.float(), X.float(), torch.tensor(0.5), w.float())],
        "sparsemax_loss": [(x, t, 1, 0), (x3, torch.tensor([[0, 2, 1], [3, 3, 0]]), 1, 1), (x.float(), torch.tensor([0, 2, 1, 1, 0]), 0, 2)],
        "logsumexp_topk": [(x, 2, 1), (x3, 3, 1), (x.float(), 1, 0)],
        "vmf_log_normalizer_scaled": [(torch.tensor([2.0, 3.0, 50.0], dtype=f64),
                                       (torch.rand(2, 3, dtype=f64, generator=torch.Generator().manual_seed(2)) + 0.3)
                                       .requires_grad_())],
    }


OPCHECK_SAMPLES = _opcheck_samples()


def test_every_op_has_opcheck_samples():
    assert set(_registry.ops()) == set(OPCHECK_SAMPLES)


@pytest.mark.parametrize("name", sorted(OPCHECK_SAMPLES))
def test_opcheck(name):
    op = _registry.ops()[name].custom_op
    for args in OPCHECK_SAMPLES[name]:
        torch.library.opcheck(op, args)


# ------------------------------------------------------------------------------------------
# torch.compile and torch.func
# ------------------------------------------------------------------------------------------
def test_compile_fullgraph_no_graph_breaks():
    """Dynamo + AOTAutograd over every op kind (fake impls and backward formulas traced)."""
    torch._dynamo.reset()

    def f(x, v, t):
        return (smt.log_softmax(x, -1, where=x > -1).sum() + smt.softmax(x, 0).square().sum()
                + smt.logsumexp(x, 1).sum() + smt.log_bessel_i(v, x.abs() + 1).sum()
                + smt.cross_entropy(x, t))

    x = rand(4, 6)
    v = torch.tensor(1.5, dtype=f64)
    t = torch.tensor([0, 5, 2, 1])
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    y1 = compiled(x, v, t)
    (g1,) = torch.autograd.grad(y1, x)
    y2 = f(x, v, t)
    (g2,) = torch.autograd.grad(y2, x)
    torch.testing.assert_close(y1, y2)
    torch.testing.assert_close(g1, g2)


def test_compile_inductor_smoke():
    """One small inductor compile (it builds C++, so only one): forward and backward."""
    torch._dynamo.reset()

    def step(w, x, t):
        return smt.cross_entropy(x @ w, t)

    w = rand(8, 5, dtype=torch.float32)
    x = rand(16, 8, dtype=torch.float32, seed=3, grad=False)
    t = torch.randint(0, 5, (16,), generator=torch.Generator().manual_seed(0))
    compiled = torch.compile(step, fullgraph=True)
    y1 = compiled(w, x, t)
    (g1,) = torch.autograd.grad(y1, w)
    y2 = F.cross_entropy(x @ w, t)
    (g2,) = torch.autograd.grad(y2, w)
    torch.testing.assert_close(y1, y2, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(g1, g2, rtol=1e-5, atol=1e-6)


def test_torch_func_grad_jacrev():
    from torch.func import grad, jacrev
    x = rand(3, 5, grad=False)
    g1 = grad(lambda t: smt.logsumexp(t, 1).sum())(x)
    torch.testing.assert_close(g1, torch.softmax(x, 1))
    jac = jacrev(lambda t: smt.softmax(t, 0))(x[0])
    p = torch.softmax(x[0], 0)
    torch.testing.assert_close(jac, torch.diag(p) - torch.outer(p, p))
    gb = grad(lambda t: smt.log_bessel_i(2.0, t).sum())(x.abs() + 1)
    torch.testing.assert_close(gb, smt.bessel_i_ratio(2.0, x.abs() + 1) + 2 / (x.abs() + 1))


def test_torch_func_vmap_rules(recwarn):
    """Registered vmap rules (no per-sample fallback, which would warn), nested with grad."""
    from torch.func import grad, vmap
    x = rand(4, 3, 5, grad=False)
    m = mask(4, 5)
    close = torch.testing.assert_close
    close(vmap(lambda r: smt.softmax(r, 0), in_dims=1)(x), torch.softmax(x.movedim(1, 0), 1))
    close(vmap(lambda r, w: smt.log_softmax(r, -1, where=w, safe=True))(x[:, 0], m),
          smt.log_softmax(x[:, 0], -1, where=m, safe=True))
    close(vmap(lambda r: smt.logsumexp(r, 1))(x), torch.logsumexp(x, 2))
    close(vmap(lambda r: smt.logsumexp(r, keepdim=True))(x), torch.logsumexp(x, (1, 2), keepdim=True))
    close(vmap(lambda r: smt.logsumexp(r))(x[:, 0, 0]), x[:, 0, 0])                  # batch of 0-d inputs
    close(vmap(lambda r: smt.softmax(r))(x[:, 0, 0]), torch.ones(4, dtype=f64))
    xp = x.abs() + 0.5
    v = torch.tensor([0.5, 1.0, 2.0, 3.0, 4.0], dtype=f64)
    close(vmap(lambda r: smt.log_bessel_i(v, r))(xp), smt.log_bessel_i(v, xp))
    close(vmap(lambda vv: smt.log_bessel_k(vv, xp[0]))(v), smt.log_bessel_k(v[:, None, None], xp[0]))
    close(vmap(grad(lambda r: smt.logsumexp(r, b=torch.ones(5, dtype=f64))))(x[:, 0]), torch.softmax(x[:, 0], 1))
    close(vmap(grad(lambda r: smt.log_bessel_ie(2.0, r).sum()))(xp), smt.bessel_i_ratio(2.0, xp) + 2 / xp - 1)
    close(grad(lambda r: vmap(lambda q: smt.logsumexp(q, 0))(r).sum())(x[:, 0]), torch.softmax(x[:, 0], 1))
    close(vmap(vmap(lambda r: smt.log_softmax(r, 0)))(x), torch.log_softmax(x, 2))
    assert not [w for w in recwarn if "batching rule" in str(w.message)]


# ------------------------------------------------------------------------------------------
# Errors and the training example
# ------------------------------------------------------------------------------------------
def test_errors_name_the_argument():
    x = rand(2, 3)
    with pytest.raises(TypeError, match="^x:"):
        smt.softmax(torch.ones(2, 3, dtype=torch.int64))
    with pytest.raises(np.exceptions.AxisError, match="^dim:"):
        smt.log_softmax(x, 2)
    with pytest.raises(ValueError, match="^algorithm:"):
        smt.softmax(x, algorithm="fast")
    with pytest.raises(TypeError, match="^where:"):
        smt.softmax(x, where=torch.ones(2, 3))
    with pytest.raises(ValueError, match="^where:"):
        smt.softmax(x, where=torch.ones(4, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match="^axis:"):
        smt.logsumexp(x, (1, 1))
    with pytest.raises(ValueError, match="^b:"):
        smt.logsumexp(x, 1, b=torch.ones(4, dtype=f64))
    with pytest.raises(ValueError, match="v and x"):
        smt.log_bessel_i(torch.ones(2), torch.ones(3))


def test_train_example_runs_and_matches_torch_loss_curve():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import train_example
    finally:
        sys.path.pop(0)
    ours = train_example.train(steps=15)
    ref = train_example.train(steps=15, loss_fn=F.cross_entropy)
    assert ours[-1] < 0.5 * ours[0]
    np.testing.assert_allclose(ours, ref, rtol=1e-4)


@pytest.mark.skipif(not torch.cuda.is_available() or not getattr(stablemath._core, "cuda_available", False),
                    reason="needs a CUDA device and a stablemath build with the CUDA backend")
def test_cuda_matches_cpu():
    x = rand(64, 300, dtype=torch.float32)
    for fn in (smt.softmax, smt.log_softmax):
        y1, g1 = grads(lambda t: fn(t, 1), x.cuda(), x.cuda())
        y2, g2 = grads(lambda t: fn(t, 1), x, x)
        torch.testing.assert_close(y1.cpu(), y2, rtol=1e-5, atol=1e-6)
        torch.testing.assert_close(g1.cpu(), g2, rtol=1e-5, atol=1e-6)


def test_cuda_tensor_without_cuda_backend_is_a_clear_error():
    if getattr(stablemath._core, "cuda_available", False):
        pytest.skip("this build has the CUDA backend")
    x = torch.empty(2, 3, device="meta")  # stands in for a CUDA tensor: the CPU kernel refuses it
    with pytest.raises(ValueError, match="^x: tensor is on device meta"):
        _registry.ops()["softmax"].impl(x, -1, "auto", False, None)
    assert smt.softmax(x).device.type == "meta"  # the fake impl: shapes only
