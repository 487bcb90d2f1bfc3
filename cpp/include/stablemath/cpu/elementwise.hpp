// Element-wise functions of several broadcast arrays on the CPU: out[i] = f(a[i], b[i], ...).
//
// Every operand is an ArrayRef with out's rank and shape (stride 0 on broadcast axes). Axes merge
// where all operands allow (cpu/strided.hpp), the innermost merged axis is the inner loop, and the
// outer index space is split across the thread pool in fixed blocks. Operands are widened to the
// computation type of the storage type (float for float16/bfloat16/float, double for double).
#pragma once
#include <algorithm>
#include <cstdint>
#include <utility>
#include "../config.hpp"
#include "../detail/half.hpp"
#include "strided.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace cpu {
namespace detail {

template <class F, class T, std::size_t N, std::size_t... I>
SM_FORCE_INLINE auto call(F& f, const T (&a)[N], std::index_sequence<I...>) { return f(a[I]...); }

// Applies f to every element; ins[k] holds operand k. `cost` is a rough per-element cost in ns
// that decides how many elements one task takes (expensive special functions parallelise sooner).
// The innermost merged axis becomes the inner loop of an element-wise map; the remaining axes of
// `lines` index the lines. Returns the inner axis (size 1 for a 0-d layout).
inline Dim split_inner(Layout& lines) {
    Dim inner{};
    inner.size = 1;
    if (!lines.outer.empty()) {
        inner = lines.outer.back();
        lines.outer.pop_back();
        lines.rows /= inner.size;
    }
    return inner;
}

template <class S, std::size_t N, class F>
void map_typed(const ArrayRef* const (&ins)[N], const ArrayRef& out, double cost_ns, F&& f) {
    using T = typename stablemath::detail::accum<S>::type;
    static_assert(N + 1 <= kMaxOperands, "too many operands");
    const ArrayRef* ops[N + 1];
    ops[0] = &out;
    for (std::size_t k = 0; k < N; ++k) ops[k + 1] = ins[k];
    const Layout L = make_layout(ops, static_cast<int>(N + 1), 0);  // no reduced axes: all outer
    if (L.rows == 0) return;
    Layout lines = L;
    const Dim inner = split_inner(lines);
    const std::int64_t per_line = inner.size;
    const std::int64_t target = std::max<std::int64_t>(1, static_cast<std::int64_t>(20000.0 / std::max(cost_ns, 0.1)));
    const std::int64_t lines_per_task = std::max<std::int64_t>(1, target / per_line);
    const std::int64_t tasks = (lines.rows + lines_per_task - 1) / lines_per_task;
    auto run = [&](std::size_t t) {
        const std::int64_t first = static_cast<std::int64_t>(t) * lines_per_task;
        const std::int64_t last = std::min<std::int64_t>(lines.rows, first + lines_per_task);
        for (std::int64_t r = first; r < last; ++r) {
            std::int64_t base[kMaxOperands];
            outer_offsets(lines, r, static_cast<int>(N + 1), base);
            S* o = static_cast<S*>(out.data) + base[0];
            const S* in[N];
            for (std::size_t k = 0; k < N; ++k) in[k] = static_cast<const S*>(ins[k]->data) + base[k + 1];
            for (std::int64_t j = 0; j < per_line; ++j) {
                T args[N];
                for (std::size_t k = 0; k < N; ++k) args[k] = stablemath::detail::widen(in[k][j * inner.stride[k + 1]]);
                o[j * inner.stride[0]] = stablemath::detail::narrow<S>(call(f, args, std::make_index_sequence<N>{}));
            }
        }
    };
    if (tasks <= 1) run(0);
    else ThreadPool::instance().parallel_for(static_cast<std::size_t>(tasks), run);
}

// map_typed for two operands with a batch function: fb(const T* a, const T* b, T* out, n) gets up to
// kBatch elements at a time (gathered from any strides, widened; results narrowed and scattered).
template <class S, std::size_t kBatch, class FB>
void map2_batched_typed(const ArrayRef* const (&ins)[2], const ArrayRef& out, double cost_ns, FB&& fb) {
    using T = typename stablemath::detail::accum<S>::type;
    const ArrayRef* ops[3] = {&out, ins[0], ins[1]};
    const Layout L = make_layout(ops, 3, 0);
    if (L.rows == 0) return;
    Layout lines = L;
    const Dim inner = split_inner(lines);
    const std::int64_t per_line = inner.size;
    // Tasks of whole batches where a line is long, of whole lines otherwise.
    const std::int64_t target = std::max<std::int64_t>(static_cast<std::int64_t>(kBatch),
                                                       static_cast<std::int64_t>(20000.0 / std::max(cost_ns, 0.1)));
    const std::int64_t chunk = per_line > target ? (target + kBatch - 1) / kBatch * kBatch : per_line;
    const std::int64_t chunks_per_line = (per_line + chunk - 1) / chunk;
    const std::int64_t lines_per_task = per_line > target ? 1 : std::max<std::int64_t>(1, target / per_line);
    const std::int64_t units = per_line > target ? lines.rows * chunks_per_line : lines.rows;
    const std::int64_t tasks = per_line > target ? units : (lines.rows + lines_per_task - 1) / lines_per_task;
    auto do_range = [&](std::int64_t r, std::int64_t j0, std::int64_t j1) {
        std::int64_t base[kMaxOperands];
        outer_offsets(lines, r, 3, base);
        S* o = static_cast<S*>(out.data) + base[0];
        const S* a = static_cast<const S*>(ins[0]->data) + base[1];
        const S* b = static_cast<const S*>(ins[1]->data) + base[2];
        T ta[kBatch], tb[kBatch], to[kBatch];
        for (std::int64_t j = j0; j < j1; j += static_cast<std::int64_t>(kBatch)) {
            const std::int64_t m = std::min<std::int64_t>(static_cast<std::int64_t>(kBatch), j1 - j);
            for (std::int64_t i = 0; i < m; ++i) {
                ta[i] = stablemath::detail::widen(a[(j + i) * inner.stride[1]]);
                tb[i] = stablemath::detail::widen(b[(j + i) * inner.stride[2]]);
            }
            fb(static_cast<const T*>(ta), static_cast<const T*>(tb), static_cast<T*>(to), static_cast<std::size_t>(m));
            for (std::int64_t i = 0; i < m; ++i) o[(j + i) * inner.stride[0]] = stablemath::detail::narrow<S>(to[i]);
        }
    };
    auto run = [&](std::size_t t) {
        const std::int64_t tt = static_cast<std::int64_t>(t);
        if (per_line > target) {
            const std::int64_t r = tt / chunks_per_line, j0 = (tt % chunks_per_line) * chunk;
            do_range(r, j0, std::min(per_line, j0 + chunk));
        } else {
            const std::int64_t first = tt * lines_per_task, last = std::min<std::int64_t>(lines.rows, first + lines_per_task);
            for (std::int64_t r = first; r < last; ++r) do_range(r, 0, per_line);
        }
    };
    if (tasks <= 1) run(0);
    else ThreadPool::instance().parallel_for(static_cast<std::size_t>(tasks), run);
}

}  // namespace detail

// out = f(ins...) element-wise; all operands share out's dtype (the caller converts).
template <std::size_t N, class F>
void map(const ArrayRef* const (&ins)[N], const ArrayRef& out, double cost_ns, F&& f) {
    detail::dispatch_dtype(out.dtype, [&](auto tag) { detail::map_typed<decltype(tag)>(ins, out, cost_ns, f); });
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
