"""The feature column protocol: what every column is, and the per-call cache that turns
a ``features`` dict into the tensors the columns need (each transformation built once).

A column is an immutable description. A *dense* column gives a float tensor
``[batch, *variable_shape]``; a *categorical* column gives ``IdWeightPair``: a rank-2
SparseTensor of int64 ids in ``[0, num_buckets)`` and, for weighted columns, a
SparseTensor of weights. Variables are created by the column inside the variable scope
that `input_layer` / `linear_model` open for it, so names follow TF's.
"""

from __future__ import annotations

from typing import NamedTuple

from miniflow import dtypes
from miniflow.ops import array_ops as _arr, gather_scatter_ops as _gs, math_ops as _math
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import SparseTensor


class IdWeightPair(NamedTuple):
    """A categorical column's ids (SparseTensor of int64) and weights (or None)."""

    id_tensor: SparseTensor
    weight_tensor: SparseTensor | None


class FeatureColumn:
    """Base of every feature column: a ``name`` and the parse spec of its raw inputs."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    @property
    def parse_example_spec(self) -> dict:
        raise NotImplementedError

    @property
    def _var_scope_name(self) -> str:
        return self.name

    def _transform(self, cache):
        """The column's transformed feature (a Tensor or IdWeightPair), built once per
        cache."""
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={getattr(self, k)!r}" for k in self._fields)
        return f"{type(self).__name__}({fields})"

    def _key(self):
        return tuple(
            tuple(v) if isinstance(v, list) else v for v in (getattr(self, f) for f in self._fields)
        )

    def __eq__(self, other):
        """Columns are immutable values (TF's are namedtuples): equal when of one type with
        equal fields."""
        return type(other) is type(self) and self._key() == other._key()

    def __hash__(self):
        return hash((type(self), self._key()))

    _fields: tuple = ()


class DenseColumn(FeatureColumn):
    """A column that `input_layer` can use: a float tensor ``[batch, *variable_shape]``."""

    @property
    def variable_shape(self) -> tuple:
        raise NotImplementedError

    def get_dense_tensor(self, cache, weight_collections=None, trainable=None):
        return cache.get(self)


class CategoricalColumn(FeatureColumn):
    """A column of ids in ``[0, num_buckets)``: `linear_model` weights it, `embedding_column`
    and `indicator_column` make it dense."""

    @property
    def num_buckets(self) -> int:
        raise NotImplementedError

    def get_sparse_tensors(self, cache, weight_collections=None, trainable=None):
        out = cache.get(self)
        return out if isinstance(out, IdWeightPair) else IdWeightPair(out, None)


class FeatureCache:
    """Raw features of one `input_layer`/`linear_model` call and the transformations
    built from them (TF's ``FeatureTransformationCache``)."""

    def __init__(self, features):
        if not isinstance(features, dict):
            raise ValueError(
                f"features should be a dictionary of `Tensor`s. Given type: {type(features)}"
            )
        self._features = dict(features)
        self._done: dict = {}

    def get(self, key):
        """A raw feature (``key`` a str) or a column's transformed feature."""
        if key in self._done:
            return self._done[key]
        if isinstance(key, str):
            out = self._raw(key)
        elif isinstance(key, FeatureColumn):
            out = key._transform(self)
        else:
            raise TypeError(f"Feature key must be a str or a feature column, got {key!r}")
        self._done[key] = out
        return out

    def _raw(self, key):
        if key not in self._features:
            raise ValueError(f"The feature {key!r} is not in features dictionary.")
        value = self._features[key]
        if isinstance(value, SparseTensor):
            return value
        from miniflow.ops.sparse_ops import SparseTensorValue

        if isinstance(value, SparseTensorValue):
            return SparseTensor(value.indices, value.values, value.dense_shape)
        value = _arr.convert_to_tensor(value)
        shape = dims(value)
        if shape is not None and len(shape) == 0:
            raise ValueError(f"Feature (key: {key}) cannot have rank 0. Given: {value}")
        if shape is not None and len(shape) == 1:  # a batch of scalars: [batch, 1]
            value = _arr.expand_dims(value, -1)
        return value


def to_sparse_dropping(value, ignore_value=None) -> SparseTensor:
    """A dense tensor as a SparseTensor of its entries that are not ``ignore_value``
    ("" for strings, -1 for integers by default); a SparseTensor is returned as is."""
    if isinstance(value, SparseTensor):
        return value
    if ignore_value is None:
        ignore_value = "" if value.dtype == dtypes.string else -1
    keep = _math.not_equal(value, _arr.constant(ignore_value, value.dtype))
    indices = _arr.where(keep)
    return SparseTensor(
        indices, _gs.gather_nd(value, indices), _arr.shape(value, out_type=dtypes.int64)
    )


def check_key(key, what="key"):
    if not isinstance(key, str) or not key:
        raise ValueError(f"{what} must be a non-empty string. Given: {key!r}")
    return key
