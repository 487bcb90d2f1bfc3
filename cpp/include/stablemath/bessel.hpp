// Logarithms of the modified Bessel functions I_v(x), K_v(x), their exponentially scaled forms,
// the ratios I_{v+1}/I_v and K_{v+1}/K_v, and d/dx of log I_v and log K_v: real order v, real
// argument x >= 0, float and double.
//
//   T log_bessel_i(T v, T x)        log I_v(x)
//   T log_bessel_ie(T v, T x)       log(I_v(x) e^{-x})  = log I_v(x) - x
//   T log_bessel_k(T v, T x)        log K_v(x)
//   T log_bessel_ke(T v, T x)       log(K_v(x) e^{x})   = log K_v(x) + x
//   T bessel_i_ratio(T v, T x)      I_{v+1}(x) / I_v(x)   (in [0, 1) for v >= 0)
//   T bessel_k_ratio(T v, T x)      K_{v+1}(x) / K_v(x)
//   T log_bessel_i_deriv(T v, T x)  d/dx log I_v(x) = I_{v+1}/I_v + v/x
//   T log_bessel_k_deriv(T v, T x)  d/dx log K_v(x) = -K_{v+1}/K_v + v/x
//
// Everything is evaluated in logarithmic or ratio form: no intermediate overflow, underflow or NaN
// for finite input. Results are finite (and accurate) for v in [0, 1e6], x in [1e-300, 1e300] in
// double and x in [1e-38, 3e38] in float; outside, a result is +-inf only where its true value is
// beyond the range of T (e.g. K_{v+1}/K_v ~ 2v/x for subnormal x). Ratios and derivatives are
// computed directly (continued fraction, recurrence or the derivative of the uniform expansion),
// never as exp(log_bessel(v+1) - log_bessel(v)).
//
// Accuracy (tests/cpp/test_bessel.cpp; mpmath reference table of 1098 points over all regimes,
// Wronskian on 4e5 random points with v in [0, 1e6], x in [1e-300, 1e300]):
//   double logs:   |err| <= 1.0e-15 max(1, |log|) everywhere measured (median ~6e-17); this is also
//                  the relative error of I and K themselves while |log| <= 1. (For large |log| the
//                  relative error of I, K is |err|: conditioning, since x d/dx log I ~ sqrt(v^2+x^2).)
//   double ratios: I_{v+1}/I_v and d/dx log I <= 3 ulp; K_{v+1}/K_v <= 5 ulp and d/dx log K <= 6 ulp
//                  except for x <= 1/2 with v < 25 (Temme's series), where up to 7 / 11 ulp were seen.
//   float:         the double result rounded once: logs within 1.0 unit of 2^-24 max(1, |log|),
//                  ratios and derivatives <= 0.5 ulp.
// Known weak spot: subnormal x (< 2.2e-308, outside the range above): K_{v+1}/K_v and
// d/dx log K for |v| < 1/2 go through x K_{v+1}/K_v, which is then subnormal too, and lose
// precision (1e-7 relative at x = 5e-324); the logs stay accurate.
// Cost (x86-64, gcc -O2, one core): R >= 25: log 60-70 ns (215 ns near R = 25 where 21 terms are
// needed; 140 ns in the double-double phase band 1.2 <= v/x <= 1.9), ratios 25-30 ns (185 ns near
// R = 25); R < 25: log I 90-135 ns, I ratio 50-110 ns, log K and K ratio 230 ns (x <= 1/2) to
// 330-410 ns (x > 1/2). Arrays of double go through cpu/bessel_batch.hpp (the Python binding):
// the same functions, with the R >= 25 Debye sums of a batch sorted by term count and vectorised.
//
// Domain and special values:
//   x < 0 or NaN v or x                  -> NaN
//   I, v < 0: integer v uses I_{-n} = I_n; non-integer v < 0 gives NaN (I_v is then not a
//            function of |v| and can be negative).
//   K: K_{-v} = K_v, any real v. bessel_k_ratio(v, x) for v < 0 is K_{|v+1|}/K_{|v|}.
//   x = 0:   log I_0(0) = 0, log I_v(0) = -inf (v != 0); log K_v(0) = +inf;
//            I ratio 0 (v >= 0); K ratio +inf (v > -1/2); d/dx log I = 0 (v = 0) or +inf; d/dx log K = -inf.
//   x = +inf: log I = +inf, log K = -inf, both scaled forms -inf, ratios 1, derivatives +1 / -1.
//   v = +inf (finite x > 0): log I = -inf, log K = +inf, I ratio 0, K ratio +inf.
//   v = +inf and x = +inf: NaN.
//
// Algorithm (double internally; float inputs are computed in double with shorter expansions and
// rounded once): R = sqrt(v^2 + x^2).
//   R >= 25: uniform (Debye) expansion in 1/R, which contains the large-x Hankel expansion as its
//            v -> 0 limit (detail/bessel_uniform.hpp); 21 terms at R = 25, 3 for R >= 2.4e4.
//   R < 25:  I: power series and Gauss continued fraction (detail/bessel_i_series.hpp);
//            K: Temme's series (x <= 1/2) or the trapezoidal integral (x > 1/2) at |mu| <= 1/2, then
//               the forward recurrence up to v (detail/bessel_k_temme.hpp, bessel_k_integral.hpp,
//               bessel_k_recurrence.hpp).
// Every loop has a fixed maximum trip count (<= 90), no allocation, recursion or exceptions;
// all functions are SM_HOST_DEVICE (checked with nvcc 13, sm_90: no warnings, 40-byte stack frame).
// The regime functions are plain `inline` rather than force-inlined (SM_INLINE) so that a caller
// instantiating several of the public functions does not get every expansion copied into each.
#pragma once
#include <cmath>
#include <type_traits>
#include "config.hpp"
#include "detail/bessel_coeffs.hpp"
#include "detail/bessel_i_series.hpp"
#include "detail/bessel_k_recurrence.hpp"
#include "detail/bessel_uniform.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// True when (v, x) is in the uniform-expansion region R >= 25 (|v| for signed orders).
SM_INLINE bool uniform_region(double v, double x) {
    v = std::fabs(v);
    if (v >= 25.0 || x >= 25.0) return true;
    return v * v + x * x >= bessel_coeffs::uniform_r_min * bessel_coeffs::uniform_r_min;
}

// Cores: 0 <= v < inf, 0 < x < inf (k_ratio_core: -1/2 <= v).
template <bool Low>
SM_HOST_DEVICE inline double log_i_core(double v, double x, bool scaled) {
    if (uniform_region(v, x)) return uniform_log_i<Low>(v, x, scaled);
    const double l = series_log_i<Low>(v, x);
    return scaled ? l - x : l;
}

template <bool Low>
SM_HOST_DEVICE inline double log_k_core(double v, double x, bool scaled) {
    if (uniform_region(v, x)) return uniform_log_k<Low>(v, x, scaled);
    return k_small<Low>(v, x, scaled).log_k;
}

template <bool Low>
SM_HOST_DEVICE inline double i_ratio_core(double v, double x) {
    if (uniform_region(v, x)) return uniform_i_ratio<Low>(v, x);
    return cf_i_ratio(v, x);
}

template <bool Low>
SM_HOST_DEVICE inline double i_dlog_core(double v, double x) {
    if (uniform_region(v, x)) return uniform_i_dlog<Low>(v, x);
    return cf_i_ratio(v, x) + v / x;
}

template <bool Low>
SM_HOST_DEVICE inline double k_ratio_core(double v, double x) {
    if (uniform_region(v, x)) return uniform_k_ratio<Low>(v, x);
    return k_small<Low>(v, x, false).g / x;
}

template <bool Low>
SM_HOST_DEVICE inline double k_dlog_core(double v, double x) {
    if (uniform_region(v, x)) return uniform_k_dlog<Low>(v, x);
    const KResult r = k_small<Low>(v, x, false);
    return -(r.g - v) / x;  // g = x K_{v+1}/K_v > v + sqrt(v^2 + x^2) - ..., no cancellation
}

template <class T>
struct bessel_type_check {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value,
                  "stablemath Bessel functions are defined for float and double");
    static constexpr bool low = std::is_same<T, float>::value;
};

// (HUGE_VAL and NAN rather than std::numeric_limits, whose constexpr members nvcc only accepts in
// device code with --expt-relaxed-constexpr.)
SM_INLINE double qnan() { return static_cast<double>(NAN); }
SM_INLINE double inf() { return HUGE_VAL; }

// Order for I: |v| for integer v < 0, NaN for non-integer v < 0.
SM_INLINE double i_order(double v) {
    if (v < 0.0) return std::floor(v) == v ? -v : qnan();
    return v;
}

template <bool Low>
SM_HOST_DEVICE inline double log_i_impl(double v, double x, bool scaled) {
    if (v != v || x != x || x < 0.0) return qnan();
    v = i_order(v);
    if (v != v) return v;
    if (x == 0.0) return v == 0.0 ? 0.0 : -inf();
    if (x == inf()) return v == inf() ? qnan() : (scaled ? -inf() : inf());
    if (v == inf()) return -inf();
    return log_i_core<Low>(v, x, scaled);
}

template <bool Low>
SM_HOST_DEVICE inline double log_k_impl(double v, double x, bool scaled) {
    if (v != v || x != x || x < 0.0) return qnan();
    v = std::fabs(v);
    if (x == 0.0) return inf();
    if (x == inf()) return v == inf() ? qnan() : -inf();
    if (v == inf()) return inf();
    return log_k_core<Low>(v, x, scaled);
}

template <bool Low>
SM_HOST_DEVICE inline double i_ratio_impl(double v, double x) {
    if (v != v || x != x || x < 0.0) return qnan();
    if (v < 0.0) {
        if (std::floor(v) != v) return qnan();
        // I_{1-n} / I_{-n} = I_{n-1} / I_n = 2n/x + I_{n+1} / I_n (DLMF 10.29.1): two positive terms,
        // where 1 / ratio(n - 1) would invert a ratio ~x/2n that is subnormal near the overflow.
        const double n = -v;
        if (x == 0.0) return inf();
        if (x == inf()) return n == inf() ? qnan() : 1.0;
        if (n == inf()) return inf();
        return 2.0 * (n / x) + i_ratio_core<Low>(n, x);
    }
    if (x == 0.0) return 0.0;
    if (x == inf()) return v == inf() ? qnan() : 1.0;
    if (v == inf()) return 0.0;
    return i_ratio_core<Low>(v, x);
}

template <bool Low>
SM_HOST_DEVICE inline double i_dlog_impl(double v, double x) {
    if (v != v || x != x || x < 0.0) return qnan();
    v = i_order(v);
    if (v != v) return v;
    if (x == 0.0) return v == 0.0 ? 0.0 : inf();
    if (x == inf()) return v == inf() ? qnan() : 1.0;
    if (v == inf()) return inf();
    return i_dlog_core<Low>(v, x);
}

template <bool Low>
SM_HOST_DEVICE inline double k_ratio_impl(double v, double x) {
    if (v != v || x != x || x < 0.0) return qnan();
    bool invert = false;
    if (v < -0.5) {
        // K_{v+1}/K_v = K_{|v+1|}/K_{|v|} = 1 / ratio(-v - 1), and -v - 1 >= -1/2.
        v = -v - 1.0;
        invert = true;
    }
    double r;
    if (x == 0.0) r = v == -0.5 ? 1.0 : inf();
    else if (x == inf()) r = v == inf() ? qnan() : 1.0;
    else if (v == inf()) r = inf();
    else r = k_ratio_core<Low>(v, x);
    return invert ? 1.0 / r : r;
}

template <bool Low>
SM_HOST_DEVICE inline double k_dlog_impl(double v, double x) {
    if (v != v || x != x || x < 0.0) return qnan();
    v = std::fabs(v);
    if (x == 0.0) return -inf();
    if (x == inf()) return v == inf() ? qnan() : -1.0;
    if (v == inf()) return -inf();
    return k_dlog_core<Low>(v, x);
}

}  // namespace bessel
}  // namespace detail

// log I_v(x).
template <class T>
SM_HOST_DEVICE inline T log_bessel_i(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::log_i_impl<C::low>(static_cast<double>(v), static_cast<double>(x), false));
}

// log(I_v(x) e^{-x}).
template <class T>
SM_HOST_DEVICE inline T log_bessel_ie(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::log_i_impl<C::low>(static_cast<double>(v), static_cast<double>(x), true));
}

// log K_v(x).
template <class T>
SM_HOST_DEVICE inline T log_bessel_k(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::log_k_impl<C::low>(static_cast<double>(v), static_cast<double>(x), false));
}

// log(K_v(x) e^{x}).
template <class T>
SM_HOST_DEVICE inline T log_bessel_ke(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::log_k_impl<C::low>(static_cast<double>(v), static_cast<double>(x), true));
}

// I_{v+1}(x) / I_v(x).
template <class T>
SM_HOST_DEVICE inline T bessel_i_ratio(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::i_ratio_impl<C::low>(static_cast<double>(v), static_cast<double>(x)));
}

// K_{v+1}(x) / K_v(x).
template <class T>
SM_HOST_DEVICE inline T bessel_k_ratio(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::k_ratio_impl<C::low>(static_cast<double>(v), static_cast<double>(x)));
}

// d/dx log I_v(x) = I_{v+1}(x)/I_v(x) + v/x.
template <class T>
SM_HOST_DEVICE inline T log_bessel_i_deriv(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::i_dlog_impl<C::low>(static_cast<double>(v), static_cast<double>(x)));
}

// d/dx log K_v(x) = -K_{v+1}(x)/K_v(x) + v/x.
template <class T>
SM_HOST_DEVICE inline T log_bessel_k_deriv(T v, T x) {
    using C = detail::bessel::bessel_type_check<T>;
    return static_cast<T>(detail::bessel::k_dlog_impl<C::low>(static_cast<double>(v), static_cast<double>(x)));
}

STABLEMATH_NAMESPACE_END
