// stablemath/logsumexp.hpp - public C++ API (host): log-sum-exp of a contiguous row or of a
// strided N-d array (see cpu/strided.hpp), vectorised and multi-threaded on the CPU.
#pragma once
#include <cstddef>
#include "config.hpp"
#include "lse_state.hpp"
#include "cpu/row_algorithms.hpp"
#include "cpu/strided.hpp"

STABLEMATH_NAMESPACE_BEGIN

// log(sum_i e^{x_i}) for x[0..n); -inf for n = 0. NaN if any x_i is NaN, +inf if any is +inf.
// If sign is given it receives +1, or 0 for an empty / all -inf row.
template <class T>
T logsumexp(const T* x, std::size_t n, T* sign = nullptr) {
    return cpu::logsumexp_row(cpu::kernels<T>(), x, n, sign, cpu::Parallel{});
}

// log|sum_i b_i e^{x_i}| with its sign (weights may be negative; b_i = 0 drops x_i).
template <class T>
T logsumexp(const T* x, const T* b, std::size_t n, T* sign) {
    std::vector<T> xs(x, x + n);
    for (std::size_t i = 0; i < n; ++i)
        if (b[i] == 0) xs[i] = -std::numeric_limits<T>::infinity();
    return cpu::logsumexp_row_weighted(cpu::kernels<T>(), xs.data(), b, n, sign);
}

STABLEMATH_NAMESPACE_END
