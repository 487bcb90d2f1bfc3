// von Mises-Fisher distribution on the unit sphere S^{d-1} in R^d: scalar helpers, host and device.
//
//   T vmf_log_normalizer(T d, T kappa)  log C_d(kappa), the density being C_d(kappa) exp(kappa mu.x)
//   T vmf_mean_resultant(T d, T kappa)  A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa) = E[mu.x]
//
// log C_d(kappa) = (d/2 - 1) log kappa - (d/2) log(2 pi) - log I_{d/2-1}(kappa).
// With nu = d/2 - 1, the first and last terms are each ~ nu |log kappa| when kappa is small
// against nu and cancel down to nu log 2 + lgamma(nu + 1); there the normalised power series
//     I_nu(k) = (k/2)^nu / Gamma(nu+1) * S,  S = sum_j (k^2/4)^j / (j! (nu+1)_j)
// is used so that log C = -log(2 pi^{d/2}) + lgamma(d/2) - log S keeps full relative accuracy
// (at kappa = 0 it is minus the log of the sphere's area). Elsewhere log I comes from
// log_bessel_ie (no overflow for any kappa, d up to 2e6).
//
// Domain: d >= 1 (d = 1 is the two-point distribution on {-1, 1}: log C = -log(2 cosh kappa)),
// kappa >= 0; otherwise NaN. NaN in, NaN out.
#pragma once
#include <cmath>
#include "bessel.hpp"
#include "config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace vmf {

constexpr double log_2pi = 1.8378770664093454836;
constexpr double log_pi = 1.1447298858494001741;
constexpr double log_2 = 0.69314718055994530942;

// log S for y = kappa^2/4 <= (nu + 1) / 64: terms shrink at least 64-fold per step.
SM_HOST_DEVICE inline double log_normalised_series(double nu, double y) {
    double term = 1.0, sum = 0.0;
    for (int j = 1; j <= 12; ++j) {
        term *= y / (static_cast<double>(j) * (nu + static_cast<double>(j)));
        sum += term;
        if (term < 1e-17 * sum) break;
    }
    return std::log1p(sum);
}

SM_HOST_DEVICE inline double log_normalizer(double d, double kappa) {
    if (d != d || kappa != kappa || d < 1.0 || kappa < 0.0) return static_cast<double>(NAN);
    if (kappa == HUGE_VAL) return HUGE_VAL;  // the density concentrates on mu
    const double nu = 0.5 * d - 1.0;
    const double y = 0.25 * kappa * kappa;
    if (y <= (nu + 1.0) * (1.0 / 64.0)) {
        // -log(area of S^{d-1}) - log S, area = 2 pi^{d/2} / Gamma(d/2)
        return std::lgamma(0.5 * d) - log_2 - 0.5 * d * log_pi - log_normalised_series(nu, y);
    }
    if (d == 1.0) {  // I_{-1/2}(k) = sqrt(2/(pi k)) cosh k: log C = -log 2 - log cosh k
        return -log_2 - (kappa + std::log1p(std::exp(-2.0 * kappa)) - log_2);
    }
    const double log_ie = bessel::log_i_impl<false>(nu, kappa, true);
    return nu * std::log(kappa) - 0.5 * d * log_2pi - (log_ie + kappa);
}

// A_d(kappa) = I_{d/2}/I_{d/2-1} from the ratio algorithm; A_d(0) = 0, A_1 = tanh.
SM_HOST_DEVICE inline double mean_resultant(double d, double kappa) {
    if (d != d || kappa != kappa || d < 1.0 || kappa < 0.0) return static_cast<double>(NAN);
    if (kappa == HUGE_VAL) return 1.0;
    if (d == 1.0) return std::tanh(kappa);
    return bessel::i_ratio_impl<false>(0.5 * d - 1.0, kappa);
}

}  // namespace vmf
}  // namespace detail

template <class T>
SM_HOST_DEVICE inline T vmf_log_normalizer(T d, T kappa) {
    return static_cast<T>(detail::vmf::log_normalizer(static_cast<double>(d), static_cast<double>(kappa)));
}

template <class T>
SM_HOST_DEVICE inline T vmf_mean_resultant(T d, T kappa) {
    return static_cast<T>(detail::vmf::mean_resultant(static_cast<double>(d), static_cast<double>(kappa)));
}

STABLEMATH_NAMESPACE_END
