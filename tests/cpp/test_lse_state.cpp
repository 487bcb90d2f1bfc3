// LseState / merge / finalize (lse_state.hpp) and the public logsumexp's sign output.
//
//   * merge is exactly commutative, and associative up to rounding: every merge tree over the
//     same pieces finalises to the long double log-sum-exp within a few eps;
//   * the empty state is an exact identity of merge;
//   * -inf elements add nothing, +inf gives +inf, NaN anywhere gives NaN (result and sign);
//   * finalize keeps the small terms through log1p: logsumexp({0, -40}) = 4.248354255291589e-18;
//   * sign semantics of log_relative / finalize and of the weighted public logsumexp.
#include <stablemath/lse_state.hpp>
#include <stablemath/logsumexp.hpp>
#include <stablemath/softmax.hpp>
#include <stablemath/detail/row_kernels.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sm = stablemath;
namespace sd = stablemath::detail;

template <class T> const char* tname() { return sizeof(T) == 4 ? "float" : "double"; }

template <class T>
bool same_state(const sm::LseState<T>& a, const sm::LseState<T>& b) {
    return sm_test::same_bits(a.m, b.m) && sm_test::same_bits(a.c, b.c) && sm_test::same_bits(a.s, b.s);
}

// The state of one element, as the row kernels would build it.
template <class T>
sm::LseState<T> single(T x) {
    return sd::row_state_given_max(&x, 1, sd::row_max(&x, 1));
}

template <class T>
sm::LseState<T> state_of(const T* x, std::size_t n) {
    return sd::row_state_given_max(x, n, sd::row_max(x, n));
}

template <class T>
long double lse_ref(const T* x, std::size_t n) {
    long double m = -INFINITY;
    for (std::size_t i = 0; i < n; ++i) m = std::max<long double>(m, x[i]);
    if (!std::isfinite(m)) return m;
    long double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += std::exp(static_cast<long double>(x[i]) - m);
    return m + std::log(s);
}

// ---- commutativity, associativity, merge trees ---------------------------------------------------
template <class T>
void test_merge_trees() {
    sm_test::Section sec(std::string("merge trees <") + tname<T>() + ">");
    const long double eps = std::numeric_limits<T>::epsilon();
    sm_test::Rng rng(2024);
    long double worst = 0;
    for (int trial = 0; trial < 400; ++trial) {
        // Pieces whose maxima differ widely (including by more than the exp underflow range).
        const int pieces = 2 + trial % 15;
        std::vector<std::vector<T>> parts;
        std::vector<T> all;
        std::uniform_real_distribution<double> offs(-60.0, 60.0);
        std::uniform_int_distribution<int> len(0, 40);
        const double scale = trial % 4 == 0 ? 500.0 : 1.0;
        for (int p = 0; p < pieces; ++p) {
            auto v = sm_test::normal_row<T>(rng, len(rng), offs(rng) * scale, 1 + trial % 7);
            if (trial % 5 == 0 && !v.empty()) v[0] = -std::numeric_limits<T>::infinity();
            all.insert(all.end(), v.begin(), v.end());
            parts.push_back(v);
        }
        std::vector<sm::LseState<T>> st;
        for (auto& p : parts) st.push_back(state_of(p.data(), p.size()));
        const long double ref = lse_ref(all.data(), all.size());
        const long double tol = (8 + 4 * pieces) * eps * std::max<long double>(1, std::fabs(ref));
        auto check_value = [&](T got, const char* how) {
            if (std::isinf(ref)) { CHECK_MSG(got == ref, "%s: %g vs %Lg", how, (double)got, ref); return; }
            const long double err = std::fabs(got - ref);
            worst = std::max(worst, err / (eps * std::max<long double>(1, std::fabs(ref))));
            CHECK_MSG(err <= tol, "trial %d (%d pieces) %s: %.17g vs ref %.17Lg (err %.3Lg, tol %.3Lg)", trial,
                      pieces, how, (double)got, ref, err, tol);
        };
        // Left fold, right fold, balanced tree, random tree.
        sm::LseState<T> left{};
        for (auto& s : st) left = sm::merge(left, s);
        check_value(sm::finalize(left), "left fold");
        sm::LseState<T> right{};
        for (std::size_t i = st.size(); i-- > 0;) right = sm::merge(st[i], right);
        check_value(sm::finalize(right), "right fold");
        std::function<sm::LseState<T>(std::size_t, std::size_t)> tree = [&](std::size_t b, std::size_t e) {
            if (e - b == 1) return st[b];
            const std::size_t mid = (b + e) / 2;
            return sm::merge(tree(b, mid), tree(mid, e));
        };
        check_value(sm::finalize(tree(0, st.size())), "balanced tree");
        std::vector<sm::LseState<T>> pool = st;
        while (pool.size() > 1) {
            std::uniform_int_distribution<std::size_t> pick(0, pool.size() - 2);
            const std::size_t i = pick(rng);
            pool[i] = sm::merge(pool[i], pool[i + 1]);
            pool.erase(pool.begin() + static_cast<long>(i) + 1);
        }
        check_value(sm::finalize(pool[0]), "random tree");
        // Element by element (the online normaliser).
        sm::LseState<T> online{};
        for (T v : all) online = sm::merge(online, single(v));
        check_value(sm::finalize(online), "element by element");
        // Exact commutativity of a single merge; associativity of three within rounding.
        for (std::size_t i = 0; i + 1 < st.size(); ++i)
            CHECK_MSG(same_state(sm::merge(st[i], st[i + 1]), sm::merge(st[i + 1], st[i])), "trial %d: merge not commutative at %zu", trial, i);
        if (st.size() >= 3) {
            const T a = sm::finalize(sm::merge(sm::merge(st[0], st[1]), st[2]));
            const T b = sm::finalize(sm::merge(st[0], sm::merge(st[1], st[2])));
            const long double r3 = sm::finalize(sm::merge(sm::merge(st[0], st[1]), st[2]));
            CHECK_MSG(std::fabs(static_cast<long double>(a) - b) <= 8 * eps * std::max<long double>(1, std::fabs(r3)) ||
                          (std::isinf(a) && a == b),
                      "trial %d: (a+b)+c = %.17g, a+(b+c) = %.17g", trial, (double)a, (double)b);
        }
    }
    std::printf("merge trees <%s>: worst error %.2Lf eps (relative to max(1, |lse|))\n", tname<T>(), worst);
}

// ---- the empty state -------------------------------------------------------------------------
template <class T>
void test_empty() {
    sm_test::Section sec(std::string("empty <") + tname<T>() + ">");
    using L = std::numeric_limits<T>;
    const sm::LseState<T> e = sm::LseState<T>::empty();
    CHECK(e.m == -L::infinity() && e.c == 0 && e.s == 0);
    CHECK(e.total() == 0);
    T sign = 42;
    CHECK(sm::finalize(e, &sign) == -L::infinity());
    CHECK(sign == 0);
    CHECK(same_state(sm::merge(e, e), e));
    const sm::LseState<T> samples[] = {
        {T(0), T(1), T(0)},           {T(3.5), T(2), T(0.25)},      {T(-700), T(1), T(1e-3)},
        {L::infinity(), T(1), T(0)},  {T(1), T(-1), T(0.5)},        {T(-L::max()), T(1), T(0)},
        {-L::infinity(), T(0), L::quiet_NaN()},                      {T(2), T(1), L::quiet_NaN()},
        {T(L::max()), T(3), T(0)},
    };
    for (const auto& a : samples) {
        CHECK_MSG(same_state(sm::merge(a, e), a), "merge(a, empty) != a for a = {%g, %g, %g}", (double)a.m, (double)a.c, (double)a.s);
        CHECK_MSG(same_state(sm::merge(e, a), a), "merge(empty, a) != a for a = {%g, %g, %g}", (double)a.m, (double)a.c, (double)a.s);
    }
    // State of an empty row and of an all -inf row.
    CHECK(same_state(state_of<T>(nullptr, 0), e));
    const T ninf[3] = {-L::infinity(), -L::infinity(), -L::infinity()};
    CHECK(same_state(state_of<T>(ninf, 3), e));
    CHECK(sm::finalize(state_of<T>(ninf, 3), &sign) == -L::infinity() && sign == 0);
}

// ---- infinities and NaN --------------------------------------------------------------------------
template <class T>
void test_nonfinite() {
    sm_test::Section sec(std::string("nonfinite <") + tname<T>() + ">");
    using L = std::numeric_limits<T>;
    const T inf = L::infinity(), nan = L::quiet_NaN();
    auto fin = [](std::vector<T> v, T* sign = nullptr) {
        sm::LseState<T> st{};
        for (T x : v) st = sm::merge(st, single(x));
        return sm::finalize(st, sign);
    };
    T sign = 42;
    // -inf adds nothing.
    CHECK(fin({T(0), -inf}, &sign) == T(0) && sign == 1);
    CHECK(fin({-inf, T(2), -inf, T(2)}) == static_cast<T>(2 + std::log(2.0L)));
    CHECK(fin({-inf}, &sign) == -inf && sign == 0);
    // +inf wins, with sign +1; -inf next to +inf is fine.
    CHECK(fin({T(1), inf}, &sign) == inf && sign == 1);
    CHECK(fin({inf, inf, -inf}, &sign) == inf && sign == 1);
    CHECK(fin({inf, T(-1e30), L::max()}, &sign) == inf && sign == 1);
    // NaN anywhere gives NaN, whatever the order and whatever else is there.
    const std::vector<std::vector<T>> with_nan = {
        {nan}, {nan, T(1)}, {T(1), nan}, {inf, nan}, {nan, inf}, {-inf, nan}, {nan, -inf}, {T(5), T(5), nan, T(-3)}};
    for (const auto& v : with_nan) {
        sign = 42;
        const T r = fin(v, &sign);
        CHECK_MSG(std::isnan(r), "lse of a row with NaN (n=%zu) = %g", v.size(), (double)r);
        CHECK_MSG(std::isnan(sign), "sign of a row with NaN (n=%zu) = %g", v.size(), (double)sign);
        // Also through whole-row states and the public API.
        CHECK(std::isnan(sm::finalize(state_of(v.data(), v.size()))));
        T s2 = 42;
        CHECK(std::isnan(sm::logsumexp(v.data(), v.size(), &s2)));
        CHECK(std::isnan(s2));
    }
    // merge keeps NaN from either side, also against +inf.
    const sm::LseState<T> n1 = single(nan), pinf = single(inf), one = single(T(1));
    CHECK(std::isnan(sm::finalize(sm::merge(n1, pinf))));
    CHECK(std::isnan(sm::finalize(sm::merge(pinf, n1))));
    CHECK(std::isnan(sm::finalize(sm::merge(one, n1))));
    CHECK(std::isnan(sm::finalize(sm::merge(n1, one))));
    // Largest finite values: no overflow in m + log(c + s).
    CHECK(fin({L::max(), L::max()}) == inf || fin({L::max(), L::max()}) == L::max());
    CHECK(fin({L::lowest(), L::lowest()}) == L::lowest());
}

// ---- finalize keeps the small terms (log1p) ---------------------------------------------------
void test_log1p_accuracy() {
    sm_test::Section sec("log1p accuracy");
    {
        const double x[2] = {0.0, -40.0};
        const double want = 4.248354255291589e-18;  // log(1 + e^-40) = e^-40 - e^-80/2 ...
        const double got = sm::finalize(state_of(x, 2));
        CHECK_MSG(std::fabs(got - want) <= 2 * sm_test::d(sm_test::ulp_of<double>(want)), "finalize {0,-40} = %.17g", got);
        const double api = sm::logsumexp(x, 2);
        CHECK_MSG(std::fabs(api - want) <= 2 * sm_test::d(sm_test::ulp_of<double>(want)), "logsumexp {0,-40} = %.17g", api);
        double y[2];
        sm::log_softmax(x, y, 2);
        CHECK_MSG(std::fabs(y[0] + want) <= 2 * sm_test::d(sm_test::ulp_of<double>(want)), "log_softmax {0,-40}[0] = %.17g", y[0]);
    }
    {
        const float x[2] = {0.0f, -20.0f};
        const long double want = std::log1p(std::exp(-20.0L));  // 2.0611536e-9
        const float got = sm::logsumexp(x, 2);
        CHECK_MSG(std::fabs(got - want) <= 2 * sm_test::ulp_of<float>(want), "logsumexp<float>{0,-20} = %.9g want %.9Lg", (double)got, want);
    }
    // Several elements at the maximum: log c + log1p(s / c).
    {
        const double x[4] = {7.0, 7.0, 7.0, 7.0 - 45};
        const long double want = 7 + std::log(3.0L + std::exp(-45.0L));
        const double got = sm::logsumexp(x, 4);
        CHECK_MSG(std::fabs(got - want) <= sm_test::ulp_of<double>(want), "logsumexp {7,7,7,-38} = %.17g want %.17Lg", got, want);
    }
    // Random rows dominated by one element: relative accuracy of lse - max (which naive
    // log(sum) would round to 0).
    sm_test::Rng rng(5);
    for (int t = 0; t < 1000; ++t) {
        auto v = sm_test::uniform_row<double>(rng, 1 + t % 50, -80.0, -30.0);
        v.push_back(0.0);
        long double s = 0;
        for (double e : v) if (e != 0.0) s += std::exp(static_cast<long double>(e));
        const long double want = std::log1p(s);
        const double got = sm::logsumexp(v.data(), v.size());
        // Each term's exp is within 2 ulp, the sum adds at most (n - 1) roundings, log1p ~1.
        const long double tol = (4 + v.size()) * std::numeric_limits<double>::epsilon() * want;
        CHECK_MSG(std::fabs(got - want) <= tol, "dominated row %d: %.17g want %.17Lg", t, got, want);
    }
}

// ---- sign semantics --------------------------------------------------------------------------
template <class T>
void test_sign() {
    sm_test::Section sec(std::string("sign <") + tname<T>() + ">");
    using L = std::numeric_limits<T>;
    const T inf = L::infinity(), nan = L::quiet_NaN();
    const long double eps = L::epsilon();
    T sign = 42;
    // log_relative / finalize on hand-made states.
    auto fin = [&](T m, T c, T s) { sign = 42; return sm::finalize(sm::LseState<T>{m, c, s}, &sign); };
    CHECK(fin(T(0), T(1), T(0)) == T(0) && sign == 1);
    CHECK(fin(T(2), T(-1), T(0)) == T(2) && sign == -1);                               // -e^2
    CHECK(fin(T(0), T(1), T(-1)) == -inf && sign == 0);                                 // exact cancellation
    CHECK(std::fabs(fin(T(0), T(1), T(-3)) - std::log(2.0L)) <= 2 * eps && sign == -1);  // 1 - 3 = -2
    CHECK(std::fabs(fin(T(0), T(-1), T(-0.5)) - std::log(1.5L)) <= 2 * eps && sign == -1);
    CHECK(std::fabs(fin(T(0), T(-1), T(0.5)) - std::log(0.5L)) <= 2 * eps && sign == -1);  // -1 + 0.5
    CHECK(std::fabs(fin(T(0), T(-1), T(1.5)) - std::log(0.5L)) <= 2 * eps && sign == 1);   // -1 + 1.5
    CHECK(std::fabs(fin(T(1), T(0), T(-0.5)) - (1 + std::log(0.5L))) <= 4 * eps && sign == -1);  // c = 0
    CHECK(std::fabs(fin(T(1), T(0), T(0.25)) - (1 + std::log(0.25L))) <= 4 * eps && sign == 1);
    CHECK(fin(T(1), T(0), T(0)) == -inf && sign == 0);
    CHECK(std::isnan(fin(T(0), T(1), nan)) && std::isnan(sign));
    // Near-total cancellation keeps its digits: 1 + q with q = -1 + 2^-20.
    CHECK(std::fabs(fin(T(0), T(1), T(-1) + std::ldexp(T(1), -20)) - (-20 * std::log(2.0L))) <= 32 * eps && sign == 1);
    // Zero sum at m = +inf is inf - inf: NaN.
    CHECK(std::isnan(fin(inf, T(0), T(0))));
    CHECK(std::isnan(fin(inf, T(1), T(-1))));

    // Unweighted public API: +1, or 0 for an empty / all -inf row.
    const T row[3] = {T(1), T(2), T(3)};
    sign = 42;
    sm::logsumexp(row, 3, &sign);
    CHECK(sign == 1);
    sign = 42;
    CHECK(sm::logsumexp(row, 0, &sign) == -inf && sign == 0);
    const T ninf[2] = {-inf, -inf};
    sign = 42;
    CHECK(sm::logsumexp(ninf, 2, &sign) == -inf && sign == 0);
    const T pinf[2] = {inf, T(0)};
    sign = 42;
    CHECK(sm::logsumexp(pinf, 2, &sign) == inf && sign == 1);

    // Weighted public API.
    auto wlse = [&](std::vector<T> x, std::vector<T> b) {
        sign = 42;
        return sm::logsumexp(x.data(), b.data(), x.size(), &sign);
    };
    auto near = [&](T got, long double want, long double k = 4) {
        return std::fabs(got - want) <= k * eps * std::max<long double>(1, std::fabs(want));
    };
    CHECK(near(wlse({T(1), T(2), T(3)}, {T(1), T(1), T(1)}), lse_ref(row, 3)) && sign == 1);
    CHECK(near(wlse({T(1), T(0)}, {T(-1), T(1)}), std::log(std::exp(1.0L) - 1)) && sign == -1);  // 1 - e
    CHECK(near(wlse({T(1), T(0)}, {T(1), T(-1)}), std::log(std::exp(1.0L) - 1)) && sign == 1);   // e - 1
    CHECK(near(wlse({T(0), T(0)}, {T(2), T(0.5)}), std::log(2.5L)) && sign == 1);
    CHECK(near(wlse({T(0), T(0)}, {T(-2), T(-0.5)}), std::log(2.5L)) && sign == -1);
    CHECK(wlse({T(5), T(5)}, {T(1), T(-1)}) == -inf && sign == 0);   // exact cancellation
    CHECK(wlse({T(5), T(3)}, {T(0), T(0)}) == -inf && sign == 0);    // all weights zero
    CHECK(wlse({}, {}) == -inf && sign == 0);
    // b = 0 drops the element, even +inf or NaN.
    CHECK(near(wlse({inf, T(1)}, {T(0), T(1)}), 1) && sign == 1);
    CHECK(near(wlse({nan, T(1)}, {T(0), T(1)}), 1) && sign == 1);
    // NaN elsewhere gives NaN.
    CHECK(std::isnan(wlse({nan, T(1)}, {T(1), T(1)})));
    CHECK(std::isnan(wlse({T(0), T(1)}, {nan, T(1)})));
    CHECK(std::isnan(sign));
    // Negative weight on the dominant element, small positive rest: log|-e^10 + e^-30|.
    CHECK(near(wlse({T(10), T(-30)}, {T(-1), T(1)}), 10 + std::log1p(-std::exp(-40.0L))) && sign == -1);
}

// Regression: a NaN weight on a row maximum once gave sign -0 (a "zero sum") instead of NaN,
// because log_relative tested only s for NaN.
template <class T>
void test_sign_nan_weight_at_max() {
    sm_test::Section sec(std::string("sign of NaN weight at max <") + tname<T>() + ">");
    const T nan = std::numeric_limits<T>::quiet_NaN();
    const T x[2] = {T(1), T(0)}, b[2] = {nan, T(1)};
    T sign = 42;
    const T r = sm::logsumexp(x, b, 2, &sign);
    CHECK_MSG(std::isnan(r), "result %g", (double)r);
    CHECK_MSG(std::isnan(sign), "logsumexp(x={1,0}, b={NaN,1}) sign = %g, want NaN", (double)sign);
}

// ---- ExtSum (two-pass sums as v * 2^e) -------------------------------------------------------
template <class T>
void test_extsum() {
    sm_test::Section sec(std::string("ExtSum <") + tname<T>() + ">");
    const sm::ExtSum<T> z{};
    sm_test::Rng rng(77);
    std::uniform_real_distribution<double> mant(0.7, 1.42);
    std::uniform_int_distribution<int> ex(-60, 60);
    for (int t = 0; t < 10000; ++t) {
        const sm::ExtSum<T> a{static_cast<T>(mant(rng)), static_cast<T>(ex(rng))};
        const sm::ExtSum<T> b{static_cast<T>(mant(rng)), static_cast<T>(ex(rng))};
        const sm::ExtSum<T> m = sm::merge(a, b);
        const long double want = std::ldexp(static_cast<long double>(a.v), static_cast<int>(a.e)) +
                                 std::ldexp(static_cast<long double>(b.v), static_cast<int>(b.e));
        const long double got = std::ldexp(static_cast<long double>(m.v), static_cast<int>(m.e));
        CHECK(m.e == std::max(a.e, b.e));
        CHECK_MSG(std::fabs(got - want) <= std::numeric_limits<T>::epsilon() * want, "ExtSum merge t=%d", t);
        const sm::ExtSum<T> l = sm::merge(z, a), r = sm::merge(a, z);
        CHECK(sm_test::same_bits(l.v, a.v) && sm_test::same_bits(l.e, a.e));
        CHECK(sm_test::same_bits(r.v, a.v) && sm_test::same_bits(r.e, a.e));
    }
    const sm::ExtSum<T> zz = sm::merge(z, z);
    CHECK(zz.v == 0 && zz.e == z.e);
}

int main() {
    test_merge_trees<float>();
    if (sm_test::wide_reference<double>()) test_merge_trees<double>();
    test_empty<float>();
    test_empty<double>();
    test_nonfinite<float>();
    test_nonfinite<double>();
    if (sm_test::wide_reference<double>()) test_log1p_accuracy();
    test_sign<float>();
    test_sign<double>();
    test_sign_nan_weight_at_max<float>();
    test_sign_nan_weight_at_max<double>();
    test_extsum<float>();
    test_extsum<double>();
    return sm_test::finish("test_lse_state");
}
