"""stablemath: numerically stable log-sum-exp and softmax family with fast CPU kernels.

Functions take NumPy arrays, PyTorch CPU tensors, any object with ``__dlpack__`` on the CPU, or
Python scalars/lists, and return the caller's array type. For autograd use ``stablemath.torch``
(later release).
"""
from . import _core
from ._api import log_softmax, logsumexp, softmax
from ._special import (bessel_i_ratio, bessel_k_ratio, log_bessel_i, log_bessel_ie, log_bessel_k,
                       log_bessel_ke)
from ._topk import logsumexp_topk, softmax_topk

__version__ = "0.1.0"
__all__ = ["logsumexp", "softmax", "log_softmax", "log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke",
           "bessel_i_ratio", "bessel_k_ratio", "softmax_topk", "logsumexp_topk", "get_num_threads", "set_num_threads", "cpu_isa"]


def get_num_threads() -> int:
    """Threads the kernels use (default: CPUs available to the process, or STABLEMATH_NUM_THREADS)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Sets the number of threads the kernels use (results do not depend on it)."""
    _core.set_num_threads(int(n))


def cpu_isa() -> str:
    """Instruction set of the kernel table chosen at import: 'avx512', 'avx2' or 'baseline'.

    Set the environment variable STABLEMATH_ISA=baseline|avx2|avx512 before import to force one.
    """
    return _core.isa()
