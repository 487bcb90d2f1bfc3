// sin(pi m) / (pi m) for |m| <= 1/2 and sinh(s) / s for |s| <= 1/2 as even Taylor polynomials:
// straight-line code that gcc vectorises, where std::sin / std::sinh are library calls one element
// at a time (the batched Temme series for K, bessel_batch.hpp, needs both per element).
//
// Terms: (-+1)^k t^k / (2k+1)! with t = (pi m)^2 <= pi^2/4 (12 terms: the first omitted one is
// < 3e-20 of the sum >= 2/pi) or t = s^2 <= 1/4 (9 terms: < 2e-21). The coefficients are 1/(2k+1)!
// rounded to double. Error <= ~2 ulp (tests/cpp/test_bessel.cpp compares with std::sin / std::sinh).
#pragma once
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {

// sin(pi m) / (pi m), |m| <= 1/2 (1 at m = 0).
SM_INLINE double sinc_pi(double m) {
    constexpr double pi = 0x1.921fb54442d18p+1;
    const double pm = pi * m, t = pm * pm;
    double p = -3.868170170630684e-23;
    p = 1.9572941063391263e-20 + t * p;
    p = -8.22063524662433e-18 + t * p;
    p = 2.8114572543455206e-15 + t * p;
    p = -7.647163731819816e-13 + t * p;
    p = 1.6059043836821613e-10 + t * p;
    p = -2.505210838544172e-08 + t * p;
    p = 2.7557319223985893e-06 + t * p;
    p = -0.0001984126984126984 + t * p;
    p = 0.008333333333333333 + t * p;
    p = -0.16666666666666666 + t * p;
    return 1.0 + t * p;
}

// sinh(s) / s, |s| <= 1/2 (1 at s = 0).
SM_INLINE double sinhc(double s) {
    const double t = s * s;
    double p = 2.8114572543455206e-15;
    p = 7.647163731819816e-13 + t * p;
    p = 1.6059043836821613e-10 + t * p;
    p = 2.505210838544172e-08 + t * p;
    p = 2.7557319223985893e-06 + t * p;
    p = 0.0001984126984126984 + t * p;
    p = 0.008333333333333333 + t * p;
    p = 0.16666666666666666 + t * p;
    return 1.0 + t * p;
}

}  // namespace detail
STABLEMATH_NAMESPACE_END
