// Cross-entropy losses and the Softmax Collapse detector: row reductions through reduce_rows.
//
// Every function writes one value per row into a caller-provided contiguous array, row r being
// the r-th row in C order over x's axes other than `axis`; targets come the same way (int64).
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include "../config.hpp"
#include "../lse_state.hpp"
#include "../stablemax.hpp"
#include "kernel_table.hpp"
#include "row_algorithms.hpp"
#include "strided.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {

enum class CrossEntropyKind : int { softmax = 0, stablemax = 1 };

// Per-row loss arguments: loss[r] is 0 where target[r] == ignore_index, NaN for any other target
// outside [0, n) (callers reject those first).
struct CrossEntropyArgs {
    const std::int64_t* target;
    std::int64_t ignore_index;
    double label_smoothing;  // softmax only: torch's (1 - e) nll + e * mean_j(-log p_j)
};

namespace detail {

template <class T>
double row_sum_double(const T* x, std::size_t n) {
    double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (std::size_t j = 0; j < 8; ++j) acc[j] += static_cast<double>(x[i + j]);
    for (std::size_t j = 0; i + j < n; ++j) acc[j] += static_cast<double>(x[i + j]);
    return ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
}

// -log softmax(x)_t through the online (max, sum) state: (m - x_t) + log(c + s) with log1p for
// the dominant part, the order of operations of log_softmax. NaN for rows with NaN, +inf, or
// no finite mass (all -inf), as torch.
template <class T>
double softmax_nll(const LseState<T>& st, T xt) {
    if (!std::isfinite(st.m) || !std::isfinite(st.total())) return std::numeric_limits<double>::quiet_NaN();
    return static_cast<double>((st.m - xt) + log_relative(st));
}

template <class S>
void cross_entropy_typed(const ArrayRef& x, int axis, CrossEntropyKind kind, const CrossEntropyArgs& a,
                         typename stablemath::detail::accum<S>::type* loss) {
    using T = typename stablemath::detail::accum<S>::type;
    const KernelTable<T>& k = kernels<T>();
    reduce_rows<S>(x, axis, [&](std::int64_t r, const T* row, std::size_t n, auto ex) {
        const std::int64_t t = a.target[r];
        if (t == a.ignore_index) { loss[r] = T(0); return; }
        if (t < 0 || static_cast<std::uint64_t>(t) >= n) { loss[r] = std::numeric_limits<T>::quiet_NaN(); return; }
        const std::size_t ti = static_cast<std::size_t>(t);
        if (kind == CrossEntropyKind::stablemax) {
            const StablemaxSum others = k.stablemax_sum(row, ti) + k.stablemax_sum(row + ti + 1, n - ti - 1);
            loss[r] = static_cast<T>(stablemax_nll(others, static_cast<double>(row[ti])));
            return;
        }
        const LseState<T> st = row_state(k, row, n, ex);
        double l = softmax_nll(st, row[ti]);
        const double e = a.label_smoothing;
        if (e > 0) {
            // mean_j(-log p_j) = lse - mean(x); NaN rows are already NaN.
            const double lse = static_cast<double>(st.m) + static_cast<double>(log_relative(st));
            l = (1 - e) * l + e * (lse - row_sum_double(row, n) / static_cast<double>(n));
        }
        loss[r] = static_cast<T>(l);
    });
}

// Rounding of a double to the precision of a storage format (round to nearest even; float16 and
// bfloat16 via float, which can double-round only at exact ties of the 16-bit format).
enum class Precision : int { float16 = 0, bfloat16 = 1, float32 = 2, float64 = 3 };

template <Precision P>
double round_to(double v) {
    using stablemath::detail::narrow;
    using stablemath::detail::widen;
    if (P == Precision::float16) return static_cast<double>(widen(narrow<float16_t>(static_cast<float>(v))));
    if (P == Precision::bfloat16) return static_cast<double>(widen(narrow<bfloat16_t>(static_cast<float>(v))));
    if (P == Precision::float32) return static_cast<double>(static_cast<float>(v));
    return v;
}

inline double precision_eps(Precision p) {
    switch (p) {
    case Precision::float16: return 0x1p-10;
    case Precision::bfloat16: return 0x1p-7;
    case Precision::float32: return 0x1p-23;
    default: return 0x1p-52;
    }
}

template <class S, Precision P>
void softmax_collapse_typed(const ArrayRef& x, int axis, double threshold, std::uint8_t* sum_is_one,
                            std::uint8_t* gap_exceeds, double* gap) {
    using T = typename stablemath::detail::accum<S>::type;
    reduce_rows<S>(x, axis, [&](std::int64_t r, const T* row, std::size_t n, auto) {
        const double inf = std::numeric_limits<double>::infinity();
        double m = -inf;
        bool nan = false;
        for (std::size_t j = 0; j < n; ++j) {
            const double q = round_to<P>(static_cast<double>(row[j]));
            nan |= q != q;
            m = q > m ? q : m;
        }
        sum_is_one[r] = 0;
        gap_exceeds[r] = 0;
        gap[r] = std::numeric_limits<double>::quiet_NaN();
        if (nan || !std::isfinite(m)) return;  // NaN, +inf or no finite element: never collapsed
        // Terms below the max as the reference code forms them in precision P: fl(exp(fl(x - m))).
        std::size_t count = 0;
        double rest = 0, second = -inf;
        for (std::size_t j = 0; j < n; ++j) {
            const double q = round_to<P>(static_cast<double>(row[j]));
            if (q == m) { ++count; continue; }
            second = q > second ? q : second;
            rest += round_to<P>(std::exp(round_to<P>(q - m)));
        }
        sum_is_one[r] = count == 1 && round_to<P>(1.0 + rest) == 1.0;
        gap[r] = count > 1 ? 0.0 : m - second;
        gap_exceeds[r] = gap[r] > threshold;
    });
}

}  // namespace detail

// Cross-entropy of each row of x (classes along `axis`) against integer targets, into loss[rows]
// (accumulation dtype: float for 16/32-bit x, double for double). Runs on the thread pool.
template <class T>
void cross_entropy(const ArrayRef& x, int axis, CrossEntropyKind kind, const CrossEntropyArgs& args, T* loss) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) {
        using S = decltype(tag);
        using A = typename stablemath::detail::accum<S>::type;
        if constexpr (std::is_same<A, T>::value) detail::cross_entropy_typed<S>(x, axis, kind, args, loss);
    });
}

// The Softmax Collapse criteria of each row in precision p (see python/stablemath/_losses.py):
// sum_is_one[r]: the correctly rounded sum of fl(exp(fl(x_j - max))) is exactly 1;
// gap_exceeds[r]: gap[r] = max - (largest other element) > log(1/eps_p). Returns the threshold.
inline double softmax_collapse(const ArrayRef& x, int axis, detail::Precision p, std::uint8_t* sum_is_one,
                               std::uint8_t* gap_exceeds, double* gap) {
    const double threshold = std::log(1.0 / detail::precision_eps(p));
    detail::dispatch_dtype(x.dtype, [&](auto tag) {
        using S = decltype(tag);
        switch (p) {
        case detail::Precision::float16:
            return detail::softmax_collapse_typed<S, detail::Precision::float16>(x, axis, threshold, sum_is_one, gap_exceeds, gap);
        case detail::Precision::bfloat16:
            return detail::softmax_collapse_typed<S, detail::Precision::bfloat16>(x, axis, threshold, sum_is_one, gap_exceeds, gap);
        case detail::Precision::float32:
            return detail::softmax_collapse_typed<S, detail::Precision::float32>(x, axis, threshold, sum_is_one, gap_exceeds, gap);
        default:
            return detail::softmax_collapse_typed<S, detail::Precision::float64>(x, axis, threshold, sum_is_one, gap_exceeds, gap);
        }
    });
    return threshold;
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
