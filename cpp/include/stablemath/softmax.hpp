// stablemath/softmax.hpp - public C++ API (host): softmax and log_softmax of a contiguous row in
// the three algorithms, vectorised and multi-threaded on the CPU. N-d strided arrays along any
// axis: stablemath::cpu::softmax in cpu/strided.hpp.
#pragma once
#include <cstddef>
#include "config.hpp"
#include "cpu/row_algorithms.hpp"
#include "cpu/strided.hpp"

STABLEMATH_NAMESPACE_BEGIN

struct SoftmaxOptions {
    SoftmaxAlgorithm algorithm = SoftmaxAlgorithm::automatic;
    bool safe = false;  // a row with no finite mass (all -inf) gives 0 instead of NaN
};

// y = softmax(x) for x, y of length n (y may equal x).
template <class T>
void softmax(const T* x, T* y, std::size_t n, SoftmaxOptions opt = {}) {
    cpu::softmax_row(cpu::kernels<T>(), x, y, n, opt.algorithm, false, opt.safe, cpu::Parallel{});
}

// y = log_softmax(x) = (x - max) - log(sum e^{x - max}).
template <class T>
void log_softmax(const T* x, T* y, std::size_t n, SoftmaxOptions opt = {}) {
    cpu::softmax_row(cpu::kernels<T>(), x, y, n, opt.algorithm, true, opt.safe, cpu::Parallel{});
}

STABLEMATH_NAMESPACE_END
