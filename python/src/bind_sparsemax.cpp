// Bindings: sparsemax along one axis (stablemath/sparsemax.hpp).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <algorithm>

#include <stablemath/sparsemax.hpp>

#include "operands.hpp"

namespace stablemath_py {
namespace {

void sparsemax_binding(const InArray& x, int axis, OutArray out, int algorithm) {
    Operand xo = input_operand(x);
    if (axis < 0 || axis >= std::max(1, xo.ref.ndim) || (xo.ref.ndim == 0 && axis != 0))
        throw nb::value_error("axis: out of range");
    if (algorithm < 0 || algorithm > 3) throw nb::value_error("algorithm: unknown code");
    Operand oo = output_operand(out, xo.shape, "out");
    require_dtype(oo, xo.ref.dtype, "out");
    nb::gil_scoped_release release;
    sm::cpu::sparsemax(xo.ref, xo.ref.ndim == 0 ? 0 : axis, oo.ref, static_cast<sm::SparsemaxAlgorithm>(algorithm));
}

void sparsemax_backward_binding(const InArray& y, const InArray& g, int axis, OutArray out) {
    Operand yo = input_operand(y);
    if (axis < 0 || axis >= std::max(1, yo.ref.ndim) || (yo.ref.ndim == 0 && axis != 0))
        throw nb::value_error("axis: out of range");
    if (static_cast<int>(g.ndim()) != yo.ref.ndim) throw nb::value_error("grad: wrong shape");
    Operand go = broadcast_to(g, yo.shape, "grad");
    for (int d = 0; d < yo.ref.ndim; ++d)
        if (static_cast<std::int64_t>(g.shape(d)) != yo.shape[d]) throw nb::value_error("grad: wrong shape");
    finish(go);
    require_dtype(go, yo.ref.dtype, "grad");
    Operand oo = output_operand(out, yo.shape, "out");
    require_dtype(oo, yo.ref.dtype, "out");
    nb::gil_scoped_release release;
    sm::cpu::sparsemax_backward(yo.ref, go.ref, yo.ref.ndim == 0 ? 0 : axis, oo.ref);
}

}  // namespace

void bind_sparsemax(nb::module_& m) {
    m.def("sparsemax", &sparsemax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("out"), nb::arg("algorithm"));
    m.def("sparsemax_backward", &sparsemax_backward_binding, nb::arg("y"), nb::arg("grad"), nb::arg("axis"),
          nb::arg("out"));
}

}  // namespace stablemath_py
