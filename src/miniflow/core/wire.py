"""The binary message format of miniflow's TCP services: the parameter server's
``process`` backend and partition files (`miniflow.ps`), and ``tf.train.Server``.

A message is one frame::

    offset  size  field
    0       4     magic b"MFPS"
    4       4     uint32 little-endian H: length of the JSON header
    8       8     uint64 little-endian B: length of the array body
    16      H     UTF-8 JSON object, the header; its "arrays" entry lists the arrays as
                  [[name, dtype, shape], ...] with dtype one of <i8 <i4 <f8 <f4 |u1 |b1
    16+H    B     the arrays' raw little-endian C-order bytes, concatenated in that order

Everything else in the header is plain JSON (the operation, worker id, step...). Arrays
are rebuilt with ``np.frombuffer`` over the received bytes; no object is ever pickled,
so a frame can carry numbers only, and a malformed frame raises ``ValueError`` instead
of running code. Replies use the same framing; a failed request is answered with
``{"ok": false, "error": "..."}``.
"""

from __future__ import annotations

import json
import struct
from typing import BinaryIO

import numpy as np

__all__ = [
    "MAGIC",
    "encode",
    "decode_header",
    "read_frame",
    "write_frame",
    "recv_frame",
    "send_frame",
    "DTYPES",
    "MAX_BODY",
]

MAGIC = b"MFPS"
_PREFIX = struct.Struct("<4sIQ")
DTYPES = frozenset({"<i8", "<i4", "<f8", "<f4", "|u1", "|b1"})
MAX_HEADER = 1 << 24
MAX_BODY = 256 << 20  # default cap of a socket frame's array body (16M keys + grads)


def encode(header: dict, arrays: dict[str, np.ndarray] | None = None) -> list[bytes | memoryview]:
    """The frame as a list of buffers (prefix+header, then each array's bytes)."""
    specs, bodies = [], []
    for name, a in (arrays or {}).items():
        a = np.asarray(a)
        if not a.flags.c_contiguous:  # (np.ascontiguousarray would make 0-d arrays 1-d)
            a = a.copy(order="C")
        dt = a.dtype.newbyteorder("<") if a.dtype.byteorder == ">" else a.dtype
        a = a.astype(dt, copy=False)
        if dt.str not in DTYPES:
            raise ValueError(
                f"wire: array {name!r} has dtype {a.dtype}; only {sorted(DTYPES)} can be sent"
            )
        specs.append([name, dt.str, list(a.shape)])
        bodies.append(memoryview(a).cast("B") if a.size else b"")  # (empty: no cast)
    head = json.dumps({**header, "arrays": specs}, separators=(",", ":")).encode()
    body_len = sum(len(b) for b in bodies)
    return [_PREFIX.pack(MAGIC, len(head), body_len) + head, *bodies]


def decode_header(
    prefix: bytes, max_header: int = MAX_HEADER, max_body: int | None = None
) -> tuple[int, int]:
    """(header length, body length) from the 16-byte prefix; raises ``ValueError`` on a
    bad magic or on lengths above the limits, before anything is allocated."""
    magic, h, b = _PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise ValueError(f"wire: bad magic {magic!r}, expected {MAGIC!r} (not a miniflow.ps frame)")
    if h > max_header:
        raise ValueError(f"wire: header of {h} bytes exceeds the {max_header}-byte limit")
    if max_body is not None and b > max_body:
        raise ValueError(f"wire: body of {b} bytes exceeds the {max_body}-byte limit")
    return h, b


def _arrays(header: dict, body: bytes | bytearray) -> dict[str, np.ndarray]:
    out, pos = {}, 0
    for name, dtype, shape in header.pop("arrays", []):
        if dtype not in DTYPES:
            raise ValueError(f"wire: array {name!r} has unsupported dtype {dtype!r}")
        dt = np.dtype(dtype)
        n = dt.itemsize * int(np.prod(shape, dtype=np.int64))
        if pos + n > len(body):
            raise ValueError(f"wire: array {name!r} runs past the end of the frame body")
        out[name] = np.frombuffer(body, dt, n // dt.itemsize, pos).reshape(shape)
        pos += n
    if pos != len(body):
        raise ValueError(f"wire: {len(body) - pos} unclaimed bytes at the end of the frame body")
    return out


def _parse(head: bytes, body) -> tuple[dict, dict[str, np.ndarray]]:
    header = json.loads(head)
    if not isinstance(header, dict):
        raise ValueError("wire: the header is not a JSON object")
    return header, _arrays(header, body)


def write_frame(f: BinaryIO, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    for part in encode(header, arrays):
        f.write(part)


def read_frame(f: BinaryIO) -> tuple[dict, dict[str, np.ndarray]] | None:
    """The next frame of a file, or None at a clean end of file."""
    prefix = f.read(_PREFIX.size)
    if not prefix:
        return None
    if len(prefix) < _PREFIX.size:
        raise ValueError("wire: truncated frame prefix")
    h, b = decode_header(prefix)
    head, body = f.read(h), f.read(b)
    if len(head) < h or len(body) < b:
        raise ValueError("wire: truncated frame")
    return _parse(head, body)


def _recv_exact(sock, n: int) -> bytearray:
    buf = bytearray(n)
    view, got = memoryview(buf), 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            raise ConnectionError("wire: connection closed by the peer")
        got += k
    return buf


def send_frame(sock, header: dict, arrays: dict[str, np.ndarray] | None = None) -> None:
    sock.sendall(b"".join(encode(header, arrays)))


def recv_frame(
    sock, max_body: int = MAX_BODY, max_header: int = MAX_HEADER
) -> tuple[dict, dict[str, np.ndarray]]:
    """The next frame from a socket; lengths above the limits raise ``ValueError``."""
    h, b = decode_header(bytes(_recv_exact(sock, _PREFIX.size)), max_header, max_body)
    head = _recv_exact(sock, h)
    return _parse(bytes(head), _recv_exact(sock, b))
