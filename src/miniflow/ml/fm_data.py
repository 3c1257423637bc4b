"""Input for factorization machines: libffm text (``label field:idx:val ...``) and a
re-iterable source over every format the sparse readers know.

A libffm feature becomes one id of ``dims_log2`` bits that carries its field in the top
``field_bits`` bits: ``id = field << (dims_log2 - field_bits) | idx mod 2^(dims_log2 -
field_bits)``. Everything downstream (:class:`~miniflow.ml.batch.Batch`, the binary
cache, served instances) then needs ids only. With ``field_bits=0`` (a plain FM on
libffm text) the field is dropped and ``id = idx mod 2^dims_log2``.

The parser is vectorised per chunk like :func:`miniflow.ml.data.parse_libsvm`:
whitespace-separated tokens, the first of each line the label, the two ``:`` of every
feature located with ``searchsorted``, integers parsed SWAR-style and values with
:func:`~miniflow.ml.numeric_text.decimals` (``:1`` needs no parsing).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.cache import CacheWriter, is_cache, is_complete_cache, read_cache
from miniflow.ml.data import CHUNK_BYTES, iter_chunks, read_file
from miniflow.ml.numeric_text import ParseError, decimals, uints, words_at

__all__ = ["parse_libffm", "read_libffm", "detect_format", "read_fm_file", "FMSource", "FORMATS"]

FORMATS = ("auto", "libsvm", "libffm", "vw", "cache")
_COLON, _NEWLINE, _ONE = 58, 10, 49


def _tokens(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, is first of its line) of every run of non-blank bytes."""
    body = np.empty(len(b) + 2, np.bool_)
    body[0] = body[-1] = False
    np.greater(b, 32, out=body[1:-1])
    edges = np.flatnonzero(body[1:] != body[:-1])
    starts, ends = edges[0::2], edges[1::2]
    newlines = np.zeros(len(b) + 1, np.int64)
    np.cumsum(b == _NEWLINE, out=newlines[1:])
    line = newlines[starts]  # newlines before each token
    first = np.empty(len(starts), np.bool_)
    if len(starts):
        first[0] = True
        np.not_equal(line[1:], line[:-1], out=first[1:])
    return starts, ends, first


def parse_libffm(chunk: bytes, dims_log2: int, field_bits: int = 0, fields: int = 0) -> Batch:
    """Parses whole lines of libffm text into a :class:`Batch` of packed ids.

    Args:
        field_bits: top bits of each id that hold the field (0: drop the field).
        fields: if > 0, a field number >= fields is an error.

    Raises:
        ParseError: a feature that is not ``field:idx:value`` with non-negative integer
            field and index, a value or label that is not a finite number, or a field
            out of range; ``line`` gives its line in the chunk.
    """
    if b"#" in chunk:
        chunk = b"\n".join(line.split(b"#", 1)[0] for line in chunk.split(b"\n"))
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    try:
        return _parse(chunk, dims_log2, field_bits, fields)
    except ParseError as e:
        e.line = chunk.count(b"\n", 0, e.offset) + 1
        raise


def _parse(chunk: bytes, dims_log2: int, field_bits: int, fields: int) -> Batch:
    b = np.frombuffer(chunk, np.uint8)
    starts, ends, first = _tokens(b)
    words = words_at(chunk)
    feat = np.flatnonzero(~first)
    fs, fe = starts[feat], ends[feat]
    colons = np.flatnonzero(b == _COLON)
    at = np.searchsorted(colons, fs)
    c1 = colons[np.minimum(at, len(colons) - 1)] if len(colons) else fe
    c2 = colons[np.minimum(at + 1, len(colons) - 1)] if len(colons) else fe
    c3 = colons[np.minimum(at + 2, len(colons) - 1)] if len(colons) else fe
    two = (at + 1 < len(colons)) & (c1 < fe) & (c2 < fe)
    two &= (at + 2 >= len(colons)) | (c3 >= fe)
    if not two.all():
        i = int(np.argmin(two))
        text = chunk[fs[i] : fe[i]].decode(errors="replace")
        raise ParseError(f"feature {text!r} is not field:index:value", int(fs[i]))
    field, bad_f = uints(words, fs, c1)
    idx, bad_i = uints(words, c1 + 1, c2)
    bad = bad_f | bad_i
    if bad.any():
        i = int(np.argmax(bad))
        text = chunk[fs[i] : fe[i]].decode(errors="replace")
        raise ParseError(
            f"feature {text!r}: field and index must be non-negative integers of at most 16 digits",
            int(fs[i]),
        )
    if fields and len(field) and field.max() >= fields:
        i = int(np.argmax(field >= fields))
        raise ParseError(f"field {int(field[i])} >= the model's {fields} fields", int(fs[i]))
    one = (fe - c2 == 2) & (b[fe - 1] == _ONE)
    values = None
    if not one.all():
        values = np.ones(len(feat), np.float32)
        odd = np.flatnonzero(~one)
        values[odd] = decimals(chunk, b, words, c2[odd] + 1, fe[odd])
    low = dims_log2 - field_bits
    ids = idx & ((1 << low) - 1)
    if field_bits:
        ids |= (field & ((1 << field_bits) - 1)) << low
    lab = np.flatnonzero(first)
    labels = (decimals(chunk, b, words, starts[lab], ends[lab]) > 0).astype(np.float32)
    indptr = np.empty(len(lab) + 1, np.int64)
    indptr[:-1] = lab - np.arange(len(lab))  # features before each label token
    indptr[-1] = len(feat)
    return Batch(indptr, ids, values, labels)


def read_libffm(
    path, dims_log2: int, field_bits: int = 0, fields: int = 0, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Batch]:
    """Streams a libffm file (optionally gzip) as :class:`Batch` chunks.

    Raises:
        ValueError: ``PATH:LINE: libffm: ...`` for a malformed field; an empty file.
    """
    line, rows = 0, 0
    for chunk in iter_chunks(path, chunk_bytes):
        try:
            batch = parse_libffm(chunk, dims_log2, field_bits, fields)
        except ParseError as e:
            raise ValueError(f"{os.fspath(path)}:{line + e.line}: libffm: {e}") from None
        line += chunk.count(b"\n")
        rows += len(batch)
        if len(batch):
            yield batch
    if not rows:
        raise ValueError(f"{os.fspath(path)}: no data rows (empty file)")


def detect_format(path) -> str:
    """``cache``, ``vw`` (a ``|`` in the first line), ``libffm`` (a feature with two
    ``:``) or ``libsvm``."""
    if is_cache(path):
        return "cache"
    first = next(iter_chunks(path, 1 << 16), b"").split(b"\n", 1)[0].split(b"#", 1)[0]
    if b"|" in first:
        return "vw"
    feats = first.split()[1:]
    return "libffm" if feats and feats[0].count(b":") == 2 else "libsvm"


def read_fm_file(
    path, dims_log2: int, fmt: str = "auto", field_bits: int = 0, fields: int = 0
) -> Iterator[Batch]:
    """Streams ``path`` (libsvm, libffm, VW text or cache) for an FM/FFM.

    Raises:
        ValueError: an FFM (``field_bits > 0``) on text without fields (libsvm, VW).
    """
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "libffm":
        return read_libffm(path, dims_log2, field_bits, fields)
    if field_bits and fmt in ("libsvm", "vw"):
        raise ValueError(
            f"{os.fspath(path)}: a field-aware FM needs each feature's field; {fmt} text "
            "has none. Write libffm lines (label field:index:value ...)"
        )
    return read_file(path, dims_log2, fmt)


class FMSource:
    """Re-iterable FM input: the text on the first pass, its binary cache afterwards.

    The same contract as :class:`miniflow.ml.source.DataSource` (which knows no
    libffm): the first complete pass writes ``cache`` in blocks of ``block_rows``
    (after the trainer attached its de-duplication), a stopped pass drops it.
    """

    def __init__(
        self,
        path,
        dims_log2: int,
        fmt: str = "auto",
        field_bits: int = 0,
        fields: int = 0,
        cache=None,
        block_rows: int | str = 4096,
    ):
        self.path = os.fspath(path)
        self.dims_log2, self.fmt = dims_log2, fmt
        self.field_bits, self.fields = field_bits, fields
        self.cache = None if cache is None else os.fspath(cache)
        self.block_rows = 4096 if block_rows == "auto" else int(block_rows)

    def __iter__(self) -> Iterator[Batch]:
        if self.cache is not None and is_complete_cache(self.cache, self.dims_log2):
            yield from read_cache(self.cache, self.dims_log2)
            return
        batches = read_fm_file(self.path, self.dims_log2, self.fmt, self.field_bits, self.fields)
        if self.cache is None:
            yield from batches
            return
        writer = CacheWriter(self.cache, self.dims_log2)
        complete = False
        try:
            for chunk in batches:
                for block in chunk.split(self.block_rows):
                    yield block
                    writer.write(block)
            complete = True
        finally:
            if complete:
                writer.close()
            else:
                writer.abort()
