"""Array conversion, done once for every function: what the caller passed -> what the compiled
core takes (a NumPy array or a torch tensor, both read zero-copy through DLPack / the buffer
protocol) -> the caller's own array type for the result.
"""
from __future__ import annotations

import sys
from typing import Any

import numpy as np

_FLOAT_NUMPY = {np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64)}
_DLPACK_CPU = 1


def _torch():
    return sys.modules.get("torch")


def dense_tensor(t, name: str):
    """A torch tensor as plain strided memory that Tensor.numpy() and DLPack read correctly.

    Sparse, mkldnn and nested tensors have no such memory: TypeError naming the argument. A tensor
    with torch's negative (or conjugate) bit set, e.g. ``torch.complex(a, b).conj().imag``, keeps
    the sign as a flag beside unchanged memory: Tensor.numpy() refuses it and np.from_dlpack reads
    the memory with the wrong sign, so it is materialised here (one copy)."""
    torch = _torch()
    if t.is_nested or t.layout != torch.strided:
        kind = "nested" if t.is_nested else str(t.layout).replace("torch.", "").lstrip("_")
        raise TypeError(f"{name}: {kind} tensors are not supported; pass a dense (strided) tensor, "
                        "e.g. t.to_dense()")
    if t.is_neg() or t.is_conj():
        t = t.resolve_neg().resolve_conj()
    return t


class Converted:
    """One input argument, converted for the core.

    ``native`` is a numpy.ndarray or torch.Tensor on the CPU; ``empty`` allocates a result of the
    same library; ``wrap`` turns a result into the caller's type.
    """

    __slots__ = ("native", "kind", "namespace", "from_python")

    def __init__(self, native, kind, namespace=None, from_python=False):
        self.native = native
        self.kind = kind  # "numpy", "numpy-scalar", "torch" or "dlpack"
        self.namespace = namespace
        self.from_python = from_python  # a Python number or list, without a dtype of its own

    @property
    def shape(self):
        return tuple(self.native.shape)

    @property
    def ndim(self):
        return self.native.ndim

    @property
    def dtype(self):
        return self.native.dtype

    def empty(self, shape, dtype=None):
        if self.kind == "torch":
            return _torch().empty(shape, dtype=dtype or self.native.dtype)
        return np.empty(shape, dtype=dtype or self.native.dtype)

    def aux(self, value, name: str, kind: str) -> Any:
        """Converts a secondary argument to this input's library.

        kind "weights": a real array of any numeric dtype, cast to the accumulation dtype
        (float64 for float64 input, else float32); kind "mask": a boolean array.
        """
        torch = _torch()
        if torch is not None and isinstance(value, torch.Tensor):
            value = dense_tensor(value, name)
            _check_torch_device(value, name)
            value = value.detach()
            _aux_dtype_check(str(value.dtype).replace("torch.", ""), value.dtype.is_complex, name, kind)
            if self.kind == "torch":
                return value.to(self._aux_dtype(kind))
            value = value.numpy() if value.dtype != torch.bfloat16 else value.float().numpy()
        arr = aux_to_numpy(value, name)
        _aux_dtype_check(arr.dtype.name, arr.dtype.kind == "c", name, kind)
        if self.kind == "torch":
            if any(st < 0 for st in arr.strides):  # torch has no negative strides: one copy
                arr = np.ascontiguousarray(arr)
            return torch.as_tensor(arr).to(self._aux_dtype(kind))
        return arr.astype(self._aux_dtype(kind), copy=False)

    def _aux_dtype(self, kind):
        if self.kind == "torch":
            torch = _torch()
            if kind == "mask":
                return torch.bool
            return torch.float64 if self.native.dtype == torch.float64 else torch.float32
        if kind == "mask":
            return np.bool_
        return np.float64 if self.native.dtype == np.float64 else np.float32

    def core(self, arr):
        """What the compiled core receives for `arr` (this input's library): torch tensors other
        than bfloat16 go through their zero-copy NumPy view, which nanobind imports several times
        faster than a DLPack capsule; everything else as it is."""
        if arr is not None and self.kind == "torch" and arr.dtype != _torch().bfloat16:
            return arr.numpy()
        return arr

    def output(self, out, shape, name: str = "out"):
        """Checks a caller-provided output (same library, shape and dtype as the result, writable,
        on the CPU, and either the input itself or not overlapping it) or allocates one. Returns
        the array the core writes: `out` itself, or for a torch `out` with the negative bit set
        (Tensor.numpy() cannot expose it) a resolved copy that result() copies back."""
        if out is None:
            return self.empty(shape)
        torch = _torch()
        target = out
        if self.kind == "torch":
            if not isinstance(out, torch.Tensor):
                raise TypeError(f"{name}: expected a torch.Tensor like the input, got {type(out).__name__}")
            target = dense_tensor(out, name)
            _check_torch_device(out, name)
            if out.requires_grad:
                raise ValueError(f"{name}: a tensor that requires grad cannot be written in place")
            base_overlap = _torch_overlap(out, self.native)
        elif self.kind in ("numpy", "numpy-scalar"):
            if not isinstance(out, np.ndarray):
                raise TypeError(f"{name}: expected a numpy.ndarray like the input, got {type(out).__name__}")
            if not out.flags.writeable:
                raise ValueError(f"{name}: array is read-only")
            base_overlap = np.may_share_memory(out, self.native)
        else:
            raise TypeError(f"{name}: only NumPy arrays and torch tensors can be given as out")
        if tuple(out.shape) != tuple(shape):
            raise ValueError(f"{name}: shape {tuple(out.shape)} does not match the result's shape {tuple(shape)}")
        if out.dtype != self.native.dtype:
            raise TypeError(f"{name}: dtype {out.dtype} does not match the input's dtype {self.native.dtype}")
        strides = out.stride() if self.kind == "torch" else out.strides
        size = out.numel() if self.kind == "torch" else out.size
        if size > 0 and any(st == 0 and n > 1 for st, n in zip(strides, out.shape)):
            raise ValueError(f"{name}: elements share memory (a broadcast or expanded view); "
                             "the results would overwrite each other")
        if base_overlap and not _same_view(out, self.native):
            raise ValueError(f"{name}: overlaps the input; pass the input itself for an in-place result, "
                             "or a separate array")
        return target

    def result(self, res, given):
        """What a function with out= returns: `given` itself (filled from `res` when output() gave
        the core a stand-in), or, without out=, `res` in the caller's type."""
        if given is None:
            return self.wrap(res)
        if res is not given:
            given.copy_(res)  # torch writes the values through the negative bit
        return given

    def wrap(self, out):
        if self.kind == "numpy-scalar" and out.ndim == 0:
            return out[()]
        if self.kind == "numpy" and out.ndim == 0:
            return out[()]  # NumPy and SciPy return a scalar for a full reduction
        if self.kind == "dlpack":
            xp = self.namespace
            if xp is not None and hasattr(xp, "from_dlpack"):
                return xp.from_dlpack(out)
        return out


def _torch_overlap(a, b) -> bool:
    if a.numel() == 0 or b.numel() == 0:
        return False
    sa, sb = a.untyped_storage(), b.untyped_storage()
    lo_a, lo_b = sa.data_ptr(), sb.data_ptr()
    return lo_a < lo_b + sb.nbytes() and lo_b < lo_a + sa.nbytes()


def _same_view(a, b) -> bool:
    """True when a and b are the same elements in the same layout (a safe in-place target)."""
    if isinstance(a, np.ndarray):
        return (a.__array_interface__["data"][0] == b.__array_interface__["data"][0]
                and a.strides == b.strides and a.shape == b.shape)
    return a.data_ptr() == b.data_ptr() and a.stride() == b.stride() and a.shape == b.shape


def _aux_dtype_check(dtype_name: str, is_complex: bool, name: str, kind: str) -> bool:
    if kind == "mask":
        if dtype_name != "bool":
            raise TypeError(f"{name}: expected a boolean mask, got dtype {dtype_name}")
    elif is_complex:
        raise TypeError(f"{name}: complex weights are not supported")
    elif dtype_name == "bool" or dtype_name.startswith(("str", "object", "bytes", "<U", "void", "datetime", "timedelta")):
        raise TypeError(f"{name}: expected real numbers, got dtype {dtype_name}")
    return True


def aux_to_numpy(value, name):
    """A secondary argument (weights, mask) from any array library or Python object -> NumPy."""
    if isinstance(value, np.ndarray):
        return value if value.dtype.isnative else value.astype(value.dtype.newbyteorder("="))
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        value = dense_tensor(value, name)  # (np.from_dlpack would read a negative-bit tensor's sign wrong)
    if hasattr(value, "__dlpack__") and hasattr(value, "__dlpack_device__"):
        if int(value.__dlpack_device__()[0]) != _DLPACK_CPU:
            raise ValueError(f"{name}: array is not on the CPU")
        try:
            return np.from_dlpack(value)
        except (BufferError, TypeError, RuntimeError) as e:
            raise TypeError(f"{name}: could not import the array through DLPack ({e})") from None
    return _to_numpy(value, name)


def _check_torch_device(t, name):
    if t.device.type != "cpu":
        raise ValueError(
            f"{name}: tensor is on device {t.device}, but this build of stablemath has no CUDA "
            "backend; move it to the CPU with .cpu()"
        )


def _check_float(dtype, name, kind):
    if dtype in _FLOAT_NUMPY:
        return
    if np.issubdtype(dtype, np.complexfloating):
        raise TypeError(f"{name}: complex dtype {dtype} is not supported")
    raise TypeError(
        f"{name}: dtype {dtype} is not supported; pass a floating array "
        "(float16, bfloat16 (torch), float32 or float64)"
    )


def _to_numpy(value, name, allow_int=False):
    """Python scalars, lists and array-likes without DLPack -> NumPy (integers become float64)."""
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as e:
        raise TypeError(f"{name}: cannot be converted to an array ({e})") from None
    if arr.dtype == object or arr.dtype.kind in "USV":
        raise TypeError(f"{name}: expected numbers, got an array of dtype {arr.dtype}")
    if allow_int and arr.dtype.kind in "iu":
        arr = arr.astype(np.float64)
    return arr


def convert(x, name: str = "x", allow_int: bool = False) -> Converted:
    """allow_int: integer (not bool) arrays and tensors are taken as float64, as SciPy's special
    functions do; the reductions and softmax family reject them instead."""
    torch = _torch()
    if allow_int:
        if torch is not None and isinstance(x, torch.Tensor) and not x.dtype.is_floating_point \
                and not x.dtype.is_complex and x.dtype != torch.bool:
            x = x.to(torch.float64)
        elif isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "iu":
            x = np.asarray(x, dtype=np.float64)
    if torch is not None and isinstance(x, torch.Tensor):
        x = dense_tensor(x, name)
        _check_torch_device(x, name)
        if x.dtype not in (torch.float16, torch.bfloat16, torch.float32, torch.float64):
            kind = "complex" if x.dtype.is_complex else "integer/bool" if not x.dtype.is_floating_point else str(x.dtype)
            raise TypeError(
                f"{name}: {kind} dtype {x.dtype} is not supported; pass a floating tensor "
                "(float16, bfloat16, float32 or float64)"
            )
        return Converted(x.detach(), "torch")
    if isinstance(x, np.ndarray):
        if not x.dtype.isnative:  # byte-swapped data: one native copy, the result is native
            x = x.astype(x.dtype.newbyteorder("="))
        _check_float(x.dtype, name, "numpy")
        return Converted(x, "numpy")
    if isinstance(x, np.generic):
        _check_float(x.dtype, name, "numpy")
        return Converted(np.asarray(x), "numpy-scalar")
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        dev = x.__dlpack_device__()
        if int(dev[0]) != _DLPACK_CPU:
            raise ValueError(
                f"{name}: array is on DLPack device {tuple(dev)}, but this build of stablemath has no "
                "CUDA backend; copy it to the CPU first"
            )
        try:
            arr = np.from_dlpack(x)
        except (BufferError, TypeError, RuntimeError) as e:
            raise TypeError(f"{name}: could not import the array through DLPack ({e})") from None
        if allow_int and arr.dtype.kind in "iu":  # as for NumPy arrays and torch tensors above
            arr = arr.astype(np.float64)
        _check_float(arr.dtype, name, "dlpack")
        ns = x.__array_namespace__() if hasattr(x, "__array_namespace__") else None
        return Converted(arr, "dlpack", ns)
    if isinstance(x, (bool, np.bool_)):
        raise TypeError(f"{name}: bool is not supported; pass a floating value")
    arr = _to_numpy(x, name, allow_int=True)
    if arr.dtype.kind == "b":
        raise TypeError(f"{name}: bool is not supported; pass a floating value")
    _check_float(arr.dtype, name, "python")
    return Converted(arr, "numpy-scalar" if arr.ndim == 0 else "numpy", from_python=True)
