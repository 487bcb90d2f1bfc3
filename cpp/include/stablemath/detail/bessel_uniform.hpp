// Uniform asymptotic expansion of I_v(x), K_v(x) and their ratios for R = sqrt(v^2 + x^2) >= 25.
//
// Source: Debye's expansions, DLMF 10.41.3 (I), 10.41.4 (K), 10.41.5/10.41.6 (I', K'), with the
// polynomials u_k (10.41.10) and v_k (10.41.11). With z = x/v, p = (1 + z^2)^(-1/2) and
// eta = sqrt(1 + z^2) + log(z / (1 + sqrt(1 + z^2))) they read
//     I_v(vz) ~ e^{v eta} / ((2 pi v)^(1/2) (1 + z^2)^(1/4)) sum_k u_k(p) / v^k,
//     K_v(vz) ~ (pi / (2v))^(1/2) e^{-v eta} / (1 + z^2)^(1/4) sum_k (-1)^k u_k(p) / v^k.
// Written in R, t = v/R (= p), s = x/R, w = 1/R and tau = t^2 they contain no 1/v at all:
//     v eta = R - v asinh(v/x)                                   (the "phase")
//     (2 pi v)^(1/2) (1 + z^2)^(1/4) = (2 pi R)^(1/2)
//     u_k(t) / v^k = w^k P_k(tau)                                 (u_k(t) = t^k P_k(t^2))
// so the expansion is an expansion in 1/R, uniformly valid in the direction of (v, x): at v = 0 it
// is exactly the Hankel expansion DLMF 10.40.1/10.40.2 (P_k(0) = Hankel coefficient a_k(0)), and
// as x -> 0 it is the Stirling-type large-order form. Olver's error bound (DLMF 10.41(iv)) in these
// variables is of the size of the first omitted term, whose bound max_tau |P_k(tau)| = P_k(0)
// (the v = 0 Hankel coefficient) is what bessel_coeffs::debye_terms_* use to pick K; 21 terms
// reach 2^-58 at R = 25 (the v = 0, x = 25 corner, where the Hankel series itself bottoms out at
// about e^{-2x}).
//
// Ratios and log-derivatives come from the same sums (Q_k from v_k - u_k = -(1 - t^2) t^k Q_k):
//     d/dx log I_v = R A / x,  A = 1 - s^2 sum_{k>=1} w^k Q_k / sum_k w^k P_k
//     I_{v+1}/I_v  = d/dx log I_v - v/x = s [1/(1 + t) - w SQ(w) / SU(w)]         (no cancellation)
//     K_{v+1}/K_v  = (1 + t)/s + s w SQ(-w) / SU(-w)
//     d/dx log K_v = -1/s - s w SQ(-w) / SU(-w)
// with SU(w) = sum_{k>=0} w^k P_k(tau) and SQ(w) = sum_{k>=1} w^(k-1) Q_k(tau). K_{v+1}/K_v with a
// signed t = v/R is also right for -1/2 <= v < 0 (K_{-v} = K_v, so only the v/x term changes sign).
//
// The phase R - v asinh(v/x) has a zero at v/x = 1.50888 (z = 0.6627, eta = 0); there both terms
// are about 1.8 x and cancel, so a double evaluation has an absolute error of ~ v eps while
// log I is only ~ -log(2 pi R)/2. For 1.2 <= v/x <= 1.9 the phase is therefore computed in
// double-double: asinh(q) = asinh(3/2) + asinh(d), d = q sqrt(13/4) - (3/2) sqrt(1 + q^2) (the
// subtraction formula for asinh), with asinh(d) - d from its Taylor series (|d| <= 0.21, 12 terms:
// the omitted terms are < 1e-21 relative; the double rounding of the series, eps |d|^3/6, is
// < 2e-19 |d| at the band edges, where |phase| >= 0.3 x). Cost: ~2x the double phase.
//
// Weak spots: none known inside R >= 25. The double-precision phase outside the dd band loses at
// most a factor ~10 (at the band edges: (R + v asinh(v/x)) / |phase| <= 9.5) to cancellation, i.e.
// a few 1e-15 relative. Near R = 25 with v ~ 0 the expansion needs 21 terms and its truncation
// is ~2^-58 (bessel_coeffs.hpp). For x > ~1e307 the factor 1/R is
// subnormal; the w terms are then far below the rounding of the leading terms anyway.
//
// Huge arguments (R >= 2^1000, beyond the documented x <= 1e300): R overflows for v = x = max, R + x
// in phase_scaled for x > ~9e307 (giving -v^2/x instead of -v^2/(2x)) and v asinh(v/x) where the
// phase itself is finite. There s, t, w come from R/4 and the logs from uniform_log_huge, which
// forms every term at a quarter of its size (exact power-of-2 scaling). Both are behind one
// comparison on R, so the ordinary path (and the batch, which keeps max(v, x) < 1e150) is as before.
#pragma once
#include <cmath>
#include "../config.hpp"
#include "bessel_coeffs.hpp"
#include "bessel_dd.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// Number of Debye terms for R (double or float target).
template <bool Low>
SM_INLINE int debye_terms(double R) {
    return Low ? bessel_coeffs::debye_terms_float(R) : bessel_coeffs::debye_terms_double(R);
}

// sqrt(v^2 + x^2) for |v|, x >= 0 without overflow or underflow of the squares.
SM_INLINE double hypot_vx(double v, double x) {
    v = std::fabs(v);
    const double m = v > x ? v : x;
    if (m < 1e150 && m > 1e-150) return std::sqrt(std::fma(v, v, x * x));
    return std::hypot(v, x);
}

// asinh(v/x) for v >= 0, x > 0, also when v/x overflows.
SM_INLINE double asinh_ratio(double v, double x) {
    const double q = v / x;
    if (q < 1e300) return std::asinh(q);
    return bessel_coeffs::ln2 + std::log(v) - std::log(x);  // asinh(q) = log(2q) + O(q^-2)
}

// R - v asinh(v/x) in double-double, for 1.2 <= v/x <= 1.9 (see the header comment).
SM_HOST_DEVICE inline double phase_dd(double v, double x) {
    using namespace dd;
    const DD q = div(v, x);
    const DD s = sqrt(add(from(1.0), mul(q, q)));  // sqrt(1 + q^2)
    const DD c0{bessel_coeffs::sqrt_3p25_hi, bessel_coeffs::sqrt_3p25_lo};
    const DD d = sub(mul(q, c0), mul(s, 1.5));     // sinh(asinh(q) - asinh(3/2))
    // asinh(d) - d = sum_{n>=1} a_n d^(2n+1), a_1 = -1/6, a_{n+1} = -a_n (2n+1)^2 / ((2n+2)(2n+3)).
    const double dh = d.hi, d2 = dh * dh;
    double term = -dh * d2 / 6.0, tail = 0.0;
    for (int n = 1; n <= 12; ++n) {
        tail += term;
        const double nn = static_cast<double>(n);
        term *= -d2 * (2 * nn + 1) * (2 * nn + 1) / ((2 * nn + 2) * (2 * nn + 3));
    }
    DD a = add(DD{bessel_coeffs::asinh_1p5_hi, bessel_coeffs::asinh_1p5_lo}, d);
    a = add(a, from(tail));                              // asinh(q)
    const DD r = sub(s, mul(q, a));                      // sqrt(1 + q^2) - q asinh(q)
    return to_double(mul(r, x));
}

// The phase v*eta = R - v asinh(v/x) (log I ~ phase, log K ~ -phase); v >= 0.
SM_INLINE double phase(double v, double x, double R) {
    const double q = v / x;
    if (q >= 1.2 && q <= 1.9) return phase_dd(v, x);
    return R - v * asinh_ratio(v, x);
}

// The phase minus x: v^2/(R + x) - v asinh(v/x) <= 0 (for the exponentially scaled functions).
// No zero inside (0, inf): the two terms lose at most about a factor 2 to cancellation.
SM_INLINE double phase_scaled(double v, double x, double R) {
    return v * (v / (R + x)) - v * asinh_ratio(v, x);
}

struct UniformSums {
    double R, s, t, w, tau;
    int K;
};

// R from which the huge-argument forms are used (see the header comment).
constexpr double huge_r = 0x1p1000;

template <bool Low>
SM_INLINE UniformSums uniform_setup(double v, double x) {
    UniformSums u;
    u.R = hypot_vx(v, x);
    if (u.R < huge_r) {
        u.w = 1.0 / u.R;
        u.s = x / u.R;
        u.t = v / u.R;
    } else {  // R may be inf: the same quotients with R/4
        const double rq = hypot_vx(0.25 * v, 0.25 * x);
        u.w = 0.25 / rq;
        u.s = (0.25 * x) / rq;
        u.t = (0.25 * v) / rq;
    }
    u.tau = u.t * u.t;
    u.K = debye_terms<Low>(u.R);
    return u;
}

// log I_v(x) (is_i) or log K_v(x), or their scaled forms, for R >= huge_r. R, R + x and
// v asinh(v/x) are formed at a quarter of their size, so an intermediate overflows only where the
// result does. The 1/R terms of the expansion (< 1e-300) are left out.
SM_HOST_DEVICE inline double uniform_log_huge(double v, double x, bool scaled, bool is_i) {
    const double vq = 0.25 * v, xq = 0.25 * x;
    const double rq = hypot_vx(vq, xq);  // R/4
    const double a = asinh_ratio(v, x);
    const double q = v / x;
    double ph;
    if (scaled) ph = v * (vq / (rq + xq) - a);  // v^2/(R + x) - v asinh(v/x); v/(R + x) <= 1
    else if (q >= 1.2 && q <= 1.9) ph = phase_dd(v, x);
    else ph = 4.0 * (rq - vq * a);  // R - v asinh(v/x)
    const double rest = -0.5 * (std::log(rq) + 2.0 * bessel_coeffs::ln2);  // -log(R)/2
    return is_i ? ph + (rest - bessel_coeffs::half_log_2pi) : -ph + (rest + bessel_coeffs::half_log_pi_2);
}

// log I_v(x) (or log(I_v(x) e^{-x}) when scaled), v >= 0, x > 0, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_log_i(double v, double x, bool scaled) {
    const UniformSums u = uniform_setup<Low>(v, x);
    if (!(u.R < huge_r)) return uniform_log_huge(v, x, scaled, true);
    const double su = bessel_coeffs::debye_u_tail(u.K, u.w, u.tau);
    const double ph = scaled ? phase_scaled(v, x, u.R) : phase(v, x, u.R);
    return ph + (std::log1p(su) - 0.5 * std::log(u.R) - bessel_coeffs::half_log_2pi);
}

// log K_v(x) (or log(K_v(x) e^{x}) when scaled), v >= 0, x > 0, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_log_k(double v, double x, bool scaled) {
    const UniformSums u = uniform_setup<Low>(v, x);
    if (!(u.R < huge_r)) return uniform_log_huge(v, x, scaled, false);
    const double su = bessel_coeffs::debye_u_tail(u.K, -u.w, u.tau);
    const double ph = scaled ? phase_scaled(v, x, u.R) : phase(v, x, u.R);
    return -ph + (std::log1p(su) - 0.5 * std::log(u.R) + bessel_coeffs::half_log_pi_2);
}

// I_{v+1}(x) / I_v(x), v >= 0, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_i_ratio(double v, double x) {
    const UniformSums u = uniform_setup<Low>(v, x);
    const double su = bessel_coeffs::debye_u_tail(u.K, u.w, u.tau);
    const double sq = bessel_coeffs::debye_q_sum(u.K, u.w, u.tau);
    return u.s * (1.0 / (1.0 + u.t) - u.w * sq / (1.0 + su));
}

// d/dx log I_v(x), v >= 0, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_i_dlog(double v, double x) {
    const UniformSums u = uniform_setup<Low>(v, x);
    const double su = bessel_coeffs::debye_u_tail(u.K, u.w, u.tau);
    const double sq = bessel_coeffs::debye_q_sum(u.K, u.w, u.tau);
    return 1.0 / u.s - u.s * u.w * sq / (1.0 + su);
}

// K_{v+1}(x) / K_v(x), v >= -1/2, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_k_ratio(double v, double x) {
    const UniformSums u = uniform_setup<Low>(v, x);
    const double su = bessel_coeffs::debye_u_tail(u.K, -u.w, u.tau);
    const double sq = bessel_coeffs::debye_q_sum(u.K, -u.w, u.tau);
    return (1.0 + u.t) / u.s + u.s * u.w * sq / (1.0 + su);
}

// d/dx log K_v(x), v >= 0, R >= 25.
template <bool Low>
SM_HOST_DEVICE inline double uniform_k_dlog(double v, double x) {
    const UniformSums u = uniform_setup<Low>(v, x);
    const double su = bessel_coeffs::debye_u_tail(u.K, -u.w, u.tau);
    const double sq = bessel_coeffs::debye_q_sum(u.K, -u.w, u.tau);
    return -1.0 / u.s - u.s * u.w * sq / (1.0 + su);
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
