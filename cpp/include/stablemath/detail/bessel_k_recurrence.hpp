// log K_v(x) and K_{v+1}/K_v for -1/2 <= v and R = sqrt(v^2 + x^2) < 25 (so v < 25):
// K_mu, K_{mu+1} at mu = v - round(v) (|mu| <= 1/2) from Temme's series (x <= 1/2) or the
// trapezoidal integral (x > 1/2), then the forward recurrence DLMF 10.29.1,
//     K_{nu+1}(x) = K_{nu-1}(x) + (2 nu / x) K_nu(x),
// run on the scaled ratios g_j = x K_{mu+j+1}/K_{mu+j}:
//     g_{j+1} = x^2 / g_j + 2 (mu + j + 1),
// which has only positive terms (forward recurrence is the stable direction for K, the dominant
// solution), and never overflows: g_j <= 2(mu + j) + x^2/g_{j-1} stays below ~100 here.
//     log K_v = log K_mu + sum_{j<n} log(g_j / x),   K_{v+1}/K_v = g_n / x,   n = round(v) <= 25.
// For x >= 1 the product of the g_j/x (each < 100) is formed and logged once; for x < 1 the
// product of the g_j is logged and n log x subtracted (g_j/x could overflow for tiny x).
// The cost is bounded: at most 25 recurrence steps.
//
// Weak spots: none known in this region; errors are a few ulp of K_mu plus ~n/2 ulp from the
// product, i.e. absolute errors ~1e-15 in log K. K_{v+1}/K_v carries Temme's ~4-8 ulp for x <= 1/2
// (the ratio 2 sum(h)/sum(f) collects the roundings of Gamma_1, Gamma_2, (x/2)^{+-mu} and the
// f_0 combination; even with all of those in long double the ratio is only good to ~3 ulp,
// because the coefficients are doubles), ~3-5 ulp from the integral above.
#pragma once
#include <cmath>
#include "../config.hpp"
#include "bessel_k_integral.hpp"
#include "bessel_k_temme.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// Temme's series below, the integral above: at x = 1/2 both give log K to ~4e-16 and
// K_{mu+1}/K_mu to ~5-7 ulp; above, Temme's error grows (12 ulp in the ratio at x = 0.9, 70 at
// x = 1.5), below, the integral needs more nodes than its cap.
constexpr double temme_x_max = 0.5;

struct KResult {
    double log_k;  // log K_v(x), or log(e^x K_v(x)) when scaled
    double g;      // x K_{v+1}(x) / K_v(x)
};

template <bool Low>
SM_HOST_DEVICE inline KResult k_small(double v, double x, bool scaled) {
    const double nf = std::floor(v + 0.5);
    const double mu = v - nf;  // in [-1/2, 1/2)
    const int n = static_cast<int>(nf);
    KPair p;
    double lk;
    if (x <= temme_x_max) {
        p = temme_k<Low>(mu, x);
        lk = scaled ? p.log_k + x : p.log_k;
    } else {
        p = integral_k_scaled(mu, x);
        lk = scaled ? p.log_k : p.log_k - x;
    }
    double g = p.g;
    if (n > 0) {
        double prod = 1.0;
        if (x >= 1.0) {
            for (int j = 0; j < n; ++j) {
                prod *= g / x;
                g = x * x / g + 2.0 * (mu + static_cast<double>(j + 1));
            }
            lk += std::log(prod);
        } else {
            for (int j = 0; j < n; ++j) {
                prod *= g;
                g = x * x / g + 2.0 * (mu + static_cast<double>(j + 1));
            }
            lk += std::log(prod) - static_cast<double>(n) * std::log(x);
        }
    }
    return KResult{lk, g};
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
