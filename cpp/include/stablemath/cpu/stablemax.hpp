// StableMax and log-StableMax of N-d strided arrays along one axis, on the CPU (any dtype, any
// strides, threads): the row kernels of stablemax.hpp through transform_rows.
//
// Per row: one pass for the scaled sum of s (stablemax_sum), one output pass. No max shift.
// Semantics: NaN or +inf anywhere in a row -> NaN for the whole row (as softmax); -inf entries get
// probability 0 (log: -inf); a row of only -inf has no mass -> NaN.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include "../config.hpp"
#include "../stablemax.hpp"
#include "kernel_table.hpp"
#include "row_algorithms.hpp"
#include "strided.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {

// The scaled sum of s over a contiguous row, split into the fixed parts of row_algorithms.hpp
// (bit-identical for any thread count).
template <class T, class Exec>
StablemaxSum stablemax_row_sum(const KernelTable<T>& k, const T* x, std::size_t n, const Exec& ex) {
    return fold_parts(n, ex, StablemaxSum{}, [&](std::size_t b, std::size_t len) { return k.stablemax_sum(x + b, len); },
                      [](const StablemaxSum& a, const StablemaxSum& c) { return a + c; });
}

// stablemax (log = false) or log_stablemax (log = true) of one contiguous row; y may equal x.
template <class T, class Exec>
void stablemax_row(const KernelTable<T>& k, const T* x, T* y, std::size_t n, bool log, const Exec& ex) {
    if (n == 0) return;
    const StablemaxScale sc = stablemax_scale(stablemax_row_sum(k, x, n, ex));
    if (!(sc.scaled > 0)) {  // NaN or +inf in the row, or no mass at all
        for (std::size_t i = 0; i < n; ++i) y[i] = std::numeric_limits<T>::quiet_NaN();
        return;
    }
    const double max_t = static_cast<double>(std::numeric_limits<T>::max());
    if (!log) {
        const double inv = 1.0 / sc.scaled;
        const double neg_k = std::fmin(std::ldexp(inv, -sc.exp2), max_t);  // <= min t over x < 0, up to rounding
        for_parts(n, ex, [&](std::size_t b, std::size_t len) {
            k.stablemax_store(x + b, y + b, len, static_cast<T>(inv), static_cast<T>(neg_k));
        });
        return;
    }
    const double ls = sc.log_sum();
    // log s(x_i) - log(sum) cancels for an element holding most of the mass (its log-probability
    // is near 0): that element, if any, is recomputed as -log1p(others / s) (stablemax_nll).
    const T m = row_max(k, x, n, ex);
    std::size_t top = n;
    double top_value = 0;
    if (stablemax_log_s(static_cast<double>(m)) - ls > -1.3862943611198906) {  // s(max) > sum / 4
        top = 0;
        while (x[top] != m) ++top;
        const StablemaxSum others = k.stablemax_sum(x, top) + k.stablemax_sum(x + top + 1, n - top - 1);
        top_value = -stablemax_nll(others, static_cast<double>(m));
    }
    for_parts(n, ex, [&](std::size_t b, std::size_t len) { k.log_stablemax_store(x + b, y + b, len, static_cast<T>(ls)); });
    if (top < n) y[top] = static_cast<T>(top_value);
}

namespace detail {
template <class S>
void stablemax_typed(const ArrayRef& x, int axis, const ArrayRef& out, bool log) {
    using T = typename stablemath::detail::accum<S>::type;
    const KernelTable<T>& k = kernels<T>();
    transform_rows<S>(x, axis, nullptr, out, T(0), T(0),
                      [&](const T* xr, T* yr, std::size_t n, auto ex) { stablemax_row(k, xr, yr, n, log, ex); });
}
}  // namespace detail

// stablemax (log = false) or log_stablemax (log = true) of x along `axis` into out (same shape and
// dtype as x). float16/bfloat16 are computed in float. Runs on the thread pool.
inline void stablemax(const ArrayRef& x, int axis, const ArrayRef& out, bool log = false) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) { detail::stablemax_typed<decltype(tag)>(x, axis, out, log); });
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
