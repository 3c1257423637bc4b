"""Constants, placeholders, shape manipulation, indexing and selection ops."""

from __future__ import annotations

import builtins

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import not_differentiable, register_gradient, register_op
from miniflow.core.shapes import TensorShape, as_shape, broadcast_dims
from miniflow.core.values import as_array
from miniflow.eager.tensor import note_value_read
from miniflow.ops import math_ops as _math
from miniflow.ops import shape_rules as rules
from miniflow.ops.shape_rules import dims, normalize_axis


_py_slice = builtins.slice
_py_range = builtins.range


def convert_to_tensor(value, dtype=None, name=None, preferred_dtype=None, dtype_hint=None):
    """A tensor for ``value`` in the current mode (graph: a Const op; eager: a value)."""
    hint = preferred_dtype or dtype_hint
    if hint is not None and dtype is None:
        hint = dtypes.as_dtype(hint)
        if isinstance(value, list | tuple) and _has_tensor(value):
            return (
                _pack_hinted(value, hint, name)
                if _literals_fit(value, hint)
                else current_frontend().convert_to_tensor(value, name=name)
            )
        if isinstance(value, np.ndarray | np.generic):
            if value.dtype.kind in "biufc" and hint is not dtypes.string:
                value = np.asarray(value).astype(hint.np)  # NumPy values cast, as in TF
            hint = None
        elif not _literals_fit(value, hint):
            hint = None  # TF uses the hint only where the literal converts losslessly
    return current_frontend().convert_to_tensor(value, dtype=dtype, name=name, preferred_dtype=hint)


def _has_tensor(value):
    fe = current_frontend()
    return any(
        _has_tensor(v)
        if isinstance(v, list | tuple)
        else fe.is_tensor(v) or hasattr(v, "__tf_tensor__")
        for v in value
    )


def _literals_fit(value, dt):
    """Whether every Python/NumPy literal in ``value`` has a kind that ``dt`` holds
    (bool < int < float < complex; strings only as strings); tensors always fit."""
    if isinstance(value, list | tuple):
        return all(_literals_fit(v, dt) for v in value)
    if current_frontend().is_tensor(value) or hasattr(value, "__tf_tensor__"):
        return True
    if isinstance(value, str | bytes):
        return dt is dtypes.string
    kind = np.asarray(value).dtype.kind
    if dt is dtypes.string or kind not in "biufc":
        return False
    return (
        (kind == "b" or not dt.is_bool)
        and (kind in "biu" or dt.is_floating or dt.is_complex)
        and (kind != "c" or dt.is_complex)
    )


def _pack_hinted(value, dt, name):
    """TF's auto-packing with a dtype: tensors are cast to ``dt``, literals made ``dt``."""
    fe = current_frontend()

    def part(v):
        if isinstance(v, list | tuple):
            return apply_op("Pack", *[part(e) for e in v], axis=0)
        if fe.is_tensor(v) or hasattr(v, "__tf_tensor__"):
            t = fe.convert_to_tensor(v)
            return t if t.dtype == dt else _math.cast(t, dt)
        return fe.convert_to_tensor(v, dtype=dt)

    return apply_op("Pack", *[part(e) for e in value], axis=0, name=name or "packed")


def convert_pair(x, y):
    """Converts two operands; a literal takes the dtype of the other (tensor) operand."""
    fe = current_frontend()
    x_is = fe.is_tensor(x) or hasattr(x, "__tf_tensor__")
    if not x_is and (fe.is_tensor(y) or hasattr(y, "__tf_tensor__")):
        y = convert_to_tensor(y)
        return convert_to_tensor(x, dtype=y.dtype), y
    x = convert_to_tensor(x)
    return x, fe.convert_to_tensor(y, preferred_dtype=x.dtype)  # 2.0 next to int32: int32


def _const_value(t):
    """The value of ``t`` if it is known when the graph is built, else None."""
    op = getattr(t, "op", None)
    if op is None:
        v = getattr(t, "_value", None)  # eager tensors
        if v is not None:
            note_value_read()
        return v
    if op.type == "Const":
        return op.attrs["value"]
    if op.type == "Shape":
        d = dims(op.inputs[0])
        return np.array(d, dtype=np.int32) if d is not None and None not in d else None
    if op.type == "Pack":
        vals = [_const_value(i) for i in op.inputs]
        return None if any(v is None for v in vals) else np.stack(vals, op.attrs["axis"])
    return None


def get_static_value(tensor, partial=False):
    """The value of ``tensor`` as a NumPy array if it is known without running a graph
    (constants, static shapes, stacks of them; every eager tensor), else None."""
    v = _const_value(tensor)
    return None if v is None else np.array(v)


def _shape_from_tensor(t):
    """Static dims described by a 1-D shape tensor (entries unknown where not constant)."""
    v = _const_value(t)
    if v is not None:
        return tuple(int(d) if d >= 0 else None for d in np.asarray(v).reshape(-1))
    op = getattr(t, "op", None)
    if op is not None and op.type == "Pack":
        return tuple(
            int(c) if (c := _const_value(i)) is not None and c >= 0 else None for i in op.inputs
        )
    d = dims(t)
    return None if d is None or d[0] is None else (None,) * d[0]


# ---------------------------------------------------------------------------------------
# Sources: constants and placeholders.


@register_op("Const", infer=lambda i, a: [(a["value"].shape, a["dtype"])])
def _const(value, dtype=None):
    return value


@register_op("Placeholder", infer=lambda i, a: [(as_shape(a["shape"]).as_tuple(), a["dtype"])])
def _placeholder(dtype=None, shape=None):
    raise AssertionError("placeholders are fed, never run")  # sessions check feeds first


@register_op(
    "PlaceholderWithDefault", infer=lambda i, a: [(as_shape(a["shape"]).as_tuple(), i[0].dtype)]
)
def _placeholder_with_default(x, shape=None):
    return x


@register_gradient("PlaceholderWithDefault")
def _pwd_grad(op, grad):
    return [grad]


@register_op("NoOp", num_outputs=0)
def _no_op():
    return ()


not_differentiable("Const", "Placeholder", "NoOp")


def constant(value, dtype=None, shape=None, name="Const", verify_shape=False):
    """A constant tensor from a number, nested list, NumPy array or string.

    ``shape`` reshapes ``value``, or broadcasts a scalar (or a list whose size divides
    the shape's size, as TF does) to it.

    Raises:
        TypeError: the value cannot be converted to ``dtype``.
        ValueError: the value does not fit ``shape``.
    """
    arr = as_array(value, dtype)
    if shape is not None:
        shape = tuple(as_shape(shape).as_list())
        size = int(np.prod(shape))
        if arr.shape != shape:
            if verify_shape:
                raise TypeError(f"Expected Tensor's shape: {shape}, got {arr.shape}.")
            if arr.size == 1:
                arr = np.full(shape, arr.reshape(()), dtype=arr.dtype)
            elif arr.size == size:
                arr = arr.reshape(shape)
            elif arr.ndim == 1 and arr.size < size:
                arr = np.concatenate([arr, np.full(size - arr.size, arr[-1])]).reshape(shape)
            else:
                raise ValueError(
                    f"Too many elements provided. Needed at most {size}, but received {arr.size}"
                )
    return apply_op("Const", value=arr, dtype=dtypes.as_dtype(arr.dtype), name=name)


def placeholder(dtype, shape=None, name=None):
    """A tensor to be fed through ``feed_dict`` (graph mode only)."""
    if current_frontend().eager:
        raise RuntimeError("tf.placeholder() is not compatible with eager execution.")
    return apply_op(
        "Placeholder", dtype=dtypes.as_dtype(dtype), shape=TensorShape(shape), name=name
    )


def placeholder_with_default(input, shape, name=None):  # noqa: A002  TF's argument name
    """A placeholder that yields ``input`` when it is not fed."""
    x = convert_to_tensor(input)
    shape = as_shape(shape)
    if not shape.is_compatible_with(x.shape):
        raise ValueError(f"Shape {shape} is not compatible with the default's shape {x.shape}")
    return apply_op("PlaceholderWithDefault", x, shape=shape, name=name)


# ---------------------------------------------------------------------------------------
# Identity and gradient control.

register_op("Identity", infer=rules.same_as_first)(lambda x: x)
register_op("StopGradient", infer=rules.same_as_first)(lambda x: x)
not_differentiable("StopGradient")


@register_gradient("Identity", accepts_indexed_slices=True)  # a gather's sparse grad passes
def _identity_grad(op, grad):
    return [grad]


def identity(input, name=None):  # noqa: A002
    """The same value, as a new tensor (often used to name a value)."""
    return apply_op("Identity", input, name=name)


def stop_gradient(input, name=None):  # noqa: A002
    """The same value, but no gradient flows through it."""
    return apply_op("StopGradient", input, name=name)


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
    return [_math.unbroadcast(grad, op.inputs[0]), None]


def broadcast_to(input, shape, name=None):  # noqa: A002
    return apply_op("BroadcastTo", input, _int_tensor(shape), name=name)


# ---------------------------------------------------------------------------------------
# Joining and splitting.


def _concat_infer(inputs, attrs):
    ds = [dims(t) for t in inputs]
    known = [d for d in ds if d is not None]
    if not known:
        return [(None, inputs[0].dtype)]
    rank_ = len(known[0])
    if any(len(d) != rank_ for d in known):
        raise ValueError(
            "Shape must be of equal rank for all inputs of ConcatV2, got "
            f"{[list(d) for d in known]}"
        )
    axis = normalize_axis(attrs["axis"], rank_)
    out = []
    for i in _py_range(rank_):
        col = [d[i] if d is not None else None for d in ds]
        if i == axis:
            out.append(None if None in col else sum(col))
        else:
            vals = {c for c in col if c is not None}
            if len(vals) > 1:
                raise ValueError(
                    f"Dimension {i} in both shapes must be equal, but are {sorted(vals)}"
                )
            out.append(vals.pop() if vals else None)
    return [(tuple(out), inputs[0].dtype)]


@register_op("ConcatV2", infer=_concat_infer, same_dtype=True)
def _concat(*xs, axis=0):
    return np.concatenate(xs, axis=axis)


def _split_like_infer(inputs, attrs):
    return [(dims(t), inputs[0].dtype) for t in inputs[1:]]


@register_op("SplitLike", infer=_split_like_infer, num_outputs=lambda a: a["n"])
def _split_like(g, *xs, axis=0, n=1):
    """Splits ``g`` along ``axis`` into pieces shaped like ``xs`` (concat's gradient)."""
    cuts = np.cumsum([np.shape(x)[axis] for x in xs])[:-1]
    return tuple(np.split(g, cuts, axis=axis))


@register_gradient("ConcatV2")
def _concat_grad(op, grad):
    pieces = apply_op("SplitLike", grad, *op.inputs, axis=op.attrs["axis"], n=len(op.inputs))
    return list(pieces)


@register_gradient("SplitLike")
def _split_like_grad(op, *grads):
    return [concat(list(grads), axis=op.attrs["axis"])] + [None] * (len(op.inputs) - 1)


def concat(values, axis, name="concat"):
    """Joins tensors along ``axis``."""
    values = list(values)
    try:
        if len(values) == 1:
            return identity(values[0], name=name)
        return apply_op("ConcatV2", *values, axis=int(axis), name=name)
    except TypeError:
        impl = _math.ragged_impl(concat, values)
        if impl is None:
            raise
        return impl(values, axis, name=name)


def _pack_infer(inputs, attrs):
    d = None
    for t in inputs:
        td = dims(t)
        if td is not None:
            d = td if d is None else broadcast_dims(d, td) if len(d) == len(td) else d
            if d is not None and len(d) != len(td):
                raise ValueError("Shapes of all inputs to stack must match")
    if d is None:
        return [(None, inputs[0].dtype)]
    axis = normalize_axis(attrs["axis"], len(d) + 1)
    return [(d[:axis] + (len(inputs),) + d[axis:], inputs[0].dtype)]


@register_op("Pack", infer=_pack_infer, same_dtype=True)
def _pack(*xs, axis=0):
    return np.stack(xs, axis=axis)


@register_gradient("Pack")
def _pack_grad(op, grad):
    return unstack(grad, num=len(op.inputs), axis=op.attrs["axis"])


def _unpack_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is None:
        return [(None, inputs[0].dtype)] * attrs["num"]
    axis = normalize_axis(attrs["axis"], len(d))
    return [(d[:axis] + d[axis + 1 :], inputs[0].dtype)] * attrs["num"]


@register_op("Unpack", infer=_unpack_infer, num_outputs=lambda a: a["num"])
def _unpack(x, num=None, axis=0):
    return tuple(np.moveaxis(x, axis, 0))


@register_gradient("Unpack")
def _unpack_grad(op, *grads):
    return [stack(list(grads), axis=op.attrs["axis"])]


def stack(values, axis=0, name="stack"):
    """Stacks rank-R tensors into one rank-(R+1) tensor."""
    return apply_op("Pack", *values, axis=int(axis), name=name)


def unstack(value, num=None, axis=0, name="unstack"):
    """Splits a tensor into a list of tensors along ``axis`` (removing it)."""
    value = convert_to_tensor(value)
    if num is None:
        d = dims(value)
        if d is None or d[axis] is None:
            raise ValueError(f"Cannot infer num from shape {value.shape}")
        num = d[axis]
    return list(apply_op("Unpack", value, num=int(num), axis=int(axis), name=name))


def _split_infer(inputs, attrs):
    d = dims(inputs[0])
    sizes, num = attrs["sizes"], attrs["num"]
    n = num if sizes is None else len(sizes)
    if d is None:
        return [(None, inputs[0].dtype)] * n
    axis = normalize_axis(attrs["axis"], len(d))
    if sizes is None:
        if d[axis] is not None and d[axis] % num:
            raise ValueError(f"Dimension size must be evenly divisible by {num} but is {d[axis]}")
        sizes = [None if d[axis] is None else d[axis] // num] * num
    elif d[axis] is not None and -1 in sizes:  # the -1 piece takes what is left
        rest = d[axis] - (sum(sizes) + 1)
        if rest < 0:
            raise ValueError(
                f"Determined shape must either match input shape along "
                f"split_dim exactly if fully specified, or be less than the "
                f"size of the input along split_dim if not fully specified. "
                f"Got: {sum(sizes) + 1} vs {d[axis]}"
            )
        sizes = [rest if s == -1 else s for s in sizes]
    elif d[axis] is not None and -1 not in sizes and sum(sizes) != d[axis]:
        raise ValueError(
            f"Determined shape must either match input shape along split_dim "
            f"exactly if fully specified, or be less than the size of the input "
            f"along split_dim if not fully specified. Got: {sum(sizes)} vs "
            f"{d[axis]}"
        )
    return [(d[:axis] + (None if s == -1 else s,) + d[axis + 1 :], inputs[0].dtype) for s in sizes]


@register_op(
    "Split",
    infer=_split_infer,
    num_outputs=lambda a: a["num"] if a["sizes"] is None else len(a["sizes"]),
)
def _split(x, axis=0, num=None, sizes=None):
    if sizes is None:
        return tuple(np.split(x, num, axis=axis))
    sizes = list(sizes)
    if -1 in sizes:
        sizes[sizes.index(-1)] = np.shape(x)[axis] - (sum(sizes) + 1)
    return tuple(np.split(x, np.cumsum(sizes)[:-1], axis=axis))


@register_gradient("Split")
def _split_grad(op, *grads):
    return [concat(list(grads), axis=op.attrs["axis"])]


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """Splits into ``num_or_size_splits`` equal parts, or parts of the given sizes."""
    if np.ndim(num_or_size_splits) == 0:
        return list(
            apply_op(
                "Split", value, axis=int(axis), num=int(num_or_size_splits), sizes=None, name=name
            )
        )
    sizes = tuple(int(s) for s in num_or_size_splits)
    return list(apply_op("Split", value, axis=int(axis), num=None, sizes=sizes, name=name))


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
    spec, args = _index_spec(tuple(key))
    return apply_op("StridedSlice", input_, *args, spec=spec, name=name or "StridedSlice")


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
        impl = _math.ragged_impl(gather, params, indices)
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


# ---------------------------------------------------------------------------------------
# Casting, selection, filling.


@register_op("Cast", infer=lambda i, a: [(dims(i[0]), a["DstT"])])
def _cast(x, DstT=None):  # noqa: N803  TF's attr name
    return np.asarray(x).astype(DstT.np, copy=False)


@register_gradient("Cast")
def _cast_grad(op, grad):
    src = op.inputs[0].dtype
    if src.is_floating and op.attrs["DstT"].is_floating:
        return [cast(grad, src)]
    return [None]


def cast(x, dtype, name=None):
    """``x`` converted to ``dtype`` (floats to ints truncate toward zero)."""
    if getattr(x, "dtype", None) is dtype and current_frontend().is_tensor(x):
        return x  # already a tensor of that dtype (optimizers cast every step)
    dtype = dtypes.as_dtype(dtype)
    x = convert_to_tensor(x)
    if x.dtype == dtype:
        return x
    return apply_op("Cast", x, DstT=dtype, name=name)


def to_float(x, name="ToFloat"):
    return cast(x, dtypes.float32, name=name)


def to_double(x, name="ToDouble"):
    return cast(x, dtypes.float64, name=name)


def to_int32(x, name="ToInt32"):
    return cast(x, dtypes.int32, name=name)


def to_int64(x, name="ToInt64"):
    return cast(x, dtypes.int64, name=name)


def _select_infer(inputs, attrs):
    c, x, y = (dims(t) for t in inputs)
    out = broadcast_dims(x, y)
    if (
        c is not None
        and out is not None
        and len(c) == 1
        and len(out) > 1
        and (c[0] == out[0] or None in (c[0], out[0]))
    ):
        return [(out, inputs[1].dtype)]  # TF1's row selection by a vector
    return [(broadcast_dims(c, out), inputs[1].dtype)]


@register_op("Select", infer=_select_infer)
def _select(c, x, y):
    """np.where, except that a vector condition whose length is the first dimension of
    the (broadcast) values selects whole rows, as TF1's `tf.where` does."""
    out = np.broadcast_shapes(np.shape(x), np.shape(y))
    if np.ndim(c) == 1 and len(out) > 1 and np.shape(c)[0] == out[0]:
        c = np.reshape(c, (-1,) + (1,) * (len(out) - 1))
    return np.where(c, x, y)


@register_gradient("Select")
def _select_grad(op, grad):
    c, x, y = op.inputs
    zeros = zeros_like(grad)
    return [
        None,
        _math.unbroadcast(where(c, grad, zeros), x),
        _math.unbroadcast(where(c, zeros, grad), y),
    ]


@register_op(
    "Where",
    infer=lambda i, a: [((None, None if dims(i[0]) is None else len(dims(i[0]))), dtypes.int64)],
)
def _where_indices(c):
    return np.argwhere(c).astype(np.int64)


not_differentiable("Where", "ArgMax", "ArgMin", "OneHot", "Range", "ZerosLike", "OnesLike")


def where(condition, x=None, y=None, name=None):
    """With x and y: elements of x where ``condition`` else y. Alone: the indices of the
    true elements, as an int64 matrix."""
    if x is None and y is None:
        return apply_op("Where", condition, name=name)
    if x is None or y is None:
        raise ValueError("x and y must both be non-None or both be None.")
    x, y = convert_pair(x, y)
    return apply_op("Select", condition, x, y, name=name)


where_v2 = where


def _same_dims(a, b, what, inputs):
    """TF's Select shape check: equal ranks and equal known dimensions."""
    if a is None or b is None:
        return
    shapes = ", ".join(
        "?"
        if dims(t) is None
        else "[" + ",".join("?" if d is None else str(d) for d in dims(t)) + "]"
        for t in inputs
    )
    if len(a) != len(b):
        raise ValueError(
            f"Shapes must be equal rank, but are {len(a)} and {len(b)} for "
            f"'Select' ({what}) with input shapes: {shapes}."
        )
    for i, (m, n) in enumerate(zip(a, b)):
        if m is not None and n is not None and m != n:
            raise ValueError(
                f"Dimension {i} in both shapes must be equal, but are {m} and "
                f"{n} for 'Select' ({what}) with input shapes: {shapes}."
            )


def where_v1(condition, x=None, y=None, name=None):
    """TF1 `tf.where`: as `where_v2` but without broadcasting: x and y have one shape, the
    condition is a scalar, that shape, or a vector over its first dimension."""
    if x is None or y is None:
        return where(condition, x, y, name=name)
    condition = convert_to_tensor(condition)
    x, y = convert_pair(x, y)
    dx, dc, ins = dims(x), dims(condition), (condition, x, y)
    _same_dims(dx, dims(y), "x and y", ins)
    if dc is not None and dx is not None and dc and len(dc) != len(dx):
        _same_dims(dc, dx[:1], "condition and x's first dimension", ins)  # Select's rows
    elif dc:
        _same_dims(dc, dx, "condition and x", ins)
    return apply_op("Select", condition, x, y, name=name)


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
    return [None, _math.reduce_sum(grad)]


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


def _like_infer(inputs, attrs):
    dt = attrs.get("dtype")
    return [(dims(inputs[0]), inputs[0].dtype if dt is None else dt)]


@register_op("ZerosLike", infer=_like_infer)
def _zeros_like(x, dtype=None):
    if type(x) is not np.ndarray:  # a NumPy scalar in, a NumPy scalar out
        return (x.dtype if dtype is None else dtype.np).type(0)
    return np.zeros(x.shape, dtype=x.dtype if dtype is None else dtype.np)


@register_op("OnesLike", infer=_like_infer)
def _ones_like(x, dtype=None):
    if type(x) is not np.ndarray:
        return (x.dtype if dtype is None else dtype.np).type(1)
    out = np.empty(x.shape, dtype=x.dtype if dtype is None else dtype.np)
    out.fill(1)
    return out


def zeros_like(tensor, dtype=None, name=None, optimize=True):
    return apply_op(
        "ZerosLike", tensor, dtype=None if dtype is None else dtypes.as_dtype(dtype), name=name
    )


def ones_like(tensor, dtype=None, name=None, optimize=True):
    return apply_op(
        "OnesLike", tensor, dtype=None if dtype is None else dtypes.as_dtype(dtype), name=name
    )


def _range_infer(inputs, attrs):
    vals = [_const_value(t) for t in inputs]
    n = None
    if all(v is not None for v in vals):
        n = int(np.ceil((vals[1] - vals[0]) / vals[2]))
        n = max(n, 0)
    return [((n,), inputs[0].dtype)]


@register_op("Range", infer=_range_infer, same_dtype=True)
def _range(start, limit, delta):
    return np.arange(start, limit, delta, dtype=np.asarray(start).dtype)


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """[start, start+delta, ...) up to ``limit`` (``range(n)`` counts from 0)."""
    if limit is None:
        start, limit = 0, start
    fe = current_frontend()
    tensors = [v for v in (start, limit, delta) if fe.is_tensor(v)]
    if dtype is None:
        if tensors:
            dtype = tensors[0].dtype
        elif any(
            isinstance(v, float) or np.asarray(v).dtype.kind == "f" for v in (start, limit, delta)
        ):
            dtype = dtypes.float32
        else:
            dtype = dtypes.int32
    dtype = dtypes.as_dtype(dtype)
    parts = [
        cast(v, dtype) if fe.is_tensor(v) else convert_to_tensor(np.asarray(v, dtype=dtype.np))
        for v in (start, limit, delta)
    ]
    return apply_op("Range", *parts, name=name)


def _argminmax_infer(inputs, attrs):
    d = dims(inputs[0])
    dt = attrs["output_type"]
    if d is None:
        return [(None, dt)]
    axis = normalize_axis(attrs["axis"], len(d))
    return [(d[:axis] + d[axis + 1 :], dt)]


def _skip_nan(x, fill):
    """TF's arg-reductions never pick a NaN (NumPy's always do): NaN loses every
    comparison, and an all-NaN slice gives index 0."""
    x = np.asarray(x)
    if x.dtype.kind == "f":
        nan = np.isnan(x)
        if nan.any():
            return np.where(nan, fill, x)
    return x


@register_op("ArgMax", infer=_argminmax_infer)
def _argmax(x, axis=0, output_type=dtypes.int64):
    return np.argmax(_skip_nan(x, -np.inf), axis=axis).astype(output_type.np)


@register_op("ArgMin", infer=_argminmax_infer)
def _argmin(x, axis=0, output_type=dtypes.int64):
    return np.argmin(_skip_nan(x, np.inf), axis=axis).astype(output_type.np)


def argmax(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    """Index of the largest value along ``axis`` (TF1 default axis: 0)."""
    axis = dimension if axis is None else axis
    return apply_op(
        "ArgMax",
        input,
        axis=0 if axis is None else int(axis),
        output_type=dtypes.as_dtype(output_type),
        name=name,
    )


def argmin(input, axis=None, name=None, dimension=None, output_type=dtypes.int64):  # noqa: A002
    """Index of the smallest value along ``axis`` (TF1 default axis: 0)."""
    axis = dimension if axis is None else axis
    return apply_op(
        "ArgMin",
        input,
        axis=0 if axis is None else int(axis),
        output_type=dtypes.as_dtype(output_type),
        name=name,
    )


def _one_hot_infer(inputs, attrs):
    d = dims(inputs[0])
    if d is None:
        return [(None, attrs["dtype"])]
    axis = attrs["axis"]
    axis = len(d) if axis == -1 else axis
    return [(d[:axis] + (attrs["depth"],) + d[axis:], attrs["dtype"])]


@register_op("OneHot", infer=_one_hot_infer)
def _one_hot(indices, depth=1, on_value=1, off_value=0, axis=-1, dtype=dtypes.float32):
    idx = np.asarray(indices)
    hot = idx[..., None] == np.arange(depth)
    out = np.where(hot, np.asarray(on_value, dtype.np), np.asarray(off_value, dtype.np))
    return np.moveaxis(out, -1, axis) if axis != -1 else out


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    """One-hot vectors of length ``depth`` (out-of-range indices give all-off rows)."""
    if dtype is None:  # TF infers it from on_value/off_value, else float32
        given = on_value if on_value is not None else off_value
        dtype = (
            dtypes.float32
            if given is None
            else (given.dtype if current_frontend().is_tensor(given) else dtypes.from_value(given))
        )
    dtype = dtypes.as_dtype(dtype)
    return apply_op(
        "OneHot",
        indices,
        depth=int(depth),
        on_value=1 if on_value is None else on_value,
        off_value=0 if off_value is None else off_value,
        axis=-1 if axis is None else int(axis),
        dtype=dtype,
        name=name,
    )


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    """Clips values to [min, max]; the gradient flows where the value is inside."""
    return _math.minimum(_math.maximum(t, clip_value_min), clip_value_max, name=name)


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
        else _math.reduce_sum(where(mask) * _strides(mask, m), axis=1)
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
                    _math.reduce_prod(s[axis : axis + len(m)], keepdims=True),
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
    return concat([_math.reduce_prod(s[k + 1 :], keepdims=True) for k in _py_range(len(m))], 0)
