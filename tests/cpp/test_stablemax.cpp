// StableMax scalars and row kernels (stablemax.hpp), against long double:
//
//   * s, log s, s' on both branches, at 0, at x = 1 (no singularity), near +-max, inf, NaN;
//   * the branch-free log1p of the row kernels within 2 ulp of log1pl over 0 .. max, inf, NaN, and
//     the branch-free log (detail/log_poly.hpp) within 2 ulp of logl over the normal numbers;
//     the log kernel of the table the CPU runs (STABLEMATH_ISA: every table, from CMake);
//   * stablemax_nll (the loss) within 4 ulp, for a dominant target too; the scaled row sum and
//     log(sum) without overflow at float32 logits near the maximum.
#include <stablemath/stablemax.hpp>
#include <stablemath/cpu/kernel_table.hpp>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sm = stablemath;
namespace sd = stablemath::detail;

template <class T>
double ulps(T got, long double want) {
    const long double spacing = std::fabs(static_cast<long double>(std::nextafter(static_cast<T>(want),
                                          std::numeric_limits<T>::infinity())) - static_cast<T>(want));
    return static_cast<double>(std::fabs(static_cast<long double>(got) - want) / spacing);
}

template <class T>
void scalars() {
    const T inf = std::numeric_limits<T>::infinity(), mx = std::numeric_limits<T>::max();
    CHECK(sm::stablemax_s(T(0)) == T(1) && sm::stablemax_s(T(-0.0)) == T(1));
    CHECK(sm::stablemax_s(T(1)) == T(2) && sm::stablemax_s(T(-1)) == T(0.5));
    CHECK(sm::stablemax_s(T(3)) == T(4) && sm::stablemax_s(T(-3)) == T(0.25));
    CHECK(sm::stablemax_s(-inf) == T(0) && sm::stablemax_s(inf) == inf);
    CHECK(std::isnan(sm::stablemax_s(std::numeric_limits<T>::quiet_NaN())));
    CHECK(sm::stablemax_s(mx) == mx && sm::stablemax_s(-mx) > T(0));
    CHECK(sm::stablemax_ds(T(2)) == T(1) && sm::stablemax_ds(T(0)) == T(1) && sm::stablemax_ds(T(-1)) == T(0.25));
    CHECK(sm::stablemax_log_s(T(1)) == std::log(T(2)) && sm::stablemax_log_s(T(-1)) == -std::log(T(2)));
    CHECK(sm::stablemax_log_s(-inf) == -inf && sm::stablemax_log_s(T(0)) == T(0));
    const T tiny = T(1e-30);
    CHECK(sm::stablemax_log_s(tiny) == tiny && sm::stablemax_log_s(-tiny) == -tiny);
}

template <class T>
void vector_log1p() {
    const T inf = std::numeric_limits<T>::infinity();
    double worst = 0;
    // From the smallest normal number (a subnormal times 1.37 may round back to itself) to max.
    for (T u = std::numeric_limits<T>::min(); u < std::numeric_limits<T>::max() / T(1.37); u *= T(1.37)) {
        for (T v : {u, std::nextafter(u, inf), T(u * T(0.999))}) {
            const double e = ulps(sd::log1p_nonneg(v), log1pl(static_cast<long double>(v)));
            worst = e > worst ? e : worst;
        }
    }
    CHECK_MSG(worst <= 2.0, "%s: log1p_nonneg off by %.2f ulp", sizeof(T) == 4 ? "float" : "double", worst);
    CHECK(sd::log1p_nonneg(T(0)) == T(0) && sd::log1p_nonneg(inf) == inf);
    const T sub = std::numeric_limits<T>::denorm_min() * T(5);
    CHECK(sd::log1p_nonneg(sub) == sub);
    CHECK(std::isnan(sd::log1p_nonneg(std::numeric_limits<T>::quiet_NaN())));
    CHECK(ulps(sd::log1p_nonneg(std::numeric_limits<T>::max()), log1pl(static_cast<long double>(std::numeric_limits<T>::max()))) <= 2);
}

// log_positive (detail/log_poly.hpp, the vectorised log of the batched Bessel kernels), same bound,
// over every binade of normal numbers and across mantissas near 1, sqrt(2) (the reduction's switch).
template <class T>
void vector_log() {
    double worst = 0;
    for (T u = std::numeric_limits<T>::min(); u < std::numeric_limits<T>::max() / T(1.37); u *= T(1.37)) {
        for (T v : {u, std::nextafter(u, T(0)), T(u * T(0.999))}) {
            if (!(v >= std::numeric_limits<T>::min())) continue;
            worst = std::max(worst, ulps(sd::log_positive(v), logl(static_cast<long double>(v))));
        }
    }
    for (T m = T(0.5); m < T(2); m += T(1) / 4096) {
        for (T v : {m, std::nextafter(m, T(0)), std::nextafter(m, T(3)), T(m * T(1024)), T(m / T(1 << 20))})
            worst = std::max(worst, ulps(sd::log_positive(v), logl(static_cast<long double>(v))));
    }
    CHECK_MSG(worst <= 2.0, "%s: log_positive off by %.2f ulp", sizeof(T) == 4 ? "float" : "double", worst);
    CHECK(sd::log_positive(T(1)) == T(0) && sd::log_positive(T(2)) == std::log(T(2)));
    CHECK(ulps(sd::log_positive(std::numeric_limits<T>::max()), logl(static_cast<long double>(std::numeric_limits<T>::max()))) <= 2);
}

template <class T>
void rows_every_table() {
    // Whatever table the CPU runs: the log kernel against long double on mixed magnitudes.
    const sm::cpu::KernelTable<T>& k = sm::cpu::kernels<T>();
    std::vector<T> x;
    for (T m = T(1e-20); m < T(1e30); m *= T(7.3)) { x.push_back(m); x.push_back(-m); }
    std::vector<T> y(x.size());
    const T ls = T(3.5);
    k.log_stablemax_store(x.data(), y.data(), x.size(), ls);
    for (std::size_t i = 0; i < x.size(); ++i) {
        const long double want = (x[i] >= 0 ? 1 : -1) * log1pl(std::fabs(static_cast<long double>(x[i]))) - ls;
        CHECK_MSG(std::fabs(y[i] - want) <= 4 * std::numeric_limits<T>::epsilon() * (1 + std::fabs(want) + ls),
                  "%s x=%g: %g vs %g", k.isa, double(x[i]), double(y[i]), double(want));
    }
}

void sums_near_max() {
    const float mx = std::numeric_limits<float>::max();
    std::vector<float> x(1000, mx);
    const sm::StablemaxSum s = sd::stablemax_sum(x.data(), x.size());
    const sm::StablemaxScale sc = sm::stablemax_scale(s);
    const long double want = logl(1000.0L * (static_cast<long double>(mx) + 1));
    // float lane sums (flushed to double every 32 lanes): the sum is float-accurate, log(sum) finite
    CHECK_MSG(std::fabs(sc.log_sum() - want) <= 4 * std::numeric_limits<float>::epsilon(), "log sum %.17g vs %.17Lg",
              sc.log_sum(), want);
    std::vector<float> neg(7, -mx);
    const sm::StablemaxScale sn = sm::stablemax_scale(sd::stablemax_sum(neg.data(), neg.size()));
    const long double wn = logl(7.0L / (static_cast<long double>(mx) + 1));
    CHECK_MSG(std::fabs(sn.log_sum() - wn) <= 1e-6L, "log sum %.17g vs %.17Lg", sn.log_sum(), wn);
    // The loss of a dominant target: log1p((n - 1) / (1e6 + 1)).
    std::vector<float> row = {1e6f, 0.f, 0.f, 0.f};
    const double nll = sm::stablemax_nll(sd::stablemax_sum(row.data() + 1, 3), 1e6);
    CHECK(ulps(nll, log1pl(3.0L / 1000001.0L)) <= 4);
    CHECK(std::isnan(sm::stablemax_nll(sm::StablemaxSum{}, -std::numeric_limits<double>::infinity())));
    CHECK(sm::stablemax_nll(sm::StablemaxSum{}, 5.0) == 0.0);  // one class: probability 1
}

int main() {
    if (sm_test::requested_isa_unavailable()) {
        std::printf("test_stablemax: STABLEMATH_ISA=%s is not supported by this CPU; skipped\n", std::getenv("STABLEMATH_ISA"));
        return sm_test::kSkipCode;
    }
    if (!sm_test::wide_reference<double>()) return sm_test::kSkipCode;
    scalars<float>();
    scalars<double>();
    vector_log1p<float>();
    vector_log1p<double>();
    vector_log<float>();
    vector_log<double>();
    rows_every_table<float>();
    rows_every_table<double>();
    sums_near_max();
    return sm_test::finish("test_stablemax");
}
