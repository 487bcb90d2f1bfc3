"""stablemath showcase: where the usual formulas lose every digit, and how fast the stable ones run.

    python bench/showcase.py            # accuracy cases + a timing comparison (about a minute)
    python bench/showcase.py --no-speed # accuracy cases only

Every value is checked against mpmath at 50 digits. Peers: NumPy written the naive way,
SciPy (scipy.special) and PyTorch, when installed.
"""
from __future__ import annotations

import argparse
import time
import warnings

import mpmath
import numpy as np

import stablemath as sm

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
    fn()
    ts = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return float(np.median(ts))


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


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--no-speed", action="store_true", help="skip the timing comparison")
    args = p.parse_args()
    print(f"stablemath {sm.__version__}, CPU kernels: {sm.cpu_isa()}, threads: {sm.get_num_threads()}")
    accuracy_cases()
    if not args.no_speed:
        speed()


if __name__ == "__main__":
    main()
