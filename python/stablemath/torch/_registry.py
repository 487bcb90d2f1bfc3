"""One declarative entry per op -> a ``torch.library`` custom op plus a fast eager path.

``define(name, schema, impl=..., fake=..., setup=..., backward=...)`` registers
``stablemath::<name>`` with ``torch.library.custom_op`` (CPU kernel ``impl``, shape rule ``fake``,
``register_autograd(backward, setup_context=setup)``; ``cuda`` too when the core was built with it)
and returns an :class:`Op`. Calling the ``Op`` picks the cheapest correct route:

* ``torch.func`` transforms (grad, vjp, jacrev, vmap) -> an autograd.Function with
  ``setup_context`` (which they require) around the registered op.
* plain CPU tensors in eager mode -> ``impl`` directly (no grad needed), or a classic
  ``torch.autograd.Function`` built from the same ``setup``/``backward`` (grad needed), applied
  through its C++ ``apply``. Per call on a tiny tensor (thread CPU time, over the bare core call):
  ~1 us and ~9 us, against ~14 us and ~55 us through the dispatcher (custom_op's Python autograd
  wrapper; bench/bench_torch.py --overhead-only).
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
_Tensor, _Parameter = torch.Tensor, torch.nn.Parameter
_REGISTRY: dict[str, "Op"] = {}
_CPU_LIB = torch.library.Library(NAMESPACE, "FRAGMENT")  # kept alive: the CPU kernels below

_is_compiling = torch.compiler.is_compiling
_functorch_active = torch._C._are_functorch_transforms_active
_dispatch_modes = torch._C._len_torch_dispatch_stack
# True for a torch function mode or an argument of a tensor subclass that overrides
# __torch_function__ (plain Tensor and Parameter do not): one C call over all the arguments.
_has_torch_function = torch._C._has_torch_function
_grad_enabled = torch._C.is_grad_enabled
_unwrap_if_dead = torch._C._functorch.unwrap_if_dead


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
        # The kernel once more as the op's CPU kernel proper: custom_op registers it for every device
        # behind a wrapper (dynamo-disabled frame, aliasing check) that costs ~8 us per
        # torch.ops.stablemath.* call; the kernels return fresh tensors, which opcheck verifies.
        _CPU_LIB.impl(name, impl, "CPU")
        self.overload = getattr(getattr(torch.ops, NAMESPACE), name).default
        # positions of the Tensor / Tensor? arguments: the only ones __call__ has to look at
        optional_tensor = torch._C.OptionalType(torch._C.TensorType.get())
        arguments = self.overload._schema.arguments
        self._n_args = len(arguments)
        self._tensor_args = tuple(i for i, a in enumerate(arguments) if a.type.isSubtypeOf(optional_tensor))
        self.function = None if backward is None else _autograd_function(name, impl, setup, backward)
        # Function.apply's Python wrapper only binds defaults (no setup_context here), unwraps dead
        # functorch wrappers and checks for torch.func transforms; __call__ does the last two itself
        # and calls the C++ apply directly (~3 us less per call).
        self._apply = None if backward is None else super(torch.autograd.Function, self.function).apply
        self.func_function = None if backward is None else _functorch_function(name, self.overload, setup, backward)

    def __call__(self, *args):
        # Tracing, dispatch modes, torch function modes and tensor subclasses: the registered op.
        if _is_compiling() or _dispatch_modes() or _has_torch_function(args) or len(args) != self._n_args:
            return self.overload(*args)
        if _functorch_active():
            return self.func_function.apply(*args) if self.func_function else self.overload(*args)
        grad = False
        for i in self._tensor_args:
            a = args[i]
            if a is None:
                continue
            t = type(a)
            if t is not _Tensor and t is not _Parameter:
                if isinstance(a, torch.Tensor):  # a subclass without __torch_function__
                    return self.overload(*args)
                return self.impl(*args)  # not a tensor: the kernel's checks name the argument
            if not a.is_cpu:
                return self.overload(*args)
            if a.requires_grad:
                grad = True
        if grad and self._apply is not None and _grad_enabled():
            args = list(args)
            for i in self._tensor_args:  # a tensor leaked out of a torch.func transform: its plain value
                if args[i] is not None:
                    args[i] = _unwrap_if_dead(args[i])
            return self._apply(*args)
        return self.impl(*args)

    def __repr__(self):
        return f"<stablemath.torch op {NAMESPACE}::{self.name}>"


def _autograd_function(name, impl, setup, backward):
    """A classic (ctx-first) autograd.Function: cheaper to apply than one with setup_context."""

    def forward(ctx, *args):
        out = impl(*args)
        setup(ctx, args, out)
        return out

    return type(f"{name}_function", (torch.autograd.Function,),
                {"forward": staticmethod(forward), "backward": staticmethod(backward)})


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
