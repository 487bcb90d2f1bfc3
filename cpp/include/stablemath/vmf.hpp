// von Mises-Fisher distribution on the unit sphere S^{d-1} in R^d: scalar helpers, host and device.
//
//   T vmf_log_normalizer(T d, T kappa)  log C_d(kappa), the density being C_d(kappa) exp(kappa mu.x)
//   T vmf_mean_resultant(T d, T kappa)  A_d(kappa) = I_{d/2}(kappa) / I_{d/2-1}(kappa) = E[mu.x]
//   T vmf_log_normalizer_scaled(T d, T kappa)  log C_d(kappa) + kappa (the log density at the mode;
//                                        no cancellation of the two O(kappa) terms for huge kappa)
//   T vmf_kappa_mle(T d, T rbar)        the kappa with A_d(kappa) = rbar (maximum likelihood from the
//                                        mean resultant length rbar in [0, 1]): rbar = 0 -> 0,
//                                        rbar = 1 -> +inf, rbar outside [0, 1] -> NaN
//
// log C_d(kappa) = (d/2 - 1) log kappa - (d/2) log(2 pi) - log I_{d/2-1}(kappa).
// With nu = d/2 - 1, the first and last terms are each ~ nu |log kappa| when kappa is small
// against nu and cancel down to nu log 2 + lgamma(nu + 1); there the normalised power series
//     I_nu(k) = (k/2)^nu / Gamma(nu+1) * S,  S = sum_j (k^2/4)^j / (j! (nu+1)_j)
// is used so that log C = -log(2 pi^{d/2}) + lgamma(d/2) - log S keeps full relative accuracy
// (at kappa = 0 it is minus the log of the sphere's area). Elsewhere log I comes from
// log_bessel_ie (no overflow for any kappa).
//
// Huge dimensions, d >= 2^62: the 1/nu terms of the uniform expansion of I_nu (R = sqrt(nu^2 + kappa^2))
// are below 1e-18 there, and with nu log kappa + nu asinh(nu/kappa) = nu log(nu + R)
//     log C = nu log(nu + R) - R - (nu + 1) log(2 pi) + log(2 pi R)/2      (any kappa >= 0),
//     A_d   = kappa / (nu + R),    kappa_mle = 2 nu rbar / (1 - rbar^2)     (A_d inverted exactly),
// the large-d asymptotics (kappa_mle ~ d rbar / (1 - rbar^2)). The separate terms of log C overflow
// before log C does (nu log kappa at d ~ 1e306), so it is summed at a quarter of its size; A_d comes
// from the Bessel ratio as for every d (it has the same leading term).
//
// Domain: d = 1 (the two-point distribution on {-1, 1}: log C = -log(2 cosh kappa)) or d >= 2
// (any real d), kappa >= 0; otherwise NaN (also for 1 < d < 2, where I_{d/2-1} has a negative
// non-integer order, which the Bessel functions do not take). NaN in, NaN out.
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
constexpr double huge_d = 0x1p62;  // the closed forms above from here on

// log C_d(kappa) + (scaled ? kappa : 0) for huge_d <= d < inf: the closed form above with every
// term at a quarter of its size (nu/4, R/4: exact power-of-2 scaling), so that an intermediate
// overflows only where log C does. R - kappa = nu^2 / (R + kappa) without cancellation.
SM_HOST_DEVICE inline double log_normalizer_huge_d(double d, double kappa, bool scaled) {
    const double nq = 0.25 * (0.5 * d - 1.0), kq = 0.25 * kappa;
    const double rq = bessel::hypot_vx(nq, kq);           // R/4
    const double l = std::log(nq + rq) + 2.0 * log_2;     // log(nu + R)
    const double r_term = scaled ? nq * (nq / (rq + kq)) : rq;
    const double half_log_2pi_r = 0.5 * (log_2pi + std::log(rq) + 2.0 * log_2);
    return 4.0 * (nq * l - r_term - (nq + 0.25) * log_2pi + 0.25 * half_log_2pi_r);
}

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

// log C_d(kappa) + (scaled ? kappa : 0).
SM_HOST_DEVICE inline double log_normalizer(double d, double kappa, bool scaled = false) {
    if (d != d || kappa != kappa || d < 1.0 || (d > 1.0 && d < 2.0) || kappa < 0.0) return static_cast<double>(NAN);
    if (kappa == HUGE_VAL) return HUGE_VAL;  // the density concentrates on mu
    if (d >= huge_d && d < HUGE_VAL) return log_normalizer_huge_d(d, kappa, scaled);
    const double nu = 0.5 * d - 1.0;
    const double y = 0.25 * kappa * kappa;
    const double shift = scaled ? kappa : 0.0;
    if (y <= (nu + 1.0) * (1.0 / 64.0)) {
        // -log(area of S^{d-1}) - log S, area = 2 pi^{d/2} / Gamma(d/2)
        return std::lgamma(0.5 * d) - log_2 - 0.5 * d * log_pi - log_normalised_series(nu, y) + shift;
    }
    if (d == 1.0) {  // I_{-1/2}(k) = sqrt(2/(pi k)) cosh k: log C = -log 2 - log cosh k
        return -std::log1p(std::exp(-2.0 * kappa)) - (kappa - shift);
    }
    const double log_ie = bessel::log_i_impl<false>(nu, kappa, true);
    return nu * std::log(kappa) - 0.5 * d * log_2pi - log_ie - (kappa - shift);
}

// A_d(kappa) = I_{d/2}/I_{d/2-1} from the ratio algorithm; A_d(0) = 0, A_1 = tanh.
SM_HOST_DEVICE inline double mean_resultant(double d, double kappa) {
    if (d != d || kappa != kappa || d < 1.0 || (d > 1.0 && d < 2.0) || kappa < 0.0) return static_cast<double>(NAN);
    if (kappa == HUGE_VAL) return 1.0;
    if (d == 1.0) return std::tanh(kappa);
    return bessel::i_ratio_impl<false>(0.5 * d - 1.0, kappa);
}

// Solves A_d(kappa) = rbar by Newton's method safeguarded by a bracket (bisection when a step
// leaves it). A_d is increasing and concave, so the Newton iterates approach the root
// monotonically once they are below it. Bracket (Amos-type bounds on I_{nu+1}/I_nu, nu >= 0,
// solved for kappa; s = 1 - rbar^2, a = (d-1)/2):
//     rbar (d-1) / s  <=  kappa  <=  rbar (a + sqrt(a^2 + s d)) / s,
// which pins kappa to ~1/kappa relative for large kappa. Start: Banerjee et al. (2005),
// rbar (d - rbar^2) / s. Derivative A' = 1 - A^2 - (d-1) A / kappa: its two terms are ~(d-1)/kappa
// and cancel to ~a/kappa^2, so its relative error grows like eps kappa^2 / a; beyond
// kappa^3 > a / eps it is taken from the bound-shaped approximation kappa / (a + sqrt(kappa^2 + b^2))
// instead (relative error ~1/kappa there, so Newton still gains >= 5 digits per step).
SM_HOST_DEVICE inline double kappa_mle(double d, double rbar) {
    if (d != d || rbar != rbar || d < 1.0 || (d > 1.0 && d < 2.0) || rbar < 0.0 || rbar > 1.0)
        return static_cast<double>(NAN);
    if (rbar == 0.0) return 0.0;
    if (rbar == 1.0 || d == HUGE_VAL) return d == HUGE_VAL ? static_cast<double>(NAN) : HUGE_VAL;
    const double s = (1.0 - rbar) * (1.0 + rbar);  // 1 - rbar^2 without cancellation
    if (d == 1.0) return std::atanh(rbar);
    const double a = 0.5 * (d - 1.0);
    if (d < 2.0) return static_cast<double>(NAN);  // A_d is not defined here for 1 < d < 2 (see above)
    if (d >= huge_d) return rbar * (d - 2.0) / s;  // kappa / (nu + R) = rbar solved (header comment)
    double lo = rbar * (d - 1.0) / s;
    double hi = rbar * (a + std::sqrt(a * a + s * d)) / s;
    double k = rbar * (d - rbar * rbar) / s;
    if (!(k > lo && k < hi)) k = 0.5 * (lo + hi);
    const double b2 = a * a + a + 0.5;  // between the bounds' (nu + 1/2)^2 and (nu + 3/2)^2
    for (int it = 0; it < 100; ++it) {
        const double A = mean_resultant(d, k);
        const double f = A - rbar;
        if (f == 0.0) return k;
        if (f < 0.0) lo = k;
        else hi = k;
        double deriv;
        if (k * k * k * 2.2e-16 < a) {
            deriv = (1.0 - A) * (1.0 + A) - (d - 1.0) * A / k;
        } else {
            const double r = std::sqrt(k * k + b2);
            deriv = (a + b2 / r) / ((a + r) * (a + r));
        }
        double next = k - f / deriv;
        if (deriv > 0.0 && next > lo && next < hi) {
            // Once a Newton step is below 1e-11 relative, the next one would be below ~1e-16
            // (quadratic, or linear at rate <= 1e-5 with the approximate derivative).
            if (std::fabs(next - k) <= 1e-11 * next) return next;
        } else {
            next = (lo > 0.0 && hi > 4.0 * lo) ? std::sqrt(lo * hi) : 0.5 * (lo + hi);
        }
        if (!(hi - lo > 4e-16 * hi)) return next;
        k = next;
    }
    return k;
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

template <class T>
SM_HOST_DEVICE inline T vmf_log_normalizer_scaled(T d, T kappa) {
    return static_cast<T>(detail::vmf::log_normalizer(static_cast<double>(d), static_cast<double>(kappa), true));
}

template <class T>
SM_HOST_DEVICE inline T vmf_kappa_mle(T d, T rbar) {
    return static_cast<T>(detail::vmf::kappa_mle(static_cast<double>(d), static_cast<double>(rbar)));
}

STABLEMATH_NAMESPACE_END
