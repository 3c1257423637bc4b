"""TensorFlow's protobuf value messages <-> miniflow values: ``DataType`` enums,
``TensorShapeProto``, ``TensorProto`` (``tensor_content``, the packed typed fields,
string values) and ``AttrValue``; and parsing a message from binary or text bytes.

The compiled message classes come from TensorBoard's copy of TF's protos
(``tensorboard.compat.proto``), imported only when a TF file is read or written, so the
core library keeps needing NumPy only. Decoding is strict: sizes are checked before any
allocation, so a hostile file gets an `InvalidArgumentError`, not a huge array.
"""

from __future__ import annotations

import functools
import os
import types

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import protobuf_wire as wire
from miniflow.core.shapes import TensorShape

# A constant larger than this (elements) is refused rather than allocated.
MAX_ELEMENTS = 1 << 28

_BY_ENUM = {v: k for k, v in wire.DATA_TYPES.items()}
REF_OFFSET = 100  # DT_FLOAT_REF = 101: the dtype of a TF1 variable's ref output


@functools.cache
def protos() -> types.SimpleNamespace:
    """The compiled TF message modules (``graph_pb2``, ``meta_graph_pb2``, ...).

    Raises:
        ImportError: TensorBoard/protobuf are not installed (names the extra).
    """
    try:
        from google.protobuf import message, text_format
        from tensorboard.compat.proto import (
            attr_value_pb2,
            function_pb2,
            graph_pb2,
            meta_graph_pb2,
            node_def_pb2,
            saver_pb2,
            tensor_pb2,
            tensor_shape_pb2,
            types_pb2,
            variable_pb2,
            versions_pb2,
        )
    except ImportError as e:
        raise ImportError(
            f"Reading or writing TensorFlow's GraphDef/MetaGraphDef protobufs needs the "
            f"'tf-formats' extra: pip install 'miniflow[tf-formats]' ({e})"
        ) from None
    return types.SimpleNamespace(
        attr_value_pb2=attr_value_pb2,
        function_pb2=function_pb2,
        graph_pb2=graph_pb2,
        meta_graph_pb2=meta_graph_pb2,
        node_def_pb2=node_def_pb2,
        saver_pb2=saver_pb2,
        tensor_pb2=tensor_pb2,
        tensor_shape_pb2=tensor_shape_pb2,
        types_pb2=types_pb2,
        variable_pb2=variable_pb2,
        versions_pb2=versions_pb2,
        text_format=text_format,
        DecodeError=message.DecodeError,
    )


def bad(where: str, msg: str) -> errors.InvalidArgumentError:
    return errors.InvalidArgumentError(None, None, f"{where}: {msg}")


# -- dtypes and shapes ----------------------------------------------------------------------
def dtype_from_enum(enum: int, where: str) -> dtypes.DType:
    """The miniflow dtype of a TF ``DataType`` (``*_REF`` types give their base type)."""
    name = _BY_ENUM.get(enum - REF_OFFSET if enum > REF_OFFSET else enum)
    if name is None:
        raise bad(where, f"unsupported TensorFlow DataType {enum} (bfloat16, float8, int4 ...)")
    return dtypes.as_dtype(name)


def dtype_enum(dtype) -> int:
    return wire.DATA_TYPES[dtypes.as_dtype(dtype).name]


def dims_from_proto(shape, where: str):
    """A ``TensorShapeProto`` as dims (None: unknown rank; -1 sizes become None)."""
    if shape.unknown_rank:
        return None
    dims = []
    for d in shape.dim:
        if d.size < -1:
            raise bad(where, f"a dimension size must be >= -1, found {d.size}")
        dims.append(None if d.size == -1 else int(d.size))
    return dims


def shape_to_proto(dims, out) -> None:
    """Fills the ``TensorShapeProto`` ``out`` from dims/TensorShape (None: unknown rank)."""
    dims = TensorShape(dims).as_tuple() if not isinstance(dims, list | tuple) else dims
    out.SetInParent()  # a scalar's shape has no dims but must be present
    if dims is None:
        out.unknown_rank = True
        return
    for d in dims:
        out.dim.add().size = -1 if d is None else int(d)


# -- tensors ------------------------------------------------------------------------------
_TYPED_FIELDS = {
    "float32": "float_val",
    "float64": "double_val",
    "int32": "int_val",
    "int16": "int_val",
    "int8": "int_val",
    "uint8": "int_val",
    "uint16": "int_val",
    "int64": "int64_val",
    "uint32": "uint32_val",
    "uint64": "uint64_val",
    "bool": "bool_val",
    "float16": "half_val",
    "complex64": "scomplex_val",
    "complex128": "dcomplex_val",
}


def array_from_tensor_proto(t, where: str) -> np.ndarray:
    """The ndarray of a ``TensorProto`` (TF's rule: fewer typed values than elements
    repeat the last one; none at all gives zeros)."""
    dt = dtype_from_enum(t.dtype, where)
    dims = dims_from_proto(t.tensor_shape, where)
    if dims is None or None in dims:
        raise bad(where, "a constant tensor needs a fully known shape")
    n = 1
    for d in dims:
        n *= d
        if n > MAX_ELEMENTS:
            raise bad(where, f"tensor of shape {dims} is too large ({MAX_ELEMENTS} elements max)")
    if dt is dtypes.string:
        vals = list(t.string_val)
        if len(vals) > n or (n and not vals):
            raise bad(where, f"a string tensor of shape {dims} has {len(vals)} values")
        out = np.empty(n, dtype=object)
        out[:] = vals + [vals[-1]] * (n - len(vals)) if n else []
        return out.reshape(dims)
    if dt.name not in _TYPED_FIELDS:
        raise bad(where, f"constants of dtype {dt.name} are not supported")
    npd = dt.np.newbyteorder("<")
    if t.tensor_content:
        if len(t.tensor_content) != n * npd.itemsize:
            raise bad(
                where,
                f"tensor_content has {len(t.tensor_content)} bytes; shape {dims} of "
                f"{dt.name} needs {n * npd.itemsize}",
            )
        return np.frombuffer(t.tensor_content, npd).astype(dt.np).reshape(dims)
    vals = list(getattr(t, _TYPED_FIELDS[dt.name]))
    if dt.is_complex:
        vals = [complex(a, b) for a, b in zip(vals[0::2], vals[1::2])]
    if len(vals) > n:
        raise bad(where, f"{len(vals)} values for a tensor of shape {dims}")
    if dt is dtypes.float16:
        arr = np.array(vals, np.uint16).view(np.float16)
    else:
        arr = np.array(vals, dt.np)
    if len(arr) < n:
        fill = arr[-1] if len(arr) else np.zeros((), dt.np)
        arr = np.concatenate([arr, np.full(n - len(arr), fill, dt.np)])
    return arr.reshape(dims)


def tensor_proto_from_array(value, out) -> None:
    """Fills the ``TensorProto`` ``out`` (raw ``tensor_content``; strings as values)."""
    arr = np.asarray(value)
    dt = dtypes.as_dtype(arr.dtype) if arr.dtype.kind not in "OSU" else dtypes.string
    out.dtype = dtype_enum(dt)
    shape_to_proto(list(arr.shape), out.tensor_shape)
    if dt is dtypes.string:
        out.string_val.extend(
            x if isinstance(x, bytes) else str(x).encode() for x in arr.ravel().tolist()
        )
    elif arr.size:
        out.tensor_content = np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()


# -- attr values --------------------------------------------------------------------------
def attr_from_proto(a, where: str):
    """The Python value of an ``AttrValue``: bytes, int, float, bool, DType, dims list,
    ndarray, or a list of those; a ``func`` attr gives the function's name."""
    kind = a.WhichOneof("value")
    if kind == "s":
        return a.s
    if kind in ("i", "f", "b"):
        return getattr(a, kind)
    if kind == "type":
        return dtype_from_enum(a.type, where)
    if kind == "shape":
        return dims_from_proto(a.shape, where)
    if kind == "tensor":
        return array_from_tensor_proto(a.tensor, where)
    if kind == "list":
        lst = a.list
        for field in ("s", "i", "f", "b"):
            if len(getattr(lst, field)):
                return list(getattr(lst, field))
        if len(lst.type):
            return [dtype_from_enum(x, where) for x in lst.type]
        if len(lst.shape):
            return [dims_from_proto(s, where) for s in lst.shape]
        if len(lst.tensor):
            return [array_from_tensor_proto(x, where) for x in lst.tensor]
        if len(lst.func):
            raise bad(where, "function-valued attributes are not supported")
        return []
    if kind == "func":  # the function's name in the graph's library (a v2 While's body)
        return a.func.name
    if kind == "placeholder":
        raise bad(where, f"unresolved attribute placeholder ${a.placeholder}")
    raise bad(where, "the attribute has no value")


def attr_to_proto(value, out) -> None:
    """Fills the ``AttrValue`` ``out`` from a Python value (see `attr_from_proto`)."""
    if isinstance(value, bool | np.bool_):
        out.b = bool(value)
    elif isinstance(value, int | np.integer):
        out.i = int(value)
    elif isinstance(value, float | np.floating):
        out.f = float(value)
    elif isinstance(value, str):
        out.s = value.encode()
    elif isinstance(value, bytes):
        out.s = value
    elif isinstance(value, dtypes.DType):
        out.type = dtype_enum(value)
    elif isinstance(value, TensorShape):
        shape_to_proto(value.as_tuple(), out.shape)
    elif isinstance(value, np.ndarray):
        tensor_proto_from_array(value, out.tensor)
    elif isinstance(value, list | tuple):
        _list_to_proto(list(value), out.list)
    else:
        raise TypeError(f"cannot encode {type(value).__name__} as an AttrValue")


def _list_to_proto(items, lst) -> None:
    lst.SetInParent()  # an empty list is a value too
    if all(isinstance(x, bool) for x in items):
        lst.b.extend(items)
    elif all(isinstance(x, int | np.integer) and not isinstance(x, bool) for x in items):
        lst.i.extend(int(x) for x in items)
    elif all(isinstance(x, float | int) for x in items):
        lst.f.extend(float(x) for x in items)
    elif all(isinstance(x, bytes | str) for x in items):
        lst.s.extend(x if isinstance(x, bytes) else x.encode() for x in items)
    elif all(isinstance(x, dtypes.DType) for x in items):
        lst.type.extend(dtype_enum(x) for x in items)
    else:
        raise TypeError(f"cannot encode list {items!r:.60} as an AttrValue")


# -- parsing ---------------------------------------------------------------------------
def parse_proto(data, message_class, what: str, text: bool | None = None):
    """A message of ``message_class`` from binary or text-format bytes.

    ``text``: None tries binary first, then text.

    Raises:
        DataLossError: neither form parses (truncated or corrupt file).
    """
    p = protos()
    msg = message_class()
    data = bytes(data)
    if not data:  # parses as an empty message; a file TF wrote is never empty
        raise errors.DataLossError(None, None, f"{what} is empty")
    problems = []
    if text is not True:
        try:
            msg.ParseFromString(data)
            return msg
        except (p.DecodeError, RuntimeError, ValueError) as e:
            problems.append(f"binary: {e}")
    if text is not False:
        try:
            p.text_format.Parse(data.decode("utf-8"), msg)
            return msg
        except (p.text_format.ParseError, UnicodeDecodeError, ValueError) as e:
            problems.append(f"text: {str(e)[:200]}")
    raise errors.DataLossError(
        None, None, f"{what} is not a valid {message_class.__name__} ({'; '.join(problems)})"
    )


def read_proto_file(path, message_class, what: str):
    """Parses ``path`` (``.pbtxt``/``.txt``: text format; otherwise binary, then text)."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{what} {path} does not exist") from None
    text = True if path.endswith((".pbtxt", ".txt")) else None
    return parse_proto(data, message_class, f"{what} {path}", text)


def is_miniflow_json(data: bytes) -> bool:
    """miniflow's own graph files are JSON objects; TF's are protobufs."""
    return bytes(data[:64]).lstrip()[:1] == b"{"


def _is_tf_message(obj, name: str) -> bool:
    """True for TensorBoard's copy of TF's message ``name``, and for TensorFlow's own."""
    full = getattr(getattr(obj, "DESCRIPTOR", None), "full_name", None)
    return full in (f"tensorflow.{name}", f"tensorboard.{name}")
