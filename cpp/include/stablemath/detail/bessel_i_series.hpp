// log I_v(x) by its power series, and I_{v+1}/I_v by the Gauss continued fraction, for the
// region R = sqrt(v^2 + x^2) < 25 (v >= 0, x > 0) that the uniform expansion does not cover.
//
// Series (DLMF 10.25.2):
//     I_v(x) = (x/2)^v / Gamma(v+1) * S,  S = sum_k (x^2/4)^k / (k! (v+1)_k),
//     log I_v(x) = log((x/2)^v / Gamma(v+1)) + log1p(S - 1)    (first term: see series_lead).
// All terms are positive, so S has no cancellation; each term is the previous one times
// (x^2/4) / (k (v + k)), and with x < 25 the largest term is below e^25 (no overflow). The sum
// stops when a term falls below 2^-56 (float: 2^-30) of the sum, at most 90 terms (x < 25 needs
// ~45). log1p keeps log I_0(x) ~ x^2/4 exact for tiny x. log Gamma(1+v) is
// -log1p(1/Gamma(1+v) - 1) from Temme's Gamma_1/Gamma_2 Taylor polynomials for v < 1/2 (exact
// near v = 0, where 1+v would round), else lgamma(v) + log(v) (v exact; lgamma(1+v) would round
// the argument: ~psi(v) ulp(v) absolute error).
//
// Ratio: the Gauss continued fraction (DLMF 10.33.1), I_{v+1}/I_v = 1/(2(v+1)/x + 1/(2(v+2)/x + ...)),
// evaluated backwards (as a three-term recurrence, see cf_i_ratio) from depth N = 10 + 0.8 x + 2 sqrt(x) (<= 40), seeded with the Amos-type estimate
// x / (nu + 1 + sqrt(x^2 + (nu + 1)^2)) at nu = v + N. The backward recurrence damps the seed's error
// by prod_k r_k^2; the depth has a margin of >= 4 over the depth that leaves < 1 ulp (measured
// against mpmath: x = 1 needs 7, x = 5 needs 14, x = 10 needs 19, x = 25 needs 29). Every step
// is x / (2(v+k) + x r): positive terms, about one rounding per step that the next step damps
// again (measured: <= 2.5 ulp).
//
// Weak spots: none known. The largest measured error (|log I| ~ 1 near v ~ 20, x ~ 14.5, where
// log((x/2)^v/Gamma(v+1)) ~ -2.4 is the difference of ~40 and ~42) is ~1e-15 absolute with the
// product form of series_lead (it was 5e-15 with v log(x/2) - lgamma(v+1)).
#pragma once
#include <cmath>
#include "../config.hpp"
#include "bessel_coeffs.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// log Gamma(1 + v) for v >= 0.
SM_INLINE double lgamma1p(double v) {
    if (v < 0.5) {
        const double m = v * v;
        // 1/Gamma(1+v) - 1 = (Gamma_2(v) - 1) - v Gamma_1(v)
        const double r = bessel_coeffs::temme_gamma2_minus1(m) - v * bessel_coeffs::temme_gamma1(m);
        return -std::log1p(r);
    }
    return std::lgamma(v) + std::log(v);
}

// log((x/2)^v / Gamma(v+1)), v >= 0, x > 0. Near x ~ 0.74 v this is a small difference of two
// terms up to ~60 (v < 25), so v log(x/2) - lgamma(v+1) would carry an absolute error of a few ulp of
// 60 (~1e-14). With v = n + f (n = floor(v) <= 24, 0 <= f < 1) it is instead
//     f log(x/2) - log Gamma(1+f) + log( (x/2)^n / prod_{j=1..n} (f + j) ),
// where f + j = v - (n - j) is exact and the two products have n - 1 roundings each: the error is a
// few ulp of the result plus ~sqrt(n)/2 ulp. Used for 1e-10 <= x < 25 (no underflow of (x/2)^n,
// no overflow of the product); for smaller x, |log I| > 20 v and the direct form is accurate.
SM_HOST_DEVICE inline double series_lead(double v, double x) {
    if (v == 0.0) return 0.0;
    const double half_x = 0.5 * x;
    if (v >= 1.0 && v < 25.0 && x >= 1e-10 && x < 25.0) {
        const double nf = std::floor(v);
        const double f = v - nf;
        const int n = static_cast<int>(nf);
        double num = half_x, den = f + 1.0;
        for (int j = 2; j <= n; ++j) {
            num *= half_x;
            den *= v - static_cast<double>(n - j);  // f + j, exact
        }
        const double head = f == 0.0 ? 0.0 : f * std::log(half_x) - lgamma1p(f);
        return head + std::log(num / den);
    }
    // log(x/2); x/2 is exact except for subnormal x.
    const double lx2 = x > 1e-300 ? std::log(half_x) : std::log(x) - bessel_coeffs::ln2;
    return v * lx2 - lgamma1p(v);
}

// log I_v(x) for v >= 0, 0 < x, by the power series (meant for sqrt(v^2 + x^2) < 25).
template <bool Low>
SM_HOST_DEVICE inline double series_log_i(double v, double x) {
    const double y = 0.25 * x * x;
    const double tol = Low ? 0x1p-30 : 0x1p-56;
    // sum_{i=1..k} y^i / D_i with D_k = prod_{i<=k} i (v + i), kept as A_k / D_k, B_k = y^k:
    //     A_k = A_{k-1} i(v+i) + B_k,
    // so the loop has no division (a chain of divisions, one per term, dominated its cost).
    // For x, v < 25 the loop stops by k ~ 50, where D_k < 1e150 (no overflow).
    double a = 0.0, b = 1.0, d = 1.0;
    for (int k = 1; k <= 90; ++k) {
        const double dk = static_cast<double>(k);
        const double c = dk * (v + dk);
        b *= y;
        a = a * c + b;
        d *= c;
        // Terms grow while y > k (v + k); a term below tol * (1 + sum) is past the peak.
        if (b <= tol * (d + a)) break;
    }
    return series_lead(v, x) + std::log1p(a / d);
}

// I_{v+1}(x) / I_v(x) for v >= 0, 0 < x < 25, by the backward Gauss continued fraction.
// The backward recurrence runs on P_k = I_{v+k} / x^k (up to a common factor), for which
// x I_{v+k-1} = 2(v+k) I_{v+k} + x I_{v+k+1} reads P_{k-1} = 2(v+k) P_k + x^2 P_{k+1}: one multiply-add per
// step on the critical path instead of a division (the same continued fraction, r_k = x P_{k+1}/P_k;
// all terms positive; P_0 <= (2(v+n))^n < 1e90 for v < 25, n <= 40: no overflow).
SM_HOST_DEVICE inline double cf_i_ratio(double v, double x) {
    const int n = static_cast<int>(10.0 + 0.8 * x + 2.0 * std::sqrt(x));
    const double nu1 = v + static_cast<double>(n) + 1.0;
    const double x2 = x * x;
    double p1 = 1.0 / (nu1 + std::sqrt(x2 + nu1 * nu1));  // P_{n+1} / P_n = I_{v+n+1} / (x I_{v+n})
    double p0 = 1.0;
    for (int k = n; k >= 1; --k) {
        const double pm = 2.0 * (v + static_cast<double>(k)) * p0 + x2 * p1;
        p1 = p0;
        p0 = pm;
    }
    return x * p1 / p0;
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
