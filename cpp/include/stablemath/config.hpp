// stablemath/config.hpp - the one place for compiler and host/device macros.
#pragma once

#define STABLEMATH_VERSION_MAJOR 0
#define STABLEMATH_VERSION_MINOR 1
#define STABLEMATH_VERSION_PATCH 0

// SM_HOST_DEVICE marks every scalar and row function so nvcc compiles the same code for the GPU.
// Outside nvcc it expands to nothing and the headers are plain C++17.
#if defined(__CUDACC__) || defined(__HIPCC__)
#define SM_HOST_DEVICE __host__ __device__
#define SM_DEVICE_COMPILE 1
#else
#define SM_HOST_DEVICE
#define SM_DEVICE_COMPILE 0
#endif

// Kernel bodies are force-inlined into the per-ISA wrappers (cpu/kernel_table.hpp) so that they
// inherit that wrapper's target attribute; a shared out-of-line copy would be compiled for one ISA only.
#if defined(__GNUC__) || defined(__clang__)
#define SM_FORCE_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SM_FORCE_INLINE __forceinline
#else
#define SM_FORCE_INLINE inline
#endif

#define SM_INLINE SM_HOST_DEVICE SM_FORCE_INLINE

// A versioned inline namespace keeps two builds of stablemath in one process (e.g. two extensions
// built against different versions) from violating the one-definition rule.
#define STABLEMATH_NAMESPACE_BEGIN namespace stablemath { inline namespace v0_1 {
#define STABLEMATH_NAMESPACE_END } }
