// stablemath/sparsemax.hpp - public C++ API (host): sparsemax, the Euclidean projection onto the
// probability simplex, p_i = max(x_i - tau, 0), of a contiguous row and of N-d strided arrays along
// any axis (float16, bfloat16, float32, float64), rows in parallel on the thread pool.
// Algorithms and the non-finite policy: detail/sparsemax_row.hpp.
#pragma once
#include <cstddef>
#include <vector>
#include "config.hpp"
#include "cpu/kernel_table.hpp"
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

template <class T>
void sparsemax_row(const T* x, T* y, std::size_t n, SparsemaxAlgorithm algo) {
    if (n == 0) return;
    const T m = kernels<T>().max(x, n);  // vectorised for the CPU's ISA; NaN never wins
    stablemath::detail::sparsemax_row_given_max(x, y, n, m, algo, sparsemax_work<T>(n));
}

template <class S>
void sparsemax_typed(const ArrayRef& x, int axis, const ArrayRef& out, SparsemaxAlgorithm algo) {
    using T = typename stablemath::detail::accum<S>::type;
    // Rows run in parallel; one row is one task (a single very long row runs on one thread).
    transform_rows<S>(x, axis, nullptr, out, T(0), T(0),
                      [&](const T* xr, T* yr, std::size_t n, auto) { sparsemax_row(xr, yr, n, algo); });
}
}  // namespace detail

// sparsemax of x along `axis` into out (same shape and dtype as x; out may be x itself).
inline void sparsemax(const ArrayRef& x, int axis, const ArrayRef& out,
                      SparsemaxAlgorithm algo = SparsemaxAlgorithm::automatic) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) { detail::sparsemax_typed<decltype(tag)>(x, axis, out, algo); });
}
}  // namespace cpu

// y = sparsemax(x) for x, y of length n (float or double; y may equal x).
template <class T>
void sparsemax(const T* x, T* y, std::size_t n, SparsemaxAlgorithm algo = SparsemaxAlgorithm::automatic) {
    cpu::detail::sparsemax_row(x, y, n, algo);
}

STABLEMATH_NAMESPACE_END
