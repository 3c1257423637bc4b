"""Integer-valued index computations (no gradients): `tf.searchsorted`, `setdiff1d`,
`unravel_index`, `invert_permutation`, `histogram_fixed_width(_bins)`, `edit_distance`;
and `linspace`, composed from `range`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# searchsorted


def _bound_infer(inputs, attrs):
    return [(dims(inputs[1]), attrs["out_type"])]


def _bound_kernel(side):
    def kernel(sorted_inputs, values, out_type=dtypes.int32):
        s, v = np.asarray(sorted_inputs), np.asarray(values)
        if s.shape[:-1] != v.shape[:-1] or _rows(s.shape) != _rows(v.shape):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Leading dim_size of both tensors must match: {list(s.shape)} vs {list(v.shape)}",
            )
        out = np.zeros((_rows(v.shape), v.shape[-1]), dtype=out_type.np)
        for i, (a, b) in enumerate(
            zip(
                s.reshape(-1, s.shape[-1]) if s.size else np.zeros((len(out), 0), s.dtype),
                v.reshape(out.shape),
            )
        ):
            out[i] = np.searchsorted(a, b, side=side)
        return out.reshape(v.shape)

    return kernel


def _rows(shape):
    """Rows of TF's ``reshape(x, [-1, shape[-1]])``; with a 0 last dim TF's Reshape drops
    the zero dims, so (2, 0) has 2 rows and (0, 0) has 1."""
    if shape[-1]:
        return int(np.prod(shape[:-1]))
    return int(np.prod([d for d in shape if d]))


register_op("LowerBound", infer=_bound_infer)(_bound_kernel("left"))
register_op("UpperBound", infer=_bound_infer)(_bound_kernel("right"))
not_differentiable("LowerBound", "UpperBound")


def searchsorted(sorted_sequence, values, side="left", out_type=dtypes.int32, name=None):
    """Insertion points of ``values`` in each (innermost) row of ``sorted_sequence``."""
    if side not in ("left", "right"):
        raise ValueError(f"side must be either 'right' or 'left'. Saw: {side}.")
    op = "LowerBound" if side == "left" else "UpperBound"
    return apply_op(op, sorted_sequence, values, out_type=dtypes.as_dtype(out_type), name=name)


# ---------------------------------------------------------------------------------------
# setdiff1d, unravel_index, invert_permutation


def _list_diff_infer(inputs, attrs):
    return [((None,), inputs[0].dtype), ((None,), attrs["out_idx"])]


@register_op("ListDiff", infer=_list_diff_infer, num_outputs=2, same_dtype=True)
def _list_diff(x, y, out_idx=dtypes.int32):
    x = np.asarray(x)
    keep = ~np.isin(x, np.asarray(y))
    return x[keep], np.flatnonzero(keep).astype(out_idx.np)


not_differentiable("ListDiff")


def setdiff1d(x, y, index_dtype=dtypes.int32, name=None):
    """(the values of ``x`` not in ``y``, in order; their positions in ``x``)."""
    return apply_op("ListDiff", x, y, out_idx=dtypes.as_dtype(index_dtype), name=name)


def _unravel_infer(inputs, attrs):
    i, d = dims(inputs[0]), dims(inputs[1])
    n = None if d is None else d[0]
    if i is None:
        return [(None, inputs[0].dtype)]
    return [((n,) + i, inputs[0].dtype)]


@register_op("UnravelIndex", infer=_unravel_infer, same_dtype=True)
def _unravel_index(indices, dims_):
    idx, shape = np.asarray(indices), tuple(int(d) for d in dims_)
    total = int(np.prod(shape))
    if idx.size and (idx.min() < 0 or idx.max() >= total):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"index out of bounds: {idx.reshape(-1).tolist()} for dims "
            f"{list(shape)} (size {total})",
        )
    return np.asarray(np.unravel_index(idx, shape), dtype=idx.dtype)


not_differentiable("UnravelIndex")


def unravel_index(indices, dims, name=None):  # noqa: A002
    """The coordinates, in an array of shape ``dims``, of flat ``indices``."""
    indices = _arr.convert_to_tensor(indices)
    return apply_op(
        "UnravelIndex",
        indices,
        _arr.cast(_arr._int_tensor(dims), indices.dtype)
        if indices.dtype != dtypes.int32
        else _arr._int_tensor(dims),
        name=name,
    )


@register_op("InvertPermutation", infer=lambda i, a: [(dims(i[0]), i[0].dtype)])
def _invert_permutation(x):
    x = np.asarray(x)
    if x.ndim != 1 or sorted(x.tolist()) != list(range(x.size)):
        raise errors.InvalidArgumentError(
            None, None, f"invert_permutation: {x.tolist()} is not a permutation of 0..{x.size - 1}"
        )
    out = np.empty_like(x)
    out[x] = np.arange(x.size, dtype=x.dtype)
    return out


not_differentiable("InvertPermutation")


def invert_permutation(x, name=None):
    """``y`` with ``y[x[i]] = i``."""
    return apply_op("InvertPermutation", x, name=name)


# ---------------------------------------------------------------------------------------
# Histograms and linspace: compositions.


def histogram_fixed_width_bins(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """The bin (0..nbins-1) of each value; values outside the range go to the end bins."""
    with _name_scope(name, "histogram_fixed_width_bins"):
        values = _arr.convert_to_tensor(values)
        value_range = _arr.convert_to_tensor(value_range, dtype=values.dtype)
        nbins_f = _arr.cast(nbins, values.dtype)
        scaled = _math.truediv(values - value_range[0], value_range[1] - value_range[0])
        idx = _math.floor(nbins_f * scaled)
        idx = _arr.clip_by_value(idx, _arr.zeros_like(nbins_f), nbins_f - 1)
        return _arr.cast(idx, dtype)


def histogram_fixed_width(values, value_range, nbins=100, dtype=dtypes.int32, name=None):
    """Counts of ``values`` in ``nbins`` equal bins over ``value_range`` (ends included)."""
    from miniflow.ops.sparse_ops import unsorted_segment_sum

    with _name_scope(name, "histogram_fixed_width"):
        bins = _arr.reshape(histogram_fixed_width_bins(values, value_range, nbins), [-1])
        ones = _arr.ones_like(bins, dtype=dtype)
        return unsorted_segment_sum(ones, bins, nbins)


def linspace(start, stop, num, name=None, axis=0):
    """``num`` evenly spaced values from ``start`` to ``stop`` (both included)."""
    if axis != 0:
        raise ValueError("linspace supports axis=0 only (scalar start and stop)")
    with _name_scope(name, "linspace"):
        start = _arr.convert_to_tensor(start)
        stop = _arr.convert_to_tensor(stop, dtype=start.dtype)
        if dims(start) not in ((), None) or dims(stop) not in ((), None):
            raise ValueError("linspace supports scalar start and stop only")
        num = _arr.cast(_arr.convert_to_tensor(num), dtypes.int32)
        steps = _math.maximum(num - 1, 1)
        delta = _math.truediv(stop - start, _arr.cast(steps, start.dtype))
        inner = _arr.cast(_arr.range(1, steps, 1), start.dtype) * delta + start
        out = _arr.concat([_arr.reshape(start, [1]), inner, _arr.reshape(stop, [1])], 0)
        static = _arr.get_static_value(num)
        size = [int(static)] if static is not None else _arr.reshape(num, [1])
        return _arr.slice(out, [0], size)


lin_space = linspace


# ---------------------------------------------------------------------------------------
# edit_distance over SparseTensors.


def _edit_infer(inputs, attrs):
    r = dims(inputs[2])
    return [(None if r is None or r[0] is None else (None,) * (r[0] - 1), dtypes.float32)]


def _sequences(indices, values, shape):
    """{outer index tuple: [values in order]} of a sparse tensor (last axis = position)."""
    out = {}
    order = np.lexsort(np.asarray(indices).T[::-1]) if len(indices) else []
    for k in order:
        out.setdefault(tuple(int(i) for i in indices[k][:-1]), []).append(values[k])
    return out


def _levenshtein(a, b):
    row = np.arange(len(b) + 1)
    for i, x in enumerate(a, 1):
        prev, row = row, np.empty_like(row)
        row[0] = i
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return int(row[-1])


@register_op("EditDistance", infer=_edit_infer)
def _edit_distance(h_idx, h_val, h_shape, t_idx, t_val, t_shape, normalize=True):
    h_shape, t_shape = np.asarray(h_shape), np.asarray(t_shape)
    if len(h_shape) != len(t_shape):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"hypothesis and truth must have the same rank, got {len(h_shape)} and {len(t_shape)}",
        )
    out_shape = tuple(int(v) for v in np.maximum(h_shape, t_shape)[:-1])
    hyp, truth = _sequences(h_idx, h_val, h_shape), _sequences(t_idx, t_val, t_shape)
    out = np.zeros(out_shape, dtype=np.float32)
    for key in set(hyp) | set(truth):
        h, t = hyp.get(key, []), truth.get(key, [])
        d = float(_levenshtein(h, t))
        if normalize:
            d = d / len(t) if t else (np.inf if h else 0.0)
        out[key] = d
    return out


not_differentiable("EditDistance")


def edit_distance(hypothesis, truth, normalize=True, name="edit_distance"):
    """Levenshtein distance between the sequences of two `SparseTensor`s (last axis)."""
    from miniflow.ops.sparse_ops import SparseTensor, SparseTensorValue

    for what, sp in (("hypothesis", hypothesis), ("truth", truth)):
        if not isinstance(sp, SparseTensor | SparseTensorValue):
            raise TypeError(f"{what} must be a SparseTensor, got {type(sp).__name__}")
    return apply_op(
        "EditDistance",
        hypothesis.indices,
        hypothesis.values,
        hypothesis.dense_shape,
        truth.indices,
        truth.values,
        truth.dense_shape,
        normalize=bool(normalize),
        name=name,
    )
