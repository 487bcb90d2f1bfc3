// Batched double log-Bessel kernels (cpu/bessel_batch.hpp) against the scalar functions and mpmath,
// run once per kernel table (STABLEMATH_ISA=baseline|avx2|avx512; exit 77 when the CPU cannot run it).
//
//   1. tests/data/bessel_reference.csv (mpmath): every row, in mixed batches of kBesselBatch and of 77
//      elements: logs within 3e-15 max(1, |log|) (the scalar code: 1.0e-15; the batch finishes the
//      uniform region with its own vectorised log/log1p, ~1 ulp, where the scalar code calls libm:
//      measured 1.7e-15 at worst, at log K_v e^x ~ 0, a sum of terms ~15), I ratio <= 3 ulp,
//      K ratio <= 5 ulp (7 for x <= 1/2, v < 25: Temme's series, scalar code).
//   2. batch vs scalar on random grids (moderate, broad log-uniform, near R = 25 where 21 Debye
//      terms are used, the double-double phase band 1.2 <= v/x <= 1.9, signed orders): they differ
//      by FMA contraction, the logs above and the order of operations of the R < 25 lane forms:
//      logs <= 5e-15 max(1, |log|), ratios <= 6 ulp (each is within 3 (I) or 5 (K) ulp of mpmath;
//      12 for the K ratio at x <= 1/2, where each is within 7).
//   3. special values (NaN, +-inf, 0, negative x and v, huge and subnormal arguments), placed
//      between ordinary elements of a batch: non-finite results bitwise equal to the scalar ones,
//      finite ones as in 2.
//   4. the polynomials of the batched Temme series (detail/sinc_poly.hpp): sin(pi m)/(pi m) and
//      sinh(s)/s within 3 ulp of long double sinl / sinhl over |m|, |s| <= 1/2.
#include <stablemath/cpu/bessel_batch.hpp>
#include <stablemath/detail/sinc_poly.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "check.hpp"
#include "bessel_reference.hpp"
#include "test_util.hpp"

#ifndef SM_BESSEL_REFERENCE_CSV
#define SM_BESSEL_REFERENCE_CSV "tests/data/bessel_reference.csv"
#endif

namespace sm = stablemath;
namespace bb = stablemath::detail::bessel;
using ld = long double;

namespace {

const char* const kNames[6] = {"log_i", "log_k", "log_ie", "log_ke", "ratio_i", "ratio_k"};
bool is_log(int op) { return op < 4; }

// out = batch(op) over v, x in batches of `size`.
std::vector<double> run_batched(int op, const std::vector<double>& v, const std::vector<double>& x, std::size_t size) {
    std::vector<double> out(v.size());
    const sm::cpu::BesselBatchFn fn = sm::cpu::bessel_batch_kernel(op);
    for (std::size_t i = 0; i < v.size(); i += size) fn(&v[i], &x[i], &out[i], std::min(size, v.size() - i));
    return out;
}

// ---- 1. mpmath reference -------------------------------------------------------------------------
void test_reference(const char* path) {
    sm_test::Section sec("reference");
    std::vector<double> v, x;
    std::vector<std::vector<ld>> ref(6);
    for (const sm_test::BesselRow& r : sm_test::load_bessel_table(path)) {
        v.push_back(r.v);
        x.push_back(r.x);
        const ld in_op_order[6] = {r.log_i, r.log_k, r.log_ie, r.log_ke, r.ratio_i, r.ratio_k};
        for (int op = 0; op < 6; ++op) ref[op].push_back(in_op_order[op]);
    }
    CHECK_MSG(v.size() > 1000, "reference table: %zu rows", v.size());
    const ld eps = std::ldexp(1.0L, -53);
    for (std::size_t size : {bb::kBesselBatch, std::size_t(77)}) {
        for (int op = 0; op < 6; ++op) {
            const std::vector<double> got = run_batched(op, v, x, size);
            double worst = 0;
            for (std::size_t i = 0; i < v.size(); ++i) {
                const ld r = ref[op][i];
                if (std::isnan(r)) {
                    CHECK_MSG(std::isnan(got[i]), "%s(%.17g, %.17g) = %.17g, want NaN", kNames[op], v[i], x[i], got[i]);
                    continue;
                }
                CHECK_MSG(std::isfinite(got[i]), "%s(%.17g, %.17g) = %.17g not finite", kNames[op], v[i], x[i], got[i]);
                ld err, bound;
                if (is_log(op)) {
                    err = std::fabs(got[i] - r) / std::max<ld>(1, std::fabs(r));
                    bound = 3e-15L;  // the scalar code: 1.0e-15 (bessel.hpp); see the header comment
                } else {
                    err = std::fabs(got[i] - r) / std::fabs(r) / eps;
                    bound = op == bb::op_i_ratio ? 3 : (x[i] <= 0.5 && std::fabs(v[i]) < 25 ? 7 : 5);
                }
                worst = std::max(worst, static_cast<double>(err));
                CHECK_MSG(err <= bound, "batch %s(%.17g, %.17g) = %.17g, ref %.20Lg: err %.3Lg (bound %.3Lg)", kNames[op],
                          v[i], x[i], got[i], r, err, bound);
            }
            std::printf("  reference, batches of %3zu: %-8s max err %.3g %s\n", size, kNames[op], worst,
                        is_log(op) ? "* max(1,|log|)" : "ulp");
        }
    }
}

// ---- 2. batch vs scalar on random grids -----------------------------------------------------------
// Error of a batch result against the scalar one (logs: * max(1, |log|); ratios: ulp); -1 when one
// of them is not finite (then they must be bitwise equal).
double batch_diff(int op, double got, double s) {
    if (!(std::isfinite(s) && std::isfinite(got))) return -1;
    const ld eps = std::ldexp(1.0L, -53);
    return is_log(op) ? std::fabs(got - s) / std::max(1.0, std::fabs(s))
                      : static_cast<double>(std::fabs(static_cast<ld>(got) - s) / std::fabs(s) / eps);
}

bool same_bits(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0 || (std::isnan(a) && std::isnan(b)); }

// Batch and scalar agree: bitwise for non-finite results, within 5e-15 max(1, |log|) or 6 ulp elsewhere
// (12 ulp for the K ratio at x <= 1/2, where Temme's series leaves up to 7 ulp in either).
bool agree(int op, double got, double s, double x, double& worst) {
    if (same_bits(got, s)) return true;
    const double d = batch_diff(op, got, s);
    if (d < 0) return same_bits(got, s);
    worst = std::max(worst, d);
    return d <= (is_log(op) ? 5e-15 : op == bb::op_k_ratio && x <= 0.5 ? 12.0 : 6.0);
}

void compare_grid(const char* name, const std::vector<double>& v, const std::vector<double>& x) {
    for (int op = 0; op < 6; ++op) {
        const std::vector<double> got = run_batched(op, v, x, bb::kBesselBatch);
        double worst = 0;
        for (std::size_t i = 0; i < v.size(); ++i) {
            const double s = bb::batch_scalar(op, v[i], x[i]);
            CHECK_MSG(agree(op, got[i], s, x[i], worst), "%s %s(%.17g, %.17g): batch %.17g scalar %.17g", name, kNames[op],
                      v[i], x[i], got[i], s);
        }
        std::printf("  %-10s %-8s batch vs scalar: max diff %.3g %s\n", name, kNames[op], worst,
                    is_log(op) ? "* max(1,|log|)" : "ulp");
    }
}

void test_grids() {
    sm_test::Section sec("batch vs scalar");
    std::mt19937_64 g(7);
    std::uniform_real_distribution<double> U(0, 1);
    auto lu = [&](double lo, double hi) { return std::exp(std::log(lo) + U(g) * std::log(hi / lo)); };
    const std::size_t n = 40000;
    std::vector<double> v(n), x(n);
    for (std::size_t i = 0; i < n; ++i) { v[i] = 100 * U(g); x[i] = lu(0.1, 100); }
    compare_grid("moderate", v, x);
    for (std::size_t i = 0; i < n; ++i) { v[i] = lu(1e-3, 1e4); x[i] = lu(1e-3, 1e5); }
    compare_grid("broad", v, x);
    for (std::size_t i = 0; i < n; ++i) {  // R in [24, 30], any direction
        const double R = 24 + 6 * U(g), a = 1.5707963267948966 * U(g);
        v[i] = R * std::sin(a);
        x[i] = R * std::cos(a);
    }
    compare_grid("R~25", v, x);
    for (std::size_t i = 0; i < n; ++i) { x[i] = lu(10, 1e6); v[i] = x[i] * (1.15 + 0.8 * U(g)); }
    compare_grid("dd band", v, x);
    for (std::size_t i = 0; i < n; ++i) { v[i] = -60 + 120 * U(g); x[i] = lu(1e-2, 1e3); }
    compare_grid("signed v", v, x);
    for (std::size_t i = 0; i < n; ++i) { v[i] = lu(1e-300, 1e300); x[i] = lu(1e-300, 1e300); }
    compare_grid("huge range", v, x);
}

// ---- 3. special values -----------------------------------------------------------------------------
void test_special() {
    sm_test::Section sec("special values");
    const double inf = HUGE_VAL, nan = std::nan("");
    const double vals[] = {0.0, -0.0, 0.5, -0.5, -1.0, -3.0, -2.5, 1.0, 30.0, -30.0, 1e149, 1e151, 1e300, inf, -inf,
                           nan, 5e-324, 1e-310, 2.2e-308, -1e-3, 24.999, 25.0};
    std::vector<double> v, x;
    for (double a : vals)
        for (double b : vals) {
            v.push_back(a);
            x.push_back(b);
            v.push_back(40.0);  // an ordinary uniform-region element between the special ones
            x.push_back(3.0);
        }
    for (int op = 0; op < 6; ++op) {
        const std::vector<double> got = run_batched(op, v, x, 61);
        for (std::size_t i = 0; i < v.size(); i += 2) {
            const double s = bb::batch_scalar(op, v[i], x[i]);
            double worst = 0;
            CHECK_MSG(agree(op, got[i], s, x[i], worst), "%s(%.17g, %.17g): batch %.17g scalar %.17g", kNames[op], v[i], x[i], got[i], s);
        }
    }
}

// ---- 4. sinc_poly.hpp --------------------------------------------------------------------------------
void test_sinc_poly() {
    sm_test::Section sec("sinc polynomials");
    const ld pi_l = 3.141592653589793238462643383279502884L;
    std::mt19937_64 rng(11);
    std::uniform_real_distribution<double> u(-0.5, 0.5);
    double worst_pi = 0, worst_h = 0;
    auto ulp_err = [](double got, ld want) {
        return static_cast<double>(std::fabs(static_cast<ld>(got) - want) / (std::nextafter(1.0, 2.0) - 1.0) /
                                   std::fabs(want));
    };
    for (int i = 0; i < 200000; ++i) {
        const double m = i == 0 ? 0.5 : i == 1 ? -0.5 : i == 2 ? 0.0 : i == 3 ? 1e-300 : u(rng);
        const ld pm = pi_l * static_cast<ld>(m);
        worst_pi = std::max(worst_pi, ulp_err(sm::detail::sinc_pi(m), m == 0 ? 1.0L : sinl(pm) / pm));
        const ld s = static_cast<ld>(m);
        worst_h = std::max(worst_h, ulp_err(sm::detail::sinhc(m), m == 0 ? 1.0L : sinhl(s) / s));
    }
    std::printf("  sinc_pi max err %.2f ulp, sinhc max err %.2f ulp\n", worst_pi, worst_h);
    CHECK_MSG(worst_pi <= 3.0, "sinc_pi off by %.2f ulp", worst_pi);
    CHECK_MSG(worst_h <= 3.0, "sinhc off by %.2f ulp", worst_h);
}

}  // namespace

int main(int argc, char** argv) {
    if (sm_test::requested_isa_unavailable()) {
        std::printf("STABLEMATH_ISA=%s: not supported by this CPU (table %s would run): skipped\n",
                    std::getenv("STABLEMATH_ISA"), sm::cpu::select_isa());
        return sm_test::kSkipCode;
    }
    const std::string expect = sm_test::expected_isa(std::getenv("STABLEMATH_ISA"));
    std::printf("kernel table: %s (expected %s)\n", sm::cpu::select_isa(), expect.c_str());
    CHECK_MSG(expect == sm::cpu::select_isa(), "table %s, expected %s", sm::cpu::select_isa(), expect.c_str());
    test_reference(argc > 1 ? argv[1] : SM_BESSEL_REFERENCE_CSV);
    test_grids();
    test_special();
    test_sinc_poly();
    return sm_test::finish("test_bessel_batch");
}
