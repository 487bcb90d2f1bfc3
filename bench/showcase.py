"""stablemath showcase: where the usual formulas lose every digit, and how fast the stable ones run.

    python bench/showcase.py            # every section (about two minutes)
    python bench/showcase.py --no-speed # accuracy cases only
    python bench/showcase.py --core     # only the softmax / log-sum-exp sections

Sections: the softmax family against mpmath and its speed; sparsemax, StableMax, the Softmax
Collapse detector and fused top-k; log-Bessel functions and von Mises-Fisher fits in d = 2048
(bench/showcase_vmf.py); KDE in d = 1000 (bench/showcase_kde.py).

Every value is checked against mpmath at 50 digits. Peers: NumPy written the naive way,
SciPy (scipy.special) and PyTorch, when installed.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import warnings
from pathlib import Path

import mpmath
import numpy as np

import stablemath as sm

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _timing  # noqa: E402  (bench/_timing.py)

try:
    import scipy.special as ss
except ImportError:  # pragma: no cover
    ss = None
try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

mpmath.mp.dps = 50


def exact_lse(x):
    return float(mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in x)))


def exact_log_softmax(x, i):
    return float(mpmath.mpf(float(x[i])) - mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in x)))


def exact_softmax(x, i):
    return float(mpmath.exp(mpmath.mpf(float(x[i])) - mpmath.log(mpmath.fsum(mpmath.exp(mpmath.mpf(float(v))) for v in x))))


def fmt(v):
    if isinstance(v, str):
        return v
    v = float(v)
    return f"{v:.6g}" if np.isfinite(v) else str(v)


def accuracy_cases():
    rows = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # 1. overflow in the textbook formula
        x = np.array([1000.0, 1000.0])
        rows.append(("logsumexp([1000, 1000])", np.log(np.sum(np.exp(x))),
                     ss.logsumexp(x) if ss else "-", torch.logsumexp(torch.from_numpy(x), 0).item() if torch else "-",
                     sm.logsumexp(x), exact_lse(x)))
        # 2. one dominant element: max + log(sum) rounds the small term away
        x = np.array([0.0, -40.0])
        naive_shift = x.max() + np.log(np.sum(np.exp(x - x.max())))
        rows.append(("logsumexp([0, -40])", naive_shift, ss.logsumexp(x) if ss else "-",
                     torch.logsumexp(torch.from_numpy(x), 0).item() if torch else "-", sm.logsumexp(x), exact_lse(x)))
        # 3. log-probability of a dominant class
        x = np.array([0.0, -100.0])
        rows.append(("log_softmax([0, -100])[0]", (x - (x.max() + np.log(np.sum(np.exp(x - x.max())))))[0],
                     ss.log_softmax(x)[0] if ss else "-", torch.log_softmax(torch.from_numpy(x), 0)[0].item() if torch else "-",
                     sm.log_softmax(x)[0], exact_log_softmax(x, 0)))
        # 4. float32 logits of magnitude 1e7 (exact integers): the naive exp overflows
        x = np.array([1e7, 1e7 + 1, 1e7 - 2], dtype=np.float32)
        rows.append(("softmax(float32 [1e7, 1e7+1, 1e7-2])[1]", (np.exp(x) / np.exp(x).sum())[1],
                     ss.softmax(x)[1] if ss else "-", torch.softmax(torch.from_numpy(x), 0)[1].item() if torch else "-",
                     sm.softmax(x)[1], exact_softmax(x.astype(np.float64), 1)))
        # 5. float16 input: a float16 running sum stalls at 2048 (spacing 2), so a uniform
        #    distribution over 4096 classes comes out as 1/2048
        x = np.zeros(4096, dtype=np.float16)
        e = np.exp(x)
        rows.append(("softmax(float16 zeros(4096))[0]", e[0] / np.cumsum(e, dtype=np.float16)[-1],
                     ss.softmax(x)[0] if ss else "-", torch.softmax(torch.from_numpy(x), 0)[0].item() if torch else "-",
                     sm.softmax(x)[0], 1 / 4096))
        # 6. a fully masked attention row
        x = np.full(4, -np.inf)
        rows.append(("softmax(all -inf), safe=True", (np.exp(x - x.max()) / np.exp(x - x.max()).sum())[0],
                     ss.softmax(x)[0] if ss else "-", torch.softmax(torch.from_numpy(x), 0)[0].item() if torch else "-",
                     sm.softmax(x, safe=True)[0], "0 (defined)"))
    head = ("case", "NumPy naive", "SciPy", "PyTorch", "stablemath", "exact (mpmath)")
    print("\n## Accuracy: where the usual formulas fail\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for r in rows:
        print("| " + " | ".join(fmt(v) for v in r) + " |")


def median_time(fn, repeat=3):
    return _timing.median_time(fn, repeat)[0]


def speed():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((1024, 32768)) * 4).astype(np.float32)
    print(f"\n## Speed: float32 1024 x 32768, {sm.get_num_threads()} threads, kernels: {sm.cpu_isa()}\n")
    print("| operation | stablemath (ms) | PyTorch (ms) | SciPy (ms) | vs PyTorch | vs SciPy |")
    print("|---|---|---|---|---|---|")
    tx = torch.from_numpy(x) if torch else None
    if torch:
        torch.set_num_threads(sm.get_num_threads())
    ops = [
        ("softmax", lambda: sm.softmax(x), (lambda: torch.softmax(tx, -1)) if torch else None,
         (lambda: ss.softmax(x, axis=-1)) if ss else None),
        ("log_softmax", lambda: sm.log_softmax(x), (lambda: torch.log_softmax(tx, -1)) if torch else None,
         (lambda: ss.log_softmax(x, axis=-1)) if ss else None),
        ("logsumexp", lambda: sm.logsumexp(x, axis=-1), (lambda: torch.logsumexp(tx, -1)) if torch else None,
         (lambda: ss.logsumexp(x, axis=-1)) if ss else None),
    ]
    for name, f_sm, f_t, f_s in ops:
        a = median_time(f_sm)
        b = median_time(f_t) if f_t else float("nan")
        c = median_time(f_s, repeat=1) if f_s else float("nan")
        print(f"| {name} | {a*1e3:.1f} | {b*1e3:.1f} | {c*1e3:.1f} | {b/a:.1f}x | {c/a:.1f}x |")
    print("\nFull benchmark with all algorithms and shapes: python bench/bench_softmax.py")


def sparse_and_stable(with_speed):
    print("\n## Sparsemax, StableMax, Softmax Collapse, fused top-k\n")
    z = np.array([1e12 + 2.0, 1e12 + 1.5, 1e12, 1e12 - 3.0])
    print(f"sparsemax of logits offset by 1e12: {sm.sparsemax(z)}  (exact zeros; the offset costs no digits)")
    logits = np.array([[30.0, 0.0, -5.0], [3.0, 2.0, 1.0]], dtype=np.float32)
    c = sm.softmax_collapse(logits, per_row=True)
    print(f"Softmax Collapse in float32 (logits {logits.tolist()}): sum of exp(x - max) == 1 in rows "
          f"{c.sum_is_one}, gap > log(1/eps) = {c.threshold:.2f} in rows {c.gap_exceeds}")
    print(f"  softmax row 0 = {sm.softmax(logits[0])} (the float32 sum rounds to exactly 1: the correct-class gradient p - 1 is exactly 0)")
    print(f"  stablemax row 0 = {sm.stablemax(logits[0])} (polynomial tails: no collapse)")
    target = np.array([1, 0])
    print(f"  cross-entropy of the wrong class: softmax {sm.softmax_cross_entropy(logits, target, reduction='none')}, "
          f"stablemax {sm.stablemax_cross_entropy(logits, target, reduction='none')}")
    if with_speed and torch is not None:
        rng = np.random.default_rng(0)
        x = rng.standard_normal((4096, 32768), dtype=np.float32)
        tx = torch.from_numpy(x)
        torch.set_num_threads(sm.get_num_threads())
        a = median_time(lambda: sm.softmax_topk(x, 16))
        b = median_time(lambda: torch.topk(torch.softmax(tx, -1), 16))
        print(f"\nsoftmax_topk(k=16) on 4096 x 32768 float32: stablemath {a * 1e3:.0f} ms, "
              f"torch.topk(torch.softmax(x)) {b * 1e3:.0f} ms: {b / a:.1f}x")


def run_script(name, *args):
    here = Path(__file__).resolve().parent
    sys.stdout.flush()
    subprocess.run([sys.executable, str(here / name), *args], check=False)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-speed", action="store_true", help="skip the timing comparisons")
    p.add_argument("--core", action="store_true", help="only the softmax / log-sum-exp sections")
    args = p.parse_args()
    print(f"stablemath {sm.__version__}, CPU kernels: {sm.cpu_isa()}, threads: {sm.get_num_threads()}")
    accuracy_cases()
    if not args.no_speed:
        speed()
    if args.core:
        return
    sparse_and_stable(not args.no_speed)
    print("\n## von Mises-Fisher in d = 2048 (log-Bessel functions underneath)\n", flush=True)
    run_script("showcase_vmf.py", "--n", "2000")
    print("\n## Kernel density estimation in log space\n", flush=True)
    run_script("showcase_kde.py", "--quick", "--no-plot")


if __name__ == "__main__":
    main()
