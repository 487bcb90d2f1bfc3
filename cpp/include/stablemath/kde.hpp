// Kernel density estimation in log space: streaming log-sum-exp over tiles of (queries x points),
// never materialising the m x n kernel matrix (memory: the packed points plus O(tile) per thread).
//
// For points x_j with log weights lw_j and queries y_i, kde_log_sums computes for each scale s_h
//
//     out[i, h] = log sum_j exp( s_h * min(y_i.x_j + u_j + t_i, cap) + lw_j )
//
//   Gaussian (whitened coordinates):  u_j = -|x_j|^2/2, t_i = -|y_i|^2/2, cap = 0, s = 1/h^2, so the
//       exponent is -|y_i - x_j|^2 / (2 h^2) + lw_j (the GEMM form, blocked like a matrix product).
//   von Mises-Fisher (unit vectors):  u = t = 0, cap = +inf, s = kappa: kappa y.x + lw_j.
//
// The normalising constants (Gaussian: -(d/2) log(2 pi h^2) - log|L|; vMF: log C_d(kappa)) and
// log sum_j w_j are left to the caller. Accuracy: the GEMM form loses about
// eps * s * (|x|^2 + |y|^2) absolutely in each exponent, so centre the data first (the Python layer
// does) and use double where that matters. With loo_offset >= 0 query i is point i + loo_offset and
// its own term is skipped exactly (leave-one-out), not subtracted.
//
// Threads: tasks are (block of 64 queries) x (range of points); their partial LseStates merge in a
// fixed order, so results do not depend on the thread count.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <vector>
#include "config.hpp"
#include "lse_state.hpp"
#include "cpu/kernel_table.hpp"
#include "cpu/thread_pool.hpp"
#include "detail/kde_tile.hpp"

STABLEMATH_NAMESPACE_BEGIN

enum class KdeKernel { gaussian, vmf };

// Points packed once for the tile kernel: panels of P points (d x P, point-contiguous), plus the
// per-point terms u_j and lw_j. Padding points have lw = -inf and contribute nothing.
template <class T>
class KdePoints {
public:
    static constexpr std::size_t P = detail::kde::tile_shape<T>::P;

    // x: n rows of d values, row stride ldx; log_w: n log weights or nullptr (all 0).
    KdePoints(const T* x, std::size_t n, std::size_t d, std::size_t ldx, const T* log_w, KdeKernel kernel)
        : n_(n), d_(d), kernel_(kernel) {
        n_pad_ = (n + P - 1) / P * P;
        panels_.assign(n_pad_ * d, T(0));
        u_.assign(n_pad_, T(0));
        lw_.assign(n_pad_, -std::numeric_limits<T>::infinity());
        const std::size_t npanels = n_pad_ / P;
        cpu::ThreadPool::instance().parallel_for(npanels, [&](std::size_t p) {
            T* panel = panels_.data() + p * P * d;
            for (std::size_t j = 0; j < P && p * P + j < n; ++j) {
                const std::size_t idx = p * P + j;
                const T* row = x + idx * ldx;
                T sq = 0;
                for (std::size_t k = 0; k < d; ++k) {
                    panel[k * P + j] = row[k];
                    sq += row[k] * row[k];
                }
                u_[idx] = kernel == KdeKernel::gaussian ? T(-0.5) * sq : T(0);
                lw_[idx] = log_w ? log_w[idx] : T(0);
            }
        });
    }

    std::size_t n() const { return n_; }
    std::size_t d() const { return d_; }
    KdeKernel kernel() const { return kernel_; }
    std::size_t n_padded() const { return n_pad_; }
    const T* panels() const { return panels_.data(); }
    const T* u() const { return u_.data(); }
    const T* log_weights() const { return lw_.data(); }

private:
    std::size_t n_, d_, n_pad_;
    KdeKernel kernel_;
    std::vector<T> panels_, u_, lw_;
};

namespace cpu {
#if STABLEMATH_X86_DISPATCH
namespace isa_avx512 {
template <class T> __attribute__((target("arch=x86-64-v4"))) void kde_tile_job(const stablemath::detail::kde::TileJob<T>& j) {
    stablemath::detail::kde::run_tile_job(j);
}
}  // namespace isa_avx512
namespace isa_avx2 {
template <class T> __attribute__((target("arch=x86-64-v3"))) void kde_tile_job(const stablemath::detail::kde::TileJob<T>& j) {
    stablemath::detail::kde::run_tile_job(j);
}
}  // namespace isa_avx2
#endif
namespace isa_baseline {
template <class T> void kde_tile_job(const stablemath::detail::kde::TileJob<T>& j) { stablemath::detail::kde::run_tile_job(j); }
}  // namespace isa_baseline

// The tile kernel for the ISA that cpu::select_isa() chose for the other kernels.
template <class T>
inline void (*kde_tile_kernel())(const stablemath::detail::kde::TileJob<T>&) {
#if STABLEMATH_X86_DISPATCH
    const char* isa = select_isa();
    if (std::strcmp(isa, "avx512") == 0) return &isa_avx512::kde_tile_job<T>;
    if (std::strcmp(isa, "avx2") == 0) return &isa_avx2::kde_tile_job<T>;
#endif
    return &isa_baseline::kde_tile_job<T>;
}
}  // namespace cpu

namespace detail {
namespace kde {
constexpr std::size_t kQueryBlock = 64;
constexpr std::size_t kTargetTasks = 256;      // fixed, so the split never depends on the thread count
constexpr std::size_t kChunkBytes = 192 * 1024;  // points per chunk: its panels stay in L2
}  // namespace kde
}  // namespace detail

// out[i * H + h] = log sum_j exp(s_h * min(y_i.x_j + u_j + t_i, cap) + lw_j) for i < m, h < H
// (see the top of this file). y: m rows of pts.d() values, row stride ldy. Empty sums give -inf.
template <class T>
void kde_log_sums(const KdePoints<T>& pts, const T* y, std::size_t m, std::size_t ldy, const T* scales,
                  std::size_t H, T* out, std::int64_t loo_offset = -1) {
    namespace k = detail::kde;
    constexpr std::size_t P = KdePoints<T>::P, R = k::tile_shape<T>::R;
    const std::size_t d = pts.d();
    if (m == 0 || H == 0) return;
    // Per-query term t_i.
    std::vector<T> t(m, T(0));
    if (pts.kernel() == KdeKernel::gaussian) {
        cpu::ThreadPool::instance().parallel_for((m + 1023) / 1024, [&](std::size_t b) {
            for (std::size_t i = b * 1024; i < m && i < (b + 1) * 1024; ++i) {
                T sq = 0;
                for (std::size_t kk = 0; kk < d; ++kk) sq += y[i * ldy + kk] * y[i * ldy + kk];
                t[i] = T(-0.5) * sq;
            }
        });
    }
    const T cap = pts.kernel() == KdeKernel::gaussian ? T(0) : std::numeric_limits<T>::infinity();
    std::size_t chunk = k::kChunkBytes / (sizeof(T) * (d ? d : 1)) / P * P;
    chunk = chunk < P ? P : (chunk > 512 ? 512 : chunk);
    const std::size_t n_pad = pts.n_padded();
    const std::size_t nq = (m + k::kQueryBlock - 1) / k::kQueryBlock;
    const std::size_t nchunks = (n_pad + chunk - 1) / chunk;
    std::size_t segs = (k::kTargetTasks + nq - 1) / nq;
    segs = segs > nchunks ? nchunks : segs;
    segs = segs < 1 ? 1 : segs;
    const std::size_t chunks_per_seg = (nchunks + segs - 1) / segs;
    segs = nchunks == 0 ? 1 : (nchunks + chunks_per_seg - 1) / chunks_per_seg;
    std::vector<LseState<T>> states(segs * m * H);
    const auto kernel = cpu::kde_tile_kernel<T>();
    cpu::ThreadPool::instance().parallel_for(nq * segs, [&](std::size_t task) {
        const std::size_t qb = task / segs, sg = task % segs;
        std::vector<T> scratch(R * chunk + chunk);
        k::TileJob<T> job;
        job.panels = pts.panels(); job.u = pts.u(); job.lw = pts.log_weights(); job.d = d;
        job.y = y; job.ldy = ldy; job.t = t.data();
        job.q_begin = qb * k::kQueryBlock;
        job.q_end = job.q_begin + k::kQueryBlock < m ? job.q_begin + k::kQueryBlock : m;
        job.p_begin = sg * chunks_per_seg * chunk;
        job.p_end = (sg + 1) * chunks_per_seg * chunk;
        job.p_end = job.p_end > n_pad ? n_pad : job.p_end;
        job.chunk = chunk; job.scales = scales; job.H = H; job.cap = cap; job.loo_offset = loo_offset;
        job.states = states.data() + (sg * m + job.q_begin) * H;
        job.buf = scratch.data(); job.vals = scratch.data() + R * chunk;
        if (job.p_begin < job.p_end) kernel(job);
    });
    cpu::ThreadPool::instance().parallel_for((m * H + 4095) / 4096, [&](std::size_t b) {
        for (std::size_t e = b * 4096; e < m * H && e < (b + 1) * 4096; ++e) {
            LseState<T> st = states[e];
            for (std::size_t sg = 1; sg < segs; ++sg) st = merge(st, states[sg * m * H + e]);
            out[e] = finalize(st);
        }
    });
}

STABLEMATH_NAMESPACE_END
