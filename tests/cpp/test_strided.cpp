// stablemath::cpu::softmax / cpu::logsumexp on strided 3-d arrays (cpu/strided.hpp), and the
// float16 / bfloat16 storage conversions (detail/half.hpp).
//
// Each strided call is checked two ways:
//   * bitwise against the contiguous row API applied to the row gathered by hand (the driver
//     must only gather, widen, mask and scatter: the arithmetic is the row kernels', which are
//     deterministic whatever the thread count);
//   * against a naive long double reference with an error bound (so a gather in the wrong order
//     or from the wrong place cannot hide behind the first check).
// Layouts: C order, Fortran order, padded (every other element), permuted axes, a negative
// stride, and a broadcast (stride 0) input; outputs in C order or padded.
#include <stablemath/cpu/strided.hpp>
#include <stablemath/logsumexp.hpp>
#include <stablemath/softmax.hpp>

#include <algorithm>
#include <array>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

#include "check.hpp"
#include "test_util.hpp"

namespace sm = stablemath;
namespace cpu = stablemath::cpu;
namespace sd = stablemath::detail;
using Algo = sm::SoftmaxAlgorithm;
using sm::DType;

template <class S> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType v = DType::float32; static constexpr const char* name = "float32"; };
template <> struct dtype_of<double> { static constexpr DType v = DType::float64; static constexpr const char* name = "float64"; };
template <> struct dtype_of<sm::float16_t> { static constexpr DType v = DType::float16; static constexpr const char* name = "float16"; };
template <> struct dtype_of<sm::bfloat16_t> { static constexpr DType v = DType::bfloat16; static constexpr const char* name = "bfloat16"; };
template <> struct dtype_of<std::uint8_t> { static constexpr DType v = DType::boolean; static constexpr const char* name = "bool"; };

template <class S> using Acc = typename sd::accum<S>::type;

const Algo kAlgos[] = {Algo::automatic, Algo::three_pass, Algo::online, Algo::two_pass};
using sm_test::algo_name;

using Shape = std::array<std::int64_t, 3>;

enum class Layout { C, F, padded, permuted, negative, broadcast0 };
const char* layout_name(Layout l) {
    switch (l) {
    case Layout::C: return "C";
    case Layout::F: return "F";
    case Layout::padded: return "padded";
    case Layout::permuted: return "permuted";
    case Layout::negative: return "negative";
    case Layout::broadcast0: return "broadcast0";
    }
    return "?";
}

// An owning 3-d strided array of S; `reduced` axes (bit mask) have stride 0 (a reduction output).
template <class S>
struct Arr {
    Shape shape{};
    std::array<std::int64_t, 3> strides{};
    std::vector<S> store;
    std::int64_t offset = 0;

    Arr(Shape sh, Layout lay, unsigned reduced = 0) : shape(sh) {
        Shape s = sh;
        for (int a = 0; a < 3; ++a) if ((reduced >> a) & 1u) s[a] = 1;
        const std::int64_t A = s[0], B = s[1], C = s[2];
        switch (lay) {
        case Layout::C: strides = {B * C, C, 1}; store.resize(static_cast<std::size_t>(A * B * C)); break;
        case Layout::F: strides = {1, A, A * B}; store.resize(static_cast<std::size_t>(A * B * C)); break;
        case Layout::padded: {
            const std::int64_t rowlen = 2 * C + 3;
            strides = {B * rowlen, rowlen, 2};
            store.resize(static_cast<std::size_t>(A * B * rowlen + 1));
            break;
        }
        case Layout::permuted: strides = {B, 1, A * B}; store.resize(static_cast<std::size_t>(A * B * C)); break;
        case Layout::negative:
            strides = {B * C, -C, 1};
            offset = (B - 1) * C;
            store.resize(static_cast<std::size_t>(A * B * C));
            break;
        case Layout::broadcast0: strides = {0, C, 1}; store.resize(static_cast<std::size_t>(B * C)); break;
        }
        for (int a = 0; a < 3; ++a) if ((reduced >> a) & 1u) strides[a] = 0;
        if (store.empty()) store.resize(1);
    }
    S& at(std::int64_t i, std::int64_t j, std::int64_t k) {
        return store[static_cast<std::size_t>(offset + i * strides[0] + j * strides[1] + k * strides[2])];
    }
    sm::ArrayRef ref() {
        sm::ArrayRef r;
        r.data = store.data() + offset;
        r.dtype = dtype_of<S>::v;
        r.ndim = 3;
        r.shape = shape.data();
        r.strides = strides.data();
        return r;
    }
};

template <class S> S narrow_to(float v) { return sd::narrow<S>(v); }
template <> double narrow_to<double>(float v) { return v; }

template <class S>
bool same_storage(S a, S b) { return std::memcmp(&a, &b, sizeof(S)) == 0; }

// Spacing of the storage format at |v| (for the error bounds of narrowed results).
template <class S>
long double storage_ulp(long double v) {
    if constexpr (std::is_same<S, sm::float16_t>::value) {
        v = std::fabs(v);
        if (v < 0x1p-14L) return 0x1p-24L;
        return std::ldexp(1.0L, std::ilogb(v) - 10);
    } else if constexpr (std::is_same<S, sm::bfloat16_t>::value) {
        v = std::fabs(v);
        if (v < 0x1p-126L) return 0x1p-133L;
        return std::ldexp(1.0L, std::ilogb(v) - 7);
    } else {
        return sm_test::ulp_of<S>(v);
    }
}

// Index of the e-th element of a line through (i, j, k) along `axes` (row-major over those axes).
struct Pos { std::int64_t i, j, k; };

std::vector<std::vector<Pos>> rows_of(const Shape& sh, unsigned axes) {
    // Outer index over non-reduced axes, inner over reduced axes, both row-major.
    std::vector<std::vector<Pos>> rows;
    std::array<std::int64_t, 3> lim_o{}, lim_r{};
    for (int a = 0; a < 3; ++a) {
        const bool r = (axes >> a) & 1u;
        lim_o[a] = r ? 1 : sh[a];
        lim_r[a] = r ? sh[a] : 1;
    }
    for (std::int64_t i = 0; i < lim_o[0]; ++i)
        for (std::int64_t j = 0; j < lim_o[1]; ++j)
            for (std::int64_t k = 0; k < lim_o[2]; ++k) {
                std::vector<Pos> row;
                for (std::int64_t a = 0; a < lim_r[0]; ++a)
                    for (std::int64_t b = 0; b < lim_r[1]; ++b)
                        for (std::int64_t c = 0; c < lim_r[2]; ++c) row.push_back({i + a, j + b, k + c});
                rows.push_back(row);
            }
    return rows;
}

template <class S>
void fill(Arr<S>& x, sm_test::Rng& rng, double sd_, int special) {
    std::normal_distribution<double> nd(0.0, sd_);
    if constexpr (std::is_same<S, double>::value) for (auto& e : x.store) e = nd(rng);
    else for (auto& e : x.store) e = narrow_to<S>(static_cast<float>(nd(rng)));
    // special: 1 sprinkles -inf (5%), 2 puts one NaN and one +inf in.
    if (special == 1) {
        std::bernoulli_distribution b(0.05);
        for (auto& e : x.store) if (b(rng)) e = narrow_to<S>(-INFINITY);
    }
    if (special == 2 && x.store.size() > 3) {
        x.store[1] = narrow_to<S>(NAN);
        x.store[x.store.size() - 2] = narrow_to<S>(INFINITY);
    }
}

template <class S> std::string tn() { return dtype_of<S>::name; }

// Error bound (absolute) for a softmax / log_softmax / logsumexp value against its long double
// reference, computed in Acc<S> and stored in S. rel: bound of the Acc computation in eps(Acc).
template <class S>
long double stored_tol(long double ref, long double acc_abs_tol) {
    if (std::is_same<S, float>::value || std::is_same<S, double>::value) return acc_abs_tol;
    // Rounding to the storage format after an accurate float value.
    return 0.5L * storage_ulp<S>(std::fabs(ref) + acc_abs_tol) + acc_abs_tol * 1.01L;
}

template <class T>
long double sum_err_eps(std::size_t n) {
    const std::size_t L = 128 / sizeof(T);
    const std::size_t part = std::min<std::size_t>(n, cpu::kPart);
    return static_cast<long double>((part + L - 1) / L + L + 3 * ((part + cpu::kChunk - 1) / cpu::kChunk) + 3 * cpu::num_parts(n) + 8);
}

// ---- softmax along one axis ------------------------------------------------------------------------
template <class S>
void softmax_case(const Shape& sh, Layout xl, Layout ol, int axis, Algo algo, bool log, bool safe, bool masked,
                  sm_test::Rng& rng, int special) {
    using T = Acc<S>;
    const long double eps = std::numeric_limits<T>::epsilon();
    Arr<S> x(sh, xl), out(sh, ol);
    fill(x, rng, 3.0, special);
    for (auto& e : out.store) e = narrow_to<S>(-777.0f);
    // The mask: full (C order), or broadcast along an axis other than the softmax axis.
    Arr<std::uint8_t> mask(sh, (masked && axis != 0 && (sh[1] + sh[2]) % 2 == 0) ? Layout::broadcast0 : Layout::C);
    if (masked) {
        std::bernoulli_distribution b(0.7);
        for (auto& e : mask.store) e = b(rng) ? 1 : 0;
        // One fully masked row, if there is more than one row.
        if (sh[axis] > 0 && sh[(axis + 1) % 3] > 1)
            for (std::int64_t t = 0; t < sh[axis]; ++t) {
                Pos p{0, 0, 0};
                (&p.i)[axis] = t;
                mask.at(p.i, p.j, p.k) = 0;
            }
    }
    const sm::ArrayRef xr = x.ref(), orf = out.ref(), mr = mask.ref();
    cpu::softmax(xr, axis, masked ? &mr : nullptr, orf, algo, log, safe);

    const std::string what = tn<S>() + " shape(" + std::to_string(sh[0]) + "," + std::to_string(sh[1]) + "," +
                             std::to_string(sh[2]) + ") x:" + layout_name(xl) + " out:" + layout_name(ol) + " axis " +
                             std::to_string(axis) + " " + algo_name(algo) + (log ? " log" : "") + (safe ? " safe" : "") +
                             (masked ? " masked" : "") + (special ? " special" + std::to_string(special) : "");
    int reported = 0;
    for (const auto& row : rows_of(sh, 1u << axis)) {
        const std::size_t n = row.size();
        std::vector<T> xv(n), yv(n);
        std::vector<char> keep(n, 1);
        for (std::size_t e = 0; e < n; ++e) {
            const Pos& p = row[e];
            keep[e] = masked ? mask.at(p.i, p.j, p.k) != 0 : 1;
            xv[e] = keep[e] ? sd::widen(x.at(p.i, p.j, p.k)) : -std::numeric_limits<T>::infinity();
        }
        sm::SoftmaxOptions opt;
        opt.algorithm = algo;
        opt.safe = safe;
        if (log) sm::log_softmax(xv.data(), yv.data(), n, opt);
        else sm::softmax(xv.data(), yv.data(), n, opt);
        // Reference.
        long double m = -INFINITY, s = 0;
        bool nan = false, pinf = false;
        for (T v : xv) {
            if (v != v) nan = true;
            else if (v == INFINITY) pinf = true;
            else m = std::max<long double>(m, v);
        }
        const bool finite_row = !nan && !pinf && m != -INFINITY;
        if (finite_row) for (T v : xv) s += std::exp(static_cast<long double>(v) - m);
        for (std::size_t e = 0; e < n && reported < 3; ++e) {
            const Pos& p = row[e];
            const S got = out.at(p.i, p.j, p.k);
            const S want_bits = keep[e] ? narrow_to<S>(static_cast<float>(yv[e])) : narrow_to<S>(log ? -INFINITY : 0.0f);
            S want = want_bits;
            if (std::is_same<S, double>::value) std::memcpy(&want, &yv[e], sizeof(S));
            if (std::is_same<S, double>::value && !keep[e]) { const double z = log ? -INFINITY : 0.0; std::memcpy(&want, &z, sizeof(S)); }
            const bool same = same_storage(got, want) ||
                              (sd::widen(got) != sd::widen(got) && sd::widen(want) != sd::widen(want));  // NaN payloads may differ
            CHECK_MSG(same, "%s: row elem %zu: strided %.9g, row API %.9g", what.c_str(), e, (double)sd::widen(got), (double)sd::widen(want));
            reported += !same;
            const long double g = sd::widen(got);
            if (!keep[e]) continue;
            if (!finite_row) {
                const bool want_nan = nan || pinf || !safe;
                const bool ok = want_nan ? g != g : (log ? g == -INFINITY : g == 0);
                CHECK_MSG(ok, "%s: nonfinite row elem %zu = %g", what.c_str(), e, (double)g);
                reported += !ok;
                continue;
            }
            const long double xi = xv[e];
            if (xi == -INFINITY) {
                const bool ok = log ? g == -INFINITY : g == 0;
                CHECK_MSG(ok, "%s: -inf elem gives %g", what.c_str(), (double)g);
                reported += !ok;
                continue;
            }
            const long double se = sum_err_eps<T>(n) + 6 + 0.5L * std::fabs(xi - m);
            long double ref, tol;
            if (log) {
                ref = (xi - m) - std::log(s);
                tol = stored_tol<S>(ref, eps * (se + 0.5L * std::fabs(ref) + 0.5L * std::log(s)));
            } else {
                ref = std::exp(xi - m) / s;
                tol = stored_tol<S>(ref, eps * se * ref + 3 * static_cast<long double>(std::numeric_limits<T>::denorm_min()));
            }
            const bool ok = std::fabs(g - ref) <= tol;
            CHECK_MSG(ok, "%s: elem %zu (x=%.9g) = %.9Lg, ref %.12Lg, tol %.3Lg", what.c_str(), e, (double)xi, g, ref, tol);
            reported += !ok;
        }
    }
    // Padding between the elements of a padded output is never written.
    if (ol == Layout::padded) {
        std::vector<char> used(out.store.size(), 0);
        for (std::int64_t i = 0; i < sh[0]; ++i)
            for (std::int64_t j = 0; j < sh[1]; ++j)
                for (std::int64_t k = 0; k < sh[2]; ++k)
                    used[static_cast<std::size_t>(out.offset + i * out.strides[0] + j * out.strides[1] + k * out.strides[2])] = 1;
        bool clean = true;
        for (std::size_t t = 0; t < used.size(); ++t)
            if (!used[t] && !same_storage(out.store[t], narrow_to<S>(-777.0f))) clean = false;
        CHECK_MSG(clean, "%s: wrote into the padding of the output", what.c_str());
    }
}

template <class S>
void test_softmax_strided() {
    sm_test::Section sec("softmax strided " + tn<S>());
    sm_test::Rng rng(100 + sizeof(S));
    const Layout xls[] = {Layout::C, Layout::F, Layout::padded, Layout::permuted, Layout::negative, Layout::broadcast0};
    const Shape small[] = {{3, 5, 7}, {4, 3, 70}, {5, 1, 9}, {2, 33, 2}};
    for (const Shape& sh : small)
        for (Layout xl : xls)
            for (Layout ol : {Layout::C, Layout::padded})
                for (int axis = 0; axis < 3; ++axis)
                    for (Algo a : kAlgos)
                        for (int lg = 0; lg < 2; ++lg) {
                            const int variant = (axis + lg + static_cast<int>(a)) % 4;
                            softmax_case<S>(sh, xl, ol, axis, a, lg != 0, variant == 1, variant == 2, rng, variant == 3 ? 1 : 0);
                        }
    // Special values, masks, safe.
    for (int special = 1; special <= 2; ++special)
        for (int axis = 0; axis < 3; ++axis)
            for (int lg = 0; lg < 2; ++lg)
                for (int safe = 0; safe < 2; ++safe)
                    softmax_case<S>({3, 4, 5}, Layout::padded, Layout::C, axis, Algo::automatic, lg != 0, safe != 0, true, rng, special);
    // Longer rows: over a chunk along each axis; many rows (threaded); a few long rows (threaded parts).
    const Shape bigger[] = {{2100, 3, 2}, {3, 2049, 4}, {4, 3, 2100}, {16, 8, 300}};
    for (const Shape& sh : bigger)
        for (Layout xl : {Layout::C, Layout::permuted})
            for (int axis = 0; axis < 3; ++axis)
                for (Algo a : {Algo::online, Algo::two_pass, Algo::three_pass})
                    softmax_case<S>(sh, xl, Layout::C, axis, a, axis == 1, false, false, rng, 0);
    softmax_case<S>({1, 2, 140000}, Layout::C, Layout::C, 2, Algo::automatic, false, false, false, rng, 0);
    softmax_case<S>({1, 2, 140000}, Layout::padded, Layout::padded, 2, Algo::three_pass, true, false, true, rng, 0);
    // Empty axis: nothing to do, nothing written.
    for (int axis = 0; axis < 3; ++axis) softmax_case<S>({3, 0, 4}, Layout::C, Layout::C, axis, Algo::automatic, false, false, false, rng, 0);
}

// ---- logsumexp over one or several axes ------------------------------------------------------------
template <class S>
void lse_case(const Shape& sh, Layout xl, unsigned axes, bool weighted, bool masked, bool with_sign, sm_test::Rng& rng,
              int special) {
    using T = Acc<S>;
    const long double eps = std::numeric_limits<T>::epsilon();
    Arr<S> x(sh, xl);
    fill(x, rng, 3.0, special);
    Arr<S> out(sh, Layout::C, axes), sign(sh, Layout::C, axes);
    for (auto& e : out.store) e = narrow_to<S>(-777.0f);
    // Weights broadcast along axis 0 (stride 0), negative ones too.
    Arr<T> w(sh, Layout::broadcast0);
    std::uniform_real_distribution<double> wd(-0.5, 2.0);
    std::bernoulli_distribution zero(0.1);
    for (auto& e : w.store) e = zero(rng) ? T(0) : static_cast<T>(wd(rng));
    Arr<std::uint8_t> mask(sh, Layout::F);
    std::bernoulli_distribution keepd(0.75);
    for (auto& e : mask.store) e = keepd(rng) ? 1 : 0;
    const sm::ArrayRef xr = x.ref(), orf = out.ref(), sr = sign.ref(), wr = w.ref(), mr = mask.ref();
    cpu::logsumexp(xr, axes, weighted ? &wr : nullptr, masked ? &mr : nullptr, orf, with_sign ? &sr : nullptr);

    const std::string what = tn<S>() + " shape(" + std::to_string(sh[0]) + "," + std::to_string(sh[1]) + "," +
                             std::to_string(sh[2]) + ") x:" + layout_name(xl) + " axes " + std::to_string(axes) +
                             (weighted ? " weighted" : "") + (masked ? " masked" : "") + (with_sign ? " sign" : "") +
                             (special ? " special" + std::to_string(special) : "");
    int reported = 0;
    for (const auto& row : rows_of(sh, axes)) {
        if (reported >= 3) break;
        const std::size_t n = row.size();
        const Pos& p0 = row.empty() ? Pos{0, 0, 0} : row[0];
        std::vector<T> xv(n), bv(n);
        for (std::size_t e = 0; e < n; ++e) {
            const Pos& p = row[e];
            const bool keep = masked ? mask.at(p.i, p.j, p.k) != 0 : true;
            xv[e] = keep ? sd::widen(x.at(p.i, p.j, p.k)) : -std::numeric_limits<T>::infinity();
            bv[e] = keep ? w.at(p.i, p.j, p.k) : T(0);
        }
        T api_sign = 0, api;
        if (weighted) api = sm::logsumexp(xv.data(), bv.data(), n, &api_sign);
        else api = sm::logsumexp(xv.data(), n, &api_sign);
        if (!with_sign && api_sign < 0) api = std::numeric_limits<T>::quiet_NaN();  // documented: no real log
        // Output position: the row's first element with the reduced coordinates at 0.
        Pos po = p0;
        for (int a = 0; a < 3; ++a) if ((axes >> a) & 1u) (&po.i)[a] = 0;
        if (n == 0) {  // reduced axis of length 0: output index from the outer loop, not a row element
            continue;
        }
        const S got = out.at(po.i, po.j, po.k);
        S want;
        if (std::is_same<S, double>::value) std::memcpy(&want, &api, sizeof(S));
        else want = narrow_to<S>(static_cast<float>(api));
        const bool same = same_storage(got, want) || (sd::widen(got) != sd::widen(got) && api != api);
        CHECK_MSG(same, "%s: strided %.12g vs row API %.12g", what.c_str(), (double)sd::widen(got), (double)api);
        reported += !same;
        if (with_sign) {
            const S gs = sign.at(po.i, po.j, po.k);
            const bool ok = sd::widen(gs) == api_sign || (api_sign != api_sign && sd::widen(gs) != sd::widen(gs));
            CHECK_MSG(ok, "%s: sign %g vs row API %g", what.c_str(), (double)sd::widen(gs), (double)api_sign);
            reported += !ok;
        }
        // Reference.
        long double m = -INFINITY, s = 0, sa = 0;
        bool nan = false, pinf = false;
        for (std::size_t e = 0; e < n; ++e) {
            if (weighted && bv[e] == 0) continue;
            if (xv[e] != xv[e] || bv[e] != bv[e]) nan = true;
            else if (xv[e] == INFINITY) pinf = true;
            else m = std::max<long double>(m, xv[e]);
        }
        const long double g = sd::widen(got);
        if (nan) { CHECK_MSG(g != g, "%s: NaN row gives %g", what.c_str(), (double)g); continue; }
        if (pinf) {
            // +inf with a positive weight only here (negative weights at +inf: inf - inf is not tested).
            continue;
        }
        if (m == -INFINITY) { CHECK_MSG(g == -INFINITY, "%s: empty row gives %g", what.c_str(), (double)g); continue; }
        for (std::size_t e = 0; e < n; ++e) {
            if (weighted && bv[e] == 0) continue;
            const long double t = (weighted ? bv[e] : 1) * std::exp(static_cast<long double>(xv[e]) - m);
            s += t;
            sa += std::fabs(t);
        }
        if (s <= 0) {
            const bool ok = with_sign ? (s == 0 ? g == -INFINITY : g == g) : (s == 0 ? g == -INFINITY : g != g);
            CHECK_MSG(ok, "%s: non-positive sum %Lg gives %g", what.c_str(), s, (double)g);
            reported += !ok;
            if (s == 0 || !with_sign) continue;
        }
        const long double ref = m + std::log(std::fabs(s));
        const long double tol = stored_tol<S>(ref, eps * (0.5L * std::fabs(ref) + (sa / std::fabs(s)) * sum_err_eps<T>(n) + 4));
        const bool ok = std::fabs(g - ref) <= tol;
        CHECK_MSG(ok, "%s: %.12Lg, ref %.15Lg, tol %.3Lg", what.c_str(), g, ref, tol);
        reported += !ok;
    }
}

template <class S>
void test_logsumexp_strided() {
    sm_test::Section sec("logsumexp strided " + tn<S>());
    sm_test::Rng rng(200 + sizeof(S));
    const Layout xls[] = {Layout::C, Layout::F, Layout::padded, Layout::permuted, Layout::negative, Layout::broadcast0};
    const Shape shapes[] = {{3, 5, 7}, {4, 3, 70}, {5, 1, 9}};
    for (const Shape& sh : shapes)
        for (Layout xl : xls)
            for (unsigned axes = 0; axes < 8; ++axes)  // 0: no axis reduced, every element its own row
                for (int variant = 0; variant < 4; ++variant)
                    lse_case<S>(sh, xl, axes, variant & 1, variant & 2, (axes + variant) % 2 == 0, rng, 0);
    for (unsigned axes = 1; axes < 8; ++axes) {
        lse_case<S>({3, 4, 5}, Layout::padded, axes, false, false, true, rng, 1);
        lse_case<S>({3, 4, 5}, Layout::padded, axes, false, true, true, rng, 2);
        lse_case<S>({3, 4, 5}, Layout::C, axes, true, false, true, rng, 2);
    }
    // Long reductions and many rows (threaded).
    for (unsigned axes : {1u, 2u, 4u, 6u, 7u}) {
        lse_case<S>({40, 30, 60}, Layout::C, axes, false, false, true, rng, 0);
        lse_case<S>({40, 30, 60}, Layout::permuted, axes, true, true, true, rng, 0);
    }
    lse_case<S>({1, 2, 140000}, Layout::C, 4, false, false, true, rng, 0);
    lse_case<S>({2, 300, 300}, Layout::C, 6, false, false, false, rng, 0);
    // Reducing an empty axis gives -inf (sign 0) for every output.
    {
        Arr<S> x({3, 0, 4}, Layout::C), out({3, 0, 4}, Layout::C, 2u), sign({3, 0, 4}, Layout::C, 2u);
        for (auto& e : out.store) e = narrow_to<S>(5.0f);
        const sm::ArrayRef xr = x.ref(), orf = out.ref(), sr = sign.ref();
        cpu::logsumexp(xr, 2u, nullptr, nullptr, orf, &sr);
        for (std::size_t t = 0; t < out.store.size(); ++t) {
            CHECK_MSG(sd::widen(out.store[t]) == -INFINITY, "empty reduction gives %g", (double)sd::widen(out.store[t]));
            CHECK(sd::widen(sign.store[t]) == 0);
        }
    }
}

// ---- in place: out aliases x ------------------------------------------------------------------------
template <class S>
void test_inplace() {
    sm_test::Section sec("in place " + tn<S>());
    sm_test::Rng rng(400);
    for (Layout lay : {Layout::C, Layout::padded, Layout::permuted})
        for (int axis = 0; axis < 3; ++axis)
            for (int lg = 0; lg < 2; ++lg) {
                Arr<S> x({5, 6, 2100}, lay), out({5, 6, 2100}, lay);
                fill(x, rng, 3.0, 0);
                cpu::softmax(x.ref(), axis, nullptr, out.ref(), Algo::automatic, lg != 0, false);
                cpu::softmax(x.ref(), axis, nullptr, x.ref(), Algo::automatic, lg != 0, false);
                CHECK_MSG(std::memcmp(x.store.data(), out.store.data(), x.store.size() * sizeof(S)) == 0 || lay == Layout::padded,
                          "%s axis %d log %d: in place differs", layout_name(lay), axis, lg);
                if (lay == Layout::padded) {
                    bool same = true;
                    for (std::int64_t i = 0; i < 5; ++i)
                        for (std::int64_t j = 0; j < 6; ++j)
                            for (std::int64_t k = 0; k < 2100; ++k) same &= same_storage(x.at(i, j, k), out.at(i, j, k));
                    CHECK_MSG(same, "padded axis %d log %d: in place differs", axis, lg);
                }
            }
}

// ---- results do not depend on the thread count ---------------------------------------------------
template <class S>
void test_threads_bitwise() {
    sm_test::Section sec("thread count " + tn<S>());
    sm_test::Rng rng(300);
    auto& pool = cpu::ThreadPool::instance();
    const int saved = pool.num_threads();
    for (const Shape& sh : {Shape{64, 32, 40}, Shape{1, 3, 150000}}) {
        Arr<S> x(sh, Layout::C);
        fill(x, rng, 4.0, 0);
        for (int axis = 0; axis < 3; ++axis) {
            std::vector<S> results[2];
            for (int t = 0; t < 2; ++t) {
                pool.set_num_threads(t == 0 ? 1 : 4);
                Arr<S> out(sh, Layout::C);
                cpu::softmax(x.ref(), axis, nullptr, out.ref(), Algo::automatic, false, false);
                results[t] = out.store;
            }
            CHECK_MSG(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(S)) == 0,
                      "softmax axis %d differs between 1 and 4 threads", axis);
            for (int t = 0; t < 2; ++t) {
                pool.set_num_threads(t == 0 ? 1 : 4);
                Arr<S> out(sh, Layout::C, 1u << axis);
                cpu::logsumexp(x.ref(), 1u << axis, nullptr, nullptr, out.ref(), nullptr);
                results[t] = out.store;
            }
            CHECK_MSG(std::memcmp(results[0].data(), results[1].data(), results[0].size() * sizeof(S)) == 0,
                      "logsumexp axis %d differs between 1 and 4 threads", axis);
        }
    }
    pool.set_num_threads(saved);
}

// ---- float16 / bfloat16 conversions ----------------------------------------------------------------
// Reference conversions written from the format definitions (value = m * 2^e), not bit tricks.
long double half_value(std::uint16_t h) {
    const int s = h >> 15, e = (h >> 10) & 31, m = h & 1023;
    long double v;
    if (e == 31) v = m ? NAN : INFINITY;
    else if (e == 0) v = std::ldexp(static_cast<long double>(m), -24);
    else v = std::ldexp(static_cast<long double>(1024 + m), e - 25);
    return s ? -v : v;
}

// Correctly rounded (nearest, ties to even) float -> float16 bits, for non-NaN f.
std::uint16_t half_bits_rne(float f) {
    const std::uint16_t sign = std::signbit(f) ? 0x8000 : 0;
    const double a = std::fabs(static_cast<double>(f));
    if (a >= 65520.0) return sign | 0x7c00;  // 65520 = halfway between 65504 and 2^16: ties to even = inf
    const double q = a < 0x1p-14 ? 0x1p-24 : std::ldexp(1.0, std::ilogb(a) - 10);
    const double v = std::nearbyint(a / q) * q;  // default rounding mode: to nearest, ties to even
    if (v == 0) return sign;
    if (v < 0x1p-14) return sign | static_cast<std::uint16_t>(v / 0x1p-24);
    const int e = std::ilogb(v);
    const int m = static_cast<int>(v / std::ldexp(1.0, e - 10)) - 1024;
    return sign | static_cast<std::uint16_t>(((e + 15) << 10) | m);
}

// Correctly rounded float -> bfloat16 bits, for non-NaN f.
std::uint16_t bf16_bits_rne(float f) {
    const double a = std::fabs(static_cast<double>(f));
    const double q = a < 0x1p-126 ? 0x1p-133 : std::ldexp(1.0, std::ilogb(a) - 7);
    double v = std::nearbyint(a / q) * q;
    float vf = v >= 0x1p128 ? INFINITY : static_cast<float>(v);  // exact: v has at most 8 significant bits
    if (std::signbit(f)) vf = -vf;
    return static_cast<std::uint16_t>(sd::bit_cast<std::uint32_t>(vf) >> 16);
}

void test_float16_conversions() {
    sm_test::Section sec("float16 conversions");
    long bad = 0;
    for (std::uint32_t u = 0; u < 65536; ++u) {
        const std::uint16_t h = static_cast<std::uint16_t>(u);
        const float f = sd::widen(sm::float16_t{h});
        const long double ref = half_value(h);
        if (ref != ref) {
            // NaN: stays NaN with its sign and payload (m << 13).
            const std::uint32_t fb = sd::bit_cast<std::uint32_t>(f);
            const bool ok = f != f && (fb >> 31) == (u >> 15) && ((fb >> 13) & 0x3ffu) == (u & 0x3ffu);
            CHECK_MSG(ok || bad++ > 5, "widen(0x%04x) = %a (bits 0x%08x), want NaN with the same sign and payload", u, (double)f, fb);
            const sm::float16_t back = sd::narrow<sm::float16_t>(f);
            const bool nan_back = (back.bits & 0x7c00u) == 0x7c00u && (back.bits & 0x3ffu) != 0 && (back.bits >> 15) == (u >> 15);
            CHECK_MSG(nan_back || bad++ > 5, "narrow(widen(NaN 0x%04x)) = 0x%04x", u, back.bits);
            continue;
        }
        const bool ok = static_cast<long double>(f) == ref && std::signbit(f) == std::signbit(ref);
        CHECK_MSG(ok || bad++ > 5, "widen(0x%04x) = %a, want %La", u, (double)f, ref);
        const sm::float16_t back = sd::narrow<sm::float16_t>(f);
        CHECK_MSG(back.bits == h || bad++ > 5, "round trip 0x%04x -> %a -> 0x%04x", u, (double)f, back.bits);
    }
    // Rounding: every half value, the midpoints to its neighbours (ties -> even), one float either
    // side of each midpoint, and the quarter points; both signs.
    std::vector<float> probes;
    for (std::uint32_t u = 0; u < 0x7c00u; ++u) {
        const double v = static_cast<double>(half_value(static_cast<std::uint16_t>(u)));
        const double next = u + 1 < 0x7c00u ? static_cast<double>(half_value(static_cast<std::uint16_t>(u + 1))) : 65536.0;
        const float mid = static_cast<float>((v + next) / 2);  // exact: 12 significant bits
        probes.insert(probes.end(), {static_cast<float>(v), mid, std::nextafter(mid, 0.0f), std::nextafter(mid, INFINITY),
                                     static_cast<float>(v + (next - v) / 4), static_cast<float>(v + 3 * (next - v) / 4),
                                     std::nextafter(static_cast<float>(v), INFINITY)});
    }
    // Random floats of every exponent, float subnormals, and the overflow boundary.
    sm_test::Rng rng(16);
    std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7fffffu);
    for (int i = 0; i < 1000000; ++i) probes.push_back(sd::bit_cast<float>(bits(rng)));
    for (std::uint32_t u = 1; u < 0x00800000u; u += 9973) probes.push_back(sd::bit_cast<float>(u));
    for (float f : {65504.0f, 65519.0f, std::nextafter(65520.0f, 0.0f), 65520.0f, 65536.0f, 1e10f, 3.4e38f, INFINITY,
                    0x1p-24f, 0x1p-25f, std::nextafter(0x1p-25f, 1.0f), 0x1.8p-24f, 0x1p-14f, std::nextafter(0x1p-14f, 0.0f)})
        probes.push_back(f);
    long rbad = 0;
    for (float p : probes) {
        for (float f : {p, -p}) {
            const std::uint16_t got = sd::narrow<sm::float16_t>(f).bits;
            const std::uint16_t want = std::isinf(f) ? (std::signbit(f) ? 0xfc00 : 0x7c00) : half_bits_rne(f);
            CHECK_MSG(got == want || rbad++ > 10, "narrow<float16>(%a) = 0x%04x, want 0x%04x", (double)f, got, want);
        }
    }
    const sm::float16_t qn = sd::narrow<sm::float16_t>(std::numeric_limits<float>::quiet_NaN());
    CHECK((qn.bits & 0x7c00u) == 0x7c00u && (qn.bits & 0x3ffu) != 0);
    const sm::float16_t sn = sd::narrow<sm::float16_t>(std::numeric_limits<float>::signaling_NaN());
    CHECK((sn.bits & 0x7c00u) == 0x7c00u && (sn.bits & 0x3ffu) != 0);
    std::printf("float16: 65536 patterns round-tripped, %zu rounding probes (x2 signs)\n", probes.size());
}

void test_bfloat16_conversions() {
    sm_test::Section sec("bfloat16 conversions");
    long bad = 0;
    std::vector<float> probes;
    for (std::uint32_t u = 0; u < 65536; ++u) {
        const float f = sd::widen(sm::bfloat16_t{static_cast<std::uint16_t>(u)});
        CHECK_MSG(sd::bit_cast<std::uint32_t>(f) == (u << 16) || bad++ > 5, "widen(bf16 0x%04x)", u);
        const sm::bfloat16_t back = sd::narrow<sm::bfloat16_t>(f);
        if (f != f) {
            CHECK_MSG(((back.bits & 0x7f80u) == 0x7f80u && (back.bits & 0x7fu) != 0 && (back.bits >> 15) == (u >> 15)) || bad++ > 5,
                      "bf16 NaN 0x%04x -> 0x%04x", u, back.bits);
            continue;
        }
        CHECK_MSG(back.bits == u || bad++ > 5, "bf16 round trip 0x%04x -> 0x%04x", u, back.bits);
        if ((u & 0x7fffu) < 0x7f80u) {  // finite: probe the midpoint to the next value up in magnitude
            const double v = std::fabs(static_cast<double>(f));
            const double next = (u & 0x7fffu) + 1 < 0x7f80u
                                    ? std::fabs(static_cast<double>(sd::widen(sm::bfloat16_t{static_cast<std::uint16_t>(u + 1)})))
                                    : 0x1p128;
            const double mid = (v + next) / 2;
            if (mid < 0x1p128 && (u >> 15) == 0) {
                const float mf = static_cast<float>(mid);  // exact: 9 significant bits
                probes.insert(probes.end(), {mf, std::nextafter(mf, 0.0f), std::nextafter(mf, INFINITY)});
            }
        }
    }
    sm_test::Rng rng(17);
    std::uniform_int_distribution<std::uint32_t> bits(0, 0x7f7fffffu);
    for (int i = 0; i < 1000000; ++i) probes.push_back(sd::bit_cast<float>(bits(rng)));
    probes.push_back(std::numeric_limits<float>::max());
    long rbad = 0;
    for (float p : probes) {
        for (float f : {p, -p}) {
            const std::uint16_t got = sd::narrow<sm::bfloat16_t>(f).bits;
            const std::uint16_t want = bf16_bits_rne(f);
            CHECK_MSG(got == want || rbad++ > 10, "narrow<bfloat16>(%a) = 0x%04x, want 0x%04x", (double)f, got, want);
        }
    }
    const sm::bfloat16_t qn = sd::narrow<sm::bfloat16_t>(std::numeric_limits<float>::quiet_NaN());
    CHECK((qn.bits & 0x7f80u) == 0x7f80u && (qn.bits & 0x7fu) != 0);
    const sm::bfloat16_t sn = sd::narrow<sm::bfloat16_t>(std::numeric_limits<float>::signaling_NaN());
    CHECK((sn.bits & 0x7f80u) == 0x7f80u && (sn.bits & 0x7fu) != 0);
    std::printf("bfloat16: 65536 patterns round-tripped, %zu rounding probes (x2 signs)\n", probes.size());
}

int main() {
    if (sm_test::requested_isa_unavailable()) {
        std::printf("SKIP: STABLEMATH_ISA=%s is not supported by this CPU\n", std::getenv("STABLEMATH_ISA"));
        return sm_test::kSkipCode;
    }
    std::printf("kernel table: %s\n", cpu::kernels<float>().isa);
    test_float16_conversions();
    test_bfloat16_conversions();
    test_softmax_strided<float>();
    if (sm_test::wide_reference<double>()) test_softmax_strided<double>();
    test_softmax_strided<sm::float16_t>();
    test_softmax_strided<sm::bfloat16_t>();
    test_logsumexp_strided<float>();
    if (sm_test::wide_reference<double>()) test_logsumexp_strided<double>();
    test_logsumexp_strided<sm::float16_t>();
    test_logsumexp_strided<sm::bfloat16_t>();
    test_inplace<float>();
    test_inplace<sm::float16_t>();
    test_threads_bitwise<float>();
    test_threads_bitwise<sm::float16_t>();
    return sm_test::finish("test_strided");
}
