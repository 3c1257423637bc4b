"""Gradient spec rows for the `tf.nn`, `tf.linalg` and control-flow ops (issue 4).

Each row names the op types it exercises, a function of tensors, and a sampler giving
float64 inputs (plus integer inputs that are not differentiated) for a small size ``n``.
Samplers keep inputs where the function is smooth (away from kinks and ties).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

import miniflow as tf
from miniflow.extend import apply_op


@dataclass(frozen=True)
class NNSpec:
    name: str
    ops: tuple  # op types covered by this row
    fn: object  # (*inputs) -> tensor
    make: object  # (rng, n) -> list of arrays
    wrt: tuple = None  # indices of differentiable inputs (default: all float inputs)
    order: int = 1  # 2: also check the gradient of the gradient
    tol: float = 1e-5
    extra: dict = field(default_factory=dict)


def _away(rng, shape, lo=0.1):
    """Normal samples pushed at least ``lo`` away from zero (kinks at 0)."""
    u = rng.standard_normal(shape)
    return np.sign(u) * (lo + np.abs(u))


def _normal(*shape):
    return lambda rng, n: [rng.standard_normal(tuple(n if s == "n" else s for s in shape))]


def _img(rng, n, c=2):
    return rng.standard_normal((n, 5, 4, c))


def _distinct(rng, shape):
    """Values with gaps >= 0.05 between any two (no ties for max/top-k)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.05 + rng.uniform(0, 0.01)).reshape(shape) - size * 0.025


def _conv(padding, strides=(1, 1), dilations=(1, 1)):
    return lambda x, w: tf.nn.conv2d(x, w, [1, *strides, 1], padding, dilations=[1, *dilations, 1])


def _spd(rng, n):
    a = rng.standard_normal((n + 1, n + 1))
    return a @ a.T + (n + 1) * np.eye(n + 1)


NN_SPECS = [
    NNSpec("softplus", ("Softplus",), tf.nn.softplus, _normal("n", 3), order=2),
    NNSpec("elu", ("Elu",), tf.nn.elu, lambda r, n: [_away(r, (n, 3))], order=2),
    NNSpec("selu", (), tf.nn.selu, lambda r, n: [_away(r, (n, 3))]),
    NNSpec("relu6", (), tf.nn.relu6, lambda r, n: [_away(r, (n, 4)) * 2 + 0.0]),
    NNSpec("leaky_relu", (), lambda x: tf.nn.leaky_relu(x, 0.3), lambda r, n: [_away(r, (n, 3))]),
    NNSpec("softsign", ("Softsign",), tf.nn.softsign, lambda r, n: [_away(r, (n, 3))], order=2),
    NNSpec("softmax", ("Softmax",), tf.nn.softmax, _normal("n", 4), order=2),
    NNSpec("softmax_axis0", ("Softmax",), lambda x: tf.nn.softmax(x, axis=0), _normal(3, "n")),
    NNSpec("log_softmax", ("LogSoftmax",), tf.nn.log_softmax, _normal("n", 4), order=2),
    NNSpec(
        "softmax_xent_v2",
        (),
        lambda lab, x: tf.nn.softmax_cross_entropy_with_logits_v2(labels=lab, logits=x),
        lambda r, n: [r.dirichlet(np.ones(4), n), r.standard_normal((n, 4)) * 3],
    ),
    NNSpec(
        "sparse_softmax_xent",
        ("SparseSoftmaxCrossEntropyWithLogits",),
        lambda x, lab: tf.nn.sparse_softmax_cross_entropy_with_logits(labels=lab, logits=x),
        lambda r, n: [r.standard_normal((n, 4)) * 3, r.integers(0, 4, n)],
        order=2,
    ),
    NNSpec(
        "sparse_softmax_xent_backprop_output",
        ("SparseSoftmaxCrossEntropyWithLogits",),
        lambda x, lab: apply_op("SparseSoftmaxCrossEntropyWithLogits", x, lab)[1],
        lambda r, n: [r.standard_normal((n, 4)) * 3, r.integers(0, 4, n)],
        order=2,
    ),
    NNSpec(
        "sigmoid_xent",
        (),
        lambda lab, x: tf.nn.sigmoid_cross_entropy_with_logits(labels=lab, logits=x),
        lambda r, n: [r.uniform(0, 1, (n, 3)), r.standard_normal((n, 3)) * 4],
    ),
    NNSpec(
        "weighted_xent",
        (),
        lambda lab, x: tf.nn.weighted_cross_entropy_with_logits(lab, x, 2.5),
        lambda r, n: [r.uniform(0, 1, (n, 3)), r.standard_normal((n, 3)) * 4],
    ),
    NNSpec("l2_loss", (), tf.nn.l2_loss, _normal("n", 3)),
    NNSpec("l2_normalize", (), lambda x: tf.nn.l2_normalize(x, axis=1), _normal("n", 3)),
    NNSpec(
        "bias_add",
        (),
        tf.nn.bias_add,
        lambda r, n: [r.standard_normal((n, 2, 3)), r.standard_normal(3)],
    ),
    NNSpec(
        "moments",
        (),
        lambda x: tf.add_n(list(tf.nn.moments(x, [0]))),
        _normal("n", 3),
        extra={"min_n": 2},
    ),
    NNSpec(
        "batch_normalization",
        (),
        lambda x, m, v, o, s: tf.nn.batch_normalization(x, m, v, o, s, 1e-3),
        lambda r, n: [
            r.standard_normal((n, 3)),
            r.standard_normal(3),
            r.uniform(0.5, 2, 3),
            r.standard_normal(3),
            r.standard_normal(3),
        ],
    ),
    NNSpec(
        "conv2d_valid",
        ("Conv2D",),
        _conv("VALID"),
        lambda r, n: [_img(r, n), r.standard_normal((2, 3, 2, 3))],
        order=2,
    ),
    NNSpec(
        "conv2d_same_strided",
        ("Conv2D",),
        _conv("SAME", (2, 2)),
        lambda r, n: [_img(r, n), r.standard_normal((3, 2, 2, 2))],
    ),
    NNSpec(
        "conv2d_dilated",
        ("Conv2D",),
        _conv("SAME", dilations=(2, 1)),
        lambda r, n: [_img(r, n), r.standard_normal((2, 2, 2, 1))],
    ),
    NNSpec(
        "conv2d_backprop_input",
        ("Conv2DBackpropInput",),
        lambda w, dy: tf.nn.conv2d_backprop_input(
            [dy.shape[0], 5, 4, 2], w, dy, [1, 2, 1, 1], "SAME"
        ),
        lambda r, n: [r.standard_normal((2, 3, 2, 3)), r.standard_normal((n, 3, 4, 3))],
        order=2,
    ),
    NNSpec(
        "conv2d_backprop_filter",
        ("Conv2DBackpropFilter",),
        lambda x, dy: tf.nn.conv2d_backprop_filter(x, [2, 2, 2, 3], dy, [1, 1, 2, 1], "VALID"),
        lambda r, n: [_img(r, n), r.standard_normal((n, 4, 2, 3))],
        order=2,
    ),
    NNSpec(
        "conv2d_transpose",
        ("Conv2DBackpropInput",),
        lambda v, w: tf.nn.conv2d_transpose(v, w, [v.shape[0], 6, 4, 2], [1, 2, 2, 1], "SAME"),
        lambda r, n: [r.standard_normal((n, 3, 2, 3)), r.standard_normal((3, 3, 2, 3))],
    ),
    NNSpec(
        "max_pool_same",
        ("MaxPool", "MaxPoolGrad"),
        lambda x: tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"),
        lambda r, n: [_distinct(r, (n, 5, 4, 2))],
        order=2,
    ),
    NNSpec(
        "max_pool_valid_overlap",
        ("MaxPool",),
        lambda x: tf.nn.max_pool(x, [1, 3, 2, 1], [1, 1, 1, 1], "VALID"),
        lambda r, n: [_distinct(r, (n, 5, 4, 2))],
    ),
    NNSpec(
        "max_pool_grad",
        ("MaxPoolGrad", "MaxPoolGradGrad"),
        lambda x, dy: (
            tf.gradients(tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME"), x, grad_ys=dy)[0]
            if not tf.executing_eagerly()
            else _eager_max_pool_grad(x, dy)
        ),
        lambda r, n: [_distinct(r, (n, 5, 4, 2)), r.standard_normal((n, 3, 2, 2))],
        wrt=(1,),
        order=2,
    ),
    NNSpec(
        "avg_pool_same",
        ("AvgPool", "AvgPoolGrad"),
        lambda x: tf.nn.avg_pool(x, [1, 3, 2, 1], [1, 2, 1, 1], "SAME"),
        lambda r, n: [_img(r, n)],
        order=2,
    ),
    NNSpec(
        "avg_pool_valid",
        ("AvgPool",),
        lambda x: tf.nn.avg_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "VALID"),
        lambda r, n: [_img(r, n)],
    ),
    NNSpec(
        "top_k",
        ("TopKV2",),
        lambda x: tf.nn.top_k(x, 2)[0],
        lambda r, n: [_distinct(r, (n, 4))],
        order=2,
    ),
    NNSpec(
        "embedding_lookup_partitioned",
        ("DynamicPartition", "DynamicStitch"),
        lambda p0, p1, ids: tf.nn.embedding_lookup([p0, p1], ids),
        lambda r, n: [
            r.standard_normal((3, 2)),
            r.standard_normal((2, 2)),
            r.integers(0, 5, (n, 2)),
        ],
    ),
    NNSpec(
        "embedding_lookup_div",
        ("DynamicPartition", "DynamicStitch"),
        lambda p0, p1, ids: tf.nn.embedding_lookup([p0, p1], ids, partition_strategy="div"),
        lambda r, n: [r.standard_normal((3, 2)), r.standard_normal((2, 2)), r.integers(0, 5, (n,))],
    ),
]


def _eager_max_pool_grad(x, dy):
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.nn.max_pool(x, [1, 2, 2, 1], [1, 2, 2, 1], "SAME")
    return tape.gradient(y, x, output_gradients=dy)


NN_SPECS += [
    NNSpec(
        "reduce_logsumexp", (), lambda x: tf.reduce_logsumexp(x, axis=1), _normal("n", 4), order=2
    ),
    NNSpec("log_sigmoid", (), tf.math.log_sigmoid, _normal("n", 3)),
]


def _py_sin(x):
    return tf.py_func(np.sin, [x], tf.float64, grad=lambda op, g: [g * tf.cos(op.inputs[0])])


NN_SPECS += [
    NNSpec("py_func_with_grad", ("PyFunc",), _py_sin, _normal("n", 3), order=2),
    NNSpec(
        "print",
        ("Print",),
        lambda x: tf.Print(x, [x], "x: ", first_n=0) * x,
        _normal("n", 2),
        order=2,
    ),
    NNSpec(
        "cond",
        ("CondMerge", "CondEnter", "CondExit"),
        lambda x: tf.cond(tf.reduce_sum(x) > 0, lambda: tf.sin(x), lambda: x * x),
        _normal("n", 3),
        order=2,
    ),
    NNSpec(
        "cond_nested",
        ("CondMerge", "CondEnter", "CondExit"),
        lambda x: tf.cond(
            tf.reduce_sum(x) > 0,
            lambda: tf.cond(tf.reduce_max(x) > 1.0, lambda: x * 3.0, lambda: tf.exp(x)),
            lambda: x * x,
        ),
        _normal("n", 3),
    ),
]


def _well_conditioned(rng, n):
    return rng.standard_normal((n + 1, n + 1)) + 2 * (n + 1) * np.eye(n + 1)


def _sym(a):
    return 0.5 * (a + tf.transpose(a))


NN_SPECS += [
    NNSpec(
        "matrix_inverse",
        ("MatrixInverse",),
        tf.linalg.inv,
        lambda r, n: [_well_conditioned(r, n)],
        order=2,
    ),
    NNSpec(
        "matrix_determinant",
        ("MatrixDeterminant",),
        tf.linalg.det,
        lambda r, n: [_well_conditioned(r, n)],
        order=2,
    ),
    NNSpec(
        "matrix_solve",
        ("MatrixSolve",),
        tf.linalg.solve,
        lambda r, n: [_well_conditioned(r, n), r.standard_normal((n + 1, 2))],
        order=2,
    ),
    NNSpec(
        "matrix_solve_adjoint",
        ("MatrixSolve",),
        lambda a, b: tf.linalg.solve(a, b, adjoint=True),
        lambda r, n: [_well_conditioned(r, n), r.standard_normal((n + 1, 2))],
    ),
    NNSpec(
        "cholesky",
        ("Cholesky",),
        lambda a: tf.linalg.cholesky(_sym(a)),
        lambda r, n: [_spd(r, n)],
        order=2,
    ),
    NNSpec(
        "band_part", ("MatrixBandPart",), lambda a: tf.linalg.band_part(a, 1, 0), _normal(3, "n")
    ),
    NNSpec(
        "logdet_trace",
        (),
        lambda a: tf.linalg.logdet(_sym(a)) + tf.linalg.trace(a),
        lambda r, n: [_spd(r, n)],
    ),
]

COVERED_OP_TYPES = {t for s in NN_SPECS for t in s.ops}
