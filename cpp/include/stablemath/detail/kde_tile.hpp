// Tile kernel of the log-space KDE (stablemath/kde.hpp): inner products of a few queries with a
// packed panel of points (a register-blocked micro-kernel on GCC/Clang vector-extension values,
// compiled under each per-ISA target attribute; a plain loop elsewhere), then the log-kernel values folded into one
// LseState per (query, scale). With one scale (gcc/clang) the exponents and their maxima are formed
// in the micro-kernel's registers. Force-inlined into the per-ISA wrappers of kde.hpp.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include "../config.hpp"
#include "../lse_state.hpp"
#include "row_kernels.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace kde {

// P points per packed panel (two AVX2 registers), R queries per micro-kernel call: R*P/lanes
// accumulators (12 of the 16 ymm registers on AVX2; AVX-512 uses 6 of 32).
// Full unrolling of the short per-query loops.
#if defined(__clang__)
#define SM_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define SM_UNROLL _Pragma("GCC unroll 8")
#else
#define SM_UNROLL
#endif

template <class T> struct tile_shape {
    static constexpr std::size_t P = 64 / sizeof(T);
    static constexpr std::size_t R = 6;
};

// out[r][j] = y_r . panel[:, j] for r < R, j < P; panel is d x P (point-contiguous).
// With gcc/clang the accumulators are 32-byte vector-extension values (ymm on AVX2/AVX-512, xmm
// pairs on the baseline): plain arrays, even fully unrolled, were kept in memory by gcc 12 (3x
// slower). Other compilers get the plain loop.
#if defined(__GNUC__) || defined(__clang__)
#define SM_KDE_FUSED_VALUES 1
// Fused (one scale, gcc/clang): instead of the inner products, store the exponents
// s * min(dot + u_j + t_r, cap) + lw_j and keep each query's running maximum in mx[r]
// (the generic value pass, one more read and write of the tile, is then not needed).
template <bool Fused, class T>
SM_FORCE_INLINE void micro_dots(const T* const* y, const T* panel, std::size_t d, T* out, std::size_t ldo,
                                const T* u = nullptr, const T* lw = nullptr, const T* t = nullptr, T s = 0,
                                T cap = 0, T* mx = nullptr) {
    constexpr std::size_t P = tile_shape<T>::P, R = tile_shape<T>::R;
    typedef T V __attribute__((vector_size(32)));
    typedef T VU __attribute__((vector_size(32), aligned(alignof(T)), may_alias));  // unaligned loads/stores
    constexpr std::size_t W = 32 / sizeof(T), NV = P / W;
    V acc[R][NV];
    SM_UNROLL
    for (std::size_t r = 0; r < R; ++r)
        SM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) acc[r][v] = V{};
    for (std::size_t k = 0; k < d; ++k) {
        V xv[NV];
        SM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) xv[v] = reinterpret_cast<const VU*>(panel + k * P)[v];
        SM_UNROLL
        for (std::size_t r = 0; r < R; ++r) {
            const T yk = y[r][k];
            SM_UNROLL
            for (std::size_t v = 0; v < NV; ++v) acc[r][v] += yk * xv[v];
        }
    }
    if (Fused) {
        const V capv = V{} + cap;
        SM_UNROLL
        for (std::size_t r = 0; r < R; ++r) {
            V m = reinterpret_cast<const VU*>(mx + r * W)[0];
            SM_UNROLL
            for (std::size_t v = 0; v < NV; ++v) {
                V a = acc[r][v] + reinterpret_cast<const VU*>(u)[v] + t[r];
                a = a > capv ? capv : a;
                const V val = s * a + reinterpret_cast<const VU*>(lw)[v];
                reinterpret_cast<VU*>(out + r * ldo)[v] = val;
                m = val > m ? val : m;
            }
            reinterpret_cast<VU*>(mx + r * W)[0] = m;
        }
        return;
    }
    SM_UNROLL
    for (std::size_t r = 0; r < R; ++r)
        SM_UNROLL
        for (std::size_t v = 0; v < NV; ++v) reinterpret_cast<VU*>(out + r * ldo)[v] = acc[r][v];
}
#else
#define SM_KDE_FUSED_VALUES 0
template <bool Fused, class T>
SM_FORCE_INLINE void micro_dots(const T* const* y, const T* panel, std::size_t d, T* out, std::size_t ldo,
                                const T* = nullptr, const T* = nullptr, const T* = nullptr, T = 0, T = 0,
                                T* = nullptr) {
    constexpr std::size_t P = tile_shape<T>::P, R = tile_shape<T>::R;
    T acc[R][P] = {};
    for (std::size_t k = 0; k < d; ++k)
        for (std::size_t r = 0; r < R; ++r)
            for (std::size_t j = 0; j < P; ++j) acc[r][j] += y[r][k] * panel[k * P + j];
    for (std::size_t r = 0; r < R; ++r)
        for (std::size_t j = 0; j < P; ++j) out[r * ldo + j] = acc[r][j];
}
#endif

// Everything one task needs: a block of queries against a range of packed points.
template <class T>
struct TileJob {
    const T* panels;       // n_pad x d packed as panels of P points (d x P each)
    const T* u;            // per point: -|x|^2/2 (Gaussian) or 0 (vMF); padding 0
    const T* lw;           // per point: log weight; padding -inf
    std::size_t d;
    const T* y;            // queries, row stride ldy
    std::size_t ldy;
    const T* t;            // per query: -|y|^2/2 or 0
    std::size_t q_begin, q_end;      // queries of this task
    std::size_t p_begin, p_end;      // points of this task (multiples of P, p_end <= n_pad)
    std::size_t chunk;               // points per chunk (a multiple of P)
    const T* scales;                 // H scales s: log-kernel = s * (y.x + u + t) + lw
    std::size_t H;
    T cap;                           // upper clamp of (y.x + u + t): 0 for Gaussian, +inf for vMF
    std::int64_t loo_offset;         // >= 0: query q is point q + loo_offset and skips itself
    LseState<T>* states;             // (q_end - q_begin) x H, merged into (caller initialises)
    T* buf;                          // R * chunk scratch
    T* vals;                         // chunk scratch
};

template <class T>
SM_FORCE_INLINE void value_step(const T* g, const T* u, const T* lw, T t, T s, T cap, T* __restrict v,
                                std::size_t j, T& mx) {
    T a = g[j] + u[j] + t;
    a = a > cap ? cap : a;
    const T val = s * a + lw[j];
    v[j] = val;
    mx = val > mx ? val : mx;
}

// v[j] = s * min(g[j] + u[j] + t, cap) + lw[j] and max v in one pass (lane maxima as in row_max).
template <class T>
SM_FORCE_INLINE T values_and_max(const T* g, const T* u, const T* lw, T t, T s, T cap, T* __restrict v,
                                 std::size_t len) {
    constexpr std::size_t L = lanes<T>::value;
    T mx[L];
    for (std::size_t l = 0; l < L; ++l) mx[l] = -std::numeric_limits<T>::infinity();
    std::size_t j0 = 0;
    for (; j0 + L <= len; j0 += L)
        for (std::size_t l = 0; l < L; ++l) value_step(g, u, lw, t, s, cap, v, j0 + l, mx[l]);
    for (std::size_t l = 0; j0 + l < len; ++l) value_step(g, u, lw, t, s, cap, v, j0 + l, mx[l]);
    return lane_max(mx);
}

template <class T>
SM_FORCE_INLINE void run_tile_job(const TileJob<T>& J) {
    constexpr std::size_t P = tile_shape<T>::P, R = tile_shape<T>::R;
    const T ninf = -std::numeric_limits<T>::infinity();
    for (std::size_t c0 = J.p_begin; c0 < J.p_end; c0 += J.chunk) {
        const std::size_t len = (J.p_end - c0) < J.chunk ? (J.p_end - c0) : J.chunk;  // multiple of P
        for (std::size_t q0 = J.q_begin; q0 < J.q_end; q0 += R) {
            const std::size_t rows = (J.q_end - q0) < R ? (J.q_end - q0) : R;
            const T* yr[R];
            for (std::size_t r = 0; r < R; ++r) yr[r] = J.y + (q0 + (r < rows ? r : 0)) * J.ldy;  // pad with row 0
            const bool fused = SM_KDE_FUSED_VALUES && J.H == 1;
            T tr[R], mxl[R * (32 / sizeof(T))];
            for (std::size_t r = 0; r < R; ++r) tr[r] = J.t[q0 + (r < rows ? r : 0)];
            for (std::size_t e = 0; e < R * (32 / sizeof(T)); ++e) mxl[e] = ninf;
            for (std::size_t p = 0; p < len; p += P) {
                if (fused)
                    micro_dots<true>(yr, J.panels + (c0 + p) * J.d, J.d, J.buf + p, J.chunk, J.u + c0 + p,
                                     J.lw + c0 + p, tr, J.scales[0], J.cap, mxl);
                else
                    micro_dots<false>(yr, J.panels + (c0 + p) * J.d, J.d, J.buf + p, J.chunk);
            }
            for (std::size_t r = 0; r < rows; ++r) {
                const std::size_t q = q0 + r;
                const T tq = J.t[q];
                const T* g = J.buf + r * J.chunk;
                const T* u = J.u + c0;
                const T* lw = J.lw + c0;
                // The query's own point in this chunk (leave-one-out), or none.
                std::size_t self = len;
                if (J.loo_offset >= 0) {
                    const std::size_t me = q + static_cast<std::size_t>(J.loo_offset);
                    if (me >= c0 && me < c0 + len) self = me - c0;
                }
                for (std::size_t h = 0; h < J.H; ++h) {
                    T* v = fused ? J.buf + r * J.chunk : J.vals;
                    T mt;
                    if (fused) {
                        mt = ninf;
                        for (std::size_t e = 0; e < 32 / sizeof(T); ++e) {
                            const T x = mxl[r * (32 / sizeof(T)) + e];
                            mt = x > mt ? x : mt;
                        }
                    } else {
                        mt = values_and_max(g, u, lw, tq, J.scales[h], J.cap, v, len);
                    }
                    if (self < len) {  // leave-one-out: the query's own term is skipped, not subtracted
                        v[self] = ninf;
                        mt = row_max(v, len);
                    }
                    LseState<T>& st = J.states[(q - J.q_begin) * J.H + h];
                    const T ref = mt > st.m ? mt : st.m;
                    st = merge(st, row_state_given_max(v, len, ref));
                }
            }
        }
    }
}

}  // namespace kde
}  // namespace detail
STABLEMATH_NAMESPACE_END
