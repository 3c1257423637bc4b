"""Reordering ops: `tf.reverse`, `reverse_sequence`, `roll` (primitives, each its own
adjoint up to a sign), and compositions of reshape/transpose/pad: `space_to_depth`,
`depth_to_space`, `space_to_batch(_nd)`, `batch_to_space(_nd)`, `meshgrid`,
`sequence_mask`, `diag`, `diag_part`, `parallel_stack`."""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.ops import array_ops as _arr, math_ops as _math, shape_rules as rules
from miniflow.ops.control_flow_ops import name_scope as _name_scope
from miniflow.ops.shape_rules import dims, normalize_axis

# ---------------------------------------------------------------------------------------
# ReverseV2, ReverseSequence, Roll.


def _reverse_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is not None:
        normalize_axis(tuple(attrs["axis"]), len(d))
    return [(d, inputs[0].dtype)]


@register_op("ReverseV2", infer=_reverse_infer)
def _reverse(x, axis=()):
    axes = tuple(a % np.ndim(x) for a in axis)
    if len(set(axes)) != len(axes):
        raise errors.InvalidArgumentError(None, None, f"axis {list(axis)} is duplicated")
    return np.flip(x, axes).copy() if axes else np.asarray(x)


@register_gradient("ReverseV2")
def _reverse_grad(op, grad):
    return [apply_op("ReverseV2", grad, axis=op.attrs["axis"])]


def reverse(tensor, axis, name=None):
    """``tensor`` with the order of the given axes reversed."""
    return apply_op(
        "ReverseV2", tensor, axis=tuple(int(a) for a in _static_ints(axis, "axis")), name=name
    )


reverse_v2 = reverse


def _reverse_sequence_infer(inputs, attrs):
    if not inputs[1].dtype.is_integer:
        raise TypeError(f"seq_lengths must be int32 or int64, got {inputs[1].dtype.name}")
    d = dims(inputs[0])
    if d is not None:
        normalize_axis((attrs["seq_axis"], attrs["batch_axis"]), len(d), "seq_axis/batch_axis")
    return [(d, inputs[0].dtype)]


@register_op("ReverseSequence", infer=_reverse_sequence_infer)
def _reverse_sequence(x, lengths, seq_axis=1, batch_axis=0):
    x = np.asarray(x)
    lengths = np.asarray(lengths)
    if lengths.shape != (x.shape[batch_axis],):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"len(seq_lens) != input.dims({batch_axis}), ({lengths.size} vs. "
            f"{x.shape[batch_axis]})",
        )
    if lengths.size and (lengths.min() < 0 or lengths.max() > x.shape[seq_axis]):
        raise errors.InvalidArgumentError(
            None, None, f"seq_lens must be in [0, {x.shape[seq_axis]}], got {lengths.tolist()}"
        )
    out = np.array(x, copy=True)
    for b, n in enumerate(lengths):
        src = [slice(None)] * x.ndim
        src[batch_axis], src[seq_axis] = b, slice(0, int(n))
        out[tuple(src)] = np.flip(x[tuple(src)], seq_axis - (batch_axis < seq_axis))
    return out


@register_gradient("ReverseSequence")
def _reverse_sequence_grad(op, grad):
    return [apply_op("ReverseSequence", grad, op.inputs[1], **op.attrs), None]


def reverse_sequence(
    input,
    seq_lengths,
    seq_axis=None,
    batch_axis=None,
    name=None,  # noqa: A002
    seq_dim=None,
    batch_dim=None,
):
    """Reverses the first ``seq_lengths[b]`` entries along ``seq_axis`` of each batch row."""
    seq_axis = seq_dim if seq_axis is None else seq_axis
    batch_axis = (batch_dim or 0) if batch_axis is None else batch_axis
    x = _arr.convert_to_tensor(input)
    r = dims(x)
    seq_axis, batch_axis = int(seq_axis), int(batch_axis)
    if r is not None:
        seq_axis, batch_axis = normalize_axis((seq_axis, batch_axis), len(r))
    if seq_axis == batch_axis:
        raise ValueError(f"seq_axis == batch_axis: {seq_axis}")
    return apply_op(
        "ReverseSequence",
        x,
        _arr._as_index(seq_lengths),
        seq_axis=seq_axis,
        batch_axis=batch_axis,
        name=name,
    )


@register_op("Roll", infer=rules.same_as_first)
def _roll(x, shift, axis):
    shift, axis = np.asarray(shift), np.asarray(axis)
    if shift.shape != axis.shape:
        raise errors.InvalidArgumentError(
            None, None, f"shift and axis must have the same size, got {shift.size} and {axis.size}"
        )
    if axis.size and (axis.min() < -np.ndim(x) or axis.max() >= np.ndim(x)):
        raise errors.InvalidArgumentError(
            None, None, f"axis {axis.tolist()} is out of range for rank {np.ndim(x)}"
        )
    return np.roll(x, tuple(shift.reshape(-1)), tuple(axis.reshape(-1)))


@register_gradient("Roll")
def _roll_grad(op, grad):
    _, shift, axis = op.inputs
    return [apply_op("Roll", grad, _math.negative(shift), axis), None, None]


def roll(input, shift, axis, name=None):  # noqa: A002
    """Elements shifted by ``shift`` along ``axis`` (wrapping around)."""
    return apply_op("Roll", input, _arr._as_index(shift), _arr._as_index(axis), name=name)


# ---------------------------------------------------------------------------------------
# Compositions.


def _static_ints(v, what):
    """A Python list of ints from a list, array or constant tensor."""
    value = _arr.get_static_value(v) if _is_tensor(v) else v
    if value is None:
        raise ValueError(f"{what} must be known when the graph is built (a constant), got {v}")
    return [int(e) for e in np.asarray(value).reshape(-1)]


def _is_tensor(v):
    return current_frontend().is_tensor(v)


def _dim(x, i):
    """Static size of axis ``i`` of ``x``, else a scalar int32 tensor."""
    d = dims(x)
    if d is not None and d[i] is not None:
        return d[i]
    return _arr.shape(x)[i]


def _rank(x, what):
    d = dims(x)
    if d is None:
        raise ValueError(f"{what} needs an input of known rank")
    return len(d)


def sequence_mask(lengths, maxlen=None, dtype=dtypes.bool, name=None):
    """``mask[i..., j] = j < lengths[i...]``; maxlen defaults to max(lengths)."""
    with _name_scope(name, "SequenceMask"):
        lengths = _arr.convert_to_tensor(lengths)
        if maxlen is None:
            maxlen = _math.reduce_max(lengths)
        maxlen = _arr.cast(_arr.convert_to_tensor(maxlen), lengths.dtype)
        row = _arr.range(0, maxlen, 1, dtype=lengths.dtype)
        mask = _math.less(row, _arr.expand_dims(lengths, -1))
        dtype = dtypes.as_dtype(dtype)
        return mask if dtype == dtypes.bool else _arr.cast(mask, dtype)


def meshgrid(*args, **kwargs):
    """N-D coordinate grids from 1-D vectors; ``indexing`` 'xy' (default) or 'ij'."""
    indexing = kwargs.pop("indexing", "xy")
    name = kwargs.pop("name", "meshgrid")
    if kwargs:
        raise TypeError(f"Invalid keyword arguments: {sorted(kwargs)}")
    if indexing not in ("xy", "ij"):
        raise ValueError("indexing parameter must be either 'xy' or 'ij'")
    with _name_scope(name, "meshgrid"):
        xs = [_arr.convert_to_tensor(a) for a in args]
        xs = [x if len(dims(x) or ()) == 1 else _arr.reshape(x, [-1]) for x in xs]
        n = len(xs)
        out = []
        sizes = [_dim(x, 0) for x in xs]
        if indexing == "xy" and n > 1:
            sizes[0], sizes[1] = sizes[1], sizes[0]
        for i, x in enumerate(xs):
            shape = [1] * n
            axis = (1 - i if i < 2 else i) if indexing == "xy" and n > 1 else i
            shape[axis] = -1
            out.append(_arr.broadcast_to(_arr.reshape(x, shape), _arr._int_tensor(sizes)))
        return out


def _repeat_infer(inputs, attrs):
    r = _arr.get_static_value(inputs[0])
    n = dims(inputs[1])
    if r is None or (np.ndim(r) == 0 and (n is None or None in n)):
        return [((None,), inputs[0].dtype)]
    r = np.asarray(r)
    return [((int(r.sum()) if r.ndim else int(r) * int(np.prod(n)),), inputs[0].dtype)]


@register_op("RepeatIndices", infer=_repeat_infer)
def _repeat_indices(repeats, like):
    """Positions 0..len(like)-1 (``like`` gives only its first dimension), each
    repeated repeats[i] times."""
    n = np.shape(like)[0]
    r = np.asarray(repeats)
    if r.ndim and r.shape != (n,) and r.shape != (1,):
        raise errors.InvalidArgumentError(
            None, None, f"repeats must be a scalar or have the axis length {n}, got {r.shape[0]}"
        )
    if (r < 0).any():
        raise errors.InvalidArgumentError(None, None, f"repeats must be >= 0, got {r}")
    return np.repeat(np.arange(n, dtype=r.dtype), np.broadcast_to(r, (n,)))


not_differentiable("RepeatIndices")


def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    """``input`` with each slice along ``axis`` (of the flattened input if None) repeated
    ``repeats`` times (a scalar or one count per slice); gathered, so differentiable."""
    with _name_scope(name, "Repeat"):
        x = _arr.convert_to_tensor(input)
        if axis is None:
            d = dims(x)
            size = int(np.prod(d)) if d is not None and None not in d else -1
            x, axis = _arr.reshape(x, [size]), 0
        axis = int(axis)
        moved = (
            x
            if axis == 0
            else _arr.transpose(
                x,
                [axis % _rank(x, "repeat")]
                + [i for i in range(_rank(x, "repeat")) if i != axis % _rank(x, "repeat")],
            )
        )
        rows = apply_op("RepeatIndices", _arr.cast(repeats, dtypes.int32), moved)
        return _arr.gather(x, rows, axis=axis)


def parallel_stack(values, name="parallel_stack"):
    """`tf.stack` along axis 0 (TF's parallel variant computes the same value)."""
    return _arr.stack(values, 0, name=name)


def _depth_args(x, block_size, data_format, what):
    if data_format not in ("NHWC", None):
        raise ValueError(f"{what}: data_format {data_format!r} is not supported; use 'NHWC'")
    b = int(block_size)
    if b < 2:
        raise ValueError(f"{what}: block_size must be > 1, got {b}")
    x = _arr.convert_to_tensor(x)
    if _rank(x, what) != 4:
        raise ValueError(f"{what}: input must be rank 4, got rank {_rank(x, what)}")
    return x, b


def space_to_depth(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """Moves ``block_size`` x ``block_size`` spatial blocks into the depth axis (NHWC)."""
    x, b = _depth_args(input, block_size, data_format, "space_to_depth")
    n, h, w, c = (_dim(x, i) for i in range(4))
    for size, what in ((h, "height"), (w, "width")):
        if isinstance(size, int) and size % b:
            raise ValueError(
                f"Dimension size must be evenly divisible by {b} but is {size} (input {what})"
            )
    t = _arr.reshape(x, _arr._int_tensor([-1, h // b, b, w // b, b, c]))
    t = _arr.transpose(t, [0, 1, 3, 2, 4, 5])
    return _arr.reshape(
        t, _arr._int_tensor([-1, h // b, w // b, b * b * c]), name=name or "SpaceToDepth"
    )


def depth_to_space(input, block_size, name=None, data_format="NHWC"):  # noqa: A002
    """Moves depth into ``block_size`` x ``block_size`` spatial blocks (NHWC)."""
    x, b = _depth_args(input, block_size, data_format, "depth_to_space")
    n, h, w, c = (_dim(x, i) for i in range(4))
    if isinstance(c, int) and c % (b * b):
        raise ValueError(f"Dimension size must be evenly divisible by {b * b} but is {c}")
    t = _arr.reshape(x, _arr._int_tensor([-1, h, w, b, b, c // (b * b)]))
    t = _arr.transpose(t, [0, 1, 3, 2, 4, 5])
    return _arr.reshape(
        t, _arr._int_tensor([-1, h * b, w * b, c // (b * b)]), name=name or "DepthToSpace"
    )


def space_to_batch_nd(input, block_shape, paddings, name=None):  # noqa: A002
    """Zero-pads the M spatial axes, then moves blocks of ``block_shape`` into the batch."""
    x = _arr.convert_to_tensor(input)
    block = _static_ints(block_shape, "block_shape")
    pads = np.asarray(_static_ints(paddings, "paddings")).reshape(-1, 2)
    m, r = len(block), _rank(x, "space_to_batch_nd")
    if pads.shape[0] != m or min(block, default=1) < 1 or (pads < 0).any():
        raise ValueError(
            f"block_shape {block} must be >= 1 and paddings {pads.tolist()} "
            f"non-negative of shape [{m}, 2]"
        )
    full = [[0, 0]] + pads.tolist() + [[0, 0]] * (r - 1 - m)
    padded = _arr.pad(x, full)
    sizes = [_dim(padded, i) for i in range(r)]
    for i, (s, bs) in enumerate(zip(sizes[1 : m + 1], block)):
        if isinstance(s, int) and s % bs:
            raise ValueError(
                f"padded spatial dimension {i} ({s}) must be divisible by block_shape[{i}] = {bs}"
            )
    split = [sizes[0]]
    for s, bs in zip(sizes[1 : m + 1], block):
        split += [s // bs, bs]
    t = _arr.reshape(padded, _arr._int_tensor(split + sizes[m + 1 :]))
    perm = (
        [2 + 2 * i for i in range(m)]
        + [0]
        + [1 + 2 * i for i in range(m)]
        + list(range(2 * m + 1, r + m))
    )
    t = _arr.transpose(t, perm)
    return _arr.reshape(
        t,
        _arr._int_tensor(
            [-1] + [s // bs for s, bs in zip(sizes[1 : m + 1], block)] + sizes[m + 1 :]
        ),
        name=name or "SpaceToBatchND",
    )


def batch_to_space_nd(input, block_shape, crops, name=None):  # noqa: A002
    """The inverse of `space_to_batch_nd`: blocks of the batch back into space, then cropped."""
    x = _arr.convert_to_tensor(input)
    block = _static_ints(block_shape, "block_shape")
    crop = np.asarray(_static_ints(crops, "crops")).reshape(-1, 2)
    m, r = len(block), _rank(x, "batch_to_space_nd")
    if crop.shape[0] != m or min(block, default=1) < 1 or (crop < 0).any():
        raise ValueError(
            f"block_shape {block} must be >= 1 and crops {crop.tolist()} "
            f"non-negative of shape [{m}, 2]"
        )
    sizes = [_dim(x, i) for i in range(r)]
    prod = int(np.prod(block))
    if isinstance(sizes[0], int) and sizes[0] % prod:
        raise ValueError(
            f"The batch dimension ({sizes[0]}) must be divisible by the product of "
            f"block_shape ({prod})"
        )
    t = _arr.reshape(x, _arr._int_tensor(block + [sizes[0] // prod] + sizes[1:]))
    perm = [m]
    for i in range(m):
        perm += [m + 1 + i, i]
    perm += list(range(2 * m + 1, r + m))
    t = _arr.transpose(t, perm)
    spatial = [s * bs for s, bs in zip(sizes[1 : m + 1], block)]
    t = _arr.reshape(t, _arr._int_tensor([sizes[0] // prod] + spatial + sizes[m + 1 :]))
    if not crop.any():
        return _arr.identity(t, name=name or "BatchToSpaceND")
    begin = [0] + crop[:, 0].tolist() + [0] * (r - 1 - m)
    size = [-1] + [s - int(a + b) for s, (a, b) in zip(spatial, crop)] + [-1] * (r - 1 - m)
    if not all(isinstance(v, int) for v in size):
        size = _arr._int_tensor(size)
    return _arr.slice(t, begin, size, name=name or "BatchToSpaceND")


def space_to_batch(input, paddings, block_size=None, name=None, block_shape=None):  # noqa: A002
    """`space_to_batch_nd` over the two spatial axes of an NHWC tensor with a square block."""
    b = int(block_shape if block_size is None else block_size)
    return space_to_batch_nd(input, [b, b], paddings, name=name or "SpaceToBatch")


def batch_to_space(input, crops, block_size, name=None, block_shape=None):  # noqa: A002
    """`batch_to_space_nd` over the two spatial axes of an NHWC tensor with a square block."""
    b = int(block_size if block_shape is None else block_shape)
    return batch_to_space_nd(input, [b, b], crops, name=name or "BatchToSpace")


def _required_paddings(shape, block, base=None):
    """NumPy (paddings, crops) making each padded size divisible by its block size."""
    shape, block = np.asarray(shape), np.asarray(block)
    base = np.zeros((len(block), 2), np.int64) if base is None else np.asarray(base).reshape(-1, 2)
    full = shape + base[:, 0] + base[:, 1]
    extra = (block - full % block) % block
    pads = np.stack([base[:, 0], base[:, 1] + extra], 1).astype(np.int32)
    crops = np.stack([np.zeros_like(extra), extra], 1).astype(np.int32)
    return pads, crops


def required_space_to_batch_paddings(input_shape, block_shape, base_paddings=None, name=None):
    """(paddings, crops) making each padded spatial size divisible by its block size."""
    pads, crops = _required_paddings(
        _static_ints(input_shape, "input_shape"),
        _static_ints(block_shape, "block_shape"),
        None if base_paddings is None else _static_ints(base_paddings, "base_paddings"),
    )
    with _name_scope(name, "required_space_to_batch_paddings"):
        return (_arr.constant(pads, name="paddings"), _arr.constant(crops, name="crops"))


def diag(diagonal, name=None):
    """A rank-2k tensor with ``diagonal`` (rank k) on its diagonal and zeros elsewhere."""
    from miniflow.ops.gather_scatter_ops import scatter_nd

    with _name_scope(None, "diag_indices"):
        x = _arr.convert_to_tensor(diagonal)
        d = dims(x)
        shape = (
            list(d) + list(d)
            if d is not None and None not in d
            else _arr.concat([_arr.shape(x), _arr.shape(x)], 0)
        )
        n = _arr.size(x)
        at = _arr.expand_dims(_arr.range(n) * (n + 1), -1)
        out = scatter_nd(at, _arr.reshape(x, [-1]), _arr.expand_dims(n * n, 0))
    return _arr.reshape(out, shape, name=name or "Diag")


def diag_part(input, name=None):  # noqa: A002
    """The diagonal of a rank-2k tensor with shape ``s + s``: a tensor of shape ``s``."""
    with _name_scope(None, "diag_part_indices"):
        x = _arr.convert_to_tensor(input)
        d = dims(x)
        if d is not None and (
            len(d) % 2 or (None not in d and d[: len(d) // 2] != d[len(d) // 2 :])
        ):
            raise ValueError(f"Input must have even rank and shape s + s, got {list(d)}")
        k = _rank(x, "diag_part") // 2
        half = list(d[:k]) if d is not None and None not in d else _arr.shape(x)[:k]
        n = _math.reduce_prod(half)
        picked = _arr.gather(_arr.reshape(x, [-1]), _arr.range(n) * (n + 1))
    return _arr.reshape(picked, half, name=name or "DiagPart")
