// stablemath/sparsemax.hpp - public C++ API (host): sparsemax, the Euclidean projection onto the
// probability simplex, p_i = max(x_i - tau, 0), of a contiguous row and of N-d strided arrays along
// any axis (float16, bfloat16, float32, float64), rows in parallel on the thread pool.
// Algorithms and the non-finite policy: detail/sparsemax_row.hpp.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>
#include "config.hpp"
#include "cpu/kernel_table.hpp"
#include "cpu/row_algorithms.hpp"
#include "cpu/strided.hpp"
#include "detail/sparsemax_row.hpp"

STABLEMATH_NAMESPACE_BEGIN

namespace cpu {
namespace detail {
// Per-thread work buffer for the candidates (the row's own scratch slots belong to the driver).
template <class T>
T* sparsemax_work(std::size_t n) {
    thread_local std::vector<T> buf;
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

// One row. A row longer than kPart is split into the fixed parts of row_algorithms.hpp: the max,
// the candidate filter (each part with its own bound, all valid for the row) and the output run
// per part, under Parallel on the pool; the split depends on n only, so results do not depend on
// the thread count.
template <class T, class Exec = Serial>
void sparsemax_row(const T* x, T* y, std::size_t n, SparsemaxAlgorithm algo, const Exec& ex = Exec{}) {
    namespace sd = stablemath::detail;
    if (n == 0) return;
    T* work = sparsemax_work<T>(n);
    const std::size_t parts = num_parts(n);
    if (parts <= 1) {
        const T m = kernels<T>().max(x, n);  // vectorised for the CPU's ISA; NaN never wins
        sd::sparsemax_row_given_max(x, y, n, m, algo, work);
        return;
    }
    const T m = row_max(kernels<T>(), x, n, ex);
    if (!(m > -std::numeric_limits<T>::infinity() && m < std::numeric_limits<T>::infinity())) {
        sd::sparsemax_nonfinite(x, y, n, m);
        return;
    }
    std::vector<std::size_t> count(parts);
    std::vector<T> bounds(parts);
    for_parts(n, ex, [&](std::size_t b, std::size_t len) {
        count[b / kPart] = sd::sparsemax_candidates(x + b, len, m, work + b, &bounds[b / kPart]);
    });
    const T bound = *std::max_element(bounds.begin(), bounds.end());
    std::size_t k = 0;  // gather the parts' candidates to the front (k never passes the read index)
    for (std::size_t p = 0; p < parts; ++p)
        for (std::size_t j = 0; j < count[p]; ++j) {
            const T d = work[p * kPart + j];
            work[k] = d;
            k += d > bound ? 1 : 0;
        }
    const T tau = sd::sparsemax_tau(work, k, bound, algo);
    std::vector<unsigned char> nan(parts);
    for_parts(n, ex, [&](std::size_t b, std::size_t len) { nan[b / kPart] = sd::sparsemax_store(x + b, y + b, len, m, tau); });
    if (std::find(nan.begin(), nan.end(), 1) != nan.end())
        for (std::size_t i = 0; i < n; ++i) y[i] = std::numeric_limits<T>::quiet_NaN();
}

template <class S>
void sparsemax_typed(const ArrayRef& x, int axis, const ArrayRef& out, SparsemaxAlgorithm algo) {
    using T = typename stablemath::detail::accum<S>::type;
    // Rows run in parallel; a few very long rows run one after another, each split across the pool.
    transform_rows<S>(x, axis, nullptr, out, T(0), T(0),
                      [&](const T* xr, T* yr, std::size_t n, auto ex) { sparsemax_row(xr, yr, n, algo, ex); });
}
template <class T>
inline void sparsemax_backward_row(const T* yr, const T* gr, T* o, std::size_t n) {
    constexpr std::size_t L = stablemath::detail::lanes<T>::value;  // lane sums: vectorised, pairwise-accurate
    T acc[L] = {}, cnt[L] = {};  // cnt exact up to 2^24 per lane (float)
    // Two loops, loads before the selects: gcc turns two selects on one condition (or a
    // conditional load) into control flow and vectorises neither.
    const std::size_t nl = n - n % L;
    for (std::size_t i = 0; i < nl; i += L)
        for (std::size_t j = 0; j < L; ++j) {
            const T gv = gr[i + j], yv = yr[i + j];
            acc[j] += yv > 0 ? gv : T(0);
        }
    for (std::size_t i = 0; i < nl; i += L)
        for (std::size_t j = 0; j < L; ++j) cnt[j] += yr[i + j] > 0 ? T(1) : T(0);
    for (std::size_t j = 0; nl + j < n; ++j) {
        acc[j] += yr[nl + j] > 0 ? gr[nl + j] : T(0);
        cnt[j] += yr[nl + j] > 0 ? T(1) : T(0);
    }
    const T c = stablemath::detail::lane_sum(cnt), sum = stablemath::detail::lane_sum(acc);
    const T mean = c > 0 ? sum / c : T(0);
    for (std::size_t k = 0; k < n; ++k) {
        const T yv = yr[k], d = gr[k] - mean;
        o[k] = yv > 0 ? d : (yv != yv ? yv : T(0));
    }
}

// out = J^T g row by row: s * (g - sum_S g / |S|) with s = (y > 0); NaN where y is NaN. y, g, out
// share a shape and dtype (any strides). transform_rows maps one operand, so this mirrors it for
// two: stride-1 rows in the accumulation dtype go in place, others through per-thread scratch.
template <class S>
void sparsemax_backward_typed(const ArrayRef& y, const ArrayRef& g, int axis, const ArrayRef& out) {
    using T = typename stablemath::detail::accum<S>::type;
    const ArrayRef* ops[3] = {&y, &out, &g};
    constexpr int nops = 3, kG = 2;
    const Layout L = make_layout(ops, nops, std::uint64_t(1) << axis);
    if (L.rows == 0 || L.row_size == 0) return;
    const std::size_t n = static_cast<std::size_t>(L.row_size);
    const bool direct = std::is_same<S, T>::value && L.row.size() == 1 && L.row[0].stride[kX] == 1 &&
                        L.row[0].stride[kOut] == 1 && L.row[0].stride[kG] == 1;
    auto row = [n](const T* yr, const T* gr, T* o) { sparsemax_backward_row(yr, gr, o, n); };
    run_blocks(L, 1, [&](std::int64_t r0, std::int64_t, auto) {
        std::int64_t off[kMaxOperands];
        outer_offsets(L, r0, nops, off);
        if (direct) {
            row(reinterpret_cast<const T*>(at<S>(y, off[kX])), reinterpret_cast<const T*>(at<S>(g, off[kG])),
                reinterpret_cast<T*>(at_mut<S>(out, off[kOut])));
            return;
        }
        std::vector<T>& yb = scratch<T>(0);
        std::vector<T>& gb = scratch<T>(1);
        std::vector<T>& ob = scratch<T>(2);
        yb.resize(n); gb.resize(n); ob.resize(n);
        for_row(L, nops, [&](std::int64_t i, const std::int64_t* o) {
            yb[i] = stablemath::detail::widen(at<S>(y, off[kX])[o[kX]]);
            gb[i] = stablemath::detail::widen(at<S>(g, off[kG])[o[kG]]);
        });
        row(yb.data(), gb.data(), ob.data());
        for_row(L, nops, [&](std::int64_t i, const std::int64_t* o) {
            at_mut<S>(out, off[kOut])[o[kOut]] = stablemath::detail::narrow<S>(ob[i]);
        });
    });
}
// Sparsemax loss of one row for class index t: sum_i (p_i - e_t,i) d_i + (1 - ||p||^2)/2 with
// d = x - max (0 where x equals the maximum, so +inf maxima enter as 0), terms with p_i = e_t,i
// left out (-inf scores off the support and target add nothing). Summed in double.
template <class T>
double sparsemax_loss_row(const T* x, std::size_t n, std::int64_t t) {
    T* p = sparsemax_work<T>(2 * n) + n;  // [0, n): the candidates of sparsemax_row
    sparsemax_row(x, p, n, SparsemaxAlgorithm::automatic);
    const T m = kernels<T>().max(x, n);
    double lin = 0, pp = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double diff = static_cast<double>(p[i]) - (static_cast<std::int64_t>(i) == t ? 1.0 : 0.0);
        const double d = x[i] == m ? 0.0 : static_cast<double>(x[i]) - static_cast<double>(m);
        lin += diff != 0 ? diff * d : 0.0;
        pp += static_cast<double>(p[i]) * p[i];
    }
    return lin + 0.5 * (1 - pp);
}

template <class S>
void sparsemax_loss_typed(const ArrayRef& x, int axis, const std::int64_t* target, double* out) {
    using T = typename stablemath::detail::accum<S>::type;
    reduce_rows<S>(x, axis, [&](std::int64_t r, const T* row, std::size_t n, auto) {
        out[r] = sparsemax_loss_row(row, n, target[r]);
    });
}
}  // namespace detail

// Sparsemax (Fenchel-Young) loss of every row of x along `axis` against class indices: target and
// out hold one value per row, in C order over x's other axes; indices must be in [0, n).
inline void sparsemax_loss(const ArrayRef& x, int axis, const std::int64_t* target, double* out) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) { detail::sparsemax_loss_typed<decltype(tag)>(x, axis, target, out); });
}

// Vector-Jacobian product of sparsemax along `axis` (J is symmetric: also the JVP): y = sparsemax(x),
// g the incoming gradient, out the result; all of one shape and dtype.
inline void sparsemax_backward(const ArrayRef& y, const ArrayRef& g, int axis, const ArrayRef& out) {
    detail::dispatch_dtype(y.dtype, [&](auto tag) { detail::sparsemax_backward_typed<decltype(tag)>(y, g, axis, out); });
}

// sparsemax of x along `axis` into out (same shape and dtype as x; out may be x itself).
inline void sparsemax(const ArrayRef& x, int axis, const ArrayRef& out,
                      SparsemaxAlgorithm algo = SparsemaxAlgorithm::automatic) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) { detail::sparsemax_typed<decltype(tag)>(x, axis, out, algo); });
}
}  // namespace cpu

// y = sparsemax(x) for x, y of length n (float or double; y may equal x).
template <class T>
void sparsemax(const T* x, T* y, std::size_t n, SparsemaxAlgorithm algo = SparsemaxAlgorithm::automatic) {
    cpu::detail::sparsemax_row(x, y, n, algo, cpu::Parallel{});
}

STABLEMATH_NAMESPACE_END
