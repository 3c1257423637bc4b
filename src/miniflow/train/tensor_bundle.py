"""TensorFlow's V2 checkpoint format (the "tensor bundle"), read and written without
TensorFlow or protobuf.

A checkpoint ``P`` is ``P.index``, an sstable (`miniflow.core.sstable`) whose empty key
holds a ``BundleHeaderProto`` (num_shards, endianness, version) and whose other keys are
tensor names mapping to ``BundleEntryProto`` (dtype, shape, shard_id, offset, size,
masked crc32c, slices), and the shards ``P.data-0000K-of-0000N`` holding each tensor's
raw little-endian bytes. A string tensor is stored as its elements' lengths (varints),
the masked CRC-32C of those lengths (as uint32s), then the bytes; its entry's checksum
covers the uint32 lengths, the length checksum and the bytes, as TF's bundle writer does.

Reading validates everything it returns (entries, bounds, checksums, sizes) before
returning anything, so a caller can assign all values or none.
"""

from __future__ import annotations

import math
import os
import struct

import numpy as np

from miniflow import dtypes, errors
from miniflow.core import protobuf_wire as wire, sstable
from miniflow.core.tfrecord import masked_crc32c
from miniflow.graph.file_io import atomic_write

# TF's DataType enum for the dtypes a checkpoint can hold (values, not handles).
_ENUM = {k: v for k, v in wire.DATA_TYPES.items() if k not in ("resource", "variant")}
_NAME = {v: k for k, v in _ENUM.items()}
VERSION = 1  # kTensorBundleVersion


class Entry:
    """One tensor of the index (a decoded ``BundleEntryProto``)."""

    __slots__ = ("dtype", "shape", "shard_id", "offset", "size", "crc32c", "slices")

    def __init__(self, dtype, shape, shard_id=0, offset=0, size=0, crc32c=0):
        self.dtype, self.shape, self.shard_id = dtype, shape, shard_id
        self.offset, self.size, self.crc32c = offset, size, crc32c
        # A partitioned variable: [(extents [(start, length)...], Entry of that slice)].
        self.slices: list = []


def data_path(prefix: str, shard: int, num_shards: int) -> str:
    return f"{prefix}.data-{shard:05d}-of-{num_shards:05d}"


def is_bundle(prefix: str) -> bool:
    """True if ``prefix.index`` is (or, damaged, was) a TensorFlow sstable: it ends with
    the table magic, or it is not miniflow's JSON index (which starts with ``{``)."""
    try:
        with open(prefix + ".index", "rb") as fh:
            if fh.read(1) not in (b"{", b""):
                return True
            fh.seek(0, os.SEEK_END)
            if fh.tell() < sstable.FOOTER_SIZE:
                return False
            fh.seek(-8, os.SEEK_END)
            return sstable.has_magic(fh.read(8))
    except OSError:
        return False


# -- reading ------------------------------------------------------------------------------
def read_index(prefix: str) -> tuple[int, dict]:
    """``(num_shards, {name: Entry})`` of the bundle ``prefix``.

    Raises:
        NotFoundError: no ``prefix.index``.
        DataLossError: the index is corrupt (names the file).
        UnimplementedError: a big-endian bundle or an unknown dtype.
    """
    path = prefix + ".index"
    try:
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise errors.NotFoundError(None, None, f"{path}: no such file") from None
    items = sstable.read_table(data, f"Checkpoint index {path}")
    if not items or items[0][0] != b"":
        raise errors.DataLossError(None, None, f"Checkpoint index {path}: no bundle header")
    try:
        num_shards = _header(items[0][1], path)
        entries, slice_entries = {}, {}
        for key, value in items[1:]:
            entry = _entry(value, path)
            if entry.shard_id >= num_shards:
                raise wire.DecodeError(f"shard_id {entry.shard_id} >= num_shards {num_shards}")
            if key[:1] == b"\0":  # a slice's key (OrderedCode), reached from its tensor
                slice_entries[key] = entry
            else:
                entries[key.decode("utf-8", "surrogateescape")] = entry
        for name, entry in entries.items():
            for i, (extents, _) in enumerate(entry.slices):
                part = slice_entries.get(slice_key(name, extents))
                if part is None or part.dtype != entry.dtype:
                    raise wire.DecodeError(f"slice {extents} of {name} missing")
                entry.slices[i] = (extents, part)
    except wire.DecodeError as e:
        raise errors.DataLossError(
            None, None, f"Checkpoint index {path}: corrupt entry ({e})"
        ) from None
    return num_shards, entries


def _header(buf, path) -> int:
    num_shards, big_endian = 1, 0
    for number, kind, value in wire.fields(buf):
        if number == 1 and kind == wire.VARINT:
            num_shards = wire.signed64(value)
        elif number == 2 and kind == wire.VARINT:
            big_endian = value
    if not 1 <= num_shards <= 1 << 20:
        raise wire.DecodeError(f"num_shards {num_shards}")
    if big_endian:
        raise errors.UnimplementedError(
            None, None, f"Checkpoint {path} is big-endian; only little-endian bundles are read"
        )
    return num_shards


def _entry(buf, path) -> Entry:
    e = Entry(None, ())
    for number, kind, value in wire.fields(buf):
        if number == 1 and kind == wire.VARINT:
            if value not in _NAME:
                raise errors.UnimplementedError(
                    None,
                    None,
                    f"Checkpoint {path}: DataType enum {value} is not supported by miniflow",
                )
            e.dtype = _NAME[value]
        elif number == 2 and kind == wire.LENGTH:
            e.shape = _shape(buf, *value)
        elif number in (3, 4, 5) and kind == wire.VARINT:
            setattr(e, ("shard_id", "offset", "size")[number - 3], wire.signed64(value))
        elif number == 6 and kind == wire.FIXED32:
            e.crc32c = value
        elif number == 7 and kind == wire.LENGTH:
            e.slices.append((_extents(buf, *value), None))
    if e.dtype is None or min(e.shard_id, e.offset, e.size) < 0:
        raise wire.DecodeError("missing dtype or negative shard/offset/size")
    return e


def _shape(buf, start, stop) -> tuple:
    dims = []
    for number, kind, value in wire.fields(buf, start, stop):
        if number == 2 and kind == wire.LENGTH:
            size = 0
            for n, k, v in wire.fields(buf, *value):
                if n == 1 and k == wire.VARINT:
                    size = wire.signed64(v)
            if size < 0:
                raise wire.DecodeError(f"dimension {size}")
            dims.append(size)
        elif number == 3 and value:
            raise wire.DecodeError("unknown rank")
    return tuple(dims)


def _extents(buf, start, stop) -> list:
    """A ``TensorSliceProto``'s extents, ``(start, length)``; length -1: the whole axis."""
    out = []
    for number, kind, value in wire.fields(buf, start, stop):
        if number == 1 and kind == wire.LENGTH:
            begin, length = 0, -1
            for n, k, v in wire.fields(buf, *value):
                if n == 1 and k == wire.VARINT:
                    begin = wire.signed64(v)
                elif n == 2 and k == wire.VARINT:
                    length = wire.signed64(v)
            if begin < 0 or length < -1:
                raise wire.DecodeError(f"slice extent {begin}:{length}")
            out.append((begin, length))
    return out


def slice_key(name: str, extents) -> bytes:
    """The index key of one slice of tensor ``name`` (TF's ``EncodeTensorNameSlice``, an
    OrderedCode: 0, the name, the rank, then each extent's start and length)."""
    escaped = b"".join(
        b"\x00\xff" if b == 0 else b"\xff\x00" if b == 0xFF else bytes([b])
        for b in name.encode("utf-8", "surrogateescape")
    )
    return (
        b"\0"
        + escaped
        + b"\x00\x01"
        + _num_increasing(len(extents))
        + b"".join(_signed_increasing(v) for ext in extents for v in ext)
    )


def _num_increasing(v: int) -> bytes:
    raw = v.to_bytes((v.bit_length() + 7) // 8, "big")
    return bytes([len(raw)]) + raw


def _signed_increasing(v: int) -> bytes:
    """OrderedCode's WriteSignedNumIncreasing: n bytes whose first bits are n-1 ones
    after the sign (as many as fit: the header spills into a second byte past 8)."""
    x = ~v if v < 0 else v
    n = 1
    while x.bit_length() > 7 * n - 1:
        n += 1
    raw = bytearray((v & ((1 << (8 * n)) - 1)).to_bytes(n, "big"))
    header = ((1 << 16) - (1 << (16 - n))) & 0xFFFF  # n leading one bits, 16-bit
    raw[0] ^= header >> 8
    if n > 1:
        raw[1] ^= header & 0xFF
    return bytes(raw)


def read_tensors(prefix: str, num_shards: int, entries: dict, names) -> dict:
    """Name -> ndarray for ``names`` (all in ``entries``), every checksum verified first.

    Raises:
        DataLossError: a shard is missing or truncated, a checksum or size mismatches.
        UnimplementedError: a tensor is saved in slices (a partitioned variable).
    """
    out, handles = {}, {}
    try:
        for name in names:
            e = entries[name]
            if e.slices:
                out[name] = _read_sliced(prefix, num_shards, name, e, handles)
            else:
                out[name] = _read_one(
                    prefix, data_path(prefix, e.shard_id, num_shards), name, e, handles
                )
    finally:
        for fh in handles.values():
            fh.close()
    return out


def _read_sliced(prefix, num_shards, name, e: Entry, handles):
    """Assembles a partitioned variable's slices, which must tile its shape exactly."""
    # Slices reading the same bytes would let a small file fill a huge tensor.
    regions = sorted((part.shard_id, part.offset, part.size) for _, part in e.slices)
    for (shard, start, size), (next_shard, next_start, _) in zip(regions, regions[1:]):
        if shard == next_shard and start + size > next_start:
            raise errors.DataLossError(
                None,
                None,
                f"Checkpoint {prefix}: slices of {name} share bytes of data file {shard}",
            )
    parts, count = [], 0
    for extents, part in e.slices:
        if len(extents) != len(e.shape) or any(
            n != -1 and b + n > d for (b, n), d in zip(extents, e.shape)
        ):
            raise errors.DataLossError(
                None,
                None,
                f"Checkpoint {prefix}: slice {extents} does not fit {name}{list(e.shape)}",
            )
        index = tuple(slice(b, d if n == -1 else b + n) for (b, n), d in zip(extents, e.shape))
        if tuple(len(range(d)[i]) for i, d in zip(index, e.shape)) != part.shape:
            raise errors.DataLossError(
                None,
                None,
                f"Checkpoint {prefix}: slice {extents} of {name} has shape {list(part.shape)}",
            )
        value = _read_one(prefix, data_path(prefix, part.shard_id, num_shards), name, part, handles)
        parts.append((index, value))
        count += value.size
    # Every slice was read from its own bytes, so the whole is at most the files' size.
    if count != math.prod(e.shape):
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint {prefix}: the slices of {name} do not tile its shape {list(e.shape)}",
        )
    out = np.empty(e.shape, dtype=dtypes.as_dtype(e.dtype).np)
    seen = np.zeros(e.shape, dtype=bool)
    for index, value in parts:
        if seen[index].any():
            raise errors.DataLossError(None, None, f"Checkpoint {prefix}: slices of {name} overlap")
        seen[index] = True
        out[index] = value
    return out


def _read_one(prefix, path, name, e: Entry, handles):
    fh = handles.get(path)
    if fh is None:
        try:
            fh = handles[path] = open(path, "rb")  # noqa: SIM115 (closed by read_tensors)
        except OSError:
            raise errors.DataLossError(
                None, None, f"Checkpoint {prefix}: data file {path} for tensor {name} is missing."
            ) from None
    fh.seek(0, os.SEEK_END)
    length = fh.tell()
    if e.offset + e.size > length:
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint {prefix}: tensor {name} needs "
            f"bytes {e.offset}..{e.offset + e.size} of {path}, which "
            f"has {length} (truncated file?)",
        )
    count = math.prod(e.shape)
    dt = dtypes.as_dtype(e.dtype)
    if dt is not dtypes.string and e.size != count * dt.np.itemsize:
        raise errors.DataLossError(
            None,
            None,
            f"Checkpoint {prefix}: tensor {name} has "
            f"{e.size} bytes in {path} but {e.dtype}{list(e.shape)} "
            f"needs {count * dt.np.itemsize}",
        )
    fh.seek(e.offset)
    raw = fh.read(e.size)
    if dt is dtypes.string:
        value, checked = _decode_strings(raw, count, name, path)
    else:
        value, checked = np.frombuffer(raw, dt.np.newbyteorder("<")).astype(dt.np), raw
    if masked_crc32c(checked) != e.crc32c:
        raise errors.DataLossError(
            None, None, f"Checkpoint {prefix}: checksum mismatch for tensor {name} in {path}"
        )
    return value.reshape(e.shape)


def _decode_strings(raw, count, name, path):
    lengths, pos = [], 0
    try:
        for _ in range(count):
            n, pos = wire.read_varint(raw, pos, len(raw))
            lengths.append(n)
    except wire.DecodeError:
        raise errors.DataLossError(
            None, None, f"{path}: string tensor {name} has corrupt lengths"
        ) from None
    if pos + 4 + sum(lengths) != len(raw) or max(lengths, default=0) >= 1 << 32:
        raise errors.DataLossError(
            None,
            None,
            f"{path}: string tensor {name}: lengths do not add up to its {len(raw)} bytes",
        )
    packed = struct.pack(f"<{count}I", *lengths)
    stored = raw[pos : pos + 4]
    if masked_crc32c(packed) != struct.unpack("<I", stored)[0]:
        raise errors.DataLossError(
            None, None, f"{path}: string tensor {name}: length checksum mismatch"
        )
    out, start = np.empty(count, dtype=object), pos + 4
    for i, n in enumerate(lengths):
        out[i] = raw[start : start + n]
        start += n
    return out, packed + stored + raw[pos + 4 :]


def load(prefix: str, names=None) -> dict:
    """Name -> ndarray for ``names`` (default: all) of bundle ``prefix``.

    Raises:
        NotFoundError: a name is not in the checkpoint.
        DataLossError / UnimplementedError: see `read_index` and `read_tensors`.
    """
    num_shards, entries = read_index(prefix)
    wanted = list(entries) if names is None else list(names)
    for name in wanted:
        if name not in entries:
            raise errors.NotFoundError(None, None, f"Key {name} not found in checkpoint {prefix}")
    return read_tensors(prefix, num_shards, entries, wanted)


# -- writing ------------------------------------------------------------------------------
def write(prefix: str, tensors: dict) -> None:
    """Writes ``tensors`` (name -> ndarray) as a one-shard bundle TensorFlow can restore;
    the data file first, the index last (the commit point), each by atomic rename."""
    chunks, entries, offset = [], [], 0
    for name in sorted(tensors):
        value = np.asarray(tensors[name])
        dt = dtypes.as_dtype(value.dtype) if value.dtype != object else dtypes.string
        if dt.name not in _ENUM:
            raise TypeError(f"Cannot save {name}: dtype {dt.name} has no checkpoint encoding")
        if dt is dtypes.string:
            raw, checked = _encode_strings(value, name)
        else:
            raw = np.ascontiguousarray(value, dt.np.newbyteorder("<")).tobytes()
            checked = raw
        shape = b"".join(
            wire.length_field(2, wire.varint_field(1, d) if d else b"") for d in value.shape
        )
        entry = (
            wire.varint_field(1, _ENUM[dt.name])
            + wire.length_field(2, shape)
            + (wire.varint_field(4, offset) if offset else b"")
            + (wire.varint_field(5, len(raw)) if raw else b"")
            + wire.tag(6, wire.FIXED32)
            + struct.pack("<I", masked_crc32c(checked))
        )
        entries.append((name.encode("utf-8"), entry))
        chunks.append(raw)
        offset += len(raw)
    header = wire.varint_field(1, 1) + wire.length_field(3, wire.varint_field(1, VERSION))
    index = sstable.build_table([(b"", header)] + sorted(entries))
    directory = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    atomic_write(data_path(prefix, 0, 1), lambda fh: [fh.write(c) for c in chunks])
    atomic_write(prefix + ".index", lambda fh: fh.write(index))


def _encode_strings(value, name):
    items = []
    for s in value.ravel():
        if isinstance(s, str):
            s = s.encode("utf-8")
        if not isinstance(s, bytes | np.bytes_):
            raise TypeError(
                f"Cannot save string tensor {name}: element {s!r:.40} is not bytes or str"
            )
        items.append(bytes(s))
    packed = struct.pack(f"<{len(items)}I", *map(len, items))
    stored = struct.pack("<I", masked_crc32c(packed))
    body = b"".join(items)
    return (b"".join(wire.varint(len(s)) for s in items) + stored + body, packed + stored + body)
