"""The op registry: each op type is defined once — NumPy kernel, shape rule, gradient —
and both the graph and the eager front end run that one definition."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

from miniflow.errors import AlreadyExistsError, NotFoundError


@dataclass
class OpDef:
    """What the registry knows about one op type.

    Attributes:
        type: the TF op type string, e.g. ``"MatMul"``.
        forward: NumPy kernel ``forward(*input_values, **attrs) -> value`` (a tuple of
            values when ``num_outputs != 1``). Stateful ops receive their state object
            (a variable slot, an RNG) as the first argument.
        infer: static rule ``infer(inputs, attrs) -> [(dims, dtype), ...]`` over input
            objects with ``.dtype`` and ``.shape``; raises ValueError on shape errors.
        num_outputs: an int, or ``f(attrs) -> int`` for ops such as Split.
        stateful: the op reads or writes state that outlives one step.
        make_state: ``f(attrs) -> state`` for stateful ops; ``state_key(attrs)`` names the
            state so several ops (a variable's read and its assigns) share it.
    """

    type: str
    forward: Callable
    infer: Callable | None = None
    num_outputs: int | Callable = 1
    stateful: bool = False
    make_state: Callable | None = None
    state_key: Callable | None = None
    same_dtype: bool = False
    extra: dict = field(default_factory=dict)

    def outputs_for(self, attrs) -> int:
        n = self.num_outputs
        return n if isinstance(n, int) else n(attrs)


_OPS: dict[str, OpDef] = {}
_GRADIENTS: dict[str, Callable | None] = {}
_GRADIENT_INPUTS: dict[str, tuple[bool, bool]] = {}  # op type -> (None ok, IndexedSlices ok)
_GENERATION = 0


def gradient_inputs(op_type: str) -> tuple[bool, bool]:
    """What the gradient rule of ``op_type`` accepts besides dense tensors:
    (None for outputs without gradient, `IndexedSlices`)."""
    return _GRADIENT_INPUTS.get(op_type, (False, False))


def register_op(
    op_type: str,
    *,
    infer=None,
    num_outputs=1,
    stateful=False,
    make_state=None,
    state_key=None,
    same_dtype=False,
    **extra,
):
    """Decorator registering ``forward`` as the kernel of a new op type.

    Raises:
        AlreadyExistsError: the op type is already registered.
    """

    def deco(forward):
        if op_type in _OPS:
            raise AlreadyExistsError(None, None, f"Op type {op_type!r} is already registered")
        _OPS[op_type] = OpDef(
            op_type, forward, infer, num_outputs, stateful, make_state, state_key, same_dtype, extra
        )
        return forward

    return deco


def register_gradient(
    op_type: str,
    *,
    override: bool = False,
    accepts_none: bool = False,
    accepts_indexed_slices: bool = False,
):
    """Decorator registering ``grad(op, *output_grads) -> [input_grad or None, ...]``.

    The rule must be written with miniflow ops so that it builds graph nodes in graph
    mode, computes values in eager mode, and can itself be differentiated. It receives
    dense gradients unless ``accepts_indexed_slices`` (the rule passes a sparse gradient
    on, e.g. Identity's). Outputs that received no gradient are passed
    as zeros, or as None when ``accepts_none`` (for multi-output ops whose extra outputs
    are rarely used, so no zeros are computed).

    Raises:
        KeyError: a gradient is already registered for this type (TF's behaviour).
    """

    def deco(fn):
        if op_type in _GRADIENTS and not override:
            raise KeyError(
                f"Registering two gradient with name '{op_type}'! "
                f"(Previous registration was for {_GRADIENTS[op_type]})"
            )
        global _GENERATION
        _GRADIENTS[op_type] = fn
        _GENERATION += 1
        if accepts_none or accepts_indexed_slices:
            _GRADIENT_INPUTS[op_type] = (accepts_none, accepts_indexed_slices)
        else:  # an override declares afresh what it accepts
            _GRADIENT_INPUTS.pop(op_type, None)
        return fn

    return deco


def not_differentiable(*op_types: str) -> None:
    """Declares op types as having no gradient (their inputs receive None)."""
    global _GENERATION
    for t in op_types:
        _GRADIENTS[t] = None
    _GENERATION += 1


def gradient_generation() -> int:
    """Counts gradient registrations: whatever caches gradient code compares it."""
    return _GENERATION


def lookup_op(op_type: str) -> OpDef:
    try:
        return _OPS[op_type]
    except KeyError:
        raise NotFoundError(None, None, f"Op type not registered '{op_type}'") from None


def has_op(op_type: str) -> bool:
    return op_type in _OPS


def lookup_gradient(op_type: str):
    """The gradient rule, None for non-differentiable ops.

    Raises:
        LookupError: no gradient was registered or declared for this type.
    """
    try:
        return _GRADIENTS[op_type]
    except KeyError:
        raise LookupError(
            f"No gradient defined for operation type {op_type!r}. Register "
            f"one with tf.RegisterGradient({op_type!r}), or wrap the input "
            f"in tf.stop_gradient to treat it as a constant."
        ) from None


def registered_ops() -> dict[str, OpDef]:
    return dict(_OPS)


def registered_gradients() -> dict:
    return dict(_GRADIENTS)


@functools.cache
def _kernel_params(forward):
    try:
        params = inspect.signature(forward).parameters.values()
    except ValueError:  # NumPy 1.x ufuncs have no signature; kernels that are ufuncs take
        return frozenset()  # their inputs only, never attrs
    if any(p.kind is p.VAR_KEYWORD for p in params):
        return None
    return frozenset(p.name for p in params)


_KEEP: dict = {}  # (kernel, attr names) -> names to pass, or True for all of them


def kernel_attrs(opdef: OpDef, attrs: dict) -> dict:
    """The attrs that ``opdef.forward`` accepts as keyword arguments (private attrs, those
    starting with '_', are never passed)."""
    names = tuple(attrs)
    keep = _KEEP.get((opdef.forward, names))
    if keep is None:
        accepted = _kernel_params(opdef.forward)
        keep = tuple(k for k in names if k[0] != "_" and (accepted is None or k in accepted))
        keep = _KEEP[(opdef.forward, names)] = True if keep == names else keep
    if keep is True:
        return attrs
    return {k: attrs[k] for k in keep} if keep else _NONE


_NONE: dict = {}  # never mutated: callers pass it on as **kwargs or copy it
