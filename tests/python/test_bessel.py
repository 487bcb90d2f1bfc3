"""Python entry points of the log-Bessel functions: values against mpmath, identities, broadcasting,
dtypes, array types and edge cases. The scalar code's full accuracy sweep is in tests/cpp/test_bessel.cpp."""
import mpmath
import numpy as np
import pytest
import torch

import stablemath as sm

mpmath.mp.dps = 40


def mp_log_i(v, x):
    return float(mpmath.log(mpmath.besseli(v, x, maxterms=10**6)))


def mp_log_k(v, x):
    return float(mpmath.log(mpmath.besselk(v, x)))  # (maxterms makes besselk crawl near x = 30)


# (v, x) spread over the series, Hankel, uniform-asymptotic and Temme regions and their borders.
POINTS = [(0.0, 1e-5), (0.0, 0.7), (0.5, 3.0), (1.0, 29.9), (1.0, 30.1), (2.5, 59.0), (3.0, 1500.0),
          (7.3, 19.7), (12.0, 19.0), (13.0, 5.0), (20.2, 35.9), (57.0, 84.0), (0.3, 274.3), (164.0, 170.0),
          (400.0, 0.01), (1000.0, 700.0), (1e4, 1e-3), (2.0, 1e4)]


@pytest.mark.parametrize("v,x", POINTS)
def test_log_bessel_i_and_k_vs_mpmath(v, x):
    assert sm.log_bessel_i(v, x) == pytest.approx(mp_log_i(v, x), rel=2e-14, abs=2e-14)
    assert sm.log_bessel_k(v, x) == pytest.approx(mp_log_k(v, x), rel=2e-14, abs=2e-14)


@pytest.mark.parametrize("v,x", POINTS[:12])
def test_ratios_and_scaled_forms_vs_mpmath(v, x):
    iv, iv1 = mpmath.besseli(v, x), mpmath.besseli(v + 1, x)
    kv, kv1 = mpmath.besselk(v, x), mpmath.besselk(v + 1, x)
    assert sm.bessel_i_ratio(v, x) == pytest.approx(float(iv1 / iv), rel=1e-14)
    assert sm.bessel_k_ratio(v, x) == pytest.approx(float(kv1 / kv), rel=1e-14)
    assert sm.log_bessel_ie(v, x) == pytest.approx(float(mpmath.log(iv) - x), rel=2e-14, abs=2e-14)
    assert sm.log_bessel_ke(v, x) == pytest.approx(float(mpmath.log(kv) + x), rel=2e-14, abs=2e-14)


def test_wronskian_over_the_whole_range():
    # I_v K_{v+1} + I_{v+1} K_v = 1/x, in log space: no reference needed, any v and x. The scaled
    # forms (log I - x, log K + x) keep the sum free of the cancellation of x - x at x ~ 1e300.
    rng = np.random.default_rng(7)
    v = 10 ** rng.uniform(-3, 6, 4000)
    x = 10 ** rng.uniform(-300, 300, 4000)
    li, lk = sm.log_bessel_ie(v, x), sm.log_bessel_ke(v, x)
    li1, lk1 = sm.log_bessel_ie(v + 1, x), sm.log_bessel_ke(v + 1, x)
    assert np.all(np.isfinite(li)) and np.all(np.isfinite(lk))
    assert np.all(np.isfinite(sm.log_bessel_i(v, x))) and np.all(np.isfinite(sm.log_bessel_k(v, x)))
    lhs = np.logaddexp(li + lk1, li1 + lk)
    # Each log is accurate relative to its own size; their sum cancels (e.g. +-3e8 at v = 7e5,
    # x = 1e-163), so the bound scales with the terms, at 1e-14 relative error per log.
    scale = np.maximum(np.abs(li) + np.abs(lk1), np.abs(li1) + np.abs(lk)) + np.abs(np.log(x)) + 1
    assert np.all(np.abs(lhs + np.log(x)) <= 1e-14 * scale * 4), np.max(np.abs(lhs + np.log(x)) / scale)


def test_recurrence_and_monotonicity():
    rng = np.random.default_rng(3)
    v = rng.uniform(1, 300, 500)
    x = 10 ** rng.uniform(-2, 3, 500)
    # I_{v-1} - I_{v+1} = (2v/x) I_v, divided by I_v: 1/r_{v-1} - r_v = 2v/x
    r_prev, r = sm.bessel_i_ratio(v - 1, x), sm.bessel_i_ratio(v, x)
    np.testing.assert_allclose(1 / r_prev - r, 2 * v / x, rtol=1e-11)
    xs = np.linspace(0.1, 50, 300)
    assert np.all(np.diff(sm.log_bessel_i(2.5, xs)) > 0)
    assert np.all(np.diff(sm.log_bessel_k(2.5, xs)) < 0)
    assert np.all(np.diff(sm.log_bessel_i(np.linspace(0, 60, 100), 7.0)) < 0)


def test_no_overflow_where_scipy_fails():
    from scipy.special import ive
    v, x = 5000.0, 10.0  # I_v(x) ~ 1e-20000: SciPy underflows to 0, the log is finite
    assert ive(v, x) == 0
    assert sm.log_bessel_i(v, x) == pytest.approx(mp_log_i(v, x), rel=1e-14)
    assert np.isfinite(sm.log_bessel_k(1e6, 1e-300))


def test_edges():
    nan, inf = float("nan"), float("inf")
    assert sm.log_bessel_i(0.0, 0.0) == 0.0
    assert sm.log_bessel_i(1.5, 0.0) == -inf
    assert sm.log_bessel_k(0.5, 0.0) == inf
    assert np.isnan(sm.log_bessel_i(1.0, -1.0)) and np.isnan(sm.log_bessel_k(1.0, -1.0))
    assert np.isnan(sm.log_bessel_i(nan, 1.0)) and np.isnan(sm.log_bessel_k(1.0, nan))
    assert sm.log_bessel_i(-3.0, 2.0) == pytest.approx(sm.log_bessel_i(3.0, 2.0), rel=1e-15)  # I_{-n} = I_n
    assert np.isnan(sm.log_bessel_i(-2.5, 2.0))
    assert sm.log_bessel_k(-2.5, 2.0) == pytest.approx(sm.log_bessel_k(2.5, 2.0), rel=1e-15)  # K_{-v} = K_v


def test_broadcasting_dtypes_and_array_types():
    v = np.array([0.0, 1.0, 2.0])
    x = np.array([[0.5], [5.0]])
    out = sm.log_bessel_i(v, x)
    assert out.shape == (2, 3) and out.dtype == np.float64
    for i in range(2):
        for j in range(3):
            assert out[i, j] == sm.log_bessel_i(v[j], x[i, 0])
    assert sm.log_bessel_i(np.float32(2), np.ones(4, np.float32)).dtype == np.float32
    assert sm.log_bessel_i(np.ones(4, np.float32), 2.0).dtype == np.float32  # Python float: no promotion
    assert sm.log_bessel_i(np.arange(3), 2.0).dtype == np.float64  # integer orders allowed
    assert isinstance(sm.log_bessel_i(1.0, 2.0), float)
    t = sm.log_bessel_k(torch.tensor([1.0, 2.0], dtype=torch.float64), torch.tensor(3.0, dtype=torch.float64))
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float64
    assert t[1].item() == pytest.approx(mp_log_k(2.0, 3.0), rel=1e-14)
    f32 = sm.log_bessel_i(np.float32(30.5), np.float32(12.25))
    assert f32 == pytest.approx(mp_log_i(30.5, 12.25), rel=2 * float(np.finfo(np.float32).eps))


def test_errors():
    with pytest.raises(ValueError, match="v and x"):
        sm.log_bessel_i(np.ones(3), np.ones(4))
    with pytest.raises(TypeError, match="x"):
        sm.log_bessel_i(1.0, np.array([1 + 1j]))
    with pytest.raises(TypeError, match="v"):
        sm.log_bessel_k("a", 1.0)


# Beyond the documented range (x <= 1e300): R = sqrt(v^2 + x^2), R + x and v asinh(v/x) overflowed
# where the results do not (found by tests/fuzz/fuzz_api.py: log_bessel_ie(1e200, 1e308) was -1e92,
# bessel_k_ratio(max, max) inf). References: the Debye expansion in mpmath at 400 digits
# (hostile_corpus._ew_scalar); its omitted terms are O(1/R) < 1e-300 here.
_MAX = float(np.finfo(np.float64).max)
HUGE = [  # v, x: log I, log K, log Ie, log Ke, I_{v+1}/I_v, K_{v+1}/K_v
    (1e200, 1e308, 1e308, -1e308, -4.9999999999999995e91, 4.9999999999999995e91, 1.0, 1.0),
    (_MAX, _MAX, 9.57882765673286e307, -9.57882765673286e307, -8.398103691890297e307, 8.398103691890297e307,
     0.41421356237309503, 2.414213562373095),
    (1.5e308, 1e308, 1.063081180133069e306, -1.063081180133069e306, -9.893691881986694e307, 9.893691881986694e307,
     0.3027756377319947, 3.302775637731995),
    (3e307, 2e307, 2.126162360266153e305, -2.126162360266153e305, -1.9787383763973386e307, 1.9787383763973386e307,
     0.3027756377319947, 3.3027756377319943),
    (1e305, _MAX, 1.7976928567280905e308, -1.7976928567280905e308, -2.7813422514137116e301, 2.7813422514137116e301,
     0.9994438862526636, 1.0005564231819173),
    (-_MAX, 1.07e301, -np.inf, np.inf, -np.inf, np.inf, 33601740.83854799, 2.9760362857533796e-08),
]
_HUGE_FUNCS = [sm.log_bessel_i, sm.log_bessel_k, sm.log_bessel_ie, sm.log_bessel_ke, sm.bessel_i_ratio, sm.bessel_k_ratio]


@pytest.mark.parametrize("row", HUGE, ids=lambda r: f"v={r[0]:.3g},x={r[1]:.3g}")
def test_huge_order_and_argument_scalar(row):
    v, x, *refs = row
    for f, ref in zip(_HUGE_FUNCS, refs):
        if f is sm.bessel_i_ratio and v < 0:
            continue  # non-integer negative order: NaN
        assert f(v, x) == pytest.approx(ref, rel=1e-14), f.__name__


def test_huge_order_and_argument_batched():
    # Arrays go through the batched kernel, which keeps max(|v|, x) < 1e150 and passes the rest to
    # the scalar code: huge pairs mixed with ordinary ones give the same values as scalar calls.
    rng = np.random.default_rng(11)
    v = rng.uniform(0, 300, 96)
    x = rng.uniform(20, 400, 96)
    pos = rng.choice(96, len(HUGE), replace=False)
    v[pos] = [r[0] for r in HUGE]
    x[pos] = [r[1] for r in HUGE]
    for k, f in enumerate(_HUGE_FUNCS):
        got = f(v, x)
        scalar = np.array([f(a, b) for a, b in zip(v, x)])
        np.testing.assert_array_equal(np.isnan(got), np.isnan(scalar))
        np.testing.assert_allclose(got, scalar, rtol=1e-15, atol=0)
        for p, row in zip(pos, HUGE):
            if not (f is sm.bessel_i_ratio and row[0] < 0):
                assert got[p] == pytest.approx(row[2 + k], rel=1e-14), (f.__name__, row[:2])
    t = sm.log_bessel_ie(torch.tensor(v), torch.tensor(x))
    np.testing.assert_allclose(t.numpy(), sm.log_bessel_ie(v, x), rtol=1e-15)
