// Sparsemax of one contiguous row: p_i = max(x_i - tau, 0), the Euclidean projection of x onto the
// probability simplex (Martins & Astudillo 2016). Host/device-clean: no heap, no recursion, no
// exceptions; the caller provides a work buffer of n elements.
//
// Every algorithm works in coordinates shifted by the row maximum m, d_i = x_i - m <= 0, where
// tau' = tau - m lies in [-1, -1/|S|]: sums of the support stay small and exact-ish at any offset.
//
//  1. candidates: one pass keeps d_i > b, b a running lower bound of tau'. b starts at -1 (the
//     bound from {max}) and becomes (sum_C d - 1)/|C| over the kept set C (a valid lower bound for
//     any subset: at t = that value, sum_i [d_i - t]_+ >= sum_C (d_i - t) = 1). Each kept element
//     raises b (Michelot's variable fixing done in one Gauss-Seidel sweep, as in Condat 2016), so
//     on typical rows only a few entries are kept. Chunks whose (vectorised) maximum is <= b are
//     skipped; what the final b excludes is dropped at the end.
//  2. tau' among the candidates, by one of
//       sort   - lazy heap sort: heapify O(k), then pop in decreasing order only until the support
//                condition 1 + r d_(r) > sum_{j<=r} d_(j) fails: O(k + |S| log k), exact.
//       pivot  - Duchi et al. 2008 randomised pivot (quickselect-like): expected O(k), worst case
//                O(k^2) with vanishing probability. Chosen over Condat's own pass because its expected
//                linear bound holds for every input, whereas Condat's is quadratic in the worst
//                case; the Gauss-Seidel filter of step 1 already gives Condat's practical speed.
//       bisect - bisection of f(t) = sum [d - t]_+ - 1 on [b, -1/k] for digits(T) halvings (stops
//                early when the midpoint no longer moves), dropping d <= lo as it goes.
//  3. exact finish (all algorithms): S = {d > tau'}, tau' = (sum_S d - 1)/|S| (compensated sum),
//     repeated until S stops changing (Michelot; from a lower bound it only shrinks S). Entries
//     outside S are exactly 0.0.
//  4. output pass: y_i = max(d_i - tau', 0), flagging NaN.
//
// Non-finite input (policy, documented in the Python API): a NaN anywhere gives NaN for the whole
// row; +inf entries share the mass equally (the limit of equal entries growing without bound) and
// every other entry gets 0; -inf entries get 0; a row with no entry above -inf gives NaN.
#pragma once
#include <cstddef>
#include <cstdint>
#include <limits>
#include "../config.hpp"
#include "row_kernels.hpp"

STABLEMATH_NAMESPACE_BEGIN

enum class SparsemaxAlgorithm : int {
    automatic = 0,  // the fastest measured (pivot; see bench/results/sparsemax.md)
    sort = 1,       // lazy heap sort of the candidates
    pivot = 2,      // Duchi et al. randomised pivot
    bisect = 3,     // bisection on tau, then the exact finish
};

namespace detail {

// Support sums: float rows add in double (exact enough for any length); double rows use
// Neumaier's compensated sum.
template <class T> struct SupportSum;
template <> struct SupportSum<float> {
    double s = 0;
    SM_HOST_DEVICE void add(float v) { s += v; }
    SM_HOST_DEVICE double value() const { return s; }
};
template <> struct SupportSum<double> {
    double s = 0, c = 0;
    SM_HOST_DEVICE void add(double v) {
        const double t = s + v;
        c += ((s < 0 ? -s : s) >= (v < 0 ? -v : v)) ? (s - t) + v : (v - t) + s;
        s = t;
    }
    SM_HOST_DEVICE double value() const { return s + c; }
};

template <class T> SM_HOST_DEVICE inline void sm_swap(T& a, T& b) { T t = a; a = b; b = t; }

// Branch-free Lomuto partition of v[lo, hi): the elements with pred come first (in [lo, g), g
// returned) and *sum gets their sum. Without branches the data-dependent outcome of the compare
// costs no mispredictions (half of them on a random split).
template <class T, class Pred>
SM_HOST_DEVICE inline std::size_t sm_partition(T* v, std::size_t lo, std::size_t hi, Pred pred, double* sum) {
    std::size_t g = lo;
    double s = 0;
    for (std::size_t i = lo; i < hi; ++i) {
        const T e = v[i];
        const bool c = pred(e);
        v[i] = v[g];
        v[g] = e;
        s += c ? static_cast<double>(e) : 0.0;
        g += c ? 1 : 0;
    }
    *sum = s;
    return g;
}

// Step 1: writes the candidates d = x - m > b into v (v[0, k), k returned); *bound gets the final b.
// b is raised once per chunk of C elements, so the per-element work is a branch-free compare and
// store (no division in a serial dependency chain). The maximum adds 0 to the sum; it is counted
// by the initial bound until an element with d == 0 is kept.
template <class T>
SM_HOST_DEVICE inline std::size_t sparsemax_candidates(const T* x, std::size_t n, T m, T* v, T* bound) {
    constexpr std::size_t C = 4 * lanes<T>::value;  // chunk: one vectorised max, then a scalar visit
    double s = 0;           // sum of the kept d
    std::size_t k = 0;      // kept count
    bool top_kept = false;  // an element equal to the maximum is among the kept
    T b = T(-1);            // lower bound of tau' (from {max} alone)
    for (std::size_t i = 0; i < n; i += C) {
        const std::size_t len = n - i < C ? n - i : C;
        if (!(row_max(x + i, len) - m > b)) continue;  // rounding is monotone: no d in the chunk exceeds b
        const std::size_t k0 = k;
        for (std::size_t j = 0; j < len; ++j) {
            const T d = x[i + j] - m;
            v[k] = d;  // k <= i + j < n: always inside the buffer
            k += d > b ? 1 : 0;
        }
        double s4[4] = {0, 0, 0, 0};
        std::size_t q = k0;
        for (; q + 4 <= k; q += 4)
            for (int r = 0; r < 4; ++r) s4[r] += v[q + r];
        for (; q < k; ++q) {
            s4[0] += v[q];
            top_kept |= v[q] == T(0);
        }
        for (q = k0; q + 4 <= k; q += 4)
            for (int r = 0; r < 4; ++r) top_kept |= v[q + r] == T(0);
        s += (s4[0] + s4[1]) + (s4[2] + s4[3]);
        if (k) {
            const T nb = static_cast<T>((s - 1) / static_cast<double>(k + (top_kept ? 0 : 1)));
            b = nb > b ? nb : b;
        }
    }
    // Drop what the final bound excludes (kept early under a lower b): it is outside the support.
    std::size_t w = 0;
    for (std::size_t j = 0; j < k; ++j) {
        v[w] = v[j];
        w += v[j] > b ? 1 : 0;
    }
    *bound = b;
    return w;
}

// Step 3: Michelot iterations from tau (ideally a lower bound) until the support stops changing.
template <class T>
SM_HOST_DEVICE inline T sparsemax_finish(const T* v, std::size_t k, T tau) {
    std::size_t prev = static_cast<std::size_t>(-1);
    for (int it = 0; it < 64; ++it) {
        SupportSum<T> s;
        std::size_t c = 0;
        for (std::size_t i = 0; i < k; ++i) {  // branch-free: adding 0 changes no sum
            s.add(v[i] > tau ? v[i] : T(0));
            c += v[i] > tau ? 1 : 0;
        }
        if (c == 0) return T(-1);  // unreachable for a row containing its maximum (d = 0 > tau)
        const T t = static_cast<T>((s.value() - 1) / static_cast<double>(c));
        if (c == prev || t == tau) return t;
        prev = c;
        tau = t;
    }
    return tau;
}

// Step 2, sort: max-heap of v, popped in decreasing order while the support condition holds.
template <class T>
SM_HOST_DEVICE inline T sparsemax_tau_sort(T* v, std::size_t k) {
    auto sift = [v](std::size_t i, std::size_t len) {
        for (;;) {
            std::size_t c = 2 * i + 1;
            if (c >= len) return;
            if (c + 1 < len && v[c + 1] > v[c]) ++c;
            if (!(v[c] > v[i])) return;
            sm_swap(v[c], v[i]);
            i = c;
        }
    };
    for (std::size_t i = k / 2; i-- > 0;) sift(i, k);
    double cs = 0, kept_sum = 0;
    std::size_t r = 0, len = k;
    while (len > 0) {
        const T top = v[0];
        cs += top;
        if (!(1 + static_cast<double>(r + 1) * top > cs)) break;  // top and all below are outside S
        ++r;
        kept_sum = cs;
        sm_swap(v[0], v[--len]);  // v stays a permutation: the finish reads all of it
        sift(0, len);
    }
    return r ? static_cast<T>((kept_sum - 1) / static_cast<double>(r)) : T(-1);
}

// The step-2 functions permute v (never drop an element): the finish reads all k of them.

// Step 2, pivot (Duchi et al. 2008, Fig. 1, in place): v[0, lo) is known to be in the support,
// v[lo, hi) is undecided. A fixed-seed xorshift picks pivots, so results are reproducible.
template <class T>
SM_HOST_DEVICE inline T sparsemax_tau_pivot(T* v, std::size_t k) {
    double s = 0;
    std::size_t lo = 0, hi = k;
    std::uint32_t state = 0x9E3779B9u ^ static_cast<std::uint32_t>(k);
    while (lo < hi) {
        state ^= state << 13; state ^= state >> 17; state ^= state << 5;
        const T p = v[lo + state % (hi - lo)];
        std::size_t g = lo;
        double ds = 0;
        g = sm_partition(v, lo, hi, [p](T e) { return e >= p; }, &ds);
        if ((s + ds) - static_cast<double>(g) * p < 1) {  // p is in the support, so is all of v[lo, g)
            s += ds;
            lo = g;
        } else {  // p is not: neither is anything <= p
            hi = sm_partition(v, lo, g, [p](T e) { return e > p; }, &ds);
        }
    }
    return lo ? static_cast<T>((s - 1) / static_cast<double>(lo)) : T(-1);
}

// Step 2, bisect: f(t) = sum [v - t]_+ - 1 is decreasing; keep f(lo) >= 0 > f(hi). Elements <= lo
// are dropped (compacted) after each step; their count never matters again.
template <class T>
SM_HOST_DEVICE inline T sparsemax_tau_bisect(T* v, std::size_t k, T lo) {
    T hi = static_cast<T>(-1.0 / static_cast<double>(k));  // tau' <= -1/|S| <= -1/k
    if (!(lo < hi)) return lo;
    for (int it = 0; it < std::numeric_limits<T>::digits; ++it) {
        const T mid = lo + (hi - lo) / 2;
        if (!(mid > lo && mid < hi)) break;  // the interval is one ulp wide
        double f = -1;
        for (std::size_t i = 0; i < k; ++i) f += v[i] > mid ? static_cast<double>(v[i] - mid) : 0.0;
        if (f >= 0) {
            lo = mid;
            double unused;
            k = sm_partition(v, 0, k, [lo](T e) { return e > lo; }, &unused);
        } else {
            hi = mid;
        }
    }
    return lo;
}

// Step 4: y = max(x - m - tau', 0); returns true when x holds a NaN. y may be x.
template <class T>
SM_HOST_DEVICE inline bool sparsemax_store(const T* x, T* y, std::size_t n, T m, T tau) {
    constexpr std::size_t L = 128 / sizeof(T);
    T nan[L];
    for (std::size_t j = 0; j < L; ++j) nan[j] = 0;
    std::size_t i = 0;
    for (; i + L <= n; i += L)
        for (std::size_t j = 0; j < L; ++j) {
            const T xv = x[i + j];
            const T p = (xv - m) - tau;
            nan[j] = xv != xv ? T(1) : nan[j];
            y[i + j] = p > 0 ? p : T(0);
        }
    for (std::size_t j = 0; i + j < n; ++j) {
        const T xv = x[i + j];
        const T p = (xv - m) - tau;
        nan[j] = xv != xv ? T(1) : nan[j];
        y[i + j] = p > 0 ? p : T(0);
    }
    T any = 0;
    for (std::size_t j = 0; j < L; ++j) any = nan[j] > any ? nan[j] : any;
    return any != 0;
}

// Rows whose maximum m is not finite (see the policy above).
template <class T>
SM_HOST_DEVICE inline void sparsemax_nonfinite(const T* x, T* y, std::size_t n, T m) {
    const T inf = std::numeric_limits<T>::infinity(), qnan = std::numeric_limits<T>::quiet_NaN();
    std::size_t ninf = 0;
    bool nan = !(m == inf);  // m = -inf: no finite mass (or only NaN)
    for (std::size_t i = 0; i < n; ++i) {
        nan |= x[i] != x[i];
        ninf += x[i] == inf;
    }
    const T share = ninf ? static_cast<T>(1.0 / static_cast<double>(ninf)) : T(0);
    for (std::size_t i = 0; i < n; ++i) y[i] = nan ? qnan : (x[i] == inf ? share : T(0));
}

// Steps 2 and 3: tau' from the k candidates v (permuted) and their lower bound.
template <class T>
SM_HOST_DEVICE inline T sparsemax_tau(T* v, std::size_t k, T bound, SparsemaxAlgorithm algo) {
    T tau;
    switch (algo) {
    case SparsemaxAlgorithm::sort: tau = sparsemax_tau_sort(v, k); break;
    case SparsemaxAlgorithm::bisect: tau = sparsemax_tau_bisect(v, k, bound); break;
    default: tau = sparsemax_tau_pivot(v, k); break;
    }
    // The bisection leaves its lower bound; the others an exact tau' that the finish confirms.
    return sparsemax_finish(v, k, tau < bound ? bound : tau);
}

// The whole row given its maximum m (from a max kernel): y = sparsemax(x). work: n elements.
template <class T>
SM_HOST_DEVICE inline void sparsemax_row_given_max(const T* x, T* y, std::size_t n, T m, SparsemaxAlgorithm algo,
                                                   T* work) {
    if (n == 0) return;
    if (!(m > -std::numeric_limits<T>::infinity() && m < std::numeric_limits<T>::infinity())) {
        sparsemax_nonfinite(x, y, n, m);
        return;
    }
    T bound;
    const std::size_t k = sparsemax_candidates(x, n, m, work, &bound);
    const T tau = sparsemax_tau(work, k, bound, algo);
    if (sparsemax_store(x, y, n, m, tau)) {
        const T qnan = std::numeric_limits<T>::quiet_NaN();
        for (std::size_t i = 0; i < n; ++i) y[i] = qnan;
    }
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
