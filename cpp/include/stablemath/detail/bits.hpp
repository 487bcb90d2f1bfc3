// Bit reinterpretation usable on host and device (memcpy is what both gcc and nvcc fold away).
#pragma once
#include <cstdint>
#include <cstring>
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

template <class T> struct uint_of;
template <> struct uint_of<float> { using type = std::uint32_t; using sint = std::int32_t; };
template <> struct uint_of<double> { using type = std::uint64_t; using sint = std::int64_t; };

template <class To, class From>
SM_INLINE To bit_cast(From v) {
    static_assert(sizeof(To) == sizeof(From), "bit_cast needs equal sizes");
    To out;
    std::memcpy(&out, &v, sizeof(To));
    return out;
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
