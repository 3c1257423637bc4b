"""Indexing: strided slices (``t[1:, ::2]``), `slice`, `gather` and `boolean_mask`."""

from __future__ import annotations

import builtins

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import register_gradient, register_op
from miniflow.core.shapes import TensorShape
from miniflow.ops.arithmetic_ops import ragged_impl
from miniflow.ops.concat_split_ops import concat
from miniflow.ops.constant_ops import _shape_from_tensor, convert_to_tensor
from miniflow.ops.reduction_ops import reduce_prod, reduce_sum
from miniflow.ops.selection_ops import where
from miniflow.ops.shape_rules import dims, normalize_axis
from miniflow.ops.shaping_ops import reshape, shape

_py_slice = builtins.slice
_py_range = builtins.range

# ---------------------------------------------------------------------------------------
# Slicing: one op for `tf.slice`, `tf.strided_slice` and `tensor[...]`. The static
# ``spec`` is a tuple of int / slice / None (newaxis) / Ellipsis; a ("arg", k) entry
# (or slice bound) takes its value from extra scalar input k.


def _resolve(spec, args):
    def val(v):
        return int(args[v[1]]) if isinstance(v, tuple) else v

    out = []
    for s in spec:
        if isinstance(s, _py_slice):
            out.append(_py_slice(val(s.start), val(s.stop), val(s.step)))
        elif isinstance(s, tuple):
            out.append(val(s))
        else:
            out.append(s)
    return tuple(out)


def _slice_infer(inputs, attrs):
    d = dims(inputs[0])
    spec = attrs["spec"]
    if d is None:
        return [(None, inputs[0].dtype)]
    n_real = sum(1 for s in spec if s is not None and s is not Ellipsis)
    if n_real > len(d):
        raise ValueError(f"Index out of range: {n_real} indices for a tensor of rank {len(d)}")
    full = []
    for s in spec:
        if s is Ellipsis:
            full.extend([_py_slice(None)] * (len(d) - n_real))
        else:
            full.append(s)
    if Ellipsis not in spec:
        full.extend([_py_slice(None)] * (len(d) - n_real))
    out, i = [], 0
    for s in full:
        if s is None:
            out.append(1)
            continue
        size = d[i]
        if isinstance(s, _py_slice):
            dynamic = any(isinstance(b, tuple) for b in (s.start, s.stop, s.step))
            if dynamic or size is None:
                out.append(size if s == _py_slice(None) else None)
            elif (
                attrs.get("checked")
                and not 0 <= s.start <= (size if s.stop is None else s.stop) <= size
            ):
                out.append(None)  # out of bounds: an error when it runs, as in TF
            else:
                out.append(len(_py_range(*s.indices(size))))
        elif not isinstance(s, tuple) and size is not None and not -size <= s < size:
            raise ValueError(f"slice index {s} of dimension {i} out of bounds (size {size})")
        i += 1
    return [(tuple(out), inputs[0].dtype)]


@register_op("StridedSlice", infer=_slice_infer)
def _strided_slice(x, *args, spec=(), checked=False):
    key = _resolve(spec, args) if args else spec
    if checked:  # tf.slice
        _check_slice(x, key)
    return x[key]


@register_op("StridedSliceGrad", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _strided_slice_grad(g, x, *args, spec=()):
    out = np.zeros(np.shape(x), dtype=np.asarray(g).dtype)
    out[_resolve(spec, args) if args else spec] = g
    return out


@register_gradient("StridedSlice")
def _slice_grad(op, grad):
    x, *args = op.inputs
    return [apply_op("StridedSliceGrad", grad, x, *args, spec=op.attrs["spec"])] + [None] * len(
        args
    )


@register_gradient("StridedSliceGrad")
def _slice_grad_grad(op, grad):
    _, x, *args = op.inputs
    return [apply_op("StridedSlice", grad, *args, spec=op.attrs["spec"]), None] + [None] * len(args)


def _index_spec(key):
    """Turns a ``tensor[...]`` key into a static spec plus dynamic scalar inputs."""
    fe = current_frontend()
    args = []

    def static(v):
        if v is None or isinstance(v, int | np.integer):
            return None if v is None else int(v)
        if fe.is_tensor(v) or hasattr(v, "__tf_tensor__"):
            args.append(v)
            return ("arg", len(args) - 1)
        raise TypeError(
            "Only integers, slices (`:`), ellipsis (`...`), tf.newaxis (`None`) "
            f"and scalar int32/int64 tensors are valid indices, got {v!r}"
        )

    spec = []
    for k in key if isinstance(key, tuple) else (key,):
        if isinstance(k, _py_slice):
            spec.append(_py_slice(static(k.start), static(k.stop), static(k.step)))
        elif k is None or k is Ellipsis:
            spec.append(k)
        else:
            spec.append(static(k))
    return tuple(spec), args


def getitem(tensor, key):
    """``tensor[key]``: NumPy basic indexing (ints, slices, ..., newaxis)."""
    spec, args = _index_spec(key)
    return apply_op("StridedSlice", tensor, *args, spec=spec, name="strided_slice")


def _elements(v, what):
    """The entries of a 1-D int list or tensor: Python ints, or scalar tensors."""
    if current_frontend().is_tensor(v):
        d = dims(v)
        if d is None or len(d) != 1 or d[0] is None:
            raise ValueError(f"{what} must be a 1-D tensor of known length, got shape {v.shape}")
        return [v[i] for i in _py_range(d[0])]
    return [
        e if current_frontend().is_tensor(e) else int(e)
        for e in (v if isinstance(v, list | tuple) else np.asarray(v).reshape(-1).tolist())
    ]


def slice(input_, begin, size, name=None):  # noqa: A001  TF's public name
    """The part of ``input_`` starting at ``begin`` with ``size`` (-1: to the end).

    ``begin`` and ``size`` may be tensors (or lists holding scalar tensors).
    """
    x = convert_to_tensor(input_)
    key = []
    for i, (b, n) in enumerate(zip(_elements(begin, "begin"), _elements(size, "size"))):
        if not current_frontend().is_tensor(n):
            stop = None if n == -1 else b + n
        else:  # a runtime size of -1 also means "to the end"
            stop = where(n < 0, shape(x)[i], b + n)
        key.append(_py_slice(b, stop))
    spec, args = _index_spec(tuple(key))
    # bounds are checked when the op runs (TF's InvalidArgumentError), as they may be
    # tensors; StridedSlice itself clamps like Python slicing
    return apply_op("StridedSlice", x, *args, spec=spec, checked=True, name=name or "Slice")


def _check_slice(x, spec):
    """tf.slice's bounds: 0 <= begin <= begin + size <= dim, with TF's messages."""
    for i, (s, d) in enumerate(zip(spec, np.shape(x))):
        b, stop = s.start, d if s.stop is None else s.stop
        if not 0 <= b <= d:
            raise errors.InvalidArgumentError(
                None, None, f"Expected begin[{i}] in [0, {d}], but got {b}"
            )
        if not b <= stop <= d:
            raise errors.InvalidArgumentError(
                None, None, f"Expected size[{i}] in [0, {d - b}], but got {stop - b}"
            )


def strided_slice(
    input_,
    begin,
    end,
    strides=None,
    begin_mask=0,
    end_mask=0,
    ellipsis_mask=0,
    new_axis_mask=0,
    shrink_axis_mask=0,
    var=None,
    name=None,
):
    """``input_[begin:end:strides]`` per dimension, with TF's bit masks: bit i of
    ``begin_mask``/``end_mask`` ignores ``begin[i]``/``end[i]``, of ``ellipsis_mask`` puts
    ``...`` at i, of ``new_axis_mask`` a new axis, of ``shrink_axis_mask`` the index
    ``begin[i]`` (removing that dimension). Bounds may be tensors."""
    begin, end = _elements(begin, "begin"), _elements(end, "end")
    strides = [1] * len(begin) if strides is None else _elements(strides, "strides")
    if len({len(begin), len(end), len(strides)}) != 1:
        raise ValueError(
            f"begin, end and strides must have the same length, got "
            f"{len(begin)}, {len(end)} and {len(strides)}"
        )
    key = masked_index(
        begin, end, strides, begin_mask, end_mask, ellipsis_mask, new_axis_mask, shrink_axis_mask
    )
    spec, args = _index_spec(key)
    return apply_op("StridedSlice", input_, *args, spec=spec, name=name or "StridedSlice")


def masked_index(
    begin,
    end,
    strides,
    begin_mask=0,
    end_mask=0,
    ellipsis_mask=0,
    new_axis_mask=0,
    shrink_axis_mask=0,
) -> tuple:
    """TF's ``StridedSlice`` bounds (lists of entries) and bit masks as an index tuple:
    ``...``, None (a new axis), the entry itself (shrink) or a slice per position."""
    key = []
    for i, (b, e, st) in enumerate(zip(begin, end, strides)):
        bit = 1 << i
        if ellipsis_mask & bit:
            key.append(Ellipsis)
        elif new_axis_mask & bit:
            key.append(None)
        elif shrink_axis_mask & bit:
            key.append(b)
        else:
            key.append(
                _py_slice(None if begin_mask & bit else b, None if end_mask & bit else e, st)
            )
    return tuple(key)


# ---------------------------------------------------------------------------------------
# Gather and scatter.


def _gather_infer(inputs, attrs):
    if not inputs[1].dtype.is_integer:
        raise TypeError(
            f"Value passed to parameter 'indices' has DataType "
            f"{inputs[1].dtype.name} not in list of allowed values: int32, int64"
        )
    p, i = dims(inputs[0]), dims(inputs[1])
    if p is None or i is None:
        return [(None, inputs[0].dtype)]
    axis = normalize_axis(attrs["axis"], len(p))
    return [(p[:axis] + i + p[axis + 1 :], inputs[0].dtype)]


@register_op("GatherV2", infer=_gather_infer)
def _gather(params, indices, axis=0):
    n = np.shape(params)[axis]
    idx = np.asarray(indices)
    if idx.size and (idx.min() < 0 or idx.max() >= n):
        flat = idx.reshape(-1)
        k = int(np.argmax((flat < 0) | (flat >= n)))
        where_ = ", ".join(str(int(i)) for i in np.unravel_index(k, idx.shape))
        raise errors.InvalidArgumentError(
            None, None, f"indices[{where_}] = {int(flat[k])} is not in [0, {n})"
        )
    return np.take(params, idx, axis=axis)


@register_gradient("GatherV2")
def _gather_grad(op, grad):
    """Axis 0: an IndexedSlices over the gathered rows (sparse updates downstream)."""
    params, indices = op.inputs
    axis = op.attrs["axis"]
    if axis == 0:
        p = dims(params)
        row = list(p[1:]) if p is not None and None not in p[1:] else None
        flat_idx = reshape(indices, [-1])
        if row is not None:
            values = reshape(grad, [-1] + row)
        else:
            values = reshape(grad, concat([[-1], shape(params)[1:]], 0))
        return [IndexedSlices(values, flat_idx, shape(params)), None]
    return [apply_op("GatherGradDense", grad, indices, params, axis=axis), None]


@register_op("GatherGradDense", infer=lambda i, a: [(dims(i[2]), i[0].dtype)])
def _gather_grad_dense(g, indices, params, axis=0):
    axis %= np.ndim(params)
    out = np.zeros(np.shape(params), dtype=np.asarray(g).dtype)
    moved = np.moveaxis(out, axis, 0)
    gm = np.moveaxis(
        np.asarray(g),
        list(_py_range(axis, axis + np.ndim(indices))),
        list(_py_range(np.ndim(indices))),
    )
    np.add.at(moved, np.asarray(indices), gm)
    return out


@register_gradient("GatherGradDense")
def _gather_grad_dense_grad(op, grad):
    return [gather(grad, op.inputs[1], axis=op.attrs["axis"]), None, None]


@register_op("IndexedSlicesToDense", infer=lambda i, a: [(_shape_from_tensor(i[2]), i[0].dtype)])
def _slices_to_dense(values, indices, dense_shape):
    out = np.zeros(tuple(dense_shape), dtype=np.asarray(values).dtype)
    np.add.at(out, np.asarray(indices), values)
    return out


@register_gradient("IndexedSlicesToDense")
def _slices_to_dense_grad(op, grad):
    return [gather(grad, op.inputs[1]), None, None]


def gather(params, indices, validate_indices=None, name=None, axis=0, batch_dims=0):
    """Slices of ``params`` along ``axis`` at ``indices``."""
    hook = getattr(params, "_gather", None)
    if hook is not None:  # partitioned or resource-style params
        return hook(indices, name=name)
    if batch_dims:  # composed from GatherNd, which imports this module
        from miniflow.ops.gather_scatter_ops import batched_gather

        return batched_gather(params, indices, int(axis), int(batch_dims), name=name)
    try:
        return apply_op("GatherV2", params, _as_index(indices), axis=int(axis), name=name)
    except TypeError:
        impl = ragged_impl(gather, params, indices)
        if impl is None or axis:
            raise
        return impl(params, indices, name=name)


def _as_index(indices):
    fe = current_frontend()
    if fe.is_tensor(indices):
        return indices
    return convert_to_tensor(
        np.asarray(indices).astype(np.int64) if np.asarray(indices).dtype.kind in "iu" else indices,
        dtype=None,
    )


def boolean_mask(tensor, mask, name="boolean_mask", axis=None):
    """The slices of ``tensor`` where the N-D ``mask`` (matching dims ``axis`` ..
    ``axis + N - 1``) is true: those dims collapse into one, as in TF.

    Raises:
        ValueError: the mask is a scalar, has unknown rank, or its static shape does not
            match those dims of ``tensor``.
    """
    tensor, mask = convert_to_tensor(tensor), convert_to_tensor(mask)
    m, t = dims(mask), dims(tensor)
    if m is None:
        raise ValueError(
            "Number of mask dimensions must be specified, even if some "
            "dimensions are None.  E.g. shape=[None] is ok, but shape=None is "
            "not."
        )
    if not m:
        raise ValueError("mask cannot be scalar.")
    axis = 0 if axis is None else int(axis)
    if t is not None:
        axis = normalize_axis(axis, len(t))
        part = TensorShape(t[axis : axis + len(m)])
        if not part.is_compatible_with(TensorShape(m)) or len(t) < axis + len(m):
            raise ValueError(f"Shapes {part} and {TensorShape(m)} are incompatible")
    idx = (
        reshape(where(mask), [-1])
        if len(m) == 1
        else reduce_sum(where(mask) * _strides(mask, m), axis=1)
    )
    if len(m) > 1:
        inner = t[axis : axis + len(m)] if t is not None else None
        if inner is not None and None not in inner and None not in t[:axis] + t[axis + len(m) :]:
            flat = list(t[:axis]) + [int(np.prod(inner))] + list(t[axis + len(m) :])
        else:
            s = shape(tensor, out_type=dtypes.int64)
            flat = concat(
                [
                    s[:axis],
                    reduce_prod(s[axis : axis + len(m)], keepdims=True),
                    s[axis + len(m) :],
                ],
                0,
            )
        tensor = reshape(tensor, flat)
    return gather(tensor, idx, axis=axis, name=name)


def _strides(mask, m):
    """Row-major strides of the mask's dims, to turn `where` coordinates into offsets."""
    if None not in m:
        return convert_to_tensor(np.cumprod((m[1:] + (1,))[::-1])[::-1].astype(np.int64))
    s = shape(mask, out_type=dtypes.int64)
    return concat([reduce_prod(s[k + 1 :], keepdims=True) for k in _py_range(len(m))], 0)
