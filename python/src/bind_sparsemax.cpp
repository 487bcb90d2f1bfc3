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

void sparsemax_loss_binding(const InArray& x, int axis, const nb::ndarray<nb::ro, std::int64_t, nb::c_contig>& target,
                            nb::ndarray<double, nb::c_contig> out) {
    Operand xo = input_operand(x);
    if (xo.ref.ndim < 1 || axis < 0 || axis >= xo.ref.ndim) throw nb::value_error("axis: out of range");
    const std::int64_t n = xo.shape[axis];
    if (n < 1) throw nb::value_error("x: the class axis is empty");
    std::size_t rows = 1;
    for (int d = 0; d < xo.ref.ndim; ++d)
        if (d != axis) rows *= static_cast<std::size_t>(xo.shape[d]);
    const std::int64_t* t = int64_data(target, rows, "target");
    check_cpu(out, "out");
    if (out.size() != rows) throw nb::value_error("out: wrong number of elements");
    for (std::size_t r = 0; r < rows; ++r)
        if (t[r] < 0 || t[r] >= n) throw nb::value_error("target: class index out of range");
    double* o = out.data();
    nb::gil_scoped_release release;
    sm::cpu::sparsemax_loss(xo.ref, axis, t, o);
}

}  // namespace

void bind_sparsemax(nb::module_& m) {
    m.def("sparsemax", &sparsemax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("out"), nb::arg("algorithm"));
    m.def("sparsemax_backward", &sparsemax_backward_binding, nb::arg("y"), nb::arg("grad"), nb::arg("axis"),
          nb::arg("out"));
    m.def("sparsemax_loss", &sparsemax_loss_binding, nb::arg("x"), nb::arg("axis"), nb::arg("target"), nb::arg("out"));
}

}  // namespace stablemath_py
