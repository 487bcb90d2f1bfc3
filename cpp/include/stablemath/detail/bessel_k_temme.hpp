// K_mu(x) and K_{mu+1}(x) for |mu| <= 1/2 and 0 < x <= 1 by Temme's series.
//
// Source: N. M. Temme, "On the numerical evaluation of the modified Bessel function of the third
// kind", J. Comput. Phys. 19 (1975) 324-337 (the same series is in DLMF 10.31 rearranged so that
// the mu -> 0 limit is regular). With y = x^2/4 and L = log(2/x):
//     K_mu(x)     = sum_k y^k / k! f_k,
//     K_{mu+1}(x) = (2/x) sum_k y^k / k! h_k,        h_k = p_k - k f_k,
//     f_k = (k f_{k-1} + p_{k-1} + q_{k-1}) / (k^2 - mu^2),  p_k = p_{k-1}/(k - mu),  q_k = q_{k-1}/(k + mu),
//     p_0 = (x/2)^{-mu} Gamma(1 + mu) / 2,   q_0 = (x/2)^{mu} Gamma(1 - mu) / 2,
//     f_0 = (mu pi / sin(mu pi)) [cosh(sigma) Gamma_1(mu) + (sinh(sigma)/sigma) L Gamma_2(mu)],  sigma = mu L,
//     Gamma_1(mu) = (1/Gamma(1-mu) - 1/Gamma(1+mu)) / (2 mu),  Gamma_2(mu) = (1/Gamma(1-mu) + 1/Gamma(1+mu)) / 2.
// Gamma_1 and Gamma_2 are even polynomials in mu from the Taylor series of 1/Gamma(1+z)
// (bessel_coeffs.hpp, generated), so mu -> 0 needs no special handling beyond sigma = 0 and mu = 0
// in the two removable quotients. 1/Gamma(1 -+ mu) = Gamma_2 +- mu Gamma_1.
//
// Returned: log K_mu(x) and g = x K_{mu+1}/K_mu = 2 sum(h)/sum(f); K_{mu+1} itself is never formed
// (it overflows for x below ~1e-205 at mu = 1/2). L = log 2 - log x is finite down to the
// smallest subnormal x; e^sigma <= e^373 there.
//
// Validity and accuracy: 0 < x <= 1 (y <= 1/4: at most ~12 terms). Measured relative error of
// K_mu and K_{mu+1} against mpmath: <= 7e-16 for x <= 1; it grows with x (6e-15 at x = 2, from the
// growing terms), which is why bessel_k_integral.hpp takes over above x = 1. For tiny x the
// rounding of sigma = mu L (|sigma| up to 373) gives a relative error ~ |sigma| eps in K, which is
// an absolute error ~ eps |log K| in log K: harmless for the log.
#pragma once
#include <cmath>
#include "../config.hpp"
#include "bessel_coeffs.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// log K_mu (or log(e^x K_mu)) and g = x K_{mu+1} / K_mu.
struct KPair {
    double log_k;
    double g;
};

template <bool Low>
SM_INLINE KPair temme_k(double mu, double x) {
    const double m = mu * mu;
    const double g1 = bessel_coeffs::temme_gamma1(m);
    const double g2 = bessel_coeffs::temme_gamma2(m);
    const double L = bessel_coeffs::ln2 - std::log(x);  // log(2/x) > 0 for x <= 1
    const double sig = mu * L;
    const double pm = bessel_coeffs::pi * mu;
    const double fact = mu == 0.0 ? 1.0 : pm / std::sin(pm);
    const double shs = sig == 0.0 ? 1.0 : std::sinh(sig) / sig;
    const double es = std::exp(sig);
    double f = fact * (std::cosh(sig) * g1 + shs * L * g2);
    double p = 0.5 * es / (g2 - mu * g1);  // (x/2)^-mu Gamma(1+mu) / 2
    double q = 0.5 / es / (g2 + mu * g1);  // (x/2)^mu Gamma(1-mu) / 2
    const double y = 0.25 * x * x;
    const double tol = Low ? 0x1p-32 : 0x1p-56;
    double c = 1.0, sf = f, sh = p;
    for (int k = 1; k <= 30; ++k) {
        const double dk = static_cast<double>(k);
        f = (dk * f + p + q) / (dk * dk - m);
        p /= dk - mu;
        q /= dk + mu;
        c *= y / dk;
        const double tf = c * f, th = c * (p - dk * f);
        sf += tf;
        sh += th;
        if (std::fabs(tf) <= tol * std::fabs(sf) && std::fabs(th) <= tol * std::fabs(sh)) break;
    }
    return KPair{std::log(sf), 2.0 * sh / sf};
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
