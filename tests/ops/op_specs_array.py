"""Gradient table for the issue-13 array ops (gather/scatter N-d, reverse, roll,
reverse_sequence, ensure_shape). Rows use `op_specs.OpSpec` and are run by
`test_op_gradients.py` (with the eager/graph parity check) exactly like the core table."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import miniflow as tf
from tests.ops.op_specs import Case, OpSpec, nonscalar_st, unary


def _rng(draw):
    return np.random.default_rng(draw(st.integers(0, 2**16)))


@st.composite
def gather_nd_case(draw, batch=False):
    shape = draw(st.lists(st.integers(1, 3), min_size=2 if batch else 1, max_size=3).map(tuple))
    rng = _rng(draw)
    b = 1 if batch else 0
    q = draw(st.integers(0 if not batch else 1, len(shape) - b))
    lead = shape[:b] + tuple(draw(st.lists(st.integers(1, 3), max_size=1)))
    idx = (
        np.stack([rng.integers(0, shape[b + k], size=lead) for k in range(q)], -1)
        if q
        else np.zeros(lead + (0,), np.int64)
    )
    return Case((shape,), {"indices": idx.astype(np.int64), "batch_dims": b})


@st.composite
def scatter_nd_case(draw):
    shape = draw(nonscalar_st)
    rng = _rng(draw)
    q = draw(st.integers(1, len(shape)))
    n = draw(st.integers(1, 3))
    idx = np.stack([rng.integers(0, shape[k], size=n) for k in range(q)], -1)
    return Case(((n,) + shape[q:],), {"indices": idx, "shape": shape})


@st.composite
def tensor_scatter_case(draw, unique=False):
    shape = draw(nonscalar_st)
    rng = _rng(draw)
    q = draw(st.integers(1, len(shape)))
    cells = int(np.prod(shape[:q]))
    n = draw(st.integers(1, cells if unique else 3))
    flat = rng.choice(cells, size=n, replace=not unique)
    idx = np.stack(np.unravel_index(flat, shape[:q]), -1)
    return Case((shape, (n,) + shape[q:]), {"indices": idx})


@st.composite
def reverse_case(draw):
    shape = draw(nonscalar_st)
    axes = draw(
        st.lists(
            st.integers(-len(shape), len(shape) - 1),
            max_size=len(shape),
            unique_by=lambda a: a % len(shape),
        )
    )
    return Case((shape,), {"axis": axes})


@st.composite
def roll_case(draw):
    shape = draw(nonscalar_st)
    axes = draw(st.lists(st.integers(0, len(shape) - 1), min_size=1, max_size=2))
    shifts = draw(st.lists(st.integers(-4, 4), min_size=len(axes), max_size=len(axes)))
    return Case((shape,), {"shift": shifts, "axis": axes})


@st.composite
def reverse_sequence_case(draw):
    shape = draw(st.lists(st.integers(1, 3), min_size=2, max_size=3).map(tuple))
    batch_axis, seq_axis = draw(st.permutations(range(len(shape))))[:2]
    rng = _rng(draw)
    lengths = rng.integers(0, shape[seq_axis] + 1, size=shape[batch_axis])
    return Case((shape,), {"lengths": lengths, "seq_axis": seq_axis, "batch_axis": batch_axis})


def _distinct(rng, shape):
    """Distinct values (no ties between the tensor and its updates for min/max)."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.1 + rng.uniform(-1, 1) - size * 0.05).reshape(shape)


def _distinct_all(rng, shape, index):
    return _distinct(rng, shape) + (0.05 if index else 0.0)


_distinct_all.per_input = True

SPECS = [
    OpSpec(
        "GatherNd",
        lambda x, indices, batch_dims: tf.gather_nd(x, indices, batch_dims=batch_dims),
        gather_nd_case(),
    ),
    OpSpec(
        "GatherNd",
        lambda x, indices, batch_dims: tf.gather_nd(x, indices, batch_dims=batch_dims),
        gather_nd_case(batch=True),
        label="batch_dims",
    ),
    OpSpec(
        "ScatterNd", lambda u, indices, shape: tf.scatter_nd(indices, u, shape), scatter_nd_case()
    ),
    OpSpec(
        "TensorScatterUpdate",
        lambda x, u, indices: tf.tensor_scatter_nd_update(x, indices, u),
        tensor_scatter_case(unique=True),
    ),
    OpSpec(
        "TensorScatterAdd",
        lambda x, u, indices: tf.tensor_scatter_nd_add(x, indices, u),
        tensor_scatter_case(),
    ),
    OpSpec(
        "TensorScatterSub",
        lambda x, u, indices: tf.tensor_scatter_nd_sub(x, indices, u),
        tensor_scatter_case(),
    ),
    OpSpec(
        "TensorScatterMin",
        lambda x, u, indices: tf.tensor_scatter_nd_min(x, indices, u),
        tensor_scatter_case(unique=True),
        _distinct_all,
    ),
    OpSpec(
        "TensorScatterMax",
        lambda x, u, indices: tf.tensor_scatter_nd_max(x, indices, u),
        tensor_scatter_case(unique=True),
        _distinct_all,
    ),
    OpSpec("ReverseV2", lambda x, axis: tf.reverse(x, axis), reverse_case()),
    OpSpec("Roll", lambda x, shift, axis: tf.roll(x, shift, axis), roll_case()),
    OpSpec(
        "ReverseSequence",
        lambda x, lengths, seq_axis, batch_axis: tf.reverse_sequence(
            x, lengths, seq_axis=seq_axis, batch_axis=batch_axis
        ),
        reverse_sequence_case(),
    ),
    OpSpec("EnsureShape", lambda x: tf.ensure_shape(x * x, x.shape), unary()),
]

COVERED_OP_TYPES = {s.op_type for s in SPECS}
EAGER_PARITY = True
