"""Nested element structures of `tf.data`: tuples (and namedtuples) and dicts of
components, flattened in a fixed order (dict keys sorted, as TF's ``nest`` does)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from miniflow import errors
from miniflow.core.shapes import TensorShape
from miniflow.dtypes import DType
from miniflow.graph.operation import Tensor
from miniflow.ops import sparse_ops


@dataclass(frozen=True)
class TensorSpec:
    """The dtype and static shape of one component of a dataset element."""

    dtype: DType
    shape: TensorShape


class SparseLeaf:
    """The template leaf of a `SparseTensor` component, which travels as three flat
    components: indices (int64 [N, rank]), values ([N]) and dense_shape (int64 [rank])."""

    def __eq__(self, other):
        return isinstance(other, SparseLeaf)

    def __hash__(self):
        return hash(SparseLeaf)

    def __repr__(self):
        return "SparseLeaf()"


def is_sparse(s) -> bool:
    return all(hasattr(s, a) for a in ("indices", "values", "dense_shape")) and not isinstance(
        s, dict
    )


def _sparse(indices, values, dense_shape):
    """A sparse leaf rebuilt from its three flat items: a SparseTensor(Value) from
    tensors or arrays; from specs, dtypes, shapes or classes, the one item that describes
    the whole (what ``output_types`` and friends report)."""
    if isinstance(values, TensorSpec):
        rank = dense_shape.shape.as_list()[0] if dense_shape.shape.ndims else None
        return TensorSpec(values.dtype, TensorShape(None if rank is None else [None] * rank))
    if isinstance(values, DType):
        return values
    if isinstance(values, TensorShape):
        rank = dense_shape.as_list()[0] if dense_shape.ndims else None
        return TensorShape(None if rank is None else [None] * rank)
    if isinstance(values, type):
        return sparse_ops.SparseTensor
    if isinstance(values, Tensor) or hasattr(values, "numpy"):
        return sparse_ops.SparseTensor(indices, values, dense_shape)
    return sparse_ops.SparseTensorValue(indices, values, dense_shape)


def sparse_positions(tmpl) -> set:
    """The flat positions where each SparseTensor's three components start."""
    found, k = set(), 0

    def walk(t):
        nonlocal k
        if isinstance(t, SparseLeaf):
            found.add(k)
            k += 3
        elif isinstance(t, dict):
            for key in sorted(t):
                walk(t[key])
        elif isinstance(t, tuple):
            for e in t:
                walk(e)
        else:
            k += 1

    walk(tmpl)
    return found


def batched_sparse_specs(specs) -> list:
    """The specs of a batch of SparseTensors with the given component specs."""
    rank = specs[2].shape.as_list()[0] if specs[2].shape.ndims else None
    rank = None if rank is None else rank + 1
    return [
        TensorSpec(specs[0].dtype, TensorShape([None, rank])),
        TensorSpec(specs[1].dtype, TensorShape([None])),
        TensorSpec(specs[2].dtype, TensorShape([rank])),
    ]


def batch_sparse(triples) -> list:
    """SparseTensor values (indices, values, dense_shape) stacked along a new first
    dimension, as TF batches them: the dense shape is the batch size and the largest
    size of each dimension."""
    if len({np.size(t[2]) for t in triples}) != 1:
        raise errors.InvalidArgumentError(
            None, None, "Cannot batch SparseTensors of different ranks."
        )
    shapes = np.array([np.asarray(t[2]) for t in triples], dtype=np.int64)
    indices = [
        np.concatenate(
            [
                np.full((len(t[0]), 1), b, np.int64),
                np.asarray(t[0], np.int64).reshape(len(t[0]), len(t[2])),
            ],
            axis=1,
        )
        for b, t in enumerate(triples)
    ]
    values = [np.asarray(t[1]) for t in triples]
    dense = np.concatenate([[len(triples)], shapes.max(axis=0)]).astype(np.int64)
    return [np.concatenate(indices), np.concatenate(values), dense]


def flatten(s) -> list:
    if is_sparse(s):
        if isinstance(s, tuple):  # a SparseTensorValue of Python lists or arrays
            return [
                np.asarray(s.indices, np.int64).reshape(-1, np.size(s.dense_shape)),
                s.values,
                np.asarray(s.dense_shape, np.int64),
            ]
        return [s.indices, s.values, s.dense_shape]
    if isinstance(s, dict):
        return [x for k in sorted(s) for x in flatten(s[k])]
    if isinstance(s, tuple):
        return [x for e in s for x in flatten(e)]
    return [s]


def template(s):
    """``s`` with every leaf replaced by None (what `pack` refills)."""
    if is_sparse(s):
        return SparseLeaf()
    if isinstance(s, dict):
        return {k: template(v) for k, v in s.items()}
    if isinstance(s, tuple):
        items = [template(e) for e in s]
        return type(s)(*items) if hasattr(s, "_fields") else tuple(items)
    return None


def pack(tmpl, flat):
    """The structure of ``tmpl`` with its leaves taken, in order, from ``flat``."""
    it = iter(flat)

    def build(t):
        if isinstance(t, SparseLeaf):
            return _sparse(next(it), next(it), next(it))
        if isinstance(t, dict):
            built = {k: build(t[k]) for k in sorted(t)}
            return {k: built[k] for k in t}
        if isinstance(t, tuple):
            items = [build(e) for e in t]
            return type(t)(*items) if hasattr(t, "_fields") else tuple(items)
        return next(it)

    return build(tmpl)


def lists_to_tuples(s):
    """Function results: lists are structure (as tuples), like TF's dataset functions."""
    if isinstance(s, dict):
        return {k: lists_to_tuples(v) for k, v in s.items()}
    if isinstance(s, list | tuple) and not hasattr(s, "_fields") and not is_sparse(s):
        return tuple(lists_to_tuples(e) for e in s)
    return s


def same_structure(a, b) -> bool:
    return template(a) == template(b)


class ElementStructure:
    """TF1's ``output_types``/``output_shapes``/``output_classes`` of a dataset or an
    iterator, from its ``_template`` (the nesting) and ``_specs`` (one per leaf)."""

    @property
    def output_types(self):
        return pack(self._template, [s.dtype for s in self._specs])

    @property
    def output_shapes(self):
        return pack(self._template, [s.shape for s in self._specs])

    @property
    def output_classes(self):
        return pack(self._template, [Tensor] * len(self._specs))
