"""TF's dispatch of dense functions to their ragged versions: ``tf.reduce_sum(rt, axis)``,
``tf.gather(rt, i)``, ``tf.concat([rt, ...], axis)`` and the unary element-wise ops
(``tf.square(rt)``, on the flat values) accept RaggedTensors. The dense functions look
the ragged version up only when converting their argument failed (`math_ops.ragged_impl`),
so dense calls cost nothing more."""

from __future__ import annotations

from miniflow.ops import array_ops, math_ops
from miniflow.ragged import ragged_ops
from miniflow.ragged.ragged_tensor import RaggedTensor

_UNARY = (
    "negative",
    "sign",
    "square",
    "sqrt",
    "rsqrt",
    "reciprocal",
    "exp",
    "expm1",
    "log",
    "log1p",
    "sigmoid",
    "tanh",
    "relu",
    "sin",
    "cos",
    "tan",
    "floor",
    "ceil",
    "round",
    "logical_not",
    "is_nan",
    "is_inf",
    "is_finite",
    "abs",
)
_REDUCTIONS = (
    "reduce_sum",
    "reduce_mean",
    "reduce_max",
    "reduce_min",
    "reduce_prod",
    "reduce_all",
    "reduce_any",
)


def _on_flat_values(fn):
    def apply(x, name=None):
        return ragged_ops.map_flat_values(fn, x, name=name)

    return apply


def install():
    for name in _UNARY:
        fn = getattr(math_ops, name)
        math_ops.register_ragged_dispatch(fn, _on_flat_values(fn), RaggedTensor)
    for name in _REDUCTIONS:
        math_ops.register_ragged_dispatch(
            getattr(math_ops, name), getattr(ragged_ops, name), RaggedTensor
        )
    math_ops.register_ragged_dispatch(array_ops.gather, ragged_ops.gather, RaggedTensor)
    math_ops.register_ragged_dispatch(array_ops.concat, ragged_ops.concat, RaggedTensor)


install()
