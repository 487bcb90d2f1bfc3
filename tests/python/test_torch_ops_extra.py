"""stablemath.torch: kde_logpdf as a registered op, sparsemax_loss, logsumexp_topk, vmf_logpdf.

References are independent: torch formulas in float64, entmax's SparsemaxLoss, SciPy's vMF. Opcheck
samples for the new ops live in test_torch_ops.OPCHECK_SAMPLES (every registered op must have some).
"""
from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
import scipy.special  # noqa: E402
import scipy.stats  # noqa: E402
from torch.autograd import gradcheck  # noqa: E402

import stablemath.torch as smt  # noqa: E402
from torch_helpers import close, f64, grads, rand, ref_kde_logpdf  # noqa: E402


# ------------------------------------------------------------------------------------------
# kde_logpdf: the registered op (isotropic kernel, numeric bandwidth)
# ------------------------------------------------------------------------------------------
def test_kde_op_matches_reference_batched_weighted_and_gradcheck():
    X = rand(15, 3, seed=1, grad=False)
    w = torch.rand(15, dtype=f64, generator=torch.Generator().manual_seed(2)) + 0.1
    w[3] = 0.0  # a zero weight drops the point
    Y = rand(2, 4, 3, seed=3, scale=1.5)
    g = rand(2, 4, seed=4, grad=False)
    for weights in (None, w):
        y1, g1 = grads(lambda q: smt.kde_logpdf(q, X, 0.7, weights=weights), Y, g)
        y2, g2 = grads(lambda q: ref_kde_logpdf(q, X, 0.7, weights), Y, g)
        assert y1.shape == (2, 4)
        close(y1, y2)
        close(g1, g2)
    assert gradcheck(lambda q: smt.kde_logpdf(q, X, 0.7, weights=w), (Y,))
    assert gradcheck(lambda q: smt.kde_logpdf(q, X, 0.4), (rand(3, seed=5),))  # one query: a 0-d result
    # the numeric-bandwidth isotropic case goes through the registered op
    r = smt.kde_logpdf(Y.detach(), X, 0.7)
    close(r, torch.ops.stablemath.kde_logpdf(Y.detach(), X, torch.tensor(0.7, dtype=f64), None))


def test_kde_op_float32_far_queries_and_chunks(monkeypatch):
    from stablemath.torch import _kde
    monkeypatch.setattr(_kde, "_CHUNK_ELEMENTS", 40)  # 2 queries per chunk of the backward
    X = rand(20, 2, seed=6, grad=False)
    Y = rand(5, 2, seed=7).detach()
    Y[0] = torch.tensor([50.0, -30.0], dtype=f64)  # the density underflows in linear space
    y1, g1 = grads(lambda q: smt.kde_logpdf(q, X, 0.5), Y, torch.ones(5, dtype=f64))
    y2, g2 = grads(lambda q: ref_kde_logpdf(q, X, 0.5), Y, torch.ones(5, dtype=f64))
    close(y1, y2)
    close(g1, g2)
    yf = Y.float().requires_grad_()
    out = smt.kde_logpdf(yf, X.float(), 0.5)
    out.sum().backward()
    assert out.dtype == yf.grad.dtype == torch.float32
    close(out.double(), y2, rtol=1e-5, atol=1e-4)
    close(yf.grad.double(), g2, rtol=1e-4, atol=1e-4)


def test_kde_op_errors():
    X = rand(6, 2, seed=8, grad=False)
    Y = rand(3, 2, seed=9)
    with pytest.raises(NotImplementedError, match="^X:"):  # the fitted routes: gradients in Y only
        smt.kde_logpdf(Y, X.clone().requires_grad_(), "cv")
    with pytest.raises(NotImplementedError, match="^weights:"):
        smt.kde_logpdf(Y, X, 0.5, weights=torch.ones(6, dtype=f64, requires_grad=True), covariance="full")
    with pytest.raises(ValueError, match="^bandwidth:"):
        smt.kde_logpdf(Y, X, torch.tensor(0.0, dtype=f64))  # a tensor's value is checked by the kernel
    with pytest.raises(ValueError, match="^bandwidth:"):
        smt.kde_logpdf(Y, X, torch.ones(2, dtype=f64))
    with pytest.raises(TypeError, match="^bandwidth:"):
        smt.kde_logpdf(Y, X, torch.tensor(1))
    with pytest.raises(ValueError, match="^bandwidth:"):
        smt.kde_logpdf(Y, torch.ones(4, 2, dtype=f64), "scott")  # no spread
    with pytest.raises(ValueError, match="^Y:"):
        smt.kde_logpdf(rand(3, 4), X, 0.5)
    with pytest.raises(ValueError, match="^bandwidth:"):
        smt.kde_logpdf(Y, X, -1.0)
    with pytest.raises(ValueError, match="^weights:"):
        smt.kde_logpdf(Y, X, 0.5, weights=torch.ones(5, dtype=f64))
    with pytest.raises(TypeError, match="^Y:"):
        smt.kde_logpdf(rand(3, 2).long(), X, 0.5)


def test_kde_op_compiles_fullgraph():
    torch._dynamo.reset()
    X = rand(10, 3, seed=10, grad=False)
    w = torch.rand(10, dtype=f64, generator=torch.Generator().manual_seed(11)) + 0.1

    def f(Y):
        return smt.kde_logpdf(Y * 2.0, X, 0.8, weights=w).sum() + smt.kde_logpdf(Y, X, 1.3).square().sum()

    Y = rand(4, 3, seed=12)
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    y1 = compiled(Y)
    (g1,) = torch.autograd.grad(y1, Y)
    y2 = f(Y)
    (g2,) = torch.autograd.grad(y2, Y)
    close(y1, y2)
    close(g1, g2)


def _kde_inputs():
    X = rand(12, 3, seed=40)
    Y = rand(2, 5, 3, seed=41, scale=1.5)
    w = (torch.rand(12, dtype=f64, generator=torch.Generator().manual_seed(42)) + 0.1).requires_grad_()
    h = torch.tensor(0.6, dtype=f64, requires_grad=True)
    return Y, X, h, w


@pytest.mark.parametrize("chunk", [1 << 22, 24])  # 24: two queries per block of the backward
def test_kde_grads_in_data_weights_and_bandwidth(chunk, monkeypatch):
    from stablemath.torch import _kde
    monkeypatch.setattr(_kde, "_CHUNK_ELEMENTS", chunk)
    Y, X, h, w = _kde_inputs()
    g = rand(2, 5, seed=43, grad=False)
    for weights in (None, w):
        inputs = (Y, X, h) if weights is None else (Y, X, h, weights)
        ours = torch.autograd.grad((smt.kde_logpdf(Y, X, h, weights=weights) * g).sum(), inputs)
        ref = torch.autograd.grad((ref_kde_logpdf(Y, X, h, weights) * g).sum(), inputs)
        for a, b in zip(ours, ref):
            close(a, b)
    assert gradcheck(lambda *a: smt.kde_logpdf(*a[:3], weights=a[3]), (Y, X, h, w))
    assert gradcheck(lambda x, hh: smt.kde_logpdf(Y[0, 0].detach(), x, hh), (X, h))  # one query, 0-d result
    # float32 data: gradients in the inputs' dtypes
    Xf, hf = X.detach().float().requires_grad_(), h.detach().float().requires_grad_()
    smt.kde_logpdf(Y.detach().float(), Xf, hf).sum().backward()
    assert Xf.grad.dtype == hf.grad.dtype == torch.float32
    gx, gh = torch.autograd.grad(ref_kde_logpdf(Y.detach(), X, h).sum(), (X, h))
    close(Xf.grad.double(), gx, rtol=1e-4, atol=1e-4)
    close(hf.grad.double(), gh, rtol=1e-4, atol=1e-4)


def test_kde_weight_grad_at_zero_weight():
    # d/dw_j = sum_i g_i (K_ij / sum_k w_k K_ik - 1 / sum_k w_k): finite at w_j = 0, where the
    # reference's log(w_j) = -inf cannot be differentiated; compare with w_j = 1e-300 instead
    Y, X, h, w = _kde_inputs()
    w0 = w.detach().clone()
    w0[3] = 0.0
    w0.requires_grad_()
    (gw,) = torch.autograd.grad(smt.kde_logpdf(Y, X, h, weights=w0).sum(), w0)
    wt = w0.detach().clone()
    wt[3] = 1e-300
    wt.requires_grad_()
    (gr,) = torch.autograd.grad(ref_kde_logpdf(Y.detach(), X.detach(), h.detach(), wt).sum(), wt)
    assert torch.isfinite(gw).all()
    close(gw, gr)


@pytest.mark.parametrize("rule", ["scott", "silverman"])
def test_kde_rule_bandwidths_are_torch_ops(rule):
    import stablemath
    Y, X, _, w = _kde_inputs()
    est = stablemath.GaussianKDE(rule).fit(X.detach(), sample_weight=w.detach())
    ours = smt.kde_logpdf(Y, X, rule, weights=w)
    close(ours.detach(), ref_kde_logpdf(Y.detach(), X.detach(), est.bandwidth_, w.detach()))
    # the rule's bandwidth depends on X and the weights: its gradient passes on to them
    assert gradcheck(lambda y, x, ww: smt.kde_logpdf(y, x, rule, weights=ww), (Y, X, w))
    torch._dynamo.reset()
    f = torch.compile(lambda y, x, ww: smt.kde_logpdf(y, x, rule, weights=ww).sum(), fullgraph=True,
                      backend="aot_eager")
    y1 = f(Y, X, w)
    close(y1, ours.sum())
    for a, b in zip(torch.autograd.grad(y1, (Y, X, w)), torch.autograd.grad(ours.sum(), (Y, X, w))):
        close(a, b)


def test_kde_tensor_bandwidth_compiles_and_fitted_routes_raise_under_compile():
    Y, X, h, w = _kde_inputs()

    def f(y, x, hh, ww):
        return smt.kde_logpdf(y, x, hh, weights=ww).square().sum()

    torch._dynamo.reset()
    y1 = torch.compile(f, fullgraph=True, backend="aot_eager")(Y, X, h, w)
    y2 = f(Y, X, h, w)
    close(y1, y2)
    for a, b in zip(torch.autograd.grad(y1, (Y, X, h, w)), torch.autograd.grad(y2, (Y, X, h, w))):
        close(a, b)
    for kw in (dict(bandwidth="cv"), dict(bandwidth=0.5, covariance="full")):
        torch._dynamo.reset()
        g = torch.compile(lambda y: smt.kde_logpdf(y, X.detach(), **kw), fullgraph=True, backend="aot_eager")
        with pytest.raises(RuntimeError, match="torch.compile cannot trace"):
            g(Y.detach())


def test_kde_vmap_rule(recwarn):
    from torch.func import grad, vmap
    Y, X, h, w = (t.detach() for t in _kde_inputs())
    # batched queries: one call of the op
    close(vmap(lambda y: smt.kde_logpdf(y, X, h, weights=w))(Y), smt.kde_logpdf(Y, X, h, weights=w))
    close(vmap(lambda y: smt.kde_logpdf(y, X, 0.6), in_dims=1, out_dims=1)(Y), smt.kde_logpdf(Y, X, 0.6))
    # batched data, bandwidths and weights: one density per sample, as a loop
    Xs = torch.stack([X, X * 1.5, X + 1])
    hs = torch.tensor([0.5, 0.7, 0.9], dtype=f64)
    ws = torch.stack([w, w.flip(0), torch.ones_like(w)])
    out = vmap(lambda x, hh, ww: smt.kde_logpdf(Y, x, hh, weights=ww))(Xs, hs, ws)
    close(out, torch.stack([smt.kde_logpdf(Y, Xs[i], hs[i], weights=ws[i]) for i in range(3)]))
    gb = vmap(grad(lambda hh, x: smt.kde_logpdf(Y, x, hh).sum()))(hs, Xs)
    close(gb, torch.stack([torch.func.grad(lambda hh: ref_kde_logpdf(Y, Xs[i], hh).sum())(hs[i]) for i in range(3)]))
    assert not [m for m in recwarn if "kde_logpdf" in str(m.message)]  # no per-sample fallback


# ------------------------------------------------------------------------------------------
# sparsemax_loss
# ------------------------------------------------------------------------------------------
def ref_sparsemax_loss(x, t, dim):
    from entmax import sparsemax
    z = x.movedim(dim, -1)
    p = sparsemax(z, dim=-1)
    zy = z.gather(-1, t.unsqueeze(-1)).squeeze(-1)
    return (1 - (p * p).sum(-1)) / 2 + (p * z).sum(-1) - zy


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sparsemax_loss_matches_entmax(reduction):
    from entmax.losses import SparsemaxLoss
    x = rand(7, 5, seed=13, scale=2.0)
    t = torch.tensor([0, 4, 2, 2, 1, 3, 0])
    g = rand(7, seed=14, grad=False) if reduction == "none" else torch.tensor(1.7, dtype=f64)
    ent = SparsemaxLoss(reduction={"mean": "elementwise_mean"}.get(reduction, reduction))
    y1, g1 = grads(lambda z: smt.sparsemax_loss(z, t, reduction=reduction), x, g)
    y2, g2 = grads(lambda z: ent(z, t), x, g)
    close(y1, y2)
    close(g1, g2)
    # the gradient is p - e_y, scaled by the reduction
    from entmax import sparsemax
    p = sparsemax(x.detach(), dim=-1)
    scale = g[:, None] if reduction == "none" else g / (7 if reduction == "mean" else 1)
    close(g1, (p - torch.nn.functional.one_hot(t, 5).to(f64)) * scale)


def test_sparsemax_loss_dims_gradcheck_and_dtypes():
    x = rand(3, 4, 2, seed=15, scale=1.5)
    t = torch.tensor([[0, 3], [2, 2], [1, 0]])
    assert gradcheck(lambda z: smt.sparsemax_loss(z, t, dim=1, reduction="none"), (x,))
    assert gradcheck(lambda z: smt.sparsemax_loss(z, t, dim=1), (x,))
    close(smt.sparsemax_loss(x, t, dim=1, reduction="none"), ref_sparsemax_loss(x, t, 1))
    x0 = rand(4, 3, seed=16)
    t0 = torch.tensor([1, 0, 3])
    close(smt.sparsemax_loss(x0, t0, dim=0, reduction="sum"), ref_sparsemax_loss(x0, t0, 0).sum())
    for dt, tol in ((torch.float32, 1e-5), (torch.bfloat16, 2e-2)):
        xl = x.detach().to(dt).requires_grad_()
        out = smt.sparsemax_loss(xl, t, dim=1)
        out.backward()
        assert out.dtype == xl.grad.dtype == dt
        close(out.double(), ref_sparsemax_loss(x.detach(), t, 1).mean(), rtol=tol, atol=tol)
    with pytest.raises(TypeError, match="^target:"):
        smt.sparsemax_loss(x0, t0.double(), dim=0)
    with pytest.raises(ValueError, match="^target:"):
        smt.sparsemax_loss(x0, t0[:2], dim=0)
    with pytest.raises(ValueError, match="^target:"):
        smt.sparsemax_loss(x0, torch.tensor([1, 0, 4]), dim=0)
    with pytest.raises(ValueError, match="^reduction:"):
        smt.sparsemax_loss(x0, t0, dim=0, reduction="batchmean")
    with pytest.raises(ValueError, match="^x:"):
        smt.sparsemax_loss(rand(3, 0), torch.zeros(3, dtype=torch.int64))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_sparsemax_loss_vmap_rule(reduction, recwarn):
    from torch.func import grad, vmap
    x = rand(4, 3, 5, seed=50, grad=False, scale=2.0)
    t = torch.randint(0, 5, (4, 3), generator=torch.Generator().manual_seed(51))
    loss = lambda z, tt, dim=-1: smt.sparsemax_loss(z, tt, dim, reduction=reduction)  # noqa: E731
    close(vmap(loss)(x, t), torch.stack([loss(x[i], t[i]) for i in range(4)]))
    close(vmap(lambda z: loss(z, t[:, 0]), in_dims=1)(x), torch.stack([loss(x[:, i], t[:, 0]) for i in range(3)]))
    close(vmap(lambda z, tt: loss(z.T, tt, 0))(x, t), torch.stack([loss(x[i].T, t[i], 0) for i in range(4)]))
    close(vmap(loss)(x[:, 0], t[:, 0]), torch.stack([loss(x[i, 0], t[i, 0]) for i in range(4)]))  # one row each
    if reduction != "none":
        close(vmap(grad(loss))(x, t), torch.stack([torch.func.grad(loss)(x[i], t[i]) for i in range(4)]))
    xf = x.float()
    close(vmap(loss)(xf, t), torch.stack([loss(xf[i], t[i]) for i in range(4)]))
    assert not [m for m in recwarn if "sparsemax_loss" in str(m.message)]  # the rule, no per-sample loop


# ------------------------------------------------------------------------------------------
# logsumexp_topk
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_logsumexp_topk_matches_torch_and_gradcheck(dim):
    x = rand(4, 6, 3, seed=17, scale=2.0)
    gv = rand(*[2 if i == dim % 3 else s for i, s in enumerate((4, 6, 3))], seed=18, grad=False)
    gl = rand(*[s for i, s in enumerate((4, 6, 3)) if i != dim % 3], seed=19, grad=False)

    def ours(z):
        r = smt.logsumexp_topk(z, 2, dim)
        return r.values, r.indices, r.logsumexp

    def ref(z):
        v, i = torch.topk(z, 2, dim)
        return v, i, torch.logsumexp(z, dim)

    x1, x2 = x.detach().clone().requires_grad_(), x.detach().clone().requires_grad_()
    (v1, i1, l1), (v2, i2, l2) = ours(x1), ref(x2)
    close(v1, v2)
    assert torch.equal(i1, i2)
    close(l1, l2)
    ((v1 * gv).sum() + (l1 * gl).sum()).backward()
    ((v2 * gv).sum() + (l2 * gl).sum()).backward()
    close(x1.grad, x2.grad)
    assert not i1.requires_grad
    assert gradcheck(lambda z: ours(z)[0::2], (x,))


def test_logsumexp_topk_edges():
    x = torch.tensor([[-torch.inf, -torch.inf, -torch.inf], [0.5, -torch.inf, 2.0]], dtype=f64, requires_grad=True)
    r = smt.logsumexp_topk(x, 1)
    (r.logsumexp.sum() + r.values.sum()).backward()
    assert torch.isneginf(r.logsumexp[0])
    close(x.grad[0], torch.tensor([1.0, 0.0, 0.0], dtype=f64))  # values' gradient only; no NaN
    close(x.grad[1], torch.softmax(x.detach()[1], 0) + torch.tensor([0.0, 0.0, 1.0], dtype=f64))
    s = torch.tensor(1.5, dtype=f64, requires_grad=True)  # 0-d: one row of one element
    v, i, lse = smt.logsumexp_topk(s, 1)
    assert v.shape == i.shape == lse.shape == ()
    (v + 2 * lse).backward()
    close(s.grad, torch.tensor(3.0, dtype=f64))
    xh = rand(3, 5, dtype=torch.bfloat16, seed=20)
    v, i, lse = smt.logsumexp_topk(xh, 3)
    (v.float().sum() + lse.float().sum()).backward()
    assert v.dtype == lse.dtype == xh.grad.dtype == torch.bfloat16
    with pytest.raises(ValueError, match="^k:"):
        smt.logsumexp_topk(x, 4)
    with pytest.raises(TypeError, match="^x:"):
        smt.logsumexp_topk(np.zeros(3), 1)


# ------------------------------------------------------------------------------------------
# vmf_logpdf
# ------------------------------------------------------------------------------------------
def unit(*shape, seed):
    t = rand(*shape, seed=seed, grad=False)
    return t / t.norm(dim=-1, keepdim=True)


def vmf_a(d, k):  # A_d(kappa) = I_{d/2}/I_{d/2-1}, SciPy
    return scipy.special.ive(d / 2, k) / scipy.special.ive(d / 2 - 1, k)


def test_vmf_logpdf_matches_scipy_and_gradients():
    d = 4
    x, mu = unit(6, d, seed=21), unit(d, seed=22)
    kappa = torch.tensor([0.5, 3.0, 20.0, 100.0, 1e-3, 7.0], dtype=f64)
    ref = np.array([scipy.stats.vonmises_fisher(mu.numpy(), k).logpdf(xi.numpy()) for xi, k in zip(x, kappa.numpy())])
    xr, mr, kr = (t.clone().requires_grad_() for t in (x, mu, kappa))
    out = smt.vmf_logpdf(xr, mr, kr)
    close(out.detach(), torch.from_numpy(ref), rtol=1e-10, atol=1e-10)
    out.sum().backward()
    dot = x @ mu
    close(kr.grad, dot - torch.from_numpy(vmf_a(d, kappa.numpy())), rtol=1e-9, atol=1e-12)
    close(xr.grad, kappa[:, None] * (mu - x))
    close(mr.grad, (kappa[:, None] * (x - mu)).sum(0))
    # the tangential parts equal those of kappa mu.x (the gradient of the textbook formula)
    tang = xr.grad - (xr.grad * x).sum(-1, keepdim=True) * x
    close(tang, kappa[:, None] * (mu - dot[:, None] * x))
    assert gradcheck(lambda a, b, c: smt.vmf_logpdf(a, b, c, check=False),
                     (x.clone().requires_grad_(), mu.clone().requires_grad_(), kappa.clone().requires_grad_()))


def test_vmf_logpdf_large_kappa_inf_and_errors():
    d = 3
    mu = unit(d, seed=23)
    # near the mode at huge kappa: log C + kappa - kappa ||x - mu||^2 / 2 keeps the digits
    k = torch.tensor(1e12, dtype=f64)
    out = smt.vmf_logpdf(mu[None], mu, k)
    expected = np.log(1e12 / (2 * np.pi))  # d = 3: log C + kappa = log(kappa / (2 pi (1 - e^{-2 kappa})))
    close(out, torch.tensor([expected], dtype=f64), rtol=1e-12, atol=0)
    x = unit(2, d, seed=24)
    out = smt.vmf_logpdf(torch.stack([mu, x[0]]), mu, torch.tensor(torch.inf, dtype=f64))
    assert out[0] == torch.inf and out[1] == -torch.inf
    o32 = smt.vmf_logpdf(x.float(), mu.float(), 2.0)
    assert o32.dtype == torch.float32
    assert smt.vmf_logpdf(x.float(), mu, 2.0).dtype == f64
    with pytest.raises(ValueError, match="^x:"):
        smt.vmf_logpdf(x * 1.1, mu, 1.0)
    with pytest.raises(ValueError, match="^mu:"):
        smt.vmf_logpdf(x, mu[:2], 1.0)
    with pytest.raises(ValueError, match="^kappa:"):
        smt.vmf_logpdf(x, mu, -1.0)
    with pytest.raises(ValueError, match="^kappa:"):
        smt.vmf_logpdf(x, mu, torch.ones(3, dtype=f64))
    with pytest.raises(TypeError, match="^x:"):
        smt.vmf_logpdf(x.numpy(), mu, 1.0)


def test_vmf_logpdf_and_new_ops_compile_fullgraph():
    torch._dynamo.reset()
    mu = unit(5, seed=25)
    t = torch.tensor([1, 0, 2])

    def f(x, kappa):
        u = x / x.norm(dim=-1, keepdim=True)
        return (smt.vmf_logpdf(u, mu, kappa).sum() + smt.sparsemax_loss(x, t)
                + smt.logsumexp_topk(x, 2).logsumexp.sum())

    x = rand(3, 5, seed=26)
    kappa = torch.tensor([1.0, 4.0, 9.0], dtype=f64, requires_grad=True)
    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    y1 = compiled(x, kappa)
    g1 = torch.autograd.grad(y1, (x, kappa))
    y2 = f(x, kappa)
    g2 = torch.autograd.grad(y2, (x, kappa))
    close(y1, y2)
    close(g1, g2)


def test_torch_func_on_new_ops(recwarn):
    from torch.func import grad, vmap
    X = rand(8, 3, seed=27, grad=False)
    Y = rand(4, 3, seed=28, grad=False)
    g1 = grad(lambda q: smt.kde_logpdf(q, X, 0.9).sum())(Y)
    Yr = Y.clone().requires_grad_()
    (g2,) = torch.autograd.grad(ref_kde_logpdf(Yr, X, 0.9).sum(), Yr)
    close(g1, g2)
    x = rand(3, 5, seed=29, grad=False, scale=2.0)
    t = torch.tensor([4, 0, 2])
    xr = x.clone().requires_grad_()
    (gr,) = torch.autograd.grad(smt.sparsemax_loss(xr, t, reduction="sum") + smt.logsumexp_topk(xr, 2).values.sum(), xr)
    close(grad(lambda z: smt.sparsemax_loss(z, t, reduction="sum") + smt.logsumexp_topk(z, 2).values.sum())(x), gr)
    # vmap over rows equals the batched call (per-sample fallback where an op has no vmap rule)
    close(vmap(lambda r: smt.logsumexp_topk(r, 2).logsumexp)(x), torch.logsumexp(x, 1))
    vb = vmap(lambda r: smt.logsumexp_topk(r, 2, 0).values, in_dims=1, out_dims=1)(x)  # the op's vmap rule
    close(vb, torch.topk(x, 2, 0).values)
    close(vmap(lambda s: smt.logsumexp_topk(s, 1).logsumexp)(x[0]), x[0])  # 0-d rows
    assert not [w for w in recwarn if "logsumexp_topk" in str(w.message)]  # no per-sample fallback
    mu = unit(5, seed=30)
    u = unit(3, 5, seed=31)
    close(vmap(lambda r: smt.vmf_logpdf(r, mu, 2.0, check=False))(u), smt.vmf_logpdf(u, mu, 2.0))


def test_vmf_ops_vmap_against_a_loop(recwarn):
    from torch.func import grad, vmap
    d = torch.tensor([2.0, 3.0, 10.0], dtype=f64)
    k = torch.tensor([[0.5, 4.0, 30.0], [1e-3, 2.0, 700.0]], dtype=f64)
    for fn in (smt.vmf_log_normalizer, smt.vmf_mean_resultant):
        close(vmap(lambda kk: fn(d, kk))(k), torch.stack([fn(d, k[i]) for i in range(2)]))
        close(vmap(lambda dd: fn(dd, k), in_dims=0)(d), torch.stack([fn(d[i], k) for i in range(3)]))
        close(vmap(grad(lambda kk: fn(d, kk).sum()))(k), torch.stack([torch.func.grad(lambda kk: fn(d, kk).sum())(k[i])
                                                                     for i in range(2)]))
    scaled = torch.ops.stablemath.vmf_log_normalizer_scaled
    close(vmap(lambda kk: scaled(d, kk))(k), torch.stack([scaled(d, k[i]) for i in range(2)]))
    mu, u = unit(4, seed=52), unit(3, 6, 4, seed=53)
    kappa = torch.tensor([0.5, 3.0, 20.0], dtype=f64)
    close(vmap(lambda x, kk: smt.vmf_logpdf(x, mu, kk, check=False))(u, kappa),
          torch.stack([smt.vmf_logpdf(u[i], mu, kappa[i]) for i in range(3)]))
    mus = unit(3, 4, seed=54)
    close(vmap(lambda m: smt.vmf_logpdf(u[0], m, 2.0, check=False))(mus),
          torch.stack([smt.vmf_logpdf(u[0], mus[i], 2.0) for i in range(3)]))
    assert not [m for m in recwarn if "batching rule" in str(m.message)]
