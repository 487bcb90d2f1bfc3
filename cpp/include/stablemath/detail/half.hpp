// float16 / bfloat16 storage types and their conversions to and from float (round to nearest even,
// subnormals, inf and NaN kept). Inputs in these formats are widened to float for all arithmetic.
#pragma once
#include <cstdint>
#include "../config.hpp"
#include "bits.hpp"

STABLEMATH_NAMESPACE_BEGIN

struct float16_t { std::uint16_t bits; };
struct bfloat16_t { std::uint16_t bits; };

namespace detail {

SM_INLINE float widen(float16_t h) {
    const std::uint32_t sign = static_cast<std::uint32_t>(h.bits & 0x8000u) << 16;
    const std::uint32_t e = (h.bits >> 10) & 0x1fu;
    const std::uint32_t m = h.bits & 0x3ffu;
    if (e == 0x1f) return bit_cast<float>(sign | 0x7f800000u | (m << 13));
    if (e == 0) {  // zero or subnormal: m * 2^-24, exact in float
        const float v = static_cast<float>(m) * 0x1p-24f;
        return sign ? -v : v;
    }
    return bit_cast<float>(sign | ((e + 112) << 23) | (m << 13));
}

SM_INLINE float widen(bfloat16_t h) { return bit_cast<float>(static_cast<std::uint32_t>(h.bits) << 16); }
SM_INLINE float widen(float v) { return v; }
SM_INLINE double widen(double v) { return v; }

template <class S> SM_INLINE S narrow(float v);
template <class S> SM_INLINE S narrow(double v);

template <> SM_INLINE float narrow<float>(float v) { return v; }
template <> SM_INLINE double narrow<double>(double v) { return v; }

template <> SM_INLINE float16_t narrow<float16_t>(float f) {
    const std::uint32_t x = bit_cast<std::uint32_t>(f);
    const std::uint16_t sign = static_cast<std::uint16_t>((x >> 16) & 0x8000u);
    const std::uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return float16_t{static_cast<std::uint16_t>(sign | (ax > 0x7f800000u ? 0x7e00u : 0x7c00u))};
    if (ax >= 0x477ff000u) return float16_t{static_cast<std::uint16_t>(sign | 0x7c00u)};  // >= 65520: inf
    if (ax < 0x38800000u) {  // below 2^-14: half subnormal = round_even(|f| * 2^24)
        const float a = bit_cast<float>(ax) * 0x1p24f;
        const float r = (a + 0x1.8p23f) - 0x1.8p23f;
        return float16_t{static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(r))};
    }
    std::uint32_t h = (((ax >> 23) - 112) << 10) | ((ax & 0x7fffffu) >> 13);
    const std::uint32_t rest = ax & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (h & 1u))) h += 1;  // a carry into the exponent is right
    return float16_t{static_cast<std::uint16_t>(sign | h)};
}

template <> SM_INLINE bfloat16_t narrow<bfloat16_t>(float f) {
    const std::uint32_t x = bit_cast<std::uint32_t>(f);
    if ((x & 0x7fffffffu) > 0x7f800000u) return bfloat16_t{static_cast<std::uint16_t>((x >> 16) | 0x40u)};
    return bfloat16_t{static_cast<std::uint16_t>((x + 0x7fffu + ((x >> 16) & 1u)) >> 16)};
}

// Accumulation type for a storage type: float for the 16-bit formats and float, double for double.
template <class S> struct accum { using type = float; };
template <> struct accum<double> { using type = double; };

}  // namespace detail
STABLEMATH_NAMESPACE_END
