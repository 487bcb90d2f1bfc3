// stablemath/stablemax.hpp - StableMax (Prieto et al. 2025, "Grokking at the edge of numerical
// stability"): scalar functions and contiguous-row kernel bodies, host/device, no exceptions.
//
//   s(x)      = x + 1 for x >= 0, 1 / (1 - x) for x < 0   (C^1, s(0) = 1, s > 0, no max shift:
//               StableMax is NOT shift-invariant)
//   log s(x)  = sign(x) * log1p(|x|)                         (no log of a ratio, no cancellation)
//   stablemax(x)_i     = s(x_i) / sum_j s(x_j)
//   log_stablemax(x)_i = log s(x_i) - log sum_j s(x_j)
//
// Both branches use t = 1 + |x| (s = t or 1/t), so there is no singularity at x = 1 (the reference
// code's 1/(1 - x + 1e-30) in the unselected torch.where branch).
//
// The sum of s can be ~n * 3.4e38 for float32 logits near the float maximum, and s can be
// subnormal for logits near -max. The row sum is therefore kept as two scaled double sums,
//   sum_j s(x_j) = 2^64 * P + 2^-64 * N,   P = sum_{x >= 0} t 2^-64,   N = sum_{x < 0} 2^64 / t,
// where every term is a normal number (t 2^-64 >= 2^-64; 2^64 / t >= 2^-64 in float, 2^-960 in
// double) and neither sum can overflow. The CPU drivers are in cpu/stablemax.hpp.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include "config.hpp"
#include "detail/bits.hpp"
#include "detail/exp_poly.hpp"
#include "detail/log_poly.hpp"

STABLEMATH_NAMESPACE_BEGIN

// s(x) of StableMax. NaN gives NaN, -inf gives 0, +inf gives +inf.
template <class T>
SM_HOST_DEVICE inline T stablemax_s(T x) {
    const T t = T(1) + std::fabs(x);
    return x >= T(0) ? t : T(1) / t;
}

// log s(x) = sign(x) log1p(|x|): exact to the rounding of log1p, for every finite x.
template <class T>
SM_HOST_DEVICE inline T stablemax_log_s(T x) {
    const T l = std::log1p(std::fabs(x));
    return x >= T(0) ? l : -l;
}

// s'(x) = 1 for x >= 0, 1/(1 - x)^2 = s(x)^2 for x < 0 (continuous at 0).
template <class T>
SM_HOST_DEVICE inline T stablemax_ds(T x) {
    const T t = T(1) + std::fabs(x);
    return x >= T(0) ? T(1) : T(1) / (t * t);
}

// The row sum of s in the scaled form above.
struct StablemaxSum {
    double p = 0;  // sum over x >= 0 of (1 + x) 2^-64
    double n = 0;  // sum over x < 0 (and NaN) of 2^64 / (1 - x)
};

SM_HOST_DEVICE inline StablemaxSum operator+(StablemaxSum a, StablemaxSum b) { return StablemaxSum{a.p + b.p, a.n + b.n}; }

// sum = scaled * 2^exp2 with `scaled` a normal double (when the sum is finite and nonzero).
struct StablemaxScale {
    double scaled;
    int exp2;
    // log(sum); NaN when the row holds NaN or +inf, -inf when the sum is 0 (all -inf or empty).
    // As k ln2 + log(m), sum = m 2^k with m in [sqrt(1/2), sqrt(2)): log(scaled) + exp2 ln2 would
    // add the rounding error of log(2^-64 ...) ~ 44 eps to results of order 1.
    SM_HOST_DEVICE double log_sum() const {
        if (scaled != scaled || scaled == 0) return scaled != scaled ? scaled : -std::numeric_limits<double>::infinity();
        int e = 0;
        double m = std::frexp(scaled, &e);
        if (m < 0.70710678118654752440) { m *= 2; --e; }
        const double k = static_cast<double>(e + exp2);
        using E = detail::exp_traits<double>;
        return k * E::ln2_hi + (k * E::ln2_lo + std::log(m));
    }
};

SM_HOST_DEVICE inline StablemaxScale stablemax_scale(StablemaxSum s) {
    const double inf = std::numeric_limits<double>::infinity();
    if (s.p != s.p || s.n != s.n || s.p == inf || s.n == inf)  // NaN, or +inf in the row
        return StablemaxScale{std::numeric_limits<double>::quiet_NaN(), 0};
    // With any x >= 0, P >= 2^-64 and N 2^-128 is either exact or negligible next to it.
    if (s.p > 0) return StablemaxScale{s.p + s.n * 0x1p-128, 64};
    return StablemaxScale{s.n, -64};
}

// -log stablemax(x)_t = log1p(others / s(x_t)), others = the sum of s over the row without t.
// Computed in double without forming log(sum) - log s(x_t), so a dominant target keeps its digits
// (a loss of 1e-12 stays 1e-12). NaN when the row holds NaN or +inf; +inf for x_t = -inf.
SM_HOST_DEVICE inline double stablemax_nll(StablemaxSum others, double xt) {
    const double nan = std::numeric_limits<double>::quiet_NaN(), inf = std::numeric_limits<double>::infinity();
    const StablemaxScale o = stablemax_scale(others);
    if (o.scaled != o.scaled || xt != xt || xt == inf) return nan;
    if (o.scaled == 0) return xt == -inf ? nan : 0.0;  // no other mass: probability 1 (0/0 at -inf)
    if (xt == -inf) return inf;
    const double st = stablemax_s(xt);
    const double od = std::ldexp(o.scaled, o.exp2);
    // The direct ratio while everything is a normal double (always for float32 logits).
    if (st >= 2.2250738585072014e-308 && st <= 1.79769313486231570e308 && od >= 2.2250738585072014e-308 &&
        od <= 1.79769313486231570e308)
        return std::log1p(od / st);
    const double d = o.log_sum() - stablemax_log_s(xt);  // log of the ratio
    return d > 0 ? d + std::log1p(std::exp(-d)) : std::log1p(std::exp(d));
}

namespace detail {

// P and N of a contiguous row (see StablemaxSum). Lane accumulators in T (which cannot overflow:
// every term is at most 2^64) vectorise at any ISA; they are flushed into double every B elements,
// so the rounding error does not grow with the row length.
template <class T>
SM_INLINE StablemaxSum stablemax_sum(const T* x, std::size_t n) {
    constexpr std::size_t L = 128 / sizeof(T), B = 32 * L;
    const T down = T(0x1p-64), up = T(0x1p64);
    double P = 0, N = 0;
    std::size_t i = 0;
    while (i < n) {
        const std::size_t end = n - i < B ? n : i + B;
        T p[L], q[L];
        for (std::size_t j = 0; j < L; ++j) { p[j] = 0; q[j] = 0; }
        for (; i + L <= end; i += L)
            for (std::size_t j = 0; j < L; ++j) {
                const T v = x[i + j];
                const T t = T(1) + std::fabs(v);
                const bool pos = v >= T(0);
                const T a = t * down, b = up / t;
                p[j] += pos ? a : T(0);
                q[j] += pos ? T(0) : b;
            }
        for (std::size_t j = 0; i + j < end; ++j) {
            const T v = x[i + j];
            const T t = T(1) + std::fabs(v);
            const bool pos = v >= T(0);
            p[j] += pos ? t * down : T(0);
            q[j] += pos ? T(0) : up / t;
        }
        i = end;
        for (std::size_t j = 0; j < L; ++j) { P += static_cast<double>(p[j]); N += static_cast<double>(q[j]); }
    }
    return StablemaxSum{P, N};
}

// y = s(x) / sum, given inv = 1 / scaled and neg_k = 2^-exp2 / scaled (see StablemaxScale):
// s / sum = (t 2^-64) inv for x >= 0 (exp2 is 64 whenever such x exist), neg_k / t for x < 0.
template <class T>
SM_INLINE void stablemax_store(const T* x, T* y, std::size_t n, T inv, T neg_k) {
    const T down = T(0x1p-64);
    for (std::size_t i = 0; i < n; ++i) {
        const T v = x[i];
        const T t = T(1) + std::fabs(v);
        const T a = (t * down) * inv, b = neg_k / t;
        y[i] = v >= T(0) ? a : b;
    }
}

// y = log s(x) - log_sum.
template <class T>
SM_INLINE void log_stablemax_store(const T* x, T* y, std::size_t n, T log_sum) {
    for (std::size_t i = 0; i < n; ++i) {
        const T v = x[i];
        const T l = log1p_nonneg(std::fabs(v));
        y[i] = (v >= T(0) ? l : -l) - log_sum;
    }
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
