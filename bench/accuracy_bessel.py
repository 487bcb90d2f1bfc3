#!/usr/bin/env python3
"""Accuracy report: stablemath's log I_v(x), log K_v(x) and ratios against mpmath, beside SciPy.

Reference: tests/tools/gen_bessel_reference.ref_row (imported, not rewritten): mpmath besseli /
besselk at 50 digits with maxterms raised, the 50-digit Debye sum where besseli exceeds its time
cap (sqrt(v^2 + x^2) >= 1e3), the log-space integral DLMF 10.32.9 for K where mpmath's besselk is
wrong or slow (v > 30), and every reference row checked against the Wronskian at 1e-25. Points
whose reference fails (time cap without a fallback, Wronskian check) are skipped and counted.

Grid: log-uniform (v, x), v in [1e-3, 1e5], x in [1e-6, 1e6] (`--n` points, seeded), plus fixed
extremes (x up to 1e300, v up to 1e6). Points are rounded to float32 first, so the same (v, x)
serve the float32 check.

Metrics per region:
  * logs: |error of the log| (= relative error of I or K itself) and the same divided by
    max(1, |log|) ("scaled"; the log's own rounding is eps |log|, so for |log| >> 1 this is the
    attainable measure). Target: scaled <= 1e-14 in float64 everywhere.
  * ratios: relative error.
  * float32: the error in units of the float32 spacing at max(1, |value|) ("ulp").
  * SciPy: log(ive(v, x)) + x, log(kve(v, x)) - x and ive(v+1, x)/ive(v, x), the same errors where
    finite, and the share of the region where it returns inf / -inf / NaN.
Reference-free: the Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x in log form,
logaddexp(log ie_v + log ke_{v+1}, log ie_{v+1} + log ke_v) + log x = 0, on `--wronskian-n` points
with v in [1e-3, 1e6], x in [1e-300, 1e300] (residual scaled by the size of the terms).

Writes bench/results/bessel_accuracy.md and .json. Default run: a few minutes on one core;
`--quick` for a smoke run (60 points). `--readme PATH.json` prints the README's table.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import json
import math
import shlex
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "tools"))
import gen_bessel_reference as ref  # noqa: E402

import mpmath as mp  # noqa: E402
import scipy  # noqa: E402
import scipy.special as sp  # noqa: E402

REGIONS = [
    ("R < 25, x <= 1/2 (series / Temme)", lambda v, x: math.hypot(v, x) < 25 and x <= 0.5),
    ("R < 25, x > 1/2 (series / CF / K integral)", lambda v, x: math.hypot(v, x) < 25 and x > 0.5),
    ("25 <= R < 1e3, uniform expansion", lambda v, x: 25 <= math.hypot(v, x) < 1e3),
    ("R >= 1e3, x >= v (Hankel side)", lambda v, x: math.hypot(v, x) >= 1e3 and x >= v),
    ("R >= 1e3, x < v (large order)", lambda v, x: math.hypot(v, x) >= 1e3 and x < v),
]
COLS = ("log_i", "log_k", "ratio_i", "ratio_k")


def region_of(v, x):
    for name, test in REGIONS:
        if test(v, x):
            return name
    raise AssertionError


def sample(n, seed):
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(math.log(1e-3), math.log(1e5), n))
    x = np.exp(rng.uniform(math.log(1e-6), math.log(1e6), n))
    ext = [(v0, x0) for v0 in (0.0, 0.5, 3.0, 1e3, 1e6) for x0 in (1e-300, 1e-30, 1e30, 1e300)]
    pts = [(float(np.float32(a)), float(np.float32(b))) for a, b in zip(v, x)] + \
          [(float(np.float32(a)), float(np.float32(b))) for a, b in ext if 1e-38 < b < 3e38] + \
          [(a, b) for a, b in ext if not 1e-38 < b < 3e38]  # beyond float32: float64 rows only
    return pts


def references(pts, timeout, budget_s):
    rows, skipped = [], []
    t0 = time.time()
    for i, (v, x) in enumerate(pts):
        if time.time() - t0 > budget_s:
            skipped.extend((v, x, "total time budget") for v, x in pts[i:])
            break
        try:
            vals, src = ref.ref_row(v, x, timeout)
        except Exception as e:  # noqa: BLE001 - a reference that cannot be had is reported, not guessed
            skipped.append((v, x, f"{type(e).__name__}: {str(e)[:80]}"))
            continue
        rows.append((v, x, {c: vals[c] for c in COLS}, "+".join(src)))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1}/{len(pts)} references, {time.time() - t0:.0f} s", file=sys.stderr, flush=True)
    return rows, skipped


def errors(rows, sm):
    with np.errstate(all="ignore"):
        return _errors(rows, sm)


def _errors(rows, sm):
    v = np.array([r[0] for r in rows])
    x = np.array([r[1] for r in rows])
    f32 = (np.abs(x) >= 1e-38) & (x <= 3e38)
    refs = {c: np.array([float(r[2][c]) for r in rows]) for c in COLS}
    # log errors must be taken before rounding the reference to double where |log| is large: use
    # mpmath differences for the logs
    def log_err(got, c):
        return np.array([float(abs(mp.mpf(float(g)) - r[2][c])) if np.isfinite(g) else np.inf
                         for g, r in zip(got, rows)])

    def rel_err(got, c):
        return np.array([float(abs(mp.mpf(float(g)) / r[2][c] - 1)) if np.isfinite(g) else np.inf
                         for g, r in zip(got, rows)])

    with np.errstate(all="ignore"):
        sci = {"log_i": np.log(sp.ive(v, x)) + x, "log_k": np.log(sp.kve(v, x)) - x,
               "ratio_i": sp.ive(v + 1, x) / sp.ive(v, x), "ratio_k": sp.kve(v + 1, x) / sp.kve(v, x)}
    ours = {"log_i": sm.log_bessel_i(v, x), "log_k": sm.log_bessel_k(v, x),
            "ratio_i": sm.bessel_i_ratio(v, x), "ratio_k": sm.bessel_k_ratio(v, x)}
    v32, x32 = v.astype(np.float32), x.astype(np.float32)
    ours32 = {"log_i": sm.log_bessel_i(v32, x32), "log_k": sm.log_bessel_k(v32, x32),
              "ratio_i": sm.bessel_i_ratio(v32, x32), "ratio_k": sm.bessel_k_ratio(v32, x32)}
    out = {}
    for c in COLS:
        is_log = c.startswith("log")
        fn = log_err if is_log else rel_err
        scale = np.maximum(1.0, np.abs(refs[c])) if is_log else np.ones_like(refs[c])
        e = fn(ours[c], c)
        es = fn(sci[c], c)
        g32 = ours32[c].astype(np.float64)
        # float32: error against the reference in units of the float32 spacing at max(1, |value|)
        spacing = np.spacing(np.maximum(1.0, np.abs(refs[c])).astype(np.float32)).astype(np.float64)
        e32 = np.abs(g32 - refs[c]) / (spacing if is_log else spacing / np.maximum(1.0, np.abs(refs[c])) * np.abs(refs[c]))
        if not is_log:  # relative: ulps of the value itself
            e32 = np.abs(g32 - refs[c]) / np.spacing(np.abs(refs[c]).astype(np.float32)).astype(np.float64)
        out[c] = {"abs" if is_log else "rel": e, "scaled": e / scale, "scipy": es, "scipy_scaled": es / scale,
                  "scipy_nonfinite": ~np.isfinite(sci[c]), "ulp32": np.where(f32 & np.isfinite(refs[c])
                                                                           & (np.abs(refs[c]) < 3e38), e32, np.nan)}
    return v, x, out


def summarise(v, x, errs):
    regions = np.array([region_of(a, b) for a, b in zip(v, x)])
    table = []
    for name, _ in REGIONS:
        m = regions == name
        if not m.any():
            continue
        for c in COLS:
            e = errs[c]
            key = "abs" if c.startswith("log") else "rel"
            s_ok = m & np.isfinite(e["scipy"])
            u = e["ulp32"][m]
            u = u[np.isfinite(u)]
            table.append({
                "region": name, "function": c, "points": int(m.sum()),
                "max_err": float(np.max(e[key][m])), "median_err": float(np.median(e[key][m])),
                "max_scaled": float(np.max(e["scaled"][m])),
                "float32_max_ulp": float(np.max(u)) if u.size else float("nan"),
                "scipy_max_err": float(np.max(e["scipy"][s_ok])) if s_ok.any() else float("nan"),
                "scipy_median_err": float(np.median(e["scipy"][s_ok])) if s_ok.any() else float("nan"),
                "scipy_max_scaled": float(np.max(e["scipy_scaled"][s_ok])) if s_ok.any() else float("nan"),
                "scipy_nonfinite_fraction": float(np.mean(e["scipy_nonfinite"][m])),
            })
    return table


def wronskian(sm, n, seed):
    rng = np.random.default_rng(seed)
    v = np.exp(rng.uniform(math.log(1e-3), math.log(1e6), n))
    x = np.exp(rng.uniform(math.log(1e-300), math.log(1e300), n))
    li, lk = sm.log_bessel_ie(v, x), sm.log_bessel_ke(v, x)
    li1, lk1 = sm.log_bessel_ie(v + 1, x), sm.log_bessel_ke(v + 1, x)
    res = np.logaddexp(li + lk1, li1 + lk) + np.log(x)
    scale = np.maximum(np.abs(li) + np.abs(lk1), np.abs(li1) + np.abs(lk)) + np.abs(np.log(x)) + 1
    with np.errstate(all="ignore"):
        s_i, s_k = sp.ive(v, x), sp.kve(v, x)
        scipy_bad = float(np.mean(~(np.isfinite(np.log(s_i)) & np.isfinite(np.log(s_k)))))
    return {"points": n, "v_range": [1e-3, 1e6], "x_range": [1e-300, 1e300],
            "nonfinite_fraction": float(np.mean(~np.isfinite(res))),
            "max_abs_residual": float(np.nanmax(np.abs(res))),
            "median_abs_residual": float(np.nanmedian(np.abs(res))),
            "max_scaled_residual": float(np.nanmax(np.abs(res) / scale)),
            "scipy_log_ive_or_log_kve_nonfinite_fraction": scipy_bad}


def fmt(e):
    return "–" if not np.isfinite(e) else f"{e:.1e}"


def markdown(data) -> str:
    lines = ["| region | function | points | max err | median err | max err / max(1,\\|log\\|) | float32 max (ulp) "
             "| SciPy max err | SciPy median err | SciPy max scaled | SciPy inf/NaN |", "|" + "---|" * 11]
    for r in data["table"]:
        lines.append(f"| {r['region']} | `{r['function']}` | {r['points']} | {fmt(r['max_err'])} | {fmt(r['median_err'])} "
                     f"| {fmt(r['max_scaled'])} | {r['float32_max_ulp']:.2f} | {fmt(r['scipy_max_err'])} "
                     f"| {fmt(r['scipy_median_err'])} | {fmt(r['scipy_max_scaled'])} | {100 * r['scipy_nonfinite_fraction']:.0f}% |")
    w = data["wronskian"]
    lines += ["", f"Errors: logs as |error of the log| (= relative error of I_v, K_v), ratios as relative error; "
              f"float32 in units of the float32 spacing at max(1, |value|) (logs) or of the value (ratios). "
              f"A log is itself rounded to double, so its absolute error cannot be below ~1e-16 |log| "
              f"(e.g. ~35 at x = 1e300, where log I ~ 1e300): the scaled column is the attainable measure.",
              "", "Wronskian I_v K_{v+1} + I_{v+1} K_v = 1/x (log form, no reference): "
              f"{w['points']} points, v in [1e-3, 1e6], x in [1e-300, 1e300]: max |residual| {w['max_abs_residual']:.1e}, "
              f"median {w['median_abs_residual']:.1e}, max residual / (size of the terms) {w['max_scaled_residual']:.1e}; "
              f"non-finite: {100 * w['nonfinite_fraction']:.1f}% (SciPy's log ive or log kve: "
              f"{100 * w['scipy_log_ive_or_log_kve_nonfinite_fraction']:.0f}% non-finite on the same points).",
              "", f"Reference points: {data['points_used']} used, {len(data['skipped'])} skipped"
              + (" (" + "; ".join(f"v={a:.3g} x={b:.3g}: {why}" for a, b, why in data['skipped'][:5]) + ")" if data["skipped"] else "")
              + f"; sources: {data['sources']}.",
              f"Targets: float64 max err / max(1, |log|) <= 1e-14 everywhere: "
              f"{'met' if data['target_f64_met'] else 'NOT met'} (worst {data['worst_scaled_f64']:.1e}); "
              f"float32 <= 2 ulp: {'met' if data['target_f32_met'] else 'NOT met'} (worst {data['worst_ulp32']:.2f} ulp)."]
    return "\n".join(lines)


def readme_table(data) -> str:
    """The README's compact table: per region, float64 max scaled error and median |error of the log|,
    max relative error of the ratios, float32 worst ulp, and SciPy's worst scaled error and inf/NaN share."""
    by = {}
    for r in data["table"]:
        by.setdefault(r["region"], {})[r["function"]] = r
    lines = ["| region | log I: max err/max(1,\\|log\\|), median \\|err\\| | log K: same | I ratio max rel | K ratio max rel "
             "| float32 max | SciPy log(ive)+x: max scaled (inf/NaN) |", "|" + "---|" * 7]
    for region, f in by.items():
        f32 = max(f[c]["float32_max_ulp"] for c in COLS)
        li = f["log_i"]
        lines.append(f"| {region} | {fmt(li['max_scaled'])}, {fmt(li['median_err'])} "
                     f"| {fmt(f['log_k']['max_scaled'])}, {fmt(f['log_k']['median_err'])} | {fmt(f['ratio_i']['max_err'])} "
                     f"| {fmt(f['ratio_k']['max_err'])} | {f32:.2f} ulp | {fmt(li['scipy_max_scaled'])} "
                     f"({100 * li['scipy_nonfinite_fraction']:.0f}%) |")
    return "\n".join(lines)


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--readme":  # print the README table from a results JSON
        print(readme_table(json.loads(Path(sys.argv[2]).read_text())))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=400, help="random grid points (plus fixed extremes)")
    ap.add_argument("--seed", type=int, default=4)
    ap.add_argument("--timeout", type=float, default=1.0, help="seconds per mpmath besseli/besselk call")
    ap.add_argument("--budget", type=float, default=240.0, help="seconds for all references (the rest is skipped)")
    ap.add_argument("--wronskian-n", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=str(HERE / "results" / "bessel_accuracy"))
    args = ap.parse_args()
    if args.quick:
        args.n, args.wronskian_n, args.budget = 40, 100_000, 60.0
    sys.path.insert(0, str(HERE))
    import bench_softmax as bs
    sm = bs.import_stablemath()
    load0 = Path("/proc/loadavg").read_text().strip()
    t0 = time.time()
    pts = sample(args.n, args.seed)
    rows, skipped = references(pts, args.timeout, args.budget)
    sources = {}
    for r in rows:
        sources[r[3]] = sources.get(r[3], 0) + 1
    v, x, errs = errors(rows, sm)
    table = summarise(v, x, errs)
    worst = max(r["max_scaled"] for r in table if r["function"].startswith("log"))
    worst_ratio = max(r["max_err"] for r in table if r["function"].startswith("ratio"))
    worst32 = max(r["float32_max_ulp"] for r in table if np.isfinite(r["float32_max_ulp"]))
    data = {
        "date": _dt.datetime.now().isoformat(timespec="seconds"),
        "command": "python " + " ".join(shlex.quote(a) for a in sys.argv),
        "loadavg_start": load0, "loadavg_end": Path("/proc/loadavg").read_text().strip(),
        "versions": {"mpmath": mp.__version__, "scipy": scipy.__version__, "numpy": np.__version__,
                     "stablemath": sm.__version__, "repo HEAD": bs.git_state()},
        "points_used": len(rows), "skipped": skipped, "sources": sources,
        "table": table, "wronskian": wronskian(sm, args.wronskian_n, args.seed + 1),
        "worst_scaled_f64": worst, "worst_ratio_rel_f64": worst_ratio, "worst_ulp32": worst32,
        "target_f64_met": worst <= 1e-14, "target_f32_met": worst32 <= 2.0,
        "seconds": None,
    }
    data["seconds"] = round(time.time() - t0, 1)
    md = markdown(data)
    print(md)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".json").write_text(json.dumps(data, indent=1, default=str))
    out.with_suffix(".md").write_text(
        "# log-Bessel accuracy against mpmath (and SciPy beside it)\n\n" + md + "\n\n"
        f"- date: {data['date']}; {data['seconds']} s\n- command: `{data['command']}`\n"
        f"- versions: {data['versions']}\n- loadavg start / end: `{load0}` / `{data['loadavg_end']}`\n")
    print(f"wrote {out.with_suffix('.md')} and .json", file=sys.stderr)


if __name__ == "__main__":
    main()
