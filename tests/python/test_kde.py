"""Log-space KDE (GaussianKDE, VonMisesFisherKDE, kde_logpdf) against independent references:
float64 brute-force log-sum-exp (SciPy's logsumexp over the full kernel matrix), scipy.stats
gaussian_kde / vonmises_fisher, scikit-learn KernelDensity (atol=rtol=0), Monte Carlo on S^2."""
from __future__ import annotations

import math
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest
import scipy.stats
from hypothesis import given, strategies as st
from scipy.special import logsumexp

import stablemath as sm

torch = pytest.importorskip("torch")

LOG_2PI = math.log(2 * math.pi)


def brute_gauss(Y, X, cov, w=None, loo=False):
    """float64 log density of the Gaussian KDE, kernel covariance cov, by the full matrix."""
    Y, X = np.asarray(Y, np.float64), np.asarray(X, np.float64)
    cov = np.atleast_2d(cov)
    D = Y[:, None, :] - X[None, :, :]
    if np.array_equal(cov, cov[0, 0] * np.eye(len(cov))):  # isotropic: no d x d work
        sq = (D ** 2).sum(-1) / cov[0, 0]
        logdet = 0.5 * len(cov) * np.log(cov[0, 0])
    else:
        L = np.linalg.cholesky(cov)
        sq = (np.einsum("ij,mnj->mni", np.linalg.inv(L), D) ** 2).sum(-1)
        logdet = np.log(np.diag(L)).sum()
    logk = -0.5 * sq - 0.5 * X.shape[1] * LOG_2PI - logdet
    w = np.ones(len(X)) if w is None else np.asarray(w, np.float64)
    with np.errstate(divide="ignore"):
        lw = np.log(w)
    a = logk + lw[None, :]
    if loo:
        np.fill_diagonal(a, -np.inf)
        return logsumexp(a, axis=1) - np.log(w.sum() - w)
    return logsumexp(a, axis=1) - np.log(w.sum())


def vmf_log_c(d, kappa):
    """log C_d(kappa) from SciPy's vonmises_fisher (fine for moderate d and kappa)."""
    mu = np.zeros(d)
    mu[0] = 1
    return scipy.stats.vonmises_fisher(mu, kappa).logpdf(mu) - kappa


def unit_rows(rng, n, d, conc=0.0):
    v = rng.standard_normal((n, d))
    v[:, 0] += conc
    return v / np.linalg.norm(v, axis=1, keepdims=True)


# ---- against references --------------------------------------------------------------------

@pytest.mark.parametrize("dtype,tol", [(np.float64, 1e-10), (np.float32, 2e-4)])
@pytest.mark.parametrize("d", [1, 2, 7, 40])
def test_isotropic_vs_bruteforce(d, dtype, tol):
    rng = np.random.default_rng(d)
    X = rng.standard_normal((300, d))
    Y = rng.standard_normal((70, d)) * 1.5
    w = rng.random(300)
    h = 0.3 * math.sqrt(d)
    got = sm.GaussianKDE(h).fit(X.astype(dtype), sample_weight=w).score_samples(Y.astype(dtype))
    ref = brute_gauss(Y, X, h * h * np.eye(d), w)
    assert got.dtype == dtype
    np.testing.assert_allclose(got, ref, rtol=tol, atol=tol)


@pytest.mark.parametrize("cov", ["diagonal", "full", "matrix", "variances"])
def test_covariance_modes_vs_bruteforce(cov):
    rng = np.random.default_rng(3)
    A = rng.standard_normal((4, 4))
    X = rng.standard_normal((200, 4)) @ A + 5
    Y = rng.standard_normal((30, 4)) @ A + 5
    C = A.T @ A + np.eye(4)
    if cov == "diagonal":
        S, arg = np.diag(np.var(X, axis=0, ddof=1)), "diagonal"
    elif cov == "full":
        S, arg = np.cov(X.T), "full"
    elif cov == "matrix":
        S, arg = C, C
    else:
        S, arg = np.diag(np.diag(C)), np.diag(C)
    est = sm.GaussianKDE(0.7, covariance=arg).fit(X)
    np.testing.assert_allclose(est.score_samples(Y), brute_gauss(Y, X, 0.49 * S), rtol=1e-10)
    np.testing.assert_allclose(est.kernel_covariance_, 0.49 * S, rtol=1e-10)


@pytest.mark.parametrize("rule", ["scott", "silverman", 0.5])
def test_matches_scipy_gaussian_kde(rule):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((400, 3)) * [1, 2, 0.5]
    Y = rng.standard_normal((60, 3)) * 2
    w = rng.random(400) + 0.1
    ref = scipy.stats.gaussian_kde(X.T, bw_method=rule, weights=w)
    est = sm.GaussianKDE(rule, covariance="full").fit(X, sample_weight=w)
    assert est.bandwidth_ == pytest.approx(ref.factor, rel=1e-12)
    np.testing.assert_allclose(est.score_samples(Y), ref.logpdf(Y.T), rtol=1e-10)
    np.testing.assert_allclose(est.kernel_covariance_, ref.covariance, rtol=1e-10)


def test_matches_sklearn_kernel_density():
    from sklearn.neighbors import KernelDensity
    rng = np.random.default_rng(6)
    X = rng.standard_normal((500, 5))
    Y = rng.standard_normal((80, 5))
    w = rng.random(500) + 0.01
    ref = KernelDensity(kernel="gaussian", bandwidth=0.8, atol=0, rtol=0).fit(X, sample_weight=w)
    got = sm.kde_logpdf(Y, X, 0.8, weights=w)
    np.testing.assert_allclose(got, ref.score_samples(Y), rtol=1e-9)
    assert sm.GaussianKDE(0.8).fit(X, w).score(Y) == pytest.approx(ref.score(Y), rel=1e-9)


def test_rules_scaled_by_data():
    rng = np.random.default_rng(7)
    X = rng.standard_normal((1000, 2)) * 10
    for rule, f in [("scott", 1000 ** (-1 / 6)), ("silverman", (1000 * 4 / 4) ** (-1 / 6))]:
        est = sm.GaussianKDE(rule).fit(X)
        sigma = math.sqrt(np.var(X, axis=0, ddof=1).mean())
        assert est.bandwidth_ == pytest.approx(f * sigma, rel=1e-12)
        assert 2 < est.bandwidth_ < 5  # scikit-learn's unscaled rule would give 0.32


@given(st.integers(1, 6), st.integers(1, 80), st.integers(1, 20), st.floats(0.05, 5.0))
def test_hypothesis_shapes(d, n, m, h):
    rng = np.random.default_rng(n * 100 + m)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((m, d)) * 3
    np.testing.assert_allclose(sm.kde_logpdf(Y, X, h), brute_gauss(Y, X, h * h * np.eye(d)), rtol=1e-10, atol=1e-10)


def test_rows_at_different_scales():
    """Each query keeps its own maximum: far queries (log density ~ -1e6) next to near ones."""
    rng = np.random.default_rng(8)
    X = rng.standard_normal((200, 3))
    Y = np.concatenate([rng.standard_normal((5, 3)), rng.standard_normal((5, 3)) + 1000, [[0, 0, 40.0]]])
    got = sm.kde_logpdf(Y, X, 0.5)
    ref = brute_gauss(Y, X, 0.25 * np.eye(3))
    assert np.isfinite(got).all() and got.min() < -1e6
    np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_float32_large_common_offset():
    """Centring keeps the GEMM form accurate in float32 when all data share a large offset."""
    rng = np.random.default_rng(9)
    X = rng.standard_normal((2000, 3))
    Y = rng.standard_normal((100, 3))
    ref = brute_gauss(Y, X, 0.04 * np.eye(3))
    off = np.array([1e4, -3e4, 5e4])
    got = sm.kde_logpdf((Y + off).astype(np.float32), (X + off).astype(np.float32), 0.2)
    # float32 cannot even store the offset points to better than ~2e-3 absolute (ulp of 5e4 is
    # 4e-3): the error comes from rounding the inputs, not from the kernel.
    Xr, Yr = (X + off).astype(np.float32).astype(np.float64) - off, (Y + off).astype(np.float32).astype(np.float64) - off
    np.testing.assert_allclose(got, brute_gauss(Yr, Xr, 0.04 * np.eye(3)), rtol=0, atol=2e-3)
    assert np.abs(got - ref).max() < 0.5  # sanity: same density up to input rounding
    # Uncentred GEMM form in float32 loses everything: |y|^2 ~ 3e9 against distances ~1.
    assert np.isfinite(got).all()


def test_high_dimension_where_scipy_underflows():
    """d = 1000: SciPy's density-space evaluate gives 0 (log: -inf); log space stays finite and
    agrees with SciPy's own (slow, scalar) logpdf and with a float64 brute force."""
    rng = np.random.default_rng(10)
    d, n = 1000, 1050
    X = rng.standard_normal((n, d))
    Y = rng.standard_normal((8, d))
    ref = scipy.stats.gaussian_kde(X.T)  # Scott's factor, full data covariance
    assert (ref.evaluate(Y.T) == 0).all()
    got = sm.GaussianKDE("scott", covariance="full").fit(X).score_samples(Y)
    assert np.isfinite(got).all() and got.max() < -1000
    np.testing.assert_allclose(got, ref.logpdf(Y.T), rtol=1e-9)
    Xs = X[:300]
    iso = brute_gauss(Y, Xs, np.eye(d))
    np.testing.assert_allclose(sm.GaussianKDE(1.0).fit(Xs).score_samples(Y), iso, rtol=1e-10)
    got32 = sm.GaussianKDE(1.0).fit(Xs.astype(np.float32)).score_samples(Y.astype(np.float32))
    np.testing.assert_allclose(got32, iso, rtol=2e-5)


def test_large_dimension_4096():
    rng = np.random.default_rng(11)
    X, Y = rng.standard_normal((70, 4096)), rng.standard_normal((9, 4096))
    np.testing.assert_allclose(sm.kde_logpdf(Y, X, 60.0), brute_gauss(Y, X, 3600 * np.eye(4096)), rtol=1e-10)


def test_thread_count_does_not_change_results():
    rng = np.random.default_rng(12)
    X, Y = rng.standard_normal((3000, 8)).astype(np.float32), rng.standard_normal((300, 8)).astype(np.float32)
    old = sm.get_num_threads()
    try:
        sm.set_num_threads(1)
        a = sm.kde_logpdf(Y, X, 0.5)
        sm.set_num_threads(2)
        b = sm.kde_logpdf(Y, X, 0.5)
    finally:
        sm.set_num_threads(old)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("isa", ["baseline", "avx2"])
def test_isa_tables_agree(isa):
    code = ("import numpy as np, stablemath as sm; r = np.random.default_rng(0); X = r.standard_normal((500, 33)); "
            "Y = r.standard_normal((40, 33)); print(repr(sm.kde_logpdf(Y, X, 2.0).tolist()), sm.cpu_isa())")
    env = dict(os.environ, STABLEMATH_ISA=isa)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    vals = np.array(eval(out.rsplit(" ", 1)[0]))
    r = np.random.default_rng(0)
    X, Y = r.standard_normal((500, 33)), r.standard_normal((40, 33))
    np.testing.assert_allclose(vals, brute_gauss(Y, X, 4 * np.eye(33)), rtol=1e-12)


# ---- leave-one-out and bandwidth selection -----------------------------------------------------

def test_loo_excludes_self_exactly():
    rng = np.random.default_rng(13)
    X = rng.standard_normal((150, 2))
    w = rng.random(150)
    w[7] = 0
    hs = np.array([0.01, 0.1, 0.4, 2.0])
    est = sm.GaussianKDE(0.3).fit(X, w)
    got = est.cv_scores(hs)
    for h, g in zip(hs, got):
        vals = brute_gauss(X, X, h * h * np.eye(2), w, loo=True)
        keep = w > 0
        ref = (w[keep] * vals[keep]).sum() / w[keep].sum()
        # at h = 0.01 every self term would be e^0 against neighbours at ~e^-100: subtracting it
        # instead of skipping would leave only rounding noise.
        assert g == pytest.approx(ref, rel=1e-10)


def test_loo_duplicates_and_vmf():
    X = np.array([[0.0], [0.0], [1.0]])
    got = sm.GaussianKDE(0.1).fit(X).cv_scores([0.1])[0]
    ref = brute_gauss(X, X, [[0.01]], loo=True).mean()
    assert got == pytest.approx(ref, rel=1e-12)
    rng = np.random.default_rng(14)
    V = unit_rows(rng, 100, 3, 2.0)
    kap = np.array([3.0, 30.0])
    got = sm.VonMisesFisherKDE(5.0).fit(V).cv_scores(kap)
    for k, g in zip(kap, got):
        a = k * V @ V.T + vmf_log_c(3, k)
        np.fill_diagonal(a, -np.inf)
        assert g == pytest.approx((logsumexp(a, axis=1) - np.log(99)).mean(), rel=1e-10)


def test_cv_near_optimum_gaussian_data():
    rng = np.random.default_rng(15)
    X = rng.standard_normal((1000, 1))
    est = sm.GaussianKDE("cv").fit(X)
    hs = np.exp(np.linspace(np.log(0.1), np.log(0.6), 15))
    ref = [(brute_gauss(X, X, [[h * h]], loo=True)).mean() for h in hs]
    grid_best = hs[int(np.argmax(ref))]
    assert est.bandwidth_ == pytest.approx(grid_best, rel=0.15)  # grid spacing 13%
    # the ISE/KL-optimal bandwidth for N(0, 1) data is near Silverman's 1.06 n^(-1/5)
    assert 0.6 < est.bandwidth_ / (1.06 * 1000 ** -0.2) < 1.6
    s = est.cv_scores([est.bandwidth_ * 0.9, est.bandwidth_, est.bandwidth_ * 1.1])
    assert s[1] >= s[0] - 1e-12 and s[1] >= s[2] - 1e-12


def test_cv_high_dimension_regime():
    """alpha = log(n)/d = 0.15: the LOO maximiser lies near the derived KL-optimal bandwidth
    0.96 (shared notes, Biroli-Mezard regime; simulated argmax 1.0 at d = 60), below h_G = 1.18.
    Here a small instance: d = 30, n = 90."""
    rng = np.random.default_rng(16)
    d = 30
    n = int(math.exp(0.15 * d))
    X = rng.standard_normal((n, d)).astype(np.float32)
    est = sm.GaussianKDE("cv").fit(X)
    assert 0.6 < est.bandwidth_ < 1.4


# ---- von Mises-Fisher --------------------------------------------------------------------------

@pytest.mark.parametrize("d", [2, 3, 10])
def test_vmf_vs_bruteforce(d):
    rng = np.random.default_rng(d)
    X, Y = unit_rows(rng, 200, d, 1.0), unit_rows(rng, 40, d)
    w = rng.random(200)
    k = 7.5
    got = sm.VonMisesFisherKDE(k).fit(X, w).score_samples(Y)
    ref = logsumexp(k * Y @ X.T + np.log(w), axis=1) - np.log(w.sum()) + vmf_log_c(d, k)
    np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_vmf_single_point_equals_vmf_density_where_scipy_overflows():
    mu = np.zeros(1000)
    mu[0] = 1
    got = sm.VonMisesFisherKDE(10.0).fit(mu[None]).score_samples(mu[None])[0]
    assert got == pytest.approx(2042.00776275115, rel=1e-12)  # mpmath (shared notes)
    with np.errstate(all="ignore"):
        assert scipy.stats.vonmises_fisher(mu, 10.0).logpdf(mu) == np.inf  # SciPy: ive underflows


def test_vmf_normalises_on_s2_monte_carlo():
    rng = np.random.default_rng(17)
    X = unit_rows(rng, 50, 3, 1.5)
    est = sm.VonMisesFisherKDE(4.0).fit(X)
    U = unit_rows(rng, 200_000, 3)
    vals = np.exp(est.score_samples(U)) * 4 * math.pi
    se = vals.std() / math.sqrt(len(vals))
    assert abs(vals.mean() - 1) < 5 * se and se < 0.01


def test_vmf_rule_and_cv_agree_on_vmf_data():
    rng = np.random.default_rng(18)
    mu = np.array([[0, 0, 1.0]])
    S = sm.VonMisesFisherKDE(10.0).fit(mu).sample(400, seed=2)
    assert np.allclose(np.linalg.norm(S, axis=1), 1)
    assert S[:, 2].mean() == pytest.approx(1 / math.tanh(10) - 1 / 10, abs=0.01)  # A_3(10)
    rot = sm.VonMisesFisherKDE("rot").fit(S).kappa_
    cv = sm.VonMisesFisherKDE("cv").fit(S).kappa_
    assert 0.5 < rot / cv < 2
    del rng


def test_vmf_unnormalised_rows():
    X = np.array([[2.0, 0, 0], [0, 3.0, 0]])
    with pytest.warns(UserWarning, match="X: rows are not unit vectors"):
        a = sm.VonMisesFisherKDE(2.0).fit(X).score_samples([[1.0, 0, 0]])
    b = sm.VonMisesFisherKDE(2.0).fit(X / np.linalg.norm(X, axis=1)[:, None]).score_samples([[1.0, 0, 0]])
    assert np.allclose(a, b)
    with pytest.raises(ValueError, match="X: rows must be unit vectors"):
        sm.VonMisesFisherKDE(2.0, on_unnormalized="raise").fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sm.VonMisesFisherKDE(2.0, on_unnormalized="normalize").fit(X)
    with pytest.raises(ValueError, match="X: row 1 is the zero vector"):
        sm.VonMisesFisherKDE(2.0).fit([[1.0, 0], [0, 0]])
    with pytest.raises(ValueError, match="kappa: must be positive"):
        sm.VonMisesFisherKDE(-1.0).fit([[1.0, 0]])


# ---- types, sampling, progress -----------------------------------------------------------------

def test_torch_and_half_inputs():
    rng = np.random.default_rng(19)
    X, Y = rng.standard_normal((100, 3)), rng.standard_normal((10, 3))
    ref = brute_gauss(Y, X, 0.25 * np.eye(3))
    est = sm.GaussianKDE(0.5).fit(torch.from_numpy(X))
    out = est.score_samples(torch.from_numpy(Y))
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float64
    np.testing.assert_allclose(out.numpy(), ref, rtol=1e-10)
    out16 = sm.GaussianKDE(0.5).fit(X.astype(np.float32)).score_samples(torch.from_numpy(Y).to(torch.bfloat16))
    assert out16.dtype == torch.bfloat16
    np.testing.assert_allclose(out16.float().numpy(), brute_gauss(torch.from_numpy(Y).to(torch.bfloat16).double().numpy(),
                                                                  X, 0.25 * np.eye(3)), rtol=1e-2)
    s = est.sample(5, seed=1)
    assert isinstance(s, torch.Tensor) and s.shape == (5, 3)
    assert isinstance(est.score(Y), float)


def test_sampling_moments_and_seed():
    rng = np.random.default_rng(20)
    X = rng.standard_normal((300, 2)) * [1, 3]
    est = sm.GaussianKDE(0.5, covariance="full").fit(X)
    S = est.sample(200_000, seed=4)
    assert S.shape == (200_000, 2)
    assert np.array_equal(est.sample(100, seed=4), est.sample(100, seed=4))
    assert not np.array_equal(est.sample(100, seed=4), est.sample(100, seed=5))
    np.testing.assert_allclose(np.cov(S.T), np.cov(X.T, bias=True) + est.kernel_covariance_, rtol=0.03, atol=0.02)
    w = np.zeros(300)
    w[0] = 1
    S = sm.GaussianKDE(1e-6).fit(X, w).sample(50, seed=1)
    np.testing.assert_allclose(S, np.repeat(X[:1], 50, axis=0), atol=1e-4)


def test_progress_bar(capsys):
    pytest.importorskip("tqdm")
    rng = np.random.default_rng(21)
    X = rng.standard_normal((400, 2))
    est = sm.GaussianKDE("cv", progress=True).fit(X)
    assert "LOO-CV" in capsys.readouterr().err
    est.score_samples(X[:10])


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nonfinite_inputs(bad):
    X = np.zeros((5, 2))
    X[1] = [1, 2]
    Xb = X.copy()
    Xb[2, 1] = bad
    with pytest.raises(ValueError, match="X: contains NaN or infinity"):
        sm.GaussianKDE(1.0).fit(Xb)
    with pytest.raises(ValueError, match="Y: contains NaN or infinity"):
        sm.GaussianKDE(1.0).fit(X).score_samples(Xb)
    with pytest.raises(ValueError, match="X: contains NaN or infinity"):
        sm.VonMisesFisherKDE(1.0).fit(Xb + 1)


def test_bad_arguments():
    X = np.random.default_rng(0).standard_normal((20, 3))
    est = sm.GaussianKDE(1.0).fit(X)
    with pytest.raises(ValueError, match="Y: has d = 2 columns but the estimator was fitted with d = 3"):
        est.score_samples(np.zeros((4, 2)))
    with pytest.raises(ValueError, match="X: needs at least one point"):
        sm.GaussianKDE(1.0).fit(np.zeros((0, 3)))
    with pytest.raises(ValueError, match="X: expected a 2-D array"):
        sm.GaussianKDE(1.0).fit(np.zeros((2, 3, 4)))
    for bw in [0.0, -1.0, np.nan, np.inf]:
        with pytest.raises(ValueError, match="bandwidth: must be positive"):
            sm.GaussianKDE(bw).fit(X)
    with pytest.raises(ValueError, match="bandwidth: expected a number, 'scott'"):
        sm.GaussianKDE("auto").fit(X)
    with pytest.raises(TypeError, match="bandwidth:"):
        sm.GaussianKDE(True).fit(X)
    with pytest.raises(ValueError, match="covariance: the data covariance is singular"):
        sm.GaussianKDE(1.0, covariance="full").fit(np.random.default_rng(1).standard_normal((5, 8)))
    with pytest.raises(ValueError, match="covariance: the data covariance is singular"):
        sm.GaussianKDE(1.0, covariance="full").fit(np.c_[X, X[:, 0] + X[:, 1]])
    with pytest.raises(ValueError, match="covariance: a column of X has zero variance"):
        sm.GaussianKDE(1.0, covariance="diagonal").fit(np.c_[X, np.ones(20)])
    with pytest.raises(ValueError, match="covariance: the covariance matrix is singular"):
        sm.GaussianKDE(1.0, covariance=np.ones((3, 3))).fit(X)
    with pytest.raises(ValueError, match="covariance: expected shape"):
        sm.GaussianKDE(1.0, covariance=np.eye(2)).fit(X)
    with pytest.raises(ValueError, match="bandwidth: 'scott' needs data with a positive spread"):
        sm.GaussianKDE().fit(np.ones((4, 2)))
    for w, msg in [(-np.ones(20), "non-negative"), (np.zeros(20), "sum to zero"), (np.ones(3), "shape"),
                   (np.full(20, np.nan), "finite")]:
        with pytest.raises(ValueError, match=f"sample_weight: .*{msg}"):
            sm.GaussianKDE(1.0).fit(X, w)
    with pytest.raises(ValueError, match="call fit"):
        sm.GaussianKDE(1.0).score_samples(X)
    refit = sm.GaussianKDE(1.0, covariance="full").fit(X)
    with pytest.raises(ValueError, match="covariance:"):
        refit.fit(np.random.default_rng(2).standard_normal((3, 5)))
    with pytest.raises(ValueError, match="call fit"):
        refit.score_samples(X)
    with pytest.raises(ValueError, match="kernel: expected"):
        sm.kde_logpdf(X, X, 1.0, kernel="tophat")
    with pytest.raises(TypeError, match="X: .*not supported"):
        sm.GaussianKDE(1.0).fit(np.ones((3, 2), dtype=np.int64) > 0)
    with pytest.raises(ValueError, match="bandwidths: expected"):
        est.cv_scores([1.0, -2.0])
    with pytest.raises(ValueError, match="n_samples: must be non-negative"):
        est.sample(-1)


def test_zero_weights_and_single_point():
    X = np.array([[0.0], [5.0]])
    got = sm.GaussianKDE(1.0).fit(X, [1.0, 0.0]).score_samples([[5.0]])
    assert got[0] == pytest.approx(-12.5 - 0.5 * LOG_2PI, rel=1e-12)
    assert sm.GaussianKDE(1.0).fit(X[:1]).cv_scores([1.0])[0] == -np.inf  # nothing left out of one point
    assert sm.kde_logpdf(np.zeros((0, 1)), X, 1.0).shape == (0,)


def test_one_dimensional_inputs():
    """1-D X is n points in d = 1 (SciPy's convention); a 1-D Y against d > 1 is one point."""
    got = sm.kde_logpdf(np.array([0.0, 1.0]), np.array([0.0, 1.0, 2.0]), 1.0)
    ref = np.log(scipy.stats.norm.pdf(np.array([0.0, 1.0])[:, None] - np.array([0.0, 1.0, 2.0])).mean(axis=1))
    np.testing.assert_allclose(got, ref, rtol=1e-12)
    X = np.random.default_rng(22).standard_normal((50, 4))
    est = sm.GaussianKDE(0.7).fit(X)
    np.testing.assert_allclose(est.score_samples(X[3]), est.score_samples(X[3:4]), rtol=0)
