// Bindings: fused softmax + top-k (stablemath/topk.hpp).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <optional>

#include <stablemath/topk.hpp>

#include "operands.hpp"

namespace stablemath_py {
namespace {

// A result array the Python layer allocated: C-contiguous with `count` elements (dtype checked by the caller).
template <class A>
void* contiguous_result(A& a, std::size_t count, const char* name) {
    check_cpu(a, name);
    if (a.size() != count) throw nb::value_error((std::string(name) + ": wrong number of elements").c_str());
    if (count == 0) return a.data();  // nothing is written (an empty array's strides are arbitrary)
    std::int64_t expect = 1;
    for (std::size_t d = a.ndim(); d-- > 0;) {
        if (a.shape(d) != 1 && a.stride(d) != expect) throw nb::value_error((std::string(name) + ": must be C-contiguous").c_str());
        expect *= static_cast<std::int64_t>(a.shape(d));
    }
    return a.data();
}

// values / indices: [rows, k] in C order over x's other axes; lse: [rows] (mode 2 only).
void softmax_topk_binding(const InArray& x, int axis, std::int64_t k, int mode, OutArray values,
                          nb::ndarray<std::int64_t> indices, std::optional<OutArray> lse) {
    Operand xo = input_operand(x);
    const int nd = std::max(1, xo.ref.ndim);
    if (axis < 0 || axis >= nd) throw nb::value_error("axis: out of range");
    const std::int64_t n = xo.ref.ndim == 0 ? 1 : xo.shape[axis];
    if (k < 1 || k > n) throw nb::value_error("k: must be between 1 and the length of the axis");
    if (mode < 0 || mode > 2) throw nb::value_error("mode: unknown code");
    std::size_t rows = 1;
    for (int d = 0; d < xo.ref.ndim; ++d)
        if (d != axis) rows *= static_cast<std::size_t>(xo.shape[d]);
    const std::size_t count = rows * static_cast<std::size_t>(k);
    if (dtype_of(values.dtype(), "values") != xo.ref.dtype) throw nb::type_error("values: dtype does not match");
    void* vp = contiguous_result(values, count, "values");
    void* ip = contiguous_result(indices, count, "indices");  // int64 by the parameter's type
    void* lp = nullptr;
    if (lse) {
        if (dtype_of(lse->dtype(), "lse") != xo.ref.dtype) throw nb::type_error("lse: dtype does not match");
        lp = contiguous_result(*lse, rows, "lse");
    }
    nb::gil_scoped_release release;
    sm::cpu::softmax_topk(xo.ref, xo.ref.ndim == 0 ? 0 : axis, static_cast<std::size_t>(k),
                          static_cast<sm::TopkMode>(mode), vp, static_cast<std::int64_t*>(ip), lp);
}

}  // namespace

void bind_topk(nb::module_& m) {
    m.def("softmax_topk", &softmax_topk_binding, nb::arg("x"), nb::arg("axis"), nb::arg("k"), nb::arg("mode"),
          nb::arg("values"), nb::arg("indices"), nb::arg("lse").none());
}

}  // namespace stablemath_py
