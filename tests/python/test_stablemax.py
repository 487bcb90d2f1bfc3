"""stablemath.stablemax / log_stablemax / stablemax_cross_entropy against float64 NumPy, mpmath and
the reference torch expression of Prieto et al. (2025).

Bounds checked (eps of the output dtype):

* stablemax: within 4 ulp of the correctly rounded float64 result (float32/float64 rows with
  |x| up to the dtype maximum), 1 ulp for float16/bfloat16 (float32 arithmetic, rounded once);
* log_stablemax: absolute error <= 4 eps (1 + |log s(x_i)| + |log sum s|) (cancellation of the
  two logs), and <= 4 ulp relative for an element that holds most of the row's mass;
* stablemax_cross_entropy: <= 4 ulp against mpmath, including a dominant target;
* its gradient (float64 finite differences) against the closed form
  d/dx_i = s'(x_i) / sum s - [i = t] s'(x_t) / s(x_t) and against torch autograd.
"""
from __future__ import annotations

import mpmath
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import stablemath
from conftest import EPS, assert_ulp, num_threads, round_to, to_f64

F32_MAX = float(np.finfo(np.float32).max)
F64_MAX = float(np.finfo(np.float64).max)


# ---------------------------------------------------------------------------------------------
# references (never stablemath)
# ---------------------------------------------------------------------------------------------
def ref_s(x64):
    x64 = np.asarray(x64, dtype=np.float64)
    t = 1.0 + np.abs(x64)
    with np.errstate(divide="ignore"):
        return np.where(x64 >= 0, t, 1.0 / t)


def ref_stablemax(x, axis=-1):
    """float64 StableMax; exact enough for float32 inputs (no overflow: s <= 3.4e38 * n)."""
    s = ref_s(to_f64(x))
    with np.errstate(invalid="ignore"):
        return s / s.sum(axis=axis, keepdims=True)


def ref_log_stablemax(x, axis=-1):
    x64 = to_f64(x)
    s = ref_s(x64)
    logs = np.sign(x64) * np.log1p(np.abs(x64))
    with np.errstate(divide="ignore", invalid="ignore"):
        return logs - np.log(s.sum(axis=axis, keepdims=True))


def mp_s(v):  # call inside mpmath.workdps(60)
    v = mpmath.mpf(v)
    return v + 1 if v >= 0 else 1 / (1 - v)


def mp_stablemax_row(row):
    with mpmath.workdps(60):
        s = [mp_s(float(v)) for v in row]
        tot = mpmath.fsum(s)
        return [float(si / tot) for si in s], [float(mpmath.log(si / tot)) for si in s]


def prieto_stablemax(x, dim=-1):
    """The paper's expression, in torch (float64): s / s.sum(dim, keepdim=True)."""
    s = torch.where(x >= 0, x + 1, 1 / (1 - x + 1e-30))
    return s / s.sum(dim, keepdim=True)


def stablemax_cross_entropy_grad(x, target):
    """Closed-form gradient of mean_r -log stablemax(x_r)[t_r] (last axis, float64 NumPy)."""
    x = np.asarray(x, dtype=np.float64)
    t = 1.0 + np.abs(x)
    s = np.where(x >= 0, t, 1.0 / t)
    ds = np.where(x >= 0, 1.0, 1.0 / (t * t))
    g = ds / s.sum(-1, keepdims=True)
    rows = np.arange(x.shape[0])
    g[rows, target] -= ds[rows, target] / s[rows, target]
    return g / x.shape[0]


def finite_diff(f, x, h=1e-6):
    g = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        step = h * max(1.0, abs(x[idx]))
        xp[idx] += step
        xm[idx] -= step
        g[idx] = (f(xp) - f(xm)) / (2 * step)
    return g


def log_tol(x, dtype_name, axis=-1):
    """4 eps (1 + |log s(x)| + |log sum s|), elementwise."""
    x64 = to_f64(x)
    logs = np.abs(np.log1p(np.abs(x64)))
    with np.errstate(divide="ignore"):
        lsum = np.abs(np.log(ref_s(x64).sum(axis=axis, keepdims=True)))
    return 4 * EPS[dtype_name] * (1 + logs + lsum)


# ---------------------------------------------------------------------------------------------
# values
# ---------------------------------------------------------------------------------------------
def test_definition_small_row():
    # s = [2, 1, 1/2, 3]: no singularity at x = 1 and no shift by the maximum.
    x = np.array([1.0, 0.0, -1.0, 2.0])
    np.testing.assert_allclose(stablemath.stablemax(x), np.array([2, 1, 0.5, 3]) / 6.5, rtol=2e-16)
    np.testing.assert_allclose(stablemath.log_stablemax(x), np.log(np.array([2, 1, 0.5, 3]) / 6.5), rtol=4e-16)
    # Not shift-invariant: adding 5 changes the result (softmax would not change).
    assert not np.allclose(stablemath.stablemax(x + 5), stablemath.stablemax(x))
    np.testing.assert_allclose(stablemath.stablemax(x + 5), ref_stablemax(x + 5), rtol=4e-16)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_random_against_float64(dtype, data):
    n = data.draw(st.integers(1, 300))
    rows = data.draw(st.integers(1, 5))
    scale = data.draw(st.sampled_from([1e-3, 1.0, 30.0, 1e6]))
    seed = data.draw(st.integers(0, 2**32 - 1))
    x = (np.random.default_rng(seed).standard_normal((rows, n)) * scale).astype(dtype)
    y = stablemath.stablemax(x)
    assert y.dtype == dtype and y.shape == x.shape
    assert_ulp(y, ref_stablemax(x), 4 if dtype == np.float32 else 8, dtype=dtype)
    ly = stablemath.log_stablemax(x)
    err = np.abs(to_f64(ly) - ref_log_stablemax(x))
    name = np.dtype(dtype).name
    assert np.all(err <= log_tol(x, name)), float(np.max(err / log_tol(x, name)))


def test_float32_near_max():
    """|x| up to the float32 maximum: the sum (~1e39) must not overflow, s ~ 1e-39 must not lose digits."""
    rng = np.random.default_rng(1)
    mags = np.array([F32_MAX, 3e38, 1e38, 1e30, 1e10, 1.0, 1e-10, 0.0])
    x = (rng.choice(mags, size=(64, 16)) * rng.choice([-1.0, 1.0], size=(64, 16))).astype(np.float32)
    x[0] = F32_MAX  # every element at the maximum: 1/16 each
    x[1] = -F32_MAX  # every element at -max: s subnormal in float32
    x[2, :] = -3e38
    x[2, 0] = -1e38
    assert_ulp(stablemath.stablemax(x), ref_stablemax(x), 4, dtype=np.float32)
    err = np.abs(to_f64(stablemath.log_stablemax(x)) - ref_log_stablemax(x))
    assert np.all(err <= log_tol(x, "float32"))
    np.testing.assert_allclose(stablemath.stablemax(x[:2]), 1 / 16, rtol=1e-7)


def test_float64_near_max_against_mpmath():
    rows = [
        [F64_MAX, F64_MAX, 1.0],
        [-F64_MAX, -1e300, -F64_MAX / 2],
        [F64_MAX, -F64_MAX, 0.0],
        [1e308, 1e-300, -1e-300, -5.0],
        [-F64_MAX],
    ]
    for row in rows:
        x = np.array(row)
        p, lp = mp_s_ref = mp_stablemax_row(row)
        assert_ulp(stablemath.stablemax(x), p, 8, dtype=np.float64, msg=str(row))
        got = stablemath.log_stablemax(x)
        assert np.all(np.abs(got - np.array(lp)) <= 8 * EPS["float64"] * (1 + np.abs(lp) + 710)), (row, got, lp)
        del mp_s_ref


def test_log_stablemax_dominant_element_keeps_digits():
    # log p of the dominant element is about -1e-7 / -1e-13: log s - log sum would keep no digit.
    for row, dtype in (([1e7, 0.0], np.float64), ([1e13, -3.0, 2.0], np.float64), ([1e6, 0.0, -1.0], np.float32)):
        x = np.array(row, dtype=dtype)
        _, lp = mp_stablemax_row(x.astype(np.float64))
        assert_ulp(stablemath.log_stablemax(x)[:1], lp[:1], 4, dtype=dtype, msg=str(row))


def test_log1p_kernel_across_magnitudes():
    """The vectorised log1p of the row kernel, checked element by element against mpmath on
    non-dominant elements (the big last element of each row holds most of the mass)."""
    mags = np.concatenate([[0.0], np.logspace(-30, 30, 121)])
    for dtype in (np.float32, np.float64):
        v = np.concatenate([mags, -mags]).astype(dtype)
        big = dtype(10) * (dtype(1) + np.max(np.abs(v))) * len(v)
        x = np.concatenate([v, [big]]).astype(dtype)
        got = to_f64(stablemath.log_stablemax(x))[:-1]
        with mpmath.workdps(60):
            s = [mp_s(float(e)) for e in x]
            lsum = mpmath.log(mpmath.fsum(s))
            want = np.array([float(mpmath.log(si) - lsum) for si in s[:-1]])
        tol = 2 * EPS[np.dtype(dtype).name] * (1 + np.abs(np.log1p(np.abs(v.astype(np.float64)))) + float(lsum))
        assert np.all(np.abs(got - want) <= tol), (dtype, np.max(np.abs(got - want) / tol))


@pytest.mark.parametrize("dtype", [np.float16, torch.bfloat16, torch.float16])
def test_half_precision_inputs(dtype):
    rng = np.random.default_rng(2)
    x64 = rng.standard_normal((8, 50)) * 20
    x = torch.tensor(x64).to(dtype) if isinstance(dtype, torch.dtype) else x64.astype(dtype)
    name = str(dtype).replace("torch.", "") if isinstance(dtype, torch.dtype) else np.dtype(dtype).name
    y = stablemath.stablemax(x)
    assert y.dtype == x.dtype and type(y) is type(x)
    # float32 arithmetic then one rounding to the 16-bit format: within 1 ulp of the exact value.
    assert_ulp(y, round_to(ref_stablemax(x), name), 1, dtype=name)
    ly = stablemath.log_stablemax(x)
    assert_ulp(ly, round_to(ref_log_stablemax(x), name), 1, dtype=name)


def test_matches_prieto_expression_float64():
    x = torch.randn(16, 40, dtype=torch.float64) * 7
    np.testing.assert_allclose(stablemath.stablemax(x).numpy(), prieto_stablemax(x).numpy(), rtol=1e-14)
    np.testing.assert_allclose(stablemath.log_stablemax(x).numpy(), torch.log(prieto_stablemax(x)).numpy(),
                               rtol=1e-13, atol=1e-14)


# ---------------------------------------------------------------------------------------------
# layout, types, threads
# ---------------------------------------------------------------------------------------------
def test_any_axis_and_strides():
    rng = np.random.default_rng(3)
    base = rng.standard_normal((6, 7, 9)) * 4
    for x in (base, base.transpose(2, 0, 1), base[:, ::2, 1:], np.asfortranarray(base)):
        for axis in range(-3, 3):
            ref = ref_stablemax(x, axis=axis)
            np.testing.assert_allclose(stablemath.stablemax(x, axis=axis), ref, rtol=1e-15)
            np.testing.assert_allclose(stablemath.log_stablemax(x, axis=axis), np.log(ref), rtol=1e-14, atol=1e-15)
    x32 = base.astype(np.float32)[:, ::3]
    assert_ulp(stablemath.stablemax(x32, axis=0), ref_stablemax(x32, axis=0), 4)


def test_types_and_input_untouched():
    x = np.array([[0.5, -2.0, 3.0]], dtype=np.float32)
    keep = x.copy()
    y = stablemath.stablemax(x)
    assert isinstance(y, np.ndarray) and not np.shares_memory(x, y)
    np.testing.assert_array_equal(x, keep)
    t = torch.tensor([[0.5, -2.0, 3.0]])
    assert isinstance(stablemath.stablemax(t), torch.Tensor)
    np.testing.assert_allclose(stablemath.stablemax([1.0, 0.0]), [2 / 3, 1 / 3], rtol=1e-15)
    assert float(stablemath.stablemax(np.float64(3.0))) == 1.0  # 0-d: one element
    assert stablemath.log_stablemax(np.float64(-3.0)) == 0.0


def test_threads_bit_identical():
    rng = np.random.default_rng(4)
    x = (rng.standard_normal((3, 300_000)) * 10).astype(np.float32)
    with num_threads(1):
        a, la = stablemath.stablemax(x), stablemath.log_stablemax(x)
    with num_threads(2):
        b, lb = stablemath.stablemax(x), stablemath.log_stablemax(x)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    assert_ulp(a, ref_stablemax(x), 4)


# ---------------------------------------------------------------------------------------------
# non-finite values and errors
# ---------------------------------------------------------------------------------------------
def test_nonfinite_rows():
    inf, nan = np.inf, np.nan
    x = np.array([[1.0, nan, 2.0], [inf, 1.0, 2.0], [-inf, 1.0, 0.0], [-inf, -inf, -inf], [1.0, 2.0, 3.0]])
    y, ly = stablemath.stablemax(x), stablemath.log_stablemax(x)
    assert np.isnan(y[:2]).all() and np.isnan(ly[:2]).all()  # NaN / +inf: the whole row
    np.testing.assert_allclose(y[2], [0.0, 2 / 3, 1 / 3], rtol=1e-15)  # -inf gets probability 0
    assert ly[2, 0] == -inf and np.isfinite(ly[2, 1:]).all()
    assert np.isnan(y[3]).all() and np.isnan(ly[3]).all()  # no mass: 0/0
    np.testing.assert_allclose(y[4], ref_stablemax(x[4]), rtol=1e-15)  # other rows unaffected


def test_errors():
    with pytest.raises(TypeError, match="^x:"):
        stablemath.stablemax(np.array([1, 2, 3]))
    with pytest.raises(TypeError, match="^x:"):
        stablemath.stablemax(np.array([True, False]))
    with pytest.raises(np.exceptions.AxisError, match="^axis:"):
        stablemath.stablemax(np.zeros((2, 3)), axis=2)
    with pytest.raises(TypeError, match="^axis:"):
        stablemath.log_stablemax(np.zeros((2, 3)), axis=1.0)
    assert stablemath.stablemax(np.zeros((0, 3))).shape == (0, 3)
    assert stablemath.stablemax(np.zeros((3, 0))).shape == (3, 0)


# ---------------------------------------------------------------------------------------------
# stablemax cross-entropy
# ---------------------------------------------------------------------------------------------
def test_stablemax_ce_against_prieto_float64():
    x = torch.randn(32, 10, dtype=torch.float64) * 5
    t = torch.randint(0, 10, (32,))
    # The reference code: mean of -log_stablemax gathered at the labels, in float64.
    ref = -torch.log(prieto_stablemax(x)).gather(-1, t[:, None]).squeeze(-1)
    got = stablemath.stablemax_cross_entropy(x, t, reduction="none")
    np.testing.assert_allclose(got.numpy(), ref.numpy(), rtol=1e-13)
    np.testing.assert_allclose(float(stablemath.stablemax_cross_entropy(x, t)), float(ref.mean()), rtol=1e-13)
    np.testing.assert_allclose(float(stablemath.stablemax_cross_entropy(x, t, reduction="sum")), float(ref.sum()),
                               rtol=1e-13)


@pytest.mark.parametrize("row,target,dtype", [
    ([1e6, 0.0, 0.0], 0, np.float32),     # dominant target: loss ~ 2e-6
    ([1e15, -2.0, 3.0], 0, np.float64),   # loss ~ 4e-15: log(sum) - log s(x_t) keeps no digit
    ([F32_MAX, -F32_MAX, 0.0], 1, np.float32),
    ([-F32_MAX, -3e38, -1e38], 2, np.float32),
    ([F64_MAX, F64_MAX, -F64_MAX], 2, np.float64),
    ([-F64_MAX, 0.0], 0, np.float64),
    ([0.5], 0, np.float32),
])
def test_stablemax_ce_against_mpmath(row, target, dtype):
    x = np.array([row], dtype=dtype)
    with mpmath.workdps(60):
        s = [mp_s(float(v)) for v in x[0]]
        want = float(-mpmath.log(s[target] / mpmath.fsum(s)))
    got = stablemath.stablemax_cross_entropy(x, np.array([target]), reduction="none")
    assert got.dtype == dtype
    assert_ulp(got, [want], 4, dtype=dtype, msg=str(row))


def test_stablemax_ce_gradient_finite_differences():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((4, 6)) * 3
    x[0, 1] = 0.3  # both branches of s, and values near 0 where s' is continuous
    x[1, 2] = -0.2
    t = np.array([1, 2, 0, 5])
    g = stablemax_cross_entropy_grad(x, t)
    fd = finite_diff(lambda z: float(stablemath.stablemax_cross_entropy(z, t)), x)
    np.testing.assert_allclose(fd, g, rtol=1e-6, atol=1e-9)
    # torch autograd of the reference expression agrees with the closed form as well.
    xt = torch.tensor(x, requires_grad=True)
    loss = -torch.log(prieto_stablemax(xt)).gather(-1, torch.tensor(t)[:, None]).mean()
    loss.backward()
    np.testing.assert_allclose(xt.grad.numpy(), g, rtol=1e-12, atol=1e-15)


def test_stablemax_ce_nonfinite_and_ignore():
    x = np.array([[1.0, np.nan, 0.0], [np.inf, 0.0, 0.0], [-np.inf, 1.0, 2.0], [1.0, 2.0, 3.0]])
    got = stablemath.stablemax_cross_entropy(x, [0, 1, 0, -100], reduction="none")
    assert np.isnan(got[0]) and np.isnan(got[1]) and got[2] == np.inf and got[3] == 0.0
    m = stablemath.stablemax_cross_entropy(x[3:], [-100])
    assert np.isnan(m)  # mean over no rows
    with pytest.raises(IndexError, match="^target:"):
        stablemath.stablemax_cross_entropy(x, [0, 1, 3, 0])


ISA_WORKER = """
import sys
import numpy as np
import stablemath
x = np.load(sys.argv[1])
np.save(sys.argv[2], np.stack([stablemath.stablemax(x), stablemath.log_stablemax(x)]))
print(stablemath.cpu_isa())
"""


@pytest.mark.parametrize("isa", ["baseline", "avx2", "avx512"])
def test_every_kernel_table(isa, tmp_path):
    """Each instruction-set table (forced with STABLEMATH_ISA) meets the same bounds."""
    import os
    import subprocess
    import sys

    rng = np.random.default_rng(11)
    x = (rng.standard_normal((5, 257)) * rng.choice([1e-3, 1.0, 1e4, 1e30], size=(5, 1))).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    env = dict(os.environ, STABLEMATH_ISA=isa)
    res = subprocess.run([sys.executable, "-c", ISA_WORKER, str(tmp_path / "x.npy"), str(tmp_path / "y.npy")],
                         env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    if res.stdout.strip() != isa:
        pytest.skip(f"{isa} not supported by this CPU (ran {res.stdout.strip()})")
    y, ly = np.load(tmp_path / "y.npy")
    assert_ulp(y, ref_stablemax(x), 4, dtype=np.float32)
    assert np.all(np.abs(ly - ref_log_stablemax(x)) <= log_tol(x, "float32"))


def stablemax_vjp(x, y, g, axis=-1):
    """Backward of y = stablemax(x) for the torch layer: s'(x)/s(x) = 1/(1 + |x|) on both branches
    (1/t for x >= 0, s^2/s = s = 1/t for x < 0), so dx_j = y_j / (1 + |x_j|) (g_j - sum_i g_i y_i)."""
    return y / (1 + np.abs(x)) * (g - (g * y).sum(axis=axis, keepdims=True))


def test_backward_formula_against_autograd():
    rng = np.random.default_rng(12)
    x = rng.standard_normal((5, 8)) * 4
    x[0, :3] = [0.0, -0.0, 1.0]  # the branch point and the reference code's singular point
    g = rng.standard_normal((5, 8))
    xt = torch.tensor(x, requires_grad=True)
    prieto_stablemax(xt).backward(torch.tensor(g))
    y = stablemath.stablemax(x)
    np.testing.assert_allclose(stablemax_vjp(x, y, g), xt.grad.numpy(), rtol=1e-12, atol=1e-15)
    fd = finite_diff(lambda z: float((stablemath.stablemax(z) * g).sum()), x)
    np.testing.assert_allclose(fd, stablemax_vjp(x, y, g), rtol=1e-6, atol=1e-9)
