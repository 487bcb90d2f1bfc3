// detail::exp<float> / detail::exp<double> against long double expl.
//
// Every ISA the library compiles its kernels for is checked: the same force-inlined exp is
// instantiated here under the baseline flags and under target("arch=x86-64-v3") / ("arch=x86-64-v4")
// (FMA contraction changes the rounding), in loops that gcc vectorises like the row kernels.
// Bounds: <= 2 ulp for normal results; <= 2 units of denorm_min for subnormal results; exact
// special values (exp(+-0) = 1, exp(-inf) = +0, exp(+inf) = +inf, NaN -> NaN).
// Also checked: pow2_nonpositive (exact 2^d or +0) and the (mantissa, exponent) form extexp.
#include <stablemath/detail/exp_poly.hpp>

#include <cstdio>
#include <functional>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sd = stablemath::detail;
using sm_test::ulp_error;

// ---- the exp loops, one per ISA ------------------------------------------------------------------
template <class T>
void exp_loop_baseline(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sd::exp(x[i]);
}

#if (defined(__x86_64__) || defined(_M_X64)) && (defined(__GNUC__) || defined(__clang__))
#define SM_TEST_X86 1
template <class T>
__attribute__((target("arch=x86-64-v3"))) void exp_loop_v3(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sd::exp(x[i]);
}
template <class T>
__attribute__((target("arch=x86-64-v4"))) void exp_loop_v4(const T* x, T* y, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) y[i] = sd::exp(x[i]);
}
#else
#define SM_TEST_X86 0
#endif

template <class T>
struct Variant {
    const char* name;
    void (*fn)(const T*, T*, std::size_t);
    long double max_ulp_normal = 0, max_ulp_sub = 0;
    T worst_x_normal = 0, worst_x_sub = 0;
    long checked = 0;
};

template <class T>
std::vector<Variant<T>> variants() {
    std::vector<Variant<T>> v;
    v.push_back({"baseline", &exp_loop_baseline<T>});
#if SM_TEST_X86
    static bool noted = false;
    if (sm_test::cpu_has_v3()) v.push_back({"x86-64-v3", &exp_loop_v3<T>});
    else if (!noted) std::printf("note: CPU lacks x86-64-v3, its exp variant is not run\n");
    if (sm_test::cpu_has_v4()) v.push_back({"x86-64-v4", &exp_loop_v4<T>});
    else if (!noted) std::printf("note: CPU lacks x86-64-v4 (AVX-512), its exp variant is not run\n");
    noted = true;
#endif
    return v;
}

// Checks a block of inputs on every variant.
template <class T>
void check_block(std::vector<Variant<T>>& vars, const std::vector<T>& x) {
    const std::size_t n = x.size();
    std::vector<long double> ref(n);
    for (std::size_t i = 0; i < n; ++i) ref[i] = std::exp(static_cast<long double>(x[i]));
    std::vector<T> y(n);
    const long double min_normal = std::numeric_limits<T>::min();
    for (auto& v : vars) {
        v.fn(x.data(), y.data(), n);
        for (std::size_t i = 0; i < n; ++i) {
            const long double e = ulp_error<T>(y[i], ref[i]);
            ++v.checked;
            if (ref[i] >= min_normal || std::isinf(ref[i]) || std::isnan(ref[i])) {
                if (e > v.max_ulp_normal) { v.max_ulp_normal = e; v.worst_x_normal = x[i]; }
                CHECK_MSG(e <= 2.0L, "%s exp<%s>(%.9g [%a]) = %.9g, expl = %.12Lg: %.3Lg ulp", v.name,
                          sizeof(T) == 4 ? "float" : "double", (double)x[i], (double)x[i], (double)y[i], ref[i], e);
            } else {
                // Subnormal or zero result: ulp_of gives denorm_min, so e is in units of denorm_min.
                if (e > v.max_ulp_sub) { v.max_ulp_sub = e; v.worst_x_sub = x[i]; }
                CHECK_MSG(e <= 2.0L, "%s exp<%s>(%.9g [%a]) = %.9g, expl = %.12Lg: %.3Lg denorm_min", v.name,
                          sizeof(T) == 4 ? "float" : "double", (double)x[i], (double)x[i], (double)y[i], ref[i], e);
                CHECK_MSG(!(y[i] < 0), "%s exp(%.9g) negative", v.name, (double)x[i]);
            }
        }
    }
}

// Feeds the inputs produced by gen(push) in blocks of 64K.
template <class T, class Gen>
void run_inputs(std::vector<Variant<T>>& vars, Gen&& gen) {
    std::vector<T> block;
    block.reserve(1 << 16);
    auto push = [&](T v) {
        block.push_back(v);
        if (block.size() == (1u << 16)) { check_block(vars, block); block.clear(); }
    };
    gen(push);
    if (!block.empty()) check_block(vars, block);
}

template <class T>
T nudge(T v, long k) {  // k representable steps from v
    const T dir = k >= 0 ? std::numeric_limits<T>::infinity() : -std::numeric_limits<T>::infinity();
    for (long i = 0; i < (k >= 0 ? k : -k); ++i) v = std::nextafter(v, dir);
    return v;
}

// Consecutive values of T around c, `half` steps either side.
template <class T, class Push>
void window(Push& push, T c, long half) {
    T v = nudge(c, -half);
    for (long i = 0; i <= 2 * half; ++i) { push(v); v = std::nextafter(v, std::numeric_limits<T>::infinity()); }
}

// Values spaced `step` apart on [c - span, c + span].
template <class T, class Push>
void spaced(Push& push, long double c, long double span, long double step) {
    for (long double v = c - span; v <= c + span; v += step) push(static_cast<T>(v));
}

void test_float() {
    sm_test::Section sec("exp<float>");
    auto vars = variants<float>();
    const long double ln2 = 0.693147180559945309417232121458176568L;
    run_inputs<float>(vars, [&](auto& push) {
        // Every 1021st bit pattern of both signs: all binades, subnormal inputs, the clamps and
        // beyond (|x| up to FLT_MAX) ...
        for (std::uint32_t u = 0; u < 0x7f800000u; u += 1021) {
            push(sd::bit_cast<float>(u));
            push(sd::bit_cast<float>(u | 0x80000000u));
        }
        // ... and every 61st in [2^-12, 104], where exp is neither 1 nor 0/inf.
        for (std::uint32_t u = sd::bit_cast<std::uint32_t>(0x1p-12f); u <= sd::bit_cast<std::uint32_t>(104.0f); u += 61) {
            push(sd::bit_cast<float>(u));
            push(sd::bit_cast<float>(u | 0x80000000u));
        }
        // A fine uniform grid over the interesting range [-110, 95].
        spaced<float>(push, -7.5L, 102.5L, 1.0L / 4096);
        // Every float around the boundaries:
        window<float>(push, static_cast<float>(128 * ln2), 1 << 16);    // overflow to inf (88.72)
        window<float>(push, static_cast<float>(-126 * ln2), 1 << 16);   // normal -> subnormal (-87.34)
        window<float>(push, static_cast<float>(-149 * ln2), 1 << 16);   // result denorm_min (-103.28)
        window<float>(push, static_cast<float>(-150 * ln2), 1 << 16);   // underflow to 0 (-103.97)
        window<float>(push, -104.0f, 4096);                              // clamp points
        window<float>(push, 89.0f, 4096);
        window<float>(push, 0.0f, 1 << 16);                              // tiny arguments, incl. subnormals
        window<float>(push, 1.0f, 1 << 14);
        window<float>(push, -1.0f, 1 << 14);
        for (int k = -150; k <= 128; ++k) window<float>(push, static_cast<float>(k * ln2), 64);  // reduction ties
        window<float>(push, static_cast<float>(0.5L * ln2), 1 << 12);   // |r| = ln2/2
        window<float>(push, static_cast<float>(-0.5L * ln2), 1 << 12);
        // Subnormal inputs, all of them with a stride.
        for (std::uint32_t u = 1; u < 0x00800000u; u += 7) { push(sd::bit_cast<float>(u)); push(-sd::bit_cast<float>(u)); }
    });
    for (const auto& v : vars) {
        std::printf("exp<float>  %-10s %ld inputs: max %.3Lf ulp (normal results, at x=%a), %.3Lf denorm_min (subnormal, at x=%a)\n",
                    v.name, v.checked, v.max_ulp_normal, (double)v.worst_x_normal, v.max_ulp_sub, (double)v.worst_x_sub);
    }
}

void test_double() {
    sm_test::Section sec("exp<double>");
    auto vars = variants<double>();
    const long double ln2 = 0.693147180559945309417232121458176568L;
    run_inputs<double>(vars, [&](auto& push) {
        // Bit-pattern sweep: 2^20 patterns per sign, equally spaced over all finite doubles.
        const std::uint64_t stride = 0x7ff0000000000000ull >> 20;
        for (std::uint64_t u = 0; u < 0x7ff0000000000000ull; u += stride - 13) {
            push(sd::bit_cast<double>(u));
            push(sd::bit_cast<double>(u | 0x8000000000000000ull));
        }
        // Bit-pattern sweep of [2^-8, 1024) in magnitude, where the results are finite and not trivial.
        const std::uint64_t lo = sd::bit_cast<std::uint64_t>(0x1p-8), hi = sd::bit_cast<std::uint64_t>(1024.0);
        for (std::uint64_t u = lo; u < hi; u += (hi - lo) / (1 << 21) + 1) {
            push(sd::bit_cast<double>(u));
            push(-sd::bit_cast<double>(u));
        }
        // Random points on [-750, 715].
        sm_test::Rng rng(12345);
        std::uniform_real_distribution<double> uni(-750.0, 715.0);
        for (int i = 0; i < (1 << 21); ++i) push(uni(rng));
        // Consecutive doubles and fine grids around the boundaries.
        const long double pts[] = {1024 * ln2, -1022 * ln2, -1074 * ln2, -1075 * ln2, 709.782712893384L, -745.1332191019411L};
        for (long double c : pts) {
            window<double>(push, static_cast<double>(c), 1 << 14);
            spaced<double>(push, c, 1e-3L, 1e-3L / 8192);
        }
        window<double>(push, -746.0, 4096);
        window<double>(push, 710.0, 4096);
        window<double>(push, 0.0, 1 << 15);
        for (int k = -1075; k <= 1024; k += 1) window<double>(push, static_cast<double>(k * ln2), 8);
        window<double>(push, static_cast<double>(0.5L * ln2), 1 << 12);
        window<double>(push, static_cast<double>(-0.5L * ln2), 1 << 12);
        for (std::uint64_t u = 1; u < (std::uint64_t(1) << 52); u += (std::uint64_t(1) << 52) / 4099) {
            push(sd::bit_cast<double>(u));
            push(-sd::bit_cast<double>(u));
        }
    });
    for (const auto& v : vars) {
        std::printf("exp<double> %-10s %ld inputs: max %.3Lf ulp (normal results, at x=%a), %.3Lf denorm_min (subnormal, at x=%a)\n",
                    v.name, v.checked, v.max_ulp_normal, v.worst_x_normal, v.max_ulp_sub, v.worst_x_sub);
    }
}

template <class T>
void test_special() {
    sm_test::Section sec(sizeof(T) == 4 ? "special<float>" : "special<double>");
    auto vars = variants<T>();
    using L = std::numeric_limits<T>;
    const std::vector<T> x = {T(0), -T(0), L::infinity(), -L::infinity(), L::quiet_NaN(), -L::quiet_NaN(),
                              L::signaling_NaN(), L::max(), L::lowest(), L::denorm_min(), -L::denorm_min(),
                              L::min(), -L::min(), L::epsilon(), -L::epsilon()};
    std::vector<T> y(x.size());
    for (auto& v : vars) {
        v.fn(x.data(), y.data(), x.size());
        CHECK_EQ_BITS(y[0], T(1));
        CHECK_EQ_BITS(y[1], T(1));
        CHECK_MSG(std::isinf(y[2]) && y[2] > 0, "%s exp(+inf) = %g", v.name, (double)y[2]);
        CHECK_MSG(sm_test::same_bits(y[3], T(0)), "%s exp(-inf) = %g (want +0)", v.name, (double)y[3]);
        CHECK_MSG(std::isnan(y[4]) && std::isnan(y[5]) && std::isnan(y[6]), "%s exp(NaN) = %g %g %g", v.name,
                  (double)y[4], (double)y[5], (double)y[6]);
        CHECK_MSG(std::isinf(y[7]) && y[7] > 0, "%s exp(max) = %g", v.name, (double)y[7]);
        CHECK_MSG(sm_test::same_bits(y[8], T(0)), "%s exp(lowest) = %g (want +0)", v.name, (double)y[8]);
        for (std::size_t i = 9; i < 13; ++i) CHECK_MSG(y[i] == T(1), "%s exp(%g) = %.17g", v.name, (double)x[i], (double)y[i]);
        CHECK_MSG(y[13] == T(1) + L::epsilon() || y[13] == T(1), "%s exp(eps) = %.17g", v.name, (double)y[13]);
        CHECK_MSG(y[14] == T(1) - L::epsilon() || y[14] == T(1) - L::epsilon() / 2 || y[14] == T(1),
                  "%s exp(-eps) = %.17g", v.name, (double)y[14]);
    }
}

// pow2_nonpositive(d): exactly 2^d for integer d in (pow2_floor, 0], +0 at and below pow2_floor.
template <class T>
void test_pow2() {
    sm_test::Section sec(sizeof(T) == 4 ? "pow2<float>" : "pow2<double>");
    const int floor_ = static_cast<int>(sd::exp_traits<T>::pow2_floor);
    for (int d = 0; d >= floor_ - 5; --d) {
        const T got = sd::pow2_nonpositive<T>(static_cast<T>(d));
        const T want = d > floor_ ? std::ldexp(T(1), d) : T(0);
        CHECK_MSG(sm_test::same_bits(got, want), "pow2_nonpositive(%d) = %a, want %a", d, (double)got, (double)want);
    }
    const T far[] = {-std::numeric_limits<T>::max() / 2, -std::numeric_limits<T>::max(), T(-1e30), -std::numeric_limits<T>::infinity()};
    for (T d : far) CHECK_MSG(sm_test::same_bits(sd::pow2_nonpositive<T>(d), T(0)), "pow2_nonpositive(%g) != +0", (double)d);
    // pow2_int(k) over the normal range.
    for (int k = std::numeric_limits<T>::min_exponent - 1; k < std::numeric_limits<T>::max_exponent; ++k)
        CHECK_MSG(sd::pow2_int<T>(k) == std::ldexp(T(1), k), "pow2_int(%d)", k);
}

// extexp(x, nf): e^x = p * 2^nf with p in [~0.7, ~1.42] and nf an integer, for |x| <= ext_limit.
// The reduction r = x - nf*ln2 loses |nf| * (|ln2_lo| * eps/2 + |ln2_hi + ln2_lo - ln2|) at large
// |x| (rounding of nf*ln2_lo, and the two-constant approximation of ln2); the bound is 3 eps
// (polynomial + final rounding) plus 1.5 times that loss, as a relative error of e^x.
template <class T>
void test_extexp() {
    sm_test::Section sec(sizeof(T) == 4 ? "extexp<float>" : "extexp<double>");
    using E = sd::exp_traits<T>;
    // ln2 = ln2_a + ln2_b to ~90 bits: ln2_a has 32 significant bits, so nf * ln2_a is exact in
    // long double and x - nf * ln2_a is exact too (the reference is good to ~1e-24 absolute).
    const long double ln2_a = 0x1.62e42feep-1L;
    const long double ln2_b = 1.90821492927058781614426568076e-10L;
    const long double ln2 = ln2_a + ln2_b;
    const long double eps = std::numeric_limits<T>::epsilon();
    const long double delta = std::fabs((static_cast<long double>(E::ln2_hi) - ln2_a) + static_cast<long double>(E::ln2_lo) - ln2_b);
    const long double lim = E::ext_limit;
    long double worst = 0;
    sm_test::Rng rng(99);
    std::uniform_real_distribution<double> uni(-static_cast<double>(lim), static_cast<double>(lim));
    std::vector<T> xs;
    for (int i = 0; i < 400000; ++i) xs.push_back(static_cast<T>(uni(rng)));
    for (long double v = -lim; v <= lim; v += lim / 2048) xs.push_back(static_cast<T>(v));
    for (int k = -20; k <= 20; ++k) xs.push_back(static_cast<T>(k * ln2));
    for (T v : {T(0), -T(0), T(1e-30), T(-1e-30), T(0.5), T(-0.5), static_cast<T>(lim), static_cast<T>(-lim)}) xs.push_back(v);
    for (T x : xs) {
        T nf;
        const T p = sd::extexp(x, nf);
        CHECK_MSG(nf == std::nearbyint(nf), "extexp(%g): nf = %g not integral", (double)x, (double)nf);
        CHECK_MSG(p >= T(0.70) && p <= T(1.42), "extexp(%g): p = %g out of range", (double)x, (double)p);
        const long double r_ref = (static_cast<long double>(x) - nf * ln2_a) - nf * ln2_b;
        const long double rel = std::fabs(std::expm1(std::log(static_cast<long double>(p)) - r_ref));
        const long double in_eps = rel / eps;
        const long double bound = 3 + 1.5L * std::fabs(nf) * (std::fabs(static_cast<long double>(E::ln2_lo)) / 2 + delta / eps);
        if (in_eps > worst) worst = in_eps;
        CHECK_MSG(in_eps <= bound, "extexp(%.9g): p=%.9g nf=%g rel err %.3Lg (%.3Lf eps, bound %.3Lf)", (double)x,
                  (double)p, (double)nf, rel, in_eps, bound);
    }
    // Values beyond +-ext_limit are clamped.
    T nf1, nf2;
    const T p1 = sd::extexp(static_cast<T>(-4 * lim), nf1), p2 = sd::extexp(static_cast<T>(-lim), nf2);
    CHECK(p1 == p2 && nf1 == nf2);
    const T p3 = sd::extexp(-std::numeric_limits<T>::infinity(), nf1);
    CHECK(p3 == p2 && nf1 == nf2);
    std::printf("extexp<%s>: max relative error %.3Lf eps over |x| <= %g\n", sizeof(T) == 4 ? "float" : "double", worst, (double)lim);
}

int main() {
    test_special<float>();
    test_special<double>();
    test_pow2<float>();
    test_pow2<double>();
    test_extexp<float>();
    test_float();
    if (sm_test::wide_reference<double>()) {
        test_extexp<double>();
        test_double();
    }
    return sm_test::finish("test_exp");
}
