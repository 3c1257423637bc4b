"""A minimal, bounded protocol-buffer wire-format reader and writer (no `protobuf`
dependency): enough for `tf.train.Example` and `TensorProto`.

The reader never reads past its buffer: every length is checked against the bytes that
remain, varints are at most 10 bytes, so malformed input raises `DecodeError` (a
ValueError) promptly and never allocates more than the input's size.
"""

from __future__ import annotations

import struct

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5

# TensorFlow's ``DataType`` enum (types.proto) by miniflow dtype name: the ``dtype`` of a
# ``TensorProto``, ``TensorInfo`` or checkpoint entry (a ``*_REF`` type adds 100).
DATA_TYPES = {
    "float32": 1,
    "float64": 2,
    "int32": 3,
    "uint8": 4,
    "int16": 5,
    "int8": 6,
    "string": 7,
    "complex64": 8,
    "int64": 9,
    "bool": 10,
    "qint8": 11,
    "quint8": 12,
    "qint32": 13,
    "qint16": 15,
    "quint16": 16,
    "uint16": 17,
    "complex128": 18,
    "float16": 19,
    "resource": 20,
    "variant": 21,
    "uint32": 22,
    "uint64": 23,
}


class DecodeError(ValueError):
    """The bytes are not a valid message of the expected type."""


def read_varint(buf: bytes, pos: int, end: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= end:
            raise DecodeError("truncated varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result & ((1 << 64) - 1), pos
        shift += 7
        if shift >= 70:
            raise DecodeError("varint longer than 10 bytes")


def fields(buf: bytes, pos: int = 0, end: int | None = None):
    """Yields ``(field_number, wire_type, value)``: an int for varints and fixed fields
    (raw unsigned), a ``(start, stop)`` slice of ``buf`` for length-delimited ones."""
    end = len(buf) if end is None else end
    while pos < end:
        key, pos = read_varint(buf, pos, end)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise DecodeError("field number 0")
        if wire == VARINT:
            value, pos = read_varint(buf, pos, end)
        elif wire == FIXED64:
            if pos + 8 > end:
                raise DecodeError("truncated fixed64")
            value, pos = struct.unpack_from("<Q", buf, pos)[0], pos + 8
        elif wire == FIXED32:
            if pos + 4 > end:
                raise DecodeError("truncated fixed32")
            value, pos = struct.unpack_from("<I", buf, pos)[0], pos + 4
        elif wire == LENGTH:
            n, pos = read_varint(buf, pos, end)
            if n > end - pos:
                raise DecodeError(f"length {n} exceeds the {end - pos} bytes left")
            value, pos = (pos, pos + n), pos + n
        else:
            raise DecodeError(f"unsupported wire type {wire}")
        yield number, wire, value


def signed64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def packed_varints(buf: bytes, start: int, stop: int) -> list[int]:
    out = []
    while start < stop:
        v, start = read_varint(buf, start, stop)
        out.append(v)
    return out


# ---------------------------------------------------------------------------------------
# Writing.


def varint(v: int) -> bytes:
    v &= (1 << 64) - 1
    out = bytearray()
    while v > 0x7F:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def tag(number: int, wire: int) -> bytes:
    return varint((number << 3) | wire)


def length_field(number: int, payload: bytes) -> bytes:
    return tag(number, LENGTH) + varint(len(payload)) + payload


def varint_field(number: int, v: int) -> bytes:
    return tag(number, VARINT) + varint(v)
