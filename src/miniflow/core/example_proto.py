"""`tf.train.Example`, `tf.train.SequenceExample` and their parts (`Features`,
`Feature`, `BytesList`, `FloatList`, `Int64List`, `FeatureList`, `FeatureLists`) as small
Python classes that read and write the protocol-buffer wire format of
`tensorflow/core/example/example.proto` (through `core.protobuf_wire`, no `protobuf`).

Serialized bytes parse in TensorFlow and back. Map entries are written in sorted key order
(protobuf leaves map order unspecified; TF's own writer may order them differently, so
the bytes can differ from TF's while meaning the same Example).
"""

from __future__ import annotations

import struct

import numpy as np

from miniflow.core import protobuf_wire as wire


class _Message:
    """Shared protobuf-like behaviour: equality, ``FromString``, ``ParseFromString``."""

    _fields: tuple = ()

    def __eq__(self, other):
        return type(self) is type(other) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields
        )

    def __repr__(self):
        body = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{type(self).__name__}({body})"

    @classmethod
    def FromString(cls, data: bytes):  # noqa: N802 (protobuf's name)
        """Parses serialized bytes. Raises `protobuf_wire.DecodeError` (a ValueError)."""
        msg = cls()
        msg.ParseFromString(data)
        return msg

    def ParseFromString(self, data: bytes) -> None:  # noqa: N802
        data = bytes(data)
        self.__init__()
        self._parse(data, 0, len(data))

    def SerializeToString(self, deterministic=None) -> bytes:  # noqa: N802
        return self._serialize()

    def ByteSize(self) -> int:  # noqa: N802
        return len(self._serialize())


class BytesList(_Message):
    _fields = ("value",)

    def __init__(self, value=()):
        self.value = [v.encode() if isinstance(v, str) else bytes(v) for v in value]

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number == 1 and wt == wire.LENGTH:
                self.value.append(buf[v[0] : v[1]])

    def _serialize(self):
        return b"".join(wire.length_field(1, v) for v in self.value)


class FloatList(_Message):
    _fields = ("value",)

    def __init__(self, value=()):
        self.value = [float(np.float32(v)) for v in value]

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number != 1:
                continue
            if wt == wire.LENGTH:
                if (v[1] - v[0]) % 4:
                    raise wire.DecodeError("packed float list length is not a multiple of 4")
                self.value += np.frombuffer(buf[v[0] : v[1]], "<f4").tolist()
            elif wt == wire.FIXED32:
                self.value.append(struct.unpack("<f", struct.pack("<I", v))[0])

    def _serialize(self):
        if not self.value:
            return b""
        return wire.length_field(1, np.asarray(self.value, "<f4").tobytes())


class Int64List(_Message):
    _fields = ("value",)

    def __init__(self, value=()):
        self.value = [int(v) for v in value]

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number != 1:
                continue
            if wt == wire.LENGTH:
                self.value += [wire.signed64(x) for x in wire.packed_varints(buf, *v)]
            elif wt == wire.VARINT:
                self.value.append(wire.signed64(v))

    def _serialize(self):
        if not self.value:
            return b""
        return wire.length_field(1, b"".join(wire.varint(v) for v in self.value))


_KINDS = (("bytes_list", 1, BytesList), ("float_list", 2, FloatList), ("int64_list", 3, Int64List))


class Feature(_Message):
    """One of ``bytes_list``, ``float_list``, ``int64_list`` (or none)."""

    _fields = ("kind", "value_list")

    def __init__(self, bytes_list=None, float_list=None, int64_list=None):
        given = [
            (k, v)
            for k, v in (
                ("bytes_list", bytes_list),
                ("float_list", float_list),
                ("int64_list", int64_list),
            )
            if v is not None
        ]
        if len(given) > 1:
            raise ValueError("A Feature holds one of bytes_list, float_list, int64_list")
        self.kind, self.value_list = given[0] if given else (None, None)

    def WhichOneof(self, group):  # noqa: N802
        return self.kind

    def HasField(self, name):  # noqa: N802
        return self.kind == name

    def __getattr__(self, name):
        for kind, _, cls in _KINDS:
            if name == kind:
                return self.value_list if self.kind == kind else cls()
        raise AttributeError(name)

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            for kind, num, cls in _KINDS:
                if number == num and wt == wire.LENGTH:
                    lst = cls()
                    lst._parse(buf, *v)
                    self.kind, self.value_list = kind, lst

    def _serialize(self):
        for kind, num, _ in _KINDS:
            if self.kind == kind:
                return wire.length_field(num, self.value_list._serialize())
        return b""


class Features(_Message):
    """``feature``: a dict from name to `Feature`."""

    _fields = ("feature",)

    def __init__(self, feature=None):
        self.feature = dict(feature or {})

    def _parse(self, buf, start, stop):
        _parse_map(buf, start, stop, self.feature, Feature)

    def _serialize(self):
        return _serialize_map(self.feature)


def _parse_map(buf, start, stop, out: dict, value_cls) -> None:
    """Reads the entries of a ``map<string, value_cls>`` field 1 into ``out``."""
    for number, wt, v in wire.fields(buf, start, stop):
        if number != 1 or wt != wire.LENGTH:
            continue
        key, value = b"", value_cls()
        for n2, w2, v2 in wire.fields(buf, *v):
            if n2 == 1 and w2 == wire.LENGTH:
                key = buf[v2[0] : v2[1]]
            elif n2 == 2 and w2 == wire.LENGTH:
                value = value_cls()
                value._parse(buf, *v2)
        try:
            out[key.decode()] = value
        except UnicodeDecodeError:
            raise wire.DecodeError("a map key is not valid UTF-8") from None


def _serialize_map(entries: dict) -> bytes:
    out = []
    for key in sorted(entries):
        entry = wire.length_field(1, key.encode()) + wire.length_field(2, entries[key]._serialize())
        out.append(wire.length_field(1, entry))
    return b"".join(out)


class Example(_Message):
    """``features``: a `Features`."""

    _fields = ("features",)

    def __init__(self, features=None):
        self.features = features if features is not None else Features()

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number == 1 and wt == wire.LENGTH:
                self.features._parse(buf, *v)  # repeated occurrences merge, as in protobuf

    def _serialize(self):
        return wire.length_field(1, self.features._serialize())


class FeatureList(_Message):
    """``feature``: a list of `Feature` (one per time step)."""

    _fields = ("feature",)

    def __init__(self, feature=()):
        self.feature = list(feature)

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number == 1 and wt == wire.LENGTH:
                f = Feature()
                f._parse(buf, *v)
                self.feature.append(f)

    def _serialize(self):
        return b"".join(wire.length_field(1, f._serialize()) for f in self.feature)


class FeatureLists(_Message):
    """``feature_list``: a dict from name to `FeatureList`."""

    _fields = ("feature_list",)

    def __init__(self, feature_list=None):
        self.feature_list = dict(feature_list or {})

    def _parse(self, buf, start, stop):
        _parse_map(buf, start, stop, self.feature_list, FeatureList)

    def _serialize(self):
        return _serialize_map(self.feature_list)


class SequenceExample(_Message):
    """``context`` (`Features`) and ``feature_lists`` (`FeatureLists`)."""

    _fields = ("context", "feature_lists")

    def __init__(self, context=None, feature_lists=None):
        self.context = context if context is not None else Features()
        self.feature_lists = feature_lists if feature_lists is not None else FeatureLists()

    def _parse(self, buf, start, stop):
        for number, wt, v in wire.fields(buf, start, stop):
            if number == 1 and wt == wire.LENGTH:
                self.context._parse(buf, *v)
            elif number == 2 and wt == wire.LENGTH:
                self.feature_lists._parse(buf, *v)

    def _serialize(self):
        out = wire.length_field(1, self.context._serialize()) if self.context.feature else b""
        if self.feature_lists.feature_list:
            out += wire.length_field(2, self.feature_lists._serialize())
        return out


_JSON_LISTS = {
    "bytesList": "bytes_list",
    "bytes_list": "bytes_list",
    "floatList": "float_list",
    "float_list": "float_list",
    "int64List": "int64_list",
    "int64_list": "int64_list",
}


def example_json_to_bytes(text) -> bytes:
    """The binary `Example` that protobuf's JSON mapping ``text`` describes, written the
    way TF's ``decode_json_example`` writes it (entries in JSON order, repeated values
    unpacked). Raises ValueError on malformed JSON or fields an Example does not have."""
    import base64
    import binascii
    import json

    obj = json.loads(text)
    if not isinstance(obj, dict) or set(obj) - {"features"}:
        raise ValueError("an Example's JSON is an object with at most a 'features' field")
    features = obj.get("features", {})
    if not isinstance(features, dict) or set(features) - {"feature"}:
        raise ValueError("'features' must be an object with at most a 'feature' field")
    entries = []
    for key, feature in (features.get("feature") or {}).items():
        if not isinstance(feature, dict) or len(feature) > 1 or set(feature) - set(_JSON_LISTS):
            raise ValueError(f"feature {key!r} must hold one of bytesList, floatList, int64List")
        body = b""
        for kind, value_list in feature.items():
            if (
                not isinstance(value_list, dict)
                or set(value_list) - {"value"}
                or not isinstance(value_list.get("value", []), list)
            ):
                raise ValueError(f"feature {key!r}: a value list is {{'value': [...]}}")
            values = value_list.get("value", [])
            kind = _JSON_LISTS[kind]
            try:
                if kind == "int64_list":
                    payload = b"".join(wire.varint_field(1, int(v)) for v in values)
                elif kind == "float_list":
                    payload = b"".join(
                        wire.tag(1, wire.FIXED32) + struct.pack("<f", float(v)) for v in values
                    )
                else:
                    payload = b"".join(
                        wire.length_field(
                            1,
                            base64.b64decode(
                                v.replace("-", "+").replace("_", "/") + "=" * (-len(v) % 4),
                                validate=True,
                            ),
                        )
                        for v in values
                    )
            except (TypeError, ValueError, AttributeError, binascii.Error, OverflowError) as e:
                raise ValueError(f"feature {key!r}: bad {kind} value: {e}") from None
            body = wire.length_field(
                {"bytes_list": 1, "float_list": 2, "int64_list": 3}[kind], payload
            )
        entries.append(
            wire.length_field(1, wire.length_field(1, key.encode()) + wire.length_field(2, body))
        )
    return wire.length_field(1, b"".join(entries)) if "features" in obj else b""
