"""`tf.SparseTensor` and `tf.SparseTensorValue`: a Python object over three tensors
(``indices`` int64 [N, rank], ``values`` [N], ``dense_shape`` int64 [rank]), as in TF1;
`tf.sparse_placeholder`, and the index checks the sparse kernels share.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.graph.default_session import _session_for
from miniflow.graph.session import register_feed_type, register_fetch_type
from miniflow.ops import array_ops, control_flow_ops
from miniflow.ops.array_ops import _shape_from_tensor
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# SparseTensor, SparseTensorValue, sparse_placeholder.


class SparseTensorValue(NamedTuple):
    """A sparse tensor's value: what `Session.run` returns for a fetched SparseTensor,
    and what a sparse placeholder is fed with."""

    indices: object
    values: object
    dense_shape: object


class SparseTensor:
    """A sparse tensor: ``values[k]`` sits at ``indices[k]`` of a ``dense_shape`` tensor
    whose other entries are zero.

    Args:
        indices: int64 [N, rank] positions of the stored entries.
        values: [N] the stored entries.
        dense_shape: int64 [rank] the shape of the dense tensor.

    Example::

        st = tf.SparseTensor(indices=[[0, 0], [1, 2]], values=[1.0, 2.0],
                             dense_shape=[3, 4])
    """

    def __init__(self, indices, values, dense_shape):
        with control_flow_ops.name_scope(None, "SparseTensor"):
            self._indices = array_ops.convert_to_tensor(indices, dtype=dtypes.int64, name="indices")
            self._values = array_ops.convert_to_tensor(values, name="values")
            self._dense_shape = array_ops.convert_to_tensor(
                dense_shape, dtype=dtypes.int64, name="dense_shape"
            )
        idx, val, shp = dims(self._indices), dims(self._values), dims(self._dense_shape)
        if idx is not None and len(idx) != 2:
            raise ValueError(
                f"SparseTensor indices must be a matrix [N, rank], got shape {TensorShape(idx)}"
            )
        if val is not None and len(val) != 1:
            raise ValueError(
                f"SparseTensor values must be a vector [N], got shape {TensorShape(val)}"
            )
        if shp is not None and len(shp) != 1:
            raise ValueError(
                f"SparseTensor dense_shape must be a vector [rank], got shape {TensorShape(shp)}"
            )

    @classmethod
    def from_value(cls, sparse_tensor_value):
        """A SparseTensor of constants from a `SparseTensorValue`."""
        if isinstance(sparse_tensor_value, SparseTensor):
            return sparse_tensor_value
        return cls(*sparse_tensor_value)

    indices = property(lambda self: self._indices)
    values = property(lambda self: self._values)
    dense_shape = property(lambda self: self._dense_shape)
    dtype = property(lambda self: self._values.dtype)
    op = property(lambda self: self._values.op)
    graph = property(lambda self: self._values.graph)

    @property
    def shape(self) -> TensorShape:
        """The static dense shape (dimensions unknown where not constant)."""
        return TensorShape(_shape_from_tensor(self._dense_shape))

    def get_shape(self) -> TensorShape:
        return self.shape

    def eval(self, feed_dict=None, session=None):
        """The `SparseTensorValue` of this tensor in ``session`` (default session)."""
        return _session_for(self.graph, session).run(self, feed_dict)

    def __repr__(self):
        return (
            f"SparseTensor(indices={self._indices!r}, values={self._values!r}, "
            f"dense_shape={self._dense_shape!r})"
        )


def _feed_sparse(key, value):
    """The component feeds of a sparse placeholder fed a SparseTensorValue or a tuple."""
    if isinstance(value, SparseTensor):
        raise TypeError(
            "Cannot feed a SparseTensor symbolic value; feed a "
            "tf.SparseTensorValue or an (indices, values, dense_shape) tuple."
        )
    try:
        indices, values, dense_shape = value
    except (TypeError, ValueError):
        raise TypeError(
            f"A SparseTensor is fed with a tf.SparseTensorValue or an "
            f"(indices, values, dense_shape) tuple, got {type(value).__name__}"
        ) from None
    return [(key.indices, indices), (key.values, values), (key.dense_shape, dense_shape)]


register_fetch_type(
    SparseTensor, lambda s: [s.indices, s.values, s.dense_shape], lambda v: SparseTensorValue(*v)
)
register_feed_type(SparseTensor, _feed_sparse)


def sparse_placeholder(dtype, shape=None, name=None):
    """A SparseTensor to be fed through ``feed_dict`` with a `SparseTensorValue` or an
    ``(indices, values, dense_shape)`` tuple.

    Args:
        dtype: the values' dtype.
        shape: the dense shape; its rank fixes the indices' width. A fully known shape
            becomes a constant ``dense_shape`` (it may still be fed).
        name: prefix of the three placeholders (``name/indices``, ``name/values``,
            ``name/shape``).

    Example::

        sp = tf.sparse_placeholder(tf.float32)
        sess.run(tf.sparse_reduce_sum(sp), {sp: ([[0, 1]], [2.0], [2, 3])})
    """
    dims_ = None if shape is None else TensorShape(shape).as_tuple()
    rank = None if dims_ is None else len(dims_)
    prefix = name or "Placeholder"
    with control_flow_ops.name_scope(None):
        values = array_ops.placeholder(dtype, [None], name=f"{prefix}/values")
        indices = array_ops.placeholder(dtypes.int64, [None, rank], name=f"{prefix}/indices")
        if dims_ is not None and None not in dims_:
            dense_shape = array_ops.constant(np.array(dims_, np.int64), name=f"{prefix}/shape")
        else:
            dense_shape = array_ops.placeholder(dtypes.int64, [rank], name=f"{prefix}/shape")
    return SparseTensor(indices, values, dense_shape)


def _as_sparse(sp, what="sp_input") -> SparseTensor:
    if isinstance(sp, SparseTensorValue):
        return SparseTensor.from_value(sp)
    if not isinstance(sp, SparseTensor):
        raise TypeError(f"Input {what} must be a SparseTensor, got {type(sp).__name__}")
    return sp


# ---------------------------------------------------------------------------------------
# Validation shared by the kernels.


def _check_indices(indices, dense_shape, check_order=False, values=None):
    """Raises InvalidArgumentError for out-of-bounds (or, with ``check_order``, unsorted
    or repeated) indices, naming the first bad entry as TF does, or for ``values`` whose
    length is not the number of indices."""
    idx = np.asarray(indices)
    idx = idx.reshape(-1, 1) if idx.ndim < 2 else idx
    if values is not None and np.ndim(values) != 0 and np.shape(values) != (len(idx),):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"values must be a vector with one entry per row of indices: got "
            f"values of shape {list(np.shape(values))} for {len(idx)} indices",
        )
    shape = np.asarray(dense_shape).reshape(-1)
    if idx.shape[1] != shape.size:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"indices have rank {idx.shape[1]} but dense_shape has {shape.size} dimensions",
        )
    bad = np.flatnonzero(np.any((idx < 0) | (idx >= shape), axis=1))
    if bad.size:
        k = int(bad[0])
        raise errors.InvalidArgumentError(
            None,
            None,
            f"indices[{k}] = {idx[k].tolist()} is out of bounds: need 0 <= "
            f"index < {shape.tolist()}",
        )
    if check_order and len(idx) > 1:
        flat = np.ravel_multi_index(tuple(idx.T), tuple(shape))
        step = np.diff(flat)
        if np.any(step <= 0):
            k = int(np.flatnonzero(step <= 0)[0]) + 1
            what = "is repeated" if step[k - 1] == 0 else "is out of order"
            raise errors.InvalidArgumentError(
                None,
                None,
                f"indices[{k}] = {idx[k].tolist()} {what}. Many sparse ops "
                "require sorted indices. Use `tf.sparse.reorder` to create a correctly "
                "ordered copy.",
            )
    return idx


def _static_rows(shape_t, adjoint):
    d = _shape_from_tensor(shape_t)
    return None if d is None or len(d) != 2 else d[1 if adjoint else 0]
