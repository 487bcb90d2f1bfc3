"""stablemath: numerically stable log-sum-exp and softmax family with fast CPU kernels.

Functions take NumPy arrays, PyTorch CPU tensors, any object with ``__dlpack__`` on the CPU, or
Python scalars/lists, and return the caller's array type (tensors without autograd). For
autograd, ``torch.compile`` and ``torch.func`` use ``stablemath.torch`` (importing ``stablemath``
does not import torch).
"""
from . import _core
from ._api import log_softmax, logsumexp, softmax
from ._kde import GaussianKDE, VonMisesFisherKDE, kde_logpdf
from ._losses import SoftmaxCollapse, softmax_collapse, softmax_cross_entropy
from ._sparsemax import sparsemax, sparsemax_backward, sparsemax_loss
from ._special import (bessel_i_ratio, bessel_k_ratio, log_bessel_i, log_bessel_ie, log_bessel_k,
                       log_bessel_ke)
from ._stablemax import log_stablemax, stablemax, stablemax_cross_entropy
from ._topk import logsumexp_topk, softmax_topk
from ._vmf import vmf_fit, vmf_kappa_mle, vmf_log_normalizer, vmf_logpdf, vmf_mean_resultant, vmf_sample

__version__ = "0.1.0"
__all__ = [
    "logsumexp", "softmax", "log_softmax",
    "sparsemax", "sparsemax_loss", "sparsemax_backward",
    "stablemax", "log_stablemax", "stablemax_cross_entropy", "softmax_cross_entropy", "softmax_collapse",
    "SoftmaxCollapse", "softmax_topk", "logsumexp_topk",
    "log_bessel_i", "log_bessel_k", "log_bessel_ie", "log_bessel_ke", "bessel_i_ratio", "bessel_k_ratio",
    "vmf_log_normalizer", "vmf_mean_resultant", "vmf_kappa_mle", "vmf_logpdf", "vmf_fit", "vmf_sample",
    "GaussianKDE", "VonMisesFisherKDE", "kde_logpdf",
    "get_num_threads", "set_num_threads", "cpu_isa",
]


def get_num_threads() -> int:
    """Threads the kernels use (default: CPUs available to the process, or STABLEMATH_NUM_THREADS)."""
    return _core.get_num_threads()


def set_num_threads(n: int) -> None:
    """Sets the number of threads the kernels use (results do not depend on it)."""
    from ._api import _integer
    _core.set_num_threads(_integer(n, "n"))


def cpu_isa() -> str:
    """Instruction set of the kernel table chosen at import: 'avx512', 'avx2' or 'baseline'.

    Set the environment variable STABLEMATH_ISA=baseline|avx2|avx512 before import to force one.
    """
    return _core.isa()
