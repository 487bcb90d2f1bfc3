// One table of contiguous-row kernels per dtype, chosen once per process for the CPU it runs on.
//
// The same kernel bodies (detail/row_kernels.hpp, force-inlined) are compiled three times by
// including cpu/detail/kernel_instances.inc with a different target attribute: AVX-512 (x86-64-v4),
// AVX2+FMA (x86-64-v3) and the baseline of the build. No -march flag is needed, so one wheel runs
// on any x86-64 and is fast on new ones (see shared/notes/simd-dispatch.md). On other
// architectures only the baseline table exists.
// STABLEMATH_ISA=baseline|avx2|avx512 forces a table (for tests); an unsupported request falls back.
#pragma once
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <limits>
#include "../config.hpp"
#include "../lse_state.hpp"
#include "../detail/row_kernels.hpp"
#include "../stablemax.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {

// Elements per chunk: a chunk is read once from memory for its maximum and again from L1 for its
// sum, so the chunked (online) reduction costs one memory read of the row.
inline constexpr std::size_t kChunk = 2048;

// Elements per block (64 and 256 measured slower) whose maximum block_max_state records (fused softmax + top-k, topk.hpp):
// a block is scanned for top-k candidates only when its maximum can reach the current k-th value.
inline constexpr std::size_t kTopkBlock = 128;

template <class T>
struct KernelTable {
    const char* isa;
    T (*max)(const T*, std::size_t);
    LseState<T> (*chunked_state)(const T*, std::size_t);  // fold of per-chunk (max, sum) states
    LseState<T> (*state_given_max)(const T*, std::size_t, T);
    LseState<T> (*state_weighted)(const T*, const T*, std::size_t, T);
    T (*exp_store_sum)(const T*, T*, std::size_t, T);
    void (*scale)(T*, std::size_t, T);
    void (*sub2_store)(const T*, T*, std::size_t, T, T);
    ExtSum<T> (*ext_reduce)(const T*, std::size_t, T&);
    void (*ext_scale_store)(const T*, T*, std::size_t, T, T);
    // StableMax (stablemax.hpp): the scaled row sum of s, and the two output passes.
    StablemaxSum (*stablemax_sum)(const T*, std::size_t);
    void (*stablemax_store)(const T*, T*, std::size_t, T, T);
    void (*log_stablemax_store)(const T*, T*, std::size_t, T);
    LseState<T> (*block_max_state)(const T*, std::size_t, T*);  // chunked_state + per-block maxima
};

namespace detail {
template <class T>
SM_FORCE_INLINE LseState<T> chunked_state_body(const T* x, std::size_t n) {
    LseState<T> acc;
    for (std::size_t i = 0; i < n; i += kChunk) {
        const std::size_t len = n - i < kChunk ? n - i : kChunk;
        const T m = stablemath::detail::row_max(x + i, len);
        acc = merge(acc, stablemath::detail::row_state_given_max(x + i, len, m));
    }
    return acc;
}

// chunked_state that also writes the maximum of every kTopkBlock-element block to bmax (one read
// of x from memory: the block maxima give the chunk maximum, then the sum re-reads x from L1).
template <class T>
SM_FORCE_INLINE LseState<T> block_max_state_body(const T* x, std::size_t n, T* bmax) {
    LseState<T> acc;
    for (std::size_t i = 0; i < n; i += kChunk) {
        const std::size_t len = n - i < kChunk ? n - i : kChunk;
        T m = -std::numeric_limits<T>::infinity();
        for (std::size_t b = 0; b < len; b += kTopkBlock) {
            const T bm = stablemath::detail::row_max(x + i + b, len - b < kTopkBlock ? len - b : kTopkBlock);
            bmax[(i + b) / kTopkBlock] = bm;
            m = bm > m ? bm : m;
        }
        acc = merge(acc, stablemath::detail::row_state_given_max(x + i, len, m));
    }
    return acc;
}
}  // namespace detail

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define STABLEMATH_X86_DISPATCH 1
#define SM_ISA_NAMESPACE isa_avx512
#define SM_ISA_NAME "avx512"
#define SM_ISA_ATTR __attribute__((target("arch=x86-64-v4")))
#include "detail/kernel_instances.inc"
#define SM_ISA_NAMESPACE isa_avx2
#define SM_ISA_NAME "avx2"
#define SM_ISA_ATTR __attribute__((target("arch=x86-64-v3")))
#include "detail/kernel_instances.inc"
#else
#define STABLEMATH_X86_DISPATCH 0
#endif
#define SM_ISA_NAMESPACE isa_baseline
#define SM_ISA_NAME "baseline"
#define SM_ISA_ATTR
#include "detail/kernel_instances.inc"

// Which ISA the tables use: the best the CPU supports, or STABLEMATH_ISA if set and supported.
inline const char* select_isa() {
    static const char* chosen = [] {
        const char* want = std::getenv("STABLEMATH_ISA");
#if STABLEMATH_X86_DISPATCH
        __builtin_cpu_init();
        const bool v4 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
                        __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                        __builtin_cpu_supports("bmi2");
        if (want && std::strcmp(want, "baseline") == 0) return "baseline";
        if (want && std::strcmp(want, "avx2") == 0) return v3 ? "avx2" : "baseline";
        if (v4 && !(want && std::strcmp(want, "avx512") != 0)) return "avx512";
        if (v3) return "avx2";
#else
        (void)want;
#endif
        return "baseline";
    }();
    return chosen;
}

template <class T>
inline const KernelTable<T>& kernels() {
    static const KernelTable<T> table = [] {
#if STABLEMATH_X86_DISPATCH
        const char* isa = select_isa();
        if (std::strcmp(isa, "avx512") == 0) return isa_avx512::make_table<T>();
        if (std::strcmp(isa, "avx2") == 0) return isa_avx2::make_table<T>();
#endif
        return isa_baseline::make_table<T>();
    }();
    return table;
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
