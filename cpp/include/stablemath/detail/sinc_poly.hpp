// sin(pi m) / (pi m) for |m| <= 1/2 and sinh(s) / s for |s| <= 1/2 as even Taylor polynomials:
// straight-line code that gcc vectorises, where std::sin / std::sinh are library calls one element
// at a time (the batched Temme series for K, bessel_batch.hpp, needs both per element).
//
// Both are sum_k u^k / (2k+1)! with u = -(pi m)^2 >= -pi^2/4 (12 terms: the first omitted one is
// < 3e-20 of the sum >= 2/pi) or u = s^2 <= 1/4 (9 terms: < 2e-21). The coefficients are 1/(2k+1)!
// rounded to double. Error <= ~2 ulp (tests/cpp/test_bessel_batch.cpp compares with sinl / sinhl).
#pragma once
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

// sum_{k < Terms} u^k / (2k+1)! by Horner's rule, Terms <= 12.
template <int Terms>
SM_INLINE double odd_factorial_series(double u) {
    constexpr double c[12] = {1.0, 0.16666666666666666, 0.008333333333333333, 0.0001984126984126984,
                              2.7557319223985893e-06, 2.505210838544172e-08, 1.6059043836821613e-10,
                              7.647163731819816e-13, 2.8114572543455206e-15, 8.22063524662433e-18,
                              1.9572941063391263e-20, 3.868170170630684e-23};
    static_assert(Terms >= 1 && Terms <= 12, "at most 12 coefficients");
    double p = c[Terms - 1];
    for (int k = Terms - 2; k >= 0; --k) p = c[k] + u * p;
    return p;
}

// sin(pi m) / (pi m), |m| <= 1/2 (1 at m = 0).
SM_INLINE double sinc_pi(double m) {
    constexpr double pi = 0x1.921fb54442d18p+1;
    const double pm = pi * m;
    return odd_factorial_series<12>(-(pm * pm));
}

// sinh(s) / s, |s| <= 1/2 (1 at s = 0).
SM_INLINE double sinhc(double s) { return odd_factorial_series<9>(s * s); }

}  // namespace detail
STABLEMATH_NAMESPACE_END
