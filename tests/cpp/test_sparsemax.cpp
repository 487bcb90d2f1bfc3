// stablemath/sparsemax.hpp: the row algorithms against a long double sort-based reference, the
// non-finite policy, and the strided drivers (sparsemax, backward, loss) against the row API
// applied to rows gathered by hand. Run once per kernel table (STABLEMATH_ISA).
#include <stablemath/sparsemax.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sm = stablemath;
using Algo = sm::SparsemaxAlgorithm;

namespace {

// Martins & Astudillo's sort algorithm in long double.
std::vector<long double> reference(const std::vector<double>& x) {
    std::vector<long double> z(x.begin(), x.end()), s(z);
    std::sort(s.begin(), s.end(), std::greater<long double>());
    long double cs = 0, tau = 0;
    for (std::size_t k = 0; k < s.size(); ++k) {
        cs += s[k];
        if (1 + (k + 1) * s[k] > cs) tau = (cs - 1) / (k + 1);
    }
    for (auto& v : z) v = std::max(v - tau, 0.0L);
    return z;
}

template <class T>
void check_rows() {
    std::mt19937_64 rng(7);
    std::normal_distribution<double> nd;
    const double tol = sizeof(T) == 8 ? 1e-14 : 4e-7;
    for (std::size_t n : {1u, 2u, 3u, 31u, 32u, 33u, 200u, 1000u, 5000u, 140001u}) {
        for (double scale : {1e-3, 0.2, 1.0, 30.0}) {
            std::vector<double> xd(n);
            std::vector<T> x(n), y(n);
            for (std::size_t i = 0; i < n; ++i) x[i] = static_cast<T>(nd(rng) * scale), xd[i] = x[i];
            const auto ref = reference(xd);
            const double xmax = *std::max_element(xd.begin(), xd.end());
            std::vector<T> first;
            for (Algo a : {Algo::sort, Algo::pivot, Algo::bisect, Algo::automatic}) {
                sm::sparsemax(x.data(), y.data(), n, a);
                double sum = 0, err = 0;
                bool zeros = true;
                for (std::size_t i = 0; i < n; ++i) {
                    sum += y[i];
                    err = std::max(err, std::fabs(static_cast<double>(y[i] - ref[i])));
                    if (ref[i] == 0 && xd[i] < xmax - 1) zeros &= y[i] == T(0);
                }
                CHECK_MSG(err <= tol, "n=%zu scale=%g algo=%d err=%g", n, scale, static_cast<int>(a), err);
                CHECK_MSG(std::fabs(sum - 1) <= 8 * tol, "n=%zu sum=%.17g", n, sum);
                CHECK(zeros);
                if (first.empty()) first = y;
                for (std::size_t i = 0; i < n; ++i) CHECK((y[i] == 0) == (first[i] == 0));
            }
        }
    }
}

void check_nonfinite() {
    const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
    auto run = [](std::vector<double> x) {
        std::vector<double> y(x.size());
        sm::sparsemax(x.data(), y.data(), x.size());
        return y;
    };
    auto y = run({inf, 1.0, inf, -inf});
    CHECK(y[0] == 0.5 && y[1] == 0 && y[2] == 0.5 && y[3] == 0);
    y = run({-inf, 2.0, 1.5});
    CHECK(y[0] == 0 && std::fabs(y[1] - 0.75) < 1e-15 && std::fabs(y[2] - 0.25) < 1e-15);
    for (const auto& r : {run({1.0, nan, 2.0}), run({-inf, -inf}), run({nan}), run({inf, nan})})
        for (double v : r) CHECK(std::isnan(v));
    y = run({5.0, 5.0, 5.0, 5.0});
    for (double v : y) CHECK(v == 0.25);
}

// x[4][50][6] (C order) along axis 1, against the row API on gathered rows (bitwise); then the
// backward and the loss against naive formulas.
void check_strided() {
    std::mt19937_64 rng(11);
    std::normal_distribution<double> nd;
    const std::int64_t shape[3] = {4, 50, 6}, strides[3] = {300, 6, 1};
    std::vector<double> x(1200), y(1200), g(1200), gx(1200);
    for (auto& v : x) v = nd(rng) * 0.3;
    for (auto& v : g) v = nd(rng);
    sm::ArrayRef xr{x.data(), sm::DType::float64, 3, shape, strides}, yr{y.data(), sm::DType::float64, 3, shape, strides};
    sm::cpu::sparsemax(xr, 1, yr);
    sm::ArrayRef gr{g.data(), sm::DType::float64, 3, shape, strides}, gxr{gx.data(), sm::DType::float64, 3, shape, strides};
    sm::cpu::sparsemax_backward(yr, gr, 1, gxr);
    std::vector<std::int64_t> target(24);
    for (std::size_t r = 0; r < 24; ++r) target[r] = static_cast<std::int64_t>((r * 7) % 50);
    std::vector<double> loss(24);
    sm::cpu::sparsemax_loss(xr, 1, target.data(), loss.data());
    for (int a = 0; a < 4; ++a)
        for (int c = 0; c < 6; ++c) {
            std::vector<double> row(50), out(50);
            for (int i = 0; i < 50; ++i) row[i] = x[a * 300 + i * 6 + c];
            sm::sparsemax(row.data(), out.data(), 50);
            double gs = 0, cnt = 0, mx = *std::max_element(row.begin(), row.end()), lin = 0, pp = 0;
            for (int i = 0; i < 50; ++i) {
                CHECK_EQ_BITS(out[i], y[a * 300 + i * 6 + c]);
                if (out[i] > 0) gs += g[a * 300 + i * 6 + c], cnt += 1;
                const int t = static_cast<int>(target[a * 6 + c]);
                lin += (out[i] - (i == t)) * (row[i] - mx);
                pp += out[i] * out[i];
            }
            for (int i = 0; i < 50; ++i) {
                const double want = out[i] > 0 ? g[a * 300 + i * 6 + c] - gs / cnt : 0.0;
                CHECK(std::fabs(gx[a * 300 + i * 6 + c] - want) <= 1e-14);
            }
            CHECK(std::fabs(loss[a * 6 + c] - (lin + 0.5 * (1 - pp))) <= 1e-13);
        }
    // float16 storage: computed in float on the widened values, narrowed once.
    std::vector<sm::float16_t> h(1200), hy(1200);
    for (std::size_t i = 0; i < 1200; ++i) h[i] = sm::detail::narrow<sm::float16_t>(static_cast<float>(x[i]));
    sm::ArrayRef hr{h.data(), sm::DType::float16, 3, shape, strides}, hyr{hy.data(), sm::DType::float16, 3, shape, strides};
    sm::cpu::sparsemax(hr, 1, hyr);
    for (int a = 0; a < 4; ++a)
        for (int c = 0; c < 6; ++c) {
            std::vector<float> row(50), out(50);
            for (int i = 0; i < 50; ++i) row[i] = sm::detail::widen(h[a * 300 + i * 6 + c]);
            sm::sparsemax(row.data(), out.data(), 50);
            for (int i = 0; i < 50; ++i)
                CHECK_EQ_BITS(sm::detail::narrow<sm::float16_t>(out[i]).bits, hy[a * 300 + i * 6 + c].bits);
        }
}

}  // namespace

int main() {
    if (sm_test::requested_isa_unavailable()) {
        std::printf("requested kernel table not supported by this CPU: skipped\n");
        return sm_test::kSkipCode;
    }
    std::printf("kernel table: %s\n", sm::cpu::kernels<float>().isa);
    check_rows<double>();
    check_rows<float>();
    check_nonfinite();
    check_strided();
    return sm_test::finish("test_sparsemax");
}
