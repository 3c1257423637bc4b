"""`apply_op`: the one entry point ops use. It hands the call to the active front end —
the graph builder (the default) or the eager executor — which register themselves here,
so this layer never imports them."""

from __future__ import annotations

from miniflow.core.registry import lookup_op

_stack: list = []


def push_frontend(frontend) -> None:
    _stack.append(frontend)


def pop_frontend(frontend) -> None:
    if not _stack or _stack[-1] is not frontend:
        raise RuntimeError("front-end stack corrupted: popping a front end that is not active")
    _stack.pop()


def current_frontend():
    if not _stack:
        raise RuntimeError("no miniflow front end is registered; import miniflow first")
    return _stack[-1]


def executing_eagerly() -> bool:
    return bool(_stack) and _stack[-1].eager


def apply_op(op_type: str, *inputs, name=None, **attrs):
    """Creates (graph mode) or runs (eager mode) one op of ``op_type``.

    Returns the output tensor, or a tuple of them for multi-output ops.
    """
    return _stack[-1].apply(lookup_op(op_type), inputs, attrs, name)


def binary_operator(op_type: str, name: str, reflected: bool = False):
    """``x <op> y`` for a Python operator: ``apply_op(op_type, x, y, name=name)`` with
    the registry lookup done once (operators run on every eager step)."""
    opdef = lookup_op(op_type)
    stack = _stack
    if reflected:
        return lambda self, other: stack[-1].apply(opdef, (other, self), {}, name)
    return lambda self, other: stack[-1].apply(opdef, (self, other), {}, name)


def is_tensor(value) -> bool:
    """True for a tensor of any front end (graph Tensor, eager tensor)."""
    return any(f.is_tensor(value) for f in _stack)
