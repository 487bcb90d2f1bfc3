"""Prints the README's edge-case tables (input | logsumexp | softmax | log_softmax, and one for the
log-Bessel functions) from the actual behaviour: every cell is a documented-value case of the hostile-input corpus
(tests/python/hostile_corpus.py, groups "table" and "ew-table"), run through the corpus runner, which checks it
against the float64 reference of the documented semantics, and rendered from the values the
function returned. tests/python/test_hostile.py compares this output with README.md between
`<!-- edge-table:begin -->` and `<!-- edge-table:end -->`.

    python bench/edge_table.py            # prints the tables; exit 1 if a cell disagrees with the reference
    python bench/edge_table.py --write    # rewrites README.md between the markers

A new row: add a `_table(...)` (or `_ew_table(...)`) call in hostile_corpus.py. A new function gets a column as soon as
a table row has a cell for it.
"""
from __future__ import annotations

import math
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "python"))
import hostile_corpus as hc  # noqa: E402


def _num(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    if v == 0:
        return "0"
    s = f"{v:.4g}"
    return s.replace("e+", "e").replace("e0", "e").replace("e-0", "e-")


def _values(r) -> str:
    a = hc.to_f64(r)
    if a.size == 0:
        return f"empty, shape `{a.shape}`"
    if a.ndim == 0:
        return f"`{_num(float(a))}`"
    return "`" + np.array2string(a, separator=", ", formatter={"float_kind": _num}) + "`"


def render_result(r) -> str:
    if isinstance(r, tuple):  # logsumexp(..., return_sign=True)
        return f"{_values(r[0])}, sign {_values(r[1])}"
    return _values(r)


# The tables, in order: the array functions (one column per function), then the element-wise
# log-Bessel functions f(v, x).
TABLES = [("array", "Array functions (`x`, `axis`, `where`, `b`):"),
          ("elementwise", "Element-wise log-Bessel functions, input `(v, x)`:")]


def _table_of(case) -> str:
    return "elementwise" if case.group.startswith("ew-") else "array"


def collect():
    """{table: [(row label, input shown, {function: [(variant label, text)]})]} in corpus order, plus
    the problems of cells that disagree with the reference."""
    rows, problems = {}, []
    for func, case in hc.applicable():
        if not case.table:
            continue
        label, shown, vlabel = case.table
        outcome = hc.run_case(func, case)
        if not outcome.ok:
            problems.append(str(outcome))
        text = render_result(outcome.result) if outcome.exc is None else f"raises {type(outcome.exc).__name__}"
        row = rows.setdefault(_table_of(case), {}).setdefault(label, (shown, {}))
        row[1].setdefault(func.name, []).append((vlabel, text))
    return {t: [(label, shown, cells) for label, (shown, cells) in r.items()] for t, r in rows.items()}, problems


def _render_table(rows) -> list:
    funcs = [f.name for f in hc.FUNCTIONS if any(f.name in cells for _, _, cells in rows)]
    lines = ["| input | " + " | ".join(f"`{f}`" for f in funcs) + " |", "|---" * (len(funcs) + 1) + "|"]
    for label, shown, cells in rows:
        out = []
        for f in funcs:
            parts = [text if not vl else f"{vl}: {text}" for vl, text in cells.get(f, [])]
            out.append("; ".join(parts) if parts else "–")
        lines.append(f"| {label}: {shown} | " + " | ".join(out) + " |")
    return lines


def render() -> str:
    tables, _ = collect()
    lines = []
    for key, title in TABLES:
        if key in tables:
            lines += ([""] if lines else []) + [title, ""] + _render_table(tables[key])
    return "\n".join(lines) + "\n"


def write_readme(path=ROOT / "README.md") -> bool:
    """Replaces the table between the README's markers; True if the file changed."""
    text = path.read_text(encoding="utf-8")
    begin, end = "<!-- edge-table:begin -->\n", "<!-- edge-table:end -->"
    i, j = text.find(begin), text.find(end)
    if i < 0 or j < i:
        raise SystemExit(f"{path}: no {begin.strip()} ... {end} markers")
    new = text[:i + len(begin)] + render() + text[j:]
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main() -> int:
    import argparse
    ap = argparse.ArgumentParser(description="README edge-case tables from the hostile-input corpus")
    ap.add_argument("--write", action="store_true", help="rewrite README.md between the edge-table markers")
    args = ap.parse_args()
    _, problems = collect()
    if args.write:
        print("README.md updated" if write_readme() else "README.md already up to date")
    else:
        sys.stdout.write(render())
    if problems:
        sys.stderr.write("cells that disagree with the documented semantics (float64 reference):\n"
                         + "\n".join(problems) + "\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
