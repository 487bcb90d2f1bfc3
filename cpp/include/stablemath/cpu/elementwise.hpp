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
template <class S, std::size_t N, class F>
void map_typed(const ArrayRef* const (&ins)[N], const ArrayRef& out, double cost_ns, F&& f) {
    using T = typename stablemath::detail::accum<S>::type;
    static_assert(N + 1 <= kMaxOperands, "too many operands");
    const ArrayRef* ops[N + 1];
    ops[0] = &out;
    for (std::size_t k = 0; k < N; ++k) ops[k + 1] = ins[k];
    const Layout L = make_layout(ops, static_cast<int>(N + 1), 0);  // no reduced axes: all outer
    if (L.rows == 0) return;
    // The innermost merged axis becomes the inner loop; the others index "lines".
    Layout lines = L;
    Dim inner{};
    inner.size = 1;
    if (!lines.outer.empty()) {
        inner = lines.outer.back();
        lines.outer.pop_back();
        lines.rows = L.rows / inner.size;
    }
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

}  // namespace detail

// out = f(ins...) element-wise; all operands share out's dtype (the caller converts).
template <std::size_t N, class F>
void map(const ArrayRef* const (&ins)[N], const ArrayRef& out, double cost_ns, F&& f) {
    detail::dispatch_dtype(out.dtype, [&](auto tag) { detail::map_typed<decltype(tag)>(ins, out, cost_ns, f); });
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
