"""`numeric_column` (a dense float feature) and `bucketized_column` (a numeric feature cut
at boundaries: one-hot when dense, bucket ids when categorical)."""

from __future__ import annotations

import math

import numpy as np

from miniflow import dtypes
from miniflow.feature_column.columns_base import (
    CategoricalColumn,
    DenseColumn,
    IdWeightPair,
    check_key,
)
from miniflow.ops import array_ops as _arr, index_ops as _index
from miniflow.ops.example_parsing_ops import FixedLenFeature
from miniflow.ops.sparse_ops import SparseTensor


def _default_value(default_value, shape, dtype):
    """TF's check of a numeric column's default: a scalar is repeated to ``shape``; the
    result is a nested tuple (or None)."""
    if default_value is None:
        return None
    kind = float if dtype.is_floating else int
    arr = np.asarray(default_value)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise TypeError(
            f"default_value must be compatible with dtype. default_value: "
            f"{default_value}, dtype: {dtype}"
        )
    if not dtype.is_floating and np.issubdtype(arr.dtype, np.floating):
        raise TypeError(
            f"default_value must be compatible with dtype. default_value: "
            f"{default_value}, dtype: {dtype}"
        )
    if arr.ndim == 0:
        arr = np.full(shape, arr)
    elif arr.shape != tuple(shape):
        raise ValueError(
            f"The shape of default_value must be equal to given shape. "
            f"default_value: {default_value}, shape: {shape}, dtype: {dtype}"
        )
    return _nested_tuple(arr.tolist(), kind)


def _nested_tuple(x, kind):
    return tuple(_nested_tuple(v, kind) for v in x) if isinstance(x, list) else kind(x)


class NumericColumn(DenseColumn):
    """A dense real-valued feature of ``shape`` per example (see `numeric_column`)."""

    _fields = ("key", "shape", "default_value", "dtype", "normalizer_fn")

    def __init__(self, key, shape, default_value, dtype, normalizer_fn):
        self.key, self.shape, self.default_value = key, shape, default_value
        self.dtype, self.normalizer_fn = dtype, normalizer_fn

    name = property(lambda self: self.key)
    variable_shape = property(lambda self: tuple(self.shape))

    @property
    def parse_example_spec(self):
        return {self.key: FixedLenFeature(self.shape, self.dtype, self.default_value)}

    def _transform(self, cache):
        value = cache.get(self.key)
        if isinstance(value, SparseTensor):
            raise ValueError(
                f"The corresponding Tensor of numerical column must be a "
                f"Tensor. SparseTensor is not supported. key: {self.key}"
            )
        if self.normalizer_fn is not None:
            value = self.normalizer_fn(value)
        return _arr.cast(value, dtypes.float32)


def numeric_column(key, shape=(1,), default_value=None, dtype=dtypes.float32, normalizer_fn=None):
    """numeric_column(key, shape=(1,), default_value=None, dtype=tf.float32,
    normalizer_fn=None): a real-valued feature; ``normalizer_fn`` is applied to it."""
    check_key(key)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    if not shape or any(not isinstance(d, int | np.integer) or d < 1 for d in shape):
        raise ValueError(f"shape dimensions must be greater than 0. shape: {shape}, key: {key}")
    shape = tuple(int(d) for d in shape)
    dtype = dtypes.as_dtype(dtype)
    if not (dtype.is_floating or dtype.is_integer):
        raise ValueError(f"dtype must be convertible to float. dtype: {dtype}, key: {key}")
    if normalizer_fn is not None and not callable(normalizer_fn):
        raise TypeError(f"normalizer_fn must be a callable. Given: {normalizer_fn}")
    return NumericColumn(
        key, shape, _default_value(default_value, shape, dtype), dtype, normalizer_fn
    )


def bucketize(values, boundaries):
    """TF's Bucketize: the index of the bucket of each value, buckets being
    ``(-inf, b0), [b0, b1), ..., [bn, inf)`` (int32)."""
    flat = _arr.reshape(_arr.cast(values, dtypes.float32), [1, -1])
    cuts = _arr.constant([list(boundaries)], dtypes.float32)
    ids = _index.searchsorted(cuts, flat, side="right")
    return _arr.reshape(ids, _arr.shape(values))


class BucketizedColumn(DenseColumn, CategoricalColumn):
    """A numeric column discretized at ``boundaries`` (see `bucketized_column`)."""

    _fields = ("source_column", "boundaries")

    def __init__(self, source_column, boundaries):
        self.source_column, self.boundaries = source_column, boundaries

    name = property(lambda self: f"{self.source_column.name}_bucketized")
    parse_example_spec = property(lambda self: self.source_column.parse_example_spec)

    @property
    def variable_shape(self):
        return tuple(self.source_column.shape) + (len(self.boundaries) + 1,)

    @property
    def num_buckets(self):
        return math.prod(self.source_column.shape) * (len(self.boundaries) + 1)

    def _transform(self, cache):
        return bucketize(cache.get(self.source_column), self.boundaries)

    def get_dense_tensor(self, cache, weight_collections=None, trainable=None):
        return _arr.one_hot(cache.get(self), len(self.boundaries) + 1, on_value=1.0, off_value=0.0)

    def get_sparse_tensors(self, cache, weight_collections=None, trainable=None):
        """Ids ``bucket + i * (len(boundaries) + 1)`` for the i-th element of the source,
        one per element: a SparseTensor ``[batch, num_elements]``."""
        buckets = cache.get(self)
        n = math.prod(self.source_column.shape)
        ids = _arr.reshape(_arr.cast(buckets, dtypes.int64), [-1, n]) + _arr.constant(
            np.arange(n, dtype=np.int64) * (len(self.boundaries) + 1)
        )
        indices = _arr.where(_arr.ones_like(ids, dtype=dtypes.bool))
        shape = _arr.shape(ids, out_type=dtypes.int64)
        return IdWeightPair(SparseTensor(indices, _arr.reshape(ids, [-1]), shape), None)


def bucketized_column(source_column, boundaries):
    """bucketized_column(source_column, boundaries): ``source_column`` (a numeric
    column) cut at the sorted ``boundaries``."""
    if not isinstance(source_column, NumericColumn):
        raise ValueError(
            f"source_column must be a column generated with numeric_column(). "
            f"Given: {source_column}"
        )
    if len(source_column.shape) > 1:
        raise ValueError(f"source_column must be one-dimensional column. Given: {source_column}")
    if not boundaries or not isinstance(boundaries, list | tuple):
        raise ValueError("boundaries must be a sorted list.")
    boundaries = tuple(float(b) for b in boundaries)
    if any(a >= b for a, b in zip(boundaries, boundaries[1:])):
        raise ValueError("boundaries must be a sorted list.")
    return BucketizedColumn(source_column, boundaries)
