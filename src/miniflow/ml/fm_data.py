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
:func:`~miniflow.ml.numeric_text.decimals` (``:1`` needs no parsing). With compiled
kernels (:mod:`miniflow.ml.compiled`) one loop over the bytes does the same and hands
anything unusual, errors included, to it. VW text with namespaces as fields is
:mod:`miniflow.ml.fm_vw`; :class:`FMSource` is the cached
:class:`~miniflow.ml.source.DataSource` over all of these.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from miniflow.ml import compiled
from miniflow.ml.batch import Batch
from miniflow.ml.cache import is_cache
from miniflow.ml.data import CHUNK_BYTES, iter_chunks, read_file
from miniflow.ml.fm_vw import read_vw_fields, vw_namespaces
from miniflow.ml.numeric_text import ParseError, decimals, uints, words_at
from miniflow.ml.source import DataSource
from miniflow.ml.text_rows import read_rows

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
        if compiled.enabled():
            batch = _parse_compiled(chunk, dims_log2, field_bits, fields)
            if batch is not None:
                return batch
        return _parse(chunk, dims_log2, field_bits, fields)
    except ParseError as e:
        e.line = chunk.count(b"\n", 0, e.offset) + 1
        raise


def _parse_compiled(chunk: bytes, dims_log2: int, field_bits: int, fields: int) -> Batch | None:
    """The chunk by :func:`~miniflow.ml.kernels_text.libffm_chunk` (None: not in its
    layout, the NumPy parser decides); numbers other than ``1`` by :func:`decimals`,
    as there, so the two give the same batch."""
    from miniflow.ml.kernels_text import libffm_chunk

    b = np.frombuffer(chunk, np.uint8)
    size = len(b) // 2 + 2
    label_spans, value_spans = np.empty((size, 2), np.int64), np.empty((size, 3), np.int64)
    indptr, ids = np.empty(size + 1, np.int64), np.empty(size, np.int64)
    low = dims_log2 - field_bits
    ok, rows, nnz, n_values = libffm_chunk(
        b, low, field_bits, fields, label_spans, indptr, ids, value_spans
    )
    if not ok:
        return None
    words = words_at(chunk)
    values = None
    if n_values:
        spans = value_spans[:n_values]
        values = np.ones(nnz, np.float32)
        values[spans[:, 2]] = decimals(chunk, b, words, spans[:, 0], spans[:, 1])
    spans = label_spans[:rows]
    labels = (decimals(chunk, b, words, spans[:, 0], spans[:, 1]) > 0).astype(np.float32)
    return Batch(indptr[: rows + 1].copy(), ids[:nnz].copy(), values, labels)


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
    yield from read_rows(
        path, lambda c: parse_libffm(c, dims_log2, field_bits, fields), "libffm", chunk_bytes
    )


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
    path,
    dims_log2: int,
    fmt: str = "auto",
    field_bits: int = 0,
    fields: int = 0,
    namespaces: list[str] | None = None,
) -> Iterator[Batch]:
    """Streams ``path`` (libsvm, libffm, VW text or cache) for an FM/FFM.

    An FFM (``field_bits > 0``) reads VW namespaces as fields (:mod:`miniflow.ml.fm_vw`;
    ``namespaces`` in field order, default: those of the file's first chunk).

    Raises:
        ValueError: an FFM on libsvm text (it has no fields).
    """
    fmt = detect_format(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if fmt == "libffm":
        return read_libffm(path, dims_log2, field_bits, fields)
    if field_bits and fmt == "vw":
        names = vw_namespaces(path) if namespaces is None else list(namespaces)
        return read_vw_fields(path, dims_log2, field_bits, fields, names)
    if field_bits and fmt == "libsvm":
        raise ValueError(
            f"{os.fspath(path)}: a field-aware FM needs each feature's field; libsvm text "
            "has none. Write libffm lines (label field:index:value ...) or VW text with "
            "one namespace per field"
        )
    return read_file(path, dims_log2, fmt)


class FMSource(DataSource):
    """Re-iterable FM input: :class:`~miniflow.ml.source.DataSource` (the text on the
    first pass, its binary cache afterwards) reading with :func:`read_fm_file`, so
    libffm and VW namespaces as fields work too.

    ``namespaces`` (VW text, FFM): the fields' namespaces in order; found in the file
    when None and kept in :attr:`namespaces` for the holdout file and the saved model.
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
        namespaces: list[str] | None = None,
    ):
        super().__init__(path, dims_log2, fmt, cache=cache, block_rows=block_rows)
        self.field_bits, self.fields = field_bits, fields
        if namespaces is None and field_bits and self.text_format() == "vw":
            namespaces = vw_namespaces(self.path)
        self.namespaces = None if namespaces is None else list(namespaces)

    def text_format(self) -> str:
        """The format of :attr:`path` (``auto`` resolved)."""
        return detect_format(self.path) if self.fmt == "auto" else self.fmt

    def _read_text(self) -> Iterator[Batch]:
        return read_fm_file(
            self.path, self.dims_log2, self.fmt, self.field_bits, self.fields, self.namespaces
        )
