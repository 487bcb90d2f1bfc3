// Top-k selection helpers for stablemath/topk.hpp: the ranking rule and small sorted lists.
//
// Ranking (documented in the README): NaN before every number (as torch.topk), then larger values
// first, then, among equal values (and among NaNs), the smaller index first. This is a strict
// total order on (value, index) pairs, so every path (fast scan, partial sort, any part split or
// thread count) selects and orders the same k elements.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <vector>
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

template <class T>
struct TopEntry {
    T v;
    std::int64_t i;
};

template <class T>
inline bool ranks_before(T va, std::int64_t ia, T vb, std::int64_t ib) {
    const bool na = va != va, nb = vb != vb;
    if (na != nb) return na;
    if (!na && va != vb) return va > vb;
    return ia < ib;
}

// A list of at most k entries in ranking order, fed NaN-free values in increasing index order:
// an entry equal to a held value ranks after it, so the test against the k-th value is a strict '>'.
template <class T>
struct TopList {
    std::vector<TopEntry<T>> e;
    std::size_t k = 0;

    explicit TopList(std::size_t k_ = 0) : k(k_) { e.reserve(k_ + 1); }
    bool full() const { return e.size() >= k; }
    T kth() const { return e.back().v; }  // only when full()

    void push(T v, std::int64_t i) {
        if (full() && !(v > e.back().v)) return;
        // After every held entry with value >= v (an increasing index loses ties).
        auto pos = std::upper_bound(e.begin(), e.end(), v, [](T a, const TopEntry<T>& b) { return a > b.v; });
        e.insert(pos, TopEntry<T>{v, i});
        if (e.size() > k) e.pop_back();
    }
};

// The first k of two ranked lists, a's indices all smaller than b's (a part before a later part).
template <class T>
inline std::vector<TopEntry<T>> merge_ranked(const std::vector<TopEntry<T>>& a, const std::vector<TopEntry<T>>& b,
                                             std::size_t k) {
    std::vector<TopEntry<T>> out;
    out.reserve(std::min(k, a.size() + b.size()));
    std::size_t i = 0, j = 0;
    while (out.size() < k && (i < a.size() || j < b.size())) {
        const bool take_a = j == b.size() || (i < a.size() && ranks_before(a[i].v, a[i].i, b[j].v, b[j].i));
        out.push_back(take_a ? a[i++] : b[j++]);
    }
    return out;
}

// The k first-ranked elements of x[0..n) by partial sort (any k, NaN allowed): idx gets their
// indices in ranking order. scratch is resized to n.
template <class T>
inline void rank_partial_sort(const T* x, std::size_t n, std::size_t k, std::int64_t* idx,
                              std::vector<std::int64_t>& scratch) {
    scratch.resize(n);
    std::iota(scratch.begin(), scratch.end(), std::int64_t(0));
    auto before = [x](std::int64_t a, std::int64_t b) { return ranks_before(x[a], a, x[b], b); };
    if (k < n) std::nth_element(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k - 1), scratch.end(), before);
    std::sort(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k), before);
    std::copy(scratch.begin(), scratch.begin() + static_cast<std::ptrdiff_t>(k), idx);
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
