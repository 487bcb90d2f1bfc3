// Softmax, log_softmax and logsumexp over one contiguous row, in each algorithm, on the CPU.
//
// A row longer than kPart elements is split into fixed parts (the unit of parallel work inside a
// row); parts are reduced independently and folded left to right. The split depends only on the
// row length, never on the thread count, so serial and threaded runs give bit-identical results.
#pragma once
#include <cmath>
#include <cstddef>
#include <limits>
#include <vector>
#include "../config.hpp"
#include "../lse_state.hpp"
#include "kernel_table.hpp"
#include "thread_pool.hpp"

STABLEMATH_NAMESPACE_BEGIN

enum class SoftmaxAlgorithm : int {
    automatic = 0,   // the fastest correct choice for the row length and CPU
    three_pass = 1,  // max; store e^{x-m} and sum; scale
    online = 2,      // (max, sum) state per L1-sized chunk, merged (Milakov & Gimelshein); then output
    two_pass = 3,    // sum of (mantissa, exponent) pairs without a max (Dukhan & Ablavatski); then output
};

namespace cpu {

inline constexpr std::size_t kPart = std::size_t(1) << 16;

inline std::size_t num_parts(std::size_t n) { return n == 0 ? 0 : (n + kPart - 1) / kPart; }

// Runs fn(begin, length) for every part; parts may run in parallel under Exec.
template <class Exec, class F>
void for_parts(std::size_t n, const Exec& ex, F&& fn) {
    const std::size_t parts = num_parts(n);
    if (parts <= 1) { if (n) fn(std::size_t(0), n); return; }
    ex(parts, [&](std::size_t p) {
        const std::size_t b = p * kPart;
        fn(b, n - b < kPart ? n - b : kPart);
    });
}

// Reduces every part to an R and folds them in order: init ⊕ r_0 ⊕ r_1 ⊕ ...
template <class R, class Exec, class PartFn, class MergeFn>
R fold_parts(std::size_t n, const Exec& ex, R init, PartFn&& part, MergeFn&& merge_fn) {
    const std::size_t parts = num_parts(n);
    if (parts <= 1) return n ? merge_fn(init, part(std::size_t(0), n)) : init;
    std::vector<R> partial(parts);
    for_parts(n, ex, [&](std::size_t b, std::size_t len) { partial[b / kPart] = part(b, len); });
    for (const R& r : partial) init = merge_fn(init, r);
    return init;
}

template <class T, class Exec>
LseState<T> row_state(const KernelTable<T>& k, const T* x, std::size_t n, const Exec& ex) {
    return fold_parts(n, ex, LseState<T>{}, [&](std::size_t b, std::size_t len) { return k.chunked_state(x + b, len); },
                      [](const LseState<T>& a, const LseState<T>& c) { return merge(a, c); });
}

template <class T, class Exec>
T row_max(const KernelTable<T>& k, const T* x, std::size_t n, const Exec& ex) {
    return fold_parts(n, ex, -std::numeric_limits<T>::infinity(), [&](std::size_t b, std::size_t len) { return k.max(x + b, len); },
                      [](T a, T c) { return c > a ? c : a; });
}

// Softmax over a row whose maximum is +-inf or which holds NaN. Semantics (README table):
// NaN or +inf anywhere -> NaN everywhere; no finite mass (all -inf) -> NaN, or 0 / -inf when safe.
template <class T>
void softmax_row_nonfinite(const T* x, T* y, std::size_t n, bool log, bool safe) {
    const T nan = std::numeric_limits<T>::quiet_NaN(), inf = std::numeric_limits<T>::infinity();
    bool any_nan = false, any_pinf = false;
    for (std::size_t i = 0; i < n; ++i) { any_nan |= x[i] != x[i]; any_pinf |= x[i] == inf; }
    const T fill = (any_nan || any_pinf || !safe) ? nan : (log ? -inf : T(0));
    for (std::size_t i = 0; i < n; ++i) y[i] = fill;
}

inline SoftmaxAlgorithm resolve(SoftmaxAlgorithm a, std::size_t /*n*/, const char* isa) {
    if (a != SoftmaxAlgorithm::automatic) return a;
    // Measured in bench/results: the two-pass rescaling is cheap only with AVX-512's vscalef-class
    // code; on AVX2 and below the online algorithm is at least as fast at every row length.
    return (isa[0] == 'a' && isa[3] == '5') ? SoftmaxAlgorithm::two_pass : SoftmaxAlgorithm::online;
}

template <class T, class Exec>
void softmax_row(const KernelTable<T>& k, const T* x, T* y, std::size_t n, SoftmaxAlgorithm algo, bool log,
                 bool safe, const Exec& ex) {
    if (n == 0) return;
    SoftmaxAlgorithm a = resolve(algo, n, k.isa);
    // log_softmax needs no exponentials in its output pass, so its two passes are the reduction
    // and y = (x - m) - log(sum). The (mantissa, exponent) sum cannot give log(sum) in the log1p
    // form (the maxima are not kept apart), which a dominant class's log-probability needs; the
    // online state does, at the same one exp per element and one read of x.
    if (log && a == SoftmaxAlgorithm::two_pass) a = SoftmaxAlgorithm::online;
    switch (a) {
    case SoftmaxAlgorithm::two_pass: {
        struct Part { ExtSum<T> sum; T max; };
        const Part r = fold_parts(
            n, ex, Part{ExtSum<T>{}, -std::numeric_limits<T>::infinity()},
            [&](std::size_t b, std::size_t len) { Part p; p.sum = k.ext_reduce(x + b, len, p.max); return p; },
            [](const Part& a, const Part& c) { return Part{merge(a.sum, c.sum), c.max > a.max ? c.max : a.max}; });
        // Exact only while the row maximum is well inside the extended-exponent range (and finite);
        // otherwise the online algorithm below computes the row (huge magnitudes, inf, NaN).
        if (std::fabs(r.max) <= stablemath::detail::exp_traits<T>::ext_limit / 2 && std::isfinite(r.sum.v)) {
            const T inv = T(1) / r.sum.v;
            for_parts(n, ex, [&](std::size_t b, std::size_t len) { k.ext_scale_store(x + b, y + b, len, inv, r.sum.e); });
            return;
        }
    }
        [[fallthrough]];
    case SoftmaxAlgorithm::online:
    case SoftmaxAlgorithm::automatic: {
        if (log) {
            // One exp per element: the chunked (max, sum) state, then y = (x - m) - log(sum).
            const LseState<T> st = row_state(k, x, n, ex);
            if (!std::isfinite(st.m) || !std::isfinite(st.total())) return softmax_row_nonfinite(x, y, n, log, safe);
            const T l = log_relative(st);
            for_parts(n, ex, [&](std::size_t b, std::size_t len) { k.sub2_store(x + b, y + b, len, st.m, l); });
            return;
        }
        // Pass 1, per L1-sized chunk: its max (x read from memory), then y = e^{x - m_c} and the
        // chunk's sum (x re-read from L1). Pass 2: y *= e^{m_c - M} / total per chunk. One exp per
        // element, and x is read from memory once.
        const std::size_t chunks = (n + kChunk - 1) / kChunk;
        if (chunks == 1) {  // one chunk: the same arithmetic as three_pass, without the bookkeeping
            const T m = k.max(x, n);
            const T s = std::isfinite(m) ? k.exp_store_sum(x, y, n, m) : std::numeric_limits<T>::quiet_NaN();
            if (!std::isfinite(s)) return softmax_row_nonfinite(x, y, n, log, safe);
            k.scale(y, n, T(1) / s);
            return;
        }
        std::vector<T> chunk_max(chunks);
        const LseState<T> st = fold_parts(
            n, ex, LseState<T>{},
            [&](std::size_t b, std::size_t len) {
                LseState<T> acc;
                for (std::size_t i = b; i < b + len; i += kChunk) {
                    const std::size_t cl = (b + len - i) < kChunk ? (b + len - i) : kChunk;
                    const T m = k.max(x + i, cl);
                    chunk_max[i / kChunk] = m;
                    T s = T(0);
                    if (std::isfinite(m)) s = k.exp_store_sum(x + i, y + i, cl, m);
                    else if (m == -std::numeric_limits<T>::infinity() && stablemath::detail::row_has_nan(x + i, cl))
                        s = std::numeric_limits<T>::quiet_NaN();  // NaN never wins the max; keep it
                    acc = merge(acc, LseState<T>{m, T(0), s});
                }
                return acc;
            },
            [](const LseState<T>& a, const LseState<T>& c) { return merge(a, c); });
        // NaN makes the total NaN and +inf the max; a chunk max of -inf only means that chunk has no mass.
        if (!std::isfinite(st.m) || !std::isfinite(st.total())) return softmax_row_nonfinite(x, y, n, log, safe);
        const T inv = T(1) / st.total();
        for_parts(n, ex, [&](std::size_t b, std::size_t len) {
            for (std::size_t i = b; i < b + len; i += kChunk) {
                const std::size_t cl = (b + len - i) < kChunk ? (b + len - i) : kChunk;
                const T m = chunk_max[i / kChunk];
                if (m == -std::numeric_limits<T>::infinity()) {
                    for (std::size_t j = 0; j < cl; ++j) y[i + j] = T(0);
                } else {
                    k.scale(y + i, cl, stablemath::detail::exp(m - st.m) * inv);
                }
            }
        });
        return;
    }
    case SoftmaxAlgorithm::three_pass: {
        const T m = row_max(k, x, n, ex);
        if (!std::isfinite(m)) return softmax_row_nonfinite(x, y, n, log, safe);
        if (log) {
            const LseState<T> st = fold_parts(
                n, ex, LseState<T>{}, [&](std::size_t b, std::size_t len) { return k.state_given_max(x + b, len, m); },
                [](const LseState<T>& a, const LseState<T>& c) { return merge(a, c); });
            if (!std::isfinite(st.total())) return softmax_row_nonfinite(x, y, n, log, safe);
            const T l = log_relative(st);
            for_parts(n, ex, [&](std::size_t b, std::size_t len) { k.sub2_store(x + b, y + b, len, m, l); });
        } else {
            const T s = fold_parts(n, ex, T(0), [&](std::size_t b, std::size_t len) { return k.exp_store_sum(x + b, y + b, len, m); },
                                   [](T a, T c) { return a + c; });
            if (!std::isfinite(s)) return softmax_row_nonfinite(x, y, n, log, safe);
            const T inv = T(1) / s;
            for_parts(n, ex, [&](std::size_t b, std::size_t len) { k.scale(y + b, len, inv); });
        }
        return;
    }
    }
}

// logsumexp of a row: the online state (one memory read of x), then the log1p-form finalisation.
template <class T, class Exec>
T logsumexp_row(const KernelTable<T>& k, const T* x, std::size_t n, T* sign, const Exec& ex) {
    return finalize(row_state(k, x, n, ex), sign);
}

// Weighted rows whose weights reach far from 1 (see logsumexp_row_weighted): the weights are
// rescaled by 2^-E, E the frexp exponent of the largest |b|, which is exact; a weight whose rescaled
// value would be subnormal keeps its mantissa and moves its exponent into x instead (x + s ln 2:
// one rounding, only for weights 2^1021 times smaller than the largest). The result gets E ln 2
// back (with the sum's own exponent, see below). Chunks on the stack: no heap in the row code.
template <class T>
T logsumexp_row_weighted_rescaled(const KernelTable<T>& k, const T* x, const T* b, std::size_t n, T* sign, int E) {
    constexpr std::size_t kBuf = 256;
    constexpr int kMinExp = std::numeric_limits<T>::min_exponent;  // frexp exponent of the smallest normal
    // ln 2 in two parts (Cody-Waite): E * kLn2Hi is exact for |E| < 2^11 (double) / 2^8 (float)
    const T kLn2Hi = sizeof(T) == sizeof(double) ? T(0.693145751953125) : T(0.693359375);
    const T kLn2Lo = sizeof(T) == sizeof(double) ? T(1.42860682030941723212e-6) : T(-2.12194440e-4);
    auto rescaled = [&](std::size_t i, T& xi, T& wi) {
        xi = x[i];
        wi = b[i];
        // x = -inf adds exactly 0 (its weight is finite here: an infinite one made the row NaN before), and
        // its weight did not choose E: rescaled by 2^-E it could overflow to inf (inf * 0 = NaN).
        if (xi == -std::numeric_limits<T>::infinity()) { wi = 0; return; }
        if (!(std::fabs(wi) <= std::numeric_limits<T>::max()) || wi == 0) return;  // 0, inf, NaN as they are
        int e = 0;
        const T f = std::frexp(wi, &e);
        const int s = e - E;  // <= 0
        if (s >= kMinExp) {
            wi = std::ldexp(f, s);
        } else {
            wi = f;
            xi = xi + T(s) * kLn2Hi + T(s) * kLn2Lo;
        }
    };
    T m = -std::numeric_limits<T>::infinity();
    for (std::size_t i = 0; i < n; ++i) {
        T xi, wi;
        rescaled(i, xi, wi);
        if (xi > m) m = xi;  // NaN never wins (as k.max); it reaches the sum below
    }
    T xb[kBuf], wb[kBuf];
    LseState<T> st{m, T(0), T(0)};
    for (std::size_t i0 = 0; i0 < n; i0 += kBuf) {
        const std::size_t len = n - i0 < kBuf ? n - i0 : kBuf;
        for (std::size_t j = 0; j < len; ++j) rescaled(i0 + j, xb[j], wb[j]);
        const LseState<T> part = k.state_weighted(xb, wb, len, m);
        st.c += part.c;  // every chunk is relative to the same m
        st.s += part.s;
    }
    // Bring the sum near 1 by another exact power of two before its log: the log of a sum near
    // 2^-997 (the dominant term has a small weight) is -691 with an absolute error of 1e-13, which
    // adding E ln 2 back would leave as the whole answer when that is near 0.
    int t = 0;
    const T mag = std::fabs(st.c) > std::fabs(st.s) ? std::fabs(st.c) : std::fabs(st.s);
    if (mag > 0 && mag <= std::numeric_limits<T>::max()) {
        std::frexp(mag, &t);
        t -= 1;  // mag 2^-t in [1, 2): a sum of exactly one largest term gives log 1 = 0, no rounding
        st.c = std::ldexp(st.c, -t);
        st.s = std::ldexp(st.s, -t);
    }
    const T r = finalize(st, sign);
    if (!std::isfinite(r)) return r;
    const int e = E + t;
    return (r + T(e) * kLn2Hi) + T(e) * kLn2Lo;
}

// Weighted: b multiplies e^{x}; entries with b == 0 must already be -inf in x (see strided.hpp).
// Infinite terms (x = +inf or b = +-inf) make the sum +-inf with the sign of their weights; of
// both signs it is inf - inf, NaN (as SciPy), and so is an infinite weight on x = -inf (0 * inf).
// Weights beyond 2^+-K (K = 256 for double, 32 for float) take the rescaled path: there the sum
// of b e^{x-m} could overflow (b near the dtype's max) or the products fall on the subnormal grid
// and lose their digits (b subnormal); weights between need nothing (K keeps both far away).
template <class T>
T logsumexp_row_weighted(const KernelTable<T>& k, const T* x, const T* b, std::size_t n, T* sign) {
    constexpr T kInf = std::numeric_limits<T>::infinity();
    constexpr T kMax = std::numeric_limits<T>::max();
    constexpr int K = sizeof(T) == sizeof(double) ? 256 : 32;
    const T hi = std::ldexp(T(1), K), lo = std::ldexp(T(1), -K);
    bool pos = false, neg = false, nan = false, far = false;
    T bmax = T(0);
    for (std::size_t i = 0; i < n; ++i) {
        const T xi = x[i], bi = b[i], a = std::fabs(b[i]);
        if (bi == 0) continue;
        if (xi != xi || bi != bi || (a > kMax && xi == -kInf)) { nan = true; break; }
        // A finite weight on x = -inf adds exactly 0: it must not choose the rescaling (a weight
        // near the maximum there pushed the others' exponents into x, one rounding of ~700: 8.6e-15).
        if (xi == -kInf) continue;
        if (a > kMax || xi == kInf) {
            pos |= bi > 0;
            neg |= bi < 0;
        } else {
            far |= a > hi || a < lo;
            bmax = a > bmax ? a : bmax;
        }
    }
    if (nan || (pos && neg)) {
        if (sign) *sign = std::numeric_limits<T>::quiet_NaN();
        return std::numeric_limits<T>::quiet_NaN();
    }
    if (pos || neg) {
        if (sign) *sign = pos ? T(1) : T(-1);
        return kInf;
    }
    if (far) {
        int E = 0;
        std::frexp(bmax, &E);
        return logsumexp_row_weighted_rescaled(k, x, b, n, sign, E);
    }
    return finalize(k.state_weighted(x, b, n, k.max(x, n)), sign);
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
