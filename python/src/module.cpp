// The nanobind extension stablemath._core: converts arrays to stablemath::ArrayRef and calls the
// CPU drivers with the GIL released. Argument checking that needs no data (names, shapes, dtypes,
// axes) happens in python/stablemath/; the bind_*.cpp files re-check what would otherwise crash.
// One file per family of functions: bind_<family>.cpp defines bind_<family>(m), called below.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>

#include <string>

#include <stablemath/cpu/kernel_table.hpp>
#include <stablemath/cpu/thread_pool.hpp>

namespace nb = nanobind;
namespace sm = stablemath;

namespace stablemath_py {
void bind_softmax(nb::module_& m);
void bind_special(nb::module_& m);
void bind_sparsemax(nb::module_& m);
void bind_kde(nb::module_& m);
void bind_stablemax(nb::module_& m);
void bind_topk(nb::module_& m);
}  // namespace stablemath_py

NB_MODULE(_core, m) {
    m.doc() = "stablemath compiled core (private; use the stablemath package)";
    stablemath_py::bind_softmax(m);
    stablemath_py::bind_special(m);
    stablemath_py::bind_sparsemax(m);
    stablemath_py::bind_kde(m);
    stablemath_py::bind_stablemax(m);
    stablemath_py::bind_topk(m);
    m.def("isa", [] { return std::string(sm::cpu::select_isa()); }, "Instruction set of the kernels chosen at import.");
    m.def("get_num_threads", [] { return sm::cpu::ThreadPool::instance().num_threads(); });
    m.def("set_num_threads", [](int n) {
        if (n < 1) throw nb::value_error("n: the number of threads must be at least 1");
        sm::cpu::ThreadPool::instance().set_num_threads(n);
    }, nb::arg("n"));
    m.attr("cuda_available") = false;
}
