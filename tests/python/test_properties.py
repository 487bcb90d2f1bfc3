"""Property-based tests (hypothesis, NumPy strategies) for every public array function in the
hostile-input corpus (tests/python/hostile_corpus.py): random shapes, strides (steps, negative
strides, transposes), dtypes and array libraries, magnitudes up to +-1e30 / +-1e300 and huge
offsets, checked by the corpus runner against its float64 / mpmath references of the documented
semantics (value, dtype, array type, inputs unchanged, no aliasing). A function added to
hostile_corpus.FUNCTIONS is covered here without changes.

Invariants on top: softmax rows sum to 1 and softmax / log_softmax / logsumexp are shift-invariant
(exactly representable shifts); the log-Bessel functions satisfy the ratio recurrence
1/r_{v-1} - r_v = 2v/x and the Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x (in log space, no
reference needed, over x in [1e-300, 1e300]).
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import hostile_corpus as hc
import stablemath as sm

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ARRAY_FUNCS = [f for f in hc.FUNCTIONS if f.family in ("reduce", "normalize")]
EW_FUNCS = [f for f in hc.FUNCTIONS if f.family == "elementwise"]

_SPECIAL = [0.0, -0.0, np.nan, np.inf, -np.inf, 1e30, -1e30, 1e300, -1e300]


@st.composite
def array_input(draw, max_side=6):
    """(x, dtype name): a float array of any library/dtype, with a random view over it."""
    libs = [("numpy", n) for n in hc.NUMPY_DTYPES] + ([("torch", n) for n in hc.TORCH_DTYPES] if hc.torch else [])
    lib, name = draw(st.sampled_from(libs))
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=max_side))
    n = int(np.prod(shape))
    scale = draw(st.sampled_from([1.0, 30.0, 1e4, 1e30, 1e300]))
    offset = draw(st.sampled_from([0.0, 0.0, 1e4, -1e6, 3e5, 1e30, -1e300]))
    vals = np.asarray(draw(st.lists(st.floats(-1, 1), min_size=n, max_size=n)), np.float64).reshape(shape)
    with np.errstate(all="ignore"):
        vals = vals * scale + offset
    for _ in range(draw(st.integers(0, 3)) if n else 0):  # specials spliced in
        vals.flat[draw(st.integers(0, n - 1))] = draw(st.sampled_from(_SPECIAL))
    x = hc._arr(vals, lib, name)
    # a view: per-axis steps (negative = reversed) and a permutation of the axes
    steps = draw(st.lists(st.sampled_from([1, 1, 2, -1, -2]), min_size=len(shape), max_size=len(shape)))
    perm = draw(st.permutations(range(len(shape))))
    if lib == "numpy":
        x = x[tuple(slice(None, None, s) for s in steps)].transpose(perm)
    else:
        x = x[tuple(slice(None, None, abs(s)) for s in steps)].permute(*perm)  # (torch: no negative steps)
    return x, name


@pytest.mark.parametrize("func", ARRAY_FUNCS, ids=lambda f: f.name)
@SETTINGS
@given(data=st.data())
def test_random_arrays_match_the_reference(func, data):
    x, _ = data.draw(array_input())
    nd = len(x.shape)
    kw = {}
    if data.draw(st.booleans()):
        kw["axis"] = data.draw(st.integers(-nd, nd - 1))
    if "where" in func.params and data.draw(st.booleans()):
        kw["where"] = np.asarray(data.draw(hnp.arrays(bool, tuple(x.shape[nd - 1:]))))
    if "b" in func.params and data.draw(st.booleans()):
        kw["b"] = data.draw(hnp.arrays(np.float64, tuple(x.shape[nd - 1:]),
                                       elements=st.sampled_from([0.0, 1.0, -0.5, 3.0, 1e-300, 1e300, 5e-324])))
        kw["return_sign"] = True
    if "safe" in func.params:
        kw["safe"] = data.draw(st.booleans())
    case = hc.Case("property", lambda: x, {k: hc.Lazy(lambda _x, v=v: v) for k, v in kw.items()})
    outcome = hc.run_case(func, case, timeout=60)
    assert outcome.ok, str(outcome)


@st.composite
def shift_case(draw):
    """float64 rows of integers and an integer shift: x + c is exact."""
    rows = draw(st.integers(1, 4))
    n = draw(st.integers(1, 30))
    x = np.asarray(draw(st.lists(st.integers(-60, 60), min_size=rows * n, max_size=rows * n)),
                   np.float64).reshape(rows, n)
    c = float(draw(st.sampled_from([1, -7, 1000, -40000, 2**40, -(2**45)])))
    return x, c


@SETTINGS
@given(case=shift_case())
def test_shift_invariance_and_softmax_sums_to_one(case):
    x, c = case
    eps = np.finfo(np.float64).eps
    n = x.shape[-1]
    p, q = sm.softmax(x), sm.softmax(x + c)
    assert np.all(np.abs(q - p) <= 64 * eps * p), np.max(np.abs(q - p) / p)
    assert np.all(np.abs(np.sum(p, axis=-1) - 1) <= 4 * n * eps)
    lp, lq = sm.log_softmax(x), sm.log_softmax(x + c)
    assert np.all(np.abs(lq - lp) <= 64 * eps * (np.abs(lp) + 1))
    a, b = sm.logsumexp(x, axis=-1), sm.logsumexp(x + c, axis=-1)
    assert np.all(np.abs((b - c) - a) <= 8 * eps * (np.abs(a) + abs(c)))


@st.composite
def ew_input(draw):
    """(v, x): broadcastable small arrays of orders and arguments, any dtype."""
    shapes = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=2, max_side=3)).input_shapes
    dt = draw(st.sampled_from([np.float32, np.float64]))
    v = draw(hnp.arrays(np.float64, shapes[0], elements=st.one_of(
        st.floats(0, 60), st.sampled_from([0.0, 0.5, -3.0, -2.5, 700.0, 1e4, 1e6, np.nan, np.inf]))))
    x = draw(hnp.arrays(np.float64, shapes[1], elements=st.one_of(
        st.floats(1e-3, 1e3), st.sampled_from([0.0, -1.0, 1e-30, 1e30, np.inf, np.nan]), st.floats(1e-300, 1e300))))
    with np.errstate(over="ignore"):
        v, x = v.astype(dt), x.astype(dt)
    if draw(st.booleans()) and x.ndim:
        x = x[..., ::-1]  # negative strides
    return v, x


@pytest.mark.parametrize("func", EW_FUNCS, ids=lambda f: f.name)
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(vx=ew_input())
def test_random_elementwise_match_the_reference(func, vx):
    v, x = vx
    case = hc.Case("property", lambda: x, {"v": hc.Lazy(lambda _x: v)})
    outcome = hc.run_case(func, case, timeout=120)
    assert outcome.ok, str(outcome)


@SETTINGS
@given(v=hnp.arrays(np.float64, 20, elements=st.floats(1, 1e4)),
       lx=hnp.arrays(np.float64, 20, elements=st.floats(-300, 300)))
def test_bessel_wronskian_and_recurrence(v, lx):
    x = 10.0 ** lx
    li, lk = sm.log_bessel_ie(v, x), sm.log_bessel_ke(v, x)
    li1, lk1 = sm.log_bessel_ie(v + 1, x), sm.log_bessel_ke(v + 1, x)
    assert np.all(np.isfinite(li)) and np.all(np.isfinite(lk))
    lhs = np.logaddexp(li + lk1, li1 + lk)  # log(I_v K_{v+1} + I_{v+1} K_v), the e^{+-x} cancel
    scale = np.maximum(np.abs(li) + np.abs(lk1), np.abs(li1) + np.abs(lk)) + np.abs(np.log(x)) + 1
    assert np.all(np.abs(lhs + np.log(x)) <= 6e-14 * scale)
    # I_{v-1} - I_{v+1} = (2v/x) I_v, divided by I_v: 1/r_{v-1} - r_v = 2v/x, where not dominated
    # by cancellation (2v/x not tiny against 1/r_{v-1})
    ok = (x < 1e6) & (v < 1e3)
    assume(np.any(ok))
    r_prev, r = sm.bessel_i_ratio(v[ok] - 1, x[ok]), sm.bessel_i_ratio(v[ok], x[ok])
    with np.errstate(over="ignore"):
        lhs = 1 / r_prev - r
    rhs = 2 * v[ok] / x[ok]
    fin = np.isfinite(lhs) & np.isfinite(rhs)
    cond = (np.abs(1 / r_prev) + np.abs(r))[fin] / np.abs(rhs[fin])
    assert np.all(np.abs(lhs[fin] - rhs[fin]) <= 1e-13 * cond * np.abs(rhs[fin]))
