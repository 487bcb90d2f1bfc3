"""von Mises-Fisher helpers: the log normaliser against mpmath and numerical integration, logpdf
against SciPy, kappa_mle against mpmath's A_d, sampling and fitting against the distribution's
known moments (statistical bounds at many standard errors with fixed seeds), edge cases, errors."""
import math
import os
import sys

import mpmath
import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats
import torch

import stablemath as sm

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))
from gen_bessel_reference import debye_logs, with_timeout  # noqa: E402  (reference functions, mpmath)

EPS = np.finfo(np.float64).eps


def ref_log_ie(nu, kappa):
    """log(I_nu(kappa) e^-kappa) at 40 digits: mpmath.besseli, or for nu >= 1000 (where besseli is
    slow) and when besseli times out the Debye sum at 50 digits with terms down to 1e-45 (valid for
    sqrt(nu^2 + kappa^2) >= 1e3; gen_bessel_reference.py --check compares it with besseli)."""
    if nu >= 1000:
        return debye_logs(nu, kappa)[0]
    with mpmath.workdps(40):
        nu_m, k_m = mpmath.mpf(nu), mpmath.mpf(kappa)
        val = with_timeout(2.0, lambda: mpmath.besseli(nu_m, k_m, maxterms=10**6))
        if val is not None and val != 0:
            return mpmath.log(val) - k_m
    return debye_logs(nu, kappa)[0]


def ref_log_c(d, kappa):
    nu = d / 2 - 1
    lie = ref_log_ie(nu, kappa)
    with mpmath.workdps(40):
        k = mpmath.mpf(kappa)
        return float(nu * mpmath.log(k) - d / 2 * mpmath.log(2 * mpmath.pi) - lie - k)


def ref_a(d, kappa):
    with mpmath.workdps(40):
        nu = mpmath.mpf(d) / 2 - 1
        k = mpmath.mpf(kappa)
        return float(mpmath.besseli(nu + 1, k, maxterms=10**6) / mpmath.besseli(nu, k, maxterms=10**6))


# ---- log normaliser -----------------------------------------------------------------------------
@pytest.mark.parametrize("d", [2, 3, 5, 7.5, 128, 2048, 32768])
def test_log_normalizer_vs_mpmath(d):
    kappas = [1e-300, 1e-100, 1e-8, 0.3, 1.0, 7.0, 60.0, 1e3, 2e4, 1e6, 1e12, 1e100, 1e300]
    got = sm.vmf_log_normalizer(d, np.array(kappas))
    for k, g in zip(kappas, got):
        ref = ref_log_c(d, k)
        # absolute error of the log (= relative error of C) at the 1e-14 level of |log C|
        assert abs(g - ref) <= 4e-15 * max(1.0, abs(ref)), (d, k, g, ref)


def test_log_normalizer_at_zero_is_minus_log_area():
    for d in (2, 3, 10, 32768, 1e6):
        area = math.log(2) + d / 2 * math.log(math.pi) - math.lgamma(d / 2)
        assert sm.vmf_log_normalizer(d, 0.0) == pytest.approx(-area, rel=1e-15, abs=1e-15)
        # continuous into kappa > 0: log C_d(k) = -log area - k^2 / (2d) + O(k^4)
        k = 1e-4
        assert sm.vmf_log_normalizer(d, k) == pytest.approx(-area - k * k / (2 * d), rel=1e-15, abs=1e-15)


def _log_integral(f_log, a, b, points=None):
    """log of the integral of exp(f_log) over [a, b], with the integrand rescaled by its maximum."""
    ts = np.linspace(a, b, 20001)
    peak = np.max(f_log(ts))
    val, err = scipy.integrate.quad(lambda t: np.exp(f_log(t) - peak), a, b, points=points, limit=500,
                                    epsabs=0, epsrel=1e-13)
    return peak + math.log(val)


@pytest.mark.parametrize("kappa", [0.0, 1e-3, 0.5, 3.0, 40.0, 700.0, 5000.0])
def test_log_normalizer_vs_quadrature(kappa):
    # d = 2: C = 1 / (2 pi I_0(kappa)) = 1 / int_0^{2 pi} exp(kappa cos t) dt
    width = min(math.pi, 12 / math.sqrt(max(kappa, 1e-300)))
    ref2 = -math.log(2) - _log_integral(lambda t: kappa * np.cos(t), 0.0, math.pi, points=[width] if width < math.pi else None)
    assert sm.vmf_log_normalizer(2, kappa) == pytest.approx(ref2, rel=1e-13, abs=1e-13)
    # d = 3: C = kappa / (4 pi sinh kappa) (closed form; 1/(4 pi) at kappa = 0)
    ref3 = (-math.log(4 * math.pi) if kappa == 0 else
            math.log(kappa) - math.log(2 * math.pi) - kappa - math.log(-math.expm1(-2 * kappa)))
    assert sm.vmf_log_normalizer(3, kappa) == pytest.approx(ref3, rel=1e-14, abs=1e-14)
    # d = 5: 1/C = area(S^3) int_0^pi exp(kappa cos t) sin^3 t dt, area(S^3) = 2 pi^2
    ref5 = -math.log(2 * math.pi**2) - _log_integral(lambda t: kappa * np.cos(t) + 3 * np.log(np.sin(t) + 1e-300),
                                                     0.0, math.pi, points=[width] if width < math.pi else None)
    assert sm.vmf_log_normalizer(5, kappa) == pytest.approx(ref5, rel=1e-12, abs=1e-12)


def test_log_normalizer_derivative_is_minus_mean_resultant():
    # d/dkappa log C_d = -A_d: central differences of the log normaliser (float64) against A_d
    for d in (3, 64, 2048):
        for k in (0.5, 10.0, 300.0, 5000.0):
            h = 1e-4 * k
            hi, lo = sm.vmf_log_normalizer(d, k + h), sm.vmf_log_normalizer(d, k - h)
            num = (hi - lo) / (2 * h)
            # truncation ~h^2 A''; rounding ~ eps |log C| / h
            assert num == pytest.approx(-ref_a(d, k), rel=1e-6, abs=8 * EPS * abs(hi) / h)


def test_mean_resultant_vs_mpmath():
    for d, k in [(2, 0.1), (3, 1.0), (5, 30.0), (128, 100.0), (2048, 1e3), (32768, 2e4), (3, 1e6)]:
        assert sm.vmf_mean_resultant(d, k) == pytest.approx(ref_a(d, k), rel=4 * EPS)
    assert sm.vmf_mean_resultant(3, 0.0) == 0.0 and sm.vmf_mean_resultant(3, np.inf) == 1.0


def test_elementwise_domain_and_types():
    # outside the domain: NaN (special-function convention); d = 1 is the two points +-1
    for f in (sm.vmf_log_normalizer, sm.vmf_mean_resultant):
        assert np.all(np.isnan(f(np.array([0.5, 1.5, 3.0, 3.0, np.nan]), np.array([1.0, 1e-3, -1.0, np.nan, 1.0]))))
    assert sm.vmf_log_normalizer(1, 2.0) == pytest.approx(-math.log(2 * math.cosh(2.0)), rel=1e-15)
    assert sm.vmf_mean_resultant(1, 2.0) == pytest.approx(math.tanh(2.0), rel=1e-15)
    assert sm.vmf_log_normalizer(3, np.inf) == np.inf
    # broadcasting, float32, torch
    out = sm.vmf_log_normalizer(np.array([[3.0], [10.0]], np.float32), np.array([0.0, 1.0, 5.0], np.float32))
    assert out.shape == (2, 3) and out.dtype == np.float32
    t = sm.vmf_mean_resultant(torch.tensor([3.0, 128.0]), 10.0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    np.testing.assert_allclose(t.numpy(), [ref_a(3, 10.0), ref_a(128, 10.0)], rtol=1e-6)


# ---- kappa_mle ----------------------------------------------------------------------------------
def test_kappa_mle_inverts_mpmath_mean_resultant():
    for d, k in [(2, 0.1), (2, 5.0), (3, 1e-5), (3, 1.0), (3, 50.0), (5, 2.0), (128, 100.0), (128, 3e3),
                 (2048, 10.0), (2048, 1e3), (2048, 5e4), (32768, 2e4)]:
        a = ref_a(d, k)
        got = sm.vmf_kappa_mle(d, a)
        # a is rounded to double: the conditioning of kappa(A) is A / (kappa A') ~ 1 / (1 - A)
        assert abs(got - k) <= (1e-13 + 4 * EPS / (1 - a)) * k, (d, k, got)


def test_kappa_mle_round_trip_wide_range():
    d = np.array([2, 3, 5, 10, 128, 2048, 32768, 1e6, 2.5])[:, None]
    k = np.logspace(-300, 14, 60)[None, :]
    a = sm.vmf_mean_resultant(d, k)
    got = sm.vmf_kappa_mle(d, a)
    rel = np.abs(got - k) / k
    bound = 1e-13 + 8 * EPS / (1 - a)
    assert np.all(rel <= bound), float(np.max(rel / bound))


# ---- huge dimensions ----------------------------------------------------------------------------
def _ref_a_debye(d, kappa):
    """A_d(kappa) from the Debye logs of I_{nu+1} and I_nu (nu = d/2 - 1 exactly) at 400 digits:
    their difference is O(1) while each is up to ~1e308."""
    with mpmath.workdps(400):
        nu = mpmath.mpf(d) / 2 - 1
        return mpmath.exp(debye_logs(nu + 1, kappa)[0] - debye_logs(nu, kappa)[0])


@pytest.mark.parametrize("d", [1e10, 2.0**62 * (1 - 2**-20), 2.0**62, 1e100, 1e306, 6e307, np.finfo(np.float64).max])
def test_huge_dimensions_vs_mpmath(d):
    """Up to the float maximum (d >= 2^62: the closed forms of vmf.hpp's header), with no
    intermediate overflowing before the result (vmf_kappa_mle(6e307, 0.5) was inf, and
    vmf_log_normalizer(1e306, max) inf instead of 1.74e308)."""
    kappas = [1e-300, 1.0, 1e10, 1e150, 1e300, 1e307, np.finfo(np.float64).max]
    got = sm.vmf_log_normalizer(d, np.array(kappas))
    for k, g in zip(kappas, got):
        with mpmath.workdps(400):
            ref = ref_log_c(d, k)
        assert g == ref if math.isinf(ref) else abs(g - ref) <= 4e-15 * max(1.0, abs(ref)), (d, k, g, ref)
    for k in kappas:
        a = sm.vmf_mean_resultant(d, k)
        assert a == pytest.approx(float(_ref_a_debye(d, k)), rel=4 * EPS, abs=1e-300), (d, k)
    for r in [1e-10, 0.1, 0.5, 0.9]:
        k = sm.vmf_kappa_mle(d, r)
        if np.isinf(k):  # the root is beyond the float range
            assert _ref_a_debye(d, np.finfo(np.float64).max) < r
        else:  # A_d(kappa) = r, to the conditioning kappa A'/A ~ (1 - r^2)/(1 + r^2) of A in kappa
            assert float(_ref_a_debye(d, k)) == pytest.approx(r, rel=8 * EPS), (d, r, k)
    # large-d asymptotics: kappa_mle ~ d rbar / (1 - rbar^2), log C(0) = -log(area of S^(d-1))
    if d < 1e300:
        assert sm.vmf_kappa_mle(d, 0.5) == pytest.approx(d * 0.5 / 0.75, rel=1e-9)
    with mpmath.workdps(400):
        log_area = mpmath.log(2) + (mpmath.mpf(d) / 2) * mpmath.log(mpmath.pi) - mpmath.loggamma(mpmath.mpf(d) / 2)
    assert sm.vmf_log_normalizer(d, 0.0) == pytest.approx(float(-log_area), rel=4e-15)


def test_kappa_mle_edges_and_banerjee_start():
    assert sm.vmf_kappa_mle(3, 0.0) == 0.0
    assert sm.vmf_kappa_mle(3, 1.0) == np.inf
    assert np.all(np.isnan(sm.vmf_kappa_mle(3, [-0.1, 1.1, np.nan])))
    assert np.isnan(sm.vmf_kappa_mle(np.nan, 0.5)) and np.isnan(sm.vmf_kappa_mle(1.5, 0.5))
    assert sm.vmf_kappa_mle(1, 0.5) == pytest.approx(math.atanh(0.5), rel=1e-15)
    # increasing in rbar
    r = np.linspace(0, 0.999, 500)
    assert np.all(np.diff(sm.vmf_kappa_mle(2048, r)) > 0)
    # float32 in, float32 out
    assert sm.vmf_kappa_mle(np.float32(3), np.float32(0.5)).dtype == np.float32


# ---- logpdf -------------------------------------------------------------------------------------
@pytest.mark.parametrize("d,kappa", [(3, 0.0), (3, 2.0), (5, 30.0), (10, 1e3), (64, 50.0), (256, 100.0)])
def test_logpdf_vs_scipy(d, kappa):
    rng = np.random.default_rng(d)
    mu = rng.standard_normal(d)
    mu /= np.linalg.norm(mu)
    x = rng.standard_normal((40, d))
    x[:5] += 20 * mu
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    ref = scipy.stats.vonmises_fisher(mu, kappa).logpdf(x) if kappa > 0 else \
        np.full(40, -(math.log(2) + d / 2 * math.log(math.pi) - math.lgamma(d / 2)))
    got = sm.vmf_logpdf(x, mu, kappa)
    ok = np.isfinite(ref)
    assert ok.sum() >= 30
    np.testing.assert_allclose(got[ok], ref[ok], rtol=1e-11, atol=1e-11 * (1 + kappa))


def test_logpdf_mode_at_huge_kappa_and_dimension():
    # at x = mu the density is C_d(kappa) e^kappa; SciPy's ive underflows here, so mpmath
    for d, kappa in [(3, 1e12), (2048, 3e4), (32768, 1e5)]:
        mu = np.zeros(d)
        mu[-1] = 1.0
        got = sm.vmf_logpdf(mu, mu, kappa)
        nu = d / 2 - 1
        with mpmath.workdps(40):
            ref = float(nu * mpmath.log(kappa) - d / 2 * mpmath.log(2 * mpmath.pi) - ref_log_ie(nu, kappa))
        assert got == pytest.approx(ref, rel=1e-14, abs=1e-13)
    # kappa = inf: +inf at the mode, -inf elsewhere
    mu = np.array([0.0, 0.0, 1.0])
    np.testing.assert_array_equal(sm.vmf_logpdf(np.array([mu, [1.0, 0, 0]]), mu, np.inf), [np.inf, -np.inf])


def test_logpdf_broadcasting_types_and_nan():
    rng = np.random.default_rng(0)
    mu = np.array([0.6, 0.8, 0.0])
    x = rng.standard_normal((2, 4, 3))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    kap = np.array([[1.0], [5.0]])
    out = sm.vmf_logpdf(x, mu, kap)
    assert out.shape == (2, 4)
    assert out[1, 2] == pytest.approx(sm.vmf_logpdf(x[1, 2], mu, 5.0), rel=1e-15)
    t = sm.vmf_logpdf(torch.tensor(x, dtype=torch.float32), torch.tensor(mu, dtype=torch.float32), 2.0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.shape == (2, 4)
    np.testing.assert_allclose(t.numpy(), sm.vmf_logpdf(x, mu, 2.0), rtol=1e-5, atol=1e-5)
    xn = x.copy()
    xn[0, 0, 0] = np.nan
    r = sm.vmf_logpdf(xn, mu, 1.0)
    assert np.isnan(r[0, 0]) and np.all(np.isfinite(r.ravel()[1:]))
    assert np.all(np.isnan(sm.vmf_logpdf(x, mu, np.nan)))


def test_logpdf_errors():
    mu = np.array([0.0, 1.0])
    with pytest.raises(ValueError, match="^x: must be unit"):
        sm.vmf_logpdf(np.array([[1.0, 1.0]]), mu, 1.0)
    with pytest.raises(ValueError, match="^mu: must be unit"):
        sm.vmf_logpdf(np.array([[1.0, 0.0]]), np.array([0.0, 2.0]), 1.0)
    with pytest.raises(ValueError, match="^mu: expected shape"):
        sm.vmf_logpdf(np.array([[1.0, 0.0]]), np.array([0.0, 1.0, 0.0]), 1.0)
    with pytest.raises(ValueError, match="^kappa: must be >= 0"):
        sm.vmf_logpdf(np.array([[1.0, 0.0]]), mu, -1.0)
    with pytest.raises(ValueError, match="^kappa: shape"):
        sm.vmf_logpdf(np.array([[1.0, 0.0], [0.0, 1.0]]), mu, np.ones(3))
    with pytest.raises(ValueError, match="^x: the last axis"):
        sm.vmf_logpdf(np.array([[1.0]]), np.array([1.0]), 1.0)
    with pytest.raises(TypeError, match="^x:"):
        sm.vmf_logpdf(np.array([["a", "b"]]), mu, 1.0)
    # the tolerance is documented and adjustable
    x = np.array([[1.0 + 1e-6, 0.0]])
    with pytest.raises(ValueError):
        sm.vmf_logpdf(x, mu, 1.0)
    assert np.isfinite(sm.vmf_logpdf(x, mu, 1.0, atol=1e-5))
    assert np.isfinite(sm.vmf_logpdf(x.astype(np.float32), mu.astype(np.float32), 1.0))


# ---- sampling and fitting -----------------------------------------------------------------------
def _unit(d, seed):
    v = np.random.default_rng(seed).standard_normal(d)
    return v / np.linalg.norm(v)


def _a_and_deriv(d, kappa):
    """A_d and A_d' from SciPy's scaled Bessel functions (finite for the cases used here)."""
    nu = d / 2 - 1
    a = scipy.special.ive(nu + 1, kappa) / scipy.special.ive(nu, kappa)
    return a, 1 - a * a - (d - 1) * a / kappa


@pytest.mark.parametrize("d,kappa,n", [(3, 5.0, 20000), (128, 200.0, 8000), (2048, 3000.0, 2000)])
def test_sample_moments_and_fit_recovers_kappa(d, kappa, n):
    mu = _unit(d, d)
    x = sm.vmf_sample(mu, kappa, n, seed=11)
    assert x.shape == (n, d)
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-14)
    a, da = _a_and_deriv(d, kappa)
    # E[mu.x] = A_d(kappa), Var[mu.x] = A_d'(kappa) (exponential family)
    w = x @ mu
    assert abs(w.mean() - a) <= 5 * math.sqrt(da / n)
    assert w.var() == pytest.approx(da, rel=5 * math.sqrt(2 / n) + 0.05)
    # E[(mu.x)^2] = 1 - (d-1) A / kappa: the tangent part carries the rest of the unit norm
    assert np.mean(w * w) == pytest.approx(1 - (d - 1) * a / kappa, abs=5 * math.sqrt(np.var(w * w) / n))
    mu_hat, k_hat = sm.vmf_fit(x)
    # ||mean||^2 = mean(w)^2 + ||mean tangent part||^2, whose expectation is (d-1) A / (kappa n):
    # rbar is biased up by ~(d-1)/(2 kappa n); the MLE inherits bias / A' on top of its standard
    # error 1 / sqrt(n A')
    bias = (d - 1) / (2 * kappa * n) / da
    se = 1 / math.sqrt(n * da)
    assert abs(k_hat - kappa - bias) <= 5 * se, (k_hat, kappa, bias, se)
    assert float(mu_hat @ mu) >= 1 - 10 * (d - 1) / (kappa * n * a)


def test_sample_w_distribution_d3_and_uniform_tangent():
    # d = 3: w = mu.x has density kappa e^{kappa w} / (2 sinh kappa) on [-1, 1]; azimuth uniform
    kappa = 2.5
    mu = np.array([0.0, 0.0, 1.0])
    x = sm.vmf_sample(mu, kappa, 5000, seed=3)
    cdf = lambda w: np.expm1(kappa * (w + 1)) / np.expm1(2 * kappa)  # noqa: E731
    assert scipy.stats.kstest(x[:, 2], cdf).pvalue > 1e-4
    az = np.arctan2(x[:, 1], x[:, 0])
    assert scipy.stats.kstest(az, scipy.stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-4
    # d = 2: the angle to mu follows the von Mises distribution
    x2 = sm.vmf_sample(np.array([1.0, 0.0]), 3.0, 5000, seed=8)
    assert scipy.stats.kstest(np.arctan2(x2[:, 1], x2[:, 0]), scipy.stats.vonmises(3.0).cdf).pvalue > 1e-4
    # kappa = 0 is uniform on the sphere: w uniform on [-1, 1] in d = 3
    u = sm.vmf_sample(mu, 0.0, 5000, seed=4)
    assert scipy.stats.kstest(u[:, 2], scipy.stats.uniform(-1, 2).cdf).pvalue > 1e-4


def test_sample_huge_kappa_and_dimension():
    # kappa = 1e12, d = 3: kappa (1 - w) ~ Exp(1); 1 - w from the tangent part (1 - w^2 ~ 2 (1 - w))
    mu = np.array([0.0, 0.0, 1.0])
    x = sm.vmf_sample(mu, 1e12, 4000, seed=5)
    t = 1e12 * np.sum(x[:, :2] ** 2, axis=1) / 2
    assert t.mean() == pytest.approx(1.0, abs=5 / math.sqrt(4000))
    assert scipy.stats.kstest(t, "expon").pvalue > 1e-4
    # d = 32768: mean of mu.x is A_d(kappa)
    d, kappa = 32768, 2e4
    mu = _unit(d, 1)
    x = sm.vmf_sample(mu, kappa, 300, seed=6)
    a = ref_a(d, kappa)
    da = 1 - a * a - (d - 1) * a / kappa
    assert abs(np.mean(x @ mu) - a) <= 5 * math.sqrt(da / 300)
    assert np.all(np.isfinite(x))
    # kappa = 1e300 and inf: every draw is mu (to rounding)
    np.testing.assert_allclose(sm.vmf_sample(mu[:4] / np.linalg.norm(mu[:4]), 1e300, 3, seed=0) @ (mu[:4] / np.linalg.norm(mu[:4])), 1.0)
    np.testing.assert_array_equal(sm.vmf_sample(np.array([1.0, 0.0]), np.inf, 2), [[1.0, 0.0], [1.0, 0.0]])


def test_sample_reproducible_types_and_errors():
    mu = np.array([1.0, 0.0, 0.0])
    np.testing.assert_array_equal(sm.vmf_sample(mu, 3.0, 10, seed=1), sm.vmf_sample(mu, 3.0, 10, seed=1))
    g = np.random.default_rng(2)
    assert sm.vmf_sample(mu, 3.0, 10, seed=g).shape == (10, 3)
    t = sm.vmf_sample(torch.tensor([0.0, 1.0], dtype=torch.float32), 3.0, 5, seed=0)
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32 and t.shape == (5, 2)
    assert sm.vmf_sample([0.0, 1.0], 3.0, 0).shape == (0, 2)
    assert np.all(np.isnan(sm.vmf_sample(mu, np.nan, 3)))
    with pytest.raises(ValueError, match="^n: must be >= 0"):
        sm.vmf_sample(mu, 1.0, -1)
    with pytest.raises(TypeError, match="^n: must be an integer"):
        sm.vmf_sample(mu, 1.0, 2.5)
    with pytest.raises(ValueError, match="^kappa: must be >= 0"):
        sm.vmf_sample(mu, -1.0, 3)
    with pytest.raises(ValueError, match="^kappa: must be a scalar"):
        sm.vmf_sample(mu, [1.0, 2.0], 3)
    with pytest.raises(ValueError, match="^mu: must be unit"):
        sm.vmf_sample(2 * mu, 1.0, 3)
    with pytest.raises(ValueError, match="^mu: the dimension"):
        sm.vmf_sample([1.0], 1.0, 3)
    with pytest.raises(ValueError, match="^mu: expected a 1-D"):
        sm.vmf_sample(np.eye(3), 1.0, 3)


def test_fit_weights_edges_and_errors():
    rng = np.random.default_rng(9)
    x = rng.standard_normal((50, 4))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    w = rng.random(50)
    mu_hat, k_hat = sm.vmf_fit(x, weights=w)
    m = (w @ x) / w.sum()
    r = np.linalg.norm(m)
    np.testing.assert_allclose(mu_hat, m / r, rtol=1e-14)
    # the MLE condition A_4(kappa) = rbar, with A_4 from SciPy
    assert scipy.special.ive(2, k_hat) / scipy.special.ive(1, k_hat) == pytest.approx(r, rel=1e-13)
    # integer weights repeat rows
    mu2, k2 = sm.vmf_fit(np.repeat(x[:3], [2, 1, 3], axis=0))
    mu3, k3 = sm.vmf_fit(x[:3], weights=[2, 1, 3])
    np.testing.assert_allclose(mu2, mu3, rtol=1e-14)
    assert k2 == pytest.approx(k3, rel=1e-13)
    # identical points: kappa = inf; opposite points: kappa = 0, mu undefined (NaN)
    assert sm.vmf_fit(np.tile([0.0, 1.0], (5, 1)))[1] == np.inf
    mu0, k0 = sm.vmf_fit(np.array([[0.0, 1.0], [0.0, -1.0]]))
    assert k0 == 0.0 and np.all(np.isnan(mu0))
    xn = x.copy()
    xn[3, 1] = np.nan
    mun, kn = sm.vmf_fit(xn)
    assert np.isnan(kn) and np.all(np.isnan(mun))
    tm, tk = sm.vmf_fit(torch.tensor(x, dtype=torch.float32))
    assert isinstance(tm, torch.Tensor) and tm.dtype == torch.float32 and isinstance(tk, float)
    with pytest.raises(ValueError, match="^X: expected a 2-D"):
        sm.vmf_fit(x[0])
    with pytest.raises(ValueError, match="^X: needs at least one row"):
        sm.vmf_fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="^X: must be unit"):
        sm.vmf_fit(2 * x)
    with pytest.raises(ValueError, match="^weights: expected shape"):
        sm.vmf_fit(x, weights=np.ones(3))
    with pytest.raises(ValueError, match="^weights: must be non-negative"):
        sm.vmf_fit(x, weights=-w)
    with pytest.raises(ValueError, match="^weights: must have a positive sum"):
        sm.vmf_fit(x, weights=np.zeros(50))
