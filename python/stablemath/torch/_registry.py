"""One declarative entry per op -> a ``torch.library`` custom op plus a fast eager path.

``define(name, schema, impl=..., fake=..., setup=..., backward=...)`` registers
``stablemath::<name>`` with ``torch.library.custom_op`` (CPU kernel ``impl``, shape rule ``fake``,
``register_autograd(backward, setup_context=setup)``; ``cuda`` too when the core was built with it)
and returns an :class:`Op`. Calling the ``Op`` picks the cheapest correct route:

* ``torch.func`` transforms (grad, vjp, jacrev, vmap) -> an autograd.Function with
  ``setup_context`` (which they require) around the registered op.
* plain CPU tensors in eager mode -> ``impl`` directly (no grad needed), or a classic
  ``torch.autograd.Function`` built from the same ``setup``/``backward`` (grad needed). A call
  through the dispatcher costs ~60 us in Python (custom_op's autograd wrapper); this costs ~10 us.
* anything else (``torch.compile``/export tracing, fake or other tensor
  subclasses, dispatch or function modes, non-CPU devices) -> the registered op
  ``torch.ops.stablemath.<name>``, so tracers see one opaque node with its fake and autograd rules.

Both routes run the same four functions, so they cannot disagree; the tests check both.
"""
from __future__ import annotations

from typing import Callable, Optional

import torch

from .. import _core

NAMESPACE = "stablemath"
_PLAIN = (torch.Tensor, torch.nn.Parameter)
_REGISTRY: dict[str, "Op"] = {}

_is_compiling = torch.compiler.is_compiling
_functorch_active = torch._C._are_functorch_transforms_active
_dispatch_modes = torch._C._len_torch_dispatch_stack
_function_modes = torch._C._is_torch_function_mode_enabled


def _plain(args) -> bool:
    """True when every tensor argument is a plain CPU tensor and nothing is tracing."""
    if _is_compiling() or _dispatch_modes() or _function_modes():
        return False
    for a in args:
        if isinstance(a, torch.Tensor) and (type(a) not in _PLAIN or not a.is_cpu):
            return False
    return True


class Op:
    """A registered stablemath op: call it like the kernel (positional arguments, schema order)."""

    def __init__(self, name, schema, impl, fake, setup, backward, cuda, vmap):
        self.name = name
        self.impl = impl
        self.backward = backward
        self.custom_op = torch.library.custom_op(f"{NAMESPACE}::{name}", impl, mutates_args=(), schema=schema)
        self.custom_op.register_fake(fake)
        if backward is not None:
            self.custom_op.register_autograd(backward, setup_context=setup)
        if vmap is not None:
            self.custom_op.register_vmap(vmap)
        if cuda is not None and getattr(_core, "cuda_available", False):
            self.custom_op.register_kernel("cuda", cuda)
        self.overload = getattr(getattr(torch.ops, NAMESPACE), name).default
        self.function = None if backward is None else _autograd_function(name, impl, setup, backward)
        self.func_function = None if backward is None else _functorch_function(name, self.overload, setup, backward)

    def __call__(self, *args):
        if not _plain(args):
            return self.overload(*args)
        if _functorch_active():
            return self.func_function.apply(*args) if self.func_function else self.overload(*args)
        if self.function is not None and torch.is_grad_enabled() and any(
                isinstance(a, torch.Tensor) and a.requires_grad for a in args):
            return self.function.apply(*args)
        return self.impl(*args)

    def __repr__(self):
        return f"<stablemath.torch op {NAMESPACE}::{self.name}>"


def _autograd_function(name, impl, setup, backward):
    """A classic (ctx-first) autograd.Function: cheaper to apply than one with setup_context."""

    def forward(ctx, *args):
        out = impl(*args)
        setup(ctx, args, out)
        return out

    def bwd(ctx, *grads):
        return backward(ctx, *grads)

    return type(f"{name}_function", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(bwd)})


def _functorch_function(name, overload, setup, backward):
    """An autograd.Function with setup_context, which torch.func transforms need (the custom op's
    own autograd wrapper lacks it); vmap goes through the op's registered vmap rule."""

    def forward(*args):
        return overload(*args)

    return type(f"{name}_func_function", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "setup_context": staticmethod(setup),
                 "backward": staticmethod(backward), "generate_vmap_rule": True})


def define(name: str, schema: str, *, impl: Callable, fake: Callable, setup: Optional[Callable] = None,
           backward: Optional[Callable] = None, vmap: Optional[Callable] = None,
           cuda: Optional[Callable] = None) -> Op:
    """Registers ``stablemath::<name>``; see the module docstring of :mod:`stablemath.torch`.

    impl(*args) -> Tensor         CPU kernel: checks its arguments, returns a fresh tensor
    fake(*args) -> Tensor         same checks, an empty tensor of the result's shape/dtype/strides
    setup(ctx, inputs, output)    saves what backward needs (ctx.save_for_backward, attributes)
    backward(ctx, grad) -> tuple  one gradient (or None) per input, in schema order
    vmap(info, in_dims, *args)    -> (output, out_dim), see torch.library.register_vmap (without it
                                  vmap falls back to a per-sample loop, with a performance warning)
    cuda(*args) -> Tensor         CUDA kernel on the caller's current stream (when built)
    """
    if name in _REGISTRY:
        raise ValueError(f"name: op {NAMESPACE}::{name} is already defined")
    if (setup is None) != (backward is None):
        raise ValueError("setup and backward: give both or neither")
    op = Op(name, schema, impl, fake, setup, backward, cuda, vmap)
    _REGISTRY[name] = op
    return op


def batch_first(t, bdim, batch_size, logical_ndim, expand=False):
    """For vmap rules: `t` with its batch dim first and its other dims padded on the left to
    `logical_ndim`, so that it broadcasts against (batch, *logical shape). An unbatched `t` is left
    as it is (it broadcasts already), or expanded over the batch with `expand` (the main input)."""
    if t is None:
        return None
    if bdim is None:
        return t.expand(batch_size, *t.shape) if expand else t
    t = t.movedim(bdim, 0)
    pad = logical_ndim - (t.ndim - 1)
    return t.reshape(t.shape[0], *([1] * pad), *t.shape[1:]) if pad > 0 else t


def ops() -> dict[str, Op]:
    """Every registered op by name (the tests run opcheck over all of them)."""
    return dict(_REGISTRY)
