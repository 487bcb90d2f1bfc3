// Two translation units that both include every public header (see test_two_tus_b.cpp): links
// only if the headers define nothing non-inline, and checks that both see one kernel table, one
// ISA choice and one thread pool.
#include <stablemath/stablemath.hpp>
#include <stablemath/cpu/strided.hpp>

#include <cstdio>

#include "check.hpp"

namespace two_tus {
const void* table_b_float();
const void* table_b_double();
const void* pool_b();
const char* isa_b();
double softmax_b(const double* x, double* y, std::size_t n);
}  // namespace two_tus

int main() {
    namespace cpu = stablemath::cpu;
    CHECK(static_cast<const void*>(&cpu::kernels<float>()) == two_tus::table_b_float());
    CHECK(static_cast<const void*>(&cpu::kernels<double>()) == two_tus::table_b_double());
    CHECK(static_cast<const void*>(&cpu::ThreadPool::instance()) == two_tus::pool_b());
    CHECK(cpu::select_isa() == two_tus::isa_b());
    const double x[4] = {1, 2, 3, 4};
    double ya[4], yb[4];
    stablemath::softmax(x, ya, 4);
    const double lse_b = two_tus::softmax_b(x, yb, 4);
    for (int i = 0; i < 4; ++i) CHECK(ya[i] == yb[i]);
    CHECK(stablemath::logsumexp(x, 4) == lse_b);
    return sm_test::finish("test_two_tus");
}
