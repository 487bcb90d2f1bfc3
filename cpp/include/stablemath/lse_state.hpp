// The one reduction state behind logsumexp, softmax and their online/chunked/threaded forms.
//
// LseState represents  sum_i b_i e^{x_i} = (c + s) * e^m  where
//   m  the largest x_i (NaN ignored; -inf for an empty or all -inf set),
//   c  the summed weight of the elements equal to m (exactly their count when unweighted),
//   s  sum_{x_i < m} b_i e^{x_i - m}.
// Keeping c apart from s is what makes log(c + s) = log c + log1p(s/c) accurate when one element
// dominates (SciPy's fix, gh-21597): the small terms are never absorbed into the leading 1.
// merge() is associative up to rounding, so a row can be split into chunks, threads or GPU blocks
// and combined in any tree; the library always uses a fixed tree so results are reproducible.
#pragma once
#include <cmath>
#include "config.hpp"
#include "detail/exp_poly.hpp"

STABLEMATH_NAMESPACE_BEGIN

template <class T>
struct LseState {
    T m = -std::numeric_limits<T>::infinity();
    T c = 0;
    T s = 0;

    SM_HOST_DEVICE static LseState empty() { return LseState{}; }

    // Sum relative to e^m; 0 when the set is empty or all -inf.
    SM_HOST_DEVICE T total() const { return c + s; }
};

template <class T>
SM_HOST_DEVICE inline LseState<T> merge(LseState<T> a, LseState<T> b) {
    if (a.m < b.m) { LseState<T> t = a; a = b; b = t; }
    if (a.m == b.m) return LseState<T>{a.m, a.c + b.c, a.s + b.s};
    // b.m < a.m: b's terms rescale by e^{b.m - a.m} <= 1 (0 when b.m = -inf; NaN in b.s survives).
    const T f = detail::exp(b.m - a.m);
    return LseState<T>{a.m, a.c, a.s + (b.c + b.s) * f};
}

// log|c + s| (the log of the sum relative to e^m) and its sign, with log1p for the dominant part.
// sign is +1, -1, or 0 for an empty / all -inf / zero-sum set (the log is then -inf); NaN if s is NaN.
template <class T>
SM_HOST_DEVICE inline T log_relative(const LseState<T>& st, T* sign = nullptr) {
    const T inf = std::numeric_limits<T>::infinity();
    T sgn, logabs;
    if (st.s != st.s || st.c != st.c) {  // a NaN term, or a NaN weight on a maximum
        sgn = logabs = std::numeric_limits<T>::quiet_NaN();
    } else if (st.c != 0) {
        const T q = st.s / st.c;  // relative size of everything below the maximum
        const T one_plus_q = 1 + q;
        // log|1 + q|: log1p keeps the digits of a small q; for q < -1 reflect as SciPy does.
        const T log_c = st.c == 1 ? T(0) : std::log(std::fabs(st.c));  // one maximum: the usual case
        logabs = log_c + ((q >= -1) ? std::log1p(q) : std::log1p(-q - 2));
        sgn = (st.c > 0 ? T(1) : T(-1)) * (one_plus_q > 0 ? T(1) : (one_plus_q < 0 ? T(-1) : T(0)));
        if (one_plus_q == 0) logabs = -inf;
    } else if (st.s != 0) {
        logabs = std::log(std::fabs(st.s));
        sgn = st.s > 0 ? T(1) : T(-1);
    } else {
        logabs = -inf; sgn = 0;
    }
    if (sign) *sign = sgn;
    return logabs;
}

// log|sum| = m + log|c + s|.
template <class T>
SM_HOST_DEVICE inline T finalize(const LseState<T>& st, T* sign = nullptr) {
    const T inf = std::numeric_limits<T>::infinity();
    const T logabs = log_relative(st, sign);
    // A zero sum gives -inf, except at m = +inf where it is inf - inf (weights cancelling at +inf).
    if (logabs == -inf && st.m == inf) {
        if (sign) *sign = std::numeric_limits<T>::quiet_NaN();
        return std::numeric_limits<T>::quiet_NaN();
    }
    if (logabs == -inf) return -inf;
    return st.m + logabs;
}

// Sum of e^{x_i} as an extended number v * 2^e (Dukhan & Ablavatski's two-pass form). Rescaling
// by exact powers of two adds no rounding, and no maximum is needed beforehand.
template <class T>
struct ExtSum {
    T v = 0;
    T e = -std::numeric_limits<T>::max() / 2;  // a finite "minus infinity": e - e stays 0, not NaN
};

template <class T>
SM_HOST_DEVICE inline ExtSum<T> merge(ExtSum<T> a, ExtSum<T> b) {
    const T e = a.e > b.e ? a.e : b.e;
    return ExtSum<T>{a.v * detail::pow2_nonpositive(a.e - e) + b.v * detail::pow2_nonpositive(b.e - e), e};
}

STABLEMATH_NAMESPACE_END
