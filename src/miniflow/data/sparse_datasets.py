"""Sparse data in datasets: `Dataset.from_sparse_tensor_slices` (rows of a SparseTensor,
as TF: a tuple of indices, values and dense_shape) and `dense_to_sparse_batch` /
`Dataset.sparse_batch` (SparseTensor elements, which travel as their three components;
see `structure.SparseLeaf`)."""

from __future__ import annotations

import itertools

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.shapes import TensorShape
from miniflow.data import structure
from miniflow.data.dataset_ops import Dataset
from miniflow.data.registry import provides
from miniflow.data.sources import _component
from miniflow.data.structure import TensorSpec
from miniflow.data.transformations import _Unary
from miniflow.graph.operation import Tensor


def _sparse_specs(dtype, rank):
    r = None if rank is None else rank
    return [
        TensorSpec(dtypes.int64, TensorShape([None, r])),
        TensorSpec(dtype, TensorShape([None])),
        TensorSpec(dtypes.int64, TensorShape([r])),
    ]


class _SparseSlices(Dataset):
    """The rows of a SparseTensor, each as the ``(indices, values, dense_shape)`` of a
    SparseTensor of one rank less (TF yields this tuple, not a SparseTensor)."""

    def __init__(self, sparse_tensor):
        if not structure.is_sparse(sparse_tensor):
            raise TypeError(
                f"`sparse_tensor` must be a tf.sparse.SparseTensor, got "
                f"{type(sparse_tensor).__name__}."
            )
        self._parts = [_component(p) for p in structure.flatten(sparse_tensor)]
        rank = (
            TensorShape(self._parts[2].shape).as_list()[0]
            if TensorShape(self._parts[2].shape).ndims
            else None
        )
        self._template = (None, None, None)
        self._specs = _sparse_specs(
            dtypes.as_dtype(self._parts[1].dtype), None if rank is None else rank - 1
        )

    def _own_captured(self):
        return [p for p in self._parts if isinstance(p, Tensor)]

    def _iter(self, ctx):
        indices, values, shape = (
            np.asarray(ctx["values"][p]) if isinstance(p, Tensor) else p for p in self._parts
        )
        if shape.size == 0:
            raise errors.InvalidArgumentError(
                None, None, "from_sparse_tensor_slices needs a SparseTensor of rank >= 1."
            )
        rows = indices[:, 0]
        if np.any(np.diff(rows) < 0):
            raise errors.InvalidArgumentError(
                None,
                None,
                "Sparse indices are not in row-major order (reorder them with tf.sparse.reorder).",
            )
        for i in range(int(shape[0])):
            keep = rows == i
            yield [indices[keep][:, 1:], values[keep], shape[1:].copy()]


@provides
def from_sparse_tensor_slices(sparse_tensor):
    """`Dataset.from_sparse_tensor_slices`: ``(indices, values, dense_shape)`` of each row
    (dimension 0) of ``sparse_tensor``."""
    return _SparseSlices(sparse_tensor)


class _DenseToSparseBatch(_Unary):
    def __init__(self, input_dataset, batch_size, row_shape):
        super().__init__(input_dataset)
        if len(self._specs) != 1:
            raise TypeError(
                "dense_to_sparse_batch needs elements of one dense component, "
                f"got {self.output_types}."
            )
        self._size = int(batch_size)
        if self._size <= 0:
            raise errors.InvalidArgumentError(None, None, "Batch size must be greater than zero.")
        self._row = [-1 if d is None else int(d) for d in TensorShape(row_shape).as_list()]
        self._template = structure.SparseLeaf()
        self._specs = _sparse_specs(self._specs[0].dtype, len(self._row) + 1)

    def _iter(self, ctx):
        it = self._input._iter(ctx)
        while True:
            rows = [np.asarray(r[0]) for r in itertools.islice(it, self._size)]
            if not rows:
                return
            yield self._combine(rows)

    def _combine(self, rows):
        rank = len(self._row)
        for r in rows:
            if r.ndim != rank:
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Input element had shape {list(r.shape)} that does not match "
                    f"the rank of row_shape {self._row}.",
                )
        dims = [d if d >= 0 else max(r.shape[k] for r in rows) for k, d in enumerate(self._row)]
        indices, values = [], []
        for b, r in enumerate(rows):
            if any(n > d for n, d in zip(r.shape, dims)):
                raise errors.InvalidArgumentError(
                    None,
                    None,
                    f"Input element had shape {list(r.shape)} that exceeds the row shape {dims}.",
                )
            grid = np.indices(r.shape).reshape(rank, -1).T if rank else np.zeros((1, 0))
            indices.append(np.concatenate([np.full((len(grid), 1), b), grid], axis=1))
            values.append(r.reshape(-1))
        dt = self._specs[1].dtype
        return [
            np.concatenate(indices).astype(np.int64),
            np.concatenate(values).astype(object if dt == dtypes.string else dt.np),
            np.array([len(rows)] + dims, dtype=np.int64),
        ]


@provides
def dense_to_sparse_batch(batch_size, row_shape):
    """A transformation for `Dataset.apply`: batches of ``batch_size`` dense elements as
    one SparseTensor of dense shape ``[batch, *row_shape]`` (-1: the batch's longest)."""
    return lambda dataset: _DenseToSparseBatch(dataset, batch_size, row_shape)
