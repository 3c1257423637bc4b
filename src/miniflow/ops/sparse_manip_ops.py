"""Rearranging SparseTensors: concat, reshape, slice, split, transpose, expand_dims,
fill_empty_rows, retain, reset_shape, eye, mask, merge and to_indicator.

Each op is an index-only kernel (non-differentiable, as the indices are integers) that
also returns, for every output entry, the position of the input value it carries; the
output values are then a `gather` of the input values. So the values' gradient is the
gather's (an `IndexedSlices` scattered back to the input entries), in graph and eager
mode, with no gradient rule of its own.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops, control_flow_ops, math_ops
from miniflow.ops.array_ops import _const_value
from miniflow.ops.shape_rules import dims
from miniflow.ops.sparse_ops import (
    SparseTensor,
    _as_sparse,
    _check_indices,
    sparse_reorder,
    sparse_to_dense,
)

_INT64 = dtypes.int64


def _rank(sp):
    """The static rank of a SparseTensor (from its indices or its dense_shape)."""
    r = (dims(sp.indices) or (None, None))[1]
    if r is None:
        r = (dims(sp.dense_shape) or (None,))[0]
    return r


def _shape_tuple(shape):
    return tuple(int(d) for d in np.asarray(shape).reshape(-1))


def _idx(indices, rank):
    idx = np.asarray(indices, np.int64)
    return idx.reshape(-1, rank) if idx.size == 0 else idx


def _plan_outputs(rank):
    """Static outputs of a plan kernel: indices [?, rank], positions [?], shape [rank]."""
    return [((None, rank), _INT64), ((None,), _INT64), ((rank,), _INT64)]


def _sp(indices, values, shape):
    return SparseTensor(indices, values, shape)


# ---------------------------------------------------------------------------------------
# concat


def _concat_infer(inputs, attrs):
    return _plan_outputs((dims(inputs[0]) or (None, None))[1])


@register_op("SparseConcatPlan", num_outputs=3, infer=_concat_infer)
def _concat_plan(*parts, axis=0, expand=False):
    """Inputs: indices_0, shape_0, indices_1, shape_1, ... Outputs the row-major ordered
    indices, the position of each in the concatenated values, and the shape."""
    idxs, shapes = parts[0::2], [_shape_tuple(s) for s in parts[1::2]]
    rank = len(shapes[0])
    if any(len(s) != rank for s in shapes):
        raise errors.InvalidArgumentError(
            None, None, f"Input shapes must have the same rank: got {[list(s) for s in shapes]}"
        )
    ax = axis % rank
    out_shape = list(shapes[0])
    if expand:
        for d in range(rank):
            if d != ax:
                out_shape[d] = max(s[d] for s in shapes)
    for k, s in enumerate(shapes[1:], 1):
        if not expand and any(s[d] != shapes[0][d] for d in range(rank) if d != ax):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"All SparseTensors' shapes must match except on the concat "
                f"dimension {ax}: input 0 has shape {list(shapes[0])}, input {k} has "
                f"{list(s)}",
            )
    offsets = np.cumsum([0] + [s[ax] for s in shapes])
    out_shape[ax] = int(offsets[-1])
    moved = []
    for k, (idx, s) in enumerate(zip(idxs, shapes)):
        idx = _idx(idx, rank).copy()
        _check_indices(idx, s)
        idx[:, ax] += offsets[k]
        moved.append(idx)
    out = np.concatenate(moved) if moved else np.zeros((0, rank), np.int64)
    order = np.lexsort(out.T[::-1]) if len(out) else np.zeros(0, np.int64)
    return out[order], order.astype(np.int64), np.array(out_shape, np.int64)


def sparse_concat(
    axis,
    sp_inputs,
    name=None,
    expand_nonconcat_dim=False,
    concat_dim=None,
    expand_nonconcat_dims=None,
):
    """sparse_concat(axis, sp_inputs, name=None, expand_nonconcat_dim=False): the inputs
    joined along ``axis``; with ``expand_nonconcat_dim`` the other dimensions grow to the
    largest input's."""
    axis = concat_dim if concat_dim is not None else axis
    expand = bool(expand_nonconcat_dim or expand_nonconcat_dims)
    sps = [_as_sparse(s, "sp_inputs") for s in sp_inputs]
    if not sps:
        raise ValueError("sp_inputs must be a non-empty list of SparseTensors")
    with control_flow_ops.name_scope(name, "SparseConcat"):
        parts = [t for s in sps for t in (s.indices, s.dense_shape)]
        indices, order, shape = apply_op("SparseConcatPlan", *parts, axis=int(axis), expand=expand)
        values = array_ops.concat([s.values for s in sps], 0)
        return _sp(indices, array_ops.gather(values, order), shape)


# ---------------------------------------------------------------------------------------
# reshape, reset_shape, expand_dims, transpose


def _reshape_infer(inputs, attrs):
    rank = (dims(inputs[2]) or (None,))[0]
    return [((None, rank), _INT64), ((rank,), _INT64)]


@register_op("SparseReshape", num_outputs=2, infer=_reshape_infer)
def _sparse_reshape(input_indices, input_shape, new_shape):
    old = _shape_tuple(input_shape)
    new = list(_shape_tuple(new_shape))
    total = int(np.prod(old, dtype=np.int64))
    unknown = [k for k, d in enumerate(new) if d == -1]
    if len(unknown) > 1:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"only one output dimension may be -1, not both {unknown[0]} and {unknown[1]}",
        )
    known = int(np.prod([d for d in new if d != -1], dtype=np.int64))
    if unknown:
        if known == 0 or total % known:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Input to reshape is a SparseTensor with {total} dense values, "
                f"but the requested shape requires a multiple of {known}",
            )
        new[unknown[0]] = total // known
    if int(np.prod(new, dtype=np.int64)) != total:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Input to reshape is a tensor with {total} dense values, but the "
            f"requested shape has {int(np.prod(new, dtype=np.int64))}",
        )
    idx = _idx(input_indices, len(old))
    if not idx.size:
        return np.zeros((len(idx), len(new)), np.int64), np.array(new, np.int64)
    flat = np.ravel_multi_index(tuple(idx.T), old)
    return (np.stack(np.unravel_index(flat, new), axis=1).astype(np.int64), np.array(new, np.int64))


def _reshape_shape_infer(new_shape):
    """The static output shape: the requested one, -1 left unknown."""
    v = _const_value(new_shape)
    return None if v is None else [None if d == -1 else int(d) for d in np.ravel(v)]


def sparse_reshape(sp_input, shape, name=None):
    """sparse_reshape(sp_input, shape, name=None): the same values at the positions of a
    dense reshape to ``shape`` (one dimension may be -1)."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseReshape"):
        new_shape = array_ops.convert_to_tensor(shape, dtype=_INT64)
        static, old = _reshape_shape_infer(new_shape), _const_value(sp.dense_shape)
        if (
            static is not None
            and None not in static
            and old is not None
            and int(np.prod(static)) != int(np.prod(old))
        ):
            raise ValueError(
                f"Cannot reshape a tensor with {int(np.prod(old))} elements "
                f"to shape {static} ({int(np.prod(static))} elements)"
            )
        indices, out_shape = apply_op("SparseReshape", sp.indices, sp.dense_shape, new_shape)
        return _sp(indices, sp.values, out_shape)


@register_op("SparseResetShapeCheck", infer=lambda i, a: [(dims(i[1]), _INT64)])
def _reset_shape_check(old_shape, new_shape):
    old, new = np.asarray(old_shape).reshape(-1), np.asarray(new_shape).reshape(-1)
    if old.shape != new.shape:
        raise errors.InvalidArgumentError(
            None, None, f"new_shape has rank {new.size}, but the input has rank {old.size}"
        )
    if np.any(new < old):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"new_shape {new.tolist()} must be at least the input's shape "
            f"{old.tolist()} in every dimension",
        )
    return new.astype(np.int64)


def sparse_reset_shape(sp_input, new_shape=None):
    """sparse_reset_shape(sp_input, new_shape=None): the same entries with ``new_shape``
    (at least the old one in every dimension), or the tightest shape holding them."""
    sp = _as_sparse(sp_input)
    if new_shape is None:
        return _sp(sp.indices, sp.values, math_ops.reduce_max(sp.indices, axis=0) + 1)
    new = array_ops.convert_to_tensor(new_shape, dtype=_INT64)
    rank, new_rank = _rank(sp), (dims(new) or (None,))[0]
    if rank is not None and new_rank is not None and rank != new_rank:
        raise ValueError(f"new_shape has rank {new_rank}, but sp_input has rank {rank}")
    old_v, new_v = _const_value(sp.dense_shape), _const_value(new)
    if old_v is not None and new_v is not None and np.any(np.asarray(new_v) < np.asarray(old_v)):
        raise ValueError(
            f"Requested new_shape should have dimension sizes >= "
            f"sp_input.shape.  Found new_shape ({np.asarray(new_v)}), "
            f"sp_input.shape ({np.asarray(old_v)})."
        )
    return _sp(sp.indices, sp.values, apply_op("SparseResetShapeCheck", sp.dense_shape, new))


def sparse_expand_dims(sp_input, axis=None, name=None):
    """sparse_expand_dims(sp_input, axis=None, name=None): a size-1 dimension inserted at
    ``axis`` (negative counts from the end, -1 appends)."""
    sp = _as_sparse(sp_input)
    rank = _rank(sp)
    if rank is None:
        raise ValueError("sparse.expand_dims needs the input's rank known statically")
    axis = -1 if axis is None else int(axis)
    if not -rank - 1 <= axis <= rank:
        raise ValueError(f"axis {axis} is out of range for a rank-{rank} SparseTensor")
    axis %= rank + 1
    with control_flow_ops.name_scope(name, "ExpandDims"):
        zeros = array_ops.zeros_like(sp.indices[:, :1])
        indices = array_ops.concat([sp.indices[:, :axis], zeros, sp.indices[:, axis:]], 1)
        shape = array_ops.concat(
            [sp.dense_shape[:axis], array_ops.ones([1], _INT64), sp.dense_shape[axis:]], 0
        )
        return _sp(indices, sp.values, shape)


def sparse_transpose(sp_input, perm=None, name=None):
    """sparse_transpose(sp_input, perm=None, name=None): dimensions permuted (reversed by
    default), entries reordered to row-major order."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseTranspose"):
        if perm is None:
            rank = _rank(sp)
            if rank is None:
                rank = array_ops.size(sp.dense_shape)
            perm = (
                array_ops.range(rank - 1, -1, -1)
                if not isinstance(rank, int)
                else list(range(rank - 1, -1, -1))
            )
        perm = array_ops.convert_to_tensor(perm, dtype=dtypes.int32)
        indices = array_ops.gather(sp.indices, perm, axis=1)
        shape = array_ops.gather(sp.dense_shape, perm)
        return sparse_reorder(_sp(indices, sp.values, shape))


# ---------------------------------------------------------------------------------------
# slice, split, retain


@register_op(
    "SparseSlicePlan",
    num_outputs=3,
    infer=lambda i, a: _plan_outputs((dims(i[0]) or (None, None))[1]),
)
def _slice_plan(indices, shape, start, size):
    shape, start, size = (np.asarray(v, np.int64).reshape(-1) for v in (shape, start, size))
    if not (shape.size == start.size == size.size):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Expected start and size of length {shape.size} (the rank), got "
            f"{start.size} and {size.size}",
        )
    if np.any(start < 0) or np.any(size < 0):
        raise errors.InvalidArgumentError(None, None, "start and size must be nonnegative")
    idx = _idx(indices, shape.size)
    stop = np.minimum(start + size, shape)
    keep = np.flatnonzero(np.all((idx >= start) & (idx < stop), axis=1))
    out_shape = np.maximum(stop - start, 0)
    return (idx[keep] - start).astype(np.int64), keep.astype(np.int64), out_shape


def sparse_slice(sp_input, start, size, name=None):
    """sparse_slice(sp_input, start, size, name=None): the entries inside the box
    [start, start + size) (cut at the dense shape), shifted to start at 0."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseSlice"):
        indices, keep, shape = apply_op(
            "SparseSlicePlan",
            sp.indices,
            sp.dense_shape,
            array_ops.convert_to_tensor(start, dtype=_INT64),
            array_ops.convert_to_tensor(size, dtype=_INT64),
        )
        return _sp(indices, array_ops.gather(sp.values, keep), shape)


def sparse_split(
    keyword_required=None, sp_input=None, num_split=None, axis=None, name=None, split_dim=None
):
    """sparse_split(sp_input=None, num_split=None, axis=None, name=None, split_dim=None):
    ``num_split`` SparseTensors along ``axis``; the first ``size % num_split`` pieces are
    one larger, as in TF."""
    if keyword_required is not None:
        raise ValueError("Keyword arguments are required for this function.")
    axis = split_dim if axis is None else axis
    if sp_input is None or num_split is None or axis is None:
        raise ValueError("sp_input, num_split and axis are required")
    sp, n = _as_sparse(sp_input), int(num_split)
    rank = _rank(sp)
    if rank is None:
        raise ValueError("sparse.split needs the input's rank known statically")
    axis = int(axis) % rank
    with control_flow_ops.name_scope(name, "SparseSplit"):
        dim = sp.dense_shape[axis]
        base, extra = dim // n, dim % n
        pieces, start = [], array_ops.zeros([], _INT64)
        one_hot = np.eye(rank, dtype=np.int64)[axis]
        for i in range(n):
            length = base + math_ops.cast(math_ops.less(np.int64(i), extra), _INT64)
            begin = array_ops.zeros([rank], _INT64) + one_hot * start
            size = sp.dense_shape * (1 - one_hot) + one_hot * length
            pieces.append(sparse_slice(sp, begin, size))
            start = start + length
        return pieces


def sparse_retain(sp_input, to_retain):
    """sparse_retain(sp_input, to_retain): the entries where the bool vector ``to_retain``
    is true."""
    sp = _as_sparse(sp_input)
    keep = array_ops.convert_to_tensor(to_retain, dtype=dtypes.bool)
    k, n = dims(keep), dims(sp.values)
    if k is not None and len(k) != 1:
        raise ValueError(f"to_retain must be a vector, got shape {list(k)}")
    if k is not None and n is not None and None not in (k[0], n[0]) and k[0] != n[0]:
        raise ValueError(f"to_retain has {k[0]} entries but sp_input has {n[0]} values")
    where = array_ops.reshape(array_ops.where(keep), [-1])
    return _sp(
        array_ops.gather(sp.indices, where), array_ops.gather(sp.values, where), sp.dense_shape
    )


# ---------------------------------------------------------------------------------------
# fill_empty_rows


@register_op(
    "SparseFillEmptyRowsPlan",
    num_outputs=3,
    infer=lambda i, a: [
        ((None, (dims(i[0]) or (None, None))[1]), _INT64),
        ((None,), _INT64),
        ((None,), dtypes.bool),
    ],
)
def _fill_plan(indices, dense_shape):
    """Rows in order (a row's entries keep their input order); an empty row gets one
    entry at column 0 whose source is position N (the default value)."""
    shape = _shape_tuple(dense_shape)
    idx = _idx(indices, len(shape))
    _check_indices(idx, shape)
    rows = shape[0] if shape else 0
    empty = np.ones(rows, bool)
    empty[idx[:, 0]] = False
    filled = np.flatnonzero(empty)
    fill_idx = np.zeros((filled.size, len(shape)), np.int64)
    fill_idx[:, 0] = filled
    all_idx = np.concatenate([idx, fill_idx])
    src = np.concatenate([np.arange(len(idx)), np.full(filled.size, len(idx))])
    order = np.argsort(all_idx[:, 0], kind="stable")
    return all_idx[order], src[order].astype(np.int64), empty


def sparse_fill_empty_rows(sp_input, default_value, name=None):
    """sparse_fill_empty_rows(sp_input, default_value, name=None): (the SparseTensor with
    ``default_value`` at column 0 of each empty row, a bool vector marking those rows)."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseFillEmptyRows"):
        default = array_ops.convert_to_tensor(default_value, dtype=sp.values.dtype)
        indices, src, empty = apply_op("SparseFillEmptyRowsPlan", sp.indices, sp.dense_shape)
        values = array_ops.concat([sp.values, array_ops.reshape(default, [1])], 0)
        return _sp(indices, array_ops.gather(values, src), sp.dense_shape), empty


# ---------------------------------------------------------------------------------------
# eye, mask, merge, to_indicator


def eye(num_rows, num_columns=None, dtype=dtypes.float32, name=None):
    """eye(num_rows, num_columns=None, dtype=tf.float32, name=None): a sparse identity."""
    with control_flow_ops.name_scope(name, "eye"):
        rows = math_ops.cast(num_rows, _INT64)
        cols = rows if num_columns is None else math_ops.cast(num_columns, _INT64)
        diag = array_ops.range(math_ops.minimum(rows, cols))
        indices = array_ops.stack([diag, diag], axis=1)
        values = array_ops.ones_like(diag, dtype=dtypes.as_dtype(dtype))
        return _sp(indices, values, array_ops.stack([rows, cols]))


@register_op("ListDiffPositions", infer=lambda i, a: [((None,), _INT64)])
def _list_diff_positions(x, y):
    """Positions of the entries of ``x`` not in ``y``, in order (TF's ListDiff idx)."""
    return np.flatnonzero(~np.isin(np.asarray(x), np.asarray(y))).astype(np.int64)


def sparse_mask(a, mask_indices, name=None):
    """sparse_mask(a, mask_indices, name=None): the IndexedSlices ``a`` without the slices
    whose index is in ``mask_indices``."""
    with control_flow_ops.name_scope(name, "sparse_mask"):
        indices = array_ops.convert_to_tensor(a.indices)
        keep = apply_op(
            "ListDiffPositions",
            indices,
            array_ops.convert_to_tensor(mask_indices, dtype=indices.dtype),
        )
        return IndexedSlices(
            array_ops.gather(a.values, keep), array_ops.gather(indices, keep), a.dense_shape
        )


def sparse_merge(sp_ids, sp_values, vocab_size, name=None, already_sorted=False):
    """sparse_merge(sp_ids, sp_values, vocab_size, name=None, already_sorted=False): the
    ids of the last dimension become the column index of a ``vocab_size``-wide
    SparseTensor holding ``sp_values``' values."""
    ids_sp, vals_sp = _as_sparse(sp_ids, "sp_ids"), _as_sparse(sp_values, "sp_values")
    if isinstance(vocab_size, int | np.integer) and vocab_size < 0:
        raise ValueError(f"vocab_size has to be positive, got {vocab_size}")
    with control_flow_ops.name_scope(name, "SparseMerge"):
        ids = math_ops.cast(ids_sp.values, _INT64)
        indices = array_ops.concat([ids_sp.indices[:, :-1], array_ops.expand_dims(ids, 1)], 1)
        shape = array_ops.concat(
            [ids_sp.dense_shape[:-1], array_ops.reshape(math_ops.cast(vocab_size, _INT64), [1])], 0
        )
        out = _sp(indices, vals_sp.values, shape)
        return out if already_sorted else sparse_reorder(out)


def sparse_to_indicator(sp_input, vocab_size, name=None):
    """sparse_to_indicator(sp_input, vocab_size, name=None): a dense bool tensor whose last
    dimension (``vocab_size`` wide) marks the ids present in each row."""
    sp = _as_sparse(sp_input)
    with control_flow_ops.name_scope(name, "SparseToIndicator"):
        flags = _sp(sp.indices, array_ops.ones_like(sp.values, dtype=dtypes.bool), sp.dense_shape)
        merged = sparse_merge(sp, flags, vocab_size)
        return sparse_to_dense(
            merged.indices, merged.dense_shape, merged.values, False, validate_indices=False
        )


not_differentiable(
    "SparseConcatPlan",
    "SparseReshape",
    "SparseResetShapeCheck",
    "SparseSlicePlan",
    "SparseFillEmptyRowsPlan",
    "ListDiffPositions",
)
