"""Gradient table for the issue-13 functional ops: custom_gradient's ``IdentityN``,
py_function's ``EagerPyFunc``, TensorArray's ``TensorArrayFit``, and TensorArrays,
scan and folds through while loops. Rows use `op_specs.OpSpec` and are run by
`test_op_gradients.py` (with the eager/graph parity check) exactly like the core table."""

from __future__ import annotations

from hypothesis import strategies as st

import miniflow as tf
from miniflow.extend import apply_op
from tests.ops.op_specs import Case, OpSpec, nonscalar_st, unary


@tf.custom_gradient
def _sin_times(x):
    def grad(dy):
        return dy * (tf.cos(x) * x + tf.sin(x))

    return tf.sin(x) * x, grad


@tf.custom_gradient
def _product_and_sum(a, b):
    def grad(da, db):
        return da * b + db, da * a + db

    return (a * b, a + b), grad


@st.composite
def same_two(draw):
    s = draw(nonscalar_st)
    return Case((s, s))


@st.composite
def fit_case(draw):
    rows = draw(st.integers(1, 3))
    elem = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    target = draw(st.integers(1, 4))
    ref = (target,) + elem if draw(st.booleans()) else (target,)
    return Case(((rows,) + elem,), {"ref": ref})


def _fit(x, ref):
    return apply_op("TensorArrayFit", x, tf.zeros(ref, tf.float64))


def _ta_ops(x):
    """Writes, reads, gathers, concat and split of a TensorArray (no loop)."""
    n = 3
    ta = tf.TensorArray(tf.float64, size=n)
    for i in range(n):
        ta = ta.write(i, x * float(i + 1))
    grown = (
        tf.TensorArray(tf.float64, size=0, dynamic_size=True)
        .unstack(tf.stack([x, tf.sin(x)]))
        .write(3, x * x)
    )
    return [ta.stack(), ta.read(1) * ta.read(2), ta.gather([2, 0]), ta.concat(), grown.stack()]


def _ta_loop(x):
    n = 3
    ta = tf.TensorArray(tf.float64, size=n)

    def body(i, acc, ta):
        acc = tf.sin(acc) * x
        return i + 1, acc, ta.write(i, acc)

    _, last, ta = tf.while_loop(lambda i, a, t: i < n, body, [tf.constant(0), x, ta])
    return [ta.stack(), last]


def _scan(x):
    return tf.scan(lambda a, e: a * tf.sin(e) + e, x)


def _scan_init_reverse(x):
    return tf.scan(
        lambda a, e: (a[0] * e, a[1] + e * e),
        x,
        initializer=(tf.ones_like(x[0]), tf.zeros_like(x[0])),
        reverse=True,
    )


def _foldl(x):
    return tf.foldl(lambda a, e: a * e + tf.sin(a), x)


def _foldr(x):
    return tf.foldr(lambda a, e: a * e + tf.sin(a), x, initializer=tf.ones_like(x[0]))


SPECS = [
    OpSpec("IdentityN", lambda x: _sin_times(x), unary(), label="custom_gradient"),
    OpSpec(
        "IdentityN",
        lambda a, b: list(_product_and_sum(a, b)),
        same_two(),
        label="custom_gradient-two-args",
    ),
    OpSpec(
        "EagerPyFunc", lambda x: tf.py_function(lambda a: tf.sin(a) * a, [x], tf.float64), unary()
    ),
    OpSpec("TensorArrayFit", _fit, fit_case()),
    OpSpec("TensorScatterUpdate", _ta_ops, unary(nonscalar_st), label="tensor-array"),
    OpSpec("While", _ta_loop, unary(nonscalar_st), order=1, label="tensor-array-loop"),
    OpSpec("While", _scan, unary(nonscalar_st), order=1, label="scan"),
    OpSpec(
        "While", _scan_init_reverse, unary(nonscalar_st), order=1, label="scan-initializer-reverse"
    ),
    OpSpec("While", _foldl, unary(nonscalar_st), order=1, label="foldl"),
    OpSpec("While", _foldr, unary(nonscalar_st), order=1, label="foldr"),
]

COVERED_OP_TYPES = {"IdentityN", "EagerPyFunc", "TensorArrayFit"}
EAGER_PARITY = True
