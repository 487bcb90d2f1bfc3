// The nanobind extension stablemath._core: converts arrays to stablemath::ArrayRef and calls the
// CPU drivers with the GIL released. Argument checking that needs no data (names, shapes, dtypes,
// axes) happens in python/stablemath/_api.py; this file re-checks what would otherwise crash.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>
#include <nanobind/stl/string.h>

#include <optional>
#include <string>
#include <vector>

#include <stablemath/bessel.hpp>
#include <stablemath/cpu/elementwise.hpp>
#include <stablemath/cpu/kernel_table.hpp>
#include <stablemath/cpu/strided.hpp>
#include <stablemath/cpu/thread_pool.hpp>

namespace nb = nanobind;
namespace sm = stablemath;

using InArray = nb::ndarray<nb::ro>;
using OutArray = nb::ndarray<>;

namespace {

// An ArrayRef plus the storage for its shape and strides, laid out with x's rank.
struct Operand {
    std::vector<std::int64_t> shape, strides;
    sm::ArrayRef ref;
};

sm::DType dtype_of(const nb::dlpack::dtype& dt, const char* name) {
    using code = nb::dlpack::dtype_code;
    if (dt.lanes == 1) {
        if (dt.code == static_cast<std::uint8_t>(code::Float) && dt.bits == 16) return sm::DType::float16;
        if (dt.code == static_cast<std::uint8_t>(code::Float) && dt.bits == 32) return sm::DType::float32;
        if (dt.code == static_cast<std::uint8_t>(code::Float) && dt.bits == 64) return sm::DType::float64;
        if (dt.code == static_cast<std::uint8_t>(code::Bfloat) && dt.bits == 16) return sm::DType::bfloat16;
        if (dt.code == static_cast<std::uint8_t>(code::Bool) && dt.bits == 8) return sm::DType::boolean;
    }
    throw nb::type_error((std::string(name) + ": unsupported dtype").c_str());
}

template <class A>
void check_cpu(const A& a, const char* name) {
    if (a.device_type() != nb::device::cpu::value)
        throw nb::value_error((std::string(name) + ": array is not on the CPU, and this build of stablemath has no "
                               "CUDA backend").c_str());
}

// View `a` with x's shape: trailing-aligned broadcasting, stride 0 on broadcast axes.
template <class A>
Operand broadcast_to(const A& a, const std::vector<std::int64_t>& shape, const char* name) {
    check_cpu(a, name);
    const int nd = static_cast<int>(shape.size()), na = static_cast<int>(a.ndim());
    if (na > nd) throw nb::value_error((std::string(name) + ": has more dimensions than the input").c_str());
    Operand op{shape, std::vector<std::int64_t>(nd, 0), {}};
    for (int i = 0; i < na; ++i) {
        const int d = nd - na + i;
        const std::int64_t s = static_cast<std::int64_t>(a.shape(i));
        if (s == shape[d]) op.strides[d] = a.stride(i);
        else if (s != 1) throw nb::value_error((std::string(name) + ": shape does not broadcast to the input's shape").c_str());
    }
    op.ref = sm::ArrayRef{const_cast<void*>(static_cast<const void*>(a.data())), dtype_of(a.dtype(), name), nd,
                          nullptr, nullptr};
    return op;
}

// View a reduction output (shape of x without the reduced axes, or with them as 1 for keepdims)
// with x's rank and stride 0 on the reduced axes.
Operand reduced_view(const OutArray& a, const std::vector<std::int64_t>& shape, std::uint64_t axes, const char* name) {
    check_cpu(a, name);
    const int nd = static_cast<int>(shape.size());
    Operand op{shape, std::vector<std::int64_t>(nd, 0), {}};
    const bool keepdims = static_cast<int>(a.ndim()) == nd;
    int j = 0;
    for (int d = 0; d < nd; ++d) {
        const bool reduced = (axes >> d) & 1u;
        if (reduced && !keepdims) continue;
        if (j >= static_cast<int>(a.ndim()) || (!reduced && static_cast<std::int64_t>(a.shape(j)) != shape[d]))
            throw nb::value_error((std::string(name) + ": wrong output shape").c_str());
        op.strides[d] = reduced ? 0 : a.stride(j);
        ++j;
    }
    if (j != static_cast<int>(a.ndim())) throw nb::value_error((std::string(name) + ": wrong output shape").c_str());
    op.ref = sm::ArrayRef{a.data(), dtype_of(a.dtype(), name), nd, nullptr, nullptr};
    return op;
}

void finish(Operand& op) {
    op.ref.shape = op.shape.data();
    op.ref.strides = op.strides.data();
}

std::vector<std::int64_t> shape_of(const InArray& x) {
    std::vector<std::int64_t> s(x.ndim());
    for (std::size_t i = 0; i < x.ndim(); ++i) s[i] = static_cast<std::int64_t>(x.shape(i));
    return s;
}

Operand input_operand(const InArray& x) {
    check_cpu(x, "x");
    Operand op{shape_of(x), std::vector<std::int64_t>(x.ndim()), {}};
    for (std::size_t i = 0; i < x.ndim(); ++i) op.strides[i] = x.stride(i);
    op.ref = sm::ArrayRef{const_cast<void*>(static_cast<const void*>(x.data())), dtype_of(x.dtype(), "x"),
                          static_cast<int>(x.ndim()), nullptr, nullptr};
    if (op.ref.dtype == sm::DType::boolean) throw nb::type_error("x: boolean input is not supported");
    finish(op);
    return op;
}

void require_dtype(const Operand& op, sm::DType want, const char* name) {
    if (op.ref.dtype != want) throw nb::type_error((std::string(name) + ": dtype does not match").c_str());
}

void softmax_binding(const InArray& x, int axis, std::optional<InArray> where, OutArray out, int algorithm, bool log,
                     bool safe) {
    Operand xo = input_operand(x);
    if (axis < 0 || axis >= std::max(1, xo.ref.ndim) || (xo.ref.ndim == 0 && axis != 0))
        throw nb::value_error("axis: out of range");
    if (algorithm < 0 || algorithm > 3) throw nb::value_error("algorithm: unknown code");
    Operand oo = broadcast_to(out, xo.shape, "out");
    if (static_cast<int>(out.ndim()) != xo.ref.ndim) throw nb::value_error("out: wrong shape");
    finish(oo);
    require_dtype(oo, xo.ref.dtype, "out");
    std::optional<Operand> wo;
    if (where) {
        wo = broadcast_to(*where, xo.shape, "where");
        finish(*wo);
        require_dtype(*wo, sm::DType::boolean, "where");
    }
    nb::gil_scoped_release release;
    sm::cpu::softmax(xo.ref, xo.ref.ndim == 0 ? 0 : axis, wo ? &wo->ref : nullptr, oo.ref,
                     static_cast<sm::SoftmaxAlgorithm>(algorithm), log, safe);
}

void logsumexp_binding(const InArray& x, std::uint64_t axes, std::optional<InArray> b, std::optional<InArray> where,
                       OutArray out, std::optional<OutArray> sign) {
    Operand xo = input_operand(x);
    if (xo.ref.ndim > 64 || (xo.ref.ndim < 64 && (axes >> xo.ref.ndim) != 0)) throw nb::value_error("axis: out of range");
    Operand oo = reduced_view(out, xo.shape, axes, "out");
    finish(oo);
    require_dtype(oo, xo.ref.dtype, "out");
    const sm::DType acc = xo.ref.dtype == sm::DType::float64 ? sm::DType::float64 : sm::DType::float32;
    std::optional<Operand> bo, wo, so;
    if (b) { bo = broadcast_to(*b, xo.shape, "b"); finish(*bo); require_dtype(*bo, acc, "b"); }
    if (where) { wo = broadcast_to(*where, xo.shape, "where"); finish(*wo); require_dtype(*wo, sm::DType::boolean, "where"); }
    if (sign) { so = reduced_view(*sign, xo.shape, axes, "sign"); finish(*so); require_dtype(*so, xo.ref.dtype, "sign"); }
    nb::gil_scoped_release release;
    sm::cpu::logsumexp(xo.ref, axes, bo ? &bo->ref : nullptr, wo ? &wo->ref : nullptr, oo.ref, so ? &so->ref : nullptr);
}

// Element-wise functions of (v, x): both broadcast to out's shape; all three share one float dtype.
void bessel_binding(int op, const InArray& v, const InArray& x, OutArray out) {
    check_cpu(out, "out");
    std::vector<std::int64_t> shape(out.ndim());
    for (std::size_t i = 0; i < out.ndim(); ++i) shape[i] = static_cast<std::int64_t>(out.shape(i));
    Operand vo = broadcast_to(v, shape, "v"), xo = broadcast_to(x, shape, "x"), oo = broadcast_to(out, shape, "out");
    finish(vo); finish(xo); finish(oo);
    if (oo.ref.dtype != sm::DType::float32 && oo.ref.dtype != sm::DType::float64)
        throw nb::type_error("out: dtype must be float32 or float64");
    require_dtype(vo, oo.ref.dtype, "v");
    require_dtype(xo, oo.ref.dtype, "x");
    if (op < 0 || op > 5) throw nb::value_error("op: unknown Bessel function code");
    const sm::ArrayRef* ins[2] = {&vo.ref, &xo.ref};
    constexpr double cost_ns = 150.0;  // a log-Bessel evaluation: a few logs and a short series
    nb::gil_scoped_release release;
    switch (op) {
    case 0: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_i(a, b); });
    case 1: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_k(a, b); });
    case 2: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_ie(a, b); });
    case 3: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_ke(a, b); });
    case 4: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::bessel_i_ratio(a, b); });
    case 5: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::bessel_k_ratio(a, b); });
    default: return;
    }
}

}  // namespace

NB_MODULE(_core, m) {
    m.doc() = "stablemath compiled core (private; use the stablemath package)";
    m.def("softmax", &softmax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("where").none(), nb::arg("out"),
          nb::arg("algorithm"), nb::arg("log"), nb::arg("safe"));
    m.def("logsumexp", &logsumexp_binding, nb::arg("x"), nb::arg("axes"), nb::arg("b").none(), nb::arg("where").none(),
          nb::arg("out"), nb::arg("sign").none());
    m.def("bessel", &bessel_binding, nb::arg("op"), nb::arg("v"), nb::arg("x"), nb::arg("out"));
    m.def("isa", [] { return std::string(sm::cpu::select_isa()); }, "Instruction set of the kernels chosen at import.");
    m.def("get_num_threads", [] { return sm::cpu::ThreadPool::instance().num_threads(); });
    m.def("set_num_threads", [](int n) {
        if (n < 1) throw nb::value_error("n: the number of threads must be at least 1");
        sm::cpu::ThreadPool::instance().set_num_threads(n);
    }, nb::arg("n"));
    m.attr("cuda_available") = false;
}
