// Shared helpers for the stablemath C++ tests: ulp arithmetic against long double references,
// CPU feature checks matching cpu/kernel_table.hpp, deterministic random rows.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <stablemath/cpu/row_algorithms.hpp>

namespace sm_test {

inline const char* algo_name(stablemath::SoftmaxAlgorithm a) {
    using Algo = stablemath::SoftmaxAlgorithm;
    switch (a) {
    case Algo::automatic: return "automatic";
    case Algo::three_pass: return "three_pass";
    case Algo::online: return "online";
    case Algo::two_pass: return "two_pass";
    }
    return "?";
}

// Spacing of T at |v| (v in long double): denorm_min below the normal range, the spacing of
// T's largest finite value above it.
template <class T>
long double ulp_of(long double v) {
    v = std::fabs(v);
    const long double min_normal = std::numeric_limits<T>::min();
    if (!(v >= min_normal)) return std::numeric_limits<T>::denorm_min();
    const long double top = std::numeric_limits<T>::max();
    if (v > top) v = top;
    const int e = std::ilogb(v);  // v in [2^e, 2^(e+1))
    return std::ldexp(1.0L, e - (std::numeric_limits<T>::digits - 1));
}

// |got - ref| in units of ulp_of<T>(ref); +inf in `got` counts as 2^max_exponent (the value a
// correctly rounded result would have to reach to round to inf), and a reference at or beyond
// 2^max_exponent accepts only inf. NaN or sign-of-infinity mismatches give +inf.
template <class T>
long double ulp_error(T got, long double ref) {
    if (std::isnan(ref) || std::isnan(got)) return (std::isnan(ref) && std::isnan(got)) ? 0.0L : INFINITY;
    if (std::isinf(ref)) return (std::isinf(got) && (got > 0) == (ref > 0)) ? 0.0L : INFINITY;
    // Beyond 2^max_exponent every rounding mode to nearest gives inf: only inf is right.
    const long double beyond = std::ldexp(1.0L, std::numeric_limits<T>::max_exponent);
    if (std::fabs(ref) >= beyond) return (std::isinf(got) && (got > 0) == (ref > 0)) ? 0.0L : INFINITY;
    long double g = got;
    if (std::isinf(got)) g = std::copysign(std::ldexp(1.0L, std::numeric_limits<T>::max_exponent), static_cast<long double>(got));
    return std::fabs(g - ref) / ulp_of<T>(ref);
}

// CPU levels exactly as cpu/kernel_table.hpp selects them.
inline bool cpu_has_v4() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
    return false;
#endif
}

inline bool cpu_has_v3() {
#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi2");
#else
    return false;
#endif
}

// The kernel table the library is expected to pick for STABLEMATH_ISA (or "" when unset).
inline std::string expected_isa(const char* want) {
    const bool v4 = cpu_has_v4(), v3 = cpu_has_v3();
    const std::string w = want ? want : "";
    if (w == "baseline") return "baseline";
    if (w == "avx2") return v3 ? "avx2" : "baseline";
    if (v4 && (w.empty() || w == "avx512")) return "avx512";
    if (v3) return "avx2";
    return "baseline";
}

// Exit code ctest treats as "skipped" (SKIP_RETURN_CODE in tests/cpp/CMakeLists.txt).
inline constexpr int kSkipCode = 77;

// Requested ISA unavailable on this CPU: the test would only repeat the fallback table's run.
inline bool requested_isa_unavailable() {
    const char* want = std::getenv("STABLEMATH_ISA");
    if (!want) return false;
    const std::string w = want;
    if (w == "avx512") return !cpu_has_v4();
    if (w == "avx2") return !cpu_has_v3();
    return false;
}

// The references are computed in long double; they are good enough for T only when long double
// carries at least 11 more bits (x87 extended or quad, not MSVC's or Apple arm64's double).
template <class T>
bool wide_reference() {
    const bool ok = std::numeric_limits<long double>::digits >= std::numeric_limits<T>::digits + 11;
    if (!ok) std::printf("note: long double is not wider than this type: its checks are skipped\n");
    return ok;
}

using Rng = std::mt19937_64;

template <class T, class Dist>
std::vector<T> random_row(Rng& rng, std::size_t n, Dist dist) {
    std::vector<T> v(n);
    for (auto& e : v) e = static_cast<T>(dist(rng));
    return v;
}

template <class T>
std::vector<T> normal_row(Rng& rng, std::size_t n, double mean, double sd) {
    return random_row<T>(rng, n, std::normal_distribution<double>(mean, sd));
}

template <class T>
std::vector<T> uniform_row(Rng& rng, std::size_t n, double lo, double hi) {
    return random_row<T>(rng, n, std::uniform_real_distribution<double>(lo, hi));
}

}  // namespace sm_test
