"""Array interoperability and argument checking: what goes in (NumPy, torch, Python scalars/lists,
array-api-strict, DLPack objects) comes back in the same array type and dtype, inputs are left
untouched, results never alias inputs, and bad arguments raise the documented exception type with
the argument's name in the message. Values are checked against the float64 references."""
from __future__ import annotations

import array_api_strict as xp
import numpy as np
import pytest
import torch

import stablemath
from conftest import assert_lse_close, assert_softmax_close, assert_ulp, ref_logsumexp, ref_softmax, to_f64

try:  # NumPy >= 1.25
    from numpy.exceptions import AxisError
except ImportError:  # pragma: no cover
    from numpy import AxisError

TORCH_DTYPES = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPE_NAME = {torch.float16: "float16", torch.bfloat16: "bfloat16", torch.float32: "float32", torch.float64: "float64"}


def check_softmax(y, xin, axis, log=False, msg=""):
    """y vs the float64 reference of xin (the values passed) under conftest's bounds."""
    assert_softmax_close(y, xin, axis, "log_softmax" if log else "softmax", msg=msg)


def check_lse(r, xin, name, msg="", **kw):
    assert_lse_close(r, xin, ref_logsumexp(xin, **kw), name, axis=kw.get("axis"),
                     keepdims=kw.get("keepdims", False), b=kw.get("b"), msg=msg)


def lse(x, **kw):
    return stablemath.logsumexp(x, **kw)


def softmax(x, **kw):
    return stablemath.softmax(x, **kw)


def log_softmax(x, **kw):
    return stablemath.log_softmax(x, **kw)


ALL_FUNCS = [lse, softmax, log_softmax]
ARG_NAME = {lse: "a", softmax: "x", log_softmax: "x"}


# --------------------------------------------------------------------------------------------
# NumPy
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numpy_in_numpy_out(dtype, rng):
    x = (rng.standard_normal((4, 9)) * 2).astype(dtype)
    name = np.dtype(dtype).name
    xin = x.astype(np.float64)
    y = softmax(x, axis=1)
    assert type(y) is np.ndarray and y.dtype == dtype and y.shape == x.shape
    check_softmax(y, xin, 1)
    y = log_softmax(x, axis=0)
    assert type(y) is np.ndarray and y.dtype == dtype
    check_softmax(y, xin, 0, log=True)
    r = lse(x, axis=1)
    assert type(r) is np.ndarray and r.dtype == dtype and r.shape == (4,)
    check_lse(r, xin, name, axis=1)
    full = lse(x)
    assert isinstance(full, np.generic) and full.dtype == dtype  # a NumPy scalar, as SciPy gives
    res, sgn = lse(x, axis=0, return_sign=True)
    assert type(res) is np.ndarray and type(sgn) is np.ndarray and sgn.dtype == dtype


def test_numpy_scalar_and_zero_d_in():
    r = lse(np.float32(2.5))
    assert isinstance(r, np.float32) and r == np.float32(2.5)
    y = softmax(np.float16(4.0))
    assert isinstance(y, np.float16) and y == 1
    y = log_softmax(np.array(4.0))
    assert isinstance(y, (np.float64, np.ndarray)) and np.ndim(y) == 0 and y == 0


def test_fortran_order_and_readonly_input(rng):
    x = np.asfortranarray(rng.standard_normal((5, 7)))
    x.flags.writeable = False
    y = softmax(x, axis=1)
    assert_ulp(y, ref_softmax(np.ascontiguousarray(x), axis=1), 8)
    r = lse(x, axis=0)
    assert_ulp(r, ref_logsumexp(np.ascontiguousarray(x), axis=0), 8)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_non_native_byte_order(func, rng):
    x = rng.standard_normal((3, 6))
    sw = x.astype(x.dtype.newbyteorder(">" if np.little_endian else "<"))
    got = func(sw, axis=1)
    if func is lse:
        expected = ref_logsumexp(x, axis=1)
    else:
        expected = ref_softmax(x, axis=1, log=func is log_softmax)
    assert_ulp(got, expected, 8, dtype="float64")


# --------------------------------------------------------------------------------------------
# torch
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_torch_in_torch_out(dtype, rng):
    x64 = rng.standard_normal((5, 11)) * 2
    x = torch.from_numpy(x64).to(dtype)
    xin = to_f64(x)
    name = DTYPE_NAME[dtype]
    for func, kw in [
        (softmax, dict(axis=-1)),
        (log_softmax, dict(axis=0)),
        (lse, dict(axis=1)),
        (lse, dict(axis=(0, 1), keepdims=True)),
    ]:
        y = func(x, **kw)
        assert isinstance(y, torch.Tensor) and y.dtype == dtype and y.device.type == "cpu"
        if func is lse:
            check_lse(y, xin, name, msg=f"{kw}:", **kw)
        else:
            check_softmax(y, xin, kw["axis"], log=func is log_softmax)
    full = lse(x)
    assert isinstance(full, torch.Tensor) and full.shape == () and full.dtype == dtype
    res, sgn = lse(x, axis=0, return_sign=True)
    assert isinstance(res, torch.Tensor) and isinstance(sgn, torch.Tensor) and sgn.dtype == dtype
    assert torch.all(sgn == 1)


@pytest.mark.parametrize("dtype", TORCH_DTYPES)
def test_torch_non_contiguous(dtype, rng):
    base = torch.from_numpy(rng.standard_normal((12, 20)) * 3).to(dtype)
    name = DTYPE_NAME[dtype]
    views = {
        "transposed": base.t(),
        "step": base[::3, 1::2],
        "offset": base[2:, 5:],
        "expanded": base[:1].expand(6, 20),
        "permuted3d": base.reshape(3, 4, 20).permute(2, 0, 1),
    }
    for vname, v in views.items():
        assert not v.is_contiguous() or vname == "offset"
        vin = to_f64(v)
        for axis in range(v.dim()):
            check_softmax(softmax(v, axis=axis), vin, axis, msg=f"{vname} softmax axis={axis}:")
            check_softmax(log_softmax(v, axis=axis), vin, axis, log=True, msg=f"{vname} axis={axis}:")
            check_lse(lse(v, axis=axis), vin, name, axis=axis, msg=f"{vname} logsumexp axis={axis}:")
        check_lse(lse(v), vin, name, msg=f"{vname} full:")


def test_torch_requires_grad_accepted_result_detached():
    x = torch.tensor([[0.5, -1.0, 2.0]], requires_grad=True)
    b = torch.tensor([1.0, 2.0, 0.5], requires_grad=True)
    for y in (softmax(x), log_softmax(x), lse(x, axis=1), lse(x, b=b)):
        assert isinstance(y, torch.Tensor)
        assert not y.requires_grad and y.grad_fn is None
    assert_ulp(softmax(x), ref_softmax(x.detach().double().numpy()), 8, dtype="float32")
    assert_ulp(lse(x, b=b), ref_logsumexp(x.detach().double().numpy(), b=b.detach().double().numpy()), 8,
               dtype="float32")


def test_torch_weights_and_masks_from_any_library(rng):
    x64 = rng.standard_normal((3, 4))
    x = torch.from_numpy(x64)
    b64 = rng.uniform(0.5, 2.0, 4)
    expected = ref_logsumexp(x64, axis=1, b=b64)
    for b in (torch.from_numpy(b64), b64, b64.tolist()):
        got = lse(x, axis=1, b=b)
        assert isinstance(got, torch.Tensor)
        assert_ulp(got, expected, 8)
    w = np.array([True, False, True, True])
    for where in (torch.from_numpy(w), w, w.tolist()):
        got = softmax(x, where=where)
        assert isinstance(got, torch.Tensor)
        assert_ulp(got, ref_softmax(x64, where=w), 8)
    # NumPy input with a torch mask / weights: NumPy out
    got = lse(x64, axis=1, b=torch.from_numpy(b64))
    assert isinstance(got, np.ndarray)
    assert_ulp(got, expected, 8)


def test_torch_float16_weights():
    x = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float16)
    got = lse(x, b=torch.tensor([1.0, 0.0, 2.0], dtype=torch.float16))
    assert got.dtype == torch.float16
    assert_ulp(got, ref_logsumexp([0.0, 1.0, 2.0], b=[1.0, 0.0, 2.0]), 1, dtype="float16")


def test_torch_meta_device_rejected():
    with pytest.raises(ValueError, match="x"):
        softmax(torch.empty(3, device="meta"))
    with pytest.raises(ValueError, match="a"):
        lse(torch.empty(3, device="meta"))


# --------------------------------------------------------------------------------------------
# Python scalars and lists
# --------------------------------------------------------------------------------------------
def test_python_scalars_and_lists():
    r = lse([1, 2, 3])  # integers become float64
    assert isinstance(r, np.float64)
    assert_ulp(r, ref_logsumexp([1.0, 2.0, 3.0]), 2)
    y = softmax([1, 2, 3])
    assert type(y) is np.ndarray and y.dtype == np.float64
    assert_ulp(y, ref_softmax([1.0, 2.0, 3.0]), 4)
    y = log_softmax([[1, 2.5], [3, 4]], axis=0)
    assert y.dtype == np.float64 and y.shape == (2, 2)
    assert_ulp(y, ref_softmax([[1.0, 2.5], [3.0, 4.0]], axis=0, log=True), 4)
    assert lse(2.5) == 2.5 and isinstance(lse(2.5), np.float64)
    assert lse(7) == 7.0
    assert softmax(3) == 1.0 and log_softmax(-3.5) == 0.0
    assert np.shape(lse([[1.0, 2.0]], axis=1, keepdims=True)) == (1, 1)


def test_python_empty_list():
    r = lse([])
    assert r == -np.inf and isinstance(r, np.float64)
    y = softmax([])
    assert type(y) is np.ndarray and y.shape == (0,)


# --------------------------------------------------------------------------------------------
# array-api-strict and DLPack objects
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_array_api_strict_in_out(dtype, rng):
    x64 = rng.standard_normal((3, 5))
    x = xp.asarray(x64, dtype=getattr(xp, dtype))
    xin = x64.astype(dtype).astype(np.float64)
    y = softmax(x, axis=1)
    assert type(y) is type(x) and y.dtype == x.dtype and y.shape == x.shape
    assert_ulp(np.asarray(y), ref_softmax(xin, axis=1), 8, dtype=dtype)
    y = log_softmax(x[:, ::2], axis=0)
    assert type(y) is type(x) and y.shape == (3, 3)
    assert_ulp(np.asarray(y), ref_softmax(xin[:, ::2], axis=0, log=True), 8, dtype=dtype)
    r = lse(x, axis=1)
    assert type(r) is type(x) and r.shape == (3,) and r.dtype == x.dtype
    assert_ulp(np.asarray(r), ref_logsumexp(xin, axis=1), 8, dtype=dtype)
    res, sgn = lse(x, axis=0, keepdims=True, return_sign=True)
    assert type(res) is type(x) and type(sgn) is type(x) and res.shape == (1, 5)
    b = xp.asarray(rng.uniform(0.5, 1.5, 5), dtype=getattr(xp, dtype))
    r = lse(x, axis=1, b=b)
    assert_ulp(np.asarray(r), ref_logsumexp(xin, axis=1, b=np.asarray(b).astype(np.float64)), 8, dtype=dtype)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_array_api_strict_non_float_rejected(func):
    for bad in (xp.asarray([1, 2, 3]), xp.asarray([True, False])):
        with pytest.raises(TypeError, match=ARG_NAME[func]):
            func(bad)


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_array_api_strict_where_mask(func):
    x = xp.asarray([1.0, 2.0, 3.0])
    where = xp.asarray([True, False, True])
    got = func(x, where=where)
    w = np.array([True, False, True])
    expected = (ref_logsumexp([1.0, 2.0, 3.0], where=w) if func is lse
                else ref_softmax([1.0, 2.0, 3.0], where=w, log=func is log_softmax))
    assert type(got) is type(x)
    assert_ulp(np.asarray(got), expected, 4)


class DLPackOnly:
    """A minimal producer: only __dlpack__ / __dlpack_device__ (no __array__, no namespace)."""

    def __init__(self, arr, device=(1, 0)):
        self._arr = arr
        self._device = device

    def __dlpack__(self, **kwargs):
        return self._arr.__dlpack__(**kwargs)

    def __dlpack_device__(self):
        return self._device


@pytest.mark.parametrize("source", ["numpy", "torch", "torch_strided"])
def test_dlpack_producer(source, rng):
    x64 = rng.standard_normal((4, 6))
    if source == "numpy":
        inner, expected_in = x64.astype(np.float32), x64.astype(np.float32).astype(np.float64)
    elif source == "torch":
        inner = torch.from_numpy(x64).float()
        expected_in = inner.double().numpy()
    else:
        inner = torch.from_numpy(x64).float()[:, ::2]
        expected_in = inner.double().numpy()
    obj = DLPackOnly(inner)
    y = softmax(obj, axis=1)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32 and y.shape == expected_in.shape
    assert_ulp(y, ref_softmax(expected_in, axis=1), 8, dtype="float32")
    r = lse(obj, axis=0)
    assert_ulp(r, ref_logsumexp(expected_in, axis=0), 8, dtype="float32")


def test_dlpack_non_cpu_device_rejected():
    obj = DLPackOnly(np.ones(3), device=(2, 0))  # kDLCUDA
    with pytest.raises(ValueError, match="x"):
        softmax(obj)
    with pytest.raises(ValueError, match="a"):
        lse(obj)


def test_dlpack_integer_rejected():
    with pytest.raises(TypeError, match="x"):
        softmax(DLPackOnly(np.arange(4)))


# --------------------------------------------------------------------------------------------
# inputs untouched, outputs fresh
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("func", ALL_FUNCS)
def test_inputs_not_modified(kind, func, rng):
    x = rng.standard_normal((6, 8))
    x[1, 2] = np.nan
    x[2, :] = -np.inf
    b = rng.uniform(-1, 2, 8)
    where = rng.random((6, 8)) < 0.5
    if kind == "torch":
        xs, bs, ws = torch.from_numpy(x.copy()), torch.from_numpy(b.copy()), torch.from_numpy(where.copy())
    else:
        xs, bs, ws = x.copy(), b.copy(), where.copy()
    if func is lse:
        func(xs, axis=1, b=bs, return_sign=True)
        func(xs, axis=0, where=ws)
        func(xs)
    else:
        func(xs, axis=0)
        func(xs, where=ws, safe=True)
        func(xs.T if kind == "numpy" else xs.t(), axis=1, algorithm="three_pass")
    np.testing.assert_array_equal(to_f64(xs), x)
    np.testing.assert_array_equal(to_f64(bs), b)
    np.testing.assert_array_equal(np.asarray(ws), where)


@pytest.mark.parametrize("func", [softmax, log_softmax])
@pytest.mark.parametrize("algorithm", ["three_pass", "online", "two_pass", "auto"])
def test_output_does_not_alias_input(func, algorithm, rng):
    x = rng.standard_normal((5, 7))
    x_copy = x.copy()
    y = func(x, algorithm=algorithm)
    assert not np.shares_memory(y, x)
    y[...] = 123.0
    np.testing.assert_array_equal(x, x_copy)
    t = torch.from_numpy(x.astype(np.float32))
    yt = func(t, algorithm=algorithm)
    assert yt.data_ptr() != t.data_ptr()
    yt.fill_(5.0)
    np.testing.assert_array_equal(t.numpy(), x.astype(np.float32))


def test_logsumexp_result_does_not_alias_input():
    x = np.zeros((3, 1))
    r = lse(x, axis=(), keepdims=True)  # nothing reduced: same shape as the input
    assert not np.shares_memory(r, x)
    r[...] = 7.0
    assert np.all(x == 0)
    t = torch.zeros(4)
    rt = lse(t, axis=())
    assert rt.data_ptr() != t.data_ptr()


# --------------------------------------------------------------------------------------------
# errors
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize(
    "bad",
    [
        pytest.param(lambda: np.arange(4), id="numpy-int"),
        pytest.param(lambda: np.array([True, False]), id="numpy-bool"),
        pytest.param(lambda: np.ones(3, dtype=np.complex128), id="numpy-complex"),
        pytest.param(lambda: np.ones(3, dtype=np.longdouble), id="numpy-longdouble"),
        pytest.param(lambda: torch.arange(4), id="torch-int"),
        pytest.param(lambda: torch.ones(3, dtype=torch.bool), id="torch-bool"),
        pytest.param(lambda: torch.ones(3, dtype=torch.complex64), id="torch-complex"),
        pytest.param(lambda: True, id="python-bool"),
        pytest.param(lambda: [True, False], id="list-bool"),
        pytest.param(lambda: 1 + 2j, id="python-complex"),
        pytest.param(lambda: "abc", id="string"),
        pytest.param(lambda: [1.0, "a"], id="mixed-list"),
        pytest.param(lambda: [[1.0, 2.0], [3.0]], id="ragged-list"),
    ],
)
def test_unsupported_input_types(func, bad):
    with pytest.raises(TypeError, match=rf"\b{ARG_NAME[func]}\b"):
        func(bad())


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("axis", [2, -3, 5])
def test_axis_out_of_range(func, axis):
    with pytest.raises(AxisError, match="axis") as info:
        func(np.ones((2, 3)), axis=axis)
    assert isinstance(info.value, ValueError) and isinstance(info.value, IndexError)


def test_axis_out_of_range_in_tuple_and_zero_d():
    with pytest.raises(AxisError):
        lse(np.ones((2, 3)), axis=(0, 2))
    with pytest.raises(AxisError):
        lse(np.float64(1.0), axis=0)
    for func in (softmax, log_softmax):
        with pytest.raises(AxisError):
            func(np.float64(1.0), axis=1)
        with pytest.raises(AxisError):
            func(torch.tensor(1.0), axis=-2)


@pytest.mark.parametrize("axis", [(0, 0), (1, -1), [0, 1, 0]])
def test_repeated_axis(axis):
    with pytest.raises(ValueError, match="axis"):
        lse(np.ones((2, 3)), axis=axis)


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize("axis", [1.0, "0", True, np.float64(1.0)])
def test_non_integer_axis(func, axis):
    with pytest.raises(TypeError, match="axis"):
        func(np.ones((2, 3)), axis=axis)


def test_numpy_integer_axis_accepted():
    x = np.array([[0.0, 1.0], [2.0, 3.0]])
    assert_ulp(lse(x, axis=np.int64(1)), ref_logsumexp(x, axis=1), 2)
    assert_ulp(softmax(x, axis=np.int32(0)), ref_softmax(x, axis=0), 4)


def test_softmax_axis_none_rejected():
    with pytest.raises(TypeError, match="axis"):
        softmax(np.ones((2, 3)), axis=None)


@pytest.mark.parametrize("func", [softmax, log_softmax])
@pytest.mark.parametrize("algorithm", ["fast", "", "Online", None, 1])
def test_unknown_algorithm(func, algorithm):
    with pytest.raises(ValueError, match="algorithm"):
        func(np.ones(3), algorithm=algorithm)


@pytest.mark.parametrize("bshape", [(2,), (3, 2, 3), (4,), (2, 2)])
def test_weights_not_broadcastable(bshape):
    with pytest.raises(ValueError, match=r"\bb\b"):
        lse(np.ones((2, 3)), b=np.ones(bshape))
    with pytest.raises(ValueError, match=r"\bb\b"):
        lse(torch.ones(2, 3), b=torch.ones(bshape))


@pytest.mark.filterwarnings("ignore::numpy.exceptions.ComplexWarning")
def test_complex_weights_rejected():
    with pytest.raises(TypeError, match=r"\bb\b"):
        lse(np.ones(3), b=np.array([1 + 1j, 1, 1]))


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_where_not_broadcastable(func):
    with pytest.raises(ValueError, match="where"):
        func(np.ones((2, 3)), where=np.ones(2, dtype=bool))


@pytest.mark.parametrize("func", ALL_FUNCS)
@pytest.mark.parametrize(
    "where",
    [
        pytest.param(lambda: np.ones((2, 3)), id="numpy-float"),
        pytest.param(lambda: np.ones((2, 3), dtype=np.int64), id="numpy-int"),
        pytest.param(lambda: torch.ones(2, 3), id="torch-float"),
        pytest.param(lambda: "yes", id="string"),
        pytest.param(lambda: 1.5, id="python-float"),
    ],
)
def test_where_non_bool(func, where):
    x = torch.ones(2, 3) if "torch" in str(type(where())) else np.ones((2, 3))
    with pytest.raises(TypeError, match="where"):
        func(x, where=where())


@pytest.mark.parametrize("func", ALL_FUNCS)
def test_where_list_of_ints_rejected(func):
    with pytest.raises(TypeError, match="where"):
        func([1.0, 2.0, 3.0], where=[1, 0, 1])


def test_bool_flags_must_be_bool():
    with pytest.raises(TypeError, match="keepdims"):
        lse(np.ones(3), keepdims=1)
    with pytest.raises(TypeError, match="return_sign"):
        lse(np.ones(3), return_sign="yes")
    for func in (softmax, log_softmax):
        with pytest.raises(TypeError, match="safe"):
            func(np.ones(3), safe=1)
    # NumPy bools are bools
    r = lse(np.ones(3), keepdims=np.True_)
    assert r.shape == (1,)


def test_softmax_keyword_only_options():
    with pytest.raises(TypeError):
        softmax(np.ones(3), -1, "online")  # algorithm is keyword-only
