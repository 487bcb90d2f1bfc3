#!/usr/bin/env python3
"""Showcase: kernel density estimation in log space where density-space code gives 0 or +-inf.

1. Gaussian KDE in d = 1000 (n = 2000 standard normal points): SciPy's ``gaussian_kde.evaluate``
   underflows to 0 for every query (log: -inf); its ``logpdf`` is right but scalar and slow;
   scikit-learn's exact KD-tree (atol=rtol=0) is off by many nats; stablemath is exact and fast.
2. von Mises-Fisher in d = 1000, kappa = 10: SciPy's ``vonmises_fisher.logpdf`` returns +inf.
3. The large-dimension regimes (shared notes on Biroli & Mezard, arXiv 2408.05807): for N(0, I_d)
   data with n = e^(alpha d), the test log-likelihood per dimension against the bandwidth, next to
   the annealed / condensed closed forms, and the leave-one-out curve that GaussianKDE("cv")
   maximises. Writes bench/results/kde_bandwidth.png.

Run: python bench/showcase_kde.py [--quick]
"""
from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import scipy.stats
from scipy.optimize import brentq

import stablemath as sm

HERE = Path(__file__).resolve().parent


def timed(f):
    t0 = time.perf_counter()
    r = f()
    return r, time.perf_counter() - t0


def gaussian_d1000(quick):
    from sklearn.neighbors import KernelDensity
    d, n, m = 1000, (1200 if quick else 2000), 5
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((n, d)), rng.standard_normal((m, d))
    ref = scipy.stats.gaussian_kde(X.T)  # Scott's factor, data covariance
    dens, t_ev = timed(lambda: ref.evaluate(Y.T))
    lp, t_lp = timed(lambda: ref.logpdf(Y.T))
    est = sm.GaussianKDE("scott", covariance="full").fit(X)
    ours, t_sm = timed(lambda: est.score_samples(Y))
    h = 1.0
    iso = sm.GaussianKDE(h).fit(X)
    kd = KernelDensity(bandwidth=h, atol=0, rtol=0).fit(X)
    sk, t_sk = timed(lambda: kd.score_samples(Y))
    ours_iso = iso.score_samples(Y)
    print(f"\n1. Gaussian KDE, d = {d}, n = {n}, {m} queries (log density of the first three)")
    print("| method | log density | time |")
    print("|---|---|---|")
    with np.errstate(divide="ignore"):
        print(f"| scipy gaussian_kde: log(evaluate) | {np.array2string(np.log(dens[:3]), precision=2)} | {t_ev:.3f} s |")
    print(f"| scipy gaussian_kde.logpdf | {np.array2string(lp[:3], precision=2)} | {t_lp:.3f} s |")
    print(f"| stablemath GaussianKDE('scott', covariance='full') | {np.array2string(ours[:3], precision=2)} | {t_sm:.3f} s |")
    print(f"| sklearn KernelDensity(h=1, atol=0, rtol=0) | {np.array2string(sk[:3], precision=2)} | {t_sk:.3f} s |")
    print(f"| stablemath GaussianKDE(1.0) | {np.array2string(ours_iso[:3], precision=2)} | |")
    print(f"max |stablemath - scipy logpdf| = {np.abs(ours - lp).max():.2e}; "
          f"max |sklearn - stablemath| (h = 1) = {np.abs(sk - ours_iso).max():.3g} nats")


def vmf_d1000():
    d, kappa = 1000, 10.0
    mu = np.zeros(d)
    mu[0] = 1
    with np.errstate(all="ignore"):
        sp = scipy.stats.vonmises_fisher(mu, kappa).logpdf(mu)
    ours = sm.VonMisesFisherKDE(kappa).fit(mu[None]).score_samples(mu[None])[0]
    print(f"\n2. von Mises-Fisher log density at the mean direction, d = {d}, kappa = {kappa}")
    print(f"scipy vonmises_fisher.logpdf: {sp};  stablemath VonMisesFisherKDE (one point): {ours:.11f}"
          "  (mpmath: 2042.00776275115)")


# ---- closed forms for N(0, I) data (shared notes, section 4.2; derived there, checked by simulation) ----

def h_g(alpha):
    return brentq(lambda h: 0.5 * math.log1p(1 / h ** 2) - h ** 2 / (2 * (1 + h ** 2) ** 2) - alpha, 1e-3, 1e3)


def u_min(alpha):
    def rate(t):  # I(u(t)) for tilt t < 0
        u = 1 / (1 - 2 * t) + 1 / (1 - 2 * t) ** 2
        lam = -0.5 * math.log(1 - 2 * t) + t / (1 - 2 * t)
        return t * u - lam
    t = brentq(lambda t: rate(t) - alpha, -1e9, -1e-12)
    return 1 / (1 - 2 * t) + 1 / (1 - 2 * t) ** 2


def theory(h, alpha):
    hg = h_g(alpha)
    if h >= hg:
        return -0.5 * math.log(2 * math.pi * (1 + h * h)) - 1 / (2 * (1 + h * h))
    return -u_min(alpha) / (2 * h * h) - alpha - 0.5 * math.log(2 * math.pi * h * h)


def regimes(quick):
    d, alpha = (60, 0.1) if quick else (100, 0.1)
    n, m = int(round(math.exp(alpha * d))), 1000
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, d)).astype(np.float32)
    Y = rng.standard_normal((m, d)).astype(np.float32)
    hs = np.exp(np.linspace(math.log(0.6), math.log(3.0), 25))
    test = []
    t0 = time.perf_counter()
    for h in hs:
        test.append(float(np.mean(sm.GaussianKDE(float(h)).fit(X).score_samples(Y))) / d)
    t_test = time.perf_counter() - t0
    est = sm.GaussianKDE(1.0).fit(X)
    (loo, t_loo) = timed(lambda: est.cv_scores(hs[::2]) / d)
    (cv, t_cv) = timed(lambda: sm.GaussianKDE("cv").fit(X))
    scott = sm.GaussianKDE("scott").fit(X).bandwidth_
    hg, hkl = h_g(alpha), math.sqrt(u_min(alpha))
    print(f"\n3. Large-dimension regimes: d = {d}, n = e^({alpha} d) = {n}, {m} test queries (float32)")
    print(f"h_G = {hg:.3f}, h_CLT = {math.sqrt(2) * hg:.3f}, h_KL (theory) = {hkl:.3f}, Scott = {scott:.3f}, "
          f"LOO-CV choice = {cv.bandwidth_:.3f} ({t_cv:.1f} s for n^2 = {n * n:.2e} pairs per pass)")
    print(f"test-likelihood argmax on the grid = {hs[int(np.argmax(test))]:.3f} ({t_test:.1f} s for 25 bandwidths); "
          f"LOO curve: {t_loo:.1f} s for {len(hs[::2])} bandwidths in one pass")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7.5, 4.6))
    fine = np.exp(np.linspace(math.log(hs[0]), math.log(hs[-1]), 300))
    ax.plot(fine, [theory(h, alpha) for h in fine], color="0.5", lw=1.5, label="closed form (annealed / condensed)")
    ax.plot(hs, test, "o-", ms=4, label=f"test log-likelihood / d ({m} fresh points)")
    ax.plot(hs[::2], loo, "s--", ms=4, label="leave-one-out log-likelihood / d")
    for x, name, c in [(hg, "$h_G$", "C3"), (math.sqrt(2) * hg, "$h_{CLT}$", "C4"), (hkl, "$h_{KL}$", "C2"),
                       (scott, "Scott", "C5"), (cv.bandwidth_, "LOO-CV", "C1")]:
        ax.axvline(x, color=c, ls=":", lw=1.2)
        ax.text(x, ax.get_ylim()[0], " " + name, color=c, rotation=90, va="bottom", ha="right", fontsize=9)
    ax.set_xscale("log")
    ax.set_xlabel("bandwidth h (units of the data standard deviation)")
    ax.set_ylabel("mean log density per dimension")
    ax.set_title(f"Gaussian KDE of N(0, I), d = {d}, n = e^{{{alpha} d}} = {n}: log-likelihood vs bandwidth", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    fig.tight_layout()
    out = HERE / "results" / "kde_bandwidth.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=130)
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--no-plot", action="store_true", help="skip section 3 (the bandwidth plot)")
    args = ap.parse_args()
    print(f"stablemath {sm.__version__}, kernels {sm.cpu_isa()}, {sm.get_num_threads()} threads")
    gaussian_d1000(args.quick)
    vmf_d1000()
    if not args.no_plot:
        regimes(args.quick)


if __name__ == "__main__":
    main()
