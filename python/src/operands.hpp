// Shared by the binding files: nanobind arrays -> stablemath::ArrayRef views, with the checks that
// would otherwise crash (device, rank, broadcasting, dtype). Each python/src/bind_*.cpp file
// registers one family of functions through a `void bind_<family>(nb::module_&)` that module.cpp calls.
#pragma once
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <string>
#include <vector>

#include <stablemath/cpu/strided.hpp>

namespace stablemath_py {

namespace nb = nanobind;
namespace sm = stablemath;

using InArray = nb::ndarray<nb::ro>;
using OutArray = nb::ndarray<>;

// An ArrayRef plus the storage for its shape and strides, laid out with x's rank.
struct Operand {
    std::vector<std::int64_t> shape, strides;
    sm::ArrayRef ref;
};

inline sm::DType dtype_of(const nb::dlpack::dtype& dt, const char* name) {
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
inline Operand reduced_view(const OutArray& a, const std::vector<std::int64_t>& shape, std::uint64_t axes, const char* name) {
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

inline void finish(Operand& op) {
    op.ref.shape = op.shape.data();
    op.ref.strides = op.strides.data();
}

inline std::vector<std::int64_t> shape_of(const InArray& x) {
    std::vector<std::int64_t> s(x.ndim());
    for (std::size_t i = 0; i < x.ndim(); ++i) s[i] = static_cast<std::int64_t>(x.shape(i));
    return s;
}

inline Operand input_operand(const InArray& x) {
    check_cpu(x, "x");
    Operand op{shape_of(x), std::vector<std::int64_t>(x.ndim()), {}};
    for (std::size_t i = 0; i < x.ndim(); ++i) op.strides[i] = x.stride(i);
    op.ref = sm::ArrayRef{const_cast<void*>(static_cast<const void*>(x.data())), dtype_of(x.dtype(), "x"),
                          static_cast<int>(x.ndim()), nullptr, nullptr};
    if (op.ref.dtype == sm::DType::boolean) throw nb::type_error("x: boolean input is not supported");
    finish(op);
    return op;
}

inline void require_dtype(const Operand& op, sm::DType want, const char* name) {
    if (op.ref.dtype != want) throw nb::type_error((std::string(name) + ": dtype does not match").c_str());
}


// Output of shape `shape` (C-contiguous or any strides) as an Operand with its own strides.
inline Operand output_operand(const OutArray& a, const std::vector<std::int64_t>& shape, const char* name) {
    Operand op = broadcast_to(a, shape, name);
    if (static_cast<int>(a.ndim()) != static_cast<int>(shape.size()))
        throw nb::value_error((std::string(name) + ": wrong shape").c_str());
    finish(op);
    return op;
}

// A 0-d or n-d index array (int64, C-contiguous) viewed as a flat pointer; checked length.
inline const std::int64_t* int64_data(const nb::ndarray<nb::ro, std::int64_t, nb::c_contig>& a, std::size_t expected,
                                      const char* name) {
    check_cpu(a, name);
    if (a.size() != expected) throw nb::value_error((std::string(name) + ": wrong number of elements").c_str());
    return a.data();
}

}  // namespace stablemath_py
