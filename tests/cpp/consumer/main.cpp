// Downstream use of an installed stablemath: logsumexp, softmax and log_softmax of a small row,
// the strided N-d API, checked against values computed by hand. Exit code 0 on success.
#include <stablemath/stablemath.hpp>
#include <stablemath/cpu/strided.hpp>

#include <cmath>
#include <cstdint>
#include <cstdio>

static int failures = 0;

static void expect_near(const char* what, double got, double want, double tol) {
    if (!(std::fabs(got - want) <= tol)) {
        std::printf("MISMATCH %s: got %.17g, want %.17g\n", what, got, want);
        ++failures;
    }
}

int main() {
    static_assert(STABLEMATH_VERSION_MAJOR == 0 && STABLEMATH_VERSION_MINOR == 1, "unexpected stablemath version");

    // x = (1, 2, 3):  sum e^x = e + e^2 + e^3 = 30.192874850577...
    //   logsumexp = 3 + log(1 + e^-1 + e^-2) = 3.40760596444438030448...
    //   softmax   = e^x / sum = (0.09003057317038045800, 0.24472847105479765247, 0.66524095577482188953)
    const double x[3] = {1.0, 2.0, 3.0};
    const double lse = 3.40760596444438030448;
    const double p[3] = {0.09003057317038045800, 0.24472847105479765247, 0.66524095577482188953};

    double sign = 0;
    expect_near("logsumexp<double>", stablemath::logsumexp(x, 3, &sign), lse, 1e-15);
    expect_near("logsumexp sign", sign, 1.0, 0.0);

    double y[3];
    stablemath::softmax(x, y, 3);
    for (int i = 0; i < 3; ++i) expect_near("softmax<double>", y[i], p[i], 4e-16);  // a few ulp
    stablemath::log_softmax(x, y, 3);
    for (int i = 0; i < 3; ++i) expect_near("log_softmax<double>", y[i], x[i] - lse, 1e-15);

    const float xf[3] = {1.0f, 2.0f, 3.0f};
    float yf[3];
    stablemath::SoftmaxOptions opt;
    opt.algorithm = stablemath::SoftmaxAlgorithm::two_pass;
    stablemath::softmax(xf, yf, 3, opt);
    for (int i = 0; i < 3; ++i) expect_near("softmax<float> two_pass", yf[i], p[i], 1e-7);
    expect_near("logsumexp<float>", stablemath::logsumexp(xf, 3), lse, 1e-6);

    // Weighted: log(2e^1 - e^0) = log(2e - 1) = 1.48988012564474977... with sign +1.
    const double b[2] = {2.0, -1.0}, xw[2] = {1.0, 0.0};
    expect_near("weighted logsumexp", stablemath::logsumexp(xw, b, 2, &sign), 1.48988012564474977, 1e-15);
    expect_near("weighted sign", sign, 1.0, 0.0);

    // Strided API: a 2 x 3 float array, softmax along axis 1 (rows (1,2,3) and (0,0,0)) and
    // logsumexp over axis 0 (columns: log(e + 1), log(e^2 + 1), log(e^3 + 1)).
    float a[6] = {1, 2, 3, 0, 0, 0}, out[6];
    const std::int64_t shape[2] = {2, 3}, strides[2] = {3, 1};
    stablemath::ArrayRef ax{a, stablemath::DType::float32, 2, shape, strides};
    stablemath::ArrayRef ao{out, stablemath::DType::float32, 2, shape, strides};
    stablemath::cpu::softmax(ax, 1, nullptr, ao);
    for (int i = 0; i < 3; ++i) expect_near("cpu::softmax row 0", out[i], p[i], 1e-7);
    for (int i = 3; i < 6; ++i) expect_near("cpu::softmax row 1", out[i], 1.0 / 3.0, 1e-7);
    float col[3];
    const std::int64_t col_strides[2] = {0, 1};
    stablemath::ArrayRef ac{col, stablemath::DType::float32, 2, shape, col_strides};
    stablemath::cpu::logsumexp(ax, 1u, nullptr, nullptr, ac);
    const double lse_col[3] = {1.31326168751822283, 2.12692801104297250, 3.04858735157374206};  // log(e^k + 1)
    for (int i = 0; i < 3; ++i) expect_near("cpu::logsumexp axis 0", col[i], lse_col[i], 1e-6);

    std::printf("consumer: %s (kernel table %s)\n", failures ? "FAILED" : "ok", stablemath::cpu::kernels<float>().isa);
    return failures ? 1 : 0;
}
