"""Gradient rows for the ragged-tensor ops (issue 13), run by
`test_op_gradients_ragged.py` through `miniflow.testing.check_grads`.

`RaggedFillEmptyRows` is the one new op type with a gradient rule. The other rows check
that gradients reach a RaggedTensor's ``flat_values`` through the compositions its
methods build (row gathers over `RaggedRange` indices, segment reductions, `to_tensor`'s
scatter), over fixed row partitions with random values.
"""

from __future__ import annotations

from hypothesis import strategies as st

import miniflow as tf
from tests.ops.op_specs import Case, OpSpec, real

SPLITS = [0, 2, 2, 5, 6]  # 4 rows over 6 values, one empty row


def _fixed(*shapes):
    return st.just(Case(tuple(shapes)))


def _rt(v):
    return tf.RaggedTensor.from_row_splits(v, SPLITS)


def _fill(values, default):
    out = tf.ragged_fill_empty_rows([0, 0, 2, 2, 2, 3], values, 5, default)
    return out.output_values


def _square_sum_rows(v):
    return tf.ragged.reduce_sum(tf.ragged.map_flat_values(tf.square, _rt(v)), axis=1)


def _inner_slice(v):
    return _rt(v)[:, 1:].flat_values * 1.5


def _gather_rows(v):
    return tf.ragged.gather(_rt(v), [3, 0, 2, 0]).flat_values


def _to_tensor(v):
    return _rt(v).to_tensor(default_value=-1.0)


def _mean_rows(v):
    return tf.ragged.reduce_mean(_rt(v) * _rt(v), axis=1)[:1]


SPECS = [
    OpSpec("RaggedFillEmptyRows", _fill, _fixed((6,), ()), real),
    OpSpec("UnsortedSegmentSum", _square_sum_rows, _fixed((6,)), real, label="ragged_sum"),
    OpSpec("RaggedRange", _inner_slice, _fixed((6,)), real, label="ragged_inner_slice"),
    OpSpec("RaggedRange", _gather_rows, _fixed((6,)), real, label="ragged_gather"),
    OpSpec("ScatterNd", _to_tensor, _fixed((6,)), real, label="ragged_to_tensor"),
    OpSpec("UnsortedSegmentSum", _mean_rows, _fixed((6,)), real, label="ragged_mean"),
]

COVERED_OP_TYPES = {"RaggedFillEmptyRows"}
MAX_EXAMPLES = 4
SHAPE_MODES = ("static", "partial")
