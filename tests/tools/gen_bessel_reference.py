#!/usr/bin/env python3
"""Reference table for the stablemath Bessel functions: tests/data/bessel_reference.csv.

Columns: region, f, v, x, log_i, log_k, ratio_i, ratio_k, log_ie, log_ke
  region   the sampling set a row belongs to (the C++ test reports errors per region)
  f        1 when v and x are exactly representable as float32 (those rows are also float tests)
  v, x     exact doubles (shortest round-trip repr)
  log_i    log I_v(x)          log_k   log K_v(x)
  ratio_i  I_{v+1}(x)/I_v(x)   ratio_k K_{v+1}(x)/K_v(x)
  log_ie   log I_v(x) - x      log_ke  log K_v(x) + x
Values are written with 21 significant digits (more than a long double holds). Rows with v < 0
(region k_negative_v) have only the K columns; the I columns are nan there.

Reference values (mpmath, 50 digits):
  * I: mpmath.besseli(v, x) (hypergeometric series, with mpmath's own asymptotic expansion for
    large x), with maxterms raised. log_ie is log(besseli(v, x) * exp(-x)), so it keeps its digits
    when x is huge. When besseli exceeds the per-call time limit (v and x both >~ 1e5 and of
    similar size) the uniform (Debye) expansion is summed in mpmath at 50 digits with as many
    terms as needed for 1e-40 (only used with sqrt(v^2 + x^2) >= 1e3, where ~12 terms give
    1e-40); its polynomials come from gen_bessel_coeffs.debye_polys, which is cross-checked against
    besseli on the rows where both are available (--check).
  * K: mpmath.besselk(v, x) for v <= 30. For larger v it is not used: mpmath 1.3.0's besselk
    returns wrong values for large non-integer v near x ~ v/1.5 (e.g. log K at v = 3667.909,
    x = 2432.049 comes out as -1.2754 at 50 and 80 digits; the integral, the Debye sum and the
    Wronskian with besseli all give -6.0800), and it is slow or fails to converge elsewhere. Then,
    and when besselk fails, log K is the log of the integral
    K_v(x) = int_0^inf exp(-x cosh t) cosh(v t) dt (DLMF 10.32.9) by mpmath.quad (tanh-sinh)
    around the peak t* = asinh(v/x), in log space, at 24 digits -- independent of the expansions
    used in the library.
  * Every row is checked against the Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x at 1e-25 (the
    script stops otherwise); this ties the I and K columns to each other.
  * Ratios from the two orders' values at 50 digits (never from the library's formulas).

Runtime: about 3-5 minutes on one core (each mpmath call is capped at --timeout seconds).
Usage: python tests/tools/gen_bessel_reference.py [--out PATH] [--seed N] [--check]
"""
import argparse
import math
import os
import random
import signal
import sys
import time

import mpmath as mp
from mpmath.libmp import NoConvergence
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

DPS = 50
QUAD_DPS = 24
V_BESSELK_MAX = 30.0  # mpmath.besselk is wrong for large non-integer v near x ~ v/1.5 (see below)
ETA_ZERO_Q = 1.5088877  # v/x where eta(x/v) = 0 (z = 0.66274)


class Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise Timeout()


def with_timeout(seconds, fn, *args):
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    except Timeout:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


# ---- independent K: the integral DLMF 10.32.9 in log space ------------------------------------
def logke_quad(v, x):
    """log(K_v(x) e^x) from the integral, in log space (exact in the +-x part)."""
    # The integral is O(1) after scaling by e^{g(t*)}; QUAD_DPS digits for it, plus as many as |g(t*)|
    # has before the point, so that log K (up to ~1e9 here) keeps ~QUAD_DPS digits after the point
    # (ratios come from differences of these logs).
    with mp.workdps(DPS):
        big = abs(-2 * mp.mpf(x) * mp.sinh(mp.asinh(mp.mpf(v) / x) / 2) ** 2 + mp.mpf(v) * mp.asinh(mp.mpf(v) / x))
    with mp.workdps(QUAD_DPS + int(mp.log10(1 + big))):
        v = mp.mpf(v)
        x = mp.mpf(x)
        ts = mp.asinh(v / x)

        def g(t):  # log of exp(-x (cosh t - 1)) cosh(v t); cosh t - 1 = 2 sinh^2(t/2)
            return -2 * x * mp.sinh(t / 2) ** 2 + v * t + mp.log1p(mp.exp(-2 * v * t)) - mp.log(2)

        g0 = g(ts)
        sig = min(1 / mp.sqrt(x * mp.cosh(ts)), mp.mpf(1))
        hi = ts + sig
        while g(hi) - g0 > -160:
            hi = ts + 2 * (hi - ts)
        # In units of the peak width (t = sig u): mpmath.quad is not scale-free for tiny intervals.
        us = ts / sig
        pts = [mp.mpf(0)]
        for k in (-24, -12, -6, -3, -1, 0, 1, 3, 6, 12, 24):
            p = us + k
            if pts[-1] < p < hi / sig:
                pts.append(p)
        pts.append(hi / sig)
        val = mp.quad(lambda u: mp.exp(g(sig * u) - g0), pts)
        return +(g0 + mp.log(sig * val))


# ---- uniform expansion at high precision (fallback for very large v ~ x) ----------------------
_POLYS = None


def _polys():
    global _POLYS
    if _POLYS is None:
        import gen_bessel_coeffs as g
        P, _ = g.debye_polys()
        _POLYS = [[mp.mpf(c.p) / c.q for c in g.coeffs(p)] for p in P]
    return _POLYS


def debye_logs(v, x, r_min=1000):
    """(log I_v(x) - x, log K_v(x) + x) by the uniform expansion, R >= r_min (1e3: terms to 1e-45;
    the hostile-input corpus uses it from R = 500, where the 25 terms still reach below 1e-50)."""
    # at least DPS digits whatever the global precision (callers may ask for more: huge v needs them)
    with mp.workdps(max(mp.mp.dps, DPS)):
        return _debye_logs_at_current_precision(v, x, r_min)


def _debye_logs_at_current_precision(v, x, r_min):
    P = _polys()
    v = mp.mpf(v)
    x = mp.mpf(x)
    R = mp.sqrt(v * v + x * x)
    assert R >= r_min
    w = 1 / R
    tau = (v / R) ** 2
    su = mp.mpf(1)
    sk = mp.mpf(1)
    for k in range(1, len(P)):
        term = w**k * mp.polyval(P[k][::-1], tau)
        su += term
        sk += (-1) ** k * term
        if abs(term) < mp.mpf(10) ** -45:
            break
    else:
        raise RuntimeError("Debye fallback did not converge")
    ph_e = v * v / (R + x) - v * mp.asinh(v / x)  # phase - x
    lie = ph_e - mp.log(2 * mp.pi * R) / 2 + mp.log(su)
    lke = -ph_e + mp.log(mp.pi / (2 * R)) / 2 + mp.log(sk)
    return lie, lke


def ref_row(v, x, timeout, check=False):
    mp.mp.dps = DPS
    vm = mp.mpf(v)
    xm = mp.mpf(x)
    ex = mp.exp(-xm)
    out = {}
    src = []
    if v < 0:  # K only (-1 < v < 0 here): mpmath's besselk takes negative orders
        assert -1 < v < 0
        k0 = mp.besselk(vm, xm)
        out["log_k"] = mp.log(k0)
        out["log_ke"] = out["log_k"] + xm
        out["ratio_k"] = mp.besselk(vm + 1, xm) / k0
        if check:
            assert abs(logke_quad(-vm, x) - out["log_ke"]) < mp.mpf(10) ** -20 * max(1, abs(out["log_ke"]))
        for c in ("log_i", "ratio_i", "log_ie"):
            out[c] = mp.nan
        return out, ["besselk"]

    def ie(order):
        try:
            return mp.besseli(order, xm) * ex
        except NoConvergence:  # large x: more series terms
            return mp.besseli(order, xm, maxterms=10**6) * ex

    i0 = with_timeout(timeout, ie, vm)
    i1 = with_timeout(timeout, ie, vm + 1) if i0 is not None else None
    if i0 is not None and i1 is not None:
        out["log_ie"] = mp.log(i0)
        out["ratio_i"] = i1 / i0
        src.append("besseli")
        if check and math.hypot(v, x) >= 1000:
            d0, _ = debye_logs(v, x)
            d1, _ = debye_logs(vm + 1, x)
            err = max(abs(d0 - out["log_ie"]), abs(mp.exp(d1 - d0) / out["ratio_i"] - 1))
            if err > mp.mpf(10) ** -30:
                print(f"check: besseli vs Debye differ by {mp.nstr(err, 3)} at v={v!r} x={x!r}", file=sys.stderr)
    else:
        d0, _ = debye_logs(v, x)
        d1, _ = debye_logs(vm + 1, x)
        out["log_ie"] = d0
        out["ratio_i"] = mp.exp(d1 - d0)
        src.append("debye")
    out["log_i"] = out["log_ie"] + xm

    def ke(order):
        # (maxterms would make besselk raise its working precision without bound: leave it out.)
        try:
            return mp.besselk(order, xm) / ex
        except (NoConvergence, ValueError):
            return None

    k0 = k1 = None
    if v <= V_BESSELK_MAX:
        k0 = with_timeout(timeout, ke, vm)
        k1 = with_timeout(timeout, ke, vm + 1) if k0 is not None else None
    if k0 is not None and k1 is not None:
        out["log_ke"] = mp.log(k0)
        out["ratio_k"] = k1 / k0
        src.append("besselk")
        if check and x > 1e-3:
            q = logke_quad(v, x)
            err = abs(q - out["log_ke"]) / max(1, abs(q))
            if err > mp.mpf(10) ** -28:
                print(f"check: besselk vs integral differ by {mp.nstr(err, 3)} at v={v!r} x={x!r}", file=sys.stderr)
    else:
        l0 = logke_quad(v, x)
        l1 = logke_quad(vm + 1, x)
        out["log_ke"] = l0
        out["ratio_k"] = mp.exp(l1 - l0)
        src.append("quad")
    out["log_k"] = out["log_ke"] - xm
    # Every row must satisfy the Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x, i.e.
    # log(I_v e^-x) + log(K_v e^x) + log(K_{v+1}/K_v + I_{v+1}/I_v) + log x = 0: this ties the I
    # values (besseli or Debye) to the independently computed K values (besselk or the integral).
    res = out["log_ie"] + out["log_ke"] + mp.log(out["ratio_k"] + out["ratio_i"]) + mp.log(xm)
    scale = 1 + abs(out["log_ie"]) + abs(out["log_ke"])
    if abs(res) > mp.mpf(10) ** -25 * scale:
        raise RuntimeError(f"reference row v={v!r} x={x!r} fails the Wronskian: residual {mp.nstr(res, 3)} ({src})")
    return out, src


# ---- sampling ----------------------------------------------------------------------------------
def loguniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def sample_points(seed):
    rng = random.Random(seed)
    pts = []  # (region, v, x)

    def add(region, v, x):
        pts.append((region, float(v), float(x)))

    # power series / Temme / integral region, R < 25
    n = 0
    while n < 220:
        u = rng.random()
        if u < 0.5:
            v = rng.uniform(0, 25)
        elif u < 0.75:
            v = loguniform(rng, 1e-10, 1)
        else:
            v = rng.randint(0, 24) + rng.choice([0.0, 0.5])
        x = loguniform(rng, 1e-8, 25)
        if math.hypot(v, x) < 24.999:
            add("small", v, x)
            n += 1
    for _ in range(40):
        add("small_tiny_x", rng.uniform(0, 24), loguniform(rng, 1e-300, 1e-8))
    # switch Temme -> integral at x = 1/2
    for _ in range(40):
        add("switch_x05", rng.uniform(0, 24), rng.uniform(0.49, 0.51))
    # half-integer orders (mu = +-1/2) and integers
    for _ in range(30):
        add("small_halfint", rng.randint(0, 23) + 0.5, loguniform(rng, 1e-3, 20))
    # the R = 25 boundary between series/Temme/integral and the uniform expansion
    for _ in range(100):
        R = rng.uniform(24.5, 25.5)
        a = rng.uniform(0, math.pi / 2)
        add("boundary_R25", R * math.sin(a), R * math.cos(a))
    # large x, small v (Hankel limit of the uniform expansion)
    for _ in range(120):
        u = rng.random()
        v = 0.0 if u < 0.15 else (loguniform(rng, 1e-12, 1e-2) if u < 0.3 else rng.uniform(0, 4))
        add("hankel", v, loguniform(rng, 25, 1e300) if rng.random() < 0.5 else loguniform(rng, 25, 1e4))
    # uniform expansion with x ~ v
    for _ in range(250):
        v = loguniform(rng, 25, 1e6)
        add("uniform", v, v * loguniform(rng, 1e-3, 1e3))
    # anything with R >= 25
    n = 0
    while n < 100:
        v = loguniform(rng, 1, 1e6)
        x = loguniform(rng, 1e-300, 1e300)
        if math.hypot(v, x) >= 25:
            add("uniform_far", v, x)
            n += 1
    # the double-double band of the phase, 1.2 <= v/x <= 1.9, and its edges
    for _ in range(120):
        v = loguniform(rng, 25, 1e6)
        add("phase_band", v, v / rng.uniform(1.1, 2.0))
    for _ in range(30):
        v = loguniform(rng, 25, 1e6)
        add("phase_zero", v, v / (ETA_ZERO_Q * (1 + rng.uniform(-1e-3, 1e-3))))
    # fixed extremes
    for v in (0.0, 1e-12, 0.5, 1.0, 24.99, 25.0, 1e3, 1e6):
        for x in (1e-300, 1e-100, 1e-10, 1e10, 1e100, 1e300):
            add("extreme", v, x)
    # 0 <= v < 1/2 at tiny x: K_{v+1}/K_v comes straight from Temme's series (no recurrence step
    # hides its error behind the 2v/x term); (x/2)^{+-v} must not lose |v log x| eps there.
    for _ in range(40):
        add("temme_tiny_x", rng.uniform(0, 0.5), loguniform(rng, 1e-300, 1e-3))
    # negative orders, K only (K_{-v} = K_v; K_{v+1}/K_v = K_{|v+1|}/K_{|v|}); the I columns are nan.
    # For -1 < v < 0 the ratio is a power-like function of x (~ (2/x)^{1-2|v+1/2|}...) straight from
    # Temme's series or its reflection.
    for _ in range(40):
        add("k_negative_v", -rng.uniform(0, 1), loguniform(rng, 1e-300, 24) if rng.random() < 0.7 else rng.uniform(1, 24))
    return pts


def to_float32_if(rng_bit, v, x):
    if not rng_bit:
        return v, x, 0
    if not (1e-37 < x < 3e38 or x == 0) or v > 3e38:
        return v, x, 0
    fv = float(np.float32(v))
    fx = float(np.float32(x))
    if fx <= 0:
        return v, x, 0
    return fv, fx, 1


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.normpath(os.path.join(HERE, "..", "data", "bessel_reference.csv")))
    ap.add_argument("--seed", type=int, default=20240917)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per mpmath besseli/besselk call")
    ap.add_argument("--check", action="store_true", help="cross-check besselk against the integral and besseli against the Debye sum")
    ap.add_argument("--limit", type=int, default=0, help="only the first N points (debugging)")
    args = ap.parse_args()

    pts = sample_points(args.seed)
    if args.limit:
        pts = pts[: args.limit]
    t0 = time.time()
    rows = []
    stats = {}
    for i, (region, v, x) in enumerate(pts):
        v, x, f = to_float32_if(i % 2 == 0, v, x)
        vals, src = ref_row(v, x, args.timeout, args.check)
        for s in src:
            stats[s] = stats.get(s, 0) + 1
        rows.append((region, f, v, x, vals))
        if (i + 1) % 100 == 0:
            print(f"{i + 1}/{len(pts)} rows, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)

    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    cols = ("log_i", "log_k", "ratio_i", "ratio_k", "log_ie", "log_ke")
    with open(args.out, "w") as fh:
        fh.write("# Generated by tests/tools/gen_bessel_reference.py (mpmath %s, %d digits, seed %d); do not edit.\n"
                 % (mp.__version__, DPS, args.seed))
        fh.write("region,f,v,x," + ",".join(cols) + "\n")
        for region, f, v, x, vals in rows:
            fh.write("%s,%d,%r,%r,%s\n" % (region, f, v, x, ",".join(mp.nstr(vals[c], 21, min_fixed=-5, max_fixed=5)
                                                                      .replace("e+", "e") for c in cols)))
    print(f"wrote {len(rows)} rows to {args.out} in {time.time() - t0:.0f} s; sources {stats}", file=sys.stderr)


if __name__ == "__main__":
    main()
