"""Neural-network ops: softmax and losses, convolution, pooling, top-k, normalisation."""

from __future__ import annotations

import numpy as np

from conformance.case import FLOATS, NUMERIC, Arg, Case, Variant, integers, positive, real


def distribution(rng, shape, dtype):
    """Rows (last axis) that sum to one: soft labels."""
    v = rng.uniform(0.1, 1.0, size=shape)
    return (v / v.sum(axis=-1, keepdims=True)).astype(dtype) if v.size else v.astype(dtype)


def softmax_xent(tf, labels, logits):
    return tf.nn.softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def softmax_xent_v2(tf, labels, logits):
    return tf.nn.softmax_cross_entropy_with_logits_v2(labels=labels, logits=logits)


def sparse_softmax_xent(tf, labels, logits):
    return tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)


def sigmoid_xent(tf, labels, logits):
    return tf.nn.sigmoid_cross_entropy_with_logits(labels=labels, logits=logits)


def batch_norm(tf, x, mean, var, offset, scale):
    return tf.nn.batch_normalization(x, mean, var, offset, scale, 1e-3)


def dropout(tf, x, rate=0.5):
    return tf.nn.dropout(x, rate=rate)


def in_top_k(tf, predictions, targets, k=1):
    return tf.nn.in_top_k(predictions, targets, k)


def embedding_lookup(tf, params, ids):
    return tf.nn.embedding_lookup(params, ids)


def conv2d_transpose(tf, x, f, output_shape=(1, 4, 4, 2), strides=(1, 1, 1, 1), padding="SAME"):
    return tf.nn.conv2d_transpose(x, f, list(output_shape), list(strides), padding)


def _v(*pairs):
    return [Variant(shapes, kwargs) for shapes, kwargs in pairs]


SOFTMAX_SHAPES = [(2, 3), (3,), (1, 1), (2, 0), (0, 3), (2, 3, 4)]
XENT_SHAPES = [(2, 3), (1, 4), (3, 1), (0, 3), (2, 2, 3)]

CONV = [
    (((1, 5, 5, 2), (3, 3, 2, 3)), {"strides": [1, 1, 1, 1], "padding": "SAME"}),
    (((2, 5, 4, 1), (2, 3, 1, 2)), {"strides": [1, 2, 2, 1], "padding": "VALID"}),
    (((1, 6, 6, 2), (3, 3, 2, 1)), {"strides": [1, 2, 1, 1], "padding": "SAME"}),
    (((1, 3, 3, 1), (1, 1, 1, 2)), {"strides": [1, 1, 1, 1], "padding": "VALID"}),
    (((0, 4, 4, 1), (2, 2, 1, 1)), {"strides": [1, 1, 1, 1], "padding": "SAME"}),
    (
        ((1, 5, 5, 1), (2, 2, 1, 1)),
        {"strides": [1, 1, 1, 1], "padding": "VALID", "dilations": [1, 2, 2, 1]},
    ),
]
POOL = [
    (((1, 4, 4, 2),), {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
    (((2, 5, 5, 1),), {"ksize": [1, 3, 3, 1], "strides": [1, 2, 2, 1], "padding": "SAME"}),
    (((1, 3, 4, 1),), {"ksize": [1, 2, 1, 1], "strides": [1, 1, 1, 1], "padding": "SAME"}),
    (((0, 4, 4, 1),), {"ksize": [1, 2, 2, 1], "strides": [1, 2, 2, 1], "padding": "VALID"}),
]

CASES = [
    Case(
        "nn.softmax",
        (Arg(real),),
        [Variant((s,)) for s in SOFTMAX_SHAPES] + _v((((2, 3),), {"axis": 0})),
        specials=True,
    ),
    Case(
        "nn.log_softmax",
        (Arg(real),),
        [Variant((s,)) for s in SOFTMAX_SHAPES] + _v((((2, 3),), {"axis": 0})),
        specials=True,
    ),
    Case(softmax_xent, (Arg(distribution), Arg(real)), [Variant((s, s)) for s in XENT_SHAPES]),
    Case(
        softmax_xent_v2, (Arg(distribution), Arg(real)), [Variant((s, s)) for s in XENT_SHAPES[:3]]
    ),
    Case(
        softmax_xent,
        (Arg(positive), Arg(real)),
        [Variant(((2, 3), (2, 3)))],
        label="unnormalized-labels",
    ),
    Case(
        softmax_xent,
        (Arg(distribution, "float64"), Arg(real)),
        [Variant(((2, 3), (2, 3)))],
        ("float32",),
        label="float64-labels",
    ),
    Case(
        sparse_softmax_xent,
        (Arg(integers(0, 3), "int32", diff=False), Arg(real)),
        _v(
            (((2,), (2, 3)), {}),
            (((4,), (4, 3)), {}),
            (((0,), (0, 3)), {}),
            (((2, 2), (2, 2, 3)), {}),
        ),
    ),
    Case(
        sparse_softmax_xent,
        (Arg(integers(3, 5), "int32", diff=False), Arg(real)),
        _v((((2,), (2, 3)), {})),
        order=0,
        label="bad-label",
    ),
    Case(
        sigmoid_xent,
        (Arg(distribution), Arg(real)),
        [Variant((s, s)) for s in XENT_SHAPES],
        specials=True,
    ),
    Case("nn.conv2d", (Arg(real), Arg(real)), _v(*CONV)),
    Case(
        conv2d_transpose,
        (Arg(real), Arg(real)),
        _v(
            (((1, 4, 4, 3), (3, 3, 2, 3)), {}),
            (((1, 2, 2, 1), (3, 3, 2, 1)), {"strides": (1, 2, 2, 1)}),
            (((1, 2, 2, 1), (2, 2, 2, 1)), {"strides": (1, 2, 2, 1), "padding": "VALID"}),
        ),
    ),
    Case("nn.max_pool", (Arg(real),), _v(*POOL)),
    Case("nn.avg_pool", (Arg(real),), _v(*POOL)),
    Case(
        "nn.top_k",
        (Arg(real),),
        _v(
            (((5,),), {"k": 2}), (((2, 4),), {"k": 4}), (((3, 3),), {"k": 0}), (((0, 3),), {"k": 1})
        ),
        order=1,
    ),
    Case("nn.top_k", (Arg(real),), _v((((2, 3),), {"k": 4})), order=0, label="k-too-big"),
    Case(
        in_top_k,
        (Arg(real), Arg(integers(0, 4), "int32", diff=False)),
        _v((((3, 4), (3,)), {"k": 1}), (((3, 4), (3,)), {"k": 2}), (((0, 4), (0,)), {"k": 1})),
        ("float32",),
        0,
    ),
    Case(
        "nn.moments",
        (Arg(real),),
        _v(
            (((4, 3),), {"axes": [0]}),
            (((2, 3, 2),), {"axes": [0, 1]}),
            (((4, 3),), {"axes": [1], "keep_dims": True}),
        ),
    ),
    Case(
        batch_norm,
        (Arg(real), Arg(real), Arg(positive), Arg(real), Arg(real)),
        [Variant(((4, 3), (3,), (3,), (3,), (3,))), Variant(((2, 2, 3), (3,), (3,), (3,), (3,)))],
    ),
    Case(
        "nn.l2_normalize",
        (Arg(real),),
        _v((((4, 3),), {"axis": 1}), (((3,),), {}), (((2, 3),), {"axis": [0, 1]})),
    ),
    Case(
        "nn.bias_add",
        (Arg(real), Arg(real)),
        _v((((2, 3), (3,)), {}), (((2, 2, 3), (3,)), {}), (((0, 3), (3,)), {})),
        NUMERIC,
    ),
    Case("nn.bias_add", (Arg(real), Arg(real)), _v((((2, 3), (2,)), {})), label="bad-bias"),
    Case(
        dropout,
        (Arg(positive),),
        _v((((2000,),), {}), (((50, 40),), {"rate": 0.2})),
        compare="stats",
        order=0,
        eager=False,
    ),
    Case(
        embedding_lookup,
        (Arg(real), Arg(integers(0, 4), "int32", diff=False)),
        _v((((4, 3), (5,)), {}), (((4,), (2, 2)), {}), (((4, 2), (0,)), {})),
    ),
    Case("nn.sigmoid", (Arg(real),), [Variant(((2, 3),))], FLOATS),
    Case("nn.tanh", (Arg(real),), [Variant(((2, 3),))], FLOATS),
    Case("nn.relu", (Arg(real),), [Variant((np.array([]).shape,))], FLOATS, label="empty"),
]
