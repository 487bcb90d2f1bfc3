// e^x K_mu(x) and e^x K_{mu+1}(x) for |mu| <= 1/2 and 1/2 < x < 25 by the trapezoidal rule.
//
// Source: the integral DLMF 10.32.9, K_nu(x) = int_0^inf exp(-x cosh t) cosh(nu t) dt, scaled:
//     e^x K_nu(x) = int_0^inf exp(-2x sinh^2(t/2)) cosh(nu t) dt.
// The integrand is even, entire and decays double-exponentially, so the trapezoidal rule
// h [F(0)/2 + sum_{j>=1} F(jh)] converges geometrically in 1/h (Trefethen & Weideman, SIAM Rev.
// 56 (2014) 385, sec. 5): the error is about exp(x(1 - cos d) - 2 pi d / h) for a strip
// half-width d < pi/2, i.e. h ~ 1/sqrt(x) for large x and h ~ pi^2/45 for small x. The step
// h = min(0.2, 0.58/sqrt(x + 0.5)) and the cut-off (2x sinh^2(t/2) - 1.5 t >= 44, so the omitted
// terms are below e^-44 relative) were chosen from measurements against mpmath over
// x in [1, 25], nu in {0, 1/2, 1, 3/2} (error <= 3e-16, 11 to 24 nodes) and checked down to
// x = 0.5 (27 nodes). Below x ~ 0.2 the node count would exceed the cap of 48.
// (Takekawa, SoftwareX 17 (2022) 100923, uses the same integral for log K on a bracketed interval.)
//
// All terms are positive: no cancellation. e^{mu jh}, e^{jh} and e^{jh} - 1 come from
// multiplicative / all-positive recurrences (one exp per node); their relative error grows like
// j/2 ulp, which only matters on terms far from t = 0 whose weight exp(-2x sinh^2) is small. The
// rounding of the two ~20-term sums dominated the error (7 ulp in K_{mu+1}/K_mu); with
// Neumaier-compensated sums the measured error is <= 3.5e-16 in both log(e^x K_mu) and the ratio
// (300 random (mu, x) against mpmath; in long double throughout it would be 1.3e-16).
//
// Returned: log(e^x K_mu(x)) and g = x K_{mu+1}/K_mu (see bessel_k_temme.hpp for KPair).
// Weak spots: none in 1/2 < x < 25; below, the node count grows like log(1/x) (use Temme).
// Cost: one exp per node, 11 (x = 25) to 27 (x = 1/2) nodes.
#pragma once
#include <cmath>
#include "../config.hpp"
#include "bessel_dd.hpp"
#include "bessel_k_temme.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

SM_HOST_DEVICE inline KPair integral_k_scaled(double mu, double x) {
    double h = 0.58 / std::sqrt(x + 0.5);
    h = h < 0.2 ? h : 0.2;
    // Last node: 2x sinh^2(t/2) - 1.5 t >= 44 (two fixed-point steps from t = 0).
    double tm = 2.0 * std::asinh(std::sqrt(22.0 / x));
    tm = 2.0 * std::asinh(std::sqrt((44.0 + 1.5 * tm) / (2.0 * x)));
    int n = static_cast<int>(std::ceil(tm / h));
    n = n < 48 ? n : 48;
    const double e1m = std::expm1(h);
    const double em = std::exp(mu * h), e1 = 1.0 + e1m;
    const double emi = 1.0 / em, e1i = 1.0 / e1;
    double ej = 0.0;                // e^{jh} - 1
    double am = 1.0, ami = 1.0;     // e^{mu j h}, e^{-mu j h}
    double a1 = 1.0, a1i = 1.0;     // e^{j h}, e^{-j h}
    // Sums with Neumaier compensation (j = 0 with weight 1/2: cosh(0) = 1).
    dd::DD s0{0.5, 0.0}, s1{0.5, 0.0};
    for (int j = 1; j <= n; ++j) {
        ej += e1m * (1.0 + ej);     // positive terms only
        am *= em;
        ami *= emi;
        a1 *= e1;
        a1i *= e1i;
        // 2x sinh^2(jh/2) = x (cosh(jh) - 1) = x ej^2 / (2 (1 + ej))
        const double gj = std::exp(-x * ej * ej / (2.0 * (1.0 + ej)));
        const dd::DD t0 = dd::two_sum(s0.hi, gj * 0.5 * (am + ami));
        const dd::DD t1 = dd::two_sum(s1.hi, gj * 0.5 * (am * a1 + ami * a1i));
        s0 = dd::DD{t0.hi, s0.lo + t0.lo};
        s1 = dd::DD{t1.hi, s1.lo + t1.lo};
    }
    const double k0 = s0.hi + s0.lo, k1 = s1.hi + s1.lo;
    return KPair{std::log(h * k0), x * k1 / k0};
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
