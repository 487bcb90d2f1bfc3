// Branch-free natural logarithms written as straight-line code, so that gcc vectorises the loops
// that call them (std::log / std::log1p are library calls, one element at a time):
//
//   log_positive(x)  for positive normal finite x (callers guarantee it),
//   log1p_nonneg(u)  for u >= 0, +inf or NaN,
//   log1p_finite(u)  for finite u >= -1/2.
//
// Both write the argument w = m 2^e with m in [sqrt(1/2), sqrt(2)), so log(w) = e ln2 + log(m), and
// log(m) = 2 atanh(f / (2 + f)), f = m - 1, from its Taylor series (|f / (2 + f)| <= 0.172: 5 terms
// for float, 11 for double; omitted terms < 2^-57 relative). log1p adds the rounding error of
// w = 1 + u back as (u - (w - 1)) / w. Max error ~1 ulp (tests/cpp/test_stablemax.cpp, test_exp.cpp).
#pragma once
#include <limits>
#include "../config.hpp"
#include "bits.hpp"
#include "exp_poly.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

template <class T> struct log_poly;
template <> struct log_poly<float> {
    SM_INLINE static float tail(float z) {  // (log(m) - 2s) / (s z) as a polynomial in z = s^2
        return 2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9 + z * (2.0f / 11))));
    }
};
template <> struct log_poly<double> {
    SM_INLINE static double tail(double z) {
        double p = 2.0 / 23;
        p = 2.0 / 21 + z * p; p = 2.0 / 19 + z * p; p = 2.0 / 17 + z * p; p = 2.0 / 15 + z * p;
        p = 2.0 / 13 + z * p; p = 2.0 / 11 + z * p; p = 2.0 / 9 + z * p; p = 2.0 / 7 + z * p;
        p = 2.0 / 5 + z * p; p = 2.0 / 3 + z * p;
        return p;
    }
};

// log(w) + corr for a positive normal (or +inf / NaN, which give garbage the callers replace) w.
template <class T>
SM_INLINE T log_reduced(T w, T corr) {
    using E = exp_traits<T>;
    using U = typename E::uint;
    const U bits = bit_cast<U>(w);
    const U one = static_cast<U>(E::bias) << E::mant_bits;
    const U mant_mask = (U(1) << E::mant_bits) - 1;
    T m = bit_cast<T>((bits & mant_mask) | one);  // in [1, 2)
    // The exponent as a float without an int->float conversion (none for int64 on AVX2).
    T e = bit_cast<T>((bits >> E::mant_bits) | bit_cast<U>(E::shifter)) - E::shifter - T(E::bias);
    const bool big = m > T(1.41421356237309504880);
    m = big ? m * T(0.5) : m;
    e = big ? e + T(1) : e;
    const T f = m - T(1);
    const T s = f / (T(2) + f);
    const T z = s * s;
    const T logm = T(2) * s + s * z * log_poly<T>::tail(z);
    return e * E::ln2_hi + (logm + corr + e * E::ln2_lo);
}

// log(x) for positive normal finite x.
template <class T>
SM_INLINE T log_positive(T x) {
    return log_reduced(x, T(0));
}

// log1p(u) for finite u >= -1/2 (then w - 1 is exact, Sterbenz), NaN for NaN.
template <class T>
SM_INLINE T log1p_finite(T u) {
    const T w = T(1) + u;
    return log_reduced(w, (u - (w - T(1))) / w);
}

// log1p(u) for u >= 0, +inf or NaN.
template <class T>
SM_INLINE T log1p_nonneg(T u) {
    const T r = log1p_finite(u);
    return u == std::numeric_limits<T>::infinity() ? u : r;
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
