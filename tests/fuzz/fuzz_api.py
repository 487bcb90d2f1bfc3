#!/usr/bin/env python
"""Coverage-guided fuzz target (atheris / libFuzzer) over stablemath's Python entry points.

Each input's bytes are decoded into: the array library (NumPy, torch, Python lists), dtype
(float16/bfloat16/float32/float64, sometimes an unsupported one), shape (0-d to 4-d, empty axes,
sometimes one row longer than two 65536-element parts), values (random floats mixed with NaN,
+-inf, -0.0, subnormals, the dtype's max/min, +-1e30, ...), a view (transposed, negative strides,
steps, zero-stride broadcast, misaligned, byte-swapped, Fortran, torch expand/as_strided), the
function, axis (None, int, tuple, out of range, repeated, wrong type) and the keyword arguments
(b, where, keepdims, return_sign, safe, algorithm, out=fresh / in place).

Invariants (any violation raises, which atheris reports as a finding with the input saved):
* an input the documentation rejects raises TypeError / ValueError / AxisError naming one of the
  arguments at fault; any other exception type, or an exception for a valid input, is a finding;
* a valid input returns the documented value: the float64 reference of tests/python/
  hostile_corpus.py within the function's error bound, same non-finite pattern, the caller's array
  type, dtype and shape, no output aliasing an input; softmax rows with only finite entries sum to
  1 within n * eps;
* the inputs are bit-for-bit unchanged (except out=x).

Inputs that hit a library bug already recorded in tests/python/test_hostile.py (KNOWN_BUGS) are
skipped and counted, so a run keeps exploring instead of stopping at the same bug.

    python tests/fuzz/fuzz_api.py -max_total_time=60            # bounded run
    python tests/fuzz/fuzz_api.py -max_total_time=60 corpus_dir/  # keep the corpus between runs
    python tests/fuzz/fuzz_api.py crash-<hash>                   # replay a finding
Coverage guidance covers the Python layer (stablemath._api, stablemath._arrays); the compiled
core is not instrumented (a crash there still aborts the run and is reported).
"""
from __future__ import annotations

import atexit
import collections
import math
import pathlib
import sys
import time

import numpy as np

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

import atheris

with atheris.instrument_imports(include=["stablemath"]):
    import stablemath as sm  # noqa: F401  (instruments stablemath._api, stablemath._arrays: before anything imports it)

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "python"))
import hostile_corpus as hc  # noqa: E402

STATS = collections.Counter()

VALID_NUMPY = ("float16", "float32", "float64")
VALID_TORCH = ("float16", "bfloat16", "float32", "float64")
INVALID_NUMPY = ("int64", "bool", "complex128", "object", "uint8", "longdouble")
INVALID_TORCH = ("int32", "bool", "complex64", "uint8")


def _specials(name):
    f = hc.FINFO[name]
    return [0.0, -0.0, 1.0, -1.0, math.nan, math.inf, -math.inf, f.max, -f.max, f.tiny, f.sub, -f.sub,
            1e30, -1e30, 88.7, -87.3, 709.0, -745.0, 8192.5, 3e5, 0.5, -40.0]


class Decoder:
    def __init__(self, data: bytes):
        self.fdp = atheris.FuzzedDataProvider(data)

    def int(self, lo, hi):
        return self.fdp.ConsumeIntInRange(lo, hi)

    def pick(self, seq):
        return seq[self.int(0, len(seq) - 1)]

    def bool(self, p_true=0.5):
        """True with probability p_true for random bytes; False once the input is used up."""
        return self.int(0, 255) >= 256 - int(256 * p_true)

    def values(self, n, name):
        """n float64 values: per element when small, else a seeded pattern with specials spliced in."""
        specials = _specials(name)
        if n <= 48:
            out = np.empty(n)
            for i in range(n):
                k = self.int(0, 3)
                if k == 0:
                    out[i] = self.pick(specials)
                elif k == 1:
                    out[i] = self.fdp.ConsumeFloatInRange(-60.0, 60.0)
                elif k == 2:
                    out[i] = self.fdp.ConsumeRegularFloat()
                else:
                    out[i] = float(self.int(-4, 4))
            return out
        rng = np.random.default_rng(self.int(0, 2**31))
        out = rng.standard_normal(n) * self.pick([1.0, 10.0, 100.0, 1e4])
        for _ in range(self.int(0, 6)):
            out[self.int(0, n - 1)] = self.pick(specials)
        return out


def _shape(d: Decoder, small=False):
    if small:  # element-wise functions: an mpmath reference per element, so a few dozen at most
        return tuple(d.pick([0, 1, 1, 2, 3, 4]) for _ in range(d.int(0, 3)))
    if d.int(0, 63) == 37:  # one long row (split into parts across the pool); not on 0x00/0xff bytes,
        # which libFuzzer's mutations favour: long rows cost ~10 ms an execution
        return (d.int(1, 2), 2 * 65536 + d.int(0, 300)) if d.bool() else (2 * 65536 + d.int(0, 300),)
    nd = d.int(0, 4)
    return tuple(d.pick([0, 1, 1, 2, 3, 4, 5, 7]) for _ in range(nd))


def _make_x(d: Decoder, small=False):
    """(x, lib, dtype name or None if unsupported, view name, writable-in-place)."""
    lib = d.pick(["numpy", "numpy", "torch", "torch", "python"] if torch is not None else ["numpy", "python"])
    invalid = d.bool(0.06)
    if lib == "torch":
        name = d.pick(INVALID_TORCH if invalid else VALID_TORCH)
    elif lib == "numpy":
        name = d.pick(INVALID_NUMPY if invalid else VALID_NUMPY)
    else:
        name = "float64"
    shape = _shape(d, small)
    n = int(np.prod(shape)) if shape else 1
    vname = "float64" if invalid or name not in hc.FINFO else name
    vals = d.values(n, vname).reshape(shape)
    view = "contiguous"
    if lib == "python":
        if d.bool(0.2):
            vals = np.round(vals)
            x = vals.astype(np.int64).tolist() if np.all(np.isfinite(vals)) and np.all(np.abs(vals) < 2**53) \
                else vals.tolist()
        else:
            x = vals.tolist() if shape else float(vals)
        return x, lib, "float64", view, False
    if lib == "numpy":
        with np.errstate(all="ignore"):
            if name == "object":
                x = vals.astype(object)
            elif name in ("int64", "uint8", "bool"):
                x = np.nan_to_num(vals).astype(name)
            else:
                x = vals.astype(name)
        view = d.pick(["contiguous", "transposed", "neg-stride", "step", "broadcast", "misaligned", "byteswapped",
                       "fortran", "read-only"])
        x = _numpy_view(d, x, view)
        writable = isinstance(x, np.ndarray) and x.flags.writeable and view not in ("broadcast",)
    else:
        t = torch.from_numpy(vals.copy())
        with np.errstate(all="ignore"):
            if name in ("int32", "uint8", "bool"):
                t = torch.from_numpy(np.asarray(np.nan_to_num(vals))).to(getattr(torch, name))
            else:
                t = t.to(getattr(torch, name))
        view = d.pick(["contiguous", "transposed", "step", "expand", "as_strided", "requires_grad", "meta"])
        x = _torch_view(d, t, view)
        writable = view in ("contiguous", "transposed", "step")
    return x, lib, (name if not invalid else None), view, writable


def _numpy_view(d, x, view):
    if view == "transposed":
        return x.T
    if view == "neg-stride" and x.ndim:
        ax = d.int(0, x.ndim - 1)
        return np.flip(x, axis=ax)
    if view == "step" and x.ndim:
        ax = d.int(0, x.ndim - 1)
        sl = [slice(None)] * x.ndim
        sl[ax] = slice(None, None, 2)
        return x[tuple(sl)]
    if view == "broadcast" and x.ndim:
        ax = d.int(0, x.ndim - 1)
        sl = [slice(None)] * x.ndim
        sl[ax] = slice(0, 1)
        return np.broadcast_to(x[tuple(sl)], x.shape)
    if view == "misaligned" and x.dtype.kind == "f":
        return hc._misaligned(x)
    if view == "byteswapped" and x.dtype.kind == "f":
        return x.astype(x.dtype.newbyteorder("S"))
    if view == "fortran":
        return np.asfortranarray(x)
    if view == "read-only" and isinstance(x, np.ndarray):
        x = x.copy()
        x.flags.writeable = False
    return x


def _torch_view(d, t, view):
    if view == "transposed":
        return t.permute(tuple(reversed(range(t.dim()))))
    if view == "step" and t.dim():
        ax = d.int(0, t.dim() - 1)
        sl = [slice(None)] * t.dim()
        sl[ax] = slice(None, None, 2)
        return t[tuple(sl)]
    if view == "expand" and t.dim():
        ax = d.int(0, t.dim() - 1)
        return t.narrow(ax, 0, min(1, t.shape[ax])).expand(*t.shape) if t.shape[ax] else t
    if view == "as_strided" and t.numel() > 2:
        flat = t.reshape(-1)
        m = flat.numel()
        return torch.as_strided(flat, (m - 1, 2), (1, 1))  # overlapping windows
    if view == "requires_grad" and t.is_floating_point():
        return t.clone().requires_grad_(True)
    if view == "meta":
        return t.to("meta")
    return t


class Optional:
    """An error the library may raise or not (undocumented either way)."""

    def __init__(self, err):
        self.err = err


def _axis(d, nd, family):
    """(axis kwargs or {}, list of the documented errors the choice causes)."""
    k = d.int(0, 9)
    if k <= 1:
        return {}, []
    if k <= 5:
        a = d.int(-nd - 1, nd)
        bad = not (-nd <= a < nd) if nd else (a not in (0, -1) if family == "normalize" else True)
        return {"axis": a}, [hc.Raises((hc.AxisError,), "axis")] if bad else []
    if k == 6:
        # softmax takes one integer axis; for a 0-d input it also accepts None (undocumented): either is fine
        if family == "reduce":
            return {"axis": None}, []
        err = hc.Raises((TypeError,), "axis")
        return {"axis": None}, [err] if nd else [Optional(err)]
    if k == 7:
        axes = tuple(d.int(-nd, max(nd - 1, 0)) for _ in range(d.int(0, min(nd, 3)))) if nd else ()
        if family == "normalize":
            return {"axis": axes}, [hc.Raises((TypeError,), "axis")]
        norm = [a % nd for a in axes] if nd else []
        return {"axis": axes}, [hc.Raises((ValueError,), "axis")] if len(set(norm)) != len(norm) else []
    if k == 8:
        return {"axis": d.pick([1.0, "0", True, 1.5])}, [hc.Raises((TypeError,), "axis")]
    a = d.int(-nd - 3, nd + 2)
    return {"axis": np.int64(a)}, ([] if (nd and -nd <= a < nd) or (not nd and family == "normalize" and a in (0, -1))
                                   else [hc.Raises((hc.AxisError,), "axis")])


def _aux_shape(d, shape):
    """A shape that broadcasts to `shape` (dropped leading axes, ones), or sometimes one that does not."""
    if d.bool(0.1):
        return tuple(s + 2 for s in shape) or (2,), False  # s + 2 is neither 1 nor s
    keep = d.int(0, len(shape))
    sub = list(shape[len(shape) - keep:])
    for i in range(len(sub)):
        if d.bool(0.3):
            sub[i] = 1
    return tuple(sub), True


def _is_int_array(a):
    if torch is not None and isinstance(a, torch.Tensor):
        return not (a.dtype.is_floating_point or a.dtype.is_complex or a.dtype == torch.bool)
    return isinstance(a, (np.ndarray, np.generic)) and a.dtype.kind in "iu"


def _build_elementwise(d: Decoder, func):
    """f(v, x): x and v each any library, dtype, view and small shape; broadcasting or not."""
    x, lib, name, view, _ = _make_x(d, small=True)
    v, vlib, vname, vview, _ = _make_x(d, small=True)
    errors = []
    for arr, nm, dn, vw in ((v, "v", vname, vview), (x, "x", name, view)):  # the order the library checks
        if dn is None and not _is_int_array(arr):  # integer arrays are orders / arguments (as SciPy)
            errors.append(hc.Raises((TypeError,), nm))
        if vw == "meta":
            errors.append(hc.Raises((ValueError,), nm))
    try:
        np.broadcast_shapes(tuple(np.shape(v) if vview != "meta" else v.shape),
                            tuple(np.shape(x) if view != "meta" else x.shape))
    except ValueError:
        errors.append(hc.Raises((ValueError,), "x"))  # "v and x: shapes do not broadcast"
    return func, x, {"v": v}, errors, False, lib if lib == "torch" else vlib, view


def _build(d: Decoder):
    func = d.pick(hc.FUNCTIONS)
    if func.family == "elementwise":
        return _build_elementwise(d, func)
    x, lib, name, view, writable = _make_x(d)
    errors = []
    if name is None:
        errors.append(hc.Raises((TypeError,), hc.DATA))
    if view == "meta":
        errors.append(hc.Raises((ValueError,), hc.DATA))
    shape = tuple(np.shape(x)) if lib != "torch" or view != "meta" else tuple(x.shape)
    nd = len(shape)
    kw, axis_errors = _axis(d, nd, func.family)
    errors += axis_errors
    valname = name if name in hc.FINFO else "float64"
    if "b" in func.params and d.bool(0.3):
        bshape, ok = _aux_shape(d, shape)
        bn = int(np.prod(bshape)) if bshape else 1
        bv = d.values(bn, valname).reshape(bshape)
        bv = np.where(np.abs(bv) < 1e-3, 0.0, bv) if d.bool(0.3) else bv
        # infinite weights are not documented (inf * exp(x - max) is NaN where the exp underflows,
        # as in SciPy): the largest finite weight instead
        bv = np.where(np.isinf(bv), np.sign(bv) * hc.FINFO["float64"].max, bv)
        kw["b"] = torch.from_numpy(bv) if lib == "torch" and d.bool() else bv
        if not ok:
            errors.append(hc.Raises((ValueError,), "b"))
    if "where" in func.params and d.bool(0.3):
        wshape, ok = _aux_shape(d, shape)
        wn = int(np.prod(wshape)) if wshape else 1
        mode = d.int(0, 9)
        wv = np.array([d.bool(0.7) for _ in range(min(wn, 64))] * (wn // 64 + 1), dtype=bool)[:wn].reshape(wshape)
        if mode == 0:
            kw["where"] = wv.astype(np.float32)
            errors.append(hc.Raises((TypeError,), "where"))
        else:
            # (an empty Python list has no bool dtype: NumPy makes it float64, rightly refused)
            kw["where"] = torch.from_numpy(wv) if lib == "torch" and mode < 5 else (
                wv.tolist() if mode == 9 and wv.size else wv)
        if not ok:
            errors.append(hc.Raises((ValueError,), "where"))
    if "keepdims" in func.params and d.bool(0.2):
        kw["keepdims"] = True
    if "return_sign" in func.params and d.bool(0.3):
        kw["return_sign"] = True
    if "safe" in func.params and d.bool(0.3):
        kw["safe"] = True
    if "algorithm" in func.params and d.bool(0.5):
        kw["algorithm"] = d.pick(["auto", "sort", "pivot", "bisect", "bisect", "fast"] if func.name == "sparsemax"
                                 else ["auto", "three_pass", "online", "two_pass", "two_pass", "fast"])
        if kw["algorithm"] == "fast":
            errors.append(hc.Raises((ValueError,), "algorithm"))
    inplace = False
    if "out" in func.params and lib in ("numpy", "torch") and view != "meta" and name is not None and d.bool(0.2):
        if writable and d.bool():
            kw["out"], inplace = x, True
        elif lib == "numpy":
            kw["out"] = np.empty(shape, dtype=np.asarray(x).dtype.newbyteorder("="))
        else:
            kw["out"] = torch.empty(shape, dtype=x.dtype)
    return func, x, kw, errors, inplace, lib, view


def _known_bug(func, x, kw, lib):
    """Inputs that hit a bug recorded in test_hostile.KNOWN_BUGS (skipped, counted): a reason
    string, or None. None recorded at present (the last ones, huge orders with x beyond 1e300 and
    vMF dimensions beyond 2e6, are fixed); the hook stays for the next one."""
    return None


def _softmax_rows_sum_to_one(func, x, kw, result):
    if func.name != "softmax" or "where" in kw:
        return
    y = hc.to_f64(result)
    x64 = hc.to_f64(x)
    if y.ndim == 0 or y.size == 0:
        return
    ax = kw.get("axis", -1)
    fin = np.all(np.isfinite(x64), axis=ax)
    s = np.sum(y, axis=ax)
    n = y.shape[ax]
    name = hc.dtype_name(hc.expected_container(x)[1])
    tol = 4 * n * (hc.FINFO[hc.acc_name(name)].eps + hc.FINFO[name].eps)
    bad = fin & ~(np.abs(s - 1) <= tol)
    if np.any(bad):
        raise AssertionError(f"softmax rows do not sum to 1: {s[bad][:4]} (tol {tol:.3g}); "
                             f"x={hc._short(x, 300)}, {hc._short(kw, 200)}, y={hc._short(result, 300)}")


_LAST_REPORT = [time.monotonic()]


def TestOneInput(data: bytes):
    if time.monotonic() - _LAST_REPORT[0] > 10:  # libFuzzer exits without running atexit handlers
        _LAST_REPORT[0] = time.monotonic()
        _report()
    d = Decoder(data)
    try:
        func, x, kw, errors, inplace, lib, view = _build(d)
    except Exception as e:  # noqa: BLE001 - an input the decoder cannot realise (e.g. int overflow): skip
        STATS[f"undecodable:{type(e).__name__}"] += 1
        return
    STATS["execs"] += 1
    required = [e for e in errors if not isinstance(e, Optional)]
    allow_value = not required
    errors = required + [e.err for e in errors if isinstance(e, Optional)]
    bug = _known_bug(func, x, kw, lib) if allow_value else None
    if bug:
        STATS[f"skipped known bug: {bug}"] += 1
        return
    case = hc.Case("fuzz", lambda: x, {k: hc.Lazy(lambda _x, v=v: v) for k, v in kw.items()},
                   hc.VALUE if allow_value else errors[0], inplace=inplace)
    outcome = hc.run_case(func, case, timeout=None)
    where = f"{func.name}({lib} {view} {hc._short(x, 300)}, {hc._short(kw, 300)})"
    modified = [p for p in outcome.problems if "was modified" in p]
    if modified:
        raise AssertionError(f"{where}: {modified}")
    exc = outcome.exc
    if inplace and isinstance(x, np.ndarray) and not x.dtype.isnative:
        errors = errors + [hc.Raises((TypeError,), "out")]  # in place on byte-swapped data (corpus: out/in-place-byteswapped)
    if exc is not None or not allow_value:
        # one of the documented errors the input carries (the library checks them in its own order)
        ok = exc is not None and any(
            isinstance(exc, e.types) and hc.names_argument(
                str(exc), func.data_arg if e.arg == hc.DATA else (func.arg_names or {}).get(e.arg, e.arg))
            for e in errors)
        if not ok:
            got = f"{type(exc).__module__}.{type(exc).__name__}: {exc}" if exc else hc._short(outcome.result)
            raise AssertionError(f"{where}: expected {errors or 'a value'}, got {got}")
        STATS["documented errors"] += 1
        return
    if not outcome.ok:
        raise AssertionError(f"{where}:\n{outcome}")
    if not inplace:  # (in place, x is the result now; the reference check above used x as it was)
        _softmax_rows_sum_to_one(func, x, kw, outcome.result)
    STATS["values checked"] += 1


def _report():
    if STATS:
        print("fuzz_api stats: " + ", ".join(f"{k}={v}" for k, v in sorted(STATS.items())), file=sys.stderr)


def main():
    atexit.register(_report)
    np.seterr(all="ignore")
    atheris.Setup(sys.argv, TestOneInput)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
