"""miniflow ops -> TensorFlow ``NodeDef``s: the export half of `tf_op_import`.

TensorFlow's kernels need every type attribute (``T``, ``Tidx``, ...) spelled out, take
reduction axes, concat axes and slice bounds as constant input tensors, and read
variables through ref inputs; miniflow holds those as attributes. Each op maps to one
node of the same name, except miniflow's gradient helpers (``Unbroadcast``,
``ReduceBroadcast``, ``MeanGrad``, ``BroadcastLike``) and the random ops with a range,
which become a few TF nodes (helpers are named ``<op>/_mf<k>``; the last one carries the
op's name, so tensor names stay the same).
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.train import tf_cond_export
from miniflow.train.tf_proto_values import attr_to_proto, protos

GRAPH_DEF_PRODUCER = 119  # TensorFlow 1.15's GraphDef version, the API level miniflow keeps

# miniflow op types TensorFlow has no counterpart for.
NO_TF_EQUIVALENT = frozenset(["InitializedValue"])


class NodeEmitter:
    """Builds the ``NodeDef``s of one op into a ``GraphDef``."""

    def __init__(self, graph_def, op, names):
        self.graph_def, self.op, self._names = graph_def, op, names
        self._helpers = 0

    def plain_ref(self, tensor) -> str:
        """The TF input string of a miniflow tensor (``name`` or ``name:k``)."""
        return self._names.get(tensor.name) or (
            tensor.op.name if tensor.value_index == 0 else tensor.name
        )

    def ref(self, tensor) -> str:
        """`plain_ref`, switched into this op's ``tf.cond`` branch if it is in one."""
        ref = self.plain_ref(tensor)
        guard = tf_cond_export.guard_of(self.op)
        return tf_cond_export.enter(self, tensor, ref, guard) if guard else ref

    def var_ref(self, var) -> str:
        return var.op.name

    def node(self, op_type, inputs, attrs, final=False, name=None):
        """Adds a NodeDef; ``final``: it carries the op's name and control inputs."""
        n = self.graph_def.node.add()
        if final:
            n.name = self.op.name
            ctrl = [f"^{c.name}" for c in self.op.control_inputs]
            guard = tf_cond_export.guard_of(self.op)
            if guard and not self.op.inputs:  # a branch constant runs with its branch only
                ctrl.append(f"^{tf_cond_export.pivot(self, guard)}")
        elif name is not None:
            n.name, ctrl = name, []
        else:
            self._helpers += 1
            n.name = f"{self.op.name}/_mf{self._helpers}"
            ctrl = []
        n.op = op_type
        n.input.extend(list(inputs) + ctrl)
        for k, v in attrs.items():
            attr_to_proto(v, n.attr[k])
        return n.name

    def const(self, value, dtype=None) -> str:
        arr = np.asarray(value, dtype=None if dtype is None else dtypes.as_dtype(dtype).np)
        return self.node("Const", [], {"value": arr, "dtype": dtypes.as_dtype(arr.dtype)})


def _t(op, i=0):
    return op.inputs[i].dtype


def _ins(e, op):
    return [e.ref(t) for t in op.inputs]


def _axes_const(e, op, x):
    axis = op.attrs.get("axis")
    if axis is None:
        rank = x.shape.ndims
        if rank is None:
            raise ValueError("a reduction over all axes needs an input of known rank")
        axis = tuple(range(rank))
    return e.const(np.array(axis if isinstance(axis, tuple | list) else [axis], np.int32))


# -- exporters ----------------------------------------------------------------------------
def _generic(e, op):
    attrs = {"T": _t(op)} if op.inputs else {}
    e.node(op.type, _ins(e, op), attrs, final=True)


def _no_t(e, op):
    e.node(op.type, _ins(e, op), {}, final=True)


def _placeholder(e, op):
    attrs = {"dtype": op.attrs["dtype"], "shape": op.attrs["shape"]}
    if op.type == "PlaceholderWithDefault":
        e.node(op.type, _ins(e, op), attrs, final=True)
    else:
        e.node("Placeholder", [], attrs, final=True)


def _const(e, op):
    value = np.asarray(op.attrs["value"])
    e.node("Const", [], {"value": value, "dtype": op.attrs["dtype"]}, final=True)


def read_name(var_op) -> str:
    """The name of a variable's ``read`` snapshot node (``<name>/read`` unless taken)."""
    read = f"{var_op.name}/read"
    while read in var_op.graph._by_name:
        read += "_"
    return read


def _variable(e, op):
    """The variable, and its ``<name>/read`` snapshot that every reader uses, as TF1
    builds them: ops reading the ref itself could see a value an ``Apply`` op of the same
    step already changed."""
    shape = op.attrs["var"].shape
    attrs = {"shape": shape, "dtype": op.attrs["dtype"], "container": "", "shared_name": ""}
    e.node("VariableV2", [], attrs, final=True)
    read = read_name(op)
    e.node("Identity", [op.name], {"T": op.attrs["dtype"]}, name=read)
    e._names[f"{op.name}:0"] = read


def _ref_op(e, op):
    var = op.attrs["var"]
    refs = [e.var_ref(var)] + [e.var_ref(v) for v in op.attrs.get("slot_vars", ())]
    attrs = {"T": var.dtype}
    if op.type == "Assign":
        attrs["validate_shape"] = bool(op.attrs.get("validate_shape", True))
    if op.type == "ApplyMomentum":
        attrs["use_nesterov"] = bool(op.attrs.get("use_nesterov", False))
    if op.type.startswith("Scatter"):
        attrs["Tindices"] = _t(op, 0)
    if op.type == "IsVariableInitialized":
        attrs = {"dtype": var.dtype}
    e.node(op.type, refs + _ins(e, op), attrs, final=True)


def _sparse_gd(e, op):  # TF1's SGD on sparse gradients: a ScatterSub of lr * values
    var = op.attrs["var"]
    alpha, values, indices = op.inputs
    scaled = e.node("Mul", [e.ref(values), e.ref(alpha)], {"T": var.dtype})
    e.node(
        "ScatterSub",
        [e.var_ref(var), e.ref(indices), scaled],
        {"T": var.dtype, "Tindices": indices.dtype},
        final=True,
    )


def _reduce(e, op):
    x = op.inputs[0]
    axes = _axes_const(e, op, x)
    attrs = {"Tidx": dtypes.int32, "keep_dims": bool(op.attrs.get("keepdims", False))}
    if op.type not in ("All", "Any"):
        attrs["T"] = x.dtype
    e.node(op.type, [e.ref(x), axes], attrs, final=True)


def _reduce_dynamic(e, op):
    x, axis = op.inputs
    attrs = {"T": x.dtype, "Tidx": axis.dtype, "keep_dims": bool(op.attrs["keepdims"])}
    e.node(op.attrs["reduction"], [e.ref(x), e.ref(axis)], attrs, final=True)


def _arg(e, op):
    axis = e.const(np.int32(op.attrs["axis"]))
    attrs = {"T": _t(op), "Tidx": dtypes.int32, "output_type": op.attrs["output_type"]}
    e.node(op.type, [e.ref(op.inputs[0]), axis], attrs, final=True)


def _matmul(e, op):
    a, b = op.inputs
    ta, tb = bool(op.attrs.get("transpose_a")), bool(op.attrs.get("transpose_b"))
    if a.shape.ndims == 2 and b.shape.ndims == 2:
        e.node(
            "MatMul", _ins(e, op), {"T": a.dtype, "transpose_a": ta, "transpose_b": tb}, final=True
        )
    else:
        attrs = {"T": a.dtype, "adj_x": ta, "adj_y": tb}
        e.node("BatchMatMulV2", _ins(e, op), attrs, final=True)


def _cast(e, op):
    attrs = {"SrcT": _t(op), "DstT": op.attrs["DstT"], "Truncate": False}
    e.node("Cast", _ins(e, op), attrs, final=True)


def _concat(e, op):
    axis = e.const(np.int32(op.attrs["axis"]))
    attrs = {"N": len(op.inputs), "T": _t(op), "Tidx": dtypes.int32}
    e.node("ConcatV2", _ins(e, op) + [axis], attrs, final=True)


def _pack(e, op):
    attrs = {"N": len(op.inputs), "T": _t(op), "axis": int(op.attrs.get("axis", 0))}
    e.node("Pack", _ins(e, op), attrs, final=True)


def _unpack(e, op):
    attrs = {"num": len(op.outputs), "T": _t(op), "axis": int(op.attrs.get("axis", 0))}
    e.node("Unpack", _ins(e, op), attrs, final=True)


def _split(e, op):
    axis = e.const(np.int32(op.attrs["axis"]))
    n = len(op.outputs)
    if op.attrs.get("sizes") is None:
        e.node("Split", [axis, e.ref(op.inputs[0])], {"num_split": n, "T": _t(op)}, final=True)
    else:
        sizes = e.const(np.array(op.attrs["sizes"], np.int32))
        attrs = {"num_split": n, "T": _t(op), "Tlen": dtypes.int32}
        e.node("SplitV", [e.ref(op.inputs[0]), sizes, axis], attrs, final=True)


def _expand_dims(e, op):
    dim = e.const(np.int32(op.attrs["axis"]))
    e.node(
        "ExpandDims", [e.ref(op.inputs[0]), dim], {"T": _t(op), "Tdim": dtypes.int32}, final=True
    )


def _squeeze(e, op):
    axis = op.attrs.get("axis")
    dims = [] if axis is None else list(axis if isinstance(axis, tuple | list) else [axis])
    e.node("Squeeze", _ins(e, op), {"T": _t(op), "squeeze_dims": dims}, final=True)


def _transpose(e, op):
    perm = e.const(np.array(op.attrs["perm"], np.int32))
    e.node(
        "Transpose", [e.ref(op.inputs[0]), perm], {"T": _t(op), "Tperm": dtypes.int32}, final=True
    )


def _gather(e, op):
    axis = e.const(np.int32(op.attrs.get("axis", 0)))
    attrs = {"Tparams": _t(op), "Tindices": _t(op, 1), "Taxis": dtypes.int32, "batch_dims": 0}
    e.node("GatherV2", _ins(e, op) + [axis], attrs, final=True)


def _one_hot(e, op):
    dt = op.attrs["dtype"]
    ins = [
        e.ref(op.inputs[0]),
        e.const(np.int32(op.attrs["depth"])),
        e.const(np.asarray(op.attrs["on_value"], dt.np)),
        e.const(np.asarray(op.attrs["off_value"], dt.np)),
    ]
    attrs = {"T": dt, "TI": _t(op), "axis": int(op.attrs.get("axis", -1))}
    e.node("OneHot", ins, attrs, final=True)


def _softmax(e, op):
    rank = op.inputs[0].shape.ndims
    axis = op.attrs.get("axis", -1)
    if axis not in (-1, None) and (rank is None or axis != rank - 1):
        raise ValueError(f"{op.type} over axis {axis} (TF's kernel uses the last axis)")
    e.node(op.type, _ins(e, op), {"T": _t(op)}, final=True)


def _four(v):
    return [1, *[int(x) for x in v], 1]


def _conv(e, op):
    attrs = {
        "T": op.outputs[0].dtype,
        "strides": _four(op.attrs["strides"]),
        "dilations": _four(op.attrs.get("dilations", (1, 1))),
        "padding": op.attrs["padding"],
        "data_format": "NHWC",
        "use_cudnn_on_gpu": True,
        "explicit_paddings": [],
    }
    e.node(op.type, _ins(e, op), attrs, final=True)


def _pool_attrs(op):
    return {
        "T": op.outputs[0].dtype,
        "ksize": _four(op.attrs["ksize"]),
        "strides": _four(op.attrs["strides"]),
        "padding": op.attrs["padding"],
        "data_format": "NHWC",
    }


def _pool(e, op):
    attrs = _pool_attrs(op)
    if op.type == "MaxPool":
        attrs["explicit_paddings"] = []
    e.node(op.type, _ins(e, op), attrs, final=True)


def _max_pool_grad(e, op):  # TF's kernel also takes the pooled output
    x, dy = op.inputs
    pooled = e.node("MaxPool", [e.ref(x)], _pool_attrs(op))
    e.node("MaxPoolGrad", [e.ref(x), pooled, e.ref(dy)], _pool_attrs(op), final=True)


def _strided_slice(e, op):
    spec = op.attrs["spec"]
    spec = spec if isinstance(spec, tuple) else (spec,)
    begin, end, strides = [], [], []
    masks = dict.fromkeys(
        ("begin_mask", "end_mask", "ellipsis_mask", "new_axis_mask", "shrink_axis_mask"), 0
    )
    for i, s in enumerate(spec):
        bit = 1 << i
        if s is Ellipsis:
            masks["ellipsis_mask"] |= bit
            begin.append(0), end.append(0), strides.append(1)
        elif s is None:
            masks["new_axis_mask"] |= bit
            begin.append(0), end.append(0), strides.append(1)
        elif isinstance(s, slice):
            step = 1 if s.step is None else int(s.step)
            if s.start is None:
                masks["begin_mask"] |= bit
            if s.stop is None:
                masks["end_mask"] |= bit
            begin.append(0 if s.start is None else int(s.start))
            end.append(0 if s.stop is None else int(s.stop))
            strides.append(step)
        elif isinstance(s, int | np.integer):
            masks["shrink_axis_mask"] |= bit
            begin.append(int(s)), end.append(int(s) + 1), strides.append(1)
        else:
            raise ValueError(f"slice spec item {s!r} (tensor-valued bounds)")
    ins = [e.ref(op.inputs[0])] + [e.const(np.array(v, np.int32)) for v in (begin, end, strides)]
    e.node("StridedSlice", ins, {"T": _t(op), "Index": dtypes.int32, **masks}, final=True)


def _with_shape_type(attr):
    def export(e, op):
        e.node(op.type, _ins(e, op), {"T": _t(op), attr: _t(op, 1)}, final=True)

    return export


def _shape_op(e, op):
    e.node(
        op.type,
        _ins(e, op),
        {"T": _t(op), "out_type": op.attrs.get("out_type", dtypes.int32)},
        final=True,
    )


def _fill(e, op):
    e.node("Fill", _ins(e, op), {"T": _t(op, 1), "index_type": _t(op, 0)}, final=True)


def _range(e, op):
    e.node("Range", _ins(e, op), {"Tidx": op.outputs[0].dtype}, final=True)


def _select(e, op):
    e.node("Select", _ins(e, op), {"T": _t(op, 1)}, final=True)


def _pad(e, op):
    pads = e.const(np.array(op.attrs["paddings"], np.int32))
    if op.attrs.get("mode", "CONSTANT") != "CONSTANT":
        raise ValueError(f"Pad mode {op.attrs['mode']}")
    value = op.attrs.get("constant_values", 0)
    attrs = {"T": _t(op), "Tpaddings": dtypes.int32}
    if value:
        cv = e.const(np.asarray(value, _t(op).np))
        e.node("PadV2", [e.ref(op.inputs[0]), pads, cv], attrs, final=True)
    else:
        e.node("Pad", [e.ref(op.inputs[0]), pads], attrs, final=True)


def _reverse(e, op):
    axis = e.const(np.array(op.attrs["axis"], np.int32))
    e.node(
        "ReverseV2", [e.ref(op.inputs[0]), axis], {"T": _t(op), "Tidx": dtypes.int32}, final=True
    )


def _random(lo_key, hi_key, scale_first):
    def export(e, op):
        dt = op.attrs["dtype"]
        seed, seed2 = op.attrs.get("seed") or 0, op.attrs.get("seed2") or 0
        base = e.node(
            op.type, _ins(e, op), {"dtype": dt, "T": _t(op), "seed": int(seed), "seed2": int(seed2)}
        )
        a, b = op.attrs[lo_key], op.attrs[hi_key]
        scale = (b - a) if scale_first else b  # uniform: max - min; normal: stddev
        scaled = e.node("Mul", [base, e.const(np.asarray(scale, dt.np))], {"T": dt})
        e.node("Add", [scaled, e.const(np.asarray(a, dt.np))], {"T": dt}, final=True)

    return export


def _dynamic_partition(e, op):
    attrs = {"T": _t(op), "num_partitions": int(op.attrs["num_partitions"])}
    e.node("DynamicPartition", _ins(e, op), attrs, final=True)


def _dynamic_stitch(e, op):
    n = len(op.inputs) // 2
    e.node("DynamicStitch", _ins(e, op), {"N": n, "T": _t(op, n)}, final=True)


def _add_n(e, op):
    e.node("AddN", _ins(e, op), {"N": len(op.inputs), "T": _t(op)}, final=True)


def _sparse_xent(e, op):
    attrs = {"T": _t(op), "Tlabels": _t(op, 1)}
    e.node(op.type, _ins(e, op), attrs, final=True)


def _shape_of(e, t):
    return e.node("Shape", [e.ref(t)], {"T": t.dtype, "out_type": dtypes.int32})


def _unbroadcast(e, op):  # sum g over the axes x was broadcast along, then x's shape
    g, x = op.inputs
    sx = _shape_of(e, x)
    args = e.node("BroadcastGradientArgs", [_shape_of(e, g), sx], {"T": dtypes.int32})
    summed = e.node(
        "Sum", [e.ref(g), f"{args}:1"], {"T": g.dtype, "Tidx": dtypes.int32, "keep_dims": False}
    )
    e.node("Reshape", [summed, sx], {"T": g.dtype, "Tshape": dtypes.int32}, final=True)


def _broadcast_like(e, op):
    g, x = op.inputs
    attrs = {"T": g.dtype, "Tidx": dtypes.int32}
    e.node("BroadcastTo", [e.ref(g), _shape_of(e, x)], attrs, final=True)


def _spread(e, op, final):
    """``ReduceBroadcast``: g reshaped to the kept-dims shape, broadcast to x's shape."""
    g, x = op.inputs
    ref = e.ref(g)
    if op.attrs.get("axis") is not None and not op.attrs.get("keepdims"):
        kept = e.node(
            "Sum",
            [e.ref(x), _axes_const(e, op, x)],
            {"T": x.dtype, "Tidx": dtypes.int32, "keep_dims": True},
        )
        ref = e.node(
            "Reshape",
            [ref, _shape_of_name(e, kept, x.dtype)],
            {"T": g.dtype, "Tshape": dtypes.int32},
        )
    attrs = {"T": g.dtype, "Tidx": dtypes.int32}
    return e.node("BroadcastTo", [ref, _shape_of(e, x)], attrs, final=final)


def _shape_of_name(e, name, dtype):
    return e.node("Shape", [name], {"T": dtype, "out_type": dtypes.int32})


def _reduce_broadcast(e, op):
    _spread(e, op, final=True)


def _mean_grad(e, op):  # spread, then divided by size(x) // max(size(g), 1)
    g, x = op.inputs
    spread = _spread(e, op, final=False)
    size_x = e.node("Size", [e.ref(x)], {"T": x.dtype, "out_type": dtypes.int32})
    size_g = e.node("Size", [e.ref(g)], {"T": g.dtype, "out_type": dtypes.int32})
    one = e.const(np.int32(1))
    n = e.node(
        "FloorDiv",
        [size_x, e.node("Maximum", [size_g, one], {"T": dtypes.int32})],
        {"T": dtypes.int32},
    )
    count = e.node("Cast", [n], {"SrcT": dtypes.int32, "DstT": g.dtype, "Truncate": False})
    e.node("RealDiv", [spread, count], {"T": g.dtype}, final=True)


EXPORTERS = {
    "Placeholder": _placeholder,
    "PlaceholderWithDefault": _placeholder,
    "Const": _const,
    "VariableV2": _variable,
    **{
        t: _ref_op
        for t in (
            "Assign AssignAdd AssignSub IsVariableInitialized ApplyGradientDescent "
            "ApplyProximalGradientDescent ApplyAdagrad ApplyMomentum ApplyProximalAdagrad "
            "ApplyAdam ApplyRMSProp ApplyAdadelta ApplyAdagradDA ScatterUpdate ScatterAdd "
            "ScatterSub ScatterMul ScatterDiv ScatterMax ScatterMin"
        ).split()
    },
    "SparseApplyGradientDescent": _sparse_gd,
    **{t: _reduce for t in ("Sum", "Mean", "Prod", "Max", "Min", "All", "Any")},
    "ReduceDynamicAxes": _reduce_dynamic,
    "ArgMax": _arg,
    "ArgMin": _arg,
    "MatMul": _matmul,
    "Cast": _cast,
    "ConcatV2": _concat,
    "Pack": _pack,
    "Unpack": _unpack,
    "Split": _split,
    "ExpandDims": _expand_dims,
    "Squeeze": _squeeze,
    "Transpose": _transpose,
    "GatherV2": _gather,
    "OneHot": _one_hot,
    "Softmax": _softmax,
    "LogSoftmax": _softmax,
    "Conv2D": _conv,
    "Conv2DBackpropInput": _conv,
    "Conv2DBackpropFilter": _conv,
    "MaxPool": _pool,
    "AvgPool": _pool,
    "MaxPoolGrad": _max_pool_grad,
    "StridedSlice": _strided_slice,
    "Reshape": _with_shape_type("Tshape"),
    "Tile": _with_shape_type("Tmultiples"),
    "BroadcastTo": _with_shape_type("Tidx"),
    "Shape": _shape_op,
    "Size": _shape_op,
    "Fill": _fill,
    "Range": _range,
    "Select": _select,
    "Pad": _pad,
    "ReverseV2": _reverse,
    "RandomUniform": _random("minval", "maxval", True),
    "RandomStandardNormal": _random("mean", "stddev", False),
    "TruncatedNormal": _random("mean", "stddev", False),
    "DynamicPartition": _dynamic_partition,
    "DynamicStitch": _dynamic_stitch,
    "AddN": _add_n,
    "SparseSoftmaxCrossEntropyWithLogits": _sparse_xent,
    "Unbroadcast": _unbroadcast,
    "BroadcastLike": _broadcast_like,
    "ReduceBroadcast": _reduce_broadcast,
    "MeanGrad": _mean_grad,
    **tf_cond_export.EXPORTERS,
    "NoOp": _no_t,
    "ZerosLike": _generic,
}


def unsupported_reason(op) -> str | None:
    """Why ``op`` cannot be exported (None: it can)."""
    if op.type in NO_TF_EQUIVALENT:
        return "TensorFlow has no such op"
    if op.type in EXPORTERS:
        return None
    public = {k: v for k, v in op.attrs.items() if not k.startswith("_") and v is not None}
    if op.type == "ZerosLike" or not public:
        return None
    return f"attributes {sorted(public)} are not mapped"


def new_graph_def():
    gd = protos().graph_pb2.GraphDef()
    gd.versions.producer = GRAPH_DEF_PRODUCER
    return gd
