"""LevelDB's table format (TensorFlow's ``lib/io/table``), which holds a checkpoint's
``.index``: sorted key/value pairs in blocks.

    data block*  metaindex block  index block  footer (48 bytes)

A block is its entries (``varint shared | varint non_shared | varint value_len | key
suffix | value``, keys prefix-compressed against the previous key and restarting in full
every `RESTART_INTERVAL` entries), the restart offsets (uint32 each) and their count
(uint32), followed by a 5-byte trailer: the compression type (0: none) and the masked
CRC-32C of the block and that byte. The index block maps a key >= each data block's last
key to the block's handle (``varint offset | varint size``); the footer holds the
metaindex and index handles, zero padding to 40 bytes and the magic number.

Reading checks every length, offset and checksum against the bytes present and raises
`DataLossError` naming the file, so a corrupt table never reads out of bounds or
allocates more than its own size.
"""

from __future__ import annotations

import struct

from miniflow import errors
from miniflow.core.protobuf_wire import DecodeError, read_varint, varint
from miniflow.core.tfrecord import masked_crc32c

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
BLOCK_SIZE = 256 * 1024  # TF's table::Options default
RESTART_INTERVAL = 16


def _loss(what, message):
    return errors.DataLossError(None, None, f"{what}: {message}")


def has_magic(tail: bytes) -> bool:
    """True if ``tail`` (a file's last 8 bytes or more) ends with the table magic."""
    return len(tail) >= 8 and struct.unpack("<Q", tail[-8:])[0] == MAGIC


# -- reading ------------------------------------------------------------------------------
def read_table(data: bytes, what: str) -> list[tuple[bytes, bytes]]:
    """Every ``(key, value)`` of the table ``data``, in key order.

    Raises:
        DataLossError: bad magic, truncation, a checksum mismatch, unsorted keys or any
            length that points past its block (``what`` names the file in the message).
    """
    if len(data) < FOOTER_SIZE:
        raise _loss(what, f"file too short ({len(data)} bytes) to be an sstable")
    footer = len(data) - FOOTER_SIZE
    if not has_magic(data):
        raise _loss(what, "not an sstable (bad magic number)")
    try:
        meta_handle, pos = _handle(data, footer, footer + 40)
        index_handle, _ = _handle(data, pos, footer + 40)
    except DecodeError as e:
        raise _loss(what, f"corrupt footer ({e})") from None
    _entries(_block(data, meta_handle, footer, what), what)  # checked; holds no filters
    out: list[tuple[bytes, bytes]] = []
    for _, value in _entries(_block(data, index_handle, footer, what), what):
        try:
            handle, end = _handle(value, 0, len(value))
        except DecodeError as e:
            raise _loss(what, f"corrupt index entry ({e})") from None
        if end != len(value):
            raise _loss(what, "corrupt index entry (trailing bytes)")
        out.extend(_entries(_block(data, handle, footer, what), what))
    for (a, _), (b, _) in zip(out, out[1:]):
        if a >= b:
            raise _loss(what, f"keys out of order ({a!r:.40} before {b!r:.40})")
    return out


def _handle(buf, pos, end):
    offset, pos = read_varint(buf, pos, end)
    size, pos = read_varint(buf, pos, end)
    return (offset, size), pos


def _block(data, handle, limit, what) -> bytes:
    offset, size = handle
    if offset + size + BLOCK_TRAILER_SIZE > limit:
        raise _loss(
            what,
            f"block at {offset} of {size} bytes runs past the end of the table (truncated file?)",
        )
    contents = data[offset : offset + size + 1]
    (stored,) = struct.unpack_from("<I", data, offset + size + 1)
    if masked_crc32c(contents) != stored:
        raise _loss(what, f"block checksum mismatch at offset {offset}")
    if contents[-1] != 0:
        raise _loss(
            what,
            f"block at {offset} uses compression type {contents[-1]}; only "
            "uncompressed tables (what TensorFlow writes for checkpoints) are read",
        )
    return contents[:-1]


def _entries(block: bytes, what: str) -> list[tuple[bytes, bytes]]:
    if len(block) < 4:
        raise _loss(what, "block too short")
    (restarts,) = struct.unpack_from("<I", block, len(block) - 4)
    end = len(block) - 4 - 4 * restarts
    if restarts < 1 or end < 0:
        raise _loss(what, f"bad restart count {restarts} in block")
    out, key, pos = [], b"", 0
    try:
        while pos < end:
            shared, pos = read_varint(block, pos, end)
            non_shared, pos = read_varint(block, pos, end)
            value_len, pos = read_varint(block, pos, end)
            if shared > len(key) or non_shared + value_len > end - pos:
                raise DecodeError("entry lengths run past the block")
            key = key[:shared] + block[pos : pos + non_shared]
            pos += non_shared
            out.append((key, block[pos : pos + value_len]))
            pos += value_len
    except DecodeError as e:
        raise _loss(what, f"corrupt block entry ({e})") from None
    return out


# -- writing ------------------------------------------------------------------------------
def build_table(items, block_size: int = BLOCK_SIZE) -> bytes:
    """The table holding ``items`` (``(key, value)`` byte pairs, keys strictly increasing).

    Raises:
        ValueError: the keys are not strictly increasing.
    """
    out = bytearray()
    index: list[tuple[bytes, bytes]] = []
    block: list[tuple[bytes, bytes]] = []
    size = 0
    previous = None
    for key, value in items:
        if previous is not None and key <= previous:
            raise ValueError(
                f"sstable keys must be strictly increasing: {key!r:.40} after {previous!r:.40}"
            )
        previous = key
        block.append((key, value))
        size += len(key) + len(value) + 3
        if size >= block_size:
            index.append((block[-1][0], _write_block(out, block)))
            block, size = [], 0
    if block:
        index.append((block[-1][0], _write_block(out, block)))
    meta = _write_block(out, [])
    index_handle = _write_block(out, index)
    footer = meta + index_handle
    out += footer + bytes(40 - len(footer)) + struct.pack("<Q", MAGIC)
    return bytes(out)


def _write_block(out: bytearray, entries) -> bytes:
    """Appends a block (with trailer) to ``out``; returns its encoded handle."""
    body, restarts, last = bytearray(), [], b""
    for i, (key, value) in enumerate(entries):
        if i % RESTART_INTERVAL == 0:
            restarts.append(len(body))
            shared = 0
        else:
            shared = 0
            limit = min(len(key), len(last))
            while shared < limit and key[shared] == last[shared]:
                shared += 1
        value = bytes(value)
        body += varint(shared) + varint(len(key) - shared) + varint(len(value))
        body += key[shared:] + value
        last = key
    restarts = restarts or [0]
    body += struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))
    handle = varint(len(out)) + varint(len(body))
    body += b"\x00"
    out += body + struct.pack("<I", masked_crc32c(bytes(body)))
    return handle
