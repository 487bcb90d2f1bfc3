// softmax / log_softmax (every SoftmaxAlgorithm) and logsumexp of contiguous rows, against a
// long double reference, through the public API (stablemath/softmax.hpp, logsumexp.hpp).
//
// The kernel table is chosen once per process from STABLEMATH_ISA=baseline|avx2|avx512; ctest runs
// this program once per value (tests/cpp/CMakeLists.txt). The program checks that the requested
// table is the one in use, and exits with 77 (ctest: skipped) when the CPU cannot run it.
//
// Tolerances are worst-case bounds in units of eps (see sum_err_eps and the checks below): the
// exp error (<= 2 ulp), the rounding of x - max (condition |x - max|), the summation tree of each
// algorithm (lanes of 128 bytes, 2048-element chunks, 65536-element parts) and, for the two-pass
// algorithm, the reduction error of the (mantissa, exponent) form at large |x|.
#include <stablemath/softmax.hpp>
#include <stablemath/logsumexp.hpp>

#include <algorithm>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sm = stablemath;
namespace cpu = stablemath::cpu;
using Algo = sm::SoftmaxAlgorithm;

template <class T> const char* tname() { return sizeof(T) == 4 ? "float" : "double"; }

const Algo kAlgos[] = {Algo::automatic, Algo::three_pass, Algo::online, Algo::two_pass};
using sm_test::algo_name;

// The algorithm the library runs for `a` (automatic resolves per ISA).
template <class T>
Algo resolved(Algo a) { return cpu::resolve(a, 0, cpu::kernels<T>().isa); }

// Worst-case relative error of the row sum, in eps, for each algorithm's summation tree.
template <class T>
long double sum_err_eps(std::size_t n, Algo a) {
    const std::size_t L = 128 / sizeof(T);
    const std::size_t part = std::min<std::size_t>(n, cpu::kPart);
    const std::size_t parts = cpu::num_parts(n);
    const std::size_t chunks = (part + cpu::kChunk - 1) / cpu::kChunk;
    const std::size_t per_lane = ((resolved<T>(a) == Algo::online ? std::min<std::size_t>(n, cpu::kChunk) : part) + L - 1) / L;
    // lane additions + lane combination + chunk merges (a rescale by exp and an add each)
    // + part merges + final reciprocal / log.
    return static_cast<long double>(per_lane + L + 3 * chunks + 3 * parts + 4);
}

// Extra relative error of the two-pass (mantissa, exponent) form for an element x next to the
// maximum m: the reduction x - n*ln2 loses |n| * (|ln2_lo| eps/2 + |ln2_hi + ln2_lo - ln2|).
template <class T>
long double twopass_eps(long double x, long double m) {
    using E = stablemath::detail::exp_traits<T>;
    const long double ln2_a = 0x1.62e42feep-1L, ln2_b = 1.90821492927058781614426568076e-10L;
    const long double eps = std::numeric_limits<T>::epsilon();
    const long double delta = std::fabs((static_cast<long double>(E::ln2_hi) - ln2_a) + static_cast<long double>(E::ln2_lo) - ln2_b);
    const long double per_n = std::fabs(static_cast<long double>(E::ln2_lo)) / 2 + delta / eps;
    const long double lim = E::ext_limit;
    return 1.5L * (std::min(std::fabs(x), lim) + std::fabs(m)) / (ln2_a + ln2_b) * per_n;
}

// ---- the long double reference -------------------------------------------------------------------
struct Ref {
    bool any_nan = false, any_pinf = false, no_mass = true;  // no_mass: empty or all -inf
    long double m = -INFINITY, s = 0, l = 0;                 // max, sum e^{x-m}, log s
    std::vector<long double> ex;                             // e^{x_i - m}
    long double lse() const {
        if (any_nan) return NAN;
        if (any_pinf) return INFINITY;
        if (no_mass) return -INFINITY;
        return m + l;
    }
};

template <class T>
Ref reference(const std::vector<T>& x) {
    Ref r;
    for (T v : x) {
        if (v != v) r.any_nan = true;
        else if (v == std::numeric_limits<T>::infinity()) r.any_pinf = true;
        else if (v != -std::numeric_limits<T>::infinity()) { r.no_mass = false; r.m = std::max<long double>(r.m, v); }
    }
    if (r.any_nan || r.any_pinf || r.no_mass) return r;
    r.ex.resize(x.size());
    for (std::size_t i = 0; i < x.size(); ++i) r.s += (r.ex[i] = std::exp(static_cast<long double>(x[i]) - r.m));
    r.l = std::log(r.s);
    return r;
}

// Worst observed error as a fraction of its tolerance (<= 1 passes), for the log.
struct Worst {
    long double softmax = 0, log_softmax = 0, lse = 0;
};
Worst& worst(int t, Algo a) {
    static Worst w[2][4];
    return w[t][static_cast<int>(a)];
}

template <class T>
bool is_nan_row(const std::vector<T>& y) {
    return std::all_of(y.begin(), y.end(), [](T v) { return v != v; });
}

// Checks y = softmax(x) or log_softmax(x) computed with `a` against the reference.
template <class T>
void check_output(const std::vector<T>& x, const std::vector<T>& y, const Ref& r, Algo a, bool log, bool safe,
                  const std::string& what) {
    using L = std::numeric_limits<T>;
    const std::size_t n = x.size();
    const long double eps = L::epsilon();
    if (n == 0) return;
    if (r.any_nan || r.any_pinf || r.no_mass) {
        const bool want_nan = r.any_nan || r.any_pinf || !safe;
        for (std::size_t i = 0; i < n; ++i) {
            const bool ok = want_nan ? (y[i] != y[i]) : (log ? y[i] == -L::infinity() : sm_test::same_bits(y[i], T(0)));
            CHECK_MSG(ok, "%s: nonfinite row (nan=%d +inf=%d no_mass=%d safe=%d) y[%zu] = %g", what.c_str(), r.any_nan,
                      r.any_pinf, r.no_mass, safe, i, (double)y[i]);
            if (!ok) return;
        }
        return;
    }
    const bool twopass = resolved<T>(a) == Algo::two_pass &&
                         std::fabs(r.m) <= stablemath::detail::exp_traits<T>::ext_limit / 2;
    const long double se = sum_err_eps<T>(n, a);
    Worst& w = worst(sizeof(T) == 4 ? 0 : 1, a);
    int bad = 0;
    for (std::size_t i = 0; i < n && bad < 3; ++i) {
        const long double xi = x[i];
        const long double tp = twopass ? twopass_eps<T>(xi, r.m) : 0;
        if (xi == -INFINITY) {
            const bool ok = log ? y[i] == -L::infinity() : sm_test::same_bits(y[i], T(0));
            CHECK_MSG(ok, "%s: x[%zu] = -inf gives %g", what.c_str(), i, (double)y[i]);
            bad += !ok;
            continue;
        }
        if (!log) {
            const long double ref = r.ex[i] / r.s;
            const long double rel_eps = 2 + 2 + 0.5L * std::fabs(xi - r.m) + tp + se;
            const long double tol = rel_eps * eps * ref + 3 * static_cast<long double>(L::denorm_min());
            const long double err = std::fabs(static_cast<long double>(y[i]) - ref);
            w.softmax = std::max(w.softmax, err / tol);
            const bool ok = err <= tol && y[i] >= 0;
            CHECK_MSG(ok, "%s: softmax[%zu] (x=%.9g, max=%.9Lg) = %.9g, ref %.12Lg: err %.3Lg eps, tol %.3Lg eps",
                      what.c_str(), i, (double)x[i], r.m, (double)y[i], ref, err / (eps * std::max(ref, (long double)L::min())), rel_eps);
            bad += !ok;
        } else {
            const long double ref = (xi - r.m) - r.l;
            const long double beyond = std::ldexp(1.0L, L::max_exponent);
            if (std::fabs(ref) >= beyond) {  // not representable: x - max overflows to -inf
                const bool ok = y[i] == -L::infinity();
                CHECK_MSG(ok, "%s: log_softmax[%zu] = %g, ref %.6Lg (below -max)", what.c_str(), i, (double)y[i], ref);
                bad += !ok;
                continue;
            }
            const long double abs_eps = 0.5L * std::fabs(xi - r.m) + 0.5L * std::fabs(ref) + 0.5L * std::fabs(r.l) + se + 3 + tp;
            const long double err = std::fabs(static_cast<long double>(y[i]) - ref);
            w.log_softmax = std::max(w.log_softmax, err / (abs_eps * eps));
            const bool ok = err <= abs_eps * eps;
            CHECK_MSG(ok, "%s: log_softmax[%zu] (x=%.9g, max=%.9Lg) = %.12g, ref %.15Lg: err %.3Lg eps, tol %.3Lg eps",
                      what.c_str(), i, (double)x[i], r.m, (double)y[i], ref, err / eps, abs_eps);
            bad += !ok;
        }
    }
}

template <class T>
void check_lse(const std::vector<T>& x, const Ref& r, const std::string& what) {
    using L = std::numeric_limits<T>;
    const long double eps = L::epsilon();
    T sign = 42;
    const T got = sm::logsumexp(x.data(), x.size(), &sign);
    const long double ref = r.lse();
    if (r.any_nan) {
        CHECK_MSG(got != got && sign != sign, "%s: logsumexp of a NaN row = %g, sign %g", what.c_str(), (double)got, (double)sign);
        return;
    }
    if (std::isinf(ref)) {
        CHECK_MSG(got == ref && sign == (ref > 0 ? 1 : 0), "%s: logsumexp = %g sign %g, want %Lg", what.c_str(), (double)got,
                  (double)sign, ref);
        return;
    }
    const long double tol_eps = 0.5L * std::fabs(ref) + sum_err_eps<T>(x.size(), Algo::online) + 3;
    const long double err = std::fabs(static_cast<long double>(got) - ref);
    worst(sizeof(T) == 4 ? 0 : 1, Algo::online).lse = std::max(worst(sizeof(T) == 4 ? 0 : 1, Algo::online).lse, err / (tol_eps * eps));
    CHECK_MSG(err <= tol_eps * eps && sign == 1, "%s: logsumexp = %.12g (sign %g), ref %.15Lg: err %.3Lg eps, tol %.3Lg eps",
              what.c_str(), (double)got, (double)sign, ref, err / eps, tol_eps);
}

// Runs every algorithm, softmax and log_softmax, safe or not, on x.
template <class T>
void check_all(const std::vector<T>& x, const std::string& what, bool also_safe = false) {
    const Ref r = reference(x);
    check_lse(x, r, what);
    std::vector<T> y(x.size()), y2(x.size());
    for (Algo a : kAlgos) {
        for (int lg = 0; lg < 2; ++lg) {
            for (int sf = 0; sf < (also_safe ? 2 : 1); ++sf) {
                const std::string w = what + " " + algo_name(a) + (lg ? " log_softmax" : " softmax") + (sf ? " safe" : "");
                std::fill(y.begin(), y.end(), T(-12345));
                sm::SoftmaxOptions opt;
                opt.algorithm = a;
                opt.safe = sf != 0;
                if (lg) sm::log_softmax(x.data(), y.data(), x.size(), opt);
                else sm::softmax(x.data(), y.data(), x.size(), opt);
                check_output(x, y, r, a, lg != 0, sf != 0, w);
            }
        }
    }
}

// ---- random rows of many lengths and distributions -----------------------------------------------
template <class T>
void test_random_rows() {
    sm_test::Section sec(std::string("random rows <") + tname<T>() + ">");
    const bool f = sizeof(T) == 4;
    for (Algo a : kAlgos) worst(f ? 0 : 1, a) = Worst{};
    const std::size_t lengths[] = {0, 1, 2, 3, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 2047, 2048, 2049, 4103,
                                   65535, 65536, 65537, 200000};
    sm_test::Rng rng(f ? 1 : 2);
    for (std::size_t n : lengths) {
        struct Dist { const char* name; std::vector<T> x; };
        std::vector<Dist> ds;
        ds.push_back({"N(0,1)", sm_test::normal_row<T>(rng, n, 0, 1)});
        ds.push_back({"N(0,sd)", sm_test::normal_row<T>(rng, n, 0, f ? 6 : 40)});
        ds.push_back({"U(-1000,1000)", sm_test::uniform_row<T>(rng, n, -1000, 1000)});
        // Far from zero but inside the two-pass range (|max| <= ext_limit/2) ...
        ds.push_back({"N(big,3)", sm_test::normal_row<T>(rng, n, f ? 5000 : 2e5, 3)});
        ds.push_back({"N(-big,3)", sm_test::normal_row<T>(rng, n, f ? -8000 : -2.5e5, 3)});
        // ... and outside it (two_pass falls back to the online algorithm).
        ds.push_back({"N(-huge,3)", sm_test::normal_row<T>(rng, n, f ? -9000 : -3e5, 3)});
        ds.push_back({"N(+huge,3)", sm_test::normal_row<T>(rng, n, f ? 12000 : 6e5, 3)});
        // Many ties at the maximum (counted in c, not summed).
        {
            std::uniform_int_distribution<int> k(-3, 3);
            std::vector<T> v(n);
            for (auto& e : v) e = static_cast<T>(k(rng));
            ds.push_back({"ints[-3,3]", v});
        }
        // -inf sprinkled in (10%), and a -inf-heavy row (90%).
        for (double frac : {0.1, 0.9}) {
            auto v = sm_test::normal_row<T>(rng, n, 0, 2);
            std::bernoulli_distribution b(frac);
            for (auto& e : v) if (b(rng)) e = -std::numeric_limits<T>::infinity();
            ds.push_back({frac < 0.5 ? "N(0,2)+10%-inf" : "N(0,2)+90%-inf", v});
        }
        // Spread beyond the two-pass clamp (-ext_limit) with the maximum inside its range.
        ds.push_back({"U(-3.7*lim,lim/2)", sm_test::uniform_row<T>(rng, n, -3.7 * stablemath::detail::exp_traits<T>::ext_limit,
                                                                  stablemath::detail::exp_traits<T>::ext_limit / 2)});
        // Whole chunks / parts of -inf (a chunk or part with no mass merged with later ones).
        if (n > cpu::kChunk) {
            auto v = sm_test::normal_row<T>(rng, n, 0, 2);
            const std::size_t head = n > cpu::kPart + 100 ? cpu::kPart + 100 : (n > cpu::kChunk + 5 ? cpu::kChunk + 5 : cpu::kChunk);
            for (std::size_t i = 0; i < head; ++i) v[i] = -std::numeric_limits<T>::infinity();
            ds.push_back({"-inf head", v});
            std::reverse(v.begin(), v.end());
            ds.push_back({"-inf tail", v});
        }
        // Sorted ascending and descending (maximum found late / early in every chunk).
        {
            auto v = sm_test::normal_row<T>(rng, n, 0, 3);
            std::sort(v.begin(), v.end());
            ds.push_back({"sorted", v});
            std::reverse(v.begin(), v.end());
            ds.push_back({"reversed", v});
        }
        for (auto& d : ds) check_all(d.x, std::string(d.name) + " n=" + std::to_string(n), n < 5000);
    }
    for (Algo a : kAlgos) {
        const Worst& w = worst(f ? 0 : 1, a);
        std::printf("random rows <%s> %-10s (runs %-10s): worst error / tolerance: softmax %.3f, log_softmax %.3f\n",
                    tname<T>(), algo_name(a), algo_name(resolved<T>(a)), (double)w.softmax, (double)w.log_softmax);
    }
    std::printf("random rows <%s> logsumexp: worst error / tolerance %.3f\n", tname<T>(), (double)worst(f ? 0 : 1, Algo::online).lse);
}

// ---- huge magnitudes -----------------------------------------------------------------------------
template <class T>
void test_huge() {
    sm_test::Section sec(std::string("huge magnitudes <") + tname<T>() + ">");
    using L = std::numeric_limits<T>;
    const bool f = sizeof(T) == 4;
    sm_test::Rng rng(f ? 11 : 12);
    const double big = f ? 1e30 : 1e300;
    for (std::size_t n : {1, 2, 3, 33, 2049, 70000}) {
        const std::string sn = " n=" + std::to_string(n);
        check_all(sm_test::uniform_row<T>(rng, n, -big, big), "U(-big,big)" + sn, true);
        check_all(sm_test::uniform_row<T>(rng, n, big / 2, big), "U(big/2,big)" + sn);
        check_all(sm_test::uniform_row<T>(rng, n, -big, -big / 2), "U(-big,-big/2)" + sn);
        // Ties at +-big and the extremes of the format.
        std::vector<T> v(n);
        std::uniform_int_distribution<int> pick(0, 4);
        const T vals[5] = {static_cast<T>(big), static_cast<T>(-big), L::max(), L::lowest(), T(0)};
        for (auto& e : v) e = vals[pick(rng)];
        check_all(v, "{+-big, +-max, 0}" + sn, true);
        for (auto& e : v) e = (pick(rng) < 2) ? L::max() : L::lowest();
        check_all(v, "{max, lowest}" + sn);
        for (auto& e : v) e = static_cast<T>(-big);
        check_all(v, "all -big" + sn);
        // +-1e7 (float: unit spacing there) and +-1e15 (double), offsets exactly representable.
        const double mid = f ? 1e7 : 1e15;
        std::uniform_int_distribution<int> off(-40, 0);
        for (auto& e : v) e = static_cast<T>(mid + off(rng));
        check_all(v, "1e7+k" + sn, true);
        for (auto& e : v) e = static_cast<T>(-mid + off(rng));
        check_all(v, "-1e7+k" + sn, true);
        for (auto& e : v) e = static_cast<T>(((pick(rng) & 1) ? mid : -mid) + off(rng));
        check_all(v, "+-1e7+k" + sn);
    }
    // Softmax of a single element is exactly 1 and log_softmax exactly 0 whatever the magnitude
    // with a maximum-based algorithm; two_pass never subtracts the maximum (y = p * (1/p) and
    // l = e*ln2 - max + log v) and is exact only within rounding there.
    for (T x : {T(0), static_cast<T>(big), static_cast<T>(-big), L::max(), L::lowest(), L::denorm_min(), T(1e7),
                T(5000.3), T(-3.7), T(1e-30), T(-8000.1)}) {
        for (Algo a : kAlgos) {
            T y = -1, ly = -1;
            sm::SoftmaxOptions opt;
            opt.algorithm = a;
            sm::softmax(&x, &y, 1, opt);
            sm::log_softmax(&x, &ly, 1, opt);
            const bool exact = resolved<T>(a) != Algo::two_pass;
            const bool ok = exact ? (y == T(1) && sm_test::same_bits(ly, T(0)))
                                  : (std::fabs(y - T(1)) <= 2 * L::epsilon() && std::fabs(ly) <= 8 * L::epsilon());
            CHECK_MSG(ok, "%s: softmax({%g}) = %.17g, log_softmax = %g", algo_name(a), (double)x, (double)y, (double)ly);
        }
        CHECK_MSG(sm::logsumexp(&x, 1) == x, "logsumexp({%g}) = %g", (double)x, (double)sm::logsumexp(&x, 1));
    }
    // logsumexp at the top of the range: max + log 2 rounds back to max; +-big pairs.
    const T two_max[2] = {L::max(), L::max()};
    CHECK(sm::logsumexp(two_max, 2) == L::max());
    const T pm[2] = {static_cast<T>(big), static_cast<T>(-big)};
    CHECK(sm::logsumexp(pm, 2) == static_cast<T>(big));
}

// ---- rows with -inf, +inf, NaN: the documented semantics (cpu::softmax_row_nonfinite) ----------
template <class T>
void test_nonfinite_rows() {
    sm_test::Section sec(std::string("nonfinite rows <") + tname<T>() + ">");
    using L = std::numeric_limits<T>;
    const T inf = L::infinity(), nan = L::quiet_NaN();
    sm_test::Rng rng(sizeof(T));
    for (std::size_t n : {1, 2, 31, 33, 2048, 2049, 65536, 65537, 140000}) {
        const std::string sn = " n=" + std::to_string(n);
        // Positions: first, last, a chunk boundary, a part boundary.
        std::vector<std::size_t> pos = {0, n - 1, std::min(n - 1, std::size_t(2048)), std::min(n - 1, std::size_t(65536))};
        check_all(std::vector<T>(n, -inf), "all -inf" + sn, true);
        for (std::size_t p : pos) {
            const std::string sp = sn + " at " + std::to_string(p);
            auto base = sm_test::normal_row<T>(rng, n, 0, 3);
            auto v = base;
            v[p] = inf;
            check_all(v, "+inf" + sp, true);
            v = base;
            v[p] = nan;
            check_all(v, "NaN" + sp, true);
            v = base;
            v[p] = -nan;
            check_all(v, "-NaN" + sp);
            // All -inf except one NaN / one +inf / one finite value.
            v.assign(n, -inf);
            v[p] = nan;
            check_all(v, "-inf and NaN" + sp, true);
            v.assign(n, -inf);
            v[p] = inf;
            check_all(v, "-inf and +inf" + sp, true);
            v.assign(n, -inf);
            v[p] = T(3);
            check_all(v, "-inf and one finite" + sp, true);
            // +inf and NaN together; several +inf.
            v = base;
            v[p] = inf;
            v[n / 2] = nan;
            check_all(v, "+inf, NaN" + sp);
            v = base;
            v[p] = inf;
            v[n / 3] = inf;
            check_all(v, "2x +inf" + sp);
        }
    }
    // Empty rows: nothing written, logsumexp -inf with sign 0.
    for (Algo a : kAlgos) {
        T sentinel = 7;
        sm::SoftmaxOptions opt;
        opt.algorithm = a;
        sm::softmax<T>(nullptr, nullptr, 0, opt);
        sm::log_softmax<T>(&sentinel, &sentinel, 0, opt);
        CHECK(sentinel == 7);
    }
    T sign = 42;
    CHECK(sm::logsumexp<T>(nullptr, 0, &sign) == -inf && sign == 0);
}

// ---- in place, safe flag, threads: bitwise properties --------------------------------------------
template <class T>
void test_bitwise_properties() {
    sm_test::Section sec(std::string("bitwise properties <") + tname<T>() + ">");
    sm_test::Rng rng(31 + sizeof(T));
    for (std::size_t n : {33, 2049, 200000}) {
        const auto x = sm_test::normal_row<T>(rng, n, 0, 4);
        for (Algo a : kAlgos) {
            for (int lg = 0; lg < 2; ++lg) {
                sm::SoftmaxOptions opt;
                opt.algorithm = a;
                std::vector<T> out(n), inplace = x, safe_out(n), serial(n);
                auto run = [&](const T* in, T* o, sm::SoftmaxOptions op) {
                    if (lg) sm::log_softmax(in, o, n, op);
                    else sm::softmax(in, o, n, op);
                };
                run(x.data(), out.data(), opt);
                run(inplace.data(), inplace.data(), opt);
                sm::SoftmaxOptions so = opt;
                so.safe = true;
                run(x.data(), safe_out.data(), so);
                cpu::softmax_row(cpu::kernels<T>(), x.data(), serial.data(), n, a, lg != 0, false, cpu::Serial{});
                const std::string w = std::string(algo_name(a)) + (lg ? " log_softmax" : " softmax") + " n=" + std::to_string(n);
                CHECK_MSG(std::memcmp(out.data(), inplace.data(), n * sizeof(T)) == 0, "%s: in place differs", w.c_str());
                CHECK_MSG(std::memcmp(out.data(), safe_out.data(), n * sizeof(T)) == 0, "%s: safe differs on a finite row", w.c_str());
                CHECK_MSG(std::memcmp(out.data(), serial.data(), n * sizeof(T)) == 0, "%s: serial and threaded runs differ", w.c_str());
            }
        }
        T s1, s2;
        const T l1 = sm::logsumexp(x.data(), n, &s1);
        const T l2 = cpu::logsumexp_row(cpu::kernels<T>(), x.data(), n, &s2, cpu::Serial{});
        CHECK_MSG(sm_test::same_bits(l1, l2) && s1 == s2, "logsumexp n=%zu: threaded %.17g vs serial %.17g", n, (double)l1, (double)l2);
    }
    // Ties: softmax of n equal values is exactly 1/n for powers of two with the maximum-based
    // algorithms (the ties are counted, not summed); two_pass sums the mantissas.
    for (std::size_t n : {1, 4, 64, 2048, 4096, 65536, 131072}) {
        std::vector<T> x(n, T(0.75)), y(n);
        for (Algo a : kAlgos) {
            sm::SoftmaxOptions opt;
            opt.algorithm = a;
            sm::softmax(x.data(), y.data(), n, opt);
            const long double want = 1.0L / n;
            const long double tol = resolved<T>(a) == Algo::two_pass ? (sum_err_eps<T>(n, a) + 4) * std::numeric_limits<T>::epsilon() * want : 0;
            CHECK_MSG(std::all_of(y.begin(), y.end(), [&](T v) { return std::fabs(v - want) <= tol; }),
                      "%s: softmax of %zu ties = %.17g, want %.17Lg", algo_name(a), n, (double)y[0], want);
        }
    }
}

// ---- several caller threads at once (the pool runs one loop; other callers run theirs serially) ----
template <class T>
void test_concurrent_callers() {
    sm_test::Section sec(std::string("concurrent callers <") + tname<T>() + ">");
    sm_test::Rng rng(51 + sizeof(T));
    const std::size_t n = 3 * cpu::kPart + 123;
    const auto x = sm_test::normal_row<T>(rng, n, 0, 3);
    std::vector<std::vector<T>> want(4, std::vector<T>(n));
    for (int a = 0; a < 4; ++a)
        cpu::softmax_row(cpu::kernels<T>(), x.data(), want[a].data(), n, kAlgos[a], a % 2 == 1, false, cpu::Serial{});
    const T want_lse = cpu::logsumexp_row(cpu::kernels<T>(), x.data(), n, static_cast<T*>(nullptr), cpu::Serial{});
    std::vector<int> bad(4, 0);
    auto worker = [&](int id) {
        std::vector<T> y(n);
        for (int rep = 0; rep < 6; ++rep) {
            const int a = (id + rep) % 4;
            sm::SoftmaxOptions opt;
            opt.algorithm = kAlgos[a];
            if (a % 2) sm::log_softmax(x.data(), y.data(), n, opt);
            else sm::softmax(x.data(), y.data(), n, opt);
            if (std::memcmp(y.data(), want[a].data(), n * sizeof(T)) != 0) ++bad[id];
            if (!sm_test::same_bits(sm::logsumexp(x.data(), n), want_lse)) ++bad[id];
        }
    };
    std::vector<std::thread> th;
    for (int id = 1; id < 4; ++id) th.emplace_back(worker, id);
    worker(0);
    for (auto& t : th) t.join();
    for (int id = 0; id < 4; ++id) CHECK_MSG(bad[id] == 0, "caller thread %d: %d results differ from the serial ones", id, bad[id]);
}

// ---- weighted logsumexp --------------------------------------------------------------------------
template <class T>
void test_weighted() {
    sm_test::Section sec(std::string("weighted logsumexp <") + tname<T>() + ">");
    const long double eps = std::numeric_limits<T>::epsilon();
    sm_test::Rng rng(41 + sizeof(T));
    for (std::size_t n : {1, 2, 17, 100, 2049, 70000}) {
        for (int kind = 0; kind < 4; ++kind) {
            auto x = sm_test::normal_row<T>(rng, n, 0, 5);
            std::vector<T> b(n);
            std::uniform_real_distribution<double> w(kind == 0 ? 0.0 : -1.0, 2.0);
            std::bernoulli_distribution zero(0.1);
            for (auto& e : b) e = (kind == 3 && zero(rng)) ? T(0) : static_cast<T>(w(rng));
            long double m = -INFINITY;
            for (std::size_t i = 0; i < n; ++i) if (b[i] != 0) m = std::max<long double>(m, x[i]);
            long double s = 0, sa = 0;
            for (std::size_t i = 0; i < n; ++i) {
                if (b[i] == 0) continue;
                const long double t = b[i] * std::exp(static_cast<long double>(x[i]) - m);
                s += t;
                sa += std::fabs(t);
            }
            T sign = 42;
            const T got = sm::logsumexp(x.data(), b.data(), n, &sign);
            if (s == 0) {
                CHECK(got == -std::numeric_limits<T>::infinity() && sign == 0);
                continue;
            }
            const long double ref = m + std::log(std::fabs(s));
            // Cancellation amplifies the summation error by sum|t| / |sum t|.
            const long double tol_eps = 0.5L * std::fabs(ref) + (sa / std::fabs(s)) * (n / (128 / sizeof(T)) + 128 / sizeof(T) + 6) + 4;
            const long double err = std::fabs(static_cast<long double>(got) - ref);
            CHECK_MSG(err <= tol_eps * eps && sign == (s > 0 ? 1 : -1), "n=%zu kind=%d: %.12g sign %g, ref %.15Lg sign %d (err %.3Lg eps, tol %.3Lg)",
                      n, kind, (double)got, (double)sign, ref, s > 0 ? 1 : -1, err / eps, tol_eps);
        }
    }    // An element at x = -inf adds exactly 0 whatever its finite weight: with a weight near the
    // maximum it must not choose the rescaling of the others (found by fuzz_api: 8.6e-15 off).
    const T inf = std::numeric_limits<T>::infinity(), big = std::numeric_limits<T>::max();
    for (T wbig : {-big, big, T(1e-30) * big}) {
        const T x3[3] = {-inf, T(-1.3635415240283253), T(-0.7771760684086706)};
        const T b3[3] = {wbig, T(-1.1527943498779758), T(-0.8863752925154662)};
        T s3 = 0, s2 = 0;
        const T with = sm::logsumexp(x3, b3, 3, &s3), without = sm::logsumexp(x3 + 1, b3 + 1, 2, &s2);
        CHECK_MSG(with == without && s3 == s2 && s3 == -1, "weight %g on -inf: %.17g (sign %g) vs %.17g without it",
                  (double)wbig, (double)with, (double)s3, (double)without);
    }
    // ... nor overflow when a smaller weight elsewhere chooses the rescaling (found by fuzz_scalar: NaN)
    const T x4[4] = {-inf, -inf, T(0), T(-1)};
    const T b4[4] = {T(33.75), T(2.2e31), T(2.8e-14), T(1e-15)};
    T s4 = 0, s5 = 0;
    const T with4 = sm::logsumexp(x4, b4, 4, &s4), without4 = sm::logsumexp(x4 + 2, b4 + 2, 2, &s5);
    CHECK_MSG(with4 == without4 && s4 == s5 && s4 == 1, "huge weight on -inf, tiny weight elsewhere: %.17g vs %.17g",
              (double)with4, (double)without4);
}

int main() {
    const char* want = std::getenv("STABLEMATH_ISA");
    if (sm_test::requested_isa_unavailable()) {
        std::printf("SKIP: STABLEMATH_ISA=%s is not supported by this CPU (the library would fall back to %s)\n", want,
                    cpu::kernels<float>().isa);
        return sm_test::kSkipCode;
    }
    const std::string expect = sm_test::expected_isa(want);
    std::printf("STABLEMATH_ISA=%s: kernel tables float=%s double=%s (expected %s); automatic runs %s\n", want ? want : "(unset)",
                cpu::kernels<float>().isa, cpu::kernels<double>().isa, expect.c_str(), algo_name(resolved<float>(Algo::automatic)));
    CHECK_MSG(expect == cpu::kernels<float>().isa, "float table %s, expected %s", cpu::kernels<float>().isa, expect.c_str());
    CHECK_MSG(expect == cpu::kernels<double>().isa, "double table %s, expected %s", cpu::kernels<double>().isa, expect.c_str());

    const bool wide = sm_test::wide_reference<double>();
    test_nonfinite_rows<float>();
    test_nonfinite_rows<double>();
    test_huge<float>();
    if (wide) test_huge<double>();
    test_bitwise_properties<float>();
    test_bitwise_properties<double>();
    test_weighted<float>();
    if (wide) test_weighted<double>();
    test_concurrent_callers<float>();
    test_concurrent_callers<double>();
    test_random_rows<float>();
    if (wide) test_random_rows<double>();
    return sm_test::finish("test_rows");
}
