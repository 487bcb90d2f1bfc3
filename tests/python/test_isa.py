"""Kernel tables per instruction set: STABLEMATH_ISA=baseline|avx2|avx512 forces a table at import.

Each ISA runs in its own subprocess on the same inputs; the results must agree with each other
within a few ulp (different vector widths sum in a different order) and each must meet the same
float64-reference bounds as the default table (conftest.softmax_bounds / lse_tolerance).
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from conftest import (
    assert_lse_close,
    assert_softmax_close,
    assert_ulp,
    ref_logsumexp,
)

WORKER = textwrap.dedent(
    """
    import sys
    import numpy as np
    import stablemath

    inp = np.load(sys.argv[1])
    out = {"isa": np.array(stablemath.cpu_isa())}
    for key in inp.files:
        x = inp[key]
        kind, rest = key.split(":", 1)
        if kind == "lse":
            axis = None if rest.endswith("none") else int(rest.rsplit("_", 1)[1])
            out[key] = np.asarray(stablemath.logsumexp(x, axis=axis))
            if rest.startswith("w"):
                w = np.linspace(-0.5, 2.0, x.shape[-1]).astype(x.dtype)
                w[w == 0] = 1
                out[key + ":b"] = np.asarray(stablemath.logsumexp(np.abs(x), axis=axis, b=np.abs(w)))
        else:
            algo = rest.split("/")[0]
            out[key] = stablemath.log_softmax(x, algorithm=algo) if kind == "log" else stablemath.softmax(x, algorithm=algo)
            if algo == "online":
                out[key + ":T"] = stablemath.softmax(np.ascontiguousarray(x.T), axis=0, algorithm=algo)
    np.savez(sys.argv[2], **out)
    """
)

ALGOS = ["three_pass", "online", "two_pass"]
SHAPES = [(7, 33), (3, 1000), (1, 70_001), (40, 5)]


def _inputs():
    rng = np.random.default_rng(20240611)
    data = {}
    for dtype in (np.float32, np.float64):
        for shape in SHAPES:
            x = (rng.standard_normal(shape) * 3).astype(dtype)
            for algo in ALGOS:
                for kind in ("soft", "log"):
                    data[f"{kind}:{algo}/{np.dtype(dtype).name}/{shape[0]}x{shape[1]}"] = x
            data[f"lse:{np.dtype(dtype).name}/{shape[0]}x{shape[1]}_1"] = x
            data[f"lse:w{np.dtype(dtype).name}/{shape[0]}x{shape[1]}_none"] = x
    x16 = (rng.standard_normal((9, 130)) * 2).astype(np.float16)
    data["soft:online/float16/9x130"] = x16
    data["lse:float16/9x130_1"] = x16
    return data


def _run(isa, tmp_path_factory, inputs):
    d = tmp_path_factory.mktemp(f"isa_{isa or 'default'}")
    inp, outp = d / "in.npz", d / "out.npz"
    np.savez(inp, **inputs)
    env = dict(os.environ)
    env.pop("STABLEMATH_ISA", None)
    if isa is not None:
        env["STABLEMATH_ISA"] = isa
    r = subprocess.run([sys.executable, "-c", WORKER, str(inp), str(outp)], env=env,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"STABLEMATH_ISA={isa}: worker failed\n{r.stdout}\n{r.stderr}"
    with np.load(outp) as f:
        return {k: f[k] for k in f.files}


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


@pytest.fixture(scope="module")
def inputs():
    return _inputs()


@pytest.fixture(scope="module")
def results(tmp_path_factory, inputs):
    return {isa: _run(isa, tmp_path_factory, inputs) for isa in ("baseline", "avx2", None)}


def test_forced_isa_is_reported(results):
    assert str(results["baseline"]["isa"]) == "baseline"
    flags = _cpu_flags()
    if {"avx2", "fma", "bmi2"} <= flags:
        assert str(results["avx2"]["isa"]) == "avx2"
    default = str(results[None]["isa"])
    assert default in ("baseline", "avx2", "avx512")
    if "avx512f" in flags and {"avx512dq", "avx512vl", "avx512bw"} <= flags:
        assert default == "avx512"
    elif {"avx2", "fma", "bmi2"} <= flags:
        assert default == "avx2"


def test_avx512_request_falls_back_when_unsupported(tmp_path_factory):
    flags = _cpu_flags()
    small = {"lse:float64/2x3_1": np.arange(6.0).reshape(2, 3)}
    out = _run("avx512", tmp_path_factory, small)
    supported = "avx512f" in flags and {"avx512dq", "avx512vl", "avx512bw"} <= flags
    expected = "avx512" if supported else ("avx2" if {"avx2", "fma", "bmi2"} <= flags else "baseline")
    assert str(out["isa"]) == expected
    np.testing.assert_allclose(out["lse:float64/2x3_1"], ref_logsumexp(small["lse:float64/2x3_1"], axis=1),
                               rtol=1e-15)


def _dtype_of(key):
    for name in ("float16", "float32", "float64"):
        if name in key:
            return name
    raise AssertionError(key)


@pytest.mark.parametrize("isa", ["baseline", "avx2"])
def test_each_isa_meets_reference_bounds(isa, results, inputs):
    res = results[isa]
    if isa == "avx2" and str(res["isa"]) != "avx2":
        pytest.skip("CPU without AVX2")
    for key, x in inputs.items():
        kind, rest = key.split(":", 1)
        x64 = x.astype(np.float64)
        if kind == "lse":
            axis = None if rest.endswith("none") else 1
            assert_lse_close(res[key], x64, ref_logsumexp(x64, axis=axis), _dtype_of(key), axis=axis, msg=key)
            if rest.startswith("w"):
                w = np.linspace(-0.5, 2.0, x.shape[-1]).astype(x.dtype)
                w[w == 0] = 1
                bw = np.abs(w).astype(np.float64)
                assert_lse_close(res[key + ":b"], np.abs(x64), ref_logsumexp(np.abs(x64), axis=axis, b=bw),
                                 _dtype_of(key), axis=axis, b=bw, msg=key + ":b")
        else:
            func = "log_softmax" if kind == "log" else "softmax"
            assert_softmax_close(res[key], x, -1, func, msg=f"{isa} {key}")
            if key + ":T" in res:
                assert_softmax_close(res[key + ":T"], x.T, 0, "softmax", msg=f"{isa} {key}:T")




def _agree(results, inputs, keys):
    base, avx2 = results["baseline"], results["avx2"]
    if str(avx2["isa"]) != "avx2":
        pytest.skip("CPU without AVX2")
    for key in keys:
        # 4 ulp: FMA contraction and vector width change the rounding of the exp polynomial and
        # the order of the sums (measured: <= 3 ulp on these inputs)
        assert_ulp(avx2[key], base[key], 4, dtype=_dtype_of(key), msg=f"{key}:")


def test_baseline_and_avx2_agree(results, inputs):
    keys = [k for k in results["baseline"] if k != "isa"]
    _agree(results, inputs, keys)


