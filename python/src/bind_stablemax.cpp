// Bindings: stablemax / log_stablemax (cpu/stablemax.hpp), the softmax and stablemax
// cross-entropies and the Softmax Collapse detector (cpu/losses.hpp).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>

#include <stablemath/cpu/losses.hpp>
#include <stablemath/cpu/stablemax.hpp>

#include "operands.hpp"

namespace stablemath_py {
namespace {

using Int64In = nb::ndarray<nb::ro, std::int64_t, nb::c_contig>;
using U8Out = nb::ndarray<std::uint8_t, nb::c_contig>;
using F64Out = nb::ndarray<double, nb::c_contig>;
using LossOut = nb::ndarray<nb::c_contig>;

Operand row_input(const InArray& x, int axis) {
    Operand xo = input_operand(x);
    if (xo.ref.ndim < 1 || axis < 0 || axis >= xo.ref.ndim) throw nb::value_error("axis: out of range");
    return xo;
}

std::size_t rows_of(const Operand& xo, int axis) {
    std::size_t rows = 1;
    for (int d = 0; d < xo.ref.ndim; ++d)
        if (d != axis) rows *= static_cast<std::size_t>(xo.shape[d]);
    return rows;
}

void stablemax_binding(const InArray& x, int axis, OutArray out, bool log) {
    Operand xo = row_input(x, axis);
    Operand oo = output_operand(out, xo.shape, "out");
    require_dtype(oo, xo.ref.dtype, "out");
    nb::gil_scoped_release release;
    sm::cpu::stablemax(xo.ref, axis, oo.ref, log);
}

// loss: one value per row in the accumulation dtype (float32, or float64 for float64 logits).
void cross_entropy_binding(const InArray& x, int axis, const Int64In& target, std::int64_t ignore_index,
                           double label_smoothing, int kind, LossOut loss) {
    Operand xo = row_input(x, axis);
    if (xo.shape[axis] == 0) throw nb::value_error("logits: the class axis is empty");
    if (kind < 0 || kind > 1) throw nb::value_error("kind: unknown loss code");
    if (!(label_smoothing >= 0 && label_smoothing <= 1)) throw nb::value_error("label_smoothing: must be in [0, 1]");
    const std::size_t rows = rows_of(xo, axis);
    const std::int64_t* t = int64_data(target, rows, "target");
    check_cpu(loss, "loss");
    if (loss.size() != rows) throw nb::value_error("loss: wrong number of elements");
    const bool f64 = xo.ref.dtype == sm::DType::float64;
    const sm::DType want = f64 ? sm::DType::float64 : sm::DType::float32;
    if (dtype_of(loss.dtype(), "loss") != want) throw nb::type_error("loss: dtype must be the accumulation dtype");
    const sm::cpu::CrossEntropyArgs args{t, ignore_index, label_smoothing};
    const auto k = static_cast<sm::cpu::CrossEntropyKind>(kind);
    void* data = loss.data();
    nb::gil_scoped_release release;
    if (f64) sm::cpu::cross_entropy(xo.ref, axis, k, args, static_cast<double*>(data));
    else sm::cpu::cross_entropy(xo.ref, axis, k, args, static_cast<float*>(data));
}

double softmax_collapse_binding(const InArray& x, int axis, int precision, U8Out sum_is_one, U8Out gap_exceeds,
                                F64Out gap) {
    Operand xo = row_input(x, axis);
    if (precision < 0 || precision > 3) throw nb::value_error("dtype: unknown precision code");
    const std::size_t rows = rows_of(xo, axis);
    for (auto* a : {&sum_is_one, &gap_exceeds}) {
        check_cpu(*a, "out");
        if (a->size() != rows) throw nb::value_error("out: wrong number of elements");
    }
    check_cpu(gap, "gap");
    if (gap.size() != rows) throw nb::value_error("gap: wrong number of elements");
    nb::gil_scoped_release release;
    return sm::cpu::softmax_collapse(xo.ref, axis, static_cast<sm::cpu::detail::Precision>(precision), sum_is_one.data(),
                                     gap_exceeds.data(), gap.data());
}

}  // namespace

void bind_stablemax(nb::module_& m) {
    m.def("stablemax", &stablemax_binding, nb::arg("x"), nb::arg("axis"), nb::arg("out"), nb::arg("log"));
    m.def("cross_entropy", &cross_entropy_binding, nb::arg("x"), nb::arg("axis"), nb::arg("target"),
          nb::arg("ignore_index"), nb::arg("label_smoothing"), nb::arg("kind"), nb::arg("loss"));
    m.def("softmax_collapse", &softmax_collapse_binding, nb::arg("x"), nb::arg("axis"), nb::arg("precision"),
          nb::arg("sum_is_one"), nb::arg("gap_exceeds"), nb::arg("gap"));
}

}  // namespace stablemath_py
