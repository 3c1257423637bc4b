"""Decoders, encoders and file ops of `tf.io`: `decode_raw`, `decode_csv`, base64,
`decode_compressed`, `serialize_tensor`/`parse_tensor`, `read_file`/`write_file`,
`matching_files`.

Malformed input raises TF's error class at run time (`InvalidArgumentError`, or
`DataLossError` for corrupt compressed data) with a message naming the record and what is
wrong. None of these ops has a gradient.
"""

from __future__ import annotations

import base64
import glob as _glob
import gzip
import itertools
import os
import re
import zlib

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import protobuf_wire as wire
from miniflow.core.dispatch import apply_op
from miniflow.core.example_proto import example_json_to_bytes
from miniflow.core.registry import not_differentiable, register_op
from miniflow.ops import array_ops
from miniflow.ops.shape_rules import dims
from miniflow.ops.string_ops import as_bytes_array, map_strings, string_infer


def _invalid(message):
    return errors.InvalidArgumentError(None, None, message)


# ---------------------------------------------------------------------------------------
# decode_raw


@register_op(
    "DecodeRaw",
    infer=lambda i, a: [
        (None if dims(i[0]) is None else dims(i[0]) + (None,), dtypes.as_dtype(a["out_type"]))
    ],
)
def _decode_raw(x, out_type, little_endian=True):
    arr = as_bytes_array(x)
    dt = np.dtype(dtypes.as_dtype(out_type).np).newbyteorder("<" if little_endian else ">")
    size = dt.itemsize
    width = None
    for k, v in enumerate(arr.flat):
        if len(v) % size:
            raise _invalid(
                f"Input to DecodeRaw has length {len(v)} that is not a multiple of "
                f"{size}, the size of {dtypes.as_dtype(out_type).name}"
            )
        if width is not None and len(v) != width * size:
            raise _invalid(
                f"DecodeRaw requires input strings to all be the same size, but "
                f"element {k} has size {len(v)} != {width * size}"
            )
        width = len(v) // size
    out = np.empty(arr.shape + (width or 0,), dtype=dt.newbyteorder("="))
    for i in np.ndindex(arr.shape):
        out[i] = np.frombuffer(arr[i], dtype=dt)
    return out


def decode_raw(input_bytes=None, out_type=None, little_endian=True, name=None, bytes=None):  # noqa: A002
    """Reinterprets the bytes of each string as a vector of ``out_type`` numbers.
    ``tf.io.decode_raw(input_bytes, out_type, little_endian=True, name=None)``"""
    x = input_bytes if input_bytes is not None else bytes
    dt = dtypes.as_dtype(out_type)
    if dt == dtypes.string or dt.np is None:
        raise TypeError(f"decode_raw: out_type must be a numeric dtype, got {dt.name}")
    return apply_op("DecodeRaw", x, out_type=dt.name, little_endian=bool(little_endian), name=name)


# ---------------------------------------------------------------------------------------
# decode_csv

_CSV_TYPES = (dtypes.float32, dtypes.float64, dtypes.int32, dtypes.int64, dtypes.string)


def _csv_fields(rec: bytes, delim: bytes, quote: bool, k: int) -> list[bytes | None]:
    """The fields of record ``k`` (unquoted); raises InvalidArgumentError like TF."""
    out, i, n = [], 0, len(rec)
    while True:
        if quote and i < n and rec[i : i + 1] == b'"':
            field, i = bytearray(), i + 1
            while True:
                j = rec.find(b'"', i)
                if j < 0:
                    raise _invalid(
                        f"Quoted field has to end with quote followed by delim or "
                        f"end, in record {k}: {rec[:60]!r}"
                    )
                field += rec[i:j]
                if rec[j + 1 : j + 2] == b'"':
                    field += b'"'
                    i = j + 2
                    continue
                i = j + 1
                break
            if i < n and rec[i : i + 1] != delim:
                raise _invalid(
                    f"Quote inside a string has to be escaped by another quote, in "
                    f"record {k}: {rec[:60]!r}"
                )
            out.append(bytes(field))
        else:
            j = rec.find(delim, i)
            j = n if j < 0 else j
            field = rec[i:j]
            if quote and b'"' in field:
                raise _invalid(
                    f"Unquoted fields cannot have quotes inside, in record {k}: {rec[:60]!r}"
                )
            out.append(field)
            i = j
        if i >= n:
            return out
        i += 1  # the delimiter
        if i == n:
            out.append(b"")
            return out


def _csv_value(field: bytes, dt, k: int, col: int):
    text = field.decode("utf-8", errors="replace")
    if dt == dtypes.string:
        return field
    if dt in (dtypes.int32, dtypes.int64):
        s = text.strip()
        bits = 32 if dt == dtypes.int32 else 64
        if not re.fullmatch(r"[+-]?\d+", s) or not -(1 << bits - 1) <= int(s) < 1 << bits - 1:
            raise _invalid(f"Field {col} in record {k} is not a valid {dt.name}: {text}")
        return int(s)
    try:
        return float(text.strip())
    except ValueError:
        raise _invalid(f"Field {col} in record {k} is not a valid float: {text}") from None


@register_op(
    "DecodeCSV",
    num_outputs=lambda a: len(a["types"]),
    infer=lambda i, a: [(dims(i[0]), dtypes.as_dtype(t)) for t in a["types"]],
)
def _decode_csv(
    records, *defaults, types, field_delim=",", use_quote_delim=True, na_value="", select_cols=None
):
    recs = as_bytes_array(records)
    delim, na = field_delim.encode(), na_value.encode()
    dts = [dtypes.as_dtype(t) for t in types]
    cols = list(select_cols) if select_cols else list(range(len(dts)))
    outs = [np.empty(recs.shape, dtype=object if dt == dtypes.string else dt.np) for dt in dts]
    for k, idx in enumerate(np.ndindex(recs.shape)):
        fields = _csv_fields(recs[idx], delim, use_quote_delim, k) if recs[idx] else []
        if select_cols:
            if len(fields) <= cols[-1]:
                raise _invalid(
                    f"Expect at least {cols[-1] + 1} fields but have {len(fields)} in record {k}"
                )
        elif len(fields) != len(dts):
            raise _invalid(f"Expect {len(dts)} fields but have {len(fields)} in record {k}")
        for j, (col, dt) in enumerate(zip(cols, dts)):
            field = fields[col]
            if field == b"" or field == na:
                d = np.asarray(defaults[j]).reshape(-1)
                if d.size == 0:
                    raise _invalid(f"Field {j} is required but missing in record {k}!")
                outs[j][idx] = d[0]
            else:
                outs[j][idx] = _csv_value(field, dt, k, j)
    return tuple(outs)


not_differentiable("DecodeCSV")


def decode_csv(
    records,
    record_defaults,
    field_delim=",",
    use_quote_delim=True,
    name=None,
    na_value="",
    select_cols=None,
):
    """Parses CSV records into one tensor per column (each shaped like ``records``).

    ``record_defaults`` gives each column's dtype and its default (a one-element list), or
    marks it required (an empty tensor). ``tf.io.decode_csv(records, record_defaults,
    field_delim=',', use_quote_delim=True, name=None, na_value='', select_cols=None)``
    """
    if len(field_delim) != 1:
        raise ValueError(f"field_delim must be a single character, got {field_delim!r}")
    if select_cols is not None:
        select_cols = [int(c) for c in select_cols]
        if any(b <= a for a, b in itertools.pairwise(select_cols)) or (
            select_cols and select_cols[0] < 0
        ):
            raise ValueError("select_cols is not strictly increasing.")
        if len(select_cols) != len(record_defaults):
            raise ValueError("Length of select_cols and record_defaults do not match.")
    defaults = []
    for d in record_defaults:
        t = array_ops.convert_to_tensor(d)
        if t.dtype not in _CSV_TYPES:
            raise TypeError(
                f"record_defaults entries must be float32, float64, int32, int64 "
                f"or string, got {t.dtype.name}"
            )
        defaults.append(t)
    return list(
        apply_op(
            "DecodeCSV",
            records,
            *defaults,
            types=tuple(t.dtype.name for t in defaults),
            field_delim=field_delim,
            use_quote_delim=bool(use_quote_delim),
            na_value=na_value,
            select_cols=tuple(select_cols or ()),
            name=name,
        )
    )


# ---------------------------------------------------------------------------------------
# base64, compression


_B64 = re.compile(rb"[A-Za-z0-9_-]*={0,2}")


def _b64decode(v: bytes) -> bytes:
    body = v.rstrip(b"=")
    if not _B64.fullmatch(v) or len(body) % 4 == 1 or (v != body and len(v) % 4):
        raise _invalid(f"Invalid character found in base64 (or bad length): {v[:60]!r}")
    return base64.urlsafe_b64decode(body + b"=" * (-len(body) % 4))


@register_op("DecodeBase64", infer=string_infer())
def _decode_base64(x):
    return map_strings(_b64decode, x)


@register_op("EncodeBase64", infer=string_infer())
def _encode_base64(x, pad=False):
    return map_strings(
        lambda v: base64.urlsafe_b64encode(v) if pad else base64.urlsafe_b64encode(v).rstrip(b"="),
        x,
    )


def _decompress(v: bytes, kind: str) -> bytes:
    try:
        if kind == "ZLIB":
            return zlib.decompress(v)
        if kind == "GZIP":
            return gzip.decompress(v)
    except (zlib.error, OSError, EOFError) as e:
        raise errors.DataLossError(
            None, None, f"DecodeCompressed: corrupt {kind} data: {e}"
        ) from None
    return v


@register_op("DecodeCompressed", infer=string_infer())
def _decode_compressed(x, compression_type=""):
    return map_strings(lambda v: _decompress(v, compression_type), x)


not_differentiable("DecodeBase64", "EncodeBase64", "DecodeCompressed")


def decode_base64(input, name=None):  # noqa: A002
    """Decodes web-safe base64 (``-`` and ``_``; padding optional).
    ``tf.io.decode_base64(input, name=None)``"""
    return apply_op("DecodeBase64", input, name=name)


def encode_base64(input, pad=False, name=None):  # noqa: A002
    """Encodes to web-safe base64 (``-`` and ``_``), padded with ``=`` only if ``pad``.
    ``tf.io.encode_base64(input, pad=False, name=None)``"""
    return apply_op("EncodeBase64", input, pad=bool(pad), name=name)


def decode_compressed(bytes, compression_type="", name=None):  # noqa: A002
    """Decompresses each string ('' none, 'ZLIB' or 'GZIP').
    ``tf.io.decode_compressed(bytes, compression_type='', name=None)``"""
    if compression_type not in ("", "ZLIB", "GZIP"):
        raise ValueError(f"compression_type must be '', 'ZLIB' or 'GZIP', got {compression_type!r}")
    return apply_op("DecodeCompressed", bytes, compression_type=compression_type, name=name)


@register_op("DecodeJSONExample", infer=string_infer())
def _decode_json_example(x):
    def convert(v):
        try:
            return example_json_to_bytes(v)
        except ValueError as e:
            raise _invalid(f"Error while parsing JSON: {e}") from None

    return map_strings(convert, x)


not_differentiable("DecodeJSONExample")


def decode_json_example(json_examples, name=None):
    """Converts `tf.train.Example`s in protobuf's JSON mapping to binary protos.
    ``tf.io.decode_json_example(json_examples, name=None)``"""
    return apply_op("DecodeJSONExample", json_examples, name=name)


# ---------------------------------------------------------------------------------------
# serialize_tensor / parse_tensor: TensorProto bytes, as TF writes them.

# TensorFlow's DataType numbers of the dtypes a NumPy array can hold
_ENUM = {k: v for k, v in wire.DATA_TYPES.items() if k == "string" or hasattr(np, k)}
_BY_ENUM = {v: k for k, v in _ENUM.items()}
_MAX_FILL = 1 << 24  # a single repeated value may fill at most this many elements


def tensor_proto_bytes(arr) -> bytes:
    """The serialized ``TensorProto`` of a NumPy array (strings: object arrays of bytes)."""
    arr = np.asarray(arr)
    name = (
        "string"
        if arr.dtype == object or arr.dtype.kind in "SU"
        else dtypes.as_dtype(arr.dtype).name
    )
    shape = b"".join(wire.length_field(2, wire.varint_field(1, d) if d else b"") for d in arr.shape)
    out = wire.varint_field(1, _ENUM[name]) + wire.length_field(2, shape)
    if name == "string":
        return out + b"".join(wire.length_field(8, v) for v in as_bytes_array(arr).flat)
    if arr.size:
        out += wire.length_field(
            4, np.ascontiguousarray(arr, arr.dtype.newbyteorder("<")).tobytes()
        )
    return out


def _parse_shape(buf, start, stop):
    shape = []
    for number, wt, v in wire.fields(buf, start, stop):
        if number == 2 and wt == wire.LENGTH:
            size = 0
            for n2, w2, v2 in wire.fields(buf, *v):
                if n2 == 1 and w2 == wire.VARINT:
                    size = wire.signed64(v2)
            if size < 0:
                raise wire.DecodeError(f"dimension size {size}")
            shape.append(size)
        elif number == 3 and wt == wire.VARINT and v:
            raise wire.DecodeError("unknown rank")
    return tuple(shape)


def parse_tensor_proto(data: bytes) -> np.ndarray:
    """The array a serialized ``TensorProto`` holds. Raises `protobuf_wire.DecodeError`."""
    dtype_enum, shape, content, strings, values = 0, (), None, [], []
    for number, wt, v in wire.fields(data):
        if number == 1 and wt == wire.VARINT:
            dtype_enum = v
        elif number == 2 and wt == wire.LENGTH:
            shape = _parse_shape(data, *v)
        elif number == 4 and wt == wire.LENGTH:
            content = data[v[0] : v[1]]
        elif number == 8 and wt == wire.LENGTH:
            strings.append(data[v[0] : v[1]])
        elif number in (5, 6, 7, 10, 11, 13, 22, 23):
            values.append((number, wt, v))
    if dtype_enum not in _BY_ENUM:
        raise wire.DecodeError(f"unsupported dtype enum {dtype_enum}")
    name = _BY_ENUM[dtype_enum]
    size = int(np.prod(shape, dtype=np.int64)) if shape else 1
    if name == "string":
        items = strings
        dt = object
    else:
        dt = np.dtype(dtypes.as_dtype(name).np)
        if content is not None:
            if len(content) != size * dt.itemsize:
                raise wire.DecodeError(
                    f"tensor_content has {len(content)} bytes, shape "
                    f"{list(shape)} of {name} needs {size * dt.itemsize}"
                )
            return np.frombuffer(content, dt.newbyteorder("<")).astype(dt).reshape(shape)
        items = _typed_values(data, values, name)
    if len(items) != size and not (len(items) == 1 and size <= _MAX_FILL) and size:
        raise wire.DecodeError(f"{len(items)} values for shape {list(shape)}")
    out = np.empty(size, dtype=dt)
    if size:
        out[:] = items if len(items) == size else items[0]
    return out.reshape(shape)


def _typed_values(buf, values, name):
    out = []
    for number, wt, v in values:
        if wt == wire.LENGTH and number in (5,):
            out += np.frombuffer(buf[v[0] : v[1]], "<f4").tolist()
        elif wt == wire.LENGTH and number == 6:
            out += np.frombuffer(buf[v[0] : v[1]], "<f8").tolist()
        elif wt == wire.LENGTH:
            out += [wire.signed64(x) for x in wire.packed_varints(buf, *v)]
        elif wt == wire.FIXED32:
            out.append(np.frombuffer(np.uint32(v).tobytes(), "<f4")[0])
        elif wt == wire.FIXED64:
            out.append(np.frombuffer(np.uint64(v).tobytes(), "<f8")[0])
        else:
            out.append(wire.signed64(v))
    if name == "float16" and out:
        out = np.asarray(out, np.uint16).view(np.float16).tolist()
    return out


@register_op("SerializeTensor", infer=lambda i, a: [((), dtypes.string)])
def _serialize_tensor(x):
    return np.asarray(tensor_proto_bytes(x), dtype=object)


@register_op("ParseTensor", infer=lambda i, a: [(None, dtypes.as_dtype(a["out_type"]))])
def _parse_tensor(serialized, out_type):
    data = as_bytes_array(serialized)
    if data.ndim:
        raise _invalid(f"ParseTensor: serialized must be a scalar, got shape {list(data.shape)}")
    try:
        arr = parse_tensor_proto(data[()])
        got = _BY_ENUM[next(v for n, w, v in wire.fields(data[()]) if n == 1)]
    except (wire.DecodeError, StopIteration, OverflowError, ValueError) as e:
        raise _invalid(f"Could not parse `serialized` as TensorProto: {e}") from None
    want = dtypes.as_dtype(out_type).name
    if got != want:
        raise _invalid(f"Type mismatch between parsed tensor ({got}) and dtype ({want})")
    return arr


not_differentiable("SerializeTensor", "ParseTensor")


def serialize_tensor(tensor, name=None):
    """The tensor as a serialized ``TensorProto`` (the bytes TF writes).
    ``tf.io.serialize_tensor(tensor, name=None)``"""
    return apply_op("SerializeTensor", tensor, name=name)


def parse_tensor(serialized, out_type, name=None):
    """The tensor a serialized ``TensorProto`` holds; its dtype must be ``out_type``.
    ``tf.io.parse_tensor(serialized, out_type, name=None)``"""
    return apply_op("ParseTensor", serialized, out_type=dtypes.as_dtype(out_type).name, name=name)


# ---------------------------------------------------------------------------------------
# Files.


def _path(v) -> str:
    return as_bytes_array(v)[()].decode()


@register_op("ReadFile", infer=lambda i, a: [((), dtypes.string)])
def _read_file(filename):
    path = _path(filename)
    try:
        with open(path, "rb") as fh:
            return np.asarray(fh.read(), dtype=object)
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}; No such file or directory") from None
    except IsADirectoryError:
        raise errors.FailedPreconditionError(None, None, f"{path}; Is a directory") from None


@register_op("WriteFile", num_outputs=0)
def _write_file(filename, contents):
    path = _path(filename)
    if os.path.dirname(path):
        os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(as_bytes_array(contents)[()])
    return ()


@register_op("MatchingFiles", infer=lambda i, a: [((None,), dtypes.string)])
def _matching_files(pattern):
    found = set()
    for p in as_bytes_array(pattern).reshape(-1):
        found.update(_glob.glob(p.decode()))
    return np.array([f.encode() for f in sorted(found)], dtype=object).reshape(-1)


not_differentiable("ReadFile", "WriteFile", "MatchingFiles")


def read_file(filename, name=None):
    """The contents of a file as a scalar string. ``tf.io.read_file(filename, name=None)``"""
    return apply_op("ReadFile", filename, name=name)


def write_file(filename, contents, name=None):
    """An op writing ``contents`` to ``filename`` (creating its directory).
    ``tf.io.write_file(filename, contents, name=None)``"""
    return apply_op("WriteFile", filename, contents, name=name)


def match_filenames_once(pattern, name=None):
    """A local variable holding the files matching ``pattern`` when it was initialized
    (run `tf.local_variables_initializer()`).
    ``tf.io.match_filenames_once(pattern, name=None)``"""
    from miniflow.graph.graph import GraphKeys
    from miniflow.ops.control_flow_ops import name_scope
    from miniflow.ops.variables import Variable

    with name_scope(name, "matching_filenames") as scope:
        return Variable(
            matching_files(pattern),
            trainable=False,
            validate_shape=False,
            collections=[GraphKeys.LOCAL_VARIABLES],
            name=scope,
        )


def matching_files(pattern, name=None):
    """The sorted file names matching a glob pattern (or any of a vector of them).
    ``tf.io.matching_files(pattern, name=None)``"""
    return apply_op("MatchingFiles", pattern, name=name)
