"""stablemath.softmax / log_softmax: every algorithm against float64 (SciPy) and mpmath references.

Bounds checked (conftest.softmax_bounds; eps = 2^-23 for float32, 2^-52 for float64, d = x - max,
L = log sum e^d, E = sum p|d|):

* softmax       relative error <= eps (8 + 2|d| + 2E + sqrt(n)/2)   (+ smallest normal, absolute)
* log_softmax   absolute error <= eps (2|d| + (8 + sqrt(n)/2) L + 2E) (+ smallest normal)

  e.g. float32, rows of length <= 1000 with |x| <= 5: max relative error of probabilities
  <= 1e-6 where p >= 1e-4 (checked on its own below);
* float16 / bfloat16: within 1 ulp of the correctly rounded float64 result (float32 accumulation);
* algorithms agree with each other within 8 ulp on rows with |x - max| <= 2 and n <= 256.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import example, given
from hypothesis import strategies as st

import stablemath
from conftest import (
    EPS,
    TINY,
    assert_same_nonfinite,
    assert_softmax_close,
    assert_ulp,
    mp_log_softmax,
    mp_softmax,
    num_threads,
    ref_softmax,
    softmax_bounds,
    to_f64,
)

ALGORITHMS = ["three_pass", "online", "two_pass", "auto"]
FUNCS = {"softmax": stablemath.softmax, "log_softmax": stablemath.log_softmax}

def algo_params(funcs=("softmax", "log_softmax")):
    return [pytest.param(f, a, id=f"{f}-{a}") for f in funcs for a in ALGORITHMS]


TWO_PASS_LIMIT = {"float16": 8192.0, "bfloat16": 8192.0, "float32": 8192.0, "float64": 262144.0}


# --------------------------------------------------------------------------------------------
# strategies
# --------------------------------------------------------------------------------------------
@st.composite
def arrays_with_axis(draw, max_dims=3, max_side=12, scales=(0.1, 1.0, 5.0, 30.0)):
    ndim = draw(st.integers(1, max_dims))
    shape = tuple(draw(st.lists(st.integers(1, max_side), min_size=ndim, max_size=ndim)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    scale = draw(st.sampled_from(scales))
    shift = draw(st.sampled_from([0.0, 0.0, 100.0, -1000.0, 5000.0]))
    x = rng.standard_normal(shape) * scale + shift
    if draw(st.booleans()):
        x = np.round(x)  # ties: several maxima in a row
    axis = draw(st.integers(-ndim, ndim - 1))
    return x, axis


# --------------------------------------------------------------------------------------------
# accuracy against the float64 reference
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func,algorithm", algo_params())
@given(xa=arrays_with_axis())
@example(xa=(np.array([[0.0, -100.0]]), -1))
@example(xa=(np.array([0.3]), 0))
def test_vs_float64_reference(request, func, algorithm, dtype, xa):
    x, axis = xa
    x = x.astype(dtype)
    y = FUNCS[func](x, axis=axis, algorithm=algorithm)
    assert isinstance(y, np.ndarray) and y.dtype == x.dtype
    assert_softmax_close(y, x, axis, func, msg=f"{algorithm}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_16bit_within_one_ulp(request, func, algorithm, dtype, rng):
    for n, scale in [(1, 1.0), (7, 1.0), (33, 4.0), (1000, 2.0), (5, 200.0)]:
        x64 = rng.standard_normal((9, n)) * scale
        x = torch.from_numpy(x64).to(torch.bfloat16) if dtype == "bfloat16" else x64.astype(np.float16)
        y = FUNCS[func](x, axis=-1, algorithm=algorithm)
        assert str(y.dtype).endswith(dtype)
        ref = ref_softmax(to_f64(x), axis=-1, log=func == "log_softmax")
        assert_ulp(y, ref, 1, dtype=dtype, msg=f"n={n} scale={scale}")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_float32_moderate_rows_relative_error_below_1e6(algorithm, rng):
    # Stated bound for typical use: |x| <= 5, rows up to 1000 long, probabilities >= 1e-4.
    for n in (2, 10, 100, 1000):
        x = rng.uniform(-5, 5, (200, n)).astype(np.float32)
        y = stablemath.softmax(x, algorithm=algorithm).astype(np.float64)
        ref = ref_softmax(x.astype(np.float64))
        big = ref >= 1e-4
        rel = np.abs(y - ref)[big] / ref[big]
        assert rel.max() <= 1e-6, f"n={n}: max relative error {rel.max():.3g}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
def test_algorithms_agree_within_few_ulp(func, dtype, rng):
    algos = ["three_pass", "online", "two_pass", "auto"] if func == "softmax" else ["three_pass", "online", "auto"]
    for n in (1, 2, 5, 16, 64, 256):
        for shift in (0.0, 50.0, -500.0, 3000.0):
            x = (rng.uniform(-1, 1, (64, n)) + shift).astype(dtype)
            ys = {a: FUNCS[func](x, algorithm=a) for a in algos}
            for a in algos[1:]:
                assert_ulp(ys[a], ys[algos[0]], 8, msg=f"{func} {a} vs {algos[0]} n={n} shift={shift}:")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_two_pass_log_softmax_agrees_with_other_algorithms(dtype, rng):
    for n in (1, 2, 5, 16, 64, 256):
        x = rng.uniform(-1, 1, (64, n)).astype(dtype)
        assert_ulp(stablemath.log_softmax(x, algorithm="two_pass"),
                   stablemath.log_softmax(x, algorithm="three_pass"), 8, msg=f"n={n}")


# --------------------------------------------------------------------------------------------
# properties
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@given(xa=arrays_with_axis(max_side=40))
def test_sums_to_one(algorithm, dtype, xa):
    x, axis = xa
    x = x.astype(dtype)
    y = stablemath.softmax(x, axis=axis, algorithm=algorithm).astype(np.float64)
    soft_b, _ = softmax_bounds(x.astype(np.float64), axis, np.dtype(dtype).name)
    total = y.sum(axis=axis)
    allowed = soft_b.sum(axis=axis) + EPS[np.dtype(dtype).name] * x.shape[axis]
    assert np.all(np.abs(total - 1.0) <= allowed), f"sums {total} (allowed {allowed})"
    assert np.all((y >= 0) & (y <= 1))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@given(xa=arrays_with_axis(max_side=40))
@example(xa=(np.array([-2998.8586]), 0))
@example(xa=(np.array([1.0]), 0))
@example(xa=(np.array([3.5]), 0))
def test_log_softmax_is_never_positive(request, algorithm, dtype, xa):
    x, axis = xa
    x = x.astype(dtype)
    y = stablemath.log_softmax(x, axis=axis, algorithm=algorithm)
    assert np.all(y <= 0), f"positive log-probabilities {y[y > 0]}"


@st.composite
def shift_case(draw):
    """An integer-valued float32 row and a shift c with x + c exact in float32."""
    n = draw(st.integers(1, 30))
    ints = draw(st.lists(st.integers(-40, 40), min_size=n, max_size=n))
    c = draw(st.sampled_from([1e7, -1e7, 4096.0, -8192.0, 8193.0, 2.0**22, -(2.0**23)]))
    return np.array(ints, dtype=np.float64), c


@pytest.mark.parametrize("func,algorithm", algo_params())
@given(case=shift_case())
@example(case=(np.array([0.0, -30.0, -35.0]), 4096.0))  # dominated row, two_pass path
def test_shift_invariance_float32(request, func, algorithm, case):
    x, c = case
    xs = (x + c).astype(np.float32)
    assert np.all(xs.astype(np.float64) == x + c)  # the shift is exact
    y = FUNCS[func](xs, algorithm=algorithm)
    # reference of the *unshifted* row: the result must not depend on c
    assert_softmax_close(y, x.astype(np.float32), -1, func, msg=f"c={c}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("c", [2.0**40, -(2.0**40), 1e15, -1e15, 262143.0, 262145.0])
def test_shift_invariance_float64(request, func, algorithm, c, rng):
    # row 0 (maximum exactly c) takes the two_pass path when |c| <= 262144
    x = np.round(rng.standard_normal((6, 25)) * 8)
    x[0, :] = -40.0
    x[0, 7] = 0.0  # a dominant element
    xs = x + c
    assert np.all(xs - c == x)
    y = FUNCS[func](xs, algorithm=algorithm)
    assert_softmax_close(y, x, -1, func, msg=f"c={c}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize(
    "dtype,lo,hi",
    [(np.float64, -1e300, 1e300), (np.float64, -1e30, 1e30), (np.float32, -1e7, 1e7),
     (np.float32, -3e38, 3e38), (np.float16, -6e4, 6e4)],
)
@given(mags=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=20), signs=st.lists(st.booleans(), min_size=20,
       max_size=20), tie=st.booleans())
def test_huge_magnitudes(func, algorithm, dtype, lo, hi, mags, signs, tie):
    # every element is huge: |x| in [max(hi / 1000, 1.05 * two_pass limit), hi], where naive exp
    # overflows / underflows. (The row maximum is then beyond the two_pass range limit, so two_pass
    # rows are computed by 'online'; rows with a small maximum next to huge negative values are in
    # test_huge_negative_next_to_small_max.)
    low = max(hi / 1000, 1.05 * TWO_PASS_LIMIT[np.dtype(dtype).name])
    m = low + np.array(mags) * (hi - low)
    with np.errstate(over="ignore"):
        x = (m * np.where(signs[: len(mags)], 1.0, -1.0)).astype(dtype)
    assert np.all(np.isfinite(x))
    if tie:  # several maxima
        x[0] = x.max()
    y = FUNCS[func](x, algorithm=algorithm)
    assert not np.any(np.isnan(to_f64(y)))
    if func == "softmax":
        assert np.all(np.isfinite(to_f64(y)))
    assert_softmax_close(y, x, -1, func)


@pytest.mark.parametrize("func,algorithm", algo_params())
def test_huge_magnitude_examples(func, algorithm):
    cases = [
        (np.array([1e30, 1e30, 0.0]), [0.5, 0.5, 0.0]),
        (np.array([-1e300, -1e300]), [0.5, 0.5]),
        (np.array([1e300, -1e300]), [1.0, 0.0]),
        (np.array([1e308, 1.7e308]), [0.0, 1.0]),
        (np.array([-1e30, -1e30 - 2.0**50, -1e30 - 2.0**47]), None),
        (np.array([1e7, 1e7 - 1], dtype=np.float32), None),
        (np.array([-1e7, -1e7 - 1], dtype=np.float32), None),
    ]
    for x, _ in cases:
        y = FUNCS[func](x, algorithm=algorithm)
        expected = (mp_log_softmax if func == "log_softmax" else mp_softmax)(x.astype(np.float64))
        assert_ulp(y, expected, 2, msg=f"{func} {x}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize(
    "values,dtype",
    [([0.5, -1e30], np.float64), ([-3.0, -1e300], np.float64), ([0.5, -3e38], np.float32),
     ([2.0, -1e7, 2.0 - 40.0], np.float32), ([100.0, -6e4], np.float16)],
)
def test_huge_negative_next_to_small_max(request, func, algorithm, values, dtype):
    # a small row maximum (two_pass path) next to values far below its extended-exponent clamp
    x = np.array(values, dtype=dtype)
    y = FUNCS[func](x, algorithm=algorithm)
    expected = (mp_log_softmax if func == "log_softmax" else mp_softmax)(x.astype(np.float64))
    assert_ulp(y, expected, 2, msg=f"{func} {x}:")


# --------------------------------------------------------------------------------------------
# log_softmax: order of operations and dominant elements vs mpmath
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "values",
    [[0.0, -100.0], [0.0, -69.0776], [5.0, -40.0, -41.0], [0.25, -50.0, -60.5, -70.0],
     [700.0, 0.0], [1e5, 1e5 - 30.0], [-3e5, -3e5 - 40.0]],
)
def test_log_softmax_dominant_element_float64_vs_mpmath(request, algorithm, values):
    # differences x - max are exact here, so the result must be within 2 ulp of the exact one
    y = stablemath.log_softmax(np.array(values), algorithm=algorithm)
    assert_ulp(y, mp_log_softmax(values), 2, dtype="float64")


def test_log_softmax_dominant_element_known_value():
    y = stablemath.log_softmax(np.array([0.0, -100.0]))
    assert y[1] == -100.0
    assert y[0] == pytest.approx(-3.720075976020836e-44, rel=4 * EPS["float64"])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize(
    "values",
    [[0.0, -30.0], [0.0, -20.0, -21.0], [-1e7, -1e7 - 1.0], [1e7, 1e7 - 2.0, 1e7 - 40.0], [8000.0, 7970.0],
     [-2998.8586], [-3.0, -3.0, -80.0]],
)
def test_log_softmax_float32_vs_mpmath(request, algorithm, values):
    x = np.array(values, dtype=np.float32)
    y = stablemath.log_softmax(x, algorithm=algorithm)
    assert_ulp(y, mp_log_softmax(x.astype(np.float64)), 2, dtype="float32")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_log_softmax_large_negative_float16(algorithm):
    # pytorch#158310: float16 log_softmax around -2e4 gave -inf on CPU
    x = np.array([-20000.0, -20000.0, -20016.0], dtype=np.float16)
    y = stablemath.log_softmax(x, algorithm=algorithm)
    assert np.all(np.isfinite(y))
    assert_ulp(y, mp_log_softmax(x.astype(np.float64)), 1, dtype="float16")


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("n", [512, 4096])
def test_bfloat16_uniform_row_accumulates_in_float32(algorithm, n):
    # executorch#20089: bf16 accumulation saturates at 256, giving ~1/256 instead of 1/n
    x = torch.full((3, n), 0.75, dtype=torch.bfloat16)
    y = stablemath.softmax(x, algorithm=algorithm)
    assert y.dtype == torch.bfloat16
    assert torch.all(y.float() == 1.0 / n)
    yl = stablemath.log_softmax(x, algorithm=algorithm)
    assert_ulp(yl, np.full((3, n), -np.log(n)), 1, dtype="bfloat16")


# --------------------------------------------------------------------------------------------
# two_pass: rows on both sides of its range limit (|max| 8192 float32 / 262144 float64)
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize(
    "dtype,limit", [(np.float32, 8192.0), (np.float64, 262144.0)]
)
@pytest.mark.parametrize("side", [-1.0, 1.0])
@pytest.mark.parametrize("offset", [-3.0, -0.5, 0.0, 0.5, 3.0, 12000.0])
def test_near_two_pass_range_limit(request, func, algorithm, dtype, limit, side, offset, rng):
    top = side * (limit + offset)
    x = (top - np.abs(rng.standard_normal((5, 40)) * 6)).astype(dtype)
    x[:, 3] = dtype(top)
    x[1, 5:] = dtype(top - 20000.0)  # far below the top: beyond the extended-exponent clamp
    x[2, :] = dtype(top - 40.0)
    x[2, 3] = dtype(top)  # a dominant element
    y = FUNCS[func](x, algorithm=algorithm)
    assert_softmax_close(y, x, -1, func, msg=f"top={top}:")


# --------------------------------------------------------------------------------------------
# axes, non-contiguous views, long rows, threads
# --------------------------------------------------------------------------------------------
def _views(base):
    return {
        "transposed": base.T,
        "step": base[::2, ::3],
        "negative": base[::-1, ::-2],
        "slice": base[3:, 5:29],
        "swapaxes3d": base.reshape(6, 10, -1).swapaxes(0, 2),
        "broadcast": np.broadcast_to(base[:1], base.shape),
    }


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_any_axis_and_non_contiguous_views(request, func, algorithm, dtype, rng):
    base = (rng.standard_normal((30, 40)) * 4).astype(dtype)
    for name, v in _views(base).items():
        for axis in range(-v.ndim, v.ndim):
            y = FUNCS[func](v, axis=axis, algorithm=algorithm)
            assert_softmax_close(y, v, axis, func, msg=f"{name} axis={axis}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_long_row_within_row_split(func, algorithm, dtype, rng):
    # 300000 > 2 * 65536: the row is split into parts, reduced in parallel and merged
    x = (rng.standard_normal((1, 300_000)) * 3).astype(dtype)
    x[0, 123_456] = x.max() + 1.0  # maximum in a middle part
    y = FUNCS[func](x, algorithm=algorithm)
    assert_softmax_close(y, x, -1, func)


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layout", ["steps", "ramp", "inf_chunk", "late_max"])
def test_long_row_chunk_maxima_differ(request, func, algorithm, dtype, layout, rng):
    # rows of 3 cache chunks (2048) and more, whose chunk maxima differ widely: the online
    # algorithm rescales every chunk by e^(m_chunk - M)
    n = 5 * 2048 + 77
    x = rng.standard_normal(n) * 2
    if layout == "steps":
        x += np.repeat(np.arange(6) * -15.0, 2048)[:n][::-1]
    elif layout == "ramp":
        x += np.linspace(-200.0, 0.0, n)
    elif layout == "inf_chunk":
        x[2048:4096] = -np.inf  # a chunk with no mass
    else:
        x[-1] = x.max() + 30.0  # the maximum in the last, short chunk
    x = np.stack([x, x[::-1]]).astype(dtype)
    y = FUNCS[func](x, algorithm=algorithm)
    if layout == "inf_chunk":
        masked = -np.inf if func == "log_softmax" else 0.0
        assert np.all(to_f64(y)[0, 2048:4096] == masked)
        fin = np.isfinite(x)
        assert_softmax_close(y[0][fin[0]], x[0][fin[0]], -1, func)
    else:
        assert_softmax_close(y, x, -1, func)


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("where_nan", [0, 3000, 10_000])
def test_long_row_nan_among_minus_inf(func, algorithm, where_nan):
    # a NaN never wins a chunk's max; a chunk of -inf with one NaN must still make the row NaN
    x = np.full(5 * 2048, -np.inf)
    x[7000:7100] = 1.0
    x[where_nan] = np.nan
    y = FUNCS[func](x, algorithm=algorithm)
    assert np.all(np.isnan(y)), f"{int(np.sum(~np.isnan(y)))} non-NaN entries"
    x32 = x.astype(np.float32)
    assert np.all(np.isnan(FUNCS[func](x32, algorithm=algorithm)))


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize(
    "shape,axis",
    [((1, 300_000), -1), ((3, 140_000), -1), ((2_000, 100), -1), ((300, 400), 0), ((50, 70_000), -1)],
)
def test_threads_bit_identical(func, algorithm, shape, axis, rng):
    x = (rng.standard_normal(shape) * 3).astype(np.float32)
    with num_threads(1):
        serial = FUNCS[func](x, axis=axis, algorithm=algorithm)
    with num_threads(2):
        par2 = FUNCS[func](x, axis=axis, algorithm=algorithm)
    with num_threads(3):
        par3 = FUNCS[func](x, axis=axis, algorithm=algorithm)
    np.testing.assert_array_equal(par2, serial)
    np.testing.assert_array_equal(par3, serial)


def test_threads_bit_identical_with_mask(rng):
    x = rng.standard_normal((4, 200_000))
    where = rng.random((4, 200_000)) < 0.5
    with num_threads(1):
        serial = stablemath.log_softmax(x, where=where)
    with num_threads(2):
        par = stablemath.log_softmax(x, where=where)
    np.testing.assert_array_equal(par, serial)


# --------------------------------------------------------------------------------------------
# where masks and safe
# --------------------------------------------------------------------------------------------
@st.composite
def masked_case(draw):
    x, axis = draw(arrays_with_axis(max_dims=3, max_side=8, scales=(1.0, 5.0)))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    drop = draw(st.integers(0, x.ndim))
    wshape = tuple(1 if draw(st.booleans()) else s for s in x.shape[drop:])
    where = rng.random(wshape) < draw(st.sampled_from([0.0, 0.3, 0.7, 1.0]))
    poison = draw(st.sampled_from([None, np.nan, np.inf, -np.inf]))
    if poison is not None:  # masked entries may hold anything
        x = np.where(np.broadcast_to(where, x.shape), x, poison)
    return x, axis, where


@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("safe", [False, True])
@given(case=masked_case())
@example(case=(np.array([[0.3, np.nan, -40.0]]), -1, np.array([True, False, True])))
def test_where_mask_vs_reference(request, func, algorithm, safe, case):
    x, axis, where = case
    full = np.broadcast_to(where, x.shape)
    y = FUNCS[func](x, axis=axis, algorithm=algorithm, where=where, safe=safe)
    ref = ref_softmax(x, axis=axis, where=where, safe=safe, log=func == "log_softmax")
    assert_same_nonfinite(y, ref)
    masked_val = -np.inf if func == "log_softmax" else 0.0
    assert np.all(y[~full] == masked_val)
    # finite part: same bounds as unmasked rows, on the row restricted to unmasked entries
    xm = np.where(full, x, -1e300)  # contributes nothing, keeps the bounds finite
    soft_b, log_b = softmax_bounds(xm, axis, "float64")
    bound = log_b if func == "log_softmax" else soft_b
    fin = np.isfinite(ref) & full
    with np.errstate(invalid="ignore"):
        err = np.abs(y - ref)
    assert np.all(err[fin] <= bound[fin]), f"error {err[fin].max()}"


@pytest.mark.parametrize("func,algorithm", algo_params())
def test_where_whole_row_masked(func, algorithm):
    x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0], [np.nan, np.inf, -np.inf]])
    where = np.array([[True, False, True], [False, False, False], [False, False, False]])
    masked = -np.inf if func == "log_softmax" else 0.0
    for safe in (False, True):
        y = FUNCS[func](x, where=where, safe=safe, algorithm=algorithm)
        expected_row0 = ref_softmax(np.array([1.0, 3.0]), log=func == "log_softmax")
        assert_ulp(y[0, [0, 2]], expected_row0, 2)
        assert y[0, 1] == masked
        # fully masked rows: every entry is masked, so every entry gives the masked value
        assert np.all(y[1:] == masked), f"safe={safe}: {y[1:]}"


@pytest.mark.parametrize("func,algorithm", algo_params())
def test_where_masked_entries_fixed_even_in_nan_row(func, algorithm):
    x = np.array([[np.nan, 1.0, 2.0], [np.inf, 1.0, 2.0], [-np.inf, -np.inf, 5.0]])
    where = np.array([[True, False, True], [True, True, False], [True, True, False]])
    masked = -np.inf if func == "log_softmax" else 0.0
    for safe in (False, True):
        y = FUNCS[func](x, where=where, safe=safe, algorithm=algorithm)
        assert np.isnan(y[0, 0]) and np.isnan(y[0, 2]) and y[0, 1] == masked
        assert np.isnan(y[1, 0]) and np.isnan(y[1, 1]) and y[1, 2] == masked
        # row 2: unmasked entries all -inf -> NaN, or masked value when safe
        if safe:
            assert np.all(y[2] == masked)
        else:
            assert np.isnan(y[2, 0]) and np.isnan(y[2, 1]) and y[2, 2] == masked


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_where_broadcast_key_padding(algorithm, rng):
    # (batch, query, key) scores with a (batch, 1, key) padding mask
    x = rng.standard_normal((2, 3, 6))
    where = np.array([[[True] * 4 + [False] * 2], [[True] * 6]])
    y = stablemath.softmax(x, where=where, algorithm=algorithm)
    ref = ref_softmax(x, where=where)
    np.testing.assert_allclose(y, ref, rtol=32 * EPS["float64"], atol=0)
    assert np.all(y[0, :, 4:] == 0)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("func,algorithm", algo_params())
def test_where_dtypes_and_strided_mask(func, algorithm, dtype, rng):
    x = rng.standard_normal((8, 20)).astype(dtype)
    where = (rng.random((20, 16)) < 0.6).T[::2]  # non-contiguous mask
    y = FUNCS[func](x[:, ::-1], where=where[:, ::-1], algorithm=algorithm)
    ref = ref_softmax(x[:, ::-1].astype(np.float64), where=where[:, ::-1], log=func == "log_softmax")
    if dtype == np.float16:
        assert_ulp(y, ref, 1, dtype="float16")
    else:
        assert_same_nonfinite(y, ref)
        fin = np.isfinite(ref)
        np.testing.assert_allclose(to_f64(y)[fin], ref[fin], rtol=64 * EPS[np.dtype(dtype).name], atol=TINY[np.dtype(dtype).name])


# --------------------------------------------------------------------------------------------
# non-finite rows, 0-d, empty
# --------------------------------------------------------------------------------------------
EDGE_ROWS = [
    ([1.0, np.nan, 2.0], "nan"),
    ([np.nan, np.nan], "nan"),
    ([1.0, np.inf, 2.0], "nan"),
    ([np.inf, np.inf], "nan"),
    ([np.inf, -np.inf], "nan"),
    ([np.nan, -np.inf], "nan"),
    ([-np.inf, -np.inf, -np.inf], "nomass"),
    ([-np.inf], "nomass"),
    ([-np.inf, 0.0, -np.inf], "onehot"),
    ([-np.inf, 3.0, 3.0], "half"),
]


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("func,algorithm", algo_params())
@pytest.mark.parametrize("safe", [False, True])
def test_non_finite_rows(func, algorithm, dtype, safe):
    log = func == "log_softmax"
    for values, kind in EDGE_ROWS:
        x = np.array(values, dtype=dtype)
        y = to_f64(FUNCS[func](x, algorithm=algorithm, safe=safe))
        if kind == "nan":
            expected = np.full(x.shape, np.nan)
        elif kind == "nomass":
            expected = np.full(x.shape, (-np.inf if log else 0.0) if safe else np.nan)
        elif kind == "onehot":
            expected = np.array([-np.inf, 0.0, -np.inf]) if log else np.array([0.0, 1.0, 0.0])
        else:
            expected = np.array([-np.inf, -np.log(2), -np.log(2)]) if log else np.array([0.0, 0.5, 0.5])
        assert_ulp(y, expected, 1, dtype=dtype, msg=f"{values} safe={safe}:")


@pytest.mark.parametrize("func,algorithm", algo_params())
def test_non_finite_rows_mixed_in_2d(func, algorithm, rng):
    x = rng.standard_normal((6, 5))
    x[1, 2] = np.nan
    x[2, 0] = np.inf
    x[3, :] = -np.inf
    x[4, :3] = -np.inf
    for axis in (1, 0):
        xx = x if axis == 1 else x.T.copy()
        y = FUNCS[func](xx, axis=axis, algorithm=algorithm)
        ref = ref_softmax(xx, axis=axis, log=func == "log_softmax")
        assert_same_nonfinite(y, ref, msg=f"axis={axis}")
        fin = np.isfinite(ref)
        np.testing.assert_allclose(y[fin], ref[fin], rtol=64 * EPS["float64"], atol=1e-300)


@pytest.mark.parametrize("func,expected", [("softmax", 1.0), ("log_softmax", 0.0)])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_zero_dimensional(request, func, expected, algorithm):
    for x in (np.float64(3.5), np.array(-2.0), np.float32(7.0), -1e300):
        for axis in (-1, 0):
            y = FUNCS[func](x, axis=axis, algorithm=algorithm)
            assert np.ndim(y) == 0
            assert to_f64(y) == expected, f"{func}({x!r}, axis={axis}) = {y!r}"
    y = FUNCS[func](torch.tensor(2.0), algorithm=algorithm)
    assert isinstance(y, torch.Tensor) and y.shape == () and y.item() == expected
    y = FUNCS[func](np.array(np.nan), algorithm=algorithm)
    assert np.isnan(y)


@pytest.mark.parametrize("func", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,axis", [((0,), 0), ((0, 5), 1), ((0, 5), 0), ((5, 0), 1), ((5, 0), 0), ((2, 0, 3), 1)])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_empty(func, shape, axis, dtype):
    x = np.zeros(shape, dtype=dtype)
    y = FUNCS[func](x, axis=axis)
    assert isinstance(y, np.ndarray) and y.shape == shape and y.dtype == dtype
    y = FUNCS[func](torch.zeros(shape, dtype=torch.float32), axis=axis)
    assert isinstance(y, torch.Tensor) and tuple(y.shape) == shape
