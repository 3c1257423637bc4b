"""Kernels for op forms that only TensorFlow-written graphs contain.

miniflow's own front end never builds these: its gradients undo broadcasting with
``Unbroadcast`` and its ops take static axes and bounds. TF1's symbolic gradients
compute reduction axes (``BroadcastGradientArgs``), slice bounds, permutations and
concat offsets at run time, and TF's while loops keep per-step values in TensorArrays,
Stacks (TF1) and TensorLists (TF2); importing TF's graphs
(`tf.train.import_meta_graph`, `train/tf_while_import.py`) needs these kernels.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes, errors
from miniflow.core.registry import lookup_op, not_differentiable, register_op
from miniflow.ops.shape_rules import normalize_axis
from miniflow.ops.slicing_ops import masked_index


def _bcast_infer(inputs, attrs):
    return [((None,), inputs[0].dtype), ((None,), inputs[0].dtype)]


@register_op("BroadcastGradientArgs", infer=_bcast_infer, num_outputs=2)
def _broadcast_gradient_args(s0, s1):
    """For shapes ``s0`` and ``s1``, the axes of the broadcast result each input's
    gradient must be summed over (TF's ``BroadcastGradientArgs``).

    Raises:
        InvalidArgumentError (ValueError): the shapes do not broadcast.
    """
    s0, s1 = np.asarray(s0).ravel(), np.asarray(s1).ravel()
    dt = s0.dtype if s0.dtype.kind in "iu" else np.int32
    if s0.tolist() == s1.tolist():  # TF's fast path: equal shapes reduce nothing
        return np.zeros(0, dt), np.zeros(0, dt)
    n = max(len(s0), len(s1))
    a = np.concatenate([np.ones(n - len(s0), s0.dtype), s0])
    b = np.concatenate([np.ones(n - len(s1), s1.dtype), s1])
    r0, r1 = [], []
    for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
        if x != y and x != 1 and y != 1:
            raise ValueError(f"Incompatible shapes: {s0.tolist()} vs. {s1.tolist()}")
        if x == 1 and y == 1:
            r0.append(i)  # TF reduces both over an axis where both sizes are 1
            r1.append(i)
        elif x == 1:
            r0.append(i)
        elif y == 1:
            r1.append(i)
    return np.array(r0, dt), np.array(r1, dt)


def _offset_infer(inputs, attrs):
    return [(inp.shape.as_tuple(), inp.dtype) for inp in inputs[1:]]


@register_op("ConcatOffset", infer=_offset_infer, num_outputs=lambda a: a["N"])
def _concat_offset(concat_dim, *shapes, N=0):
    """Where each input of a concat along ``concat_dim`` starts (TF's gradient of
    ``ConcatV2`` slices its incoming gradient there).

    Raises:
        InvalidArgumentError: the shapes differ off the concat axis.
        ValueError (InvalidArgumentError when run): ``concat_dim`` outside [-rank, rank).
    """
    shapes = [np.asarray(s).ravel() for s in shapes]
    rank = len(shapes[0])
    axis = normalize_axis(int(concat_dim), rank, "concat_dim") if rank else 0
    out, at = [], 0
    for s in shapes:
        if len(s) != rank or any(s[i] != shapes[0][i] for i in range(rank) if i != axis):
            raise errors.InvalidArgumentError(
                None, None, f"ConcatOffset: shapes {shapes[0].tolist()} and {s.tolist()} differ"
            )
        off = np.zeros(rank, s.dtype)
        off[axis] = at
        at += int(s[axis])
        out.append(off)
    return tuple(out)


def _transpose_infer(inputs, attrs):
    rank = inputs[0].shape.ndims
    return [(None if rank is None else (None,) * rank, inputs[0].dtype)]


@register_op("TransposeDynamicPerm", infer=_transpose_infer)
def _transpose_dynamic_perm(x, perm):
    """TF's ``Transpose`` with a permutation computed at run time."""
    x, perm = np.asarray(x), [int(p) for p in np.asarray(perm).ravel()]
    if sorted(perm) != list(range(x.ndim)):
        raise errors.InvalidArgumentError(
            None, None, f"transpose: {perm} is not a permutation of the {x.ndim} axes"
        )
    return np.transpose(x, perm)


@register_op("BiasAddGradDynamicRank", infer=lambda i, a: [((None,), i[0].dtype)])
def _bias_add_grad_dynamic_rank(dy):
    """TF's ``BiasAddGrad`` (NHWC) for an input whose rank is known only at run time."""
    dy = np.asarray(dy)
    return dy.sum(axis=tuple(range(dy.ndim - 1))).astype(dy.dtype)


@register_op("SliceDynamicBounds", infer=_transpose_infer)
def _slice_dynamic_bounds(x, begin, size):
    """TF's ``Slice`` with ``begin``/``size`` computed at run time (``-1``: to the end):
    the ``StridedSlice`` kernel with the bounds as its spec, checked as `tf.slice`'s."""
    x = np.asarray(x)
    begin, size = np.asarray(begin).ravel().tolist(), np.asarray(size).ravel().tolist()
    if len(begin) != x.ndim or len(size) != x.ndim:
        raise errors.InvalidArgumentError(
            None, None, f"Slice: begin {begin} and size {size} must have {x.ndim} entries"
        )
    spec = tuple(slice(lo, None if n == -1 else lo + n) for lo, n in zip(begin, size))
    return lookup_op("StridedSlice").forward(x, spec=spec, checked=True)


def strided_spec(begin, end, strides, **masks) -> tuple:
    """TF's ``StridedSlice`` bounds (arrays) and masks as a NumPy index."""
    bounds = ([int(v) for v in np.asarray(x).ravel().tolist()] for x in (begin, end, strides))
    return masked_index(*bounds, **masks)


def _unknown_infer(inputs, attrs):
    return [(None, inputs[0].dtype)]


@register_op("StridedSliceDynamic", infer=_unknown_infer)
def _strided_slice_dynamic(x, begin, end, strides, **masks):
    """TF's ``StridedSlice`` with bounds computed at run time."""
    x = np.asarray(x)
    try:
        return np.asarray(x[strided_spec(begin, end, strides, **masks)])
    except IndexError as e:
        raise errors.InvalidArgumentError(None, None, f"StridedSlice: {e}") from None


def _grad_infer(inputs, attrs):
    return [(None, inputs[4].dtype)]


@register_op("StridedSliceGradDynamic", infer=_grad_infer)
def _strided_slice_grad(shape, begin, end, strides, dy, **masks):
    """The gradient of ``StridedSlice``: ``dy`` placed where the slice came from."""
    out = np.zeros([int(d) for d in np.asarray(shape).ravel()], np.asarray(dy).dtype)
    try:
        index = strided_spec(begin, end, strides, **masks)
        out[index] = np.reshape(dy, out[index].shape)
    except (IndexError, ValueError) as e:
        raise errors.InvalidArgumentError(None, None, f"StridedSliceGrad: {e}") from None
    return out


_REDUCTIONS = ("Sum", "Mean", "Prod", "Max", "Min", "All", "Any")


def _reduce_infer(inputs, attrs):
    x = inputs[0]
    if attrs["reduction"] not in _REDUCTIONS:
        raise ValueError(f"unknown reduction {attrs['reduction']!r}")
    rank = x.shape.ndims
    dims = (None,) * rank if attrs["keepdims"] and rank is not None else None
    return [(dims, x.dtype)]


@register_op("ReduceDynamicAxes", infer=_reduce_infer)
def _reduce_dynamic_axes(x, axis, reduction="Sum", keepdims=False):
    """TF's ``Sum``/``Mean``/... over a tensor of axes known only at run time: the
    reduction's own kernel, given the axes as its attr.

    Raises:
        ValueError (InvalidArgumentError when run): an axis outside [-rank, rank).
    """
    x = np.asarray(x)
    axes = tuple(normalize_axis(a, x.ndim) for a in np.asarray(axis).ravel().tolist())
    return lookup_op(reduction).forward(x, axis=axes, keepdims=keepdims)


not_differentiable(
    "BroadcastGradientArgs",
    "ReduceDynamicAxes",
    "ConcatOffset",
    "TransposeDynamicPerm",
    "BiasAddGradDynamicRank",
    "SliceDynamicBounds",
    "StridedSliceDynamic",
    "StridedSliceGradDynamic",
)


# -- TF1 TensorArrays and Stacks ----------------------------------------------------------
# A TF-written while loop (`train/tf_while_import.py`) keeps its per-step values in
# TensorArrays (``dynamic_rnn``) and its gradient's saved activations in Stacks. As in TF
# they are mutable resources: the handle is a Python object made fresh on every run by
# its creating op, and the ops after it act on it in dataflow order (the flow tensor only
# orders them).


_READ = object()  # an element already read from a clear_after_read array


class _TensorArray:
    def __init__(self, size, dtype, dynamic_size, clear_after_read):
        self.items = [None] * size
        self.dtype, self.dynamic = dtype, dynamic_size
        self.clear = clear_after_read

    def _index(self, index, writing):
        i = int(index)
        if i < 0 or (i >= len(self.items) and not (writing and self.dynamic)):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"TensorArray index {i} out of range: the array has size {len(self.items)}",
            )
        if i >= len(self.items):
            self.items.extend([None] * (i + 1 - len(self.items)))
        return i

    def write(self, index, value):
        i = self._index(index, True)
        if self.items[i] is not None:
            raise errors.InvalidArgumentError(
                None, None, f"Could not write to TensorArray index {i}: it was already written"
            )
        self.items[i] = np.asarray(value, dtype=self.dtype.np)

    def read(self, index):
        i = self._index(index, False)
        value = self.items[i]
        if value is None:
            raise errors.InvalidArgumentError(
                None, None, f"Could not read from TensorArray index {i}: it was never written"
            )
        if value is _READ:
            raise errors.InvalidArgumentError(
                None, None, f"Could not read TensorArray index {i} twice (clear_after_read)"
            )
        if self.clear:
            self.items[i] = _READ
        return value


def _handle(value, kind):
    if not isinstance(value, kind):
        raise errors.InvalidArgumentError(
            None, None, f"expected a {kind.__name__.lstrip('_')} handle, got {type(value).__name__}"
        )
    return value


def _ta_infer(inputs, attrs):
    return [((), dtypes.resource), ((), dtypes.float32)]


@register_op("TensorArrayV3", infer=_ta_infer, num_outputs=2, mutates_handle=True)
def _tensor_array(size, dtype=None, dynamic_size=False, clear_after_read=True):
    """A fresh TensorArray of ``size`` elements: (handle, flow)."""
    ta = _TensorArray(int(size), dtypes.as_dtype(dtype), bool(dynamic_size), bool(clear_after_read))
    return ta, np.float32(0)


def _flow_infer(inputs, attrs):
    return [((), dtypes.float32)]


@register_op("TensorArrayWriteV3", infer=_flow_infer, mutates_handle=True)
def _ta_write(handle, index, value, flow):
    _handle(handle, _TensorArray).write(index, value)
    return np.float32(0)


@register_op("TensorArrayScatterV3", infer=_flow_infer, mutates_handle=True)
def _ta_scatter(handle, indices, value, flow):
    ta = _handle(handle, _TensorArray)
    value = np.asarray(value)
    indices = np.asarray(indices).ravel()
    if value.ndim == 0 or len(indices) != value.shape[0]:
        raise errors.InvalidArgumentError(
            None, None, f"TensorArrayScatter: {len(indices)} indices for value {value.shape}"
        )
    for i, row in zip(indices.tolist(), value):
        ta.write(i, row)
    return np.float32(0)


def _elem_infer(inputs, attrs):
    return [(None, attrs["dtype"])]


@register_op("TensorArrayReadV3", infer=_elem_infer, mutates_handle=True)
def _ta_read(handle, index, flow, dtype=None):
    return _handle(handle, _TensorArray).read(index)


@register_op("TensorArrayGatherV3", infer=_elem_infer, mutates_handle=True)
def _ta_gather(handle, indices, flow, dtype=None):
    ta = _handle(handle, _TensorArray)
    rows = [ta.read(i) for i in np.asarray(indices).ravel().tolist()]
    if not rows:
        return np.zeros((0,), dtypes.as_dtype(dtype).np)
    if any(r.shape != rows[0].shape for r in rows):
        raise errors.InvalidArgumentError(
            None, None, "TensorArrayGather: the elements have different shapes"
        )
    return np.stack(rows)


@register_op("TensorArraySizeV3", infer=lambda i, a: [((), dtypes.int32)], mutates_handle=True)
def _ta_size(handle, flow):
    return np.int32(len(_handle(handle, _TensorArray).items))


class _Stack:
    def __init__(self, max_size):
        self.items, self.max_size = [], max_size


@register_op("StackV2", infer=lambda i, a: [((), dtypes.resource)], mutates_handle=True)
def _stack(max_size, elem_type=None):
    """A fresh stack (TF1 gradients of a while loop save each step's values on one)."""
    return _Stack(int(max_size))


@register_op(
    "StackPushV2", infer=lambda i, a: [(i[1].shape.as_tuple(), i[1].dtype)], mutates_handle=True
)
def _stack_push(handle, elem):
    stack = _handle(handle, _Stack)
    if 0 <= stack.max_size <= len(stack.items):
        raise errors.InvalidArgumentError(
            None, None, f"Stack push beyond its max_size {stack.max_size}"
        )
    stack.items.append(np.asarray(elem))
    return elem


@register_op("StackPopV2", infer=lambda i, a: [(None, a["elem_type"])], mutates_handle=True)
def _stack_pop(handle, elem_type=None):
    stack = _handle(handle, _Stack)
    if not stack.items:
        raise errors.InvalidArgumentError(None, None, "Calling Pop() when the stack is empty")
    return stack.items.pop()


# -- TF2 TensorLists ------------------------------------------------------------------
# TF2's loops (``tf_function_import``) keep TensorArrays and their gradients' saved
# values in TensorLists: values (a ``variant`` tensor), each op returning a new list.


class _TensorList:
    def __init__(self, items):
        self.items = list(items)


def _tl(value) -> _TensorList:
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 0:
        value = value.item()  # a list carried through a While loop variable
    return _handle(value, _TensorList)


def _list_infer(inputs, attrs):
    return [((), dtypes.variant)]


def _item_infer(inputs, attrs):
    return [(None, attrs["element_dtype"])]


@register_op("TensorListReserve", infer=_list_infer)
def _tl_reserve(element_shape, num_elements, element_dtype=None):
    return _TensorList([None] * int(num_elements))


@register_op("EmptyTensorList", infer=_list_infer)
def _tl_empty(element_shape, max_num_elements, element_dtype=None):
    return _TensorList([])


@register_op("TensorListFromTensor", infer=_list_infer)
def _tl_from_tensor(tensor, element_shape):
    return _TensorList(np.asarray(tensor))


def _tl_index(tl, index):
    i = int(index)
    if not 0 <= i < len(tl.items):
        raise errors.InvalidArgumentError(
            None, None, f"TensorList index {i} out of range: the list has {len(tl.items)}"
        )
    return i


@register_op("TensorListSetItem", infer=_list_infer)
def _tl_set_item(handle, index, item, element_dtype=None):
    tl = _tl(handle)
    out = _TensorList(tl.items)
    out.items[_tl_index(tl, index)] = np.asarray(item)
    return out


@register_op("TensorListGetItem", infer=_item_infer)
def _tl_get_item(handle, index, element_shape, element_dtype=None):
    tl = _tl(handle)
    item = tl.items[_tl_index(tl, index)]
    if item is None:
        raise errors.InvalidArgumentError(None, None, "TensorList element was never set")
    return item


@register_op("TensorListStack", infer=_item_infer)
def _tl_stack(handle, element_shape, element_dtype=None, num_elements=-1):
    tl = _tl(handle)
    if any(item is None for item in tl.items):
        raise errors.InvalidArgumentError(None, None, "TensorListStack: an element was never set")
    if not tl.items:
        dims = [int(d) for d in np.asarray(element_shape).ravel()]
        return np.zeros([0] + [max(d, 0) for d in dims], dtypes.as_dtype(element_dtype).np)
    return np.stack(tl.items)


@register_op("TensorListPushBack", infer=_list_infer)
def _tl_push_back(handle, tensor, element_dtype=None):
    return _TensorList(_tl(handle).items + [np.asarray(tensor)])


def _pop_infer(inputs, attrs):
    return [((), dtypes.variant), (None, attrs["element_dtype"])]


@register_op("TensorListPopBack", infer=_pop_infer, num_outputs=2)
def _tl_pop_back(handle, element_shape, element_dtype=None):
    tl = _tl(handle)
    if not tl.items:
        raise errors.InvalidArgumentError(None, None, "Trying to pop from an empty list")
    return _TensorList(tl.items[:-1]), tl.items[-1]


not_differentiable(
    "TensorListReserve",
    "EmptyTensorList",
    "TensorListFromTensor",
    "TensorListSetItem",
    "TensorListGetItem",
    "TensorListStack",
    "TensorListPushBack",
    "TensorListPopBack",
)

not_differentiable(
    "TensorArrayV3",
    "TensorArrayWriteV3",
    "TensorArrayScatterV3",
    "TensorArrayReadV3",
    "TensorArrayGatherV3",
    "TensorArraySizeV3",
    "StackV2",
    "StackPushV2",
    "StackPopV2",
)
