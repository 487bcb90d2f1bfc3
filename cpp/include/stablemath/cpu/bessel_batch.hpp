// Batched double log-Bessel kernels per ISA (detail/bessel_batch.hpp compiled for AVX-512, AVX2+FMA
// and the baseline, like the row kernels of cpu/kernel_table.hpp, whose select_isa() picks the ISA).
//
//   BesselBatchFn bessel_batch_kernel(int op)   op: detail::bessel::BatchOp; nullptr if unknown
//   fn(v, x, out, n)                            out[i] = f(v[i], x[i]) for n <= detail::bessel::kBesselBatch
#pragma once
#include <cstddef>
#include <cstring>
#include "../config.hpp"
#include "../detail/bessel_batch.hpp"
#include "kernel_table.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {

using BesselBatchFn = void (*)(const double*, const double*, double*, std::size_t);

#if STABLEMATH_X86_DISPATCH
#define SM_ISA_NAMESPACE bessel_avx512
#define SM_ISA_NAME "avx512"
#define SM_ISA_ATTR __attribute__((target("arch=x86-64-v4")))
#include "detail/bessel_batch_instances.inc"
#define SM_ISA_NAMESPACE bessel_avx2
#define SM_ISA_NAME "avx2"
#define SM_ISA_ATTR __attribute__((target("arch=x86-64-v3")))
#include "detail/bessel_batch_instances.inc"
#endif
#define SM_ISA_NAMESPACE bessel_baseline
#define SM_ISA_NAME "baseline"
#define SM_ISA_ATTR
#include "detail/bessel_batch_instances.inc"

// The kernel for op on the ISA chosen by select_isa().
inline BesselBatchFn bessel_batch_kernel(int op) {
#if STABLEMATH_X86_DISPATCH
    const char* isa = select_isa();
    if (std::strcmp(isa, "avx512") == 0) return bessel_avx512::bessel_batch_table(op);
    if (std::strcmp(isa, "avx2") == 0) return bessel_avx2::bessel_batch_table(op);
#endif
    return bessel_baseline::bessel_batch_table(op);
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
