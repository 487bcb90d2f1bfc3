// Double-double ("dd") helpers used where a Bessel quantity is a small difference of large ones.
//
// A dd value is hi + lo with |lo| <= ulp(hi)/2, about 106 significant bits. The error-free
// transformations are Knuth's two_sum and the fma-based two_prod (Dekker's product without the
// splitting); add, mul, div and sqrt are the usual one-correction-step forms (Dekker 1971;
// Hida, Li & Bailey 2001 describe the same building blocks). Relative error of each operation is
// a few units of 2^-104, which is all the Bessel code needs: it uses dd only for the phase
// sqrt(v^2 + x^2) - v asinh(v/x) near its zero (see bessel_uniform.hpp).
//
// Requirements: IEEE double with round-to-nearest; std::fma must be a true fused multiply-add
// (it is on every host libm and in CUDA). Floating-point contraction (-ffp-contract=fast, nvcc
// --fmad) does not break these forms: the only products are in two_prod, where contraction
// reproduces the fma, and in the correction terms, where it only removes a rounding.
#pragma once
#include <cmath>
#include "../config.hpp"

STABLEMATH_NAMESPACE_BEGIN
namespace detail {
namespace dd {

struct DD {
    double hi;
    double lo;
};

// a + b exactly, as s + e (Knuth).
SM_INLINE DD two_sum(double a, double b) {
    const double s = a + b;
    const double bb = s - a;
    const double e = (a - (s - bb)) + (b - bb);
    return DD{s, e};
}

// a + b exactly when |a| >= |b| (or a == 0) (Dekker).
SM_INLINE DD quick_two_sum(double a, double b) {
    const double s = a + b;
    return DD{s, b - (s - a)};
}

// a * b exactly, as p + e.
SM_INLINE DD two_prod(double a, double b) {
    const double p = a * b;
    return DD{p, std::fma(a, b, -p)};
}

SM_INLINE DD from(double a) { return DD{a, 0.0}; }

SM_INLINE DD add(DD a, DD b) {
    DD s = two_sum(a.hi, b.hi);
    const DD t = two_sum(a.lo, b.lo);
    s.lo += t.hi;
    s = quick_two_sum(s.hi, s.lo);
    s.lo += t.lo;
    return quick_two_sum(s.hi, s.lo);
}

SM_INLINE DD neg(DD a) { return DD{-a.hi, -a.lo}; }

SM_INLINE DD sub(DD a, DD b) { return add(a, neg(b)); }

SM_INLINE DD mul(DD a, DD b) {
    DD p = two_prod(a.hi, b.hi);
    p.lo += a.hi * b.lo + a.lo * b.hi;
    return quick_two_sum(p.hi, p.lo);
}

SM_INLINE DD mul(DD a, double b) {
    DD p = two_prod(a.hi, b);
    p.lo += a.lo * b;
    return quick_two_sum(p.hi, p.lo);
}

// a / b for doubles a, b, as a dd (one correction step).
SM_INLINE DD div(double a, double b) {
    const double q = a / b;
    const double r = std::fma(-q, b, a);  // exact remainder
    return quick_two_sum(q, r / b);
}

// sqrt(a) for a dd a > 0 (one Newton correction of the double square root).
SM_INLINE DD sqrt(DD a) {
    const double s = std::sqrt(a.hi);
    const DD s2 = two_prod(s, s);
    const double r = ((a.hi - s2.hi) - s2.lo + a.lo) / (2.0 * s);
    return quick_two_sum(s, r);
}

SM_INLINE double to_double(DD a) { return a.hi + a.lo; }

}  // namespace dd
}  // namespace detail
STABLEMATH_NAMESPACE_END
