// Batched (double) log-Bessel functions and ratios: the loop-friendly form of bessel.hpp for the
// CPU element-wise driver. The math is the scalar code's: same formulas, same coefficient tables
// (bessel_coeffs.hpp), same term counts; only the order of work changes.
//
// A batch of n <= kBesselBatch (v, x) pairs is
//   1. classified: elements in the uniform region R = sqrt(v^2 + x^2) >= 25 with finite, in-range
//      arguments (max(|v|, x) < 1e150, so hypot_vx is the plain sqrt(fma(v, v, x x))) are kept,
//      every other element is computed at once by the scalar function;
//   2. counting-sorted by their Debye term count K (1..23), so that
//   3. each run of equal K evaluates the Debye sums in a loop with a compile-time K: the switch of
//      debye_u_tail / debye_q_sum folds to straight-line polynomials that the compiler vectorises
//      under the caller's ISA (the scalar code instead mispredicts a jump per element on mixed input);
//   4. the results are finished per element (phase, logs: libm calls as in the scalar code) or, for
//      the ratios, in a vectorisable loop.
// Results differ from the scalar functions only by floating-point contraction (FMA) in the
// polynomials: a few units of 1e-16 (tests/cpp/test_bessel_batch.cpp).
//
// Bodies are SM_FORCE_INLINE so that the per-ISA wrappers (cpu/bessel_batch.hpp) compile them with
// their target attribute; the per-K runs are `flatten` functions there, which inlines the
// coefficient switches (plain `inline` in the scalar code) so that the constant K folds them.
#pragma once
#include <cmath>
#include <cstddef>
#include "../bessel.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// Which function a batch computes (the codes of the Python binding).
enum BatchOp : int { op_log_i = 0, op_log_k = 1, op_log_ie = 2, op_log_ke = 3, op_i_ratio = 4, op_k_ratio = 5 };
constexpr std::size_t kBesselBatch = 256;

constexpr std::size_t kBatchPad = kBesselBatch + 8;  // room for one block of overrun (kLanes)

struct BatchScratch {
    double v[kBesselBatch], x[kBesselBatch], R[kBesselBatch];
    // sorted by K, padded:
    double sv[kBatchPad], sx[kBatchPad], sR[kBatchPad], w[kBatchPad], tau[kBatchPad], su[kBatchPad], sq[kBatchPad];
    int K[kBesselBatch], idx[kBesselBatch], sidx[kBesselBatch];
};

// The scalar function for op.
SM_INLINE double batch_scalar(int op, double v, double x) {
    switch (op) {
    case op_log_i: return log_i_impl<false>(v, x, false);
    case op_log_k: return log_k_impl<false>(v, x, false);
    case op_log_ie: return log_i_impl<false>(v, x, true);
    case op_log_ke: return log_k_impl<false>(v, x, true);
    case op_i_ratio: return i_ratio_impl<false>(v, x);
    default: return k_ratio_impl<false>(v, x);
    }
}

// Debye sums for a run of elements with K = Kc terms; Neg: argument -w (K_v); Q: also the Q sum.
// Lanes per block of the vector loops: fixed-size inner loops vectorise even under gcc's -O2 cost
// model. A run of equal K is processed in whole blocks; the overrun into the next run (or into the
// padding after the last element) computes values that are overwritten later or never read.
constexpr std::size_t kLanes = 8;

// Debye sums for a run of elements with K = Kc terms; Neg: argument -w (K_v); Q: also the Q sum.
template <int Kc, bool Neg, bool Q>
SM_FORCE_INLINE void debye_run(const double* w, const double* tau, double* su, double* sq, std::size_t n) {
    for (std::size_t i0 = 0; i0 < n; i0 += kLanes) {
        for (std::size_t l = 0; l < kLanes; ++l) {
            const std::size_t i = i0 + l;
            const double wi = Neg ? -w[i] : w[i];
            su[i] = bessel_coeffs::debye_u_tail(Kc, wi, tau[i]);
            if (Q) sq[i] = bessel_coeffs::debye_q_sum(Kc, wi, tau[i]);
        }
    }
}

// Runner::run<Kc, Neg, Q> is debye_run compiled for the caller's ISA (cpu/detail/bessel_batch_instances.inc).
template <class Runner, bool Neg, bool Q, int Kc = 1>
SM_FORCE_INLINE void debye_dispatch(int K, const double* w, const double* tau, double* su, double* sq, std::size_t n) {
    if constexpr (Kc < bessel_coeffs::debye_kmax) {
        if (K != Kc) return debye_dispatch<Runner, Neg, Q, Kc + 1>(K, w, tau, su, sq, n);
    }
    Runner::template run<Kc, Neg, Q>(w, tau, su, sq, n);
}

template <int Op, class Runner>
SM_FORCE_INLINE void batch_body(const double* v, const double* x, double* out, std::size_t n, BatchScratch& s) {
    constexpr bool is_i = Op == op_log_i || Op == op_log_ie || Op == op_i_ratio;
    constexpr bool neg = !is_i;
    constexpr bool ratio = Op == op_i_ratio || Op == op_k_ratio;
    constexpr int KM = bessel_coeffs::debye_kmax;
    // 1. classify; the kept elements get R and K.
    int count[KM + 2] = {};
    std::size_t m = 0;
    for (std::size_t i = 0; i < n; ++i) {
        const double vi = v[i], xi = x[i];
        // The order the scalar code passes to its uniform branch: |v| for K, v itself for ratios.
        const double va = (Op == op_log_k || Op == op_log_ke) ? std::fabs(vi) : vi;
        const double vmin = Op == op_k_ratio ? -0.5 : 0.0;
        const double av = std::fabs(va);
        const bool keep = va >= vmin && xi > 0.0 && av < 1e150 && xi < 1e150 && uniform_region(va, xi);
        if (!keep) {
            out[i] = batch_scalar(Op, vi, xi);
            continue;
        }
        const double R = std::sqrt(std::fma(av, av, xi * xi));  // = hypot_vx for these arguments
        const int K = debye_terms<false>(R);
        s.v[m] = va;
        s.x[m] = xi;
        s.R[m] = R;
        s.K[m] = K;
        s.idx[m] = static_cast<int>(i);
        ++count[K + 1];
        ++m;
    }
    if (m == 0) return;
    // 2. counting sort by K.
    for (int k = 1; k <= KM + 1; ++k) count[k] += count[k - 1];
    int start[KM + 2];
    for (int k = 0; k <= KM + 1; ++k) start[k] = count[k];
    for (std::size_t j = 0; j < m; ++j) {
        const int p = count[s.K[j]]++;
        s.sv[p] = s.v[j];
        s.sx[p] = s.x[j];
        s.sR[p] = s.R[j];
        s.sidx[p] = s.idx[j];
    }
    // 3. Debye sums per run of equal K. The padding [m, mp + kLanes) gets harmless values (R = 1,
    // v = 0, sums 0): a run's last block reads and writes at most kLanes - 1 elements past m, and
    // the ratio loop below reads up to mp, so every element read has been written.
    const std::size_t mp = (m + kLanes - 1) / kLanes * kLanes;
    for (std::size_t j = m; j < mp + kLanes; ++j) {
        s.sv[j] = 0.0;
        s.sx[j] = 1.0;
        s.sR[j] = 1.0;
        s.su[j] = 0.0;
        s.sq[j] = 0.0;
    }
    for (std::size_t j0 = 0; j0 < mp + kLanes; j0 += kLanes) {
        for (std::size_t l = 0; l < kLanes; ++l) {
            const std::size_t j = j0 + l;
            const double t = s.sv[j] / s.sR[j];
            s.tau[j] = t * t;
            s.w[j] = 1.0 / s.sR[j];
        }
    }
    for (int k = 1; k <= KM; ++k) {
        const std::size_t b = static_cast<std::size_t>(start[k]), e = static_cast<std::size_t>(start[k + 1]);
        if (e > b) debye_dispatch<Runner, neg, ratio>(k, s.w + b, s.tau + b, s.su + b, s.sq + b, e - b);
    }
    // 4. finish.
    if constexpr (ratio) {
        for (std::size_t j0 = 0; j0 < mp; j0 += kLanes) {
            for (std::size_t l = 0; l < kLanes; ++l) {
                const std::size_t j = j0 + l;
                const double R = s.sR[j], w = s.w[j];
                const double t = s.sv[j] / R, sx = s.sx[j] / R;
                double r;
                if constexpr (Op == op_i_ratio) r = sx * (1.0 / (1.0 + t) - w * s.sq[j] / (1.0 + s.su[j]));
                else r = (1.0 + t) / sx + sx * w * s.sq[j] / (1.0 + s.su[j]);
                s.su[j] = r;
            }
        }
        for (std::size_t j = 0; j < m; ++j) out[s.sidx[j]] = s.su[j];
    } else {
        for (std::size_t j = 0; j < m; ++j) {
            const double vj = s.sv[j], xj = s.sx[j], R = s.sR[j];
            constexpr bool scaled = Op == op_log_ie || Op == op_log_ke;
            const double ph = scaled ? phase_scaled(vj, xj, R) : phase(vj, xj, R);
            const double rest = std::log1p(s.su[j]) - 0.5 * std::log(R);
            out[s.sidx[j]] = is_i ? ph + (rest - bessel_coeffs::half_log_2pi) : -ph + (rest + bessel_coeffs::half_log_pi_2);
        }
    }
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
