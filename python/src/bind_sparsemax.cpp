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

}  // namespace

void bind_sparsemax(nb::module_& m) {
    m.def("sparsemax", &sparsemax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("out"), nb::arg("algorithm"));
}

}  // namespace stablemath_py
