// log K_v(x) and K_{v+1}/K_v for -1/2 <= v and R = sqrt(v^2 + x^2) < 25 (so v < 25):
// K_mu, K_{mu+1} at mu = v - round(v) (|mu| <= 1/2) from Temme's series (x <= 1/2) or the
// trapezoidal integral (x > 1/2), then the forward recurrence DLMF 10.29.1,
//     K_{nu+1}(x) = K_{nu-1}(x) + (2 nu / x) K_nu(x),
// run on unnormalised values P_j proportional to K_{mu+j} (k_small: P_j = K_{mu+j}/K_mu for x >= 1,
// x^j K_{mu+j}/K_mu for x < 1, where the former could overflow), which has only positive terms
// (forward recurrence is the stable direction for K, the dominant solution):
//     log K_v = log K_mu + log P_n (- n log x),   x K_{v+1}/K_v = x P_{n+1}/P_n (or P_{n+1}/P_n),
// n = round(v) <= 25. The cost is bounded: at most 25 recurrence steps, one multiply-add each on the chain.
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
        // P_j proportional to K_{mu+j}; the chain has one multiply-add per step (the divisions below are
        // independent of it and pipeline), where the ratio form g_{j+1} = x^2/g_j + ... divides.
        double p0 = 1.0, p1;
        if (x >= 1.0) {
            // P_j = K_{mu+j}/K_mu: P_{j+1} = P_{j-1} + (2(mu+j)/x) P_j; each coefficient rounded
            // once (2/x rounded once would bias all n of them alike). P_n < 1e45 for x >= 1, n <= 25.
            p1 = g / x;
            for (int j = 1; j <= n; ++j) {  // ends with p0 = P_n, p1 = P_{n+1}
                const double pn = 2.0 * (mu + static_cast<double>(j)) / x * p1 + p0;
                p0 = p1;
                p1 = pn;
            }
            lk += std::log(p0);
            g = x * p1 / p0;
        } else {
            // P_j = x^j K_{mu+j}/K_mu (no overflow for tiny x): P_{j+1} = x^2 P_{j-1} + 2(mu+j) P_j,
            // log K_v = log K_mu + log P_n - n log x (two positive terms).
            const double x2 = x * x;
            p1 = g;
            for (int j = 1; j <= n; ++j) {  // ends with p0 = P_n, p1 = P_{n+1}
                const double pn = 2.0 * (mu + static_cast<double>(j)) * p1 + x2 * p0;
                p0 = p1;
                p1 = pn;
            }
            lk += std::log(p0) - static_cast<double>(n) * std::log(x);
            g = p1 / p0;
        }
    }
    return KResult{lk, g};
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
