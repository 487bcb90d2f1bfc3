// stablemath/kde.hpp: kde_log_sums against a long double brute-force log-sum-exp over the full
// kernel matrix, for both kernels, several scales at once, weights (including zero), leave-one-out
// (self term skipped exactly), sizes around the tile edges, and thread-count independence.
// Run once per ISA table (env STABLEMATH_ISA), like the row tests.
#include <stablemath/kde.hpp>

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

using namespace stablemath;

template <class T>
long double brute(const std::vector<T>& X, const std::vector<T>& lw, const T* y, std::size_t n, std::size_t d, T s,
                  KdeKernel kern, long self) {
    std::vector<long double> a(n);
    long double mx = -INFINITY;
    for (std::size_t j = 0; j < n; ++j) {
        long double dot = 0, sq = 0;
        for (std::size_t k = 0; k < d; ++k) {
            const long double df = (long double)y[k] - X[j * d + k];
            dot += (long double)y[k] * X[j * d + k];
            sq += df * df;
        }
        a[j] = (kern == KdeKernel::gaussian ? -0.5L * s * sq : s * dot) + lw[j];
        if ((long)j == self) a[j] = -INFINITY;
        if (a[j] > mx) mx = a[j];
    }
    if (mx == -INFINITY) return mx;
    long double sum = 0;
    for (long double v : a) sum += std::exp(v - mx);
    return mx + std::log(sum);
}

template <class T>
void run_case(std::size_t n, std::size_t m, std::size_t d, KdeKernel kern, bool loo, std::mt19937& g) {
    sm_test::Section sec("n=" + std::to_string(n) + " m=" + std::to_string(m) + " d=" + std::to_string(d) +
                         (kern == KdeKernel::gaussian ? " gauss" : " vmf") + (loo ? " loo" : "") +
                         (sizeof(T) == 4 ? " float" : " double"));
    std::normal_distribution<double> N;
    std::uniform_real_distribution<double> U(0.0, 1.0);
    std::vector<T> X(n * d), lw(n);
    for (std::size_t j = 0; j < n; ++j) {
        double nrm = 0;
        for (std::size_t k = 0; k < d; ++k) { X[j * d + k] = (T)N(g); nrm += (double)X[j * d + k] * X[j * d + k]; }
        if (kern == KdeKernel::vmf)
            for (std::size_t k = 0; k < d; ++k) X[j * d + k] = (T)(X[j * d + k] / std::sqrt(nrm));
        lw[j] = (j % 7 == 3) ? -std::numeric_limits<T>::infinity() : (T)std::log(U(g) + 0.1);
    }
    std::vector<T> Y = loo ? std::vector<T>(X.begin(), X.begin() + m * d) : std::vector<T>(m * d);
    if (!loo)
        for (auto& v : Y) v = (T)(kern == KdeKernel::vmf ? N(g) / std::sqrt((double)d) : 1.3 * N(g));
    const std::vector<T> scales = kern == KdeKernel::gaussian ? std::vector<T>{T(0.05), T(1), T(40) / T(d)}
                                                            : std::vector<T>{T(0.5), T(8), T(100)};
    KdePoints<T> pts(X.data(), n, d, d, lw.data(), kern);
    std::vector<T> out(m * scales.size());
    kde_log_sums(pts, Y.data(), m, d, scales.data(), scales.size(), out.data(), loo ? 0 : -1);
    const long double tol = sizeof(T) == 4 ? 2e-5L : 1e-12L;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t h = 0; h < scales.size(); ++h) {
            const long double ref = brute(X, lw, Y.data() + i * d, n, d, scales[h], kern, loo ? (long)i : -1);
            const long double got = out[i * scales.size() + h];
            const long double scale = 1 + std::fabs(ref) + scales[h] * (kern == KdeKernel::gaussian ? 2.0L * d : 1.0L);
            CHECK_MSG((std::isinf(ref) && got == ref) || std::fabs(got - ref) <= tol * scale,
                      "i=%zu h=%zu got %.12Lg ref %.12Lg", i, h, got, ref);
        }
    // Thread count does not change a single bit.
    std::vector<T> out1(out.size());
    cpu::ThreadPool::instance().set_num_threads(1);
    kde_log_sums(pts, Y.data(), m, d, scales.data(), scales.size(), out1.data(), loo ? 0 : -1);
    cpu::ThreadPool::instance().set_num_threads(2);
    for (std::size_t e = 0; e < out.size(); ++e) CHECK_EQ_BITS(out[e], out1[e]);
}

int main() {
    if (sm_test::requested_isa_unavailable()) return sm_test::kSkipCode;
    std::mt19937 g(42);
    for (KdeKernel kern : {KdeKernel::gaussian, KdeKernel::vmf})
        for (bool loo : {false, true})
            for (auto nmd : {std::vector<std::size_t>{1, 1, 1}, {17, 7, 3}, {100, 65, 2}, {530, 130, 5},
                             {300, 40, 77}, {40, 13, 600}}) {
                const std::size_t n = nmd[0], m = loo ? std::min(nmd[0], nmd[1]) : nmd[1], d = nmd[2];
                run_case<float>(n, m, d, kern, loo, g);
                run_case<double>(n, m, d, kern, loo, g);
            }
    // Many points and one query: the points are split into segments whose states merge.
    run_case<double>(70000, 1, 2, KdeKernel::gaussian, false, g);
    return sm_test::finish("test_kde");
}
