"""TF's fast `Example` parser (``example_proto_fast_parsing.cc``), reproduced so that
`tf.io.parse_example` accepts and rejects exactly the bytes TensorFlow does.

It is stricter than a generic protobuf parser in some places (a feature-map entry holds
exactly a key and a value; a value list holds only field 1) and more lenient in others
(a submessage whose length runs past its enclosing message is read up to that end, as
protobuf's ``CodedInputStream.PushLimit`` does). Only the features a caller asks for are
decoded. Every read is bounded by the buffer; failures raise `DecodeError`.
"""

from __future__ import annotations

import struct

from miniflow.core.protobuf_wire import DecodeError

_KIND_TAGS = {0x0A: "bytes_list", 0x12: "float_list", 0x1A: "int64_list"}


class _Stream:
    """The parts of protobuf's ``CodedInputStream`` the fast parser uses."""

    def __init__(self, buf: bytes):
        self.buf, self.pos, self.limit = buf, 0, len(buf)

    def at_end(self) -> bool:
        return self.pos >= self.limit

    def varint(self, bits: int = 64) -> int:
        result = shift = 0
        for _ in range(10):
            if self.pos >= self.limit:
                raise DecodeError("truncated varint")
            b = self.buf[self.pos]
            self.pos += 1
            result |= (b & 0x7F) << shift
            if not b & 0x80:
                return result & ((1 << bits) - 1)
            shift += 7
        raise DecodeError("varint longer than 10 bytes")

    def tag(self) -> int:
        return 0 if self.at_end() else self.varint(32)

    def peek_byte(self) -> int:
        return -1 if self.at_end() else self.buf[self.pos]

    def push_limit(self, n: int) -> int:
        old = self.limit
        self.limit = min(old, self.pos + n)
        return old

    def pop_limit(self, old: int) -> None:
        self.limit = old

    def raw(self, n: int) -> bytes:
        if n > self.limit - self.pos:
            raise DecodeError(f"length {n} exceeds the {self.limit - self.pos} bytes left")
        self.pos += n
        return self.buf[self.pos - n : self.pos]

    def skip_field(self, tag: int) -> None:
        wire = tag & 7
        if wire == 0:
            self.varint(32)
        elif wire == 1:
            self.raw(8)
        elif wire == 2:
            n = self.varint(32)
            self.pos = min(self.pos + n, self.limit)  # TF ignores a short skip
        elif wire == 5:
            self.raw(4)
        else:
            raise DecodeError(f"unsupported wire type {wire}")


def example_features(data: bytes) -> dict[bytes, bytes]:
    """The serialized `Feature` of each feature name of a serialized `Example` (the first
    occurrence of a repeated name wins, as in TF)."""
    s = _Stream(data)
    out: dict[bytes, bytes] = {}
    while not s.at_end():
        tag = s.tag()
        if tag != 0x0A:
            s.skip_field(tag)
            continue
        outer = s.push_limit(s.varint(32))
        while not s.at_end():
            if s.tag() != 0x0A:
                raise DecodeError("a Features message holds only feature-map entries")
            key, value = _map_entry(s)
            out.setdefault(key, value)
        s.pop_limit(outer)
    return out


def _map_entry(s: _Stream) -> tuple[bytes, bytes]:
    entry = s.push_limit(s.varint(32))
    key = value = b""
    for _ in range(2):  # exactly a key and a value, in either order
        tag = s.tag()
        if tag == 0x0A:
            key = s.raw(s.varint(32))
        elif tag == 0x12:
            value = s.raw(s.varint(32))
        else:
            raise DecodeError("a feature-map entry holds exactly a key and a value")
    if not s.at_end():
        raise DecodeError("extra fields in a feature-map entry")
    s.pop_limit(entry)
    return key, value


def feature_kind(feature: bytes) -> str | None:
    """``bytes_list``, ``float_list``, ``int64_list``, or None for an empty `Feature`."""
    if not feature:
        return None
    try:
        return _KIND_TAGS[feature[0]]
    except KeyError:
        raise DecodeError("Unsupported datatype.") from None


def feature_values(feature: bytes) -> list:
    """The values of a non-empty serialized `Feature` (its first value list)."""
    kind = feature_kind(feature)
    s = _Stream(feature[1:])
    outer = s.push_limit(s.varint(32))
    values: list = []
    while not s.at_end():
        tag = s.peek_byte()
        if kind == "bytes_list":
            if s.tag() != 0x0A:
                raise DecodeError("a BytesList holds only field 1")
            values.append(s.raw(s.varint(32)))
        elif tag == 0x0A and kind == "float_list":  # packed floats: one raw read
            s.tag()
            raw = s.raw(s.varint(32))
            values += struct.unpack(f"<{len(raw) // 4}f", raw[: len(raw) // 4 * 4])
        elif tag == 0x0A:  # packed varints: read up to the (possibly clipped) end
            s.tag()
            inner = s.push_limit(s.varint(32))
            while not s.at_end():
                values.append(_scalar(s, kind))
            s.pop_limit(inner)
        elif tag == (0x0D if kind == "float_list" else 0x08):
            s.tag()
            values.append(_scalar(s, kind))
        else:
            raise DecodeError(f"a {kind} holds only field 1")
    s.pop_limit(outer)
    return values


def _scalar(s: _Stream, kind: str):
    if kind == "float_list":
        return struct.unpack("<f", s.raw(4))[0]
    v = s.varint()
    return v - (1 << 64) if v >= 1 << 63 else v
