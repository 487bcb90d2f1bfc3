// Fuzz target for the scalar C++ kernels (libFuzzer entry point; without clang, linked with
// fuzz_driver_main.cpp instead, see run_cpp_fuzz.sh).
//
// The first byte picks what the rest decodes into:
//   * log-Bessel (v, x), double and float: log I, log K, their scaled forms, both ratios and both
//     log-derivatives (stablemath/bessel.hpp);
//   * a row of up to 16 doubles or floats: logsumexp (plain and with non-negative weights),
//     softmax and log_softmax in every algorithm (stablemath/logsumexp.hpp, softmax.hpp).
// Values are special ones (0, -0, subnormals, 25 (the uniform-expansion border), 1e300, 2^1000,
// the maximum, +-inf, NaN, ...), raw bit patterns, log-uniform magnitudes or quarter integers
// (negative integer and half-integer orders).
//
// Properties (any violation prints the input and calls abort()):
//   Bessel: NaN exactly where documented (NaN in, x < 0, |v| = x = inf, I of a negative non-integer
//   order); finite logs for |v| <= 1e300 and normal x (the values are representable there); finite
//   K ratio where (|v| + 1)/x < 1e300; I ratio in [0, 1] and K ratio >= 1 for v >= 0 (>= -1/2 for K);
//   log Ie <= 0 for v >= 0; the derivatives equal ratio + v/x; the Wronskian in log form,
//   log Ie + log Ke + log(K ratio + I ratio) + log x = 0, to 1e-12 of its terms' size where they
//   are finite; the float functions within 2^-22 of the double ones at the same (float) arguments.
//   Rows: logsumexp is NaN / +inf / -inf (sign 0) as documented, else max <= lse <= max + log n;
//   with weights b >= 0, max(x + log b) <= lse <= that + log n (to the documented error bound, where
//   the largest term b e^(x - max) is not near the subnormal range); softmax rows of
//   finite mass sum to 1 within 1e-12 (double; 1e-5 float), every entry in [0, 1], 0 at -inf; NaN rows
//   where documented (and 0 with safe=true); log_softmax <= 0 and equal to x - lse to a few ulps;
//   every algorithm agrees with the default one.
#include <stablemath/bessel.hpp>
#include <stablemath/logsumexp.hpp>
#include <stablemath/softmax.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace sm = stablemath;

namespace {

class Input {
public:
    Input(const uint8_t* p, size_t n) : p_(p), n_(n) {}
    uint8_t byte() { return i_ < n_ ? p_[i_++] : 0; }
    uint64_t bits(int nbytes) {
        uint64_t b = 0;
        for (int k = 0; k < nbytes; ++k) b |= static_cast<uint64_t>(byte()) << (8 * k);
        return b;
    }
    // One value: special, raw bits, log-uniform magnitude or a quarter integer.
    template <class T>
    T value(const double* specials, int nspecials) {
        const uint8_t sel = byte();
        const bool neg = sel & 0x80;
        double a;
        switch (sel & 3) {
            case 0:
                a = specials[byte() % nspecials];
                break;
            case 1:
                if (sizeof(T) == 8) {
                    const uint64_t b = bits(8);
                    std::memcpy(&a, &b, 8);
                } else {
                    const uint32_t b = static_cast<uint32_t>(bits(4));
                    float f;
                    std::memcpy(&f, &b, 4);
                    a = f;
                }
                return static_cast<T>(a);  // the sign is in the bits
            case 2: {  // 10^e, e in [-324, 309) with 2^16 steps
                const double e = -324.0 + 633.0 * static_cast<double>(bits(2)) / 65536.0;
                a = std::pow(10.0, e);
                break;
            }
            default:
                a = static_cast<double>(byte()) / 4.0;
        }
        return static_cast<T>(neg ? -a : a);
    }

private:
    const uint8_t* p_;
    size_t n_, i_ = 0;
};

char g_row[2048] = "";  // the row being checked (x; b), for the report

template <class T>
void describe_row(const T* x, const T* b, size_t n) {
    int k = std::snprintf(g_row, sizeof g_row, "row (%s, n=%zu): x =", sizeof(T) == 8 ? "double" : "float", n);
    for (size_t i = 0; i < n && k < 1900; ++i) k += std::snprintf(g_row + k, sizeof g_row - k, " %a", double(x[i]));
    k += std::snprintf(g_row + k, sizeof g_row - k, "; b =");
    for (size_t i = 0; i < n && k < 2000; ++i) k += std::snprintf(g_row + k, sizeof g_row - k, " %a", double(b[i]));
}

[[noreturn]] void fail(const char* what, const char* detail) {
    std::fprintf(stderr, "fuzz_scalar: property violated: %s\n  %s\n  %s\n", what, detail, g_row);
    std::fflush(stderr);
    std::abort();
}

#define REQUIRE(cond, ...)                                            \
    do {                                                              \
        if (!(cond)) {                                                \
            char buf_[1024];                                          \
            std::snprintf(buf_, sizeof buf_, __VA_ARGS__);            \
            fail(#cond, buf_);                                        \
        }                                                             \
    } while (0)

const double kMax = std::numeric_limits<double>::max();
const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

const double kBesselSpecials[] = {
    0.0, 5e-324, 2.2250738585072014e-308, 1e-300, 1e-38, 1e-30, 1e-5, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 10.0,
    24.99, 25.0, 25.01, 30.0, 100.0, 500.0, 1e3, 1e4, 1e5, 1e6, 1e10, 1e150, 1.01e150, 1e300, 1.0715086071862673e301,
    1e305, 1e307, 9e307, 1.3e308, kMax, 3.4028234663852886e38, 1.1754943508222875e-38, kInf, kNan};
constexpr int kNumBesselSpecials = sizeof(kBesselSpecials) / sizeof(kBesselSpecials[0]);

const double kRowSpecials[] = {0.0, 1.0, 0.5, 40.0, 88.7, 87.3, 709.0, 745.0, 1e30, 1e300, kMax, 3.4028234663852886e38,
                               2.2250738585072014e-308, 5e-324, 1.1754943508222875e-38, kInf, kNan, 8192.5, 3e5};
constexpr int kNumRowSpecials = sizeof(kRowSpecials) / sizeof(kRowSpecials[0]);

struct BesselValues {
    double li, lk, lie, lke, ir, kr, di, dk;
};

template <class T>
BesselValues bessel_all(T v, T x) {
    return {double(sm::log_bessel_i(v, x)),  double(sm::log_bessel_k(v, x)),  double(sm::log_bessel_ie(v, x)),
            double(sm::log_bessel_ke(v, x)), double(sm::bessel_i_ratio(v, x)), double(sm::bessel_k_ratio(v, x)),
            double(sm::log_bessel_i_deriv(v, x)), double(sm::log_bessel_k_deriv(v, x))};
}

// The float result against the double one at the same arguments: within 2^-22 relative
// (logs: of max(1, |log|)), infinities matching up to the float range's edge.
bool float_close(double f, double d, bool is_log) {
    if (std::isnan(d) || std::isnan(f)) return std::isnan(d) && std::isnan(f);
    const double fmax = std::numeric_limits<float>::max();
    if (std::isinf(f) || std::isinf(d) || std::fabs(d) > fmax)
        return (f > 0) == (d > 0) && std::fabs(f) >= fmax * (1 - 1e-6) && std::fabs(d) >= fmax * (1 - 1e-6);
    const double scale = is_log ? std::fmax(1.0, std::fabs(d)) : std::fabs(d);
    return std::fabs(f - d) <= 0x1p-22 * scale + 1e-37;  // (+ float's smallest normal: ratios that underflow)
}

void check_bessel(double v, double x) {
    const BesselValues r = bessel_all<double>(v, x);
    const double all[] = {r.li, r.lk, r.lie, r.lke, r.ir, r.kr, r.di, r.dk};
    const char* names[] = {"log_i", "log_k", "log_ie", "log_ke", "i_ratio", "k_ratio", "i_deriv", "k_deriv"};
    const bool nan_in = std::isnan(v) || std::isnan(x) || x < 0 || (std::isinf(v) && std::isinf(x));
    const bool i_nan = std::isfinite(v) && v < 0 && std::floor(v) != v;  // I of a negative non-integer order
    for (int k = 0; k < 8; ++k) {
        const bool is_i = k == 0 || k == 2 || k == 4 || k == 6;
        const bool want_nan = nan_in || (is_i && i_nan);
        REQUIRE(std::isnan(all[k]) == want_nan, "%s(v=%a, x=%a) = %a (NaN expected: %d)", names[k], v, x, all[k],
                int(want_nan));
    }
    if (nan_in || !std::isfinite(v) || !std::isfinite(x)) return;
    const double av = std::fabs(v), dmin = std::numeric_limits<double>::min();
    if (av <= 1e300 && x >= dmin) {  // every log is representable here
        for (int k = 0; k < 4; ++k)
            REQUIRE(std::isfinite(all[k]) || (i_nan && (k == 0 || k == 2)), "%s(v=%a, x=%a) = %a, finite expected",
                    names[k], v, x, all[k]);
    }
    if (x >= dmin && av + 1 < 1e300 * x)
        REQUIRE(std::isfinite(r.kr) && std::isfinite(r.dk), "K ratio / d log K (v=%a, x=%a) = %a, %a not finite", v, x,
                r.kr, r.dk);
    if (v >= 0) {
        REQUIRE(r.ir >= 0 && r.ir <= 1, "I ratio(v=%a, x=%a) = %a outside [0, 1]", v, x, r.ir);
        REQUIRE(r.lie <= 1e-15, "log Ie(v=%a, x=%a) = %a > 0", v, x, r.lie);
    }
    // (1 at v = -1/2, where Temme's series is within the documented 11 ulp)
    if (v >= -0.5) REQUIRE(r.kr >= 1 - 4e-15, "K ratio(v=%a, x=%a) = %a < 1", v, x, r.kr);
    else REQUIRE(r.kr >= 0 && r.kr <= 1 + 4e-15, "K ratio(v=%a, x=%a) = %a outside [0, 1]", v, x, r.kr);
    if (x > 0) {
        // d/dx log I = I ratio + |v|/x and d/dx log K = -K ratio + |v|/x (orders as the functions take them)
        const double q = av / x;
        if (!i_nan && std::isfinite(r.di) && std::isfinite(q) && v >= 0)
            REQUIRE(std::fabs(r.di - (r.ir + q)) <= 1e-13 * (r.ir + q) + 1e-300, "d log I(v=%a, x=%a) = %a, I ratio + v/x = %a",
                    v, x, r.di, r.ir + q);
        if (std::isfinite(r.dk) && std::isfinite(q) && v >= 0 && std::isfinite(r.kr))
            REQUIRE(std::fabs(r.dk - (q - r.kr)) <= 1e-13 * (r.kr + q) + 1e-300, "d log K(v=%a, x=%a) = %a, v/x - K ratio = %a",
                    v, x, r.dk, q - r.kr);
    }
    // Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x divided by I_v K_v, in logs (v >= 0, normal x).
    if (v >= 0 && x >= dmin && std::isfinite(r.lie) && std::isfinite(r.lke) && std::isfinite(r.kr) && r.kr + r.ir < kMax) {
        const double lr = std::log(r.kr + r.ir), lx = std::log(x);
        const double w = r.lie + r.lke + lr + lx;
        const double scale = std::fabs(r.lie) + std::fabs(r.lke) + std::fabs(lr) + std::fabs(lx) + 1;
        REQUIRE(std::fabs(w) <= 1e-12 * scale, "Wronskian at v=%a, x=%a: %a (log Ie %a, log Ke %a, ratios %a %a)", v, x, w,
                r.lie, r.lke, r.ir, r.kr);
    }
}

void check_bessel_float(float v, float x) {
    const BesselValues f = bessel_all<float>(v, x);
    const BesselValues d = bessel_all<double>(static_cast<double>(v), static_cast<double>(x));
    const double fa[] = {f.li, f.lk, f.lie, f.lke, f.ir, f.kr, f.di, f.dk};
    const double da[] = {d.li, d.lk, d.lie, d.lke, d.ir, d.kr, d.di, d.dk};
    for (int k = 0; k < 8; ++k)
        REQUIRE(float_close(fa[k], da[k], k < 4), "float function %d at v=%a, x=%a: %a, double %a", k, double(v),
                double(x), fa[k], da[k]);
}

template <class T>
void check_row(Input& in) {
    const size_t n = in.byte() % 17;
    T x[16], b[16], y[16], y0[16], ly[16];
    for (size_t i = 0; i < n; ++i) {
        x[i] = in.value<T>(kRowSpecials, kNumRowSpecials);
        if (i > 0 && (in.byte() & 7) == 0) x[i] = x[i - 1];  // ties at the maximum
        const T w = std::fabs(in.value<T>(kRowSpecials, kNumRowSpecials));
        b[i] = std::isfinite(w) ? w : T(0);
    }
    describe_row(x, b, n);
    const double eps = std::numeric_limits<T>::epsilon();
    bool has_nan = false, has_pinf = false;
    double m = -kInf;
    for (size_t i = 0; i < n; ++i) {
        has_nan |= std::isnan(x[i]);
        has_pinf |= x[i] == T(kInf);
        if (!std::isnan(x[i])) m = std::fmax(m, double(x[i]));
    }
    // logsumexp
    T sign = T(-7);
    const double lse = sm::logsumexp(x, n, &sign);
    if (has_nan) REQUIRE(std::isnan(lse), "logsumexp of a row with NaN (n=%zu) = %a", n, lse);
    else if (has_pinf) REQUIRE(lse == kInf, "logsumexp of a row with +inf (n=%zu) = %a", n, lse);
    else if (m == -kInf) REQUIRE(lse == -kInf && sign == 0, "logsumexp of an empty / all -inf row (n=%zu) = %a, sign %g", n,
                                 lse, double(sign));
    else {
        const double hi = m + std::log(double(n)) + 4 * eps * (std::fabs(m) + std::log(double(n)) + 1);
        REQUIRE(lse >= m && lse <= hi && sign == 1, "logsumexp (n=%zu, max %a) = %a, sign %g: outside [max, max + log n]",
                n, m, lse, double(sign));
    }
    // weighted, b >= 0 (b = 0 drops the entry, also inf / NaN ones)
    if (n > 0) {
        double mb = -kInf, mx = -kInf, bmax = 0, c = 0;
        bool wnan = false, winf = false;
        for (size_t i = 0; i < n; ++i) {
            if (b[i] == 0) continue;
            wnan |= std::isnan(x[i]);
            winf |= x[i] == T(kInf);
            if (!std::isnan(x[i])) {
                mb = std::fmax(mb, double(x[i]) + std::log(double(b[i])));
                mx = std::fmax(mx, double(x[i]));
                bmax = std::fmax(bmax, double(b[i]));
            }
        }
        for (size_t i = 0; i < n; ++i)
            if (b[i] != 0 && double(x[i]) == mx) c += double(b[i]);  // the weight at the largest x
        T ws = T(-7);
        const double lw = sm::logsumexp(x, b, n, &ws);
        if (wnan) REQUIRE(std::isnan(lw), "weighted logsumexp with NaN = %a", lw);
        else if (winf) REQUIRE(lw == kInf, "weighted logsumexp with +inf = %a", lw);
        else if (mb == -kInf) REQUIRE(lw == -kInf && ws == 0, "weighted logsumexp of no mass = %a, sign %g", lw, double(ws));
        else if (mb - m >= std::log(double(std::numeric_limits<T>::min())) + 40) {
            // (the largest term b e^(x - max) far from subnormal: below, b e^(x - max) loses digits)
            // The algorithm's bound: res = m + d, d = log c + log1p(rest / c) with m the largest x and
            // c its weight (rescaled by the largest weight's power of 2), so besides 4 eps |res| +
            // 2 eps |m| + (8 + 2n) eps |d| the two terms of d may cancel: + (8 + 2n) eps |log(c / bmax)|.
            const double tol = 4 * eps * (std::fabs(mb) + 3) + 2 * eps * std::fabs(mx) +
                               (8 + 2 * double(n)) * eps *
                                   (std::fabs(mb - mx) + std::log(double(n)) + std::fabs(std::log(c / bmax)) + 2);
            REQUIRE(lw >= mb - tol && lw <= mb + std::log(double(n)) + tol && ws == 1,
                    "weighted logsumexp (n=%zu) = %a, sign %g; max(x + log b) = %a", n, lw, double(ws), mb);
        }
    }
    // softmax / log_softmax, every algorithm
    const sm::SoftmaxAlgorithm algs[] = {sm::SoftmaxAlgorithm::automatic, sm::SoftmaxAlgorithm::three_pass,
                                         sm::SoftmaxAlgorithm::online, sm::SoftmaxAlgorithm::two_pass};
    for (int a = 0; a < 4; ++a) {
        const bool safe = in.byte() & 1;
        sm::softmax(x, y, n, {algs[a], safe});
        sm::log_softmax(x, ly, n, {algs[a], safe});
        if (a == 0) std::memcpy(y0, y, sizeof y);
        const bool no_mass = m == -kInf && !has_nan;
        double sum = 0;
        for (size_t i = 0; i < n; ++i) {
            if (has_nan || has_pinf || (no_mass && !safe)) {
                REQUIRE(std::isnan(y[i]) && std::isnan(ly[i]), "softmax alg %d: row without finite mass -> %a, %a", a,
                        double(y[i]), double(ly[i]));
                continue;
            }
            if (no_mass) {
                REQUIRE(y[i] == 0 && ly[i] == -kInf, "safe softmax alg %d of an all -inf row: %a, %a", a, double(y[i]),
                        double(ly[i]));
                continue;
            }
            REQUIRE(y[i] >= 0 && y[i] <= 1, "softmax alg %d: y[%zu] = %a", a, i, double(y[i]));
            REQUIRE(ly[i] <= 4 * eps, "log_softmax alg %d: y[%zu] = %a > 0", a, i, double(ly[i]));
            if (x[i] == T(-kInf)) REQUIRE(y[i] == 0 && ly[i] == -kInf, "softmax alg %d at -inf: %a, %a", a, double(y[i]),
                                          double(ly[i]));
            else {  // x - lse, or -inf where that is beyond T's range (x = -max, lse ~ max)
                const double ref = double(x[i]) - lse;
                const bool ok = std::fabs(double(ly[i]) - ref) <= 8 * eps * (std::fabs(double(x[i])) + std::fabs(lse) + 1) ||
                                (ly[i] == T(-kInf) && ref < -double(std::numeric_limits<T>::max()));
                REQUIRE(ok, "log_softmax alg %d: y[%zu] = %a, x - lse = %a", a, i, double(ly[i]), ref);
            }
            REQUIRE(std::fabs(double(y[i]) - double(y0[i])) <= 16 * eps, "softmax alg %d vs default: y[%zu] = %a vs %a", a, i,
                    double(y[i]), double(y0[i]));
            sum += y[i];
        }
        if (!(has_nan || has_pinf || no_mass) && n > 0) {
            const double tol = sizeof(T) == 8 ? 1e-12 : 1e-5;
            REQUIRE(std::fabs(sum - 1) <= tol, "softmax alg %d (n=%zu) sums to 1 %+a", a, n, sum - 1);
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    Input in(data, size);
    g_row[0] = '\0';
    switch (in.byte() % 4) {
        case 0:
        case 1: {
            const double v = in.value<double>(kBesselSpecials, kNumBesselSpecials);
            const double x = in.value<double>(kBesselSpecials, kNumBesselSpecials);
            check_bessel(v, x);
            check_bessel_float(static_cast<float>(v), static_cast<float>(x));
            break;
        }
        case 2:
            check_row<double>(in);
            break;
        default:
            check_row<float>(in);
    }
    return 0;
}
