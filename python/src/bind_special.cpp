// Bindings: element-wise log-Bessel functions and von Mises-Fisher scalars (stablemath/bessel.hpp, vmf.hpp).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <optional>

#include <stablemath/bessel.hpp>
#include <stablemath/cpu/bessel_batch.hpp>
#include <stablemath/cpu/elementwise.hpp>
#include <stablemath/vmf.hpp>

#include "operands.hpp"

namespace stablemath_py {
namespace {

// Element-wise functions of (v, x) (for vMF: (d, kappa)): both broadcast to out's shape; all three share one float dtype.
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
    if (op < 0 || op > 9) throw nb::value_error("op: unknown special function code");
    const sm::ArrayRef* ins[2] = {&vo.ref, &xo.ref};
    constexpr double cost_ns = 150.0;  // a log-Bessel evaluation: a few logs and a short series
    nb::gil_scoped_release release;
    if (op <= 5 && oo.ref.dtype == sm::DType::float64) {
        // Batches through the per-ISA kernels (cpu/bessel_batch.hpp); same math as the scalar functions.
        const sm::cpu::BesselBatchFn fn = sm::cpu::bessel_batch_kernel(op);
        return sm::cpu::detail::map2_batched_typed<double, sm::detail::bessel::kBesselBatch>(
            ins, oo.ref, cost_ns, [fn](const double* a, const double* b, double* o, std::size_t n) { fn(a, b, o, n); });
    }
    switch (op) {
    case 0: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_i(a, b); });
    case 1: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_k(a, b); });
    case 2: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_ie(a, b); });
    case 3: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::log_bessel_ke(a, b); });
    case 4: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::bessel_i_ratio(a, b); });
    case 5: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::bessel_k_ratio(a, b); });
    case 6: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::vmf_log_normalizer(a, b); });
    case 7: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::vmf_mean_resultant(a, b); });
    case 8: return sm::cpu::map(ins, oo.ref, cost_ns, [](auto a, auto b) { return sm::vmf_log_normalizer_scaled(a, b); });
    // a Newton solve: several ratio evaluations per element
    case 9: return sm::cpu::map(ins, oo.ref, 8 * cost_ns, [](auto a, auto b) { return sm::vmf_kappa_mle(a, b); });
    default: return;
    }
}

}  // namespace

void bind_special(nb::module_& m) {
    m.def("bessel", &bessel_binding, nb::arg("op"), nb::arg("v"), nb::arg("x"), nb::arg("out"));
}

}  // namespace stablemath_py
