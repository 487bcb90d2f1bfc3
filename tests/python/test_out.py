"""softmax / log_softmax with a caller-provided out= array."""
import numpy as np
import pytest
import torch

import stablemath

FUNCS = {"softmax": stablemath.softmax, "log_softmax": stablemath.log_softmax}


@pytest.mark.parametrize("func", FUNCS)
@pytest.mark.parametrize("axis", [0, -1])
def test_out_numpy_matches_allocated_bitwise(func, axis, rng):
    x = (rng.standard_normal((33, 2500)) * 7).astype(np.float32)
    out = np.full_like(x, np.nan)
    r = FUNCS[func](x, axis=axis, out=out)
    assert r is out
    np.testing.assert_array_equal(out, FUNCS[func](x, axis=axis))


@pytest.mark.parametrize("func", FUNCS)
def test_out_torch_and_noncontiguous_out(func, rng):
    t = torch.from_numpy(rng.standard_normal((8, 300)))
    out = torch.empty(300, 8, dtype=torch.float64).T  # a transposed (non-contiguous) target
    r = FUNCS[func](t, out=out)
    assert r is out
    torch.testing.assert_close(out, FUNCS[func](t), rtol=0, atol=0)


@pytest.mark.parametrize("func", FUNCS)
def test_out_in_place(func, rng):
    x = rng.standard_normal((5, 4000)) * 30
    expected = FUNCS[func](x)
    FUNCS[func](x, out=x)
    np.testing.assert_array_equal(x, expected)


@pytest.mark.parametrize("func", FUNCS)
def test_out_errors(func):
    x = np.ones((3, 4), np.float32)
    with pytest.raises(ValueError, match="out: overlaps"):
        FUNCS[func](x, out=x[::-1])
    with pytest.raises(ValueError, match="out: shape"):
        FUNCS[func](x, out=np.empty((4, 3), np.float32))
    with pytest.raises(TypeError, match="out: dtype"):
        FUNCS[func](x, out=np.empty((3, 4), np.float64))
    with pytest.raises(TypeError, match="out: expected a numpy.ndarray"):
        FUNCS[func](x, out=torch.empty(3, 4))
    with pytest.raises(TypeError, match="out: expected a torch.Tensor"):
        FUNCS[func](torch.ones(3, 4), out=np.empty((3, 4), np.float32))
    ro = np.empty((3, 4), np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="out: array is read-only"):
        FUNCS[func](x, out=ro)
    with pytest.raises(ValueError, match="requires grad"):
        FUNCS[func](torch.ones(3, 4), out=torch.empty(3, 4, requires_grad=True))


# --- out= that shares memory between its own elements, empty and 0-d out= ---------------------
def test_out_with_self_overlapping_elements_is_refused():
    x = torch.tensor([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]])
    with pytest.raises(ValueError, match="^out: elements share memory"):
        stablemath.softmax(x, out=torch.zeros(3).expand(2, 3))
    a = np.zeros(3)
    shared = np.lib.stride_tricks.as_strided(a, shape=(2, 3), strides=(0, 8), writeable=True)
    with pytest.raises(ValueError, match="^out: elements share memory"):
        stablemath.sparsemax(np.ones((2, 3)), out=shared)


def test_empty_out_with_zero_strides_is_accepted():
    # NumPy gives empty arrays zero strides on some axes: no two elements share memory there
    # (a regression the fuzzer found in the first version of the overlap check).
    x = np.zeros((3, 0, 0, 0), np.float32)
    o = np.empty_like(x)
    assert stablemath.log_softmax(x, out=o) is o


def test_zero_d_out_is_returned_itself():
    o = np.empty(())
    assert stablemath.softmax(np.array(0.5), out=o) is o
    assert o == 1.0
