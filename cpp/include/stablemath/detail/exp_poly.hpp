// Polynomial exp with Cody-Waite range reduction, written as straight-line code so that gcc
// vectorises it inside the row loops (no table lookups, no branches, no float->int conversion).
//
//   x = n*ln2 + r, |r| <= ln2/2;  e^x = p(r) * 2^n,  2^n built from bits in two factors so that
//   subnormal results and overflow to inf come out right.
//
// float: own minimax degree-6 fit (see shared/notes/simd-dispatch.md), max rel err ~1.5 ulp.
// double: Taylor degree 13 (truncation 6e-18 on |r| <= ln2/2), max rel err ~1 ulp.
// NaN propagates (the clamps use comparisons that are false for NaN); exp(-inf) = 0, exp(+inf) = inf.
#pragma once
#include <limits>
#include "../config.hpp"
#include "bits.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

template <class T> struct exp_traits;

template <> struct exp_traits<float> {
    using uint = std::uint32_t;
    static constexpr int mant_bits = 23;
    static constexpr int bias = 127;
    static constexpr float log2e = 1.44269504088896341f;
    static constexpr float shifter = 0x1.8p23f;          // adding it rounds to an integer in the low bits
    static constexpr float ln2_hi = 0.693359375f;        // 9 significant bits: n*ln2_hi exact for |n| < 2^15
    static constexpr float ln2_lo = -2.12194440e-4f;
    static constexpr float lo = -104.0f;                 // below: exp underflows to 0
    static constexpr float hi = 89.0f;                   // above: exp overflows to inf
    // (mantissa, exponent) form is exact only while n*ln2_hi is exact: |x| <= ext_limit.
    static constexpr float ext_limit = 16384.0f;
    static constexpr float pow2_floor = -127.0f;         // 2^-127 is built as +0: the flush point

    SM_INLINE static float poly(float r) {
        constexpr float c2 = 0x1.fffffcp-2f, c3 = 0x1.55541ap-3f, c4 = 0x1.555822p-5f,
                        c5 = 0x1.126782p-7f, c6 = 0x1.6ae72ep-10f;
        return 1.0f + r * (1.0f + r * (c2 + r * (c3 + r * (c4 + r * (c5 + r * c6)))));
    }
};

template <> struct exp_traits<double> {
    using uint = std::uint64_t;
    static constexpr int mant_bits = 52;
    static constexpr int bias = 1023;
    static constexpr double log2e = 1.4426950408889634074;
    static constexpr double shifter = 0x1.8p52;
    static constexpr double ln2_hi = 6.93147180369123816490e-01;  // 32 significant bits
    static constexpr double ln2_lo = 1.90821492927058770002e-10;
    static constexpr double lo = -746.0;
    static constexpr double hi = 710.0;
    static constexpr double ext_limit = 524288.0;  // n*ln2_hi exact for |n| < 2^21
    static constexpr double pow2_floor = -1023.0;

    SM_INLINE static double poly(double r) {
        // Taylor coefficients 1/k!, k = 2..13, Horner form.
        constexpr double c2 = 1.0 / 2, c3 = 1.0 / 6, c4 = 1.0 / 24, c5 = 1.0 / 120, c6 = 1.0 / 720,
                         c7 = 1.0 / 5040, c8 = 1.0 / 40320, c9 = 1.0 / 362880, c10 = 1.0 / 3628800,
                         c11 = 1.0 / 39916800, c12 = 1.0 / 479001600, c13 = 1.0 / 6227020800.0;
        double p = c12 + r * c13;
        p = c11 + r * p; p = c10 + r * p; p = c9 + r * p; p = c8 + r * p; p = c7 + r * p;
        p = c6 + r * p; p = c5 + r * p; p = c4 + r * p; p = c3 + r * p; p = c2 + r * p;
        return 1.0 + r * (1.0 + r * p);
    }
};

// 2^k for an integer k in the normal exponent range, built from bits.
template <class T>
SM_INLINE T pow2_int(typename uint_of<T>::sint k) {
    using E = exp_traits<T>;
    using U = typename E::uint;
    return bit_cast<T>(static_cast<U>(static_cast<U>(k + E::bias) << E::mant_bits));
}

// 2^d for an integer-valued d <= 0 stored as a floating value; d below the normal range gives +0.
// Works without a float->int conversion: adding (shifter + bias) leaves d + bias in the low bits.
template <class T>
SM_INLINE T pow2_nonpositive(T d) {
    using E = exp_traits<T>;
    using U = typename E::uint;
    d = d < E::pow2_floor ? E::pow2_floor : d;
    const T t = d + (E::shifter + static_cast<T>(E::bias));
    return bit_cast<T>(static_cast<U>(bit_cast<U>(t) << E::mant_bits));
}

// Range reduction shared by exp and the (mantissa, exponent) form: returns n as a float and r.
template <class T>
SM_INLINE T reduce(T x, T& nf) {
    using E = exp_traits<T>;
    const T t = x * E::log2e + E::shifter;
    nf = t - E::shifter;
    return (x - nf * E::ln2_hi) - nf * E::ln2_lo;
}

// Integer n recovered from the rounded value t without a float->int conversion.
template <class T>
SM_INLINE typename uint_of<T>::sint integer_of(T nf) {
    using E = exp_traits<T>;
    using U = typename E::uint;
    using S = typename uint_of<T>::sint;
    return static_cast<S>(bit_cast<U>(nf + E::shifter) - bit_cast<U>(E::shifter));
}

// p * 2^n for |n| up to ~2*bias: two factors so subnormal results and overflow round once, correctly.
template <class T>
SM_INLINE T ldexp_split(T p, typename uint_of<T>::sint n) {
    const auto n1 = n >> 1;
    const auto n2 = n - n1;
    return p * pow2_int<T>(n1) * pow2_int<T>(n2);
}

template <class T>
SM_INLINE T exp(T x) {
    using E = exp_traits<T>;
    x = x < E::lo ? E::lo : x;
    x = x > E::hi ? E::hi : x;
    T nf;
    const T r = reduce(x, nf);
    return ldexp_split(E::poly(r), integer_of(nf));
}

// e^x for x <= 0 (or NaN): exp without the overflow clamp, still exact down to subnormal results.
// Every term of a reduction is e^{x - max}, so this is what the row kernels use (about 25% faster
// than exp on AVX2: the compiler no longer has to keep two clamps and their constants live).
template <class T>
SM_INLINE T exp_nonpositive(T x) {
    using E = exp_traits<T>;
    x = x < E::lo ? E::lo : x;
    T nf;
    const T r = reduce(x, nf);
    return ldexp_split(E::poly(r), integer_of(nf));
}

// e^x as (p, n) with e^x = p * 2^n, p in [~0.7, ~1.4]; exact reduction for |x| <= ext_limit.
// Values below -ext_limit are clamped there: they contribute nothing next to any term near the
// row maximum, which callers guarantee is within ext_limit/2 of zero.
template <class T>
SM_INLINE T extexp(T x, T& nf) {
    using E = exp_traits<T>;
    x = x < -E::ext_limit ? -E::ext_limit : x;
    x = x > E::ext_limit ? E::ext_limit : x;
    return E::poly(reduce(x, nf));
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
