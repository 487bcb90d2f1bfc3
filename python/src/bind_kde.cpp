// Bindings: log-space kernel density estimation (stablemath/kde.hpp). Python (stablemath/_kde.py)
// centres / whitens / normalises the inputs and checks them; here the packed points live in a small
// class so that repeated evaluations (CV grids, chunked queries with a progress bar) pack once.
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>
#include <nanobind/stl/optional.h>

#include <cstdint>
#include <memory>
#include <optional>

#include <stablemath/kde.hpp>

#include "operands.hpp"

namespace stablemath_py {
namespace {

template <class T>
using Matrix = nb::ndarray<nb::ro, T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;
template <class T>
using Vector = nb::ndarray<nb::ro, T, nb::ndim<1>, nb::c_contig, nb::device::cpu>;
template <class T>
using OutMatrix = nb::ndarray<T, nb::ndim<2>, nb::c_contig, nb::device::cpu>;

template <class T>
void bind_points(nb::module_& m, const char* name) {
    using Points = sm::KdePoints<T>;
    nb::class_<Points>(m, name)
        .def("__init__", [](Points* self, const Matrix<T>& x, std::optional<Vector<T>> log_w, int kernel) {
            if (kernel != 0 && kernel != 1) throw nb::value_error("kernel: unknown code");
            const std::size_t n = x.shape(0), d = x.shape(1);
            if (log_w && log_w->shape(0) != n) throw nb::value_error("weights: length does not match X");
            const T* lw = log_w ? log_w->data() : nullptr;
            nb::gil_scoped_release release;
            new (self) Points(x.data(), n, d, d, lw, kernel == 0 ? sm::KdeKernel::gaussian : sm::KdeKernel::vmf);
        }, nb::arg("x"), nb::arg("log_w").none(), nb::arg("kernel"))
        .def_prop_ro("n", &Points::n)
        .def_prop_ro("d", &Points::d)
        // out[i, h] = log sum_j exp(s_h * (y_i.x_j + u_j + t_i) + lw_j); loo_offset >= 0: query i is point i + offset.
        .def("log_sums", [](const Points& p, const Matrix<T>& y, const Vector<T>& scales, OutMatrix<T> out,
                            std::int64_t loo_offset) {
            const std::size_t mq = y.shape(0), H = scales.shape(0);
            if (y.shape(1) != p.d()) throw nb::value_error("Y: dimension does not match X");
            if (out.shape(0) != mq || out.shape(1) != H) throw nb::value_error("out: wrong shape");
            if (loo_offset >= 0 && static_cast<std::size_t>(loo_offset) + mq > p.n())
                throw nb::value_error("loo_offset: queries beyond the points");
            nb::gil_scoped_release release;
            sm::kde_log_sums(p, y.data(), mq, p.d(), scales.data(), H, out.data(), loo_offset);
        }, nb::arg("y"), nb::arg("scales"), nb::arg("out"), nb::arg("loo_offset"));
}

}  // namespace

void bind_kde(nb::module_& m) {
    bind_points<float>(m, "KdePoints32");
    bind_points<double>(m, "KdePoints64");
}

}  // namespace stablemath_py
