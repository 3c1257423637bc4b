"""The public way to add ops and gradients (TF1's `tf.RegisterGradient` included).

Adding an op::

    from miniflow.extend import register_op, register_gradient, apply_op

    @register_op("Cube", infer=same_shape)     # NumPy kernel
    def _cube(x):
        return x ** 3

    @register_gradient("Cube")                 # written with miniflow ops
    def _cube_grad(op, grad):
        return [grad * 3.0 * tf.square(op.inputs[0])]

    def cube(x, name=None):
        return apply_op("Cube", x, name=name)

The op then works in graph and eager mode and joins `tf.gradients` like a built-in.
"""

from __future__ import annotations

from miniflow.core.dispatch import apply_op as apply_op
from miniflow.core.registry import (
    not_differentiable as _not_differentiable,
    register_gradient,
    register_op as register_op,
)
from miniflow.ops.shape_rules import broadcast as broadcast_shapes, same_as_first as same_shape

__all__ = [
    "apply_op",
    "register_op",
    "register_gradient",
    "RegisterGradient",
    "NotDifferentiable",
    "same_shape",
    "broadcast_shapes",
]


class RegisterGradient:
    """Decorator registering a gradient function for an op type (TF1 API).

    Use with ``g.gradient_override_map({"Square": "MySquareGrad"})`` to replace a
    built-in op's gradient inside a block.
    """

    def __init__(self, op_type: str):
        if not isinstance(op_type, str):
            raise TypeError("op_type must be a string")
        self._op_type = op_type

    def __call__(self, fn):
        register_gradient(self._op_type)(fn)
        return fn


def NotDifferentiable(op_type: str) -> None:  # noqa: N802  TF's public name
    """Declares that ops of ``op_type`` have no gradient."""
    _not_differentiable(op_type)
