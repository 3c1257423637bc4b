"""Gradient rows for the op types added by the issue-13 correctness fixes, checked
against finite differences by `test_op_gradients.py`: the graph-mode `While`
op (a reverse loop over replayed iterations; `WhileGrad` has no gradient of its own, so
these rows are first order). `Softsign`'s row is in `op_specs_nn.py`."""

from __future__ import annotations

from hypothesis import strategies as st

import miniflow as tf
from tests.ops.op_specs import Case, OpSpec, binary_broadcast, small, unary


def _loop(x, y, steps):
    """``steps`` iterations of a body mixing the loop variable and a captured tensor."""
    return tf.while_loop(
        lambda i, v: i < steps,
        lambda i, v: (i + 1, tf.sin(v) * y + 0.5 * v),
        [tf.constant(0), x + 0.0 * y],
    )[1]


def _loop_with_cond(x, steps):
    def body(i, v):
        return i + 1, tf.cond(tf.reduce_sum(v) > 0, lambda: v * v * 0.5, lambda: tf.tanh(v))

    return tf.while_loop(lambda i, v: i < steps, body, [tf.constant(0), x])[1]


def _nested(x, steps):
    def outer(j, v):
        return j + 1, tf.while_loop(
            lambda t, u: t < 2, lambda t, u: (t + 1, tf.sin(u) * x), [tf.constant(0), v]
        )[1]

    return tf.while_loop(lambda j, v: j < steps, outer, [tf.constant(0), x])[1]


@st.composite
def _with_steps(draw, base):
    case = draw(base)
    return Case(case.shapes, {"steps": draw(st.integers(0, 3))})


SPECS = [
    OpSpec("While", _loop, _with_steps(binary_broadcast()), small, order=1, label="capture"),
    OpSpec("While", _loop_with_cond, _with_steps(unary()), small, order=1, label="cond"),
    OpSpec("While", _nested, _with_steps(unary()), small, order=1, label="nested"),
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
MAX_EXAMPLES = 8
