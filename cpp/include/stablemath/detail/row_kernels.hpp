// Contiguous row primitives: the inner loops of every softmax / logsumexp algorithm.
//
// Each loop keeps L independent lane accumulators (L * sizeof(T) = 128 bytes) so that gcc
// vectorises it at any ISA without -ffast-math and so that long sums round 10x better than a
// serial sum. They are force-inlined into the per-ISA wrappers of cpu/kernel_table.hpp.
#pragma once
#include <cstddef>
#include <limits>
#include "../config.hpp"
#include "../lse_state.hpp"
#include "exp_poly.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

template <class T> struct lanes { static constexpr std::size_t value = 128 / sizeof(T); };

// Tree reductions of the lane accumulators: log2(L) vector steps instead of L dependent scalar
// adds (which cost ~85 ns per 128-element row, as much as the row's exponentials).
template <class T, std::size_t L>
SM_INLINE T lane_sum(T (&a)[L]) {
    for (std::size_t w = L / 2; w > 0; w /= 2)
        for (std::size_t j = 0; j < w; ++j) a[j] += a[j + w];
    return a[0];
}

template <class T, std::size_t L>
SM_INLINE T lane_max(T (&a)[L]) {
    for (std::size_t w = L / 2; w > 0; w /= 2)
        for (std::size_t j = 0; j < w; ++j) a[j] = a[j + w] > a[j] ? a[j + w] : a[j];
    return a[0];
}

template <class T>
SM_INLINE T row_max(const T* x, std::size_t n) {
    constexpr std::size_t L = lanes<T>::value;
    const T ninf = -std::numeric_limits<T>::infinity();
    T acc[L];
    for (std::size_t j = 0; j < L; ++j) acc[j] = ninf;
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        for (std::size_t j = 0; j < L; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    for (std::size_t j = 0; i + j < n; ++j) acc[j] = x[i + j] > acc[j] ? x[i + j] : acc[j];
    return lane_max(acc);  // NaN never wins a '>' comparison: NaN is left for the sums to propagate
}

template <class T>
SM_INLINE bool row_has_nan(const T* x, std::size_t n) {
    bool any = false;
    for (std::size_t i = 0; i < n; ++i) any |= (x[i] != x[i]);
    return any;
}

// LseState of x given its maximum m (from row_max). Elements equal to m are counted, not summed.
template <class T>
SM_INLINE LseState<T> row_state_given_max(const T* x, std::size_t n, T m) {
    constexpr std::size_t L = lanes<T>::value;
    if (m == -std::numeric_limits<T>::infinity())  // empty or all -inf (maybe with NaN): no mass
        return LseState<T>{m, T(0), row_has_nan(x, n) ? std::numeric_limits<T>::quiet_NaN() : T(0)};
    T c[L], s[L];
    for (std::size_t j = 0; j < L; ++j) { c[j] = 0; s[j] = 0; }
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        for (std::size_t j = 0; j < L; ++j) {
            const T v = x[i + j];
            const T e = exp_nonpositive(v - m);
            const bool top = v == m;
            c[j] += top ? T(1) : T(0);
            s[j] += top ? T(0) : e;
        }
    for (std::size_t j = 0; i + j < n; ++j) {
        const T v = x[i + j];
        const bool top = v == m;
        c[j] += top ? T(1) : T(0);
        s[j] += top ? T(0) : exp_nonpositive(v - m);
    }
    return LseState<T>{m, lane_sum(c), lane_sum(s)};
}

// Weighted form: b_i multiplies e^{x_i}; callers set x_i = -inf where b_i == 0 (SciPy's rule).
template <class T>
SM_INLINE LseState<T> row_state_weighted(const T* x, const T* b, std::size_t n, T m) {
    constexpr std::size_t L = lanes<T>::value;
    if (m == -std::numeric_limits<T>::infinity()) {
        bool nan = row_has_nan(x, n) || row_has_nan(b, n);
        return LseState<T>{m, T(0), nan ? std::numeric_limits<T>::quiet_NaN() : T(0)};
    }
    T c[L], s[L];
    for (std::size_t j = 0; j < L; ++j) { c[j] = 0; s[j] = 0; }
    for (std::size_t i = 0; i < n; i += L)
        for (std::size_t j = 0; j < L && i + j < n; ++j) {
            const T v = x[i + j];
            const bool top = v == m;
            c[j] += top ? b[i + j] : T(0);
            s[j] += top ? T(0) : b[i + j] * exp_nonpositive(v - m);
        }
    return LseState<T>{m, lane_sum(c), lane_sum(s)};
}

// y = e^{x - m}; returns the sum (three-pass softmax, "reloading" variant).
template <class T>
SM_INLINE T exp_store_sum(const T* x, T* y, std::size_t n, T m) {
    constexpr std::size_t L = lanes<T>::value;
    T s[L];
    for (std::size_t j = 0; j < L; ++j) s[j] = 0;
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        for (std::size_t j = 0; j < L; ++j) {
            const T e = exp_nonpositive(x[i + j] - m);
            y[i + j] = e;
            s[j] += e;
        }
    for (std::size_t j = 0; i + j < n; ++j) {
        const T e = exp_nonpositive(x[i + j] - m);
        y[i + j] = e;
        s[j] += e;
    }
    return lane_sum(s);
}

template <class T>
SM_INLINE void scale_inplace(T* y, std::size_t n, T f) {
    for (std::size_t i = 0; i < n; ++i) y[i] *= f;
}

// y = (x - m) - l: log_softmax in the order that keeps x - m exact (PyTorch issue 11752).
template <class T>
SM_INLINE void sub2_store(const T* x, T* y, std::size_t n, T m, T l) {
    for (std::size_t i = 0; i < n; ++i) y[i] = (x[i] - m) - l;
}

// One element into a lane's extended sum: rescale both sides to the larger exponent.
template <class T>
SM_INLINE void ext_step(T& v, T& e, T& mx, T xv) {
    T nf;
    const T p = extexp(xv, nf);
    const T top = nf > e ? nf : e;
    v = v * pow2_nonpositive(e - top) + p * pow2_nonpositive(nf - top);
    e = top;
    mx = xv > mx ? xv : mx;
}

// Pass 1 of the two-pass algorithm: sum of e^{x_i} as v * 2^e with per-lane exponents, plus the
// row maximum (free in registers), which the caller uses to check the exact-reduction range.
template <class T>
SM_INLINE ExtSum<T> ext_reduce(const T* x, std::size_t n, T& max_out) {
    constexpr std::size_t L = lanes<T>::value;
    const ExtSum<T> zero{};
    T v[L], e[L], mx[L];
    for (std::size_t j = 0; j < L; ++j) { v[j] = zero.v; e[j] = zero.e; mx[j] = -std::numeric_limits<T>::infinity(); }
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        for (std::size_t j = 0; j < L; ++j) ext_step(v[j], e[j], mx[j], x[i + j]);
    for (std::size_t j = 0; i + j < n; ++j) ext_step(v[j], e[j], mx[j], x[i + j]);
    ExtSum<T> acc = zero;
    T m = -std::numeric_limits<T>::infinity();
    for (std::size_t j = 0; j < L; ++j) {
        acc = merge(acc, ExtSum<T>{v[j], e[j]});
        m = mx[j] > m ? mx[j] : m;
    }
    max_out = m;
    return acc;
}

// Pass 2 of the two-pass algorithm: y = p * 2^{n - e} * inv_v, with the power of two split in two
// factors so that tiny probabilities come out as the correctly rounded subnormals.
template <class T>
SM_INLINE void ext_scale_store(const T* x, T* y, std::size_t n, T inv_v, T e) {
    using E = exp_traits<T>;
    for (std::size_t i = 0; i < n; ++i) {
        T nf;
        const T p = extexp(x[i], nf);
        // d <= 0; below -2*(bias-1) the result is 0 anyway (p * inv_v < 2), and both halves of
        // the split power of two stay normal.
        T d = nf - e;
        d = d < T(-2 * (E::bias - 1)) ? T(-2 * (E::bias - 1)) : d;
        y[i] = ldexp_split(p * inv_v, integer_of(d));
    }
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
