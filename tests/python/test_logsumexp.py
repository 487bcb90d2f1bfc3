"""stablemath.logsumexp against SciPy (float64) and mpmath references.

Error bound checked (see conftest.lse_tolerance): for an input rounded to the test dtype, the
result differs from the float64 reference of that same input by at most
``4 ulp(result) + 8 eps_acc (1 + log2 n) cond`` where eps_acc is the accumulation epsilon (float32
for 16/32-bit inputs, float64 for float64) and cond = sum|b e^a| / |sum b e^a| (1 without weights).
Dominant-element cases are checked against mpmath to within 1 ulp.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import assume, given
from hypothesis import strategies as st

import stablemath
from conftest import (
    EPS,
    assert_lse_close,
    assert_ulp,
    mp_logsumexp,
    num_threads,
    ref_logsumexp,
    to_f64,
)

# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------
shapes = st.lists(st.integers(0, 6), min_size=1, max_size=4).map(tuple)
nonempty_shapes = st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple)


@st.composite
def axes_for(draw, ndim):
    kind = draw(st.sampled_from(["none", "int", "tuple"]))
    if kind == "none":
        return None
    if kind == "int":
        return draw(st.integers(-ndim, ndim - 1))
    chosen = draw(st.lists(st.integers(0, ndim - 1), unique=True, max_size=ndim))
    # mix positive and negative spellings of the same axes
    return tuple(a - ndim if draw(st.booleans()) else a for a in chosen)


@st.composite
def array_and_axis(draw, dtype, shape_strategy=shapes, scale=5.0):
    shape = draw(shape_strategy)
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    a = (rng.standard_normal(shape) * scale).astype(dtype)
    axis = draw(axes_for(len(shape)))
    return a, axis


def _normalize_axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        return (axis % ndim,)
    return tuple(a % ndim for a in axis)


# --------------------------------------------------------------------------------------------
# random arrays vs SciPy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_matches_scipy_random_shapes_and_axes(dtype, data):
    a, axis = data.draw(array_and_axis(dtype))
    keepdims = data.draw(st.booleans())
    got = stablemath.logsumexp(a, axis=axis, keepdims=keepdims)
    ref = ref_logsumexp(a, axis=axis, keepdims=keepdims)
    assert to_f64(got).shape == np.shape(ref)
    assert got.dtype == a.dtype
    if np.ndim(ref) == 0:
        assert isinstance(got, np.generic), f"full reduction should give a NumPy scalar, got {type(got)}"
    else:
        assert isinstance(got, np.ndarray)
    assert_lse_close(got, a, ref, np.dtype(dtype).name, axis=axis, keepdims=keepdims)


@given(data=st.data())
def test_keepdims_shape_matches_numpy(data):
    shape = data.draw(shapes)
    axis = data.draw(axes_for(len(shape)))
    a = np.zeros(shape)
    got = stablemath.logsumexp(a, axis=axis, keepdims=True)
    assert np.shape(got) == np.sum(a, axis=axis, keepdims=True).shape
    got = stablemath.logsumexp(a, axis=axis, keepdims=False)
    assert np.shape(got) == np.sum(a, axis=axis).shape


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_weights_match_scipy(dtype, data):
    a, axis = data.draw(array_and_axis(dtype, nonempty_shapes, scale=3.0))
    # b: a shape that broadcasts to a.shape (leading dims dropped, some dims set to 1)
    drop = data.draw(st.integers(0, a.ndim))
    bshape = tuple(1 if data.draw(st.booleans()) else s for s in a.shape[drop:])
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    kind = data.draw(st.sampled_from(["positive", "with_zeros", "signed"]))
    b = rng.uniform(0.1, 3.0, bshape)
    if kind == "with_zeros":
        b = np.where(rng.random(bshape) < 0.4, 0.0, b)
    elif kind == "signed":
        b = b * rng.choice([-1.0, 1.0], bshape)
    b = b.astype(dtype)
    keepdims = data.draw(st.booleans())
    ref, ref_sign = ref_logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    # Skip reductions that are nearly cancelling (condition number > 1e6): the sign itself is then
    # decided by rounding.
    absref = ref_logsumexp(a, axis=axis, b=np.abs(b), keepdims=keepdims)
    with np.errstate(invalid="ignore"):
        cond = np.exp(np.asarray(absref) - np.asarray(ref))
    assume(np.all(~np.isfinite(ref) | (cond < 1e6)))
    res, sgn = stablemath.logsumexp(a, axis=axis, b=b, keepdims=keepdims, return_sign=True)
    name = np.dtype(dtype).name
    assert_lse_close(res, a, ref, name, axis=axis, keepdims=keepdims, b=b, msg="return_sign=True:")
    np.testing.assert_array_equal(to_f64(sgn), ref_sign)
    assert res.dtype == a.dtype and sgn.dtype == a.dtype
    plain = stablemath.logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    ref_plain = ref_logsumexp(a, axis=axis, b=b, keepdims=keepdims)
    assert_lse_close(plain, a, ref_plain, name, axis=axis, keepdims=keepdims, b=b, msg="return_sign=False:")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_where_matches_zero_weight_reference(dtype, data):
    a, axis = data.draw(array_and_axis(dtype))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    drop = data.draw(st.integers(0, a.ndim))
    wshape = tuple(1 if data.draw(st.booleans()) else s for s in a.shape[drop:])
    where = rng.random(wshape) < data.draw(st.sampled_from([0.0, 0.3, 0.8, 1.0]))
    # masked-out entries may hold anything, including NaN and inf
    poison = data.draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    if poison is not None:
        wfull = np.broadcast_to(where, a.shape)
        a = np.where(wfull, a, dtype(poison)).astype(dtype)
    keepdims = data.draw(st.booleans())
    ret = data.draw(st.booleans())
    got = stablemath.logsumexp(a, axis=axis, where=where, keepdims=keepdims, return_sign=ret)
    ref = ref_logsumexp(a, axis=axis, where=where, keepdims=keepdims, return_sign=ret)
    if ret:
        assert_lse_close(got[0], a, ref[0], np.dtype(dtype).name, axis=axis, keepdims=keepdims)
        np.testing.assert_array_equal(to_f64(got[1]), ref[1])
    else:
        assert_lse_close(got, a, ref, np.dtype(dtype).name, axis=axis, keepdims=keepdims)


def test_where_and_weights_together(rng):
    a = rng.standard_normal((5, 7))
    b = rng.uniform(0.5, 2.0, (5, 7))
    where = rng.random((5, 7)) < 0.6
    where[2] = False
    got, sgn = stablemath.logsumexp(a, axis=1, b=b, where=where, return_sign=True)
    ref, ref_sgn = ref_logsumexp(a, axis=1, b=b, where=where, return_sign=True)
    assert got[2] == -np.inf and sgn[2] == 0
    np.testing.assert_allclose(got, ref, rtol=4 * EPS["float64"], atol=32 * EPS["float64"])
    np.testing.assert_array_equal(sgn, ref_sgn)


# --------------------------------------------------------------------------------------------
# weights: documented special cases
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("poison", [np.nan, np.inf, -np.inf])
def test_zero_weight_excludes_nonfinite(poison):
    a = np.array([1.0, poison, 2.0])
    b = np.array([1.0, 0.0, 1.0])
    got = stablemath.logsumexp(a, b=b)
    assert got == pytest.approx(np.logaddexp(1.0, 2.0), rel=2 * EPS["float64"])


def test_negative_sum_without_sign_is_nan():
    got = stablemath.logsumexp([1.0, 2.0], b=[1.0, -2.0])
    assert np.isnan(got)


def test_negative_weight_on_max_element_scipy_gh22903():
    # sum = -e^0 + e^-1 < 0: |sum| = 1 - e^-1
    res, sgn = stablemath.logsumexp([0.0, -1.0], b=[-1.0, 1.0], return_sign=True)
    exp_res, exp_sgn = mp_logsumexp([0.0, -1.0], [-1.0, 1.0], return_sign=True)
    assert sgn == exp_sgn == -1.0
    assert_ulp(res, exp_res, 2)


def test_weights_cancel_exactly_give_minus_inf_and_sign_zero():
    res, sgn = stablemath.logsumexp([1.0, 1.0], b=[1.0, -1.0], return_sign=True)
    assert res == -np.inf and sgn == 0.0


def test_nan_weight_on_maximum_gives_nan_result_and_sign():
    res, sgn = stablemath.logsumexp(np.array([np.inf, 1.0]), b=np.array([np.nan, 1.0]), return_sign=True)
    assert np.isnan(res) and np.isnan(sgn)  # as SciPy


def test_nan_weight_gives_nan():
    assert np.isnan(stablemath.logsumexp(np.array([1.0, 2.0]), b=np.array([np.nan, 1.0])))
    res, sgn = stablemath.logsumexp(np.array([1.0, 2.0]), b=np.array([np.nan, 1.0]), return_sign=True)
    assert np.isnan(res) and np.isnan(sgn)


@pytest.mark.parametrize(
    "a,b,expected",
    [
        ([np.inf, 1.0], [-1.0, 1.0], (np.inf, -1.0)),
        ([np.inf, 1.0], [2.0, -1.0], (np.inf, 1.0)),
        ([1.0, 2.0], [np.inf, 1.0], (np.inf, 1.0)),
        ([-np.inf, 1.0], [np.inf, 1.0], (np.nan, np.nan)),  # inf * e^-inf = inf * 0
        ([-np.inf, -np.inf], [1.0, -1.0], (-np.inf, 0.0)),
        ([0.0, 0.0], [-1.0, -1.0], (np.log(2.0), -1.0)),
    ],
)
def test_weights_with_infinities_like_scipy(a, b, expected):
    res, sgn = stablemath.logsumexp(np.array(a), b=np.array(b), return_sign=True)
    ref = ref_logsumexp(np.array(a), b=np.array(b), return_sign=True)
    np.testing.assert_array_equal([res, sgn], [float(ref[0]), float(ref[1])])
    np.testing.assert_array_equal([res, sgn], expected)


def test_cancelling_weights_at_plus_inf_give_nan():
    res, sgn = stablemath.logsumexp(np.array([np.inf, np.inf]), b=np.array([1.0, -1.0]), return_sign=True)
    assert np.isnan(res) and np.isnan(sgn)  # inf - inf, as SciPy


@pytest.mark.parametrize("b", [[2.0, -1.0], [-1.0, 3.0, -1.0]])
def test_opposite_weights_on_plus_inf_give_nan(b):
    a = np.full(len(b), np.inf)
    ref = ref_logsumexp(a, b=np.array(b), return_sign=True)
    assert np.isnan(ref[0]) and np.isnan(ref[1])  # SciPy: inf - inf
    res, sgn = stablemath.logsumexp(a, b=np.array(b), return_sign=True)
    assert np.isnan(res) and np.isnan(sgn)


@pytest.mark.parametrize(
    "a,b",
    [
        ([0.0, -40.0], [2.0, 1.0]),
        ([3.0, 3.0, -30.0], [0.5, 0.25, 1.0]),
        ([0.0, -0.5, -1.0], [1.0, -0.5, 0.25]),
        ([10.0, 9.0], [-1.0, 3.0]),
        ([-700.0, -701.0, -705.0], [1e-3, 2.0, 7.0]),
    ],
)
def test_weighted_vs_mpmath(a, b):
    res, sgn = stablemath.logsumexp(np.array(a), b=np.array(b), return_sign=True)
    exp_res, exp_sgn = mp_logsumexp(a, b, return_sign=True)
    assert sgn == exp_sgn
    assert_ulp(res, exp_res, 2)


def test_weights_broadcast_scalar_and_row(rng):
    a = rng.standard_normal((4, 6))
    got = stablemath.logsumexp(a, axis=1, b=2.0)
    np.testing.assert_allclose(got, ref_logsumexp(a, axis=1) + np.log(2.0), rtol=4e-16, atol=1e-15)
    row = rng.uniform(0.5, 1.5, 6)
    got = stablemath.logsumexp(a, axis=0, b=row)
    np.testing.assert_allclose(got, ref_logsumexp(a, axis=0, b=row), rtol=4e-16, atol=2e-15)
    col = rng.uniform(0.5, 1.5, (4, 1))
    got = stablemath.logsumexp(a, b=col, keepdims=True)
    assert got.shape == (1, 1)
    np.testing.assert_allclose(got, ref_logsumexp(a, b=col, keepdims=True), rtol=4e-16, atol=4e-15)


def test_integer_weights_accepted():
    a = np.array([0.5, 1.5, -2.0])
    got = stablemath.logsumexp(a, b=[1, 2, 0])
    assert got == pytest.approx(ref_logsumexp(a, b=[1.0, 2.0, 0.0]), rel=4e-16)


# --------------------------------------------------------------------------------------------
# accuracy when one element dominates (log1p form) vs mpmath
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values",
    [
        [0.0, -40.0],
        [0.0, -20.0, -30.0, -745.0],
        [1.0, 1.0, -50.0],
        [5.0, 5.0 - 36.0, 5.0 - 37.0],
        [-1e-3, -60.0],
        [1e30, 1e30 - 2**50, -1e30],
        [1e300, -1e300, 0.0],
        [-1e300, -1e300 - 2**1000],
        [700.0, 690.0, -1000.0],
        [-745.0, -746.0],
        [0.5, -0.5, 1e-20],
    ],
)
def test_dominant_element_float64_vs_mpmath(values):
    got = stablemath.logsumexp(np.array(values))
    expected = mp_logsumexp(values)
    assert_ulp(got, expected, 1, dtype="float64")


def test_dominant_element_exact_value_like_scipy():
    # log1p(exp(-40)), correctly rounded; the naive log(1 + e^-40) gives 0.
    assert stablemath.logsumexp([0, -40.0]) == 4.248354255291589e-18
    assert stablemath.logsumexp(np.array([-40.0, 0.0])) == 4.248354255291589e-18


@pytest.mark.parametrize(
    "values",
    [[0.0, -20.0], [0.0, -15.0, -16.0], [3.0, 3.0 - 12.0], [1e7, 1e7 - 20.0], [-1e7, -1e7 - 10.0]],
)
def test_dominant_element_float32_vs_mpmath(values):
    a = np.array(values, dtype=np.float32)
    got = stablemath.logsumexp(a)
    assert got.dtype == np.float32
    assert_ulp(got, mp_logsumexp(a.astype(np.float64)), 1, dtype="float32")


# --------------------------------------------------------------------------------------------
# huge magnitudes (naive exp overflows / underflows)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype,base",
    [
        (np.float64, 1e300),
        (np.float64, -1e300),
        (np.float64, 1e30),
        (np.float64, -1e30),
        (np.float32, 1e7),
        (np.float32, -1e7),
        (np.float32, 1e30),
        (np.float32, -3e38),
        (np.float16, 6e4),
        (np.float16, -6e4),
    ],
)
@given(data=st.data())
def test_huge_magnitudes(dtype, base, data):
    n = data.draw(st.integers(1, 40))
    seed = data.draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    # offsets of a few ulp of the base and some values of the opposite sign
    ulp = float(np.spacing(dtype(abs(base))))
    k = rng.integers(-5, 6, n)
    a = (np.float64(base) + k * ulp).astype(dtype)
    if data.draw(st.booleans()):
        a[rng.integers(0, n)] = dtype(-base)
    rows = data.draw(st.booleans())
    a2 = np.stack([a, a[::-1]]) if rows else a
    axis = -1 if rows else None
    got = stablemath.logsumexp(a2, axis=axis)
    ref = ref_logsumexp(a2.astype(np.float64), axis=axis)
    assert np.all(np.isfinite(to_f64(got)))
    assert_lse_close(got, a2, ref, np.dtype(dtype).name, axis=axis)


def test_float64_extreme_values():
    big = np.finfo(np.float64).max
    assert stablemath.logsumexp(np.array([big, big])) == big  # + log 2 rounds away
    assert stablemath.logsumexp(np.array([-big, -big])) == -big
    assert stablemath.logsumexp(np.array([big, -big])) == big
    assert stablemath.logsumexp(np.array([5e-324, 0.0])) == pytest.approx(np.log(2.0), rel=2e-16)


# --------------------------------------------------------------------------------------------
# dtypes
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 1), -1])
def test_dtypes_vs_float64_reference(dtype, axis, rng):
    x64 = rng.standard_normal((17, 33)) * 4
    if dtype == "bfloat16":
        x = torch.from_numpy(x64).to(torch.bfloat16)
    else:
        x = x64.astype(dtype)
    xin = to_f64(x)  # the values actually passed
    got = stablemath.logsumexp(x, axis=axis)
    if dtype == "bfloat16":
        assert isinstance(got, torch.Tensor) and got.dtype == torch.bfloat16
    else:
        assert got.dtype == np.dtype(dtype)
    ref = ref_logsumexp(xin, axis=axis)
    if dtype in ("float16", "bfloat16"):
        # accumulated in float32, rounded once to the output dtype: within 1 ulp of the correctly
        # rounded float64 result
        assert_ulp(got, ref, 1, dtype=dtype)
    else:
        assert_lse_close(got, xin, ref, dtype, axis=axis)


def test_float16_accumulates_in_float32():
    # 40000 equal float16 values: the count (40000) and the result log(40000) need > 11 bits
    x = np.full(40000, -3.0, dtype=np.float16)
    got = stablemath.logsumexp(x)
    assert got.dtype == np.float16
    assert_ulp(got, -3.0 + np.log(40000.0), 1, dtype="float16")
    xb = torch.full((70000,), 2.0, dtype=torch.bfloat16)
    got = stablemath.logsumexp(xb)
    assert got.dtype == torch.bfloat16
    assert_ulp(got, 2.0 + np.log(70000.0), 1, dtype="bfloat16")


def test_float32_large_sum_accuracy(rng):
    x = rng.standard_normal(1_000_003).astype(np.float32)
    got = stablemath.logsumexp(x)
    ref = ref_logsumexp(x.astype(np.float64))
    # a well-summed float32 result is within a few ulp; a naive serial sum is ~100 ulp off
    assert_ulp(got, ref, 4, dtype="float32")
    z = np.zeros(2**20 + 3, dtype=np.float32)
    assert_ulp(stablemath.logsumexp(z), np.log(2.0**20 + 3), 1, dtype="float32")


# --------------------------------------------------------------------------------------------
# non-contiguous views
# --------------------------------------------------------------------------------------------
def _views(base):
    return {
        "transposed": base.T,
        "step2": base[::2, ::3],
        "negative": base[::-1, ::-2],
        "column_slice": base[:, 3:17],
        "swapaxes3d": base.reshape(6, 10, -1).swapaxes(0, 2),
        "broadcast": np.broadcast_to(base[:1], base.shape),
    }


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("view", ["transposed", "step2", "negative", "column_slice", "swapaxes3d", "broadcast"])
def test_non_contiguous_views(dtype, view, rng):
    base = (rng.standard_normal((30, 40)) * 3).astype(dtype)
    v = _views(base)[view]
    for axis in [None, 0, -1, (0, v.ndim - 1)]:
        got = stablemath.logsumexp(v, axis=axis)
        ref = ref_logsumexp(v.astype(np.float64), axis=axis)
        if dtype == np.float16:
            assert_ulp(got, ref, 1, dtype="float16", msg=f"{view} axis={axis}")
        else:
            assert_lse_close(got, v, ref, np.dtype(dtype).name, axis=axis, msg=f"{view} axis={axis}")


def test_non_contiguous_weights_and_mask(rng):
    a = rng.standard_normal((20, 30))
    b = rng.uniform(0.2, 2.0, (30, 20)).T
    where = (rng.random((40, 30)) < 0.7)[::2]
    got = stablemath.logsumexp(a[:, ::-1], axis=1, b=b[:, ::-1], where=where[:, ::-1])
    ref = ref_logsumexp(a[:, ::-1], axis=1, b=b[:, ::-1], where=where[:, ::-1])
    np.testing.assert_allclose(got, ref, rtol=4 * EPS["float64"], atol=40 * EPS["float64"])


# --------------------------------------------------------------------------------------------
# special values, 0-d, empty
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "values,expected,sign",
    [
        ([1.0, np.nan, 2.0], np.nan, np.nan),
        ([np.nan, np.inf], np.nan, np.nan),
        ([np.nan, -np.inf], np.nan, np.nan),
        ([1.0, np.inf, 2.0], np.inf, 1.0),
        ([np.inf, np.inf], np.inf, 1.0),
        ([np.inf, -np.inf], np.inf, 1.0),
        ([-np.inf, -np.inf], -np.inf, 0.0),
        ([-np.inf, 3.0], 3.0, 1.0),
        ([-np.inf], -np.inf, 0.0),
    ],
)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_special_values(values, expected, sign, dtype):
    a = np.array(values, dtype=dtype)
    got = stablemath.logsumexp(a)
    np.testing.assert_array_equal(to_f64(got), expected)
    res, sgn = stablemath.logsumexp(a, return_sign=True)
    np.testing.assert_array_equal(to_f64(res), expected)
    np.testing.assert_array_equal(to_f64(sgn), sign)


def test_special_values_per_row():
    a = np.array([[1.0, np.nan], [np.inf, 0.0], [-np.inf, -np.inf], [0.0, 0.0]])
    got = stablemath.logsumexp(a, axis=1)
    np.testing.assert_array_equal(got, [np.nan, np.inf, -np.inf, np.log(2.0)])
    got = stablemath.logsumexp(a.T, axis=0)
    np.testing.assert_array_equal(got, [np.nan, np.inf, -np.inf, np.log(2.0)])


@pytest.mark.parametrize("value", [3.25, -np.inf, np.inf, np.nan, -1e300])
def test_zero_dimensional(value):
    for x in (np.float64(value), np.array(value), value):
        got = stablemath.logsumexp(x)
        assert isinstance(got, np.generic) and got.dtype == np.float64
        np.testing.assert_array_equal(got, value)
    with np.errstate(over="ignore"):
        v32 = np.float32(value)
    got = stablemath.logsumexp(v32, axis=())
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, v32)
    res, sgn = stablemath.logsumexp(np.array(value), return_sign=True)
    np.testing.assert_array_equal(sgn, np.nan if np.isnan(value) else (0.0 if value == -np.inf else 1.0))


def test_empty_axis_tuple_is_elementwise(rng):
    a = rng.standard_normal((3, 4))
    got = stablemath.logsumexp(a, axis=())
    assert got.shape == (3, 4)
    np.testing.assert_allclose(got, a, rtol=0, atol=4e-16)


@pytest.mark.parametrize(
    "shape,axis,expected_shape",
    [
        ((0,), None, ()),
        ((0, 3), 0, (3,)),
        ((0, 3), 1, (0,)),
        ((3, 0), 1, (3,)),
        ((2, 0, 4), (0, 1), (4,)),
        ((2, 0, 4), None, ()),
    ],
)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_empty_reduction(shape, axis, expected_shape, dtype):
    a = np.zeros(shape, dtype=dtype)
    got = stablemath.logsumexp(a, axis=axis)
    assert np.shape(got) == expected_shape and got.dtype == dtype
    assert np.all(np.isneginf(got))
    res, sgn = stablemath.logsumexp(a, axis=axis, return_sign=True, keepdims=True)
    assert res.shape == np.sum(a, axis=axis, keepdims=True).shape
    assert np.all(np.isneginf(res)) and np.all(sgn == 0)
    # weights on an empty reduction
    assert np.all(np.isneginf(stablemath.logsumexp(a, axis=axis, b=np.ones(shape, dtype))))


def test_all_masked_reduction():
    res, sgn = stablemath.logsumexp([1.0, 2.0, 3.0], where=[False, False, False], return_sign=True)
    assert res == -np.inf and sgn == 0.0
    res, sgn = stablemath.logsumexp([1.0, 2.0], b=[0.0, 0.0], return_sign=True)
    assert res == -np.inf and sgn == 0.0


# --------------------------------------------------------------------------------------------
# threads: results do not depend on the thread count
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "shape,axis",
    [
        ((300_000,), None),  # one long row split into parts
        ((3, 200_000), 1),  # a few long rows
        ((2_000, 150), 1),  # many short rows
        ((150, 2_000), 0),  # strided rows
        ((40, 50, 60), (0, 2)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_bit_identical(shape, axis, dtype, rng):
    a = (rng.standard_normal(shape) * 3).astype(dtype)
    b = rng.uniform(0.5, 1.5, shape[-1:]).astype(dtype)
    where = (rng.random(shape[-1:]) < 0.7)
    with num_threads(1):
        serial = stablemath.logsumexp(a, axis=axis)
        serial_w = stablemath.logsumexp(a, axis=axis, b=b)
        serial_m = stablemath.logsumexp(a, axis=axis, where=where)
    with num_threads(2):
        par = stablemath.logsumexp(a, axis=axis)
        par_w = stablemath.logsumexp(a, axis=axis, b=b)
        par_m = stablemath.logsumexp(a, axis=axis, where=where)
    with num_threads(4):
        par4 = stablemath.logsumexp(a, axis=axis)
    np.testing.assert_array_equal(par, serial)
    np.testing.assert_array_equal(par4, serial)
    np.testing.assert_array_equal(par_w, serial_w)
    np.testing.assert_array_equal(par_m, serial_m)
    ref = ref_logsumexp(a.astype(np.float64), axis=axis)
    assert_lse_close(par, a, ref, np.dtype(dtype).name, axis=axis)
    assert_lse_close(par_w, a, ref_logsumexp(a.astype(np.float64), axis=axis, b=b.astype(np.float64)),
              np.dtype(dtype).name, axis=axis, b=b)


def test_set_num_threads_roundtrip_and_validation():
    old = stablemath.get_num_threads()
    assert isinstance(old, int) and old >= 1
    with num_threads(3):
        assert stablemath.get_num_threads() == 3
    assert stablemath.get_num_threads() == old
    with pytest.raises(ValueError):
        stablemath.set_num_threads(0)
    assert stablemath.get_num_threads() == old
