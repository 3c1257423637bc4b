"""TensorFlow ``NodeDef``s -> miniflow ops: the per-op table of what differs.

Most TF op types exist in miniflow under the same name and with no attributes but TF's
type attributes (``T``, ``Tidx``, ...): those import as they are. The table below covers
the rest: attributes miniflow spells differently (``keep_dims`` -> ``keepdims``, 4-element
``strides`` -> spatial strides), TF inputs that miniflow holds as static attributes
(reduction axes, ``ConcatV2``'s axis, ``StridedSlice``'s bounds: they must be constants
in the file), TF1 ref inputs (a variable's ref becomes the ``var`` attribute, an
optimizer's slot refs ``slot_vars``), and TF-only op types built from miniflow ops
(``AddV2``, ``BiasAdd``, ``TanhGrad``, ...).

A converter ``fn(b, node, ins, attrs)`` gets a `NodeBuilder` ``b`` (it adds ops under the
node's name and folds constant inputs), the node, its input tensors and its decoded
attributes; it returns the node's output tensors or the Operation whose outputs they are.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.shapes import TensorShape
from miniflow.ops import tf_graph_ops
from miniflow.train import tf_function_import

# Attributes that only give TF's kernels their types; miniflow infers those.
TYPE_ATTRS = frozenset(
    "T Tidx Tshape Tparams Tindices Taxis Tperm Tdim Tmultiples Tpaddings Tlabels "
    "Tblock_shape Tcrops Tout Tsegmentids Tnumsegments TI Tcond Tseed Tcomplex Treal "
    "index_type Index_type Tshift Tcondition SrcT use_locking Truncate N".split()
)

# op type -> how many leading inputs are variable refs (var, then the slot variables).
REF_INPUTS = {
    "Assign": 1,
    "AssignAdd": 1,
    "AssignSub": 1,
    "IsVariableInitialized": 1,
    "ApplyGradientDescent": 1,
    "ApplyProximalGradientDescent": 1,
    "ApplyAdagrad": 2,
    "ApplyMomentum": 2,
    # the sparse forms: TF's input order is miniflow's (..., grad, indices, ...)
    "SparseApplyMomentum": 2,
    "SparseApplyAdagrad": 2,
    "SparseApplyAdadelta": 3,
    "SparseApplyProximalAdagrad": 2,
    "SparseApplyProximalGradientDescent": 1,
    "ApplyProximalAdagrad": 2,
    "ApplyAdam": 3,
    "ApplyRMSProp": 3,
    "ApplyAdadelta": 3,
    "ApplyAdagradDA": 3,
    **{
        f"Scatter{k}": 1
        for k in ("Update", "Add", "Sub", "Mul", "Div", "Max", "Min", "NdUpdate", "NdAdd", "NdSub")
    },
}

# TF2 functional control flow and TF1 control flow on ref tensors: not imported
# (``Switch``/``Merge`` of a ``tf.cond`` are converted; see docs/tf_files.md).
# (``Enter``/``Exit``/``NextIteration``/``LoopCond`` frames are rebuilt as a whole by
# `tf_while_import`.)
CONTROL_FLOW = frozenset(
    "RefEnter RefExit RefSwitch RefMerge RefNextIteration If StatelessIf "
    "PartitionedCall StatefulPartitionedCall".split()
)


def _s(v) -> str:
    """A string attribute as text (bytes that are not UTF-8 show as U+FFFD, so a damaged
    value is refused by name, not by a UnicodeDecodeError)."""
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else v


def _need_const(b, i, what):
    value = b.const_value(i)
    if value is None:
        raise b.error(f"its {what} (input {i}) must be a constant in the file")
    return value


def _axes(value):
    arr = np.asarray(value)
    return (int(arr),) if arr.ndim == 0 else tuple(int(a) for a in arr.ravel())


def _nhwc(b, attrs):
    if _s(attrs.get("data_format", b"NHWC")) not in ("NHWC", "NDHWC"):
        raise b.error(f"data_format {_s(attrs['data_format'])} is not supported (NHWC only)")


def _spatial(b, attrs, key, default=None):
    v = attrs.get(key, default)
    if v is None:
        return None
    if len(v) < 3 or v[0] != 1 or v[-1] != 1:
        raise b.error(f"{key} {list(v)} must be 1 in the batch and channel dimensions")
    return tuple(int(x) for x in v[1:-1])


# -- converters ---------------------------------------------------------------------------
def _same(op_type, **fixed):
    def conv(b, node, ins, attrs):
        return b.op(op_type, ins, dict(fixed), final=True)

    return conv


def _placeholder(b, node, ins, attrs):
    return b.op("Placeholder", [], {"dtype": attrs["dtype"], "shape": _shape(attrs)}, final=True)


def _shape(attrs):
    return TensorShape(attrs.get("shape"))


def _placeholder_with_default(b, node, ins, attrs):
    return b.op("PlaceholderWithDefault", ins, {"shape": _shape(attrs)}, final=True)


def _const(b, node, ins, attrs):
    value = attrs.get("value")
    if not isinstance(value, np.ndarray):
        raise b.error("a Const needs a tensor 'value'")
    dtype = attrs.get("dtype", dtypes.as_dtype(value.dtype))
    if dtypes.as_dtype(value.dtype) != dtype:
        raise b.error(f"its value is {value.dtype} but its dtype attr is {dtype.name}")
    return b.op("Const", [], {"value": value, "dtype": dtype}, final=True)


def _variable(b, node, ins, attrs):
    var = b.variable_for(node, attrs)
    return b.op(
        "VariableV2",
        [],
        {"var": var, "shape": var.shape.as_tuple(), "dtype": var.dtype},
        final=True,
    )


# Resource-variable ops (``use_resource=True``, TF2's default variables) -> the TF1 ref
# op they act as: the handle input is the variable (``VarHandleOp`` -> a `Variable`).
RESOURCE_OPS = {
    "AssignVariableOp": "Assign",
    "AssignAddVariableOp": "AssignAdd",
    "AssignSubVariableOp": "AssignSub",
    "VarIsInitializedOp": "IsVariableInitialized",
    **{f"Resource{k}": k for k in REF_INPUTS if k.startswith(("Apply", "SparseApply", "Scatter"))},
}


def _read_variable(b, node, ins, attrs):
    b.ref_variable(0)  # the handle must be a variable
    return b.op("Identity", ins, {}, final=True)


def _resource_gather(b, node, ins, attrs):
    b.ref_variable(0)
    if attrs.get("batch_dims", 0):
        raise b.error("ResourceGather with batch_dims is not supported")
    return b.op("GatherV2", ins[:2], {"axis": 0}, final=True)


def _ref_op(op_type):
    def conv(b, node, ins, attrs):
        n = REF_INPUTS[op_type]
        refs = [b.ref_variable(i) for i in range(n)]
        a = {"var": refs[0]}
        if n > 1:
            a["slot_vars"] = tuple(refs[1:])
        if op_type == "Assign":
            a["validate_shape"] = bool(attrs.get("validate_shape", True))
        if op_type in ("ApplyMomentum", "SparseApplyMomentum"):
            a["use_nesterov"] = bool(attrs.get("use_nesterov", False))
        if op_type == "ApplyAdam" and attrs.get("use_nesterov"):
            raise b.error("ApplyAdam with use_nesterov is not supported")
        return b.op(op_type, ins[n:], a, final=True)

    return conv


def _reduce(op_type):
    def conv(b, node, ins, attrs):
        keep = bool(attrs.get("keep_dims", attrs.get("keepdims", False)))
        axis = b.const_value(1)
        if axis is None:
            return b.op(
                "ReduceDynamicAxes", ins, {"reduction": op_type, "keepdims": keep}, final=True
            )
        return b.op(op_type, ins[:1], {"axis": _axes(axis), "keepdims": keep}, final=True)

    return conv


def _arg_minmax(op_type):
    def conv(b, node, ins, attrs):
        axis = int(_need_const(b, 1, "axis"))
        out = attrs.get("output_type", dtypes.int64)
        return b.op(op_type, ins[:1], {"axis": axis, "output_type": out}, final=True)

    return conv


def _matmul(b, node, ins, attrs):
    a = {
        "transpose_a": bool(attrs.get("transpose_a")),
        "transpose_b": bool(attrs.get("transpose_b")),
    }
    return b.op("MatMul", ins, a, final=True)


def _batch_matmul(b, node, ins, attrs):
    if attrs.get("adj_x") or attrs.get("adj_y"):
        raise b.error("BatchMatMul with adj_x/adj_y is not supported")
    return b.op("MatMul", ins, {"transpose_a": False, "transpose_b": False}, final=True)


def _bias_add(b, node, ins, attrs):
    _nhwc(b, attrs)
    return b.op("Add", ins, {}, final=True)


def _bias_add_grad(b, node, ins, attrs):
    _nhwc(b, attrs)
    rank = ins[0].shape.ndims
    if rank is None:  # e.g. popped from a while loop gradient's stack
        return b.op("BiasAddGradDynamicRank", ins, {}, final=True)
    return b.op("Sum", ins, {"axis": tuple(range(rank - 1)), "keepdims": False}, final=True)


def _tanh_grad(b, node, ins, attrs):  # dy * (1 - y^2)
    y, dy = ins
    one = b.const(np.ones((), y.dtype.np))
    sq = b.op("Square", [y], {}).outputs[0]
    return b.op("Mul", [dy, b.op("Sub", [one, sq], {}).outputs[0]], {}, final=True)


def _sigmoid_grad(b, node, ins, attrs):  # dy * y * (1 - y)
    y, dy = ins
    one = b.const(np.ones((), y.dtype.np))
    dy_y = b.op("Mul", [dy, y], {}).outputs[0]
    return b.op("Mul", [dy_y, b.op("Sub", [one, y], {}).outputs[0]], {}, final=True)


def _shape_n(b, node, ins, attrs):
    out_type = attrs.get("out_type", dtypes.int32)
    return [b.op("Shape", [t], {"out_type": out_type}).outputs[0] for t in ins]


def _cast(b, node, ins, attrs):
    return b.op("Cast", ins, {"DstT": attrs["DstT"]}, final=True)


def _concat(b, node, ins, attrs):
    axis = int(_need_const(b, len(ins) - 1, "axis"))
    return b.op("ConcatV2", ins[:-1], {"axis": axis}, final=True)


def _pack(b, node, ins, attrs):
    return b.op("Pack", ins, {"axis": int(attrs.get("axis", 0))}, final=True)


def _unpack(b, node, ins, attrs):
    return b.op(
        "Unpack", ins, {"num": int(attrs["num"]), "axis": int(attrs.get("axis", 0))}, final=True
    )


def _split(b, node, ins, attrs):
    axis = int(_need_const(b, 0, "split_dim"))
    return b.op(
        "Split", ins[1:], {"axis": axis, "num": int(attrs["num_split"]), "sizes": None}, final=True
    )


def _split_v(b, node, ins, attrs):
    sizes = _axes(_need_const(b, 1, "size_splits"))
    axis = int(_need_const(b, 2, "split_dim"))
    return b.op("Split", ins[:1], {"axis": axis, "num": None, "sizes": sizes}, final=True)


def _expand_dims(b, node, ins, attrs):
    return b.op("ExpandDims", ins[:1], {"axis": int(_need_const(b, 1, "dim"))}, final=True)


def _squeeze(b, node, ins, attrs):
    dims = attrs.get("squeeze_dims") or attrs.get("axis") or None
    return b.op("Squeeze", ins, {"axis": None if not dims else tuple(dims)}, final=True)


def _transpose(b, node, ins, attrs):
    perm = b.const_value(1)
    if perm is None:  # computed at run time (dynamic_rnn's batch-major <-> time-major)
        return b.op("TransposeDynamicPerm", ins, {}, final=True)
    return b.op("Transpose", ins[:1], {"perm": _axes(perm)}, final=True)


def _gather(b, node, ins, attrs):
    if attrs.get("batch_dims"):
        raise b.error("GatherV2 with batch_dims is not supported")
    axis = int(_need_const(b, 2, "axis")) if len(ins) > 2 else 0
    return b.op("GatherV2", ins[:2], {"axis": axis}, final=True)


def _one_hot(b, node, ins, attrs):
    depth = int(_need_const(b, 1, "depth"))
    on, off = _need_const(b, 2, "on_value"), _need_const(b, 3, "off_value")
    a = {
        "depth": depth,
        "on_value": on.item(),
        "off_value": off.item(),
        "axis": int(attrs.get("axis", -1)),
        "dtype": dtypes.as_dtype(on.dtype),
    }
    return b.op("OneHot", ins[:1], a, final=True)


def _softmax(op_type):
    def conv(b, node, ins, attrs):
        return b.op(op_type, ins, {"axis": -1}, final=True)

    return conv


def _conv2d(op_type):
    def conv(b, node, ins, attrs):
        _nhwc(b, attrs)
        if _s(attrs.get("padding")) == "EXPLICIT":
            raise b.error("explicit padding is not supported")
        a = {
            "strides": _spatial(b, attrs, "strides"),
            "dilations": _spatial(b, attrs, "dilations", [1, 1, 1, 1]),
            "padding": _s(attrs["padding"]),
        }
        return b.op(op_type, ins, a, final=True)

    return conv


def _pool(op_type):
    def conv(b, node, ins, attrs):
        _nhwc(b, attrs)
        a = {
            "ksize": _spatial(b, attrs, "ksize"),
            "strides": _spatial(b, attrs, "strides"),
            "padding": _s(attrs["padding"]),
        }
        return b.op(op_type, ins, a, final=True)

    return conv


_MASKS = ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask")


def _strided_slice(b, node, ins, attrs):
    masks = {k: int(attrs.get(k, 0)) for k in _MASKS}
    bounds = [b.const_value(i) for i in (1, 2, 3)]
    if any(v is None for v in bounds):  # e.g. x[i] inside a while loop
        return b.op("StridedSliceDynamic", ins, masks, final=True)
    spec = tf_graph_ops.strided_spec(*bounds, **masks)
    return b.op("StridedSlice", ins[:1], {"spec": spec}, final=True)


def _strided_slice_grad(b, node, ins, attrs):
    masks = {k: int(attrs.get(k, 0)) for k in _MASKS}
    return b.op("StridedSliceGradDynamic", ins, masks, final=True)


def _slice(b, node, ins, attrs):
    begin, size = b.const_value(1), b.const_value(2)
    if begin is None or size is None:  # bounds computed at run time (TF's concat gradient)
        return b.op("SliceDynamicBounds", ins, {}, final=True)
    begin, size = begin.tolist(), size.tolist()
    spec = tuple(slice(lo, None if n == -1 else lo + n, None) for lo, n in zip(begin, size))
    return b.op("StridedSlice", ins[:1], {"spec": spec}, final=True)


def _pad(b, node, ins, attrs):
    paddings = tuple(tuple(int(x) for x in row) for row in _need_const(b, 1, "paddings"))
    value = b.const_value(2).item() if len(ins) > 2 else 0
    a = {"paddings": paddings, "mode": "CONSTANT", "constant_values": value}
    return b.op("Pad", ins[:1], a, final=True)


def _reverse(b, node, ins, attrs):
    return b.op("ReverseV2", ins[:1], {"axis": _axes(_need_const(b, 1, "axis"))}, final=True)


def _random(op_type, **extra):
    def conv(b, node, ins, attrs):
        a = {
            "dtype": attrs["dtype"],
            "seed": attrs.get("seed") or None,
            "seed2": attrs.get("seed2") or None,
            **extra,
        }
        return b.op(op_type, ins, a, final=True)

    return conv


def _zeros_like(b, node, ins, attrs):
    return b.op("ZerosLike", ins, {"dtype": None}, final=True)


def _shape_op(op_type):
    def conv(b, node, ins, attrs):
        return b.op(op_type, ins, {"out_type": attrs.get("out_type", dtypes.int32)}, final=True)

    return conv


def _dynamic_partition(b, node, ins, attrs):
    return b.op(
        "DynamicPartition", ins, {"num_partitions": int(attrs["num_partitions"])}, final=True
    )


def _identity_n(b, node, ins, attrs):
    return b.op("IdentityN", ins, {"N": len(ins)}, final=True)


def _leaky_relu(b, node, ins, attrs):
    return b.op("LeakyRelu", ins, {"alpha": float(attrs.get("alpha", 0.2))}, final=True)


def _switch(b, node, ins, attrs):
    """A ``tf.cond`` branch point: both outputs carry the data (miniflow computes both
    branches, as its own ``tf.cond`` does); the ``Merge`` below selects."""
    op = b.op("Identity", ins[:1], {}, final=True)
    return [op.outputs[0], op.outputs[0]]


def _merge(b, node, ins, attrs):
    """The end of a ``tf.cond``: ``Select(pred, true input, false input)``, with the
    predicate of the ``Switch`` both inputs come from (one through its false output, one
    through its true output)."""
    if len(ins) != 2:
        raise b.error("only the two-input Merge of a tf.cond is supported")
    reach = [b.switch_outputs(i) for i in range(2)]
    for pred, index in reach[0]:
        if (pred, 1 - index) in reach[1]:
            true_in, false_in = (ins[0], ins[1]) if index == 1 else (ins[1], ins[0])
            p = b.resolve(pred)
            chosen = b.op("Select", [p, true_in, false_in], {}, final=True).outputs[0]
            which = b.op("Cast", [p], {"DstT": dtypes.int32}).outputs[0]
            return [chosen, which]
    raise b.error("its inputs do not come from the two sides of one Switch (a while loop?)")


def _max_pool_grad(b, node, ins, attrs):  # TF also passes the pooled output
    return _pool("MaxPoolGrad")(b, node, [ins[0], ins[2]], attrs)


def _keep(op_type, *names):
    """The op with only the attributes ``names`` (TF's others change nothing here)."""

    def conv(b, node, ins, attrs):
        return b.op(op_type, ins, {k: attrs[k] for k in names if k in attrs}, final=True)

    return conv


CONVERTERS = {
    "TensorArrayV3": _keep("TensorArrayV3", "dtype", "dynamic_size", "clear_after_read"),
    "TensorArrayReadV3": _keep("TensorArrayReadV3", "dtype"),
    "TensorArrayGatherV3": _keep("TensorArrayGatherV3", "dtype"),
    "StackV2": _keep("StackV2", "elem_type"),
    "StackPushV2": _keep("StackPushV2"),
    "StackPopV2": _keep("StackPopV2", "elem_type"),
    "ControlTrigger": _keep("NoOp"),
    "While": tf_function_import.convert_while,
    "TensorListReserve": _keep("TensorListReserve", "element_dtype"),
    "EmptyTensorList": _keep("EmptyTensorList", "element_dtype"),
    "TensorListFromTensor": _keep("TensorListFromTensor"),
    "TensorListSetItem": _keep("TensorListSetItem", "element_dtype"),
    "TensorListGetItem": _keep("TensorListGetItem", "element_dtype"),
    "TensorListStack": _keep("TensorListStack", "element_dtype", "num_elements"),
    "TensorListPushBack": _keep("TensorListPushBack", "element_dtype"),
    "TensorListPopBack": _keep("TensorListPopBack", "element_dtype"),
    "StatelessWhile": tf_function_import.convert_while,
    "ConcatOffset": _keep("ConcatOffset", "N"),
    "Unique": _keep("Unique", "out_idx"),
    "Placeholder": _placeholder,
    "PlaceholderWithDefault": _placeholder_with_default,
    "Const": _const,
    "VariableV2": _variable,
    "Variable": _variable,
    **{t: _ref_op(t) for t in REF_INPUTS},
    **{t: _ref_op(k) for t, k in RESOURCE_OPS.items()},
    "VarHandleOp": _variable,
    "ReadVariableOp": _read_variable,
    "ResourceGather": _resource_gather,
    **{t: _reduce(t) for t in ("Sum", "Mean", "Prod", "Max", "Min", "All", "Any")},
    "ArgMax": _arg_minmax("ArgMax"),
    "ArgMin": _arg_minmax("ArgMin"),
    "MatMul": _matmul,
    "BatchMatMul": _batch_matmul,
    "BatchMatMulV2": _batch_matmul,
    "AddV2": _same("Add"),
    "BiasAdd": _bias_add,
    "BiasAddV1": _bias_add,
    "BiasAddGrad": _bias_add_grad,
    "TanhGrad": _tanh_grad,
    "SigmoidGrad": _sigmoid_grad,
    "ShapeN": _shape_n,
    "Shape": _shape_op("Shape"),
    "Size": _shape_op("Size"),
    "Cast": _cast,
    "ConcatV2": _concat,
    "Pack": _pack,
    "Unpack": _unpack,
    "Split": _split,
    "SplitV": _split_v,
    "ExpandDims": _expand_dims,
    "Squeeze": _squeeze,
    "Transpose": _transpose,
    "GatherV2": _gather,
    "Gather": _gather,
    "OneHot": _one_hot,
    "Softmax": _softmax("Softmax"),
    "LogSoftmax": _softmax("LogSoftmax"),
    "Conv2D": _conv2d("Conv2D"),
    "Conv2DBackpropInput": _conv2d("Conv2DBackpropInput"),
    "Conv2DBackpropFilter": _conv2d("Conv2DBackpropFilter"),
    "MaxPool": _pool("MaxPool"),
    "AvgPool": _pool("AvgPool"),
    "MaxPoolGrad": _max_pool_grad,
    "BroadcastGradientArgs": _same("BroadcastGradientArgs"),
    "StridedSlice": _strided_slice,
    "StridedSliceGrad": _strided_slice_grad,
    "Slice": _slice,
    "Pad": _pad,
    "PadV2": _pad,
    "ReverseV2": _reverse,
    "RandomUniform": _random("RandomUniform", minval=0.0, maxval=1.0),
    "RandomStandardNormal": _random("RandomStandardNormal", mean=0.0, stddev=1.0),
    "TruncatedNormal": _random("TruncatedNormal", mean=0.0, stddev=1.0),
    "ZerosLike": _zeros_like,
    "DynamicPartition": _dynamic_partition,
    "ParallelDynamicStitch": _same("DynamicStitch"),
    "IdentityN": _identity_n,
    "LeakyRelu": _leaky_relu,
    "Snapshot": _same("Identity"),
    "RefIdentity": _same("Identity"),
    "SelectV2": _same("Select"),
    "Switch": _switch,
    "Merge": _merge,
}
