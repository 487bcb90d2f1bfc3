"""stablemath.sparsemax / sparsemax_loss / sparsemax_backward.

References (never stablemath): the KKT conditions of the projection checked in float64, a NumPy
float64 sort-based sparsemax written out below, entmax.sparsemax (torch) and torch autograd.

Bounds checked (float64 unless said; eps = 2^-52, d = x - max(x), S the support):
* KKT: p >= 0; |sum p - 1| <= 4 eps (|S| + 2); with tau = mean_S(d - p):
  |d_i - p_i - tau| <= 16 eps on S and d_i <= tau + 16 eps off S; entries off S are exactly 0.0.
* entmax / NumPy reference: |p - p_ref| <= 1e-12 (float64) on rows with scale 0.1..10.
* float32: |p - p_ref| <= 8 * 2^-23; float16 / bfloat16: within 2 ulp of the output dtype at 1
  (rounding of the result, float32 computation) of the reference on the widened input.
* The three algorithms give the same zeros and agree to 4 eps.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from entmax import sparsemax as entmax_sparsemax
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import stablemath

try:
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError

ALGOS = ["sort", "pivot", "bisect", "auto"]
EPS64 = np.finfo(np.float64).eps


def ref_sparsemax(x, axis=-1):
    """Sort-based sparsemax in float64 (Martins & Astudillo, Alg. 1)."""
    z = np.moveaxis(np.asarray(x, dtype=np.float64), axis, -1)
    d = z - z.max(-1, keepdims=True)
    srt = -np.sort(-d, axis=-1)
    cs = np.cumsum(srt, axis=-1)
    k = np.arange(1, d.shape[-1] + 1)
    supp = (1 + k * srt > cs).sum(-1, keepdims=True)
    tau = (np.take_along_axis(cs, supp - 1, -1) - 1) / supp
    return np.moveaxis(np.maximum(d - tau, 0), -1, axis)


def check_kkt(x, p):
    """KKT of min ||p - x||^2 on the simplex, per row (float64)."""
    x = np.asarray(x, np.float64).reshape(-1, np.shape(x)[-1])
    p = np.asarray(p, np.float64).reshape(x.shape)
    for xr, pr in zip(x, p):
        d = xr - xr.max()
        s = pr > 0
        assert s.any() and (pr >= 0).all()
        assert abs(pr.sum() - 1) <= 4 * EPS64 * (s.sum() + 2)
        tau = np.mean(d[s] - pr[s])
        assert np.abs(d[s] - pr[s] - tau).max() <= 16 * EPS64
        if (~s).any():
            assert d[~s].max() <= tau + 16 * EPS64
            assert (pr[~s] == 0.0).all()  # exact zeros (also no -0.0 surprises: == compares)


@pytest.mark.parametrize("algo", ALGOS)
def test_kkt_lengths_and_magnitudes(algo):
    rng = np.random.default_rng(1)
    for n in [1, 2, 3, 7, 31, 32, 33, 100, 1000, 4099]:
        for scale in [1e-8, 1e-3, 0.3, 1.0, 10.0, 1e3, 1e8]:
            for offset in [0.0, -5.0, 1e6, -1e12]:
                x = rng.standard_normal((3, n)) * scale + offset
                check_kkt(x, stablemath.sparsemax(x, algorithm=algo))


@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 200)),
                  elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)))
def test_kkt_hypothesis(x):
    for algo in ("sort", "pivot", "bisect"):
        check_kkt(x, stablemath.sparsemax(x, algorithm=algo))


def test_algorithms_agree():
    rng = np.random.default_rng(2)
    cases = [rng.standard_normal((50, n)) * s for n in (5, 64, 1000, 3000) for s in (0.01, 1, 30)]
    cases += [np.round(rng.standard_normal((50, 200)) * 4) / 4,  # many ties
              np.sort(rng.standard_normal((10, 500)), axis=-1),  # ascending (worst case for filters)
              -np.sort(-rng.standard_normal((10, 500)), axis=-1)]
    for x in cases:
        ys = [stablemath.sparsemax(x, algorithm=a) for a in ALGOS]
        for y in ys[1:]:
            np.testing.assert_array_equal(y == 0, ys[0] == 0)
            np.testing.assert_allclose(y, ys[0], rtol=0, atol=4 * EPS64)


@pytest.mark.parametrize("algo", ALGOS)
def test_against_entmax_and_reference(algo):
    rng = np.random.default_rng(3)
    for n in [1, 2, 10, 128, 1000, 5000]:
        for scale in [0.1, 1.0, 10.0]:
            x = rng.standard_normal((16, n)) * scale
            y = stablemath.sparsemax(x, algorithm=algo)
            ref = entmax_sparsemax(torch.from_numpy(x), dim=-1).numpy()
            np.testing.assert_allclose(y, ref, rtol=0, atol=1e-12)
            np.testing.assert_allclose(y, ref_sparsemax(x), rtol=0, atol=1e-12)
            assert ((y == 0) == (ref_sparsemax(x) == 0)).mean() > 0.999


def test_long_rows_split_into_parts():
    # Rows longer than 65536 are split into parts that run on the pool: same answer, any threads.
    rng = np.random.default_rng(10)
    x = np.concatenate([rng.standard_normal((2, 150001)) * 0.05, rng.standard_normal((2, 150001)) * 3])
    x[1, 140000] = 0.5  # the maximum in the last part
    n = stablemath.get_num_threads()
    try:
        for algo in ALGOS:
            stablemath.set_num_threads(2)
            y = stablemath.sparsemax(x, algorithm=algo)
            check_kkt(x, y)
            np.testing.assert_allclose(y, ref_sparsemax(x), rtol=0, atol=1e-12)
            np.testing.assert_array_equal(stablemath.sparsemax(x[:1], algorithm=algo), y[:1])  # 1 row: split
            stablemath.set_num_threads(1)
            np.testing.assert_array_equal(stablemath.sparsemax(x, algorithm=algo), y)
    finally:
        stablemath.set_num_threads(n)
    z = x[:1].copy()
    z[0, 100000] = np.nan
    assert np.isnan(stablemath.sparsemax(z)).all()
    z[0, 100000] = np.inf
    y = stablemath.sparsemax(z)
    assert y[0, 100000] == 1.0 and y.sum() == 1.0


def test_ties():
    for n in [1, 2, 5, 33, 1000]:
        for v in [0.0, -3.5, 1e8, 1e300]:
            np.testing.assert_allclose(stablemath.sparsemax(np.full(n, v)), np.full(n, 1 / n), rtol=4 * EPS64)
    for k in [1, 2, 3, 17]:
        x = np.zeros(100)
        x[np.arange(k) * 5] = 10.0  # k equal maxima far above the rest
        for algo in ALGOS:
            y = stablemath.sparsemax(x, algorithm=algo)
            np.testing.assert_allclose(y[np.arange(k) * 5], 1 / k, rtol=4 * EPS64)
            assert y.sum() == pytest.approx(1, abs=1e-15) and (np.delete(y, np.arange(k) * 5) == 0).all()
    # Ties exactly at the threshold get 0: [0, -1] -> tau = -1
    np.testing.assert_array_equal(stablemath.sparsemax([0.0, -1.0, -1.0]), [1.0, 0.0, 0.0])
    np.testing.assert_allclose(stablemath.sparsemax([0.5, 0.0, 0.0]), [2 / 3, 1 / 6, 1 / 6], rtol=4 * EPS64)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float32, torch.float64])
@pytest.mark.parametrize("algo", ALGOS)
def test_dtypes(dtype, algo):
    rng = np.random.default_rng(4)
    x = torch.from_numpy(rng.standard_normal((64, 300)) * 2).to(dtype)
    y = stablemath.sparsemax(x, algorithm=algo)
    assert isinstance(y, torch.Tensor) and y.dtype == dtype and y.shape == x.shape
    ref = ref_sparsemax(x.double().numpy())
    out_eps = torch.finfo(dtype).eps
    tol = {torch.float64: 1e-13, torch.float32: 8 * out_eps}.get(dtype, 2 * out_eps)
    np.testing.assert_allclose(y.double().numpy(), ref, rtol=0, atol=tol)
    assert (y.double().numpy()[ref == 0] == 0).all() or dtype in (torch.float16, torch.bfloat16)
    # NumPy float16 and float32 too
    if dtype in (torch.float16, torch.float32):
        xn = x.numpy()
        yn = stablemath.sparsemax(xn, algorithm=algo)
        assert isinstance(yn, np.ndarray) and yn.dtype == xn.dtype
        np.testing.assert_array_equal(yn, y.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_axes_and_views(dtype):
    rng = np.random.default_rng(5)
    base = rng.standard_normal((6, 40, 9, 5)).astype(dtype)
    tol = 1e-13 if dtype == np.float64 else 1e-6
    views = [base, base[:, ::3, :, 1], base[::-1, :, ::2], np.asfortranarray(base[1]), base.transpose(2, 0, 3, 1)]
    for v in views:
        for ax in range(-v.ndim, v.ndim):
            y = stablemath.sparsemax(v, axis=ax)
            np.testing.assert_allclose(y, ref_sparsemax(v, ax), rtol=0, atol=tol)
    tv = torch.from_numpy(base).transpose(1, 3)[:, ::2]
    np.testing.assert_allclose(stablemath.sparsemax(tv, axis=1).numpy(), ref_sparsemax(tv.numpy(), 1), atol=tol)


def test_edge_rows():
    assert stablemath.sparsemax(np.zeros((3, 0))).shape == (3, 0)
    assert stablemath.sparsemax(np.zeros((0, 4))).shape == (0, 4)
    np.testing.assert_array_equal(stablemath.sparsemax(np.array([[7.0], [-1e300]])), [[1.0], [1.0]])
    assert stablemath.sparsemax(np.float64(3.0)) == 1.0
    inf, nan = np.inf, np.nan
    np.testing.assert_array_equal(stablemath.sparsemax([inf, 0.0, inf, 5.0]), [0.5, 0, 0.5, 0])
    np.testing.assert_array_equal(stablemath.sparsemax([inf, -inf]), [1.0, 0.0])
    np.testing.assert_array_equal(stablemath.sparsemax([-inf, 0.0, 0.5, -inf]), [0, 0.25, 0.75, 0])
    assert np.isnan(stablemath.sparsemax([0.0, nan, 1.0])).all()
    assert np.isnan(stablemath.sparsemax([inf, nan])).all()
    assert np.isnan(stablemath.sparsemax([-inf, -inf])).all()
    x = np.array([[1.0, nan, 2.0], [1.0, 2.0, 3.5]], np.float32)
    y = stablemath.sparsemax(x)
    assert np.isnan(y[0]).all() and np.array_equal(y[1], [0, 0, 1])
    # float16 / bfloat16 non-finite policy matches
    t = torch.tensor([[float("inf"), 0.0, float("inf")]], dtype=torch.bfloat16)
    assert stablemath.sparsemax(t).tolist() == [[0.5, 0.0, 0.5]]


def policy_reference(row):
    """The documented non-finite policy, written out (float64)."""
    row = np.asarray(row, np.float64)
    if np.isnan(row).any() or (row == -np.inf).all():
        return np.full(row.shape, np.nan)
    if (row == np.inf).any():
        return (row == np.inf) / (row == np.inf).sum()
    with np.errstate(invalid="ignore"):
        return ref_sparsemax(row)


@given(hnp.arrays(np.float32, st.integers(1, 40),
                  elements=st.sampled_from([np.nan, np.inf, -np.inf, 0.0, 1.0, -0.5, 0.25, 3.0])))
def test_nonfinite_policy_hypothesis(x):
    want = policy_reference(x)
    for algo in ("sort", "pivot", "bisect"):
        got = stablemath.sparsemax(x, algorithm=algo).astype(np.float64)
        np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
        np.testing.assert_allclose(got[~np.isnan(want)], want[~np.isnan(want)], rtol=0, atol=1e-6)


def test_out_and_inplace_and_threads():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((300, 257)).astype(np.float32)
    ref = stablemath.sparsemax(x)
    out = np.empty_like(x)
    assert stablemath.sparsemax(x, out=out) is out
    np.testing.assert_array_equal(out, ref)
    x2 = x.copy()
    stablemath.sparsemax(x2, out=x2)
    np.testing.assert_array_equal(x2, ref)
    x_before = x.copy()
    n = stablemath.get_num_threads()
    try:
        stablemath.set_num_threads(1)
        np.testing.assert_array_equal(stablemath.sparsemax(x), ref)
    finally:
        stablemath.set_num_threads(n)
    np.testing.assert_array_equal(x, x_before)  # input untouched


def test_bad_input():
    with pytest.raises(TypeError, match="^x:"):
        stablemath.sparsemax(np.arange(4))
    with pytest.raises(TypeError, match="^x:"):
        stablemath.sparsemax(np.ones(3, bool))
    with pytest.raises(TypeError, match="^x:"):
        stablemath.sparsemax(np.ones(3, complex))
    with pytest.raises(TypeError, match="^x:"):
        stablemath.sparsemax(torch.ones(3, dtype=torch.int32))
    with pytest.raises(ValueError, match="^algorithm:"):
        stablemath.sparsemax(np.ones(3), algorithm="heap")
    with pytest.raises(AxisError):
        stablemath.sparsemax(np.ones((2, 3)), axis=2)
    with pytest.raises(TypeError, match="^axis:"):
        stablemath.sparsemax(np.ones((2, 3)), axis=1.0)
    with pytest.raises(TypeError, match="^out:"):
        stablemath.sparsemax(np.ones(3), out=np.empty(3, np.float32))
    with pytest.raises(ValueError, match="^out:"):
        stablemath.sparsemax(np.ones(3), out=np.empty(4))


# ---------------------------------------------------------------- loss


def ref_loss(z, q):
    """(1 - ||p||^2)/2-style Fenchel-Young loss in float64: <p - q, z> + (||q||^2 - ||p||^2)/2."""
    p = ref_sparsemax(z)
    return ((p - q) * z).sum(-1) + 0.5 * ((q * q).sum(-1) - (p * p).sum(-1))


def test_loss_value_and_gradient():
    rng = np.random.default_rng(7)
    z = rng.standard_normal((40, 12)) * 2
    y = rng.integers(0, 12, 40)
    onehot = np.eye(12)[y]
    loss = stablemath.sparsemax_loss(z, y)
    np.testing.assert_allclose(loss, ref_loss(z, onehot), rtol=1e-12, atol=1e-13)
    assert (loss >= 0).all()
    # Martins & Astudillo's form: -z_y + 1/2 sum_S (z_j^2 - tau^2) + 1/2
    p = ref_sparsemax(z)
    for r in range(5):
        s = p[r] > 0
        tau = np.mean(z[r, s] - p[r, s])
        ma = -z[r, y[r]] + 0.5 * np.sum(z[r, s] ** 2 - tau**2) + 0.5
        assert loss[r] == pytest.approx(ma, rel=1e-10, abs=1e-12)
    assert stablemath.sparsemax_loss(z, y, reduction="sum") == pytest.approx(loss.sum(), rel=1e-14)
    assert stablemath.sparsemax_loss(z, y, reduction="mean") == pytest.approx(loss.mean(), rel=1e-14)
    # gradient p - onehot by central differences
    h = 1e-6
    for r in range(6):
        g = np.empty(12)
        for j in range(12):
            zp, zm = z[r].copy(), z[r].copy()
            zp[j] += h
            zm[j] -= h
            g[j] = (stablemath.sparsemax_loss(zp, y[r]) - stablemath.sparsemax_loss(zm, y[r])) / (2 * h)
        np.testing.assert_allclose(g, p[r] - onehot[r], atol=1e-6)
    # distribution targets, any axis, torch in -> torch out
    q = rng.dirichlet(np.ones(12), 40)
    np.testing.assert_allclose(stablemath.sparsemax_loss(z, q), ref_loss(z, q), rtol=1e-12, atol=1e-13)
    lt = stablemath.sparsemax_loss(torch.from_numpy(z.T.copy()), torch.from_numpy(y), axis=0)
    assert isinstance(lt, torch.Tensor) and lt.dtype == torch.float64
    np.testing.assert_allclose(lt.numpy(), loss, rtol=1e-14)
    zb = torch.from_numpy(z).to(torch.bfloat16)
    lb = stablemath.sparsemax_loss(zb, torch.from_numpy(y).to(torch.int32), reduction="none")
    assert lb.dtype == torch.bfloat16
    np.testing.assert_allclose(lb.double().numpy(), ref_loss(zb.double().numpy(), onehot), rtol=8e-3, atol=1e-5)
    assert stablemath.sparsemax_loss(np.zeros((0, 5)), np.zeros(0, np.int64)).shape == (0,)
    l32 = stablemath.sparsemax_loss(z.astype(np.float32), y)
    assert l32.dtype == np.float32
    np.testing.assert_allclose(l32, ref_loss(z.astype(np.float32).astype(np.float64), onehot), rtol=1e-6, atol=1e-7)


def test_loss_edge_cases():
    # large offsets lose nothing: the loss is shift-invariant
    z = np.array([[1e12, 1e12 + 0.5, 1e12 - 3]])
    np.testing.assert_allclose(stablemath.sparsemax_loss(z, np.array([0])), ref_loss(z - 1e12, np.eye(3)[[0]]),
                               rtol=1e-14)
    assert stablemath.sparsemax_loss(np.array([5.0, 0.0]), 0) == 0.0  # p = e_y exactly
    assert stablemath.sparsemax_loss(np.array([[3.0]]), np.array([0]))[0] == 0.0  # one class
    assert np.isnan(stablemath.sparsemax_loss(np.array([np.nan, 0.0]), 1))
    assert stablemath.sparsemax_loss(np.array([-np.inf, 0.0]), 0) == np.inf
    assert stablemath.sparsemax_loss(np.array([np.inf, 0.0]), 0) == 0.0
    assert stablemath.sparsemax_loss(np.array([np.inf, np.inf, 1.0]), 0) == pytest.approx(0.25)


def test_loss_bad_input():
    z = np.zeros((4, 3))
    with pytest.raises(ValueError, match="^target:"):
        stablemath.sparsemax_loss(z, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="^target:"):
        stablemath.sparsemax_loss(z, np.array([0, -1, 2, 0]))
    with pytest.raises(ValueError, match="^target:"):
        stablemath.sparsemax_loss(z, np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="^target:"):
        stablemath.sparsemax_loss(z, np.array([0.0, 1.0, 2.0, 0.0]))  # floats: a distribution of the wrong shape
    with pytest.raises(ValueError, match="^target:"):
        stablemath.sparsemax_loss(z, np.full((4, 3), 0.5))  # does not sum to 1
    with pytest.raises(TypeError, match="^target:"):
        stablemath.sparsemax_loss(z, np.zeros(4, bool))
    with pytest.raises(TypeError, match="^x:"):
        stablemath.sparsemax_loss(np.zeros((4, 3), int), np.zeros(4, int))
    with pytest.raises(ValueError, match="^x:"):
        stablemath.sparsemax_loss(np.zeros((4, 0)), np.zeros(4, int))
    with pytest.raises(ValueError, match="^x:"):
        stablemath.sparsemax_loss(np.float64(1.0), 0)
    with pytest.raises(ValueError, match="^reduction:"):
        stablemath.sparsemax_loss(z, np.zeros(4, int), reduction="elementwise_mean")
    with pytest.raises(AxisError):
        stablemath.sparsemax_loss(z, np.zeros(4, int), axis=3)


# ---------------------------------------------------------------- backward


@pytest.mark.parametrize("dim", [-1, 0, 1])
def test_backward_against_autograd(dim):
    rng = np.random.default_rng(8)
    x = torch.from_numpy(rng.standard_normal((7, 30, 11)) * 2).requires_grad_(True)
    g = torch.from_numpy(rng.standard_normal((7, 30, 11)))
    y = entmax_sparsemax(x, dim=dim)
    y.backward(g)
    ys = stablemath.sparsemax(x, axis=dim)
    gx = stablemath.sparsemax_backward(ys, g, axis=dim)
    assert isinstance(gx, torch.Tensor)
    np.testing.assert_allclose(gx.numpy(), x.grad.numpy(), rtol=0, atol=1e-12)
    gn = stablemath.sparsemax_backward(ys.numpy(), g.numpy(), axis=dim)
    assert isinstance(gn, np.ndarray)
    np.testing.assert_allclose(gn, x.grad.numpy(), rtol=0, atol=1e-12)
    assert (gn[ys.numpy() == 0] == 0).all()


def ref_backward(y, g, axis):
    s = np.asarray(y, np.float64) > 0
    g = np.asarray(g, np.float64)
    mean = np.where(s, g, 0).sum(axis, keepdims=True) / np.maximum(s.sum(axis, keepdims=True), 1)
    return np.where(s, g - mean, 0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_backward_views_and_axes(dtype):
    rng = np.random.default_rng(9)
    x = (rng.standard_normal((5, 70, 9)) * 0.2).astype(dtype)
    g = rng.standard_normal((9, 70, 5)).astype(dtype).transpose(2, 1, 0)  # non-contiguous grad
    tol = {np.float16: 2e-3, np.float32: 2e-6, np.float64: 1e-13}[dtype]
    for ax in range(3):
        y = stablemath.sparsemax(x, axis=ax)
        for yv, gv in [(y, g), (y[:, ::3], g[:, ::3]), (y[::-1], g[::-1])]:
            r = stablemath.sparsemax_backward(yv, gv, axis=ax)
            assert r.dtype == dtype and r.shape == yv.shape
            np.testing.assert_allclose(r.astype(np.float64), ref_backward(yv, gv, ax), rtol=0, atol=tol)
            assert (r[yv == 0] == 0).all()
    # y float32 with a float64 grad: the result has grad's dtype
    r = stablemath.sparsemax_backward(stablemath.sparsemax(x.astype(np.float32)), g.astype(np.float64))
    assert r.dtype == np.float64


def test_backward_dtypes_and_errors():
    y = stablemath.sparsemax(torch.tensor([[1.0, 0.8, -2.0]], dtype=torch.bfloat16))
    g = torch.tensor([[1.0, 2.0, 3.0]], dtype=torch.bfloat16)
    assert stablemath.sparsemax_backward(y, g).tolist() == [[-0.5, 0.5, 0.0]]
    assert stablemath.sparsemax_backward(y, g).dtype == torch.bfloat16
    assert np.isnan(stablemath.sparsemax_backward(np.array([np.nan, np.nan]), np.ones(2))).all()
    with pytest.raises(ValueError, match="^grad:"):
        stablemath.sparsemax_backward(np.ones(3) / 3, np.ones(4))
    with pytest.raises(TypeError, match="^grad:"):
        stablemath.sparsemax_backward(np.ones(3) / 3, np.ones(3, int))
    with pytest.raises(TypeError, match="^y:"):
        stablemath.sparsemax_backward(np.ones(3, int), np.ones(3))
