"""Scalars from TensorBoard event files, read without TensorFlow or protobuf.

An event file is a TFRecord file (u64 length, u32 length CRC, payload, u32 payload CRC)
of ``Event`` protobufs. Only what scalars need is decoded: ``Event.wall_time`` (1),
``step`` (2) and ``summary`` (5); ``Summary.Value.tag`` (1), ``simple_value`` (2, TF1
style) and a one-element numeric ``tensor`` (8, TF2 style: ``float_val`` 5,
``double_val`` 6, ``int_val`` 7, ``int64_val`` 10 or 4/8 bytes of ``tensor_content`` 4).
The CRCs are not checked (the platform has no CRC32C); a truncated last record, as a
still-running writer leaves, ends the file.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterator
from pathlib import Path

DT_FLOAT, DT_DOUBLE, DT_INT32, DT_INT64 = 1, 2, 3, 9


class WireError(ValueError):
    """The bytes are not the protobuf this reader expects."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise WireError("truncated or overlong varint")
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of each field; lengths are checked."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, wire, value
        elif wire == 1:
            if pos + 8 > len(buf):
                raise WireError("truncated fixed64")
            yield number, wire, buf[pos : pos + 8]
            pos += 8
        elif wire == 2:
            size, pos = _varint(buf, pos)
            if pos + size > len(buf):
                raise WireError("truncated length-delimited field")
            yield number, wire, buf[pos : pos + size]
            pos += size
        elif wire == 5:
            if pos + 4 > len(buf):
                raise WireError("truncated fixed32")
            yield number, wire, buf[pos : pos + 4]
            pos += 4
        else:
            raise WireError(f"unsupported wire type {wire}")


def records(data: bytes) -> Iterator[bytes]:
    pos = 0
    while pos + 12 <= len(data):
        (length,) = struct.unpack_from("<Q", data, pos)
        start = pos + 12
        if start + length + 4 > len(data):
            return  # a record still being written
        yield data[start : start + length]
        pos = start + length + 4


def _tensor_scalar(buf: bytes) -> float | None:
    dtype = 0
    values: list[float] = []
    content = b""
    for number, wire, value in fields(buf):
        if number == 1 and wire == 0:
            dtype = int(value)  # type: ignore[arg-type]
        elif number == 4 and wire == 2:
            content = value  # type: ignore[assignment]
        elif number in (5, 6, 7, 10):
            values += _numbers(number, wire, value)
    if not values and content:
        fmt = {DT_FLOAT: "<f", DT_DOUBLE: "<d", DT_INT32: "<i", DT_INT64: "<q"}.get(dtype)
        if fmt and len(content) == struct.calcsize(fmt):
            values = [float(struct.unpack(fmt, content)[0])]
    return values[0] if len(values) == 1 else None


def _numbers(number: int, wire: int, value: int | bytes) -> list[float]:
    if number == 5:  # float_val: packed (wire 2) or one fixed32
        raw = value if isinstance(value, bytes) else b""
        return [float(x) for (x,) in struct.iter_unpack("<f", raw[: len(raw) // 4 * 4])]
    if number == 6:
        raw = value if isinstance(value, bytes) else b""
        return [float(x) for (x,) in struct.iter_unpack("<d", raw[: len(raw) // 8 * 8])]
    if wire == 0:  # int_val / int64_val, one varint
        return [float(_signed(int(value)))]  # type: ignore[arg-type]
    out, pos, raw = [], 0, value if isinstance(value, bytes) else b""
    while pos < len(raw):
        v, pos = _varint(raw, pos)
        out.append(float(_signed(v)))
    return out


def _signed(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _summary_values(buf: bytes) -> Iterator[tuple[str, float]]:
    for number, wire, value in fields(buf):
        if number != 1 or wire != 2:
            continue
        tag, scalar = "", None
        for n, w, v in fields(value):  # type: ignore[arg-type]
            if n == 1 and w == 2:
                tag = v.decode("utf-8", "replace")  # type: ignore[union-attr]
            elif n == 2 and w == 5:
                scalar = struct.unpack("<f", v)[0]  # type: ignore[arg-type]
            elif n == 8 and w == 2:
                scalar = _tensor_scalar(v)  # type: ignore[arg-type]
        if tag and scalar is not None:
            yield tag, float(scalar)


def read_scalars(path: Path, max_bytes: int) -> Iterator[tuple[str, int, float, float]]:
    """(tag, step, value, wall_time) of each scalar in the event file at ``path``.

    Non-finite values are skipped (the tracking store keeps finite numbers only).
    Raises ``WireError`` on a record that is not an Event.
    """
    with path.open("rb") as f:
        data = f.read(max_bytes)
    for record in records(data):
        wall_time, step, summary = 0.0, 0, None
        for number, wire, value in fields(record):
            if number == 1 and wire == 1:
                wall_time = struct.unpack("<d", value)[0]  # type: ignore[arg-type]
            elif number == 2 and wire == 0:
                step = _signed(int(value))  # type: ignore[arg-type]
            elif number == 5 and wire == 2:
                summary = value
        if summary is None:
            continue
        for tag, scalar in _summary_values(summary):  # type: ignore[arg-type]
            if math.isfinite(scalar):
                yield tag, max(step, 0), scalar, wall_time
