"""Hostile inputs against every public function: the corpus in hostile_corpus.py (~13300
(function, case) pairs: ~1900 for each of logsumexp / softmax / log_softmax, ~1000-1300 for
sparsemax / stablemax / log_stablemax, ~440 for each element-wise log-Bessel and vMF function, and
10-40 rows each for the functions with extra arguments (top-k, losses, KDE, vMF distribution); one
pytest item per function and kind of input), each run in this process. A case
passes when the function either returns the
documented value (float64 reference within the function's error bound, the caller's array type,
dtype and shape) or raises the documented TypeError / ValueError / AxisError naming the argument;
inputs unchanged, outputs not aliasing inputs.

Also here: the whole corpus once in a subprocess (a segfault or abort there is a crash finding,
not a dead pytest worker), self-tests showing that the runner catches each kind of failure it
claims to (so the corpus can fail), and the README edge-case table compared with the table
bench/edge_table.py renders from the actual behaviour.

Library bugs the corpus found are listed in KNOWN_BUGS: their cases are strict xfails, so fixing
one turns its cases into XPASS failures until the entry is removed.
"""
from __future__ import annotations

import importlib.util
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import hostile_corpus as hc
import stablemath

ROOT = pathlib.Path(__file__).resolve().parents[2]

# (function name regex, case id regex, reason): the cases each library bug makes fail, with a
# comment per entry giving the details. None at present: the last ones (torch tensors with the
# negative bit, sparse/mkldnn/nested layouts, huge orders with x beyond 1e300) are fixed and their
# cases are ordinary corpus cases again.
KNOWN_BUGS: list = []


def known_bug(func_name: str, case_id: str):
    for f, c, reason in KNOWN_BUGS:
        if re.fullmatch(f, func_name) and re.search(c, case_id):
            return reason
    return None


def group_key(case) -> str:
    """One pytest item per function and kind of hostile input ("values/nan", "layout/misaligned",
    "kinds", ...): the corpus has ~8500 (function, case) pairs, and pytest's per-item cost would
    dominate. A failing item lists every failing case of its group."""
    parts = case.id.split("/")
    return "/".join(parts[:2]) if parts[0] in ("values", "layout", "shapes", "where", "weights", "ew-values",
                                               "ew-layout") else parts[0]


def _params():
    groups, bugs = {}, []
    for func, case in hc.applicable():
        reason = known_bug(func.name, case.id)
        if reason:  # each known-bug case is its own strict xfail
            bugs.append(pytest.param(func, [case], id=f"{func.name}:{case.id}",
                                     marks=pytest.mark.xfail(strict=True, reason=reason)))
        else:
            groups.setdefault((func.name, group_key(case)), (func, []))[1].append(case)
    return [pytest.param(f, cases, id=f"{name}:{key}") for (name, key), (f, cases) in groups.items()] + bugs


@pytest.mark.parametrize("func,cases", _params())
def test_corpus(func, cases):
    with hc.watchdog(120):  # a hang aborts this worker with all tracebacks instead of stalling
        failed = [o for o in (hc.run_case(func, c, timeout=None) for c in cases) if not o.ok]
    assert not failed, f"{len(failed)} of {len(cases)} cases failed:\n" + "\n".join(str(o) for o in failed[:25])


@pytest.mark.parametrize(
    "case", [pytest.param(c, id=c[0], marks=[pytest.mark.xfail(strict=True, reason=known_bug(c[0].split("(")[0], c[0]))]
                          if known_bug(c[0].split("(")[0], c[0]) else []) for c in hc.CONFIG_CASES])
def test_config_functions(case):
    outcome = hc.run_config_case(case)
    assert outcome.ok, str(outcome)


# --------------------------------------------------------------------------------------------
# The corpus covers the whole public API and every kind of hostile input
# --------------------------------------------------------------------------------------------
# Functions that landed after the corpus was written and are not in it yet (issue 11 stays open
# until this set is empty). Each has its own test file with its own bad-input cases meanwhile.
NOT_YET_IN_CORPUS: set = set()


def test_not_yet_in_corpus_lists_only_uncovered_public_functions():
    covered = {f.name for f in hc.FUNCTIONS} | {c[0].split("(")[0] for c in hc.CONFIG_CASES}
    stale = sorted(n for n in NOT_YET_IN_CORPUS if n not in stablemath.__all__ or n in covered)
    assert not stale, f"remove from NOT_YET_IN_CORPUS (covered now, or not public): {', '.join(stale)}"


def test_every_public_function_is_in_the_corpus():
    covered = {f.name for f in hc.FUNCTIONS} | {c[0].split("(")[0] for c in hc.CONFIG_CASES}
    public = [n for n in stablemath.__all__ if callable(getattr(stablemath, n, None))]
    missing = sorted(set(public) - covered - NOT_YET_IN_CORPUS)
    assert not missing, (
        f"{len(missing)} public function(s) without hostile-input corpus entries: {', '.join(missing)}.\n"
        "Add one entry each to tests/python/hostile_corpus.py: a Func(...) in FUNCTIONS for an array function "
        "(data argument + axis: family 'reduce' or 'normalize'; its keyword arguments in `params`, a float64 "
        "reference and an error bound), elementwise(name, op) for an element-wise f(v, x), or a CONFIG_CASES row "
        "for a function without array input.")


# the case groups every function of a family must get, and the libraries its layout cases use
_FAMILY_GROUPS = {
    "reduce": ({"values", "shapes", "python", "layout", "kinds", "device", "axis", "where", "flags"}, "layout"),
    "normalize": ({"values", "shapes", "python", "layout", "kinds", "device", "axis", "where", "flags"}, "layout"),
    "elementwise": (set(hc.EW_GROUPS), "ew-layout"),
}


@pytest.mark.parametrize("func", hc.FUNCTIONS, ids=lambda f: f.name)
def test_every_group_reaches_every_function(func):
    expected, layout_group = _FAMILY_GROUPS[func.family]
    # the where / flags cases need a keyword argument the function may not have (sparsemax, stablemax)
    expected = {g for g in expected if g != "where" or "where" in func.params}
    if not func.params & {"keepdims", "return_sign", "safe", "algorithm"}:
        expected.discard("flags")
    if func.arg_names and func.arg_names.get("v") != "v":  # the README's element-wise table is the log-Bessel one
        expected.discard("ew-table")
    groups = {c.group for f, c in hc.applicable([func])}
    assert expected <= groups, f"{func.name}: no cases from {expected - groups}"
    libs = {type(c.build()[0]).__module__.split(".")[0] for f, c in hc.applicable([func]) if c.group == layout_group}
    assert {"numpy", "torch"} <= libs


def test_known_bug_entries_are_live():
    pairs = [(f.name, c.id) for f, c in hc.applicable()] + [(c[0].split("(")[0], c[0]) for c in hc.CONFIG_CASES]
    for f, c, reason in KNOWN_BUGS:
        assert any(re.fullmatch(f, fn) and re.search(c, cid) for fn, cid in pairs), f"stale KNOWN_BUGS entry: {c}"


# --------------------------------------------------------------------------------------------
# Crashes: the whole corpus in a subprocess
# --------------------------------------------------------------------------------------------
def test_whole_corpus_in_subprocess_does_not_crash():
    """A segfault, abort or hang anywhere in the corpus shows up here with the child's output,
    instead of killing a pytest worker (faulthandler prints the stack of a crash)."""
    proc = subprocess.run([sys.executable, "-X", "faulthandler", str(pathlib.Path(hc.__file__)), "--trace"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, (f"corpus subprocess died with return code {proc.returncode} "
                                  f"(negative = signal)\nstdout tail:\n{proc.stdout[-3000:]}\n"
                                  f"stderr tail:\n{proc.stderr[-3000:]}")
    assert "corpus completed" in proc.stdout


# --------------------------------------------------------------------------------------------
# Self-tests: the runner detects every failure mode it checks (fault injection)
# --------------------------------------------------------------------------------------------
def _faulty(name, wrap):
    f = hc.FUNC_BY_NAME[name]
    return hc.Func(f"{name}[faulty]", wrap(f.call), f.data_arg, f.family, f.params, f.reference, f.tolerance)


def _case(make, kwargs=None, expect=hc.VALUE):
    return hc.Case("self-test", make, kwargs or {}, expect)


def _modifies_input(call):
    def g(x, **kw):
        r = call(x, **kw)
        x[..., 0] = 0.0
        return r
    return g


def _returns_input_view(call):
    return lambda x, **kw: x[...] if "axis" in kw and kw["axis"] == () else call(x, **kw)


@pytest.mark.parametrize("name,wrap,make,kwargs,expect,needle", [
    ("softmax", _modifies_input, lambda: np.array([1.0, 2.0, 3.0]), {}, hc.VALUE, "input x was modified"),
    ("logsumexp", _returns_input_view, lambda: np.array([1.0, 2.0]), {"axis": ()}, hc.VALUE, "shares memory"),
    ("softmax", lambda c: (lambda x, **kw: c(x, **kw) * (1 + 1e-9)), lambda: np.array([1.0, 2.0, 3.0]), {},
     hc.VALUE, "error"),
    ("logsumexp", lambda c: (lambda x, **kw: np.float64(0.0)), lambda: np.array([0.0, -40.0]), {}, hc.VALUE,
     "error 4.25e-18"),  # the shifted formula's 0 instead of 4.2e-18
    ("log_softmax", lambda c: (lambda x, **kw: x - np.log(np.sum(np.exp(x)))), lambda: np.array([0.0, -100.0]), {},
     hc.VALUE, "error"),  # naive log_softmax loses the -3.7e-44
    ("softmax", lambda c: (lambda x, **kw: np.exp(x) / np.sum(np.exp(x))), lambda: np.array([1000.0, 0.0]), {},
     hc.VALUE, "NaN pattern"),  # overflow of the unshifted formula
    ("softmax", lambda c: (lambda x, **kw: c(x.astype(np.float64), **kw)), lambda: np.ones(3, np.float32), {},
     hc.VALUE, "dtype float64"),
    ("softmax", lambda c: (lambda x, **kw: c(x, **kw).tolist()), lambda: np.ones(3), {}, hc.VALUE,
     "expected numpy.ndarray"),
    ("logsumexp", lambda c: (lambda x, **kw: c(x, **kw)[0]), lambda: np.ones(3), {"return_sign": True}, hc.VALUE,
     "tuple"),
    ("logsumexp", lambda c: (lambda x, **kw: c(x, **kw).reshape(1)), lambda: np.ones((2, 3)), {"axis": 1},
     hc.VALUE, "shape"),
    ("softmax", lambda c: (lambda x, **kw: (_ for _ in ()).throw(RuntimeError("deep"))), lambda: np.ones(3), {},
     hc.VALUE, "RuntimeError"),
    ("softmax", lambda c: (lambda x, **kw: (_ for _ in ()).throw(AttributeError("x"))), lambda: np.ones(3), {},
     hc.TYPE_ERR, "AttributeError"),
    ("softmax", lambda c: (lambda x, **kw: (_ for _ in ()).throw(TypeError("bad dtype"))), lambda: np.ones(3), {},
     hc.TYPE_ERR, "does not name `x`"),
    ("softmax", lambda c: (lambda x, **kw: np.zeros(3)), lambda: np.ones(3, bool), {}, hc.TYPE_ERR,
     "instead of raising"),
    # the newer references catch a wrong function and a digit-losing formula
    ("sparsemax", lambda c: (lambda x, **kw: stablemath.softmax(x, **kw)), lambda: np.array([1.0, 0.9, -2.0]), {},
     hc.VALUE, "error"),
    ("log_stablemax", lambda c: (lambda x, **kw: np.log(stablemath.stablemax(x, **kw))), lambda: np.array([1e20, 0.0]),
     {}, hc.VALUE, "error"),
    ("vmf_kappa_mle", lambda c: (lambda x, v: c(x, v) * (1 + 1e-12)), lambda: np.array([0.5]), {"v": 3.0}, hc.VALUE,
     "error"),
])
def test_runner_detects_faults(name, wrap, make, kwargs, expect, needle):
    outcome = hc.run_case(_faulty(name, wrap), _case(make, kwargs, expect))
    assert not outcome.ok, f"fault not detected: {outcome}"
    assert needle in "\n".join(outcome.problems), str(outcome)


@pytest.mark.skipif(hc.torch is None, reason="needs torch")
def test_runner_detects_torch_faults():
    torch = hc.torch
    f = _faulty("softmax", lambda c: (lambda x, **kw: c(x.double(), **kw)))  # float64 result for float32 input
    o = hc.run_case(f, _case(lambda: torch.ones(3)))
    assert not o.ok and "dtype torch.float64" in "\n".join(o.problems)
    g = _faulty("softmax", lambda c: (lambda x, **kw: x.detach()))  # a view of the input's storage
    o = hc.run_case(g, _case(lambda: torch.zeros(2)))
    assert not o.ok and "shares memory" in "\n".join(o.problems)


# --------------------------------------------------------------------------------------------
# README edge-case table == the table rendered from the behaviour
# --------------------------------------------------------------------------------------------
def _edge_table_module():
    spec = importlib.util.spec_from_file_location("edge_table", ROOT / "bench" / "edge_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_edge_table_cases_pass():
    """Every cell of the edge table is a documented-value corpus case that matches the reference."""
    table_cases = [(f, c) for f, c in hc.applicable() if c.table]
    assert len(table_cases) >= 30
    bad = [str(o) for o in (hc.run_case(f, c) for f, c in table_cases) if not o.ok]
    assert not bad, "\n".join(bad)


def test_readme_edge_table_matches_behaviour():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    m = re.search(r"<!-- edge-table:begin -->\n(.*?)<!-- edge-table:end -->", readme, re.S)
    if m is None:
        pytest.skip("README.md has no <!-- edge-table:begin --> ... <!-- edge-table:end --> markers yet: put them "
                    "around the Edge cases table and paste the output of `python bench/edge_table.py` between them")
    rendered = _edge_table_module().render()
    assert m.group(1).strip() == rendered.strip(), (
        "README edge-case table differs from the behaviour; regenerate it with `python bench/edge_table.py`.\n"
        f"--- rendered ---\n{rendered}")
