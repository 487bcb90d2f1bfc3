// K_mu(x) and K_{mu+1}(x) for |mu| <= 1/2 and 0 < x <= 1/2 by Temme's series.
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
// Validity and accuracy: used for 0 < x <= 1/2 (y <= 1/16: at most ~10 terms); it converges for
// all x but loses accuracy as x grows (the terms grow and f_0 = fact (cosh(sigma) Gamma_1 + ...)
// cancels for |mu| ~ 1/2, x ~ 1), so bessel_k_integral.hpp takes over above x = 1/2. Measured
// against mpmath (800 random mu in [-1/2, 1/2], x in [1e-3, 2]): log K_mu within 7e-16 absolute for
// x <= 1/2, K_{mu+1}/K_mu within 7.5 ulp (12 ulp at x ~ 0.9, 72 ulp at x ~ 1.5). (x/2)^{+-mu} come
// from pow, not exp(mu L), so the ratio does not inherit the error |sigma| eps of the rounded
// exponent (|sigma| <= 373 even for the smallest subnormal x, so e^{+-sigma} never overflows).
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
SM_HOST_DEVICE inline KPair temme_k(double mu, double x) {
    const double m = mu * mu;
    const double g1 = bessel_coeffs::temme_gamma1(m);
    const double g2 = bessel_coeffs::temme_gamma2(m);
    const double L = bessel_coeffs::ln2 - std::log(x);  // log(2/x) > 0 for x <= 1
    const double sig = mu * L;
    const double pm = bessel_coeffs::pi * mu;
    const double fact = mu == 0.0 ? 1.0 : pm / std::sin(pm);
    // e^{+-sigma} = (2/x)^{+-mu} by pow, not exp(mu L): for small x, g = x K_{mu+1}/K_mu behaves
    // like (x/2)^{1-2|mu|} and would inherit the error |sigma| eps of the rounded exponent (measured
    // with exp: 730 ulp at mu = -0.49, x = 1e-300; 56 ulp at mu = -1/4, x = 1e-100; with pow: 2.3
    // and 0.8 ulp). x/2 is exact unless x is subnormal; then (x/2)^a = x^a 2^-a.
    double es, esi;
    if (x >= 1e-300) {
        es = std::pow(0.5 * x, -mu);
        esi = std::pow(0.5 * x, mu);
    } else {
        const double two_mu = std::pow(2.0, mu);
        es = std::pow(x, -mu) * two_mu;
        esi = std::pow(x, mu) / two_mu;
    }
    const double ch = 0.5 * (es + esi);
    // sinh(sigma)/sigma * L = (e^sigma - e^-sigma) / (2 mu); near sigma = 0 from sinh directly.
    const double shs_l = std::fabs(sig) > 0.5 ? (es - esi) / (2.0 * mu) : (sig == 0.0 ? L : std::sinh(sig) / sig * L);
    double f = fact * (ch * g1 + shs_l * g2);
    double p = 0.5 * es / (g2 - mu * g1);  // (x/2)^-mu Gamma(1+mu) / 2
    double q = 0.5 * esi / (g2 + mu * g1); // (x/2)^mu Gamma(1-mu) / 2
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
