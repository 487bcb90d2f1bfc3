// Batched (double) log-Bessel functions and ratios: the loop-friendly form of bessel.hpp for the
// CPU element-wise driver. The math is the scalar code's (same expansions, coefficient tables and
// term counts); the work is reordered so that the uniform region R = sqrt(v^2 + x^2) >= 25, where
// most arguments of practical interest lie, runs in vectorised loops.
//
// A batch of n <= kBesselBatch (v, x) pairs is
//   1. classified in a vectorised loop: elements of the uniform region with arguments in
//      [1e-140, 1e150) (so that R, q = v/x and R/x neither overflow nor underflow) get R and their
//      Debye term count K (debye_terms_double: a branch-free count, 1..23); the others K = 0;
//   2. partitioned: elements with K = 0 are computed at once by the scalar function, the others
//      counting-sorted by K; elements with R < 25 (the I functions for x >= 1e-10, the K functions
//      for x >= 1e-300) are instead sorted by a bucket of x and run through lane-parallel forms of the scalar
//      code's series, continued fraction, integral and recurrences (small_*_run below);
//   3. each run of equal K evaluates the Debye sums in a loop with a compile-time K: the switch of
//      debye_u_tail / debye_q_sum folds to straight-line polynomials that the compiler vectorises
//      under the caller's ISA (the scalar code instead mispredicts a jump per element on mixed input);
//   4. finished in vectorised loops: the ratios directly; the logs with the branch-free log and
//      log1p of log_poly.hpp instead of libm calls, as
//          asinh(q) = log1p(q (1 + q / (1 + sqrt(1 + q^2)))),   sqrt(1 + q^2) = R / x,
//          log1p(SU) - log(R) / 2 = -log(R / (1 + SU)^2) / 2;
//      elements whose phase needs double-double (1.2 <= v/x <= 1.9, bessel_uniform.hpp) are
//      gathered and get it in one more vector loop.
// Results differ from the scalar functions by up to a few units of 1e-15 relative to max(1, |log|)
// and a few ulp in the ratios (FMA contraction, the logs above, the order of operations of the
// lane forms): tests/cpp/test_bessel_batch.cpp.
//
// Bodies are SM_FORCE_INLINE so that the per-ISA wrappers (cpu/bessel_batch.hpp) compile them with
// their target attribute; the per-K runs are `flatten` functions there, which inlines the
// coefficient switches (plain `inline` in the scalar code) so that the constant K folds them.
#pragma once
#include <cmath>
#include <cstddef>
#include "../bessel.hpp"
#include "bessel_dd.hpp"
#include "exp_poly.hpp"
#include "log_poly.hpp"
#include "sinc_poly.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace bessel {

// Which function a batch computes (the codes of the Python binding).
enum BatchOp : int { op_log_i = 0, op_log_k = 1, op_log_ie = 2, op_log_ke = 3, op_i_ratio = 4, op_k_ratio = 5 };
constexpr std::size_t kBesselBatch = 512;  // measured: 512 is ~10% faster than 256 (fuller R < 25 blocks), as fast as 2048

// Lanes per block of the vector loops: fixed-size inner loops vectorise even under gcc's -O2 cost
// model. A run of equal K is processed in whole blocks; the overrun into the next run (or into the
// padding after the last element) computes values that are overwritten later or never read.
constexpr std::size_t kLanes = 8;
constexpr std::size_t kBatchPad = kBesselBatch + 2 * kLanes;

struct BatchScratch {
    double v[kBesselBatch], R[kBesselBatch], K[kBesselBatch];
    // sorted by K, padded:
    double sv[kBatchPad], sx[kBatchPad], sR[kBatchPad], w[kBatchPad], tau[kBatchPad], su[kBatchPad], sq[kBatchPad];
    int sidx[kBesselBatch];
    // elements whose phase needs double-double (batch_finish_log)
    int bidx[kBesselBatch];
    double bv[kBesselBatch + kLanes], bx[kBesselBatch + kLanes];
    // R < 25 elements of the lane forms (small_*_run), sorted by bucket, padded
    double lv[kBesselBatch + 2 * kLanes], lx[kBesselBatch + 2 * kLanes], lres[kBesselBatch + 2 * kLanes];
    int lidx[kBesselBatch];
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

// body(i) for i in [0, n): whole blocks of kLanes (vectorised), then the rest one by one.
template <class F>
SM_FORCE_INLINE void for_lanes(std::size_t n, F&& body) {
    std::size_t i0 = 0;
    for (; i0 + kLanes <= n; i0 += kLanes)
        for (std::size_t l = 0; l < kLanes; ++l) body(i0 + l);
    for (; i0 < n; ++i0) body(i0);
}

// n rounded up to whole blocks of kLanes.
constexpr std::size_t lanes_ceil(std::size_t n) { return (n + kLanes - 1) / kLanes * kLanes; }

// The largest of a block's kLanes values (>= 0). A separate loop: a max reduction inside a lane
// loop keeps gcc from vectorising that loop (without -ffast-math).
SM_FORCE_INLINE double lanes_max(const double* a) {
    double m = 0.0;
    for (std::size_t l = 0; l < kLanes; ++l) m = a[l] > m ? a[l] : m;
    return m;
}

// body(j) for j in [0, n), n a multiple of kLanes (the padded arrays).
template <class F>
SM_FORCE_INLINE void for_blocks(std::size_t n, F&& body) {
    for (std::size_t j0 = 0; j0 < n; j0 += kLanes)
        for (std::size_t l = 0; l < kLanes; ++l) body(j0 + l);
}

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

// Runner::run<Kc, Neg, Q> is debye_run compiled for the caller's ISA (cpu/detail/bessel_batch_instances.inc),
// Runner::phase_dd_run likewise phase_dd_run.
template <class Runner, bool Neg, bool Q, int Kc = 1>
SM_FORCE_INLINE void debye_dispatch(int K, const double* w, const double* tau, double* su, double* sq, std::size_t n) {
    if constexpr (Kc < bessel_coeffs::debye_kmax) {
        if (K != Kc) return debye_dispatch<Runner, Neg, Q, Kc + 1>(K, w, tau, su, sq, n);
    }
    Runner::template run<Kc, Neg, Q>(w, tau, su, sq, n);
}

// ---- R < 25: lane-parallel forms of bessel_i_series.hpp, bessel_k_integral.hpp, ------------------
// ---- bessel_k_recurrence.hpp -------------------------------------------------------------------
// The batch runs the scalar code's series, continued fraction, integral and recurrences over blocks
// of kLanes elements, sorted by a bucket of x (kSmallBuckets) so that a block's elements need
// similar term counts; every
// lane takes its block's largest count (series: extra terms only add below the rounding of the sum;
// fraction, integral and recurrences: lanes stop at their own depth by a select). The kLanes
// independent chains keep the core busy where the scalar code waits on one chain per element, and
// no division sits on a chain. For I: v in [0, 25), x in [1e-10, 25) (the range of series_lead's
// product form); log Gamma(1 + f), f in [0, 1), comes from Temme's 1/Gamma(1 + z) polynomial
// (|z| <= 1/2) for f < 1/2 and through Gamma(1 + f) = f Gamma(f) for f >= 1/2, where the scalar code
// calls lgamma. For K: x in [1e-300, 1/2] Temme's series, x in (1/2, 25) the integral.
constexpr double kSmallXMin = 1e-10;
constexpr double kSmallKXMin = 1e-300;  // K: Temme's series for x <= 1/2 (pow keeps x/2 normal)
// Buckets: floor(x) for I; for K, 0 = Temme's series (x <= 1/2), 1 + floor(x) = the integral.
constexpr int kSmallBuckets = 26;

// log I_v(x) (series_log_i) for n (a multiple of kLanes) elements, kLanes at a time.
SM_FORCE_INLINE void small_log_i_run(const double* v, const double* x, double* out, std::size_t n) {
    constexpr std::size_t L = kLanes;
    constexpr double tol = 0x1p-56;
    for (std::size_t j0 = 0; j0 < n; j0 += L) {
        double a[L], b[L], d[L], y[L], vv[L], hx[L], nf[L];
        for (std::size_t l = 0; l < L; ++l) {
            vv[l] = v[j0 + l];
            hx[l] = 0.5 * x[j0 + l];
            y[l] = hx[l] * hx[l];
            a[l] = 0.0;
            b[l] = 1.0;
            d[l] = 1.0;
            nf[l] = std::floor(vv[l]);
        }
        const double nmax = lanes_max(nf);
        // The series as A/D (see series_log_i), until every lane's last term is below tol.
        for (int k = 1; k <= 90; ++k) {
            const double dk = static_cast<double>(k);
            int open = 0;
            for (std::size_t l = 0; l < L; ++l) {
                const double c = dk * (vv[l] + dk);
                b[l] *= y[l];
                a[l] = a[l] * c + b[l];
                d[l] *= c;
                open += b[l] > tol * (d[l] + a[l]) ? 1 : 0;
            }
            if (open == 0) break;
        }
        // series_lead: (x/2)^n / prod_{j<=n} (f + j), n = floor(v), f + j = v - (n - j) exact.
        double num[L], den[L];
        for (std::size_t l = 0; l < L; ++l) num[l] = den[l] = 1.0;
        for (double j = 1.0; j <= nmax; j += 1.0) {
            for (std::size_t l = 0; l < L; ++l) {
                const bool on = j <= nf[l];
                const double fj = vv[l] - (nf[l] - j);
                num[l] *= on ? hx[l] : 1.0;
                den[l] *= on ? fj : 1.0;
            }
        }
        for (std::size_t l = 0; l < L; ++l) {
            const double f = vv[l] - nf[l];
            const double z = f < 0.5 ? f : f - 1.0;
            const double m = z * z;
            // 1/Gamma(1 + z) - 1 = (Gamma_2(z) - 1) - z Gamma_1(z), in [-0.44, 0.13]
            const double r = bessel_coeffs::temme_gamma2_minus1(m) - z * bessel_coeffs::temme_gamma1(m);
            const double lgamma1p_f = log_positive(f >= 0.5 ? f : 1.0) - log1p_finite(r);
            out[j0 + l] = (f * log_positive(hx[l]) - lgamma1p_f + log_positive(num[l] / den[l])) +
                          log1p_nonneg(a[l] / d[l]);
        }
    }
}

// I_{v+1}(x) / I_v(x) (cf_i_ratio) for n (a multiple of kLanes) elements, kLanes at a time.
SM_FORCE_INLINE void small_i_ratio_run(const double* v, const double* x, double* out, std::size_t n) {
    constexpr std::size_t L = kLanes;
    for (std::size_t j0 = 0; j0 < n; j0 += L) {
        double vv[L], x2[L], depth[L], p0[L], p1[L];
        for (std::size_t l = 0; l < L; ++l) {
            const double xl = x[j0 + l];
            vv[l] = v[j0 + l];
            x2[l] = xl * xl;
            depth[l] = std::floor(10.0 + 0.8 * xl + 2.0 * std::sqrt(xl));
            const double nu1 = vv[l] + depth[l] + 1.0;
            p1[l] = 1.0 / (nu1 + std::sqrt(x2[l] + nu1 * nu1));
            p0[l] = 1.0;
        }
        const double kmax = lanes_max(depth);
        for (double k = kmax; k >= 1.0; k -= 1.0) {
            for (std::size_t l = 0; l < L; ++l) {
                const double pm = 2.0 * (vv[l] + k) * p0[l] + x2[l] * p1[l];
                const bool on = k <= depth[l];
                p1[l] = on ? p0[l] : p1[l];
                p0[l] = on ? pm : p0[l];
            }
        }
        for (std::size_t l = 0; l < L; ++l) out[j0 + l] = x[j0 + l] * p1[l] / p0[l];
    }
}

// log K_v(x) (Scaled: log(e^x K_v(x))) or K_{v+1}/K_v (Ratio) for R < 25 and 1/2 < x < 25:
// k_small's trapezoidal integral (bessel_k_integral.hpp) and forward recurrence
// (bessel_k_recurrence.hpp, its x >= 1 form, which cannot overflow for x > 1/2 either), kLanes
// elements at a time: each lane takes its own step h and node count (lanes past their last node
// add 0), and the exponential is exp_poly.hpp's inline one instead of a library call per node.
// v: |v| for log K, the signed order (>= -1/2) for the ratio. n: a multiple of kLanes.
template <bool Ratio, bool Scaled>
SM_FORCE_INLINE void small_k_run(const double* v, const double* x, double* out, std::size_t n) {
    constexpr std::size_t L = kLanes;
    for (std::size_t j0 = 0; j0 < n; j0 += L) {
        double xl[L], mu[L], nf[L], h[L], nodes[L], e1m[L], em[L], emi[L], e1[L], e1i[L];
        double ej[L], am[L], ami[L], a1[L], a1i[L], s0[L], c0[L], s1[L], c1[L];
        for (std::size_t l = 0; l < L; ++l) {  // (no max reduction in here: it would keep the loop scalar)
            xl[l] = x[j0 + l];
            nf[l] = std::floor(v[j0 + l] + 0.5);
            mu[l] = v[j0 + l] - nf[l];
            const double hl = 0.58 / std::sqrt(xl[l] + 0.5);
            h[l] = hl < 0.2 ? hl : 0.2;
            // Last node: 2x sinh^2(t/2) - 1.5 t >= 44 (integral_k_scaled); asinh(s) = log(s + sqrt(1 + s^2)).
            const double s1a = std::sqrt(22.0 / xl[l]);
            const double tm1 = 2.0 * log_positive(s1a + std::sqrt(1.0 + s1a * s1a));
            const double s2a = std::sqrt((44.0 + 1.5 * tm1) / (2.0 * xl[l]));
            const double tm = 2.0 * log_positive(s2a + std::sqrt(1.0 + s2a * s2a));
            const double nd = std::ceil(tm / h[l]);
            nodes[l] = nd < 48.0 ? nd : 48.0;
        }
        const double nmax = lanes_max(nodes), rmax = lanes_max(nf);
        for (std::size_t l = 0; l < L; ++l) {  // library calls, once per element
            e1m[l] = std::expm1(h[l]);
            em[l] = std::exp(mu[l] * h[l]);
        }
        for (std::size_t l = 0; l < L; ++l) {
            e1[l] = 1.0 + e1m[l];
            emi[l] = 1.0 / em[l];
            e1i[l] = 1.0 / e1[l];
            ej[l] = 0.0;
            am[l] = ami[l] = a1[l] = a1i[l] = 1.0;
            s0[l] = s1[l] = 0.5;
            c0[l] = c1[l] = 0.0;
        }
        for (double j = 1.0; j <= nmax; j += 1.0) {
            for (std::size_t l = 0; l < L; ++l) {
                ej[l] += e1m[l] * (1.0 + ej[l]);
                am[l] *= em[l];
                ami[l] *= emi[l];
                a1[l] *= e1[l];
                a1i[l] *= e1i[l];
                const double g = exp_nonpositive(-xl[l] * ej[l] * ej[l] / (2.0 * (1.0 + ej[l])));
                const double gj = j <= nodes[l] ? g : 0.0;
                const dd::DD t0 = dd::two_sum(s0[l], gj * 0.5 * (am[l] + ami[l]));
                const dd::DD t1 = dd::two_sum(s1[l], gj * 0.5 * (am[l] * a1[l] + ami[l] * a1i[l]));
                s0[l] = t0.hi;
                c0[l] += t0.lo;
                s1[l] = t1.hi;
                c1[l] += t1.lo;
            }
        }
        // K_{mu+j} / K_mu by the forward recurrence, to j = round(v).
        double p0[L], p1[L], lk[L];
        for (std::size_t l = 0; l < L; ++l) {
            const double k0 = s0[l] + c0[l], k1 = s1[l] + c1[l];
            lk[l] = log_positive(h[l] * k0);
            p0[l] = 1.0;
            p1[l] = k1 / k0;  // K_{mu+1} / K_mu
        }
        for (double j = 1.0; j <= rmax; j += 1.0) {
            for (std::size_t l = 0; l < L; ++l) {
                const double pn = 2.0 * (mu[l] + j) / xl[l] * p1[l] + p0[l];
                const bool on = j <= nf[l];
                p0[l] = on ? p1[l] : p0[l];
                p1[l] = on ? pn : p1[l];
            }
        }
        for (std::size_t l = 0; l < L; ++l) {
            if constexpr (Ratio) out[j0 + l] = p1[l] / p0[l];
            else out[j0 + l] = (Scaled ? lk[l] : lk[l] - xl[l]) + log_positive(p0[l]);
        }
    }
}

// Temme's series for K_mu, K_{mu+1} (bessel_k_temme.hpp, x <= 1/2, x >= 1e-300) and the forward
// recurrence in its x < 1 form (bessel_k_recurrence.hpp), kLanes elements at a time. One library
// call per element, pow for (x/2)^mu (bessel_k_temme.hpp says why not exp(mu L)); (x/2)^-mu is its
// reciprocal (+0.5 ulp), the logs are log_poly.hpp's and mu pi / sin(mu pi), sinh(sigma)/sigma
// sinc_poly.hpp's, so the rest vectorises.
template <bool Ratio, bool Scaled>
SM_FORCE_INLINE void small_k_temme_run(const double* v, const double* x, double* out, std::size_t n) {
    constexpr std::size_t L = kLanes;
    constexpr double tol = 0x1p-56;
    for (std::size_t j0 = 0; j0 < n; j0 += L) {
        double xl[L], hx[L], lhx[L], mu[L], nf[L], m[L], f[L], p[L], q[L], c[L], y[L], sf[L], sh[L], esi[L];
        for (std::size_t l = 0; l < L; ++l) {
            xl[l] = x[j0 + l];
            hx[l] = 0.5 * xl[l];  // exact: x >= 1e-300
            nf[l] = std::floor(v[j0 + l] + 0.5);
            mu[l] = v[j0 + l] - nf[l];
            lhx[l] = log_positive(hx[l]);
        }
        for (std::size_t l = 0; l < L; ++l) esi[l] = std::pow(hx[l], mu[l]);  // the library call
        for (std::size_t l = 0; l < L; ++l) {  // as temme_k<false>
            const double ml = mu[l] * mu[l];
            m[l] = ml;
            const double g1 = bessel_coeffs::temme_gamma1(ml), g2 = bessel_coeffs::temme_gamma2(ml);
            const double Ll = -lhx[l];  // log(2/x)
            const double sig = mu[l] * Ll;
            const double fact = 1.0 / sinc_pi(mu[l]);
            const double es = 1.0 / esi[l];
            const double ch = 0.5 * (es + esi[l]);
            const double shs_l = std::fabs(sig) > 0.5 ? (es - esi[l]) / (2.0 * mu[l]) : sinhc(sig) * Ll;
            f[l] = fact * (ch * g1 + shs_l * g2);
            p[l] = 0.5 * es / (g2 - mu[l] * g1);
            q[l] = 0.5 * esi[l] / (g2 + mu[l] * g1);
            y[l] = 0.25 * xl[l] * xl[l];
            c[l] = 1.0;
            sf[l] = f[l];
            sh[l] = p[l];
        }
        const double rmax = lanes_max(nf);
        for (int k = 1; k <= 30; ++k) {
            const double dk = static_cast<double>(k);
            int open = 0;
            for (std::size_t l = 0; l < L; ++l) {
                f[l] = (dk * f[l] + p[l] + q[l]) / (dk * dk - m[l]);
                p[l] /= dk - mu[l];
                q[l] /= dk + mu[l];
                c[l] *= y[l] / dk;
                const double tf = c[l] * f[l], th = c[l] * (p[l] - dk * f[l]);
                sf[l] += tf;
                sh[l] += th;
                open += (std::fabs(tf) <= tol * std::fabs(sf[l]) && std::fabs(th) <= tol * std::fabs(sh[l])) ? 0 : 1;
            }
            if (open == 0) break;
        }
        // P_j = x^j K_{mu+j} / K_mu: P_{j+1} = 2(mu+j) P_j + x^2 P_{j-1}, to j = round(v).
        double p0[L], p1[L];
        for (std::size_t l = 0; l < L; ++l) {
            p0[l] = 1.0;
            p1[l] = 2.0 * sh[l] / sf[l];  // g = x K_{mu+1} / K_mu
        }
        for (double j = 1.0; j <= rmax; j += 1.0) {
            for (std::size_t l = 0; l < L; ++l) {
                const double pn = 2.0 * (mu[l] + j) * p1[l] + xl[l] * xl[l] * p0[l];
                const bool on = j <= nf[l];
                p0[l] = on ? p1[l] : p0[l];
                p1[l] = on ? pn : p1[l];
            }
        }
        for (std::size_t l = 0; l < L; ++l) {
            if constexpr (Ratio) {
                out[j0 + l] = p1[l] / p0[l] / xl[l];
            } else {
                const double lk = log_positive(sf[l]) + (Scaled ? xl[l] : 0.0);
                out[j0 + l] = lk + (log_positive(p0[l]) - nf[l] * (lhx[l] + bessel_coeffs::ln2));
            }
        }
    }
}

// Step 1: s.v = the order the uniform branch sees (|v| for log K, v itself for ratios), s.R, and
// s.K = the Debye term count, -1 - bucket for the R < 25 elements of the lane forms, or 0 for
// elements left to the scalar function.
template <int Op>
SM_FORCE_INLINE void batch_classify(const double* v, const double* x, std::size_t n, BatchScratch& s) {
    constexpr bool abs_order = Op == op_log_k || Op == op_log_ke;
    constexpr double vmin = Op == op_k_ratio ? -0.5 : 0.0;
    constexpr double r_min2 = bessel_coeffs::uniform_r_min * bessel_coeffs::uniform_r_min;
    constexpr bool small_i = Op == op_log_i || Op == op_log_ie || Op == op_i_ratio;
    for_lanes(n, [&](std::size_t i) {
        const double xi = x[i];
        const double va = abs_order ? std::fabs(v[i]) : v[i];
        const double av = std::fabs(va);
        const double r2 = std::fma(av, av, xi * xi);
        // & rather than &&: no branches in the vector loop (NaN fails every comparison).
        const bool keep = (va >= vmin) & (xi >= 1e-140) & (xi < 1e150) & (av < 1e150) & (r2 >= r_min2);
        const double R = std::sqrt(keep ? r2 : 1.0);
        s.v[i] = va;
        s.R[i] = R;
        // R < 25 elements of the lane forms: -1 - bucket (small_*_run).
        const bool small = (small_i ? (va >= 0.0) & (xi >= kSmallXMin) : (va >= vmin) & (xi >= kSmallKXMin)) &
                           (r2 < r_min2);
        const double bucket = small_i ? std::floor(xi) : xi <= temme_x_max ? 0.0 : 1.0 + std::floor(xi);
        s.K[i] = keep ? bessel_coeffs::debye_terms_double<double>(R) : small ? -1.0 - bucket : 0.0;
    });
}

// phase_dd over a block-padded array (in place: v[i] <- phase(v[i], x[i])); Runner::phase_dd_run.
SM_FORCE_INLINE void phase_dd_run(double* v, const double* x, std::size_t n) {
    for_blocks(n, [&](std::size_t i) { v[i] = phase_dd(v[i], x[i]); });
}

// Step 4 for the logs: out-of-order results res[j] for the sorted elements j < mp.
template <int Op, class Runner>
SM_FORCE_INLINE void batch_finish_log(std::size_t m, std::size_t mp, BatchScratch& s, double* res) {
    constexpr bool is_i = Op == op_log_i || Op == op_log_ie;
    constexpr bool scaled = Op == op_log_ie || Op == op_log_ke;
    constexpr double c = is_i ? -bessel_coeffs::half_log_2pi : bessel_coeffs::half_log_pi_2;
    double* rest = s.w;   // free after the Debye sums
    double* band = s.sq;  // (no Q sums for the logs)
    for_blocks(mp, [&](std::size_t j) {
        const double v = s.sv[j], x = s.sx[j], R = s.sR[j], a = 1.0 + s.su[j];
        const double q = v / x;
        // asinh(q) = log1p(q + q c), c = q / (1 + sqrt(1 + q^2)); plus the rounding error of q,
        // e = (v - q x) / x, through asinh'(q) = x / R (it would dominate for small q).
        const double asinh_q = log1p_nonneg(std::fma(q, q / (1.0 + R / x), q)) + std::fma(-q, x, v) / R;
        // phase_scaled: v^2/(R + x) - v asinh(v/x) = phase - x
        const double ph = scaled ? v * (v / (R + x)) - v * asinh_q : R - v * asinh_q;
        const double r = -0.5 * log_positive(R / (a * a)) + c;
        res[j] = is_i ? ph + r : r - ph;
        rest[j] = r;
        band[j] = (q >= 1.2) & (q <= 1.9) ? 1.0 : 0.0;
    });
    if constexpr (!scaled) {
        // Near the phase's zero the double difference above loses digits: bessel_uniform.hpp's
        // phase() takes double-double for these q. The few such elements are gathered (branch-free)
        // and their dd phases computed in one vector loop.
        std::size_t nb = 0;
        int* bidx = s.bidx;
        for (std::size_t j = 0; j < m; ++j) {
            bidx[nb] = static_cast<int>(j);
            nb += band[j] != 0.0 ? 1 : 0;
        }
        if (nb == 0) return;
        double* bv = s.bv;
        double* bx = s.bx;
        const std::size_t nbp = lanes_ceil(nb);
        for (std::size_t b = 0; b < nbp; ++b) {
            const std::size_t j = b < nb ? static_cast<std::size_t>(bidx[b]) : 0;
            bv[b] = b < nb ? s.sv[j] : 1.5;
            bx[b] = b < nb ? s.sx[j] : 1.0;
        }
        Runner::phase_dd_run(bv, bx, nbp);
        for (std::size_t b = 0; b < nb; ++b) {
            const std::size_t j = static_cast<std::size_t>(bidx[b]);
            res[j] = is_i ? bv[b] + rest[j] : rest[j] - bv[b];
        }
    }
}

// Step 4 for the ratios.
template <int Op>
SM_FORCE_INLINE void batch_finish_ratio(std::size_t mp, BatchScratch& s, double* res) {
    for_blocks(mp, [&](std::size_t j) {
        const double R = s.sR[j], w = s.w[j];
        const double t = s.sv[j] / R, sx = s.sx[j] / R;
        if constexpr (Op == op_i_ratio) res[j] = sx * (1.0 / (1.0 + t) - w * s.sq[j] / (1.0 + s.su[j]));
        else res[j] = (1.0 + t) / sx + sx * w * s.sq[j] / (1.0 + s.su[j]);
    });
}

// Step 2' for the ns R < 25 elements (already sorted into s.lv, s.lx, s.lidx): the lane-parallel
// runs, scatter.
// For K, the first n_temme elements (bucket 0) take Temme's series, the rest the integral; the
// Temme run's last block may reach into the integral elements, whose results the integral run
// then overwrites.
template <int Op, class Runner>
SM_FORCE_INLINE void batch_small(std::size_t ns, std::size_t n_temme, BatchScratch& s, double* out) {
    const std::size_t np = lanes_ceil(ns);
    for (std::size_t j = ns; j < np + kLanes; ++j) {
        s.lv[j] = 0.0;
        s.lx[j] = 1.0;
    }
    constexpr bool ratio_k = Op == op_k_ratio, scaled_k = Op == op_log_ke;
    if constexpr (Op == op_i_ratio) Runner::small_i_ratio_run(s.lv, s.lx, s.lres, np);
    else if constexpr (Op == op_log_i || Op == op_log_ie) Runner::small_log_i_run(s.lv, s.lx, s.lres, np);
    else {
        const std::size_t tp = lanes_ceil(n_temme);
        if (tp > 0) Runner::template small_k_temme_run<ratio_k, scaled_k>(s.lv, s.lx, s.lres, tp);
        const std::size_t rest = lanes_ceil(ns - n_temme);
        if (rest > 0)
            Runner::template small_k_run<ratio_k, scaled_k>(s.lv + n_temme, s.lx + n_temme, s.lres + n_temme, rest);
    }
    for (std::size_t j = 0; j < ns; ++j) out[s.lidx[j]] = Op == op_log_ie ? s.lres[j] - s.lx[j] : s.lres[j];
}

template <int Op, class Runner>
SM_FORCE_INLINE void batch_body(const double* v, const double* x, double* out, std::size_t n, BatchScratch& s) {
    constexpr bool neg = !(Op == op_log_i || Op == op_log_ie || Op == op_i_ratio);
    constexpr bool ratio = Op == op_i_ratio || Op == op_k_ratio;
    constexpr int KM = bessel_coeffs::debye_kmax;
    // 1. classify.
    batch_classify<Op>(v, x, n, s);
    // 2. One counting sort for every class, key 1..KM: Debye K; KM + 1 + b: R < 25 in bucket b
    // (s.K = -1 - b); 0: the scalar function. On mixed input a branch per class mispredicts; here
    // only the rare scalar elements take one.
    constexpr int kKeys = KM + 1 + kSmallBuckets;
    int pos[kKeys + 1] = {}, key[kBesselBatch];
    for (std::size_t i = 0; i < n; ++i) {
        const int K = static_cast<int>(s.K[i]);
        const int k = K >= 0 ? K : KM - K;
        key[i] = k;
        ++pos[k];
    }
    if (pos[0] > 0) {
        for (std::size_t i = 0; i < n; ++i)
            if (key[i] == 0) out[i] = batch_scalar(Op, v[i], x[i]);
    }
    // Positions: the uniform keys from 0 in s.sv..., the R < 25 keys from 0 in s.lv...
    int start[KM + 2];
    int run = 0;
    for (int k = 1; k <= KM; ++k) {
        start[k] = run;
        const int c = pos[k];
        pos[k] = run;
        run += c;
    }
    start[KM + 1] = run;
    const std::size_t m = static_cast<std::size_t>(run);
    run = 0;
    for (int k = KM + 1; k <= kKeys; ++k) {
        const int c = pos[k];
        pos[k] = run;
        run += c;
    }
    const std::size_t ns = static_cast<std::size_t>(run);
    for (std::size_t i = 0; i < n; ++i) {
        const int k = key[i];
        if (k == 0) continue;
        const bool uniform = k <= KM;
        const int p = pos[k]++;
        (uniform ? s.sv : s.lv)[p] = s.v[i];
        (uniform ? s.sx : s.lx)[p] = x[i];
        (uniform ? s.sR : s.lres)[p] = s.R[i];  // (lres: scratch until the R < 25 runs)
        (uniform ? s.sidx : s.lidx)[p] = static_cast<int>(i);
    }
    if (ns > 0) batch_small<Op, Runner>(ns, static_cast<std::size_t>(pos[KM + 1]), s, out);
    if (m == 0) return;
    // 3. Debye sums per run of equal K. The padding [m, mp + kLanes) gets harmless values (R = 1,
    // v = 0, x = 1, sums 0): a run's last block reads and writes at most kLanes - 1 elements past m,
    // and the finishing loops read up to mp, so every element read has been written.
    const std::size_t mp = lanes_ceil(m);
    for (std::size_t j = m; j < mp + kLanes; ++j) {
        s.sv[j] = 0.0;
        s.sx[j] = 1.0;
        s.sR[j] = 1.0;
        s.su[j] = 0.0;
        s.sq[j] = 0.0;
    }
    for_blocks(mp + kLanes, [&](std::size_t j) {
        const double t = s.sv[j] / s.sR[j];
        s.tau[j] = t * t;
        s.w[j] = 1.0 / s.sR[j];
    });
    for (int k = 1; k <= KM; ++k) {
        const std::size_t b = static_cast<std::size_t>(start[k]), e = static_cast<std::size_t>(start[k + 1]);
        if (e > b) debye_dispatch<Runner, neg, ratio>(k, s.w + b, s.tau + b, s.su + b, s.sq + b, e - b);
    }
    // 4. finish into s.tau (free now), then scatter.
    double* res = s.tau;
    if constexpr (ratio) batch_finish_ratio<Op>(mp, s, res);
    else batch_finish_log<Op, Runner>(m, mp, s, res);
    for (std::size_t j = 0; j < m; ++j) out[s.sidx[j]] = res[j];
}

}  // namespace bessel
}  // namespace detail
STABLEMATH_NAMESPACE_END
