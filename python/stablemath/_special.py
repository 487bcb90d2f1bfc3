"""Element-wise special functions with NumPy broadcasting: log modified Bessel functions."""
from __future__ import annotations

import numpy as np

from . import _core
from ._arrays import Converted, _torch, convert

__all__ = [
    "log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio", "bessel_k_ratio",
]

# Codes shared with python/src/bind_special.cpp (bessel_binding).
_OPS = {"log_i": 0, "log_k": 1, "log_ie": 2, "log_ke": 3, "ratio_i": 4, "ratio_k": 5, "vmf_log_c": 6, "vmf_a": 7,
        "vmf_log_c_scaled": 8, "vmf_kappa_mle": 9}


def _no_negative_strides(a):
    """torch.as_tensor refuses negative strides: copy only such arrays (keeps 0-d arrays 0-d)."""
    a = np.asarray(a)
    return a.copy() if any(st < 0 for st in a.strides) else a


def _result_dtype(convs: list[Converted]):
    """float64 if any array is float64 or every argument is a Python number; float32 otherwise
    (float16 and bfloat16 are computed and returned in float32: log I_v(x) leaves their range)."""
    torch = _torch()
    any64 = any(str(c.dtype) in ("float64", "torch.float64") for c in convs if not c.from_python)
    all_python = all(c.from_python for c in convs)
    wide = any64 or all_python
    if any(c.kind == "torch" for c in convs):
        return "torch", (torch.float64 if wide else torch.float32)
    return "numpy", (np.float64 if wide else np.float32)


def _elementwise(op: str, names: tuple[str, ...], args: tuple):
    convs = [convert(a, n, allow_int=True) for a, n in zip(args, names)]
    lib, dtype = _result_dtype(convs)
    try:
        shape = np.broadcast_shapes(*(c.shape for c in convs))
    except ValueError:
        shapes = ", ".join(f"{n} {c.shape}" for n, c in zip(names, convs))
        raise ValueError(f"{' and '.join(names)}: shapes do not broadcast ({shapes})") from None
    if lib == "torch":
        torch = _torch()
        arrays = [c.native.to(dtype) if c.kind == "torch" else torch.as_tensor(_no_negative_strides(c.native), dtype=dtype)
                  for c in convs]
        out = torch.empty(shape, dtype=dtype)
        core = [a.numpy() for a in arrays]
        _core.bessel(_OPS[op], core[0], core[1], out.numpy())
        return out
    arrays = [np.asarray(c.native).astype(dtype, copy=False) for c in convs]
    out = np.empty(shape, dtype=dtype)
    _core.bessel(_OPS[op], arrays[0], arrays[1], out)
    # The result takes the array type of the first argument that is an array (a NumPy scalar for
    # 0-d NumPy/Python input, as NumPy's ufuncs do).
    lead = next((c for c in convs if not c.from_python), convs[0])
    return lead.wrap(out)


def log_bessel_i(v, x):
    """log I_v(x), the log of the modified Bessel function of the first kind, computed in log space.

    Never overflows or underflows for finite input (v up to 1e6 and beyond, x in [1e-300, 1e300]).
    ``v`` and ``x`` broadcast like NumPy ufuncs; result float64 unless every array is float32 or
    narrower. x = 0 gives 0 for v = 0 and -inf for v > 0; x < 0 gives NaN; negative integer v uses
    I_{-n} = I_n and negative non-integer v gives NaN; NaN propagates.
    """
    return _elementwise("log_i", ("v", "x"), (v, x))


def log_bessel_k(v, x):
    """log K_v(x), the log of the modified Bessel function of the second kind (K_{-v} = K_v).

    x = 0 gives +inf; x < 0 gives NaN; otherwise as :func:`log_bessel_i`.
    """
    return _elementwise("log_k", ("v", "x"), (v, x))


def log_bessel_ie(v, x):
    """log(I_v(x) e^{-x}) = log I_v(x) - x, without the cancellation of computing both."""
    return _elementwise("log_ie", ("v", "x"), (v, x))


def log_bessel_ke(v, x):
    """log(K_v(x) e^{x}) = log K_v(x) + x, without the cancellation of computing both."""
    return _elementwise("log_ke", ("v", "x"), (v, x))


def bessel_i_ratio(v, x):
    """I_{v+1}(x) / I_v(x) from a ratio algorithm (not a difference of logs); in [0, 1).

    d/dx log I_v(x) = bessel_i_ratio(v, x) + v / x; the mean resultant length of a von Mises-Fisher
    distribution in dimension d is bessel_i_ratio(d/2 - 1, kappa).
    """
    return _elementwise("ratio_i", ("v", "x"), (v, x))


def bessel_k_ratio(v, x):
    """K_{v+1}(x) / K_v(x) (> 1 for x > 0); d/dx log K_v(x) = v / x - bessel_k_ratio(v, x)."""
    return _elementwise("ratio_k", ("v", "x"), (v, x))
