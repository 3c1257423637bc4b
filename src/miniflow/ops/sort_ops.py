"""Sorting and permutations: `tf.sort` and `tf.argsort` (composed from `top_k`, as TF
does), `tf.unique`, `tf.unique_with_counts`."""

from __future__ import annotations

from collections import namedtuple

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.nn_ops import top_k
from miniflow.ops.shape_rules import dims, normalize_axis


def _sorted_last(values, axis, direction, want_indices):
    """top_k over ``axis`` (moved last and back): descending, or ascending on -values."""
    if direction not in ("ASCENDING", "DESCENDING"):
        raise ValueError(f'direction must be "ASCENDING" or "DESCENDING", got {direction!r}')
    values = _arr.convert_to_tensor(values)
    d = dims(values)
    if d is None:
        raise ValueError("sort/argsort need a tensor of known rank")
    if not d:
        raise ValueError("sort/argsort need a tensor of rank >= 1, got a scalar")
    axis = normalize_axis(int(axis), len(d))
    perm = list(range(len(d)))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    x = values if axis == len(d) - 1 else _arr.transpose(values, perm)
    n = dims(x)[-1]
    if n is None:
        raise ValueError(f"sort/argsort need a static size along axis {axis}")
    ascending = direction == "ASCENDING"
    key = _math.negative(x) if ascending else x
    vals, idx = top_k(key, k=n)
    out = idx if want_indices else (_math.negative(vals) if ascending else vals)
    return out if axis == len(d) - 1 else _arr.transpose(out, perm)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    """``values`` sorted along ``axis`` (ties keep their order)."""
    return _arr.identity(_sorted_last(values, axis, direction, False), name=name or "sort")


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    """int32 indices that sort ``values`` along ``axis`` (always stable, as TF's top_k)."""
    return _arr.identity(_sorted_last(values, axis, direction, True), name=name or "argsort")


def _unique_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None and len(d) != 1:
        raise ValueError(f"unique expects a 1-D vector, got shape {inputs[0].shape}")
    idx_type = dtypes.as_dtype(attrs["out_idx"])
    out = [((None,), inputs[0].dtype), (d, idx_type)]
    return out + ([((None,), idx_type)] if attrs.get("counts") else [])


def _unique(x, out_idx=dtypes.int32, counts=False):
    x = np.asarray(x)
    _, first, inverse, count = np.unique(
        x, return_index=True, return_inverse=True, return_counts=True
    )
    order = np.argsort(first, kind="stable")  # first-occurrence order, as TF
    rank = np.empty_like(order)
    rank[order] = np.arange(order.size)
    idx_np = dtypes.as_dtype(out_idx).np
    out = (x[first[order]], rank[inverse.reshape(-1)].astype(idx_np))
    return out + ((count[order].astype(idx_np),) if counts else ())


register_op("Unique", num_outputs=2, infer=_unique_infer)(_unique)
register_op("UniqueWithCounts", num_outputs=3, infer=_unique_infer)(_unique)
not_differentiable("Unique", "UniqueWithCounts")


Unique = namedtuple("Unique", ["y", "idx"])
UniqueWithCounts = namedtuple("UniqueWithCounts", ["y", "idx", "count"])


def unique(x, out_idx=dtypes.int32, name=None):
    """(y, idx): the distinct values of 1-D ``x`` in first-seen order, and x = y[idx]."""
    return Unique(*apply_op("Unique", x, out_idx=dtypes.as_dtype(out_idx), name=name))


def unique_with_counts(x, out_idx=dtypes.int32, name=None):
    """(y, idx, count): as `unique`, plus how often each value of y occurs."""
    return UniqueWithCounts(
        *apply_op("UniqueWithCounts", x, out_idx=dtypes.as_dtype(out_idx), counts=True, name=name)
    )


def _top_k_along(operand, k, axis, largest):
    x = _arr.convert_to_tensor(operand)
    d = dims(x)
    if d is None:
        raise ValueError("approx_max_k/approx_min_k need a tensor of known rank")
    axis = normalize_axis(int(axis), len(d))
    perm = list(range(len(d)))
    perm[axis], perm[-1] = perm[-1], perm[axis]
    moved = x if axis == len(d) - 1 else _arr.transpose(x, perm)
    vals, idx = top_k(moved if largest else _math.negative(moved), k=int(k))
    vals = vals if largest else _math.negative(vals)
    if axis != len(d) - 1:
        vals, idx = _arr.transpose(vals, perm), _arr.transpose(idx, perm)
    return vals, idx


def approx_max_k(
    operand,
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """(values, indices) of the k largest along ``reduction_dimension``: computed exactly
    (recall 1, which meets any ``recall_target``)."""
    return _top_k_along(operand, k, reduction_dimension, True)


def approx_min_k(
    operand,
    k,
    reduction_dimension=-1,
    recall_target=0.95,
    reduction_input_size_override=-1,
    aggregate_to_topk=True,
    name=None,
):
    """(values, indices) of the k smallest along ``reduction_dimension``, exactly."""
    return _top_k_along(operand, k, reduction_dimension, False)
