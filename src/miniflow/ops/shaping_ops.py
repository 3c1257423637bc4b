"""Shape ops: `shape`/`size`/`rank`, `reshape`, `expand_dims`/`squeeze`, `transpose`,
`broadcast_to`, `tile`, `pad`, and `fill`/`zeros`/`ones`.
"""

from __future__ import annotations

import builtins

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import TensorShape, as_shape, broadcast_dims
from miniflow.ops import shape_rules as rules
from miniflow.ops.broadcast_ops import unbroadcast
from miniflow.ops.concat_split_ops import stack
from miniflow.ops.constant_ops import _const_value, _shape_from_tensor, constant, convert_to_tensor
from miniflow.ops.reduction_ops import reduce_sum
from miniflow.ops.shape_rules import dims, normalize_axis

_py_slice = builtins.slice
_py_range = builtins.range

# ---------------------------------------------------------------------------------------
# Shapes.


def _shape_infer(inputs, attrs):
    d = dims(inputs[0])
    return [((None if d is None else len(d),), dtypes.as_dtype(attrs.get("out_type", "int32")))]


@register_op("Shape", infer=_shape_infer)
def _shape(x, out_type=dtypes.int32):
    return np.array(np.shape(x), dtype=out_type.np)


register_op("Size", infer=lambda i, a: [((), dtypes.as_dtype(a.get("out_type", "int32")))])(
    lambda x, out_type=dtypes.int32: np.array(np.size(x), dtype=out_type.np)
)
register_op("Rank", infer=rules.scalar_of("int32"))(lambda x: np.array(np.ndim(x), dtype=np.int32))
not_differentiable("Shape", "Size", "Rank")


def shape(input, name=None, out_type=dtypes.int32):  # noqa: A002
    """The runtime shape of ``input`` as a 1-D int32 tensor."""
    return apply_op("Shape", input, out_type=dtypes.as_dtype(out_type), name=name)


def size(input, name=None, out_type=dtypes.int32):  # noqa: A002
    return apply_op("Size", input, out_type=dtypes.as_dtype(out_type), name=name)


def rank(input, name=None):  # noqa: A002
    return apply_op("Rank", input, name=name)


def _reshape_infer(inputs, attrs):
    x, target = dims(inputs[0]), _shape_from_tensor(inputs[1])
    if target is None:
        return [(None, inputs[0].dtype)]
    value = _const_value(inputs[1])
    if value is not None and int(np.sum(np.asarray(value) == -1)) > 1:
        raise ValueError(
            f"Cannot infer the shape of a reshape to {np.asarray(value).tolist()}:"
            " only one dimension may be -1"
        )
    if x is not None and None not in x:
        n = int(np.prod(x))
        known = [d for d in target if d is not None]
        if None not in target and int(np.prod(target)) != n:
            raise ValueError(
                f"Cannot reshape a tensor with {n} elements to shape "
                f"{list(target)} ({int(np.prod(target))} elements)"
            )
        if 0 in known:  # TF leaves the -1 unknown next to a 0 (it need not be 0)
            if n and value is not None:
                raise ValueError(
                    f"Cannot reshape a tensor with {n} elements to shape "
                    f"{np.asarray(value).tolist()} (0 elements)"
                )
            return [(target, inputs[0].dtype)]
        if known and value is not None and n % int(np.prod(known)):
            raise ValueError(
                f"Input to reshape is a tensor with {n} values, but the "
                f"requested shape requires a multiple of {int(np.prod(known))}"
            )
        if target.count(None) == 1 and n % int(np.prod(known)) == 0:
            target = tuple(n // int(np.prod(known)) if d is None else d for d in target)
    return [(target, inputs[0].dtype)]


@register_op("Reshape", infer=_reshape_infer)
def _reshape(x, shape):
    if np.size(x) == 0:
        shape = _zero_size_target(np.shape(x), np.asarray(shape).tolist())
    return np.reshape(x, shape)


def _zero_size_target(in_shape, target):
    """TF's -1 next to a 0 in the target: the product of the input's non-zero dims
    divided by the target's non-zero dims (NumPy cannot infer it)."""
    if -1 not in target or 0 not in target:
        return target
    n = int(np.prod([d for d in in_shape if d > 0]))
    known = int(np.prod([d for d in target if d > 0]))
    return [n // known if d == -1 else d for d in target]


def _like_shape_of(x):
    d = dims(x)
    return list(d) if d is not None and None not in d else shape(x)


@register_gradient("Reshape")
def _reshape_grad(op, grad):
    return [reshape(grad, _like_shape_of(op.inputs[0])), None]


def reshape(tensor, shape, name=None):
    """``tensor`` with a new shape (one dim may be -1)."""
    return apply_op("Reshape", tensor, _int_tensor(shape), name=name)


def _int_tensor(v):
    if current_frontend().is_tensor(v):
        return v
    if isinstance(v, list | tuple) and any(current_frontend().is_tensor(e) for e in v):
        # Like TF's auto-packing: the tensors' int dtype (int32 or int64) wins.
        dtype = next(e.dtype for e in v if current_frontend().is_tensor(e))
        dtype = dtype if dtype in (dtypes.int32, dtypes.int64) else dtypes.int32
        return stack([convert_to_tensor(e, dtype=dtype) for e in v])
    if isinstance(v, TensorShape):
        v = v.as_list()
    return convert_to_tensor(np.asarray(v, dtype=np.int32))


def _expand_infer(inputs, attrs):
    x = dims(inputs[0])
    if x is None:
        return [(None, inputs[0].dtype)]
    axis = normalize_axis(attrs["axis"], len(x) + 1)
    return [(x[:axis] + (1,) + x[axis:], inputs[0].dtype)]


@register_op("ExpandDims", infer=_expand_infer)
def _expand_dims(x, axis):
    return np.expand_dims(x, axis)


def _squeeze_infer(inputs, attrs):
    x, axis = dims(inputs[0]), attrs["axis"]
    if x is None:
        return [(None, inputs[0].dtype)]
    if axis:
        axes = normalize_axis(tuple(axis), len(x))
        for a in axes:
            if x[a] is not None and x[a] != 1:
                raise ValueError(f"Can not squeeze dim[{a}], expected a dimension of 1, got {x[a]}")
        return [(tuple(d for i, d in enumerate(x) if i not in axes), inputs[0].dtype)]
    if None in x:
        return [(None, inputs[0].dtype)]
    return [(tuple(d for d in x if d != 1), inputs[0].dtype)]


@register_op("Squeeze", infer=_squeeze_infer)
def _squeeze(x, axis=None):
    return np.squeeze(x, axis=tuple(axis) if axis else None)


@register_gradient("ExpandDims")
def _expand_dims_grad(op, grad):
    return [reshape(grad, _like_shape_of(op.inputs[0]))]


register_gradient("Squeeze")(_expand_dims_grad)


def expand_dims(input, axis=None, name=None, dim=None):  # noqa: A002
    """Inserts a dimension of 1 at ``axis``."""
    axis = dim if axis is None else axis
    if axis is None:
        raise ValueError("Must specify an axis argument to tf.expand_dims()")
    return apply_op("ExpandDims", input, axis=int(axis), name=name)


def squeeze(input, axis=None, name=None, squeeze_dims=None):  # noqa: A002
    """Removes dimensions of size 1 (only those in ``axis`` if given)."""
    axis = squeeze_dims if axis is None else axis
    if axis is not None:
        axis = (int(axis),) if np.ndim(axis) == 0 else tuple(int(a) for a in axis)
    return apply_op("Squeeze", input, axis=axis or None, name=name)


def _transpose_infer(inputs, attrs):
    x, perm = dims(inputs[0]), attrs["perm"]
    if x is None:
        return [(None if perm is None else (None,) * len(perm), inputs[0].dtype)]
    perm = perm if perm is not None else tuple(reversed(_py_range(len(x))))
    if sorted(perm) != list(_py_range(len(x))):
        raise ValueError(f"perm {list(perm)} is not a permutation of the {len(x)} dims")
    return [(tuple(x[p] for p in perm), inputs[0].dtype)]


@register_op("Transpose", infer=_transpose_infer)
def _transpose(x, perm=None):
    return np.transpose(x, perm)


@register_gradient("Transpose")
def _transpose_grad(op, grad):
    perm = op.attrs["perm"]
    return [transpose(grad, None if perm is None else list(np.argsort(perm)))]


def transpose(a, perm=None, name="transpose", conjugate=False):
    """Permutes dimensions (reverses them when ``perm`` is None)."""
    return apply_op(
        "Transpose", a, perm=None if perm is None else tuple(int(p) for p in perm), name=name
    )


def _broadcast_to_infer(inputs, attrs):
    target = _shape_from_tensor(inputs[1])
    if target is not None:
        broadcast_dims(dims(inputs[0]), target)
    return [(target, inputs[0].dtype)]


@register_op("BroadcastTo", infer=_broadcast_to_infer)
def _broadcast_to(x, shape):
    return np.broadcast_to(x, tuple(shape))


@register_gradient("BroadcastTo")
def _broadcast_to_grad(op, grad):
    return [unbroadcast(grad, op.inputs[0]), None]


def broadcast_to(input, shape, name=None):  # noqa: A002
    return apply_op("BroadcastTo", input, _int_tensor(shape), name=name)


# ---------------------------------------------------------------------------------------
# Tiling and padding.


def _tile_infer(inputs, attrs):
    d, m = dims(inputs[0]), _shape_from_tensor(inputs[1])
    md = dims(inputs[1])
    if md is not None and len(md) != 1:
        raise ValueError(f"Shape must be rank 1 but is rank {len(md)} for multiples")
    if d is not None and md is not None and md[0] is not None and md[0] != len(d):
        raise ValueError(f"Shape must be rank {len(d)} but multiples has length {md[0]}")
    if d is None:
        return [(None if m is None else (None,) * len(m), inputs[0].dtype)]
    if m is None:
        return [((None,) * len(d), inputs[0].dtype)]
    return [
        (tuple(None if x is None or k is None else x * k for x, k in zip(d, m)), inputs[0].dtype)
    ]


@register_op("Tile", infer=_tile_infer)
def _tile(x, multiples):
    multiples = tuple(np.asarray(multiples).reshape(-1))
    if len(multiples) != np.ndim(x):
        raise errors.InvalidArgumentError(
            None,
            None,
            f"Expected multiples argument to be a vector of length "
            f"{np.ndim(x)} but got length {len(multiples)}",
        )
    return np.tile(x, multiples)


@register_op("TileGrad", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _tile_grad_kernel(g, x, multiples):
    """Sums the ``multiples`` copies of each element of ``x`` in ``g``."""
    xs = np.shape(x)
    split = [v for pair in zip(multiples, xs) for v in pair]
    return np.sum(np.reshape(g, split), axis=tuple(_py_range(0, 2 * len(xs), 2)))


@register_gradient("Tile")
def _tile_grad(op, grad):
    x, multiples = op.inputs
    return [apply_op("TileGrad", grad, x, multiples), None]


@register_gradient("TileGrad")
def _tile_grad_grad(op, grad):
    return [tile(grad, op.inputs[2]), None, None]


def tile(input, multiples, name=None):  # noqa: A002
    """Repeats ``input`` ``multiples[i]`` times along dimension i (``multiples`` may be a
    tensor, or a list mixing ints and scalar tensors)."""
    return apply_op("Tile", input, _int_tensor(multiples), name=name)


def _pad_infer(inputs, attrs):
    d, p = dims(inputs[0]), attrs["paddings"]
    if d is None:
        return [((None,) * len(p), inputs[0].dtype)]
    if len(p) != len(d):
        raise ValueError(
            f"The first dimension of paddings must be the rank of inputs {len(d)}, got {len(p)}"
        )
    return [(tuple(None if x is None else x + a + b for x, (a, b) in zip(d, p)), inputs[0].dtype)]


@register_op("Pad", infer=_pad_infer)
def _pad(x, paddings=(), mode="CONSTANT", constant_values=0):
    if not paddings:  # a scalar: nothing to pad (np.pad rejects an empty pad list)
        return np.array(x)
    if mode == "CONSTANT":
        return np.pad(x, paddings, mode="constant", constant_values=constant_values)
    limit = 1 if mode == "REFLECT" else 0  # REFLECT leaves out the edge: one less to mirror
    for n, (a, b) in zip(np.shape(x), paddings):
        if max(a, b) > n - limit:
            raise errors.InvalidArgumentError(
                None,
                None,
                f"{mode} paddings must be {'less than' if limit else 'at most'} "
                f"the dimension size: {a}, {b} {'not less than' if limit else 'greater than'} "
                f"{n}",
            )
    return np.pad(x, paddings, mode={"REFLECT": "reflect", "SYMMETRIC": "symmetric"}[mode])


@register_gradient("Pad")
def _pad_grad(op, grad):
    if op.attrs["mode"] != "CONSTANT":
        return [
            apply_op(
                "MirrorPadGrad",
                grad,
                op.inputs[0],
                paddings=op.attrs["paddings"],
                mode=op.attrs["mode"],
            )
        ]
    spec = tuple(_py_slice(a, -b if b else None) for a, b in op.attrs["paddings"])
    return [apply_op("StridedSlice", grad, spec=spec)]


@register_op("MirrorPadGrad", infer=lambda i, a: [(dims(i[1]), i[0].dtype)])
def _mirror_pad_grad(g, x, paddings=(), mode="REFLECT"):
    """Folds a reflect/symmetric pad's gradient back: each padded element adds to the
    element it copies."""
    g = np.asarray(g)
    np_mode = {"REFLECT": "reflect", "SYMMETRIC": "symmetric"}[mode]
    for axis, (n, (a, b)) in enumerate(zip(np.shape(x), paddings)):
        source = np.pad(np.arange(n), (a, b), mode=np_mode)  # padded position -> source
        out = np.zeros(g.shape[:axis] + (n,) + g.shape[axis + 1 :], dtype=g.dtype)
        np.add.at(np.moveaxis(out, axis, 0), source, np.moveaxis(g, axis, 0))
        g = out
    return g


@register_gradient("MirrorPadGrad")
def _mirror_pad_grad_grad(op, grad):
    """The fold is linear; its adjoint is the pad itself."""
    return [pad(grad, op.attrs["paddings"], mode=op.attrs["mode"]), None]


def pad(tensor, paddings, mode="CONSTANT", name=None, constant_values=0):
    """Pads ``tensor`` with ``paddings[i] = [before, after]`` along each dimension."""
    mode = mode.upper()
    if mode not in ("CONSTANT", "REFLECT", "SYMMETRIC"):
        raise ValueError(f"Unknown padding mode: {mode}")
    p = tuple((int(a), int(b)) for a, b in np.asarray(paddings).reshape(-1, 2))
    return apply_op(
        "Pad", tensor, paddings=p, mode=mode, constant_values=constant_values, name=name
    )


def _fill_infer(inputs, attrs):
    return [(_shape_from_tensor(inputs[0]), inputs[1].dtype)]


@register_op("Fill", infer=_fill_infer)
def _fill(dims_, value):
    return np.full(tuple(dims_), value, dtype=np.asarray(value).dtype)


def fill(dims, value, name=None):  # noqa: A002
    """A tensor of shape ``dims`` filled with ``value``."""
    return apply_op("Fill", _int_tensor(dims), value, name=name)


@register_gradient("Fill")
def _fill_grad(op, grad):
    """Every element is the value: its gradient is the sum."""
    return [None, reduce_sum(grad)]


def zeros(shape, dtype=dtypes.float32, name=None):
    """A tensor of zeros of ``shape``."""
    return _filled(shape, dtype, name, np.zeros, "zeros")


def ones(shape, dtype=dtypes.float32, name=None):
    """A tensor of ones of ``shape``."""
    return _filled(shape, dtype, name, np.ones, "ones")


def _filled(shape, dtype, name, np_fn, default_name):
    """A constant when ``shape`` is static, else a `Fill` of the computed shape."""
    dtype = dtypes.as_dtype(dtype)
    if not current_frontend().is_tensor(shape) and not (
        isinstance(shape, list | tuple) and any(current_frontend().is_tensor(s) for s in shape)
    ):
        return constant(
            np_fn(tuple(as_shape(shape).as_list()), dtype=dtype.np), name=name or default_name
        )
    return fill(shape, np_fn((), dtype=dtype.np), name=name)
