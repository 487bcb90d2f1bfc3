#!/usr/bin/env python3
"""Generates cpp/include/stablemath/detail/bessel_coeffs.hpp: the exact-rational coefficients behind
the Bessel code in stablemath, rounded once to double and written as hex literals.

  * Debye polynomials u_k(t) (DLMF 10.41.10):
        u_0 = 1,  u_{k+1}(t) = 1/2 t^2 (1 - t^2) u_k'(t) + 1/8 int_0^t (1 - 5 s^2) u_k(s) ds,
    computed in exact rationals with sympy and stored as u_k(t) = t^k P_k(t^2).
  * The polynomials of the derivative expansion (DLMF 10.41.11):
        v_k(t) - u_k(t) = t (t^2 - 1) [1/2 u_{k-1}(t) + t u_{k-1}'(t)] = -(1 - t^2) t^k Q_k(t^2),
        Q_k(tau) = (k - 1/2) P_{k-1}(tau) + 2 tau P_{k-1}'(tau).
  * Term-count thresholds: max over tau in [0, 1] of |P_k(tau)| and |Q_k(tau)| (found on a fine grid,
    both sit at tau = 0 where they are the Hankel coefficients), and for each K the smallest
    R = sqrt(v^2 + x^2) at which the first omitted terms are below the target (double and float).
  * Taylor coefficients of 1/Gamma(1 + z) at 0 (mpmath, 50 digits) for Temme's Gamma_1, Gamma_2.
  * Double-double constants for the phase near its zero: asinh(3/2), sqrt(13/4).

Usage: python tests/tools/gen_bessel_coeffs.py [--out PATH]   (needs sympy and mpmath)
"""
import argparse
import os
import sys

import mpmath as mp
import sympy as sp

KMAX = 24          # Debye terms generated
R_MIN = 25.0       # the uniform expansion is used for sqrt(v^2 + x^2) >= R_MIN
TOL_DOUBLE = 2.0 ** -58
TOL_FLOAT = 2.0 ** -32
N_INVGAMMA = 24    # Taylor terms of 1/Gamma(1+z); |z| <= 1/2

mp.mp.dps = 50


def hexlit(x):
    """Exact C++ hex literal of the double nearest to the rational / mpf x."""
    if isinstance(x, sp.Rational):
        x = mp.mpf(x.p) / x.q
    d = float(x)  # mpf -> nearest double
    if d == 0.0:
        return "0.0"
    return d.hex().replace("0x1.0000000000000p", "0x1p").replace("+", "")


def dd_split(x):
    hi = float(x)
    lo = float(mp.mpf(x) - mp.mpf(hi))
    return hi, lo


def debye_polys():
    t, s, tau = sp.symbols("t s tau")
    u = [sp.Integer(1)]
    for _ in range(KMAX):
        uk = u[-1]
        nxt = (sp.Rational(1, 2) * t**2 * (1 - t**2) * sp.diff(uk, t)
               + sp.Rational(1, 8) * sp.integrate((1 - 5 * s**2) * uk.subs(t, s), (s, 0, t)))
        u.append(sp.expand(nxt))
    P = []
    for k, uk in enumerate(u):
        pk = sp.expand(sp.cancel(uk / t**k))
        P.append(sp.Poly(pk.subs(t, sp.sqrt(tau)), tau))
    Q = [None]
    for k in range(1, KMAX + 1):
        pe = P[k - 1].as_expr()
        Q.append(sp.Poly(sp.expand((k - sp.Rational(1, 2)) * pe + 2 * tau * sp.diff(pe, tau)), tau))
    # Self-check against DLMF 10.41.10 / 10.41.11 values: u_1 = (3t - 5t^3)/24, v_1 = (-9t + 7t^3)/24,
    # u_2 = (81t^2 - 462t^4 + 385t^6)/1152.
    assert sp.expand(u[1] - (3 * t - 5 * t**3) / 24) == 0
    assert sp.expand(u[2] - (81 * t**2 - 462 * t**4 + 385 * t**6) / 1152) == 0
    v1 = u[1] + t * (t**2 - 1) * (sp.Rational(1, 2) * u[0] + t * sp.diff(u[0], t))
    assert sp.expand(v1 - (-9 * t + 7 * t**3) / 24) == 0
    assert sp.expand(u[1] - v1 - (1 - t**2) * t * Q[1].as_expr().subs(tau, t**2)) == 0
    return P, Q


def coeffs(poly):
    return [sp.Rational(c) for c in poly.all_coeffs()[::-1]]  # ascending powers of tau


def max_abs(cs):
    cm = [mp.mpf(c.p) / c.q for c in cs]
    best = mp.mpf(0)
    for i in range(2001):
        x = mp.mpf(i) / 2000
        val = abs(mp.polyval(cm[::-1], x))
        best = max(best, val)
    return best


def horner_expr(cs, var):
    """Horner form with hex literals, ascending coefficients cs."""
    expr = hexlit(cs[-1])
    for c in reversed(cs[:-1]):
        expr = f"{hexlit(c)} + {var} * ({expr})"
    return expr


def main():
    ap = argparse.ArgumentParser()
    here = os.path.dirname(os.path.abspath(__file__))
    default_out = os.path.join(here, "..", "..", "cpp", "include", "stablemath", "detail", "bessel_coeffs.hpp")
    ap.add_argument("--out", default=os.path.normpath(default_out))
    args = ap.parse_args()

    P, Q = debye_polys()
    bp = [max_abs(coeffs(P[k])) for k in range(KMAX + 1)]
    bq = [None] + [max_abs(coeffs(Q[k])) for k in range(1, KMAX + 1)]
    # Truncating after K terms leaves about bound_{K+1} / R^{K+1} in sum_k P_k w^k (log I, log K) and
    # about 2 bound^Q_{K+1} / R^{K+1} relative in the ratios; c_k is the larger of the two.
    c = [None] + [max(bp[k], 2 * bq[k]) for k in range(1, KMAX + 1)]

    def r_needed(K, tol):
        return (c[K + 1] / tol) ** (mp.mpf(1) / (K + 1))

    thresholds = {}
    for name, tol in (("double", TOL_DOUBLE), ("float", TOL_FLOAT)):
        rows = []
        for K in range(1, KMAX):
            rows.append((K, float(r_needed(K, tol))))
        thresholds[name] = rows
    kmax_needed = min(K for K, r in thresholds["double"] if r <= R_MIN)

    inv_gamma = mp.taylor(lambda z: 1 / mp.gamma(1 + z), 0, N_INVGAMMA + 2)
    g1 = [-inv_gamma[j] for j in range(1, N_INVGAMMA + 1, 2)]   # Gamma_1(mu) = sum g1[i] mu^(2i)
    g2 = [inv_gamma[j] for j in range(0, N_INVGAMMA + 1, 2)]    # Gamma_2(mu) = sum g2[i] mu^(2i)
    # truncation at |mu| = 1/2
    # truncation at |mu| = 1/2: the omitted terms are below 2^-70
    assert abs(inv_gamma[N_INVGAMMA + 1]) * mp.mpf(0.5) ** (N_INVGAMMA + 1) < mp.mpf(2) ** -70
    assert abs(inv_gamma[N_INVGAMMA + 2]) * mp.mpf(0.5) ** (N_INVGAMMA + 2) < mp.mpf(2) ** -70

    a0 = mp.asinh(mp.mpf(3) / 2)
    c0 = mp.sqrt(mp.mpf(13) / 4)

    L = []
    w = L.append
    w("// GENERATED by tests/tools/gen_bessel_coeffs.py -- do not edit by hand; rerun the script.")
    w("//")
    w("// Coefficients for the modified Bessel functions (see the script for the derivation):")
    w("//   P_k(tau): Debye polynomials u_k(t) = t^k P_k(t^2), DLMF 10.41.10, exact rationals rounded once;")
    w("//   Q_k(tau): v_k(t) - u_k(t) = -(1 - t^2) t^k Q_k(t^2), DLMF 10.41.11;")
    w("//   term-count thresholds in R = sqrt(v^2 + x^2) for the uniform expansion;")
    w("//   Taylor coefficients of 1/Gamma(1+z) (Temme's Gamma_1, Gamma_2);")
    w("//   double-double constants asinh(3/2) and sqrt(13/4).")
    w("#pragma once")
    w('#include "../config.hpp"')
    w("")
    w("STABLEMATH_NAMESPACE_BEGIN")
    w("namespace detail {")
    w("namespace bessel_coeffs {")
    w("")
    w(f"// Largest number of Debye terms stored; R >= {R_MIN:g} needs at most {kmax_needed} for double.")
    w(f"constexpr int debye_kmax = {KMAX - 1};")
    w(f"constexpr double uniform_r_min = {R_MIN!r};")
    w("")
    w("// Number of Debye terms K for which bound_{K+1} / R^{K+1} < 2^-58 (double) or 2^-32 (float):")
    w("// K = 1 + the number of thresholds above R (R >= thr_K needs only K terms), a branch-free sum of")
    w("// comparisons that the batch kernels vectorise (a chain of ifs mispredicts on mixed input);")
    w("// C = double there, so that the loop has one lane width.")
    for name in ("double", "float"):
        w("template <class C = int>")
        w(f"SM_HOST_DEVICE inline C debye_terms_{name}(double R) {{")
        rows = [r for K, r in thresholds[name] if K < KMAX - 1]
        w("    return C(1) +")
        for i, r in enumerate(rows):
            w(f"           (R < {r!r} ? C(1) : C(0))" + (";" if i == len(rows) - 1 else " +"))
        w("}")
        w("")
    w("// sum_{k=1..K} w^k P_k(tau) (the sum without its leading 1), Horner in w; the P_k(tau) are")
    w("// independent of each other, so the straight-line code after the jump has plenty of parallelism.")
    w("SM_HOST_DEVICE inline double debye_u_tail(int K, double w, double tau) {")
    w("    double s = 0.0;")
    w("    switch (K) {")
    w("    default:")
    for k in range(KMAX - 1, 0, -1):
        w(f"    case {k}: s = s * w + ({horner_expr(coeffs(P[k]), 'tau')}); [[fallthrough]];")
    w("    case 0: break;")
    w("    }")
    w("    return w * s;")
    w("}")
    w("")
    w("// sum_{k=1..K} w^(k-1) Q_k(tau).")
    w("SM_HOST_DEVICE inline double debye_q_sum(int K, double w, double tau) {")
    w("    double s = 0.0;")
    w("    switch (K) {")
    w("    default:")
    for k in range(KMAX - 1, 1, -1):
        w(f"    case {k}: s = s * w + ({horner_expr(coeffs(Q[k]), 'tau')}); [[fallthrough]];")
    w(f"    case 1: s = s * w + ({horner_expr(coeffs(Q[1]), 'tau')}); break;")
    w("    case 0: break;")
    w("    }")
    w("    return s;")
    w("}")
    w("")
    w("// Temme's Gamma_1(mu) = (1/Gamma(1-mu) - 1/Gamma(1+mu)) / (2 mu) and")
    w("// Gamma_2(mu) = (1/Gamma(1-mu) + 1/Gamma(1+mu)) / 2 as polynomials in m = mu^2, |mu| <= 1/2.")
    w(f"SM_HOST_DEVICE inline double temme_gamma1(double m) {{ return {horner_expr(g1, 'm')}; }}")
    w(f"SM_HOST_DEVICE inline double temme_gamma2(double m) {{ return {horner_expr(g2, 'm')}; }}")
    w("// Gamma_2(mu) - 1, accurate for small mu.")
    w(f"SM_HOST_DEVICE inline double temme_gamma2_minus1(double m) {{ return m * ({horner_expr(g2[1:], 'm')}); }}")
    w("")
    hi, lo = dd_split(a0)
    w(f"constexpr double asinh_1p5_hi = {hi.hex()}, asinh_1p5_lo = {lo.hex()};  // asinh(3/2)")
    hi, lo = dd_split(c0)
    w(f"constexpr double sqrt_3p25_hi = {hi.hex()}, sqrt_3p25_lo = {lo.hex()};  // sqrt(13/4)")
    w(f"constexpr double half_log_2pi = {float(mp.log(2 * mp.pi) / 2).hex()};")
    w(f"constexpr double half_log_pi_2 = {float(mp.log(mp.pi / 2) / 2).hex()};")
    w(f"constexpr double ln2 = {float(mp.log(2)).hex()};")
    w(f"constexpr double pi = {float(mp.pi).hex()};")
    w("")
    w("}  // namespace bessel_coeffs")
    w("}  // namespace detail")
    w("STABLEMATH_NAMESPACE_END")
    text = "\n".join(L) + "\n"
    with open(args.out, "w") as f:
        f.write(text)
    print(f"wrote {args.out}: K needed at R = {R_MIN:g}: {kmax_needed} (double)", file=sys.stderr)
    for name in ("double", "float"):
        print(name, [(K, round(r, 2)) for K, r in thresholds[name]], file=sys.stderr)
    print("P bounds", [mp.nstr(b, 4) for b in bp[1:]], file=sys.stderr)
    print("Q bounds", [mp.nstr(b, 4) for b in bq[1:]], file=sys.stderr)


if __name__ == "__main__":
    main()
