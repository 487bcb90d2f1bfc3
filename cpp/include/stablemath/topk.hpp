// stablemath/topk.hpp - fused softmax + top-k on the CPU: the k largest probabilities (or
// log-probabilities, or logits with the row's logsumexp) of every row and their indices, in one
// read of the row instead of softmax's read + write followed by top-k's read.
//
// Per row (per kPart part of a long row, parts merged in order):
//   1. block_max_state (kernel table): per L1-sized chunk the maxima of its kTopkBlock-element
//      blocks, then the chunk's LseState {m, c, s} from L1 -- the online normaliser.
//   2. The k-th largest block maximum t0 is a lower bound on the k-th largest element (k blocks
//      each hold an element >= t0), so only blocks whose maximum reaches t0 are scanned, in index
//      order, for elements >= t0: about k blocks of n/128 on random data. For k <= kTopkListMax
//      they stream into a sorted list of k entries, else they are collected and selected
//      (nth_element + sort). With fewer than 4k blocks, t0 comes from the values in groups of 8.
//      A row holding NaN is ranked by a partial sort of indices.
//   3. The k values from the state: exp(x_i - m) / (c + s), or (x_i - m) - log(c + s) (log1p form).
// Ranking rule: detail/topk_select.hpp (NaN first, then larger values, ties to the smaller index).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>
#include "config.hpp"
#include "lse_state.hpp"
#include "cpu/kernel_table.hpp"
#include "cpu/row_algorithms.hpp"
#include "cpu/strided.hpp"
#include "detail/topk_select.hpp"

STABLEMATH_NAMESPACE_BEGIN

enum class TopkMode : int {
    probabilities = 0,      // softmax values
    log_probabilities = 1,  // log_softmax values
    logits = 2,             // the logits themselves, plus the row's logsumexp
};

namespace cpu {

// Largest k that streams candidates into a sorted list; above it candidates are collected and
// selected (nth_element), which costs less than list inserts of O(k) each.
inline constexpr std::size_t kTopkListMax = 16;

template <class T>
struct TopkPart {
    LseState<T> st;
    std::vector<stablemath::detail::TopEntry<T>> top;  // ranked; left empty when the part has NaN
};

// A lower bound on the k-th largest of v[0..n), k < n, v without NaN. With `group` and n >= 16k:
// the k-th largest of the maxima of groups of 8 (regrouped while there are at least 16k of them;
// group maxima of a subset rank below the values they stand for), ~8x less selection work. Then
// list inserts for k <= kTopkListMax, nth_element above.
template <class T>
T kth_lower_bound(const T* v, std::size_t n, std::size_t k, bool group) {
    thread_local std::vector<T> sel;
    std::size_t m = n;
    if (group && n >= 16 * k) {
        m = n / 8;  // a tail of < 8 elements is left out: still a lower bound
        sel.resize(m);
        for (std::size_t j = 0; j < m; ++j) {
            T g = v[8 * j];
            for (std::size_t t = 1; t < 8; ++t) g = v[8 * j + t] > g ? v[8 * j + t] : g;
            sel[j] = g;
        }
        while (m >= 16 * k) {
            m /= 8;
            for (std::size_t j = 0; j < m; ++j) {
                T g = sel[8 * j];
                for (std::size_t t = 1; t < 8; ++t) g = sel[8 * j + t] > g ? sel[8 * j + t] : g;
                sel[j] = g;
            }
        }
    } else {
        sel.assign(v, v + n);
    }
    if (k <= kTopkListMax) {
        stablemath::detail::TopList<T> top(k);
        for (std::size_t j = 0; j < m; ++j) top.push(sel[j], static_cast<std::int64_t>(j));
        return top.kth();
    }
    std::nth_element(sel.begin(), sel.begin() + static_cast<std::ptrdiff_t>(k - 1),
                     sel.begin() + static_cast<std::ptrdiff_t>(m), [](T a, T b) { return a > b; });
    return sel[k - 1];
}

// Steps 1-2 on x[base, base + len), indices relative to x.
template <class T>
TopkPart<T> topk_part_scan(const KernelTable<T>& kt, const T* x, std::size_t base, std::size_t len, std::size_t k) {
    using stablemath::detail::TopEntry;
    thread_local std::vector<T> bmax;
    const std::size_t nb = (len + kTopkBlock - 1) / kTopkBlock;
    bmax.resize(nb);
    TopkPart<T> part;
    part.st = kt.block_max_state(x + base, len, bmax.data());
    if (part.st.s != part.st.s) return part;  // NaN (block maxima ignore it): the caller ranks the row
    // Lower bound t0 on the part's k-th value: from the block maxima when there are many blocks
    // per wanted element, else from the values in groups of 8 (exactly, on short rows with k > 16;
    // -inf on short rows with k <= 16: the list takes the whole part).
    T t0 = -std::numeric_limits<T>::infinity();
    if (nb >= 4 * k) t0 = kth_lower_bound(bmax.data(), nb, k, k > kTopkListMax);
    else if (len >= 16 * k || (k > kTopkListMax && k < len)) t0 = kth_lower_bound(x + base, len, k, true);
    if (k <= kTopkListMax) {
        // Only v >= t0 can enter; once the list is full, only v above its k-th value.
        stablemath::detail::TopList<T> top(k);
        T lim = t0;
        for (std::size_t j = 0; j < nb; ++j) {
            if (!(bmax[j] >= t0)) continue;
            const std::size_t end = base + ((j + 1) * kTopkBlock < len ? (j + 1) * kTopkBlock : len);
            for (std::size_t i = base + j * kTopkBlock; i < end; ++i) {
                const T v = x[i];
                if (v >= lim) {  // almost always false
                    if (top.full() && v == lim) continue;
                    top.push(v, static_cast<std::int64_t>(i));
                    if (top.full()) lim = top.kth();
                }
            }
        }
        part.top = std::move(top.e);
        return part;
    }
    // Every element >= t0 of the blocks that reach t0 (at least k), then the k first-ranked of them.
    std::vector<TopEntry<T>>& cand = part.top;
    for (std::size_t j = 0; j < nb; ++j) {
        if (!(bmax[j] >= t0)) continue;
        const std::size_t end = base + ((j + 1) * kTopkBlock < len ? (j + 1) * kTopkBlock : len);
        for (std::size_t i = base + j * kTopkBlock; i < end; ++i)
            if (x[i] >= t0) cand.push_back(TopEntry<T>{x[i], static_cast<std::int64_t>(i)});
    }
    auto before = [](const TopEntry<T>& a, const TopEntry<T>& b) { return a.v > b.v || (a.v == b.v && a.i < b.i); };
    const std::size_t keep = k < cand.size() ? k : cand.size();
    if (keep < cand.size())
        std::nth_element(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep - 1), cand.end(), before);
    std::sort(cand.begin(), cand.begin() + static_cast<std::ptrdiff_t>(keep), before);
    cand.resize(keep);
    return part;
}

// One contiguous row, 1 <= k <= n: values[0..k) and indices[0..k) in ranking order; *lse (if given)
// the row's logsumexp. Probabilities of a row with NaN, +inf or no finite mass (all -inf) are NaN,
// as softmax gives; its indices still follow the ranking rule.
template <class T, class Exec>
void topk_row(const KernelTable<T>& kt, const T* x, std::size_t n, std::size_t k, TopkMode mode, T* values,
              std::int64_t* indices, T* lse, const Exec& ex) {
    const TopkPart<T> r = fold_parts(
        n, ex, TopkPart<T>{},
        [&](std::size_t b, std::size_t len) { return topk_part_scan(kt, x, b, len, k); },
        [k](const TopkPart<T>& a, const TopkPart<T>& c) {
            return TopkPart<T>{merge(a.st, c.st), stablemath::detail::merge_ranked(a.top, c.top, k)};
        });
    const LseState<T> st = r.st;
    if (st.s == st.s && st.c == st.c && r.top.size() == k) {
        for (std::size_t j = 0; j < k; ++j) indices[j] = r.top[j].i;
    } else {  // a NaN in the row (rare): rank every element, NaN first
        thread_local std::vector<std::int64_t> scratch;
        stablemath::detail::rank_partial_sort(x, n, k, indices, scratch);
    }
    if (lse) *lse = finalize(st);
    if (mode == TopkMode::logits) {
        for (std::size_t j = 0; j < k; ++j) values[j] = x[indices[j]];
        return;
    }
    if (!std::isfinite(st.m) || !std::isfinite(st.total())) {
        for (std::size_t j = 0; j < k; ++j) values[j] = std::numeric_limits<T>::quiet_NaN();
        return;
    }
    if (mode == TopkMode::log_probabilities) {
        const T l = log_relative(st);  // log(c + s) = log c + log1p(s / c)
        for (std::size_t j = 0; j < k; ++j) values[j] = (x[indices[j]] - st.m) - l;
    } else {
        const T total = st.total();
        for (std::size_t j = 0; j < k; ++j) values[j] = std::exp(x[indices[j]] - st.m) / total;
    }
}

namespace detail {

template <class S>
void softmax_topk_typed(const ArrayRef& x, int axis, std::size_t k, TopkMode mode, S* values, std::int64_t* indices,
                        S* lse) {
    using T = typename stablemath::detail::accum<S>::type;
    const KernelTable<T>& kt = kernels<T>();
    reduce_rows<S>(x, axis, [&](std::int64_t r, const T* row, std::size_t n, auto ex) {
        thread_local std::vector<T> vbuf;
        vbuf.resize(k);
        T l = 0;
        const std::size_t at = static_cast<std::size_t>(r) * k;
        topk_row(kt, row, n, k, mode, vbuf.data(), indices + at, lse ? &l : nullptr, ex);
        for (std::size_t j = 0; j < k; ++j) values[at + j] = stablemath::detail::narrow<S>(vbuf[j]);
        if (lse) lse[r] = stablemath::detail::narrow<S>(l);
    });
}

}  // namespace detail

// Top-k of softmax(x) along `axis` (1 <= k <= the axis length; callers check). Row r (C order over
// x's other axes) writes values[r*k .. r*k+k) (x's dtype), indices[r*k ..) and, if lse is given,
// lse[r] (x's dtype). Runs on the thread pool; results do not depend on the thread count.
inline void softmax_topk(const ArrayRef& x, int axis, std::size_t k, TopkMode mode, void* values,
                         std::int64_t* indices, void* lse = nullptr) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) {
        using S = decltype(tag);
        detail::softmax_topk_typed<S>(x, axis, k, mode, static_cast<S*>(values), indices, static_cast<S*>(lse));
    });
}

}  // namespace cpu

// Contiguous row: the k largest softmax (log_softmax with log) values of x[0..n) and their indices.
template <class T>
void softmax_topk(const T* x, std::size_t n, std::size_t k, T* values, std::int64_t* indices, bool log = false) {
    cpu::topk_row(cpu::kernels<T>(), x, n, k, log ? TopkMode::log_probabilities : TopkMode::probabilities, values,
                  indices, static_cast<T*>(nullptr), cpu::Parallel{});
}

STABLEMATH_NAMESPACE_END
