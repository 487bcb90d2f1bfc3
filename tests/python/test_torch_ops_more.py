"""stablemath.torch ops for sparsemax, StableMax and the fused cross-entropies.

References: entmax.sparsemax (forward and autograd), torch-composed StableMax (autograd through
plain torch ops), F.cross_entropy, gradcheck in float64. The opcheck samples live in
test_torch_ops.OPCHECK_SAMPLES (every registered op must have some).
"""
from __future__ import annotations

import os
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import torch.nn.functional as F  # noqa: E402
from torch.autograd import gradcheck, gradgradcheck  # noqa: E402

import stablemath.torch as smt  # noqa: E402
from torch_helpers import close, f64, grads, rand, ref_kde_logpdf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


# ------------------------------------------------------------------------------------------
# Independent references built from plain torch ops (autograd differentiates them)
# ------------------------------------------------------------------------------------------
def ref_s(x):
    return torch.where(x >= 0, x + 1, 1 / (1 - x))


def ref_stablemax(x, dim):
    s = ref_s(x)
    return s / s.sum(dim, keepdim=True)


def ref_log_stablemax(x, dim):
    return torch.log(ref_stablemax(x, dim))


def ref_stablemax_ce(x, t, ignore_index=-100, reduction="mean"):
    logp = ref_log_stablemax(x.double(), -1)
    return F.nll_loss(logp, t, ignore_index=ignore_index, reduction=reduction)


# ------------------------------------------------------------------------------------------
# sparsemax
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("algorithm", ["auto", "sort", "pivot", "bisect"])
def test_sparsemax_matches_entmax(dim, algorithm):
    entmax = pytest.importorskip("entmax")
    x = rand(4, 7, 3, scale=2.0)
    g = rand(4, 7, 3, seed=5, grad=False)
    y1, g1 = grads(lambda t: smt.sparsemax(t, dim, algorithm=algorithm), x, g)
    y2, g2 = grads(lambda t: entmax.sparsemax(t, dim), x, g)
    close(y1, y2)
    close(g1, g2)


def test_sparsemax_gradcheck():
    x = rand(5, 6, scale=0.7)
    for d in (0, 1):  # finite differences must not cross a support boundary: |x - tau| well above eps
        y = smt.sparsemax(x.detach(), d)
        tau = (x.detach() - y).masked_fill(y == 0, torch.inf).amin(d, keepdim=True)
        assert (x.detach() - tau).abs().min() > 1e-3
    assert gradcheck(lambda t: smt.sparsemax(t, -1), (x,), eps=1e-6)
    assert gradcheck(lambda t: smt.sparsemax(t, 0), (x,), eps=1e-6)
    assert gradcheck(lambda t: torch.ops.stablemath.sparsemax(t, 1, "sort"), (x,), eps=1e-6)
    assert gradgradcheck(lambda t: smt.sparsemax(t, -1), (x,), eps=1e-6)


def test_sparsemax_edges_and_dtypes():
    y = smt.sparsemax(torch.tensor(3.0, dtype=f64, requires_grad=True))
    assert y.shape == () and y.item() == 1.0
    y.backward()
    x = torch.tensor([[0.0, -torch.inf, 2.0]], dtype=f64, requires_grad=True)
    y = smt.sparsemax(x)
    close(y.detach(), torch.tensor([[0.0, 0.0, 1.0]], dtype=f64))
    y.backward(torch.ones_like(y))
    assert (x.grad == 0).all()
    for dt in (torch.float16, torch.bfloat16, torch.float32):
        xh = rand(3, 8, dtype=dt)
        yh, gh = grads(smt.sparsemax, xh, torch.ones(3, 8, dtype=dt) * torch.arange(8).to(dt))
        assert yh.dtype == dt and gh.dtype == dt
        y64, g64 = grads(smt.sparsemax, xh.double(), torch.ones(3, 8, dtype=f64) * torch.arange(8))
        tol = 1e-5 if dt == torch.float32 else 2e-2
        close(yh.double(), y64, rtol=tol, atol=tol)
        close(gh.double(), g64, rtol=tol, atol=tol * 8)


# ------------------------------------------------------------------------------------------
# stablemax / log_stablemax
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_stablemax_gradcheck(dim):
    x = rand(3, 4, 5, scale=3.0)
    x = x.detach().masked_fill(x.detach().abs() < 1e-3, 0.5).requires_grad_()  # keep away from the kink at 0
    assert gradcheck(lambda t: smt.stablemax(t, dim), (x,))
    assert gradcheck(lambda t: smt.log_stablemax(t, dim), (x,))
    assert gradcheck(lambda t: torch.ops.stablemath.log_stablemax(t, dim), (x,))


@pytest.mark.parametrize("pair", [(smt.stablemax, ref_stablemax), (smt.log_stablemax, ref_log_stablemax)])
@pytest.mark.parametrize("dtype", [torch.float32, f64])
def test_stablemax_matches_torch_reference(pair, dtype):
    ours, ref = pair
    x = rand(6, 9, dtype=dtype, scale=4.0)
    g = rand(6, 9, dtype=dtype, seed=2, grad=False)
    for dim in (0, 1):
        y1, g1 = grads(lambda t: ours(t, dim), x, g)
        y2, g2 = grads(lambda t: ref(t.double(), dim).to(dtype), x, g)
        close(y1, y2)
        close(g1, g2)


def test_stablemax_edges():
    x = torch.tensor([[1.0, -torch.inf, -2.0]], dtype=f64, requires_grad=True)
    y, g = grads(smt.stablemax, x, torch.tensor([[1.0, 5.0, -1.0]], dtype=f64))
    assert g[0, 1] == 0 and torch.isfinite(g).all()
    z, g = grads(smt.log_stablemax, x, torch.ones(1, 3, dtype=f64))
    assert torch.isneginf(z[0, 1]) and g[0, 1] == 0 and torch.isfinite(g).all()
    y0 = smt.stablemax(torch.tensor(2.0, requires_grad=True))
    assert y0.shape == () and y0.item() == 1.0
    for dt in (torch.float16, torch.bfloat16):
        xh = rand(2, 5, dtype=dt)
        yh, gh = grads(smt.log_stablemax, xh, torch.ones(2, 5, dtype=dt))
        assert gh.dtype == dt
        _, g64 = grads(smt.log_stablemax, xh.double(), torch.ones(2, 5, dtype=f64))
        close(gh.double(), g64, rtol=2e-2, atol=2e-2)


# ------------------------------------------------------------------------------------------
# stablemax_cross_entropy
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", [torch.float32, f64])
def test_stablemax_ce_matches_reference(reduction, dtype):
    x = rand(7, 5, dtype=dtype, scale=3.0)
    t = torch.tensor([0, 4, 2, -100, 1, 3, 3])
    g = torch.tensor(1.5, dtype=dtype) if reduction != "none" else rand(7, dtype=dtype, seed=4, grad=False)
    l1, g1 = grads(lambda z: smt.stablemax_cross_entropy(z, t, reduction=reduction), x, g)
    l2, g2 = grads(lambda z: ref_stablemax_ce(z, t, reduction=reduction).to(dtype), x, g)
    assert l1.dtype == dtype
    close(l1, l2)
    close(g1, g2)


def test_stablemax_ce_gradcheck_dims_and_errors():
    x = rand(3, 4, 2, scale=2.0)
    t = torch.tensor([[0, 3], [2, -100], [1, 1]])
    assert gradcheck(lambda z: smt.stablemax_cross_entropy(z, t, dim=1, reduction="none"), (x,))
    assert gradcheck(lambda z: smt.stablemax_cross_entropy(z, t, dim=1), (x,))
    tl = t.masked_fill(t < 0, 0)
    close(smt.stablemax_cross_entropy(x, tl, dim=1, reduction="sum"),
          ref_stablemax_ce(x.movedim(1, -1).reshape(-1, 4), tl.reshape(-1), reduction="sum"))
    with pytest.raises(IndexError, match="^target"):
        smt.stablemax_cross_entropy(rand(2, 3), torch.tensor([0, 3]))
    with pytest.raises(TypeError, match="^target"):
        smt.stablemax_cross_entropy(rand(2, 3), torch.tensor([0.0, 1.0]))
    with pytest.raises(ValueError, match="^target"):
        smt.stablemax_cross_entropy(rand(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match="^reduction"):
        smt.stablemax_cross_entropy(rand(2, 3), torch.tensor([0, 1]), reduction="avg")
    assert torch.isnan(smt.stablemax_cross_entropy(rand(2, 3), torch.tensor([-100, -100])))


def test_stablemax_ce_dominant_target_keeps_digits():
    # loss = log1p(sum_{j != t} s_j / s_t): tiny but exact, where log(ratio) in float32 gives 0
    x = torch.tensor([[1e6, -1.0, 0.0]], requires_grad=True)
    loss = smt.stablemax_cross_entropy(x, torch.tensor([0]))
    expected = np.log1p((0.5 + 1.0) / (1e6 + 1))
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-6)
    loss.backward()
    assert torch.isfinite(x.grad).all()


# ------------------------------------------------------------------------------------------
# cross_entropy on the fused softmax_cross_entropy op (class-index targets, no weights)
# ------------------------------------------------------------------------------------------
@pytest.fixture
def always_fused(monkeypatch):
    monkeypatch.setattr(smt, "FUSED_CE_MIN_NUMEL", 0)  # small test inputs take the fused op too


@pytest.mark.parametrize("shape", [(6, 5), (5,), (3, 4, 2)])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_fused_cross_entropy_matches_torch(shape, smoothing, reduction, always_fused):
    x = rand(*shape, scale=3.0)
    cdim = 1 if len(shape) >= 2 else 0
    tshape = shape[:cdim] + shape[cdim + 1:]
    t = torch.randint(0, shape[cdim], tshape, generator=torch.Generator().manual_seed(1))
    if t.numel() > 1:
        t.view(-1)[1] = -100
    g = torch.tensor(0.7, dtype=f64) if reduction != "none" else rand(*tshape, seed=3, grad=False)
    kw = dict(reduction=reduction, label_smoothing=smoothing)
    l1, g1 = grads(lambda z: smt.cross_entropy(z, t, **kw), x, g)
    l2, g2 = grads(lambda z: F.cross_entropy(z, t, **kw), x, g)
    close(l1, l2)
    close(g1, g2)
    assert gradcheck(lambda z: smt.cross_entropy(z, t, **kw), (x,))


def _graph_names(loss):
    names, todo = set(), [loss.grad_fn]
    while todo:
        node = todo.pop()
        names.add(type(node).__name__)
        todo += [n for n, _ in node.next_functions if n is not None]
    return names


def test_fused_cross_entropy_is_used_and_half_precision(monkeypatch):
    x = rand(4, 6, dtype=torch.float32)
    t = torch.tensor([0, 5, 2, 1])
    assert any("NllLoss" in n for n in _graph_names(smt.cross_entropy(x, t)))  # small: log_softmax route
    big = rand(1024, 256, dtype=torch.float32, grad=True)
    assert "softmax_cross_entropy_functionBackward" in _graph_names(
        smt.cross_entropy(big, torch.zeros(1024, dtype=torch.int64)))
    monkeypatch.setattr(smt, "FUSED_CE_MIN_NUMEL", 0)
    names = _graph_names(smt.cross_entropy(x, t))
    assert "softmax_cross_entropy_functionBackward" in names and not any("NllLoss" in n for n in names)
    assert any("NllLoss" in n for n in _graph_names(smt.cross_entropy(x, t, weight=torch.ones(6))))
    for dt in (torch.float16, torch.bfloat16):
        xh = x.detach().to(dt).requires_grad_()
        l1, g1 = grads(lambda z: smt.cross_entropy(z, t), xh, torch.tensor(1.0, dtype=dt))
        l2, g2 = grads(lambda z: F.cross_entropy(z.float(), t).to(dt), xh, torch.tensor(1.0, dtype=dt))
        assert l1.dtype == dt and g1.dtype == dt
        close(l1, l2)
        close(g1, g2)
    with pytest.raises(IndexError, match="^target"):
        smt.cross_entropy(x, torch.tensor([0, 6, 2, 1]))
    assert torch.isnan(smt.cross_entropy(x, torch.full((4,), -100)))


# ------------------------------------------------------------------------------------------
# torch.compile, torch.func, the StableMax training example
# ------------------------------------------------------------------------------------------
def test_compile_fullgraph_new_ops():
    torch._dynamo.reset()

    def f(x, t):
        return (smt.sparsemax(x, 0).square().sum() + smt.stablemax(x).square().sum() + smt.log_stablemax(x, 0).sum()
                + smt.stablemax_cross_entropy(x, t) + smt.cross_entropy(x, t, label_smoothing=0.1)
                + smt.softmax_topk(x, 2).values.square().sum())

    x = rand(4, 6, scale=2.0)
    t = torch.tensor([0, 5, 2, 1])
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    y1 = compiled(x, t)
    (g1,) = torch.autograd.grad(y1, x)
    y2 = f(x, t)
    (g2,) = torch.autograd.grad(y2, x)
    close(y1, y2)
    close(g1, g2)


@pytest.mark.parametrize("reduction", [0, 1, 2])
@pytest.mark.parametrize("name", ["softmax_cross_entropy", "stablemax_cross_entropy"])
def test_cross_entropy_ops_vmap_rules(name, reduction, recwarn):
    from torch.func import grad, vmap
    op = smt.ops()[name]  # the Op: under torch.func it takes the route with setup_context
    eps = (0.1,) if name == "softmax_cross_entropy" else ()
    x = rand(4, 3, 5, grad=False, scale=2.0)
    t = torch.randint(0, 5, (4, 3), generator=torch.Generator().manual_seed(60))
    t[1, :] = -100  # a sample with every row ignored: "mean" is NaN, as the kernel gives
    t[2, 0] = -100

    def loss(z, tt, dim=-1):
        return op(z, tt, dim, -100, reduction, *eps)

    def loop(f, n):
        return torch.stack([f(i) for i in range(n)])

    close(vmap(loss)(x, t), loop(lambda i: loss(x[i], t[i]), 4), equal_nan=True)
    close(vmap(lambda z: loss(z, t[:, 0]), in_dims=1)(x), loop(lambda i: loss(x[:, i], t[:, 0]), 3))
    close(vmap(lambda z, tt: loss(z.T, tt, 0))(x, t), loop(lambda i: loss(x[i].T, t[i], 0), 4), equal_nan=True)
    close(vmap(loss)(x.float(), t), loop(lambda i: loss(x[i].float(), t[i]), 4), equal_nan=True)
    if reduction:
        tt = t.clamp(min=0)
        close(vmap(grad(loss))(x, tt), loop(lambda i: torch.func.grad(loss)(x[i], tt[i]), 4))
    assert not [m for m in recwarn if name in str(m.message)]  # the rule, no per-sample loop


@pytest.mark.parametrize("log", [False, True])
def test_softmax_topk_vmap_rule(log, recwarn):
    from torch.func import grad, vmap
    x = rand(4, 3, 6, grad=False, scale=2.0)
    for f, in_dims, n in ((lambda z: smt.softmax_topk(z, 2, log=log), 0, 4),
                          (lambda z: smt.softmax_topk(z, 2, 0, log=log), 1, 3),
                          (lambda z: smt.softmax_topk(z, 1, log=log), 0, 4)):
        v, i = vmap(f, in_dims=in_dims)(x)
        ref = [f(x.select(in_dims, b)) for b in range(n)]
        close(v, torch.stack([r.values for r in ref]))
        assert torch.equal(i, torch.stack([r.indices for r in ref]))
    v0, i0 = vmap(lambda z: smt.softmax_topk(z, 1, log=log))(x[:, 0, 0])  # 0-d samples
    assert v0.shape == i0.shape == (4,) and (i0 == 0).all()
    gv = vmap(grad(lambda z: smt.softmax_topk(z, 3, log=log).values.sum()))(x[:, 0])
    close(gv, torch.stack([torch.func.grad(lambda z: smt.softmax_topk(z, 3, log=log).values.sum())(x[b, 0])
                           for b in range(4)]))
    assert not [m for m in recwarn if "softmax_topk" in str(m.message)]


def test_torch_func_new_ops(recwarn):
    from torch.func import grad, jacrev, vmap
    x = rand(4, 3, 5, grad=False, scale=2.0)
    close(vmap(lambda r: smt.stablemax(r, 0), in_dims=1)(x), smt.stablemax(x.movedim(1, 0), 1))
    close(vmap(lambda r: smt.sparsemax(r))(x), smt.sparsemax(x))
    gy = torch.arange(5, dtype=f64)
    close(vmap(grad(lambda r: (smt.sparsemax(r) * gy).sum()))(x[:, 0]),
          torch.func.grad(lambda r: (smt.sparsemax(r) * gy).sum())(x[:, 0]))
    close(vmap(vmap(lambda r: smt.log_stablemax(r, 0)))(x), smt.log_stablemax(x, 2))
    assert not [w for w in recwarn if "batching rule" in str(w.message)]
    r = x[0, 0]
    jac = jacrev(lambda q: smt.stablemax(q))(r)
    close(jac, torch.func.jacrev(lambda q: ref_stablemax(q, 0))(r))
    gs = grad(lambda q: smt.sparsemax(q)[1])(r)  # entmax's Function lacks setup_context: the formula
    sup = (smt.sparsemax(r) > 0).to(f64)
    e1 = torch.zeros(5, dtype=f64)
    e1[1] = 1
    close(gs, sup * (e1 - (sup * e1).sum() / sup.sum()))
    t = torch.tensor([1, 0, 4])
    gce = grad(lambda q: smt.stablemax_cross_entropy(q, t))(x[0])
    close(gce, torch.func.grad(lambda q: ref_stablemax_ce(q, t))(x[0]))


def test_train_stablemax_example_runs():
    sys.path.insert(0, os.path.join(ROOT, "bench"))
    try:
        import train_stablemax_example
    finally:
        sys.path.pop(0)
    losses, _ = train_stablemax_example.train(steps=40)
    ref, _ = train_stablemax_example.train(steps=40, loss_fn=lambda z, t: ref_stablemax_ce(z, t).float())
    assert losses[-1] < 0.5 * losses[0]
    np.testing.assert_allclose(losses, ref, rtol=1e-4)  # step for step against the torch-composed loss


# ------------------------------------------------------------------------------------------
# kde_logpdf: gradient with respect to the queries
# ------------------------------------------------------------------------------------------
def test_kde_logpdf_grad_matches_reference_and_gradcheck():
    X = rand(12, 3, seed=7, grad=False)
    Y = rand(5, 3, seed=8, scale=1.5)
    w = torch.rand(12, dtype=f64, generator=torch.Generator().manual_seed(9)) + 0.1
    g = rand(5, seed=10, grad=False)
    for weights in (None, w):
        y1, g1 = grads(lambda q: smt.kde_logpdf(q, X, 0.6, weights=weights), Y, g)
        y2, g2 = grads(lambda q: ref_kde_logpdf(q, X, 0.6, weights), Y, g)
        close(y1, y2)
        close(g1, g2)
    assert gradcheck(lambda q: smt.kde_logpdf(q, X, 0.6), (Y,))
    assert gradcheck(lambda q: smt.kde_logpdf(q, X, "scott", covariance="full", weights=w), (Y,))
    assert gradcheck(lambda q: smt.kde_logpdf(q, X, "silverman", covariance="diagonal"), (Y,))


def test_kde_logpdf_far_queries_chunks_and_errors(monkeypatch):
    from stablemath.torch import _kde
    X = rand(50, 2, seed=11, grad=False)
    Y = rand(7, 2, seed=12, scale=1.0).detach()
    Y[0] = torch.tensor([60.0, -40.0], dtype=f64)  # density underflows in linear space: log space keeps it
    Y.requires_grad_()
    monkeypatch.setattr(_kde, "_CHUNK_ELEMENTS", 100)  # 2 queries per chunk
    y1, g1 = grads(lambda q: smt.kde_logpdf(q, X, 0.5), Y, torch.ones(7, dtype=f64))
    y2, g2 = grads(lambda q: ref_kde_logpdf(q, X, 0.5), Y, torch.ones(7, dtype=f64))
    close(y1, y2)
    close(g1, g2)
    assert torch.isfinite(g1).all()
    with pytest.raises(NotImplementedError, match="^X:"):  # a fitted covariance: gradients in Y only
        smt.kde_logpdf(Y, X.clone().requires_grad_(), 0.5, covariance="diagonal")
    with pytest.raises(TypeError, match="^Y:"):
        smt.kde_logpdf(Y.detach().numpy(), X, 0.5)
    yf = Y.detach().float().requires_grad_()
    smt.kde_logpdf(yf, X.float(), 0.5).sum().backward()
    assert yf.grad.dtype == torch.float32
    close(yf.grad.double(), g1, rtol=1e-4, atol=1e-4)


# ------------------------------------------------------------------------------------------
# softmax_topk: values differentiable
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_topk_matches_torch_and_gradcheck(log, dim):
    x = rand(3, 6, 4, scale=2.0)
    ref_fn = torch.log_softmax if log else torch.softmax
    g = rand(*[2 if i == dim % 3 else s for i, s in enumerate(x.shape)], seed=6, grad=False)
    (v1, g1), (v2, g2) = (grads(lambda t: smt.softmax_topk(t, 2, dim, log=log).values, x, g),
                          grads(lambda t: torch.topk(ref_fn(t, dim), 2, dim).values, x, g))
    close(v1, v2)
    close(g1, g2)
    assert torch.equal(smt.softmax_topk(x, 2, dim, log=log).indices, torch.topk(ref_fn(x, dim), 2, dim).indices)
    assert gradcheck(lambda t: smt.softmax_topk(t, 2, dim, log=log).values, (x,))


def test_softmax_topk_edges():
    x0 = torch.tensor(1.5, dtype=f64, requires_grad=True)
    r = smt.softmax_topk(x0, 1)
    assert r.values.item() == 1.0 and r.indices.item() == 0 and not r.indices.requires_grad
    r.values.backward()
    assert x0.grad == 0
    x = rand(2, 5, scale=30.0)  # far tails: the normaliser comes from the top-1 entry, no underflow
    assert gradcheck(lambda t: smt.softmax_topk(t, 5, log=True).values, (x,))
    with pytest.raises(ValueError, match="^k:"):
        smt.softmax_topk(x, 6)
    with pytest.raises(TypeError, match="^k:"):
        smt.softmax_topk(x, 2.0)
    xh = rand(2, 5, dtype=torch.bfloat16)
    vh, gh = grads(lambda t: smt.softmax_topk(t, 3).values, xh, torch.ones(2, 3, dtype=torch.bfloat16))
    _, g64 = grads(lambda t: smt.softmax_topk(t, 3).values, xh.double(), torch.ones(2, 3, dtype=f64))
    assert gh.dtype == torch.bfloat16
    close(gh.double(), g64, rtol=2e-2, atol=2e-2)


# ------------------------------------------------------------------------------------------
# vMF normaliser: d/dkappa log C_d = -A_d
# ------------------------------------------------------------------------------------------
def test_vmf_normaliser_gradients():
    import scipy.special as sp
    d = torch.tensor([2.0, 3.0, 10.0, 40.0], dtype=f64)[:, None]
    k = torch.tensor([0.05, 1.0, 20.0, 500.0], dtype=f64)
    kg = k.expand(4, 4).clone().requires_grad_()
    smt.vmf_log_normalizer(d, kg).sum().backward()
    dn, kn = d.numpy(), kg.detach().numpy()
    a_ref = sp.ive(dn / 2, kn) / sp.ive(dn / 2 - 1, kn)  # A_d from SciPy (scaled Bessel, no overflow)
    np.testing.assert_allclose(kg.grad.numpy(), -a_ref, rtol=1e-10)
    assert gradcheck(lambda t: smt.vmf_log_normalizer(d, t), (kg,))
    assert gradcheck(lambda t: smt.vmf_mean_resultant(d, t), (kg,))
    z = torch.zeros(3, dtype=f64, requires_grad=True)
    dd = torch.tensor([2.0, 3.0, 7.0], dtype=f64)
    smt.vmf_mean_resultant(dd, z).sum().backward()
    close(z.grad, 1 / dd)                                  # A_d(k) ~ k/d near 0
    with pytest.raises(NotImplementedError, match="^d:"):
        smt.vmf_log_normalizer(dd.clone().requires_grad_(), z)
