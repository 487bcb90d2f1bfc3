// N-dimensional strided arrays: the one place that turns (array, axes) into rows.
//
// Every operand of a call (x, out, optional weights / mask / sign) is described by an ArrayRef of
// the same rank and shape as x; broadcast operands carry stride 0 and a reduction's outputs carry
// stride 0 on the reduced axes. The reduced axes form the row, the others index rows. Adjacent
// axes merge where every operand allows it, so a contiguous last-axis softmax becomes one stride-1
// row per index. Rows that are stride-1 in x and out, in the accumulation dtype and without mask
// or weights, go straight to the kernels; all others are gathered into a per-thread buffer
// (widening float16/bfloat16, applying the mask) and scattered back after.
#pragma once
#include <algorithm>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>
#include "../config.hpp"
#include "../detail/half.hpp"
#include "row_algorithms.hpp"

STABLEMATH_NAMESPACE_BEGIN

enum class DType : std::uint8_t { float16, bfloat16, float32, float64, boolean };

// A strided view; strides count elements, not bytes.
struct ArrayRef {
    void* data = nullptr;
    DType dtype = DType::float32;
    int ndim = 0;
    const std::int64_t* shape = nullptr;
    const std::int64_t* strides = nullptr;
};

namespace cpu {
namespace detail {

inline constexpr int kMaxOperands = 5;

struct Dim {
    std::int64_t size;
    std::int64_t stride[kMaxOperands];
};

// Outer (row-indexing) and row (reduced) dimensions after dropping size-1 axes and merging.
struct Layout {
    std::vector<Dim> outer, row;
    std::int64_t rows = 1, row_size = 1;
};

inline void push_merged(std::vector<Dim>& dims, const Dim& d, int nops) {
    if (!dims.empty()) {
        Dim& prev = dims.back();
        bool mergeable = true;
        for (int o = 0; o < nops; ++o) mergeable &= prev.stride[o] == d.stride[o] * d.size;
        if (mergeable) {
            prev.size *= d.size;
            for (int o = 0; o < nops; ++o) prev.stride[o] = d.stride[o];
            return;
        }
    }
    dims.push_back(d);
}

inline Layout make_layout(const ArrayRef* const* ops, int nops, std::uint64_t row_axes) {
    Layout L;
    const ArrayRef& x = *ops[0];
    for (int a = 0; a < x.ndim; ++a) {
        const bool in_row = (row_axes >> a) & 1u;
        (in_row ? L.row_size : L.rows) *= x.shape[a];
        if (x.shape[a] == 1) continue;
        Dim d{};
        d.size = x.shape[a];
        for (int o = 0; o < nops; ++o) d.stride[o] = ops[o] ? ops[o]->strides[a] : 0;
        push_merged(in_row ? L.row : L.outer, d, nops);
    }
    return L;
}

// Element offsets of outer index r, for every operand.
inline void outer_offsets(const Layout& L, std::int64_t r, int nops, std::int64_t* off) {
    for (int o = 0; o < nops; ++o) off[o] = 0;
    for (std::size_t d = L.outer.size(); d-- > 0;) {
        const std::int64_t i = r % L.outer[d].size;
        r /= L.outer[d].size;
        for (int o = 0; o < nops; ++o) off[o] += i * L.outer[d].stride[o];
    }
}

// Calls fn(i, off) for the i-th element of a row, off[o] being its offset in operand o (row-major).
template <class F>
void for_row(const Layout& L, int nops, F&& fn) {
    std::int64_t off[kMaxOperands] = {0, 0, 0, 0, 0};
    if (L.row.size() <= 1) {
        for (std::int64_t i = 0; i < L.row_size; ++i) {
            for (int o = 0; o < nops; ++o) off[o] = L.row.empty() ? 0 : i * L.row[0].stride[o];
            fn(i, off);
        }
        return;
    }
    std::vector<std::int64_t> idx(L.row.size(), 0);
    for (std::int64_t i = 0; i < L.row_size; ++i) {
        fn(i, off);
        for (std::size_t d = L.row.size(); d-- > 0;) {
            for (int o = 0; o < nops; ++o) off[o] += L.row[d].stride[o];
            if (++idx[d] < L.row[d].size) break;
            for (int o = 0; o < nops; ++o) off[o] -= L.row[d].stride[o] * L.row[d].size;
            idx[d] = 0;
        }
    }
}

// Runs fn(first_row, count, exec) over blocks of up to B consecutive rows. Blocks are grouped into
// tasks of at least ~32K elements on the pool; a few long rows instead run one after another, each
// split into parts across the pool (exec = Parallel).
template <class BlockFn>
void run_blocks(const Layout& L, std::int64_t B, BlockFn&& fn) {
    const std::int64_t n = L.row_size > 0 ? L.row_size : 1;
    const int threads = ThreadPool::instance().num_threads();
    const std::int64_t blocks = (L.rows + B - 1) / B;
    auto block = [&](std::int64_t b, auto ex) { fn(b * B, std::min<std::int64_t>(B, L.rows - b * B), ex); };
    if (L.rows * n < (1 << 15) || threads == 1) {
        for (std::int64_t b = 0; b < blocks; ++b) block(b, Serial{});
        return;
    }
    if (L.rows < 2 * threads && n >= static_cast<std::int64_t>(2 * kPart)) {
        for (std::int64_t b = 0; b < blocks; ++b) block(b, Parallel{});
        return;
    }
    const std::int64_t per_task = std::max<std::int64_t>(1, (1 << 15) / (n * B));
    const std::int64_t tasks = (blocks + per_task - 1) / per_task;
    ThreadPool::instance().parallel_for(static_cast<std::size_t>(tasks), [&](std::size_t t) {
        const std::int64_t end = std::min<std::int64_t>(blocks, (static_cast<std::int64_t>(t) + 1) * per_task);
        for (std::int64_t b = static_cast<std::int64_t>(t) * per_task; b < end; ++b) block(b, Serial{});
    });
}

template <class T>
std::vector<T>& scratch(int which) {
    thread_local std::vector<T> buf[3];
    return buf[which];
}

template <class S>
const S* at(const ArrayRef& a, std::int64_t off) { return static_cast<const S*>(a.data) + off; }
template <class S>
S* at_mut(const ArrayRef& a, std::int64_t off) { return static_cast<S*>(a.data) + off; }

// Operand slots used by the drivers below.
enum Slot : int { kX = 0, kOut = 1, kWeight = 2, kMask = 3, kSign = 4 };

inline constexpr std::int64_t kMaxBlockRows = 64;

// Rows copied to scratch go in blocks of consecutive rows: when x's innermost row-indexing axis
// has stride 1 (a reduction over a non-last axis of a C-ordered array), one pass over the row
// elements then reads B adjacent values per cache line instead of one.
inline std::int64_t gather_block_rows(const Layout& L) {
    constexpr std::int64_t kMaxBlock = kMaxBlockRows, kMaxScratch = std::int64_t(1) << 20;
    if (L.outer.empty() || L.outer.back().stride[kX] != 1) return 1;
    return std::max<std::int64_t>(1, std::min<std::int64_t>(kMaxBlock, kMaxScratch / std::max<std::int64_t>(1, L.row_size)));
}

// Base offsets of rows r0 .. r0 + count - 1 for every operand.
struct BlockBases {
    std::int64_t off[kMaxBlockRows][kMaxOperands];
};

inline void block_bases(const Layout& L, std::int64_t r0, std::int64_t count, int nops, BlockBases& bb) {
    for (std::int64_t b = 0; b < count; ++b) outer_offsets(L, r0 + b, nops, bb.off[b]);
}

// The row drivers every row function uses (S: storage dtype, T = accum<S>: float or double).
//
// transform_rows: out has x's shape; fn(const T* x_row, T* y_row, std::size_t n, exec) maps one
// contiguous row to one contiguous row. Rows that are stride-1 in x and out (and S == T, no mask)
// are passed in place; others are gathered into per-thread scratch in blocks of rows (widening
// float16/bfloat16; masked entries read as `masked_in`), and scattered back (masked entries
// written as `masked_out`). exec is Serial or Parallel: a Parallel row may be split into parts.
template <class S, class RowFn>
void transform_rows(const ArrayRef& x, int axis, const ArrayRef* where, const ArrayRef& out,
                    typename stablemath::detail::accum<S>::type masked_in,
                    typename stablemath::detail::accum<S>::type masked_out, RowFn&& fn) {
    using T = typename stablemath::detail::accum<S>::type;
    const ArrayRef* ops[4] = {&x, &out, nullptr, where};
    const int nops = where ? 4 : 2;
    const Layout L = make_layout(ops, nops, std::uint64_t(1) << axis);
    if (L.rows == 0 || L.row_size == 0) return;
    const std::size_t n = static_cast<std::size_t>(L.row_size);
    const bool direct = std::is_same<S, T>::value && !where && L.row.size() == 1 && L.row[0].stride[kX] == 1 &&
                        L.row[0].stride[kOut] == 1;
    const S masked = stablemath::detail::narrow<S>(masked_out);
    run_blocks(L, direct ? 1 : gather_block_rows(L), [&](std::int64_t r0, std::int64_t count, auto ex) {
        BlockBases bb;
        block_bases(L, r0, count, nops, bb);
        if (direct) {
            fn(reinterpret_cast<const T*>(at<S>(x, bb.off[0][kX])), reinterpret_cast<T*>(at_mut<S>(out, bb.off[0][kOut])),
               n, ex);
            return;
        }
        std::vector<T>& xb = scratch<T>(0);
        std::vector<T>& yb = scratch<T>(1);
        xb.resize(n * count);
        yb.resize(n * count);
        for_row(L, nops, [&](std::int64_t i, const std::int64_t* o) {
            for (std::int64_t b = 0; b < count; ++b) {
                const bool keep = !where || at<std::uint8_t>(*where, bb.off[b][kMask])[o[kMask]];
                xb[b * n + i] = keep ? stablemath::detail::widen(at<S>(x, bb.off[b][kX])[o[kX]]) : masked_in;
            }
        });
        for (std::int64_t b = 0; b < count; ++b) fn(xb.data() + b * n, yb.data() + b * n, n, ex);
        for_row(L, nops, [&](std::int64_t i, const std::int64_t* o) {
            for (std::int64_t b = 0; b < count; ++b) {
                const bool keep = !where || at<std::uint8_t>(*where, bb.off[b][kMask])[o[kMask]];
                at_mut<S>(out, bb.off[b][kOut])[o[kOut]] = keep ? stablemath::detail::narrow<S>(yb[b * n + i]) : masked;
            }
        });
    });
}

// reduce_rows: fn(std::int64_t r, const T* x_row, std::size_t n, exec) is called once for every
// row, r being the row's index in C order over x's other axes (so per-row results can go to a
// contiguous array of shape x.shape without `axis`: row r at r * stride). Rows are passed in place
// when stride-1 and S == T, else gathered (widened) into scratch. fn may run concurrently for
// different rows; it must only write its own row's results.
template <class S, class RowFn>
void reduce_rows(const ArrayRef& x, int axis, RowFn&& fn) {
    using T = typename stablemath::detail::accum<S>::type;
    const ArrayRef* ops[1] = {&x};
    const Layout L = make_layout(ops, 1, std::uint64_t(1) << axis);
    if (L.rows == 0) return;
    const std::size_t n = static_cast<std::size_t>(L.row_size);
    const bool direct = std::is_same<S, T>::value && L.row.size() <= 1 && (L.row.empty() || L.row[0].stride[kX] == 1);
    run_blocks(L, direct ? 1 : gather_block_rows(L), [&](std::int64_t r0, std::int64_t count, auto ex) {
        BlockBases bb;
        block_bases(L, r0, count, 1, bb);
        if (direct) {
            fn(r0, reinterpret_cast<const T*>(at<S>(x, bb.off[0][kX])), n, ex);
            return;
        }
        std::vector<T>& xb = scratch<T>(0);
        xb.resize(n * count);
        for_row(L, 1, [&](std::int64_t i, const std::int64_t* o) {
            for (std::int64_t b = 0; b < count; ++b) xb[b * n + i] = stablemath::detail::widen(at<S>(x, bb.off[b][kX])[o[kX]]);
        });
        for (std::int64_t b = 0; b < count; ++b) fn(r0 + b, xb.data() + b * n, n, ex);
    });
}

template <class S>
void softmax_typed(const ArrayRef& x, int axis, const ArrayRef* where, const ArrayRef& out, SoftmaxAlgorithm algo,
                   bool log, bool safe) {
    using T = typename stablemath::detail::accum<S>::type;
    const KernelTable<T>& k = kernels<T>();
    const T ninf = -std::numeric_limits<T>::infinity();
    transform_rows<S>(x, axis, where, out, ninf, log ? ninf : T(0), [&](const T* xr, T* yr, std::size_t n, auto ex) {
        softmax_row(k, xr, yr, n, algo, log, safe, ex);
    });
}

// out (and sign) hold one value per row: their strides on the reduced axes are 0.
template <class S>
void logsumexp_typed(const ArrayRef& x, std::uint64_t axes, const ArrayRef* weights, const ArrayRef* where,
                     const ArrayRef& out, const ArrayRef* sign) {
    using T = typename stablemath::detail::accum<S>::type;
    const ArrayRef* ops[5] = {&x, &out, weights, where, sign};
    const int nops = 5;
    const Layout L = make_layout(ops, nops, axes);
    if (L.rows == 0) return;
    const KernelTable<T>& k = kernels<T>();
    const std::size_t n = static_cast<std::size_t>(L.row_size);
    const bool direct = std::is_same<S, T>::value && !weights && !where && L.row.size() <= 1 &&
                        (L.row.empty() || L.row[0].stride[kX] == 1);
    run_blocks(L, direct ? 1 : gather_block_rows(L), [&](std::int64_t r0, std::int64_t count, auto ex) {
        BlockBases bb;
        block_bases(L, r0, count, nops, bb);
        T value[kMaxBlockRows], sgn[kMaxBlockRows];
        if (direct) {
            value[0] = logsumexp_row(k, reinterpret_cast<const T*>(at<S>(x, bb.off[0][kX])), n, &sgn[0], ex);
        } else {
            std::vector<T>& xb = scratch<T>(0);
            std::vector<T>& wb = scratch<T>(2);
            xb.resize(n * count);
            if (weights) wb.resize(n * count);
            const T ninf = -std::numeric_limits<T>::infinity();
            for_row(L, nops, [&](std::int64_t i, const std::int64_t* o) {
                for (std::int64_t b = 0; b < count; ++b) {
                    T v = stablemath::detail::widen(at<S>(x, bb.off[b][kX])[o[kX]]);
                    const bool keep = !where || at<std::uint8_t>(*where, bb.off[b][kMask])[o[kMask]];
                    if (!keep) v = ninf;
                    if (weights) {
                        const T w = keep ? at<T>(*weights, bb.off[b][kWeight])[o[kWeight]] : T(0);
                        wb[b * n + i] = w;
                        if (w == 0) v = ninf;  // a zero weight drops the element, even inf or NaN
                    }
                    xb[b * n + i] = v;
                }
            });
            for (std::int64_t b = 0; b < count; ++b)
                value[b] = weights ? logsumexp_row_weighted(k, xb.data() + b * n, wb.data() + b * n, n, &sgn[b])
                                   : logsumexp_row(k, xb.data() + b * n, n, &sgn[b], ex);
        }
        for (std::int64_t b = 0; b < count; ++b) {
            // Without a sign output a negative weighted sum has no real logarithm: NaN, as in SciPy.
            if (!sign && sgn[b] < 0) value[b] = std::numeric_limits<T>::quiet_NaN();
            *at_mut<S>(out, bb.off[b][kOut]) = stablemath::detail::narrow<S>(value[b]);
            if (sign) *at_mut<S>(*sign, bb.off[b][kSign]) = stablemath::detail::narrow<S>(sgn[b]);
        }
    });
}

template <class F>
void dispatch_dtype(DType dt, F&& fn) {
    switch (dt) {
    case DType::float16: return fn(float16_t{});
    case DType::bfloat16: return fn(bfloat16_t{});
    case DType::float32: return fn(float{});
    case DType::float64: return fn(double{});
    default: break;
    }
}

}  // namespace detail

// softmax / log_softmax of x along one axis into out (same shape and dtype as x). where: optional
// boolean mask (stride 0 where broadcast); masked entries give 0 (softmax) or -inf (log_softmax).
// safe: rows with no finite mass give 0 / -inf instead of NaN. Runs on the thread pool.
inline void softmax(const ArrayRef& x, int axis, const ArrayRef* where, const ArrayRef& out,
                    SoftmaxAlgorithm algo = SoftmaxAlgorithm::automatic, bool log = false, bool safe = false) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) {
        detail::softmax_typed<decltype(tag)>(x, axis, where, out, algo, log, safe);
    });
}

// logsumexp of x over the axes in the bit mask `axes` into out (and optionally the sign of the sum),
// with optional weights (accumulation dtype: float for 16/32-bit x, double for double) or mask.
inline void logsumexp(const ArrayRef& x, std::uint64_t axes, const ArrayRef* weights, const ArrayRef* where,
                      const ArrayRef& out, const ArrayRef* sign = nullptr) {
    detail::dispatch_dtype(x.dtype, [&](auto tag) {
        detail::logsumexp_typed<decltype(tag)>(x, axes, weights, where, out, sign);
    });
}

}  // namespace cpu
STABLEMATH_NAMESPACE_END
