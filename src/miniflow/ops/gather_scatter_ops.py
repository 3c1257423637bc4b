"""N-d gathers and out-of-place scatters: `tf.gather_nd`, `tf.scatter_nd`,
`tf.tensor_scatter_nd_update/add/sub/min/max` (and their TF1 aliases), `tf.batch_gather`
and `tf.gather(..., batch_dims=)`.

`GatherNd` and `ScatterNd` are each other's adjoint, so their gradients are each other and
any order of derivative works. ``batch_dims`` is handled, as in TF, by prepending the batch
coordinates to each index vector (`BatchNdIndices`, an integer op) before a plain GatherNd.
"""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core.dispatch import apply_op
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math
from miniflow.ops.shape_rules import dims

# ---------------------------------------------------------------------------------------
# Kernels' shared index check.


def _index_tuple(idx, shape, what):
    """The index vectors of ``idx`` (last axis) as a NumPy fancy-index tuple, bounds checked."""
    q = idx.shape[-1]
    if q > len(shape):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what}: index innermost dimension length must be <= params rank; "
            f"saw: {q} vs. {len(shape)}",
        )
    flat = idx.reshape(-1, q)
    bad = np.flatnonzero(((flat < 0) | (flat >= np.asarray(shape[:q], dtype=np.int64))).any(1))
    if bad.size:
        k = int(bad[0])
        loc = np.unravel_index(k, idx.shape[:-1]) if idx.ndim > 1 else ()
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what}: indices{list(int(i) for i in loc)} = {flat[k].tolist()} does "
            f"not index into param shape {list(shape)}",
        )
    return tuple(np.moveaxis(idx, -1, 0))


def _check_index_dtype(t):
    if not t.dtype.is_integer:
        raise TypeError(
            f"Value passed to parameter 'indices' has DataType {t.dtype.name} not "
            f"in list of allowed values: int32, int64"
        )


# ---------------------------------------------------------------------------------------
# GatherNd / ScatterNd.


def _gather_nd_infer(inputs, attrs):
    _check_index_dtype(inputs[1])
    p, i = dims(inputs[0]), dims(inputs[1])
    if p is None or i is None or i[-1] is None:
        return [(None, inputs[0].dtype)]
    if i[-1] > len(p):
        raise ValueError(
            f"indices.shape[-1] must be <= params.rank, but saw indices shape: "
            f"{list(i)} and params shape: {list(p)}"
        )
    return [(i[:-1] + p[i[-1] :], inputs[0].dtype)]


@register_op("GatherNd", infer=_gather_nd_infer)
def _gather_nd(params, indices):
    p, idx = np.asarray(params), np.asarray(indices)
    if idx.shape[-1] == 0:
        return np.broadcast_to(p, idx.shape[:-1] + p.shape).copy()
    return p[_index_tuple(idx, p.shape, "GatherNd")]


def _scatter_nd_infer(inputs, attrs):
    _check_index_dtype(inputs[0])
    return [(_arr._shape_from_tensor(inputs[2]), inputs[1].dtype)]


@register_op("ScatterNd", infer=_scatter_nd_infer)
def _scatter_nd(indices, updates, shape):
    out = np.zeros(tuple(int(s) for s in shape), dtype=np.asarray(updates).dtype)
    idx = np.asarray(indices)
    _check_updates(out, idx, updates, "ScatterNd")
    target, idx = _whole_if_empty(out, idx)
    np.add.at(target, _index_tuple(idx, target.shape, "ScatterNd"), updates)
    return out


def _whole_if_empty(out, idx):
    """Index vectors of length 0 address the whole tensor: a unit axis and index 0."""
    if idx.shape[-1]:
        return out, idx
    return out[None], np.zeros(idx.shape[:-1] + (1,), idx.dtype)


def _check_updates(target, idx, updates, what):
    want = idx.shape[:-1] + target.shape[idx.shape[-1] :]
    if np.shape(updates) != want:
        raise errors.InvalidArgumentError(
            None,
            None,
            f"{what}: updates must have shape indices.shape[:-1] + "
            f"shape[indices.shape[-1]:] = {list(want)}, got {list(np.shape(updates))}",
        )


@register_gradient("GatherNd")
def _gather_nd_grad(op, grad):
    params, indices = op.inputs
    return [apply_op("ScatterNd", indices, grad, _arr.shape(params, out_type=indices.dtype)), None]


@register_gradient("ScatterNd")
def _scatter_nd_grad(op, grad):
    return [None, apply_op("GatherNd", grad, op.inputs[0]), None]


def _batch_indices_infer(inputs, attrs):
    i = dims(inputs[0])
    if i is None or i[-1] is None:
        return [(None if i is None else i[:-1] + (None,), inputs[0].dtype)]
    return [(i[:-1] + (i[-1] + attrs["batch_dims"],), inputs[0].dtype)]


@register_op("BatchNdIndices", infer=_batch_indices_infer)
def _batch_nd_indices(indices, params, batch_dims=0):
    """Each index vector prefixed with its own batch coordinates (``params`` is read only
    for its shape: its batch dimensions must equal the indices')."""
    idx = np.asarray(indices)
    for i in range(batch_dims):
        if np.shape(params)[i] != idx.shape[i]:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"params.shape[{i}]: {np.shape(params)[i]} should be equal to "
                f"indices.shape[{i}]: {idx.shape[i]}",
            )
    grids = np.indices(idx.shape[:batch_dims], dtype=idx.dtype)
    lead = grids.reshape(grids.shape + (1,) * (idx.ndim - 1 - batch_dims))
    lead = np.broadcast_to(
        np.moveaxis(lead, 0, -1) if batch_dims else lead, idx.shape[:-1] + (batch_dims,)
    )
    return np.concatenate([lead, idx], axis=-1)


not_differentiable("BatchNdIndices")


def gather_nd(params, indices, name=None, batch_dims=0):
    """Slices of ``params`` at the index vectors in the last axis of ``indices``."""
    indices = _arr._as_index(indices)
    batch_dims = int(batch_dims)
    if batch_dims:
        r = dims(indices)
        if r is None:
            raise ValueError("gather_nd with batch_dims needs indices of known rank")
        if batch_dims < 0:
            batch_dims += len(r)
        if not 0 <= batch_dims < len(r):
            raise ValueError(
                f"batch_dims = {batch_dims} must be less than rank(indices) = {len(r)}"
            )
        params = _arr.convert_to_tensor(params)
        p = dims(params)
        for i in range(batch_dims):
            if p is not None and None not in (p[i], r[i]) and p[i] != r[i]:
                raise ValueError(
                    f"params.shape[{i}]: {p[i]} should be equal to indices.shape[{i}]: {r[i]}"
                )
        indices = apply_op("BatchNdIndices", indices, params, batch_dims=batch_dims)
    return apply_op("GatherNd", params, indices, name=name)


def scatter_nd(indices, updates, shape, name=None):
    """A zero tensor of ``shape`` with ``updates`` added at ``indices`` (duplicates sum)."""
    indices = _arr._as_index(indices)
    shape = _arr._int_tensor(shape)
    if shape.dtype != indices.dtype:
        shape = _arr.cast(shape, indices.dtype)
    return apply_op("ScatterNd", indices, updates, shape, name=name)


# ---------------------------------------------------------------------------------------
# TensorScatter*: a copy of ``tensor`` with rows combined with ``updates``.


def _tensor_scatter_kernel(combine):
    def kernel(tensor, indices, updates):
        out = np.array(tensor, copy=True)
        idx = np.asarray(indices)
        _check_updates(out, idx, updates, "TensorScatter")
        target, idx = _whole_if_empty(out, idx)
        combine(target, _index_tuple(idx, target.shape, "TensorScatter"), updates)
        return out

    return kernel


def _assign(out, where, updates):
    out[where] = updates


def _tensor_scatter_infer(inputs, attrs):
    _check_index_dtype(inputs[1])
    if inputs[0].dtype != inputs[2].dtype:
        raise TypeError(
            f"tensor and updates must have the same dtype, got "
            f"{inputs[0].dtype.name} and {inputs[2].dtype.name}"
        )
    return [(dims(inputs[0]), inputs[0].dtype)]


for _type, _combine in (
    ("TensorScatterUpdate", _assign),
    ("TensorScatterAdd", np.add.at),
    ("TensorScatterSub", np.subtract.at),
    ("TensorScatterMin", np.minimum.at),
    ("TensorScatterMax", np.maximum.at),
):
    register_op(_type, infer=_tensor_scatter_infer)(_tensor_scatter_kernel(_combine))


@register_gradient("TensorScatterUpdate")
def _tensor_scatter_update_grad(op, grad):
    _, indices, updates = op.inputs
    return [
        apply_op("TensorScatterUpdate", grad, indices, _arr.zeros_like(updates)),
        None,
        apply_op("GatherNd", grad, indices),
    ]


@register_gradient("TensorScatterAdd")
def _tensor_scatter_add_grad(op, grad):
    return [grad, None, apply_op("GatherNd", grad, op.inputs[1])]


@register_gradient("TensorScatterSub")
def _tensor_scatter_sub_grad(op, grad):
    return [grad, None, _math.negative(apply_op("GatherNd", grad, op.inputs[1]))]


def _tensor_scatter_extremum_grad(op, grad):
    """Split evenly between the tensor element and the updates that equal the result."""
    x, indices, y = op.inputs
    out = op.outputs[0]
    x_hit = _arr.cast(_math.equal(x, out), grad.dtype)
    y_hit = _arr.cast(_math.equal(y, apply_op("GatherNd", out, indices)), grad.dtype)
    hits = x_hit + apply_op("ScatterNd", indices, y_hit, _arr.shape(x, out_type=indices.dtype))
    share = grad / hits
    return [share * x_hit, None, apply_op("GatherNd", share, indices) * y_hit]


register_gradient("TensorScatterMin")(_tensor_scatter_extremum_grad)
register_gradient("TensorScatterMax")(_tensor_scatter_extremum_grad)


def _tensor_scatter(op_type, doc):
    def fn(tensor, indices, updates, name=None):
        tensor = _arr.convert_to_tensor(tensor)
        updates = _arr.convert_to_tensor(updates, dtype=tensor.dtype)
        return apply_op(op_type, tensor, _arr._as_index(indices), updates, name=name)

    fn.__doc__ = doc
    return fn


tensor_scatter_nd_update = _tensor_scatter(
    "TensorScatterUpdate", "A copy of ``tensor`` with the slices at ``indices`` replaced."
)
tensor_scatter_nd_add = _tensor_scatter(
    "TensorScatterAdd", "A copy of ``tensor`` with ``updates`` added at ``indices``."
)
tensor_scatter_nd_sub = _tensor_scatter(
    "TensorScatterSub", "A copy of ``tensor`` with ``updates`` subtracted at ``indices``."
)
tensor_scatter_nd_min = _tensor_scatter(
    "TensorScatterMin", "A copy of ``tensor``, element-wise min with ``updates`` at indices."
)
tensor_scatter_nd_max = _tensor_scatter(
    "TensorScatterMax", "A copy of ``tensor``, element-wise max with ``updates`` at indices."
)
tensor_scatter_update = tensor_scatter_nd_update
tensor_scatter_add = tensor_scatter_nd_add
tensor_scatter_sub = tensor_scatter_nd_sub


# ---------------------------------------------------------------------------------------
# gather with batch_dims.


def batched_gather(params, indices, axis, batch_dims, name=None):
    """`tf.gather(params, indices, axis=axis, batch_dims=batch_dims)` for batch_dims > 0."""
    params, indices = _arr.convert_to_tensor(params), _arr._as_index(indices)
    p, i = dims(params), dims(indices)
    if p is None or i is None:
        raise ValueError("gather with batch_dims needs params and indices of known rank")
    b = batch_dims + len(i) if batch_dims < 0 else batch_dims
    a = axis + len(p) if axis < 0 else axis
    if not 0 <= b <= len(i) or b > a or a >= len(p):
        raise ValueError(
            f"batch_dims ({batch_dims}) must be in [0, rank(indices)] and <= "
            f"axis ({axis}) < rank(params) ({len(p)})"
        )
    if b == len(i):  # one index per batch entry: a trailing unit axis gives the same slices
        return _arr.squeeze(
            batched_gather(params, _arr.expand_dims(indices, -1), a, b), [a], name=name
        )
    moved = (
        params
        if a == b
        else _arr.transpose(
            params, list(range(b)) + [a] + list(range(b, a)) + list(range(a + 1, len(p)))
        )
    )
    out = gather_nd(
        moved, _arr.expand_dims(indices, -1), batch_dims=b, name=name if a == b else None
    )
    if a == b:
        return out
    ni = len(i) - b  # out is I[:b] + I[b:] + P[b:a] + P[a+1:]; move I[b:] after P[b:a]
    perm = (
        list(range(b))
        + list(range(b + ni, a + ni))
        + list(range(b, b + ni))
        + list(range(a + ni, len(p) - 1 + ni))
    )
    return _arr.transpose(out, perm, name=name)


def batch_gather(params, indices, name=None):
    """Gathers along the axis after the batch dimensions (``batch_dims=rank(indices)-1``)."""
    i = dims(_arr._as_index(indices))
    if i is None:
        raise ValueError("batch_gather needs indices of known rank")
    return batched_gather(params, indices, len(i) - 1, len(i) - 1, name=name)


def batch_scatter_update(ref, indices, updates, use_locking=True, name=None):
    """``ref[b..., indices[b..., i], ...] = updates[b..., i, ...]`` in place (a variable)."""
    from miniflow.ops.scatter_ops import scatter_nd_update

    indices = _arr._as_index(indices)
    r = dims(indices)
    if r is None:
        raise ValueError("batch_scatter_update needs indices of known rank")
    nd = (
        apply_op("BatchNdIndices", _arr.expand_dims(indices, -1), ref, batch_dims=len(r) - 1)
        if len(r) > 1
        else _arr.expand_dims(indices, -1)
    )
    return scatter_nd_update(ref, nd, updates, use_locking=use_locking, name=name)
