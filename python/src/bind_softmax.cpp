// Bindings: softmax / log_softmax and logsumexp (stablemath/cpu/strided.hpp drivers).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <optional>

#include "operands.hpp"

namespace stablemath_py {
namespace {

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

}  // namespace

void bind_softmax(nb::module_& m) {
    m.def("softmax", &softmax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("where").none(), nb::arg("out"),
          nb::arg("algorithm"), nb::arg("log"), nb::arg("safe"));
    m.def("logsumexp", &logsumexp_binding, nb::arg("x"), nb::arg("axes"), nb::arg("b").none(), nb::arg("where").none(),
          nb::arg("out"), nb::arg("sign").none());
}

}  // namespace stablemath_py
