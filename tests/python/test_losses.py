"""stablemath.softmax_cross_entropy against torch.nn.functional.cross_entropy (values, label
smoothing, ignore_index, reductions, layouts, dtypes), float64/mpmath references, finite-difference
gradients, bad input; and stablemath.softmax_collapse on constructed rows against the criteria
evaluated with torch in the named precision.
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given
from hypothesis import strategies as st

import stablemath
from conftest import EPS, assert_ulp, to_f64

F32_MAX = float(np.finfo(np.float32).max)


def torch_ce(x, t, **kw):
    return F.cross_entropy(torch.as_tensor(x), torch.as_tensor(t), **kw)


# ---------------------------------------------------------------------------------------------
# equality with torch
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1, 1.0])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_matches_torch(reduction, smoothing, dtype):
    g = torch.Generator().manual_seed(7)
    x = (torch.randn(40, 13, generator=g) * 4).to(dtype)
    t = torch.randint(0, 13, (40,), generator=g)
    t[::5] = -100  # ignored rows
    want = F.cross_entropy(x, t, label_smoothing=smoothing, reduction=reduction)
    got = stablemath.softmax_cross_entropy(x, t, label_smoothing=smoothing, reduction=reduction)
    assert isinstance(got, torch.Tensor) and got.dtype == dtype and got.shape == want.shape
    rtol = 2e-6 if dtype == torch.float32 else 1e-14
    torch.testing.assert_close(got, want, rtol=rtol, atol=rtol)


@given(data=st.data())
def test_matches_torch_random(data):
    n = data.draw(st.integers(0, 30))
    c = data.draw(st.integers(1, 40))
    smoothing = data.draw(st.sampled_from([0.0, 0.05, 0.5]))
    ignore = data.draw(st.sampled_from([-100, 0, 3]))
    reduction = data.draw(st.sampled_from(["mean", "sum", "none"]))
    seed = data.draw(st.integers(0, 2**31))
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, c, generator=g, dtype=torch.float64) * data.draw(st.sampled_from([0.1, 3.0, 50.0]))
    t = torch.randint(0, c, (n,), generator=g)
    want = F.cross_entropy(x, t, label_smoothing=smoothing, ignore_index=ignore, reduction=reduction)
    got = stablemath.softmax_cross_entropy(x, t, label_smoothing=smoothing, ignore_index=ignore, reduction=reduction)
    torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-13, equal_nan=True)


def test_spatial_layout_axis1():
    """torch's (N, C, d1, d2) layout is axis=1; targets (N, d1, d2)."""
    g = torch.Generator().manual_seed(3)
    x = torch.randn(3, 5, 4, 6, generator=g, dtype=torch.float64)
    t = torch.randint(0, 5, (3, 4, 6), generator=g)
    t[0, 0, 0] = -100
    for red in ("mean", "sum", "none"):
        want = F.cross_entropy(x, t, reduction=red, label_smoothing=0.2)
        got = stablemath.softmax_cross_entropy(x, t, axis=1, reduction=red, label_smoothing=0.2)
        torch.testing.assert_close(got, want, rtol=1e-13, atol=1e-13)
    # The same through NumPy, with the class axis last and a non-contiguous view.
    xl = x.permute(0, 2, 3, 1).numpy()
    got = stablemath.softmax_cross_entropy(xl, t.numpy(), reduction="none")
    np.testing.assert_allclose(got, F.cross_entropy(x, t, reduction="none").numpy(), rtol=1e-13)
    # 1-D logits: one sample, 0-d target.
    got = stablemath.softmax_cross_entropy(x[0, :, 0, 0], t[0, 1, 1])
    torch.testing.assert_close(got, F.cross_entropy(x[0, :, 0, 0], t[0, 1, 1]), rtol=1e-14, atol=0)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
def test_half_precision(dtype):
    g = torch.Generator().manual_seed(4)
    x = (torch.randn(20, 9, generator=g) * 3).to(dtype)
    t = torch.randint(0, 9, (20,), generator=g)
    got = stablemath.softmax_cross_entropy(x, t, reduction="none")
    assert got.dtype == dtype
    # float32 arithmetic, one rounding to the 16-bit format (torch computes in float32 too).
    want = F.cross_entropy(x.double(), t, reduction="none")
    assert_ulp(got, want.numpy(), 1, dtype=str(dtype).replace("torch.", ""))
    m = stablemath.softmax_cross_entropy(x, t)
    assert m.dtype == dtype and m.shape == ()
    assert abs(float(m) - float(want.mean())) <= EPS[str(dtype)[6:]] * float(want.mean())


def test_all_ignored_and_empty_batch_like_torch():
    x = torch.randn(4, 3, dtype=torch.float64)
    t = torch.full((4,), -100)
    for red in ("mean", "sum", "none"):
        torch.testing.assert_close(stablemath.softmax_cross_entropy(x, t, reduction=red),
                                   F.cross_entropy(x, t, reduction=red), equal_nan=True)
    assert math.isnan(float(stablemath.softmax_cross_entropy(x, t)))  # mean over no rows: NaN
    e, te = torch.zeros(0, 3, dtype=torch.float64), torch.zeros(0, dtype=torch.int64)
    for red in ("mean", "sum", "none"):
        torch.testing.assert_close(stablemath.softmax_cross_entropy(e, te, reduction=red),
                                   F.cross_entropy(e, te, reduction=red), equal_nan=True)


def test_numpy_types():
    x = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]], dtype=np.float32)
    keep = x.copy()
    m = stablemath.softmax_cross_entropy(x, np.array([1, 2], dtype=np.int32))
    assert isinstance(m, np.float32)
    np.testing.assert_array_equal(x, keep)
    none = stablemath.softmax_cross_entropy(x, [1, 2], reduction="none")
    assert isinstance(none, np.ndarray) and none.dtype == np.float32 and none.shape == (2,)
    np.testing.assert_allclose(none, torch_ce(x, [1, 2], reduction="none").numpy(), rtol=1e-6)
    np.testing.assert_allclose(stablemath.softmax_cross_entropy(x, np.array([1, 2], dtype=np.uint8)), m)


# ---------------------------------------------------------------------------------------------
# precision and extreme values
# ---------------------------------------------------------------------------------------------
def test_confident_prediction_keeps_digits():
    """loss = log1p(e^-40) ~ 4.2e-18: lse - x_t gives 0 in float64, the log1p form keeps it."""
    x = np.array([[0.0, 40.0], [-3.0, 30.0]])
    with mpmath.workdps(50):
        want = [float(mpmath.log1p(mpmath.exp(-40))), float(mpmath.log1p(mpmath.exp(-33)))]
    got = stablemath.softmax_cross_entropy(x, [1, 1], reduction="none")
    assert_ulp(got, want, 4)
    x32 = x.astype(np.float32)
    assert_ulp(stablemath.softmax_cross_entropy(x32, [1, 1], reduction="none"), want, 4, dtype=np.float32)


def test_huge_logits_float32():
    rng = np.random.default_rng(8)
    x = (rng.choice([-F32_MAX, -1e38, -5.0, 0.0, 7.0, 1e30, 3e38, F32_MAX], size=(30, 7))).astype(np.float32)
    t = rng.integers(0, 7, 30)
    got = stablemath.softmax_cross_entropy(x, t, reduction="none", label_smoothing=0.1)
    want = F.cross_entropy(torch.tensor(x, dtype=torch.float64), torch.tensor(t), reduction="none",
                           label_smoothing=0.1).numpy()
    assert_ulp(got, want, 4, dtype=np.float32)


def test_nonfinite_rows():
    inf, nan = np.inf, np.nan
    x = np.array([[1.0, nan, 2.0], [inf, 0.0, 0.0], [-inf, 1.0, 2.0], [-inf, -inf, -inf], [1.0, 2.0, 3.0]])
    t = [0, 1, 0, 0, 2]
    got = stablemath.softmax_cross_entropy(x, t, reduction="none")
    want = torch_ce(x, t, reduction="none").numpy()
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == inf and np.isnan(got[3])
    np.testing.assert_allclose(got[4], want[4], rtol=1e-15)
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))  # same NaN rows as torch
    # label smoothing with a -inf class: the smoothing term is +inf, as torch.
    got = stablemath.softmax_cross_entropy(x[2:3], [1], label_smoothing=0.1)
    assert got == inf and float(torch_ce(x[2:3], [1], label_smoothing=0.1)) == inf


# ---------------------------------------------------------------------------------------------
# gradients (float64 finite differences)
# ---------------------------------------------------------------------------------------------
def softmax_ce_grad(x, t, smoothing):
    """Closed form: (softmax(x) - (1 - e) onehot(t) - e / C) / rows (mean reduction)."""
    p = np.exp(x - x.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    g = p - smoothing / x.shape[-1]
    g[np.arange(x.shape[0]), t] -= 1 - smoothing
    return g / x.shape[0]


@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_gradient_finite_differences(smoothing):
    rng = np.random.default_rng(9)
    x = rng.standard_normal((3, 5)) * 2
    t = np.array([4, 0, 2])
    h = 1e-6
    fd = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[idx] += h
        xm[idx] -= h
        fd[idx] = (stablemath.softmax_cross_entropy(xp, t, label_smoothing=smoothing)
                   - stablemath.softmax_cross_entropy(xm, t, label_smoothing=smoothing)) / (2 * h)
    np.testing.assert_allclose(fd, softmax_ce_grad(x, t, smoothing), rtol=1e-7, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("fn", [stablemath.softmax_cross_entropy, stablemath.stablemax_cross_entropy])
def test_errors(fn):
    x = np.zeros((4, 3))
    with pytest.raises(IndexError, match="^target:.*3"):
        fn(x, [0, 1, 3, 0])
    with pytest.raises(IndexError, match="^target:.*-1"):
        fn(x, [0, -1, 2, 0])
    with pytest.raises(TypeError, match="^target:.*float"):
        fn(x, np.array([0.0, 1.0, 2.0, 0.0]))
    with pytest.raises(TypeError, match="^target:.*bool"):
        fn(x, np.array([True, False, True, False]))
    with pytest.raises(TypeError, match="^target:"):
        fn(torch.zeros(4, 3), torch.zeros(4))
    with pytest.raises(ValueError, match="^target:.*shape"):
        fn(x, [0, 1, 2])
    with pytest.raises(ValueError, match="^target:.*shape"):
        fn(x, np.zeros((4, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="^logits:.*empty"):
        fn(np.zeros((4, 0)), [0, 0, 0, 0])
    with pytest.raises(ValueError, match="^logits:"):
        fn(np.float64(1.0), 0)
    with pytest.raises(TypeError, match="^logits:"):
        fn(np.zeros((4, 3), dtype=np.int64), [0, 0, 0, 0])
    with pytest.raises(ValueError, match="^reduction:"):
        fn(x, [0, 0, 0, 0], reduction="avg")
    with pytest.raises(np.exceptions.AxisError, match="^axis:"):
        fn(x, [0, 0, 0], axis=2)
    with pytest.raises(TypeError, match="^ignore_index:"):
        fn(x, [0, 0, 0, 0], ignore_index=1.5)
    # an out-of-range value equal to ignore_index is fine
    assert fn(x, [0, 7, 1, 2], ignore_index=7, reduction="none")[1] == 0.0


def test_label_smoothing_errors():
    x = np.zeros((2, 3))
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="^label_smoothing:"):
            stablemath.softmax_cross_entropy(x, [0, 1], label_smoothing=bad)
    with pytest.raises(TypeError, match="^label_smoothing:"):
        stablemath.softmax_cross_entropy(x, [0, 1], label_smoothing="0.1")


# ---------------------------------------------------------------------------------------------
# Softmax Collapse detector
# ---------------------------------------------------------------------------------------------
TORCH_DT = {"float16": torch.float16, "bfloat16": torch.bfloat16, "float32": torch.float32, "float64": torch.float64}


def torch_sum_is_one(x, name):
    """The paper's check: cast, subtract the max, exponentiate, sum, compare with 1 (dtype `name`)."""
    xt = torch.as_tensor(x).to(TORCH_DT[name])
    return (torch.exp(xt - xt.max(-1, keepdim=True).values).sum(-1) == 1).numpy()


@pytest.mark.parametrize("name", ["float16", "bfloat16", "float32", "float64"])
def test_collapse_gap_threshold(name):
    thr = math.log(1 / EPS[name])
    # Two-class rows [0, g] with g just below / above log(1/eps), and exactly at the absorption
    # point of the sum (half an ulp of 1: g = log(2/eps)) +- a margin.
    absorb = math.log(2 / EPS[name])
    gaps = np.array([thr - 0.05, thr + 0.05, absorb - 0.05, absorb + 0.05, 0.5, 60.0])
    x = np.stack([np.zeros_like(gaps), gaps], axis=-1)
    # Only gaps exactly representable in `name` give a clean test of the threshold.
    xr = torch.tensor(x).to(TORCH_DT[name]).double().numpy()
    r = stablemath.softmax_collapse(xr, dtype=name, per_row=True)
    assert r.threshold == pytest.approx(thr, rel=1e-15) and r.dtype == name and r.rows == len(gaps)
    g = xr[:, 1] - xr[:, 0]
    np.testing.assert_array_equal(r.gap, g)
    np.testing.assert_array_equal(r.gap_exceeds, g > thr)
    assert r.gap_exceeds[1] and not r.gap_exceeds[0] and not r.gap_exceeds[4] and r.gap_exceeds[5]
    # Two-term rows: every summation order agrees, so torch's own check is the reference.
    np.testing.assert_array_equal(r.sum_is_one, torch_sum_is_one(xr, name))
    assert r.sum_is_one[3] and not r.sum_is_one[2] and not r.sum_is_one[4]
    assert r.fraction_gap == pytest.approx(np.mean(g > thr))
    assert r.fraction_sum_is_one == pytest.approx(np.mean(torch_sum_is_one(xr, name)))


def test_collapse_rows_by_construction():
    x = np.array([
        [0.0, 30.0, 0.0, 0.0],     # float32: collapsed both ways
        [5.0, 5.0, -20.0, -20.0],  # tied maximum: sum 2, gap 0
        [0.0, 1.0, 2.0, 3.0],      # ordinary row
        [np.nan, 30.0, 0.0, 0.0],  # NaN: never collapsed
        [np.inf, 0.0, 0.0, 0.0],   # +inf: never collapsed
        [-np.inf, -np.inf, -np.inf, -np.inf],
    ])
    r = stablemath.softmax_collapse(x, per_row=True)
    np.testing.assert_array_equal(r.sum_is_one, [True, False, False, False, False, False])
    np.testing.assert_array_equal(r.gap_exceeds, [True, False, False, False, False, False])
    assert r.gap[0] == 30.0 and r.gap[1] == 0.0 and r.gap[2] == 1.0 and np.isnan(r.gap[3:]).all()
    assert r.fraction_sum_is_one == pytest.approx(1 / 6)
    # Many small terms that each vanish against 1 but not together: not collapsed (exact sum),
    # although a sum that adds them one by one to 1 would say so.
    row = np.concatenate([[0.0], np.full(1000, -21.0)])  # 1000 e^-21 ~ 7.6e-7 > 2^-24
    assert stablemath.softmax_collapse(row[None]).fraction_sum_is_one == 0.0
    assert stablemath.softmax_collapse(row[None]).fraction_gap == 1.0
    # One class: probability 1 trivially.
    r1 = stablemath.softmax_collapse(np.zeros((3, 1)), per_row=True)
    assert r1.fraction_sum_is_one == 1.0 and np.isinf(r1.gap).all()


def test_collapse_layout_types_and_errors():
    t = torch.zeros(2, 5, 3)
    t[:, 0, :] = 50.0
    r = stablemath.softmax_collapse(t, axis=1, dtype=torch.float32, per_row=True)
    assert isinstance(r.sum_is_one, torch.Tensor) and r.sum_is_one.dtype == torch.bool
    assert r.sum_is_one.shape == (2, 3) and bool(r.sum_is_one.all()) and r.fraction_gap == 1.0
    r = stablemath.softmax_collapse(t.to(torch.bfloat16), axis=1, dtype="bfloat16")
    assert r.sum_is_one is None and r.fraction_sum_is_one == 1.0
    assert stablemath.softmax_collapse(np.zeros((0, 4)), dtype=np.float64).rows == 0
    assert math.isnan(stablemath.softmax_collapse(np.zeros((0, 4))).fraction_gap)
    with pytest.raises(ValueError, match="^dtype:"):
        stablemath.softmax_collapse(np.zeros((2, 3)), dtype="int8")
    with pytest.raises(ValueError, match="^logits:"):
        stablemath.softmax_collapse(np.zeros((2, 0)))
    with pytest.raises(TypeError, match="^per_row:"):
        stablemath.softmax_collapse(np.zeros((2, 3)), per_row=1)
    with pytest.raises(TypeError, match="^logits:"):
        stablemath.softmax_collapse(np.zeros((2, 3), dtype=np.int32))


def test_collapse_random_rows_match_exact_criterion():
    """Against an independent NumPy evaluation of the documented float32 criterion."""
    rng = np.random.default_rng(10)
    x = (rng.standard_normal((200, 6)) * rng.choice([1.0, 5.0, 20.0], size=(200, 1))).astype(np.float32)
    r = stablemath.softmax_collapse(x, per_row=True)
    m = x.max(-1, keepdims=True)
    terms = np.exp((x - m).astype(np.float32)).astype(np.float64)  # float32 terms, exact sum below
    ties = (x == m).sum(-1)
    rest = np.where(x == m, 0.0, terms).sum(-1)
    want = (ties == 1) & (np.float32(1.0 + rest) == 1.0)
    # NumPy's float32 exp may differ from a correctly rounded one by an ulp: allow the rows
    # whose rest sits within 2 ulp of the absorption point to go either way.
    edge = np.abs(rest - 2.0**-24) < 4 * 2.0**-24 * EPS["float32"]
    np.testing.assert_array_equal(np.asarray(r.sum_is_one)[~edge], want[~edge])
    srt = np.sort(x, -1)
    np.testing.assert_array_equal(r.gap_exceeds, (srt[:, -1] - srt[:, -2]).astype(np.float64) > math.log(2**23))
    assert 0 < r.fraction_sum_is_one < 1 and 0 < r.fraction_gap < 1
    assert to_f64(r.gap).shape == (200,)
