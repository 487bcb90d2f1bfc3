// Second translation unit of test_two_tus (see test_two_tus_a.cpp).
#include <stablemath/stablemath.hpp>
#include <stablemath/cpu/strided.hpp>

namespace two_tus {
const void* table_b_float() { return &stablemath::cpu::kernels<float>(); }
const void* table_b_double() { return &stablemath::cpu::kernels<double>(); }
const void* pool_b() { return &stablemath::cpu::ThreadPool::instance(); }
const char* isa_b() { return stablemath::cpu::select_isa(); }
double softmax_b(const double* x, double* y, std::size_t n) {
    stablemath::softmax(x, y, n);
    return stablemath::logsumexp(x, n);
}
}  // namespace two_tus
