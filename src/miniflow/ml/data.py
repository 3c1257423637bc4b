"""Streaming readers for sparse click data: libsvm/svmlight here, VW text
(:mod:`miniflow.ml.vw_text`), numeric CSV (:mod:`miniflow.ml.csv_text`) and the binary
cache, behind one :func:`read_file`.

Everything yields :class:`Batch` objects, a minimal CSR block (``indptr``, ``indices``,
optional ``values``, ``labels``), in chunks of about ``chunk_bytes`` of input text, so
memory never depends on the file size. Files ending in ``.gz`` (or starting with the
gzip magic) are decompressed on the fly.

The libsvm parser is vectorised per chunk: it classifies every byte (separator or
not), finds all fields with one comparison of neighbouring bytes, and turns digit runs
into integers with a handful of gathers grouped by field length. No Python code runs
per row or per feature on this path. Chunks of ~1 MB keep the temporaries in cache.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import numpy as np

from miniflow.ml.batch import Batch, concat_batches
from miniflow.ml.cache import is_cache, read_cache
from miniflow.ml.csv_text import read_csv
from miniflow.ml.numeric_text import ParseError, decimals, text_kernels, uints, words_at
from miniflow.ml.text_rows import CHUNK_BYTES, BadRows, iter_chunks, read_rows
from miniflow.ml.vw_text import hash_feature, parse_vw, read_vw

__all__ = [
    "Batch",
    "BadRows",
    "CHUNK_BYTES",
    "iter_chunks",
    "parse_libsvm",
    "parse_vw",
    "read_libsvm",
    "read_vw",
    "read_csv",
    "read_file",
    "hash_feature",
    "concat_batches",
]

_COLON, _NEWLINE = 58, 10
_FLOAT32_MAX = float(np.finfo(np.float32).max)


# -- libsvm -------------------------------------------------------------------------------
# Byte classes: 0 = part of a field, 1 = blank (space, tab, CR...), 2 = ':', 3 = newline.
_CLASS = np.zeros(256, np.uint8)
_CLASS[:33] = 1
_CLASS[_COLON] = 2
_CLASS[_NEWLINE] = 3


def _fields(b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(starts, ends, class before, class after) of every run of field bytes.

    ``b`` must end with a newline. Fast path: when no two separators touch (single
    spaces, ``\\n`` line ends), the separators' positions alone give every field.
    """
    is_sep = b <= 32
    is_sep |= b == _COLON
    sep = np.flatnonzero(is_sep)
    if len(sep) and sep[0] > 0 and sep[-1] == len(b) - 1 and (sep[1:] - sep[:-1] > 1).all():
        starts = np.empty(len(sep), np.int64)
        starts[0] = 0
        starts[1:] = sep[:-1] + 1
        after = _CLASS[b[sep]]
        before = np.empty(len(starts), np.uint8)
        before[0] = 3
        before[1:] = after[:-1]
        return starts, sep, before, after
    cls = _CLASS[b]
    body = np.empty(len(b) + 2, dtype=np.bool_)
    body[0] = body[-1] = False
    np.equal(cls, 0, out=body[1:-1])
    edges = np.flatnonzero(body[1:] != body[:-1])
    starts, sep = edges[0::2], edges[1::2]
    if not len(starts):  # blank lines only
        return starts, sep, np.zeros(0, np.uint8), np.zeros(0, np.uint8)
    after = cls[sep]  # the chunk ends with a newline, so every field has a byte after it
    before = np.empty(len(starts), np.uint8)
    before[0] = 3
    if len(starts) > 1:
        before[1:] = _gap_class(cls, sep[:-1], starts[1:])
    return starts, sep, before, after


def _gap_class(cls: np.ndarray, gap_start: np.ndarray, gap_end: np.ndarray) -> np.ndarray:
    """The class of the separator run before each field: 3 if it holds a newline, else
    the class of its last byte (2 for ':', 1 for blanks)."""
    last = cls[gap_end - 1]
    if (gap_end - gap_start == 1).all():
        return last
    newlines = np.cumsum(cls == 3, dtype=np.int64)
    has_newline = newlines[gap_end - 1] > newlines[gap_start] - (cls[gap_start] == 3)
    return np.where(has_newline, np.uint8(3), last)


def _parse_one_hot(chunk: bytes, b: np.ndarray) -> Batch | None:
    """Fast path for single-space separated ``label idx:val ...`` lines.

    Splits on whitespace only, so each feature is one field (half the fields of the
    general path). Features written ``idx:1`` (one-hot data) need no value parsing; the
    others have their ``:`` located and their values parsed by
    :func:`~miniflow.ml.numeric_text.decimals`. Returns None whenever the chunk is anything
    else (repeated blanks, features without a value, ``qid:``); the general parser then
    handles it.
    """
    sep = np.flatnonzero(b <= 32)
    if not len(sep) or sep[0] == 0 or (sep[1:] - sep[:-1] == 1).any():
        return None
    starts = np.empty(len(sep), np.int64)
    starts[0] = 0
    starts[1:] = sep[:-1] + 1
    is_label = np.empty(len(sep), np.bool_)
    is_label[0] = True
    np.equal(b[sep[:-1]], _NEWLINE, out=is_label[1:])
    feat = np.flatnonzero(~is_label)
    ends = sep[feat] - 2  # the index ends where ":1" starts
    values = None
    one = (b[ends] == _COLON) & (b[ends + 1] == 49)
    words = words_at(chunk)
    if not one.all():
        odd = np.flatnonzero(~one)
        colons = np.flatnonzero(b == _COLON)
        f_start, f_end = starts[feat[odd]], sep[feat[odd]]
        at = np.searchsorted(colons, f_start)
        if at.max() >= len(colons):
            return None
        colon = colons[at]
        if (colon >= f_end).any():  # a feature without a value: the binary form
            return None
        ends[odd] = colon
        values = np.ones(len(feat), np.float32)
        values[odd] = decimals(chunk, b, words, colon + 1, f_end)
    indices, bad = uints(words, starts[feat], ends)
    if bad.any():  # e.g. qid:1, or a malformed index: let the general parser decide
        return None
    lab = np.flatnonzero(is_label)
    labels = (decimals(chunk, b, words, starts[lab], sep[lab]) > 0).astype(np.float32)
    indptr = np.empty(len(lab) + 1, np.int64)
    indptr[0] = 0
    indptr[1:] = np.append(lab[1:], len(sep)) - lab - 1
    np.cumsum(indptr, out=indptr)
    return Batch(indptr, indices, values, labels)


def parse_libsvm(chunk: bytes, dims_log2: int | None = None) -> Batch:
    """Parses whole lines of libsvm/svmlight text into a :class:`Batch`.

    Accepts ``label idx:val ...``, the binary form ``label idx idx ...``, mixtures,
    ``qid:N`` (ignored), ``#`` comments and blank lines. Labels > 0 become 1, others 0.
    Indices are kept as given, reduced modulo ``2**dims_log2`` when that is set.

    Values are parsed vectorised (:func:`miniflow.ml.numeric_text.decimals`): ``1``, ``-0.5``,
    ``1.79``, ``3e-4``; Python's ``float()`` only for the rare fields outside its exact
    range.

    Raises:
        ParseError: a feature index that is not a non-negative integer (<= 16 digits),
            a value or label that is not a finite number; ``offset`` locates it and the
            message gives its line in the chunk (:func:`read_libsvm` turns that into
            the file's line).
    """
    if b"#" in chunk:
        chunk = b"\n".join(line.split(b"#", 1)[0] for line in chunk.split(b"\n"))
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    try:
        return _parse_libsvm(chunk, dims_log2)
    except ParseError as e:
        e.line = chunk.count(b"\n", 0, e.offset) + 1
        raise


_scratch = threading.local()


def _kernel_buffers(cap: int) -> tuple[np.ndarray, ...]:
    """Per-thread output buffers of the libsvm kernel, reused from chunk to chunk (fresh
    multi-MB arrays cost more in page faults than the parse itself)."""
    bufs = getattr(_scratch, "libsvm", None)
    if bufs is None or len(bufs[0]) < cap:
        bufs = (
            np.empty(cap),
            np.empty(cap + 1, np.int64),
            np.empty(cap, np.int64),
            np.empty(cap, np.float32),
            np.empty((cap, 3), np.int64),
        )
        _scratch.libsvm = bufs
    return bufs


def _parse_compiled(kernels, chunk: bytes, b: np.ndarray, dims_log2: int | None) -> Batch | None:
    """The chunk by the one-pass compiled kernel; None where the NumPy parser must decide
    (other layouts, errors)."""
    mask = -1 if dims_log2 is None else (1 << dims_log2) - 1
    labels, indptr, indices, values, slow = _kernel_buffers(len(b) // 2 + 2)
    status, rows, nnz, all_one, n_slow = kernels.libsvm_chunk(
        b, mask, labels, indptr, indices, values, slow
    )
    if status != kernels.OK:
        return None
    for start, end, slot in slow[:n_slow].tolist():  # the rare fields float() must read
        try:
            v = float(chunk[start:end])
        except ValueError:
            return None
        if not abs(v) <= _FLOAT32_MAX:
            return None
        if slot < 0:
            labels[-1 - slot] = v
        else:
            values[slot] = v
    return Batch(
        indptr[: rows + 1].copy(),
        indices[:nnz].copy(),
        None if all_one else values[:nnz].copy(),
        (labels[:rows] > 0).astype(np.float32),
    )


def _parse_libsvm(chunk: bytes, dims_log2: int | None) -> Batch:
    b = np.frombuffer(chunk, dtype=np.uint8)
    kernels = text_kernels()
    if kernels is not None:
        batch = _parse_compiled(kernels, chunk, b, dims_log2)
        if batch is not None:
            return batch
    fast = _parse_one_hot(chunk, b) if b":1" in chunk else None
    if fast is not None:
        if dims_log2 is not None:
            fast.indices &= (1 << dims_log2) - 1
        return fast
    starts, ends, before, after = _fields(b)
    if len(starts) == 0:
        return Batch(np.zeros(1, np.int64), np.zeros(0, np.int64), None, np.zeros(0, np.float32))
    words = words_at(chunk)
    is_label = before == 3
    row = np.cumsum(is_label) - 1  # the row of every field

    idx_f = np.flatnonzero(before < 2)  # neither a label nor a value
    s, e = starts[idx_f], ends[idx_f]
    indices, bad = uints(words, s, e)
    if bad.any():
        qid = (e - s == 3) & (b[s] == ord("q")) & (b[s + 1] == ord("i")) & (b[s + 2] == ord("d"))
        wrong = bad & ~qid
        if wrong.any():
            i = idx_f[np.argmax(wrong)]
            text = chunk[starts[i] : ends[i]].decode(errors="replace")
            raise ParseError(
                f"feature index {text!r} is not a non-negative integer of at most 16 digits",
                int(starts[i]),
            )
        idx_f, indices = idx_f[~bad], indices[~bad]
    if dims_log2 is not None:
        indices &= (1 << dims_log2) - 1

    with_value = after[idx_f] == 2
    val_f = idx_f[with_value] + 1
    # 'idx:' at a line end, or 'idx: 5:1' (the next field starts after a blank).
    no_value = val_f >= len(starts)
    no_value[~no_value] = before[val_f[~no_value]] != 2
    if no_value.any():
        i = idx_f[with_value][np.argmax(no_value)]
        text = chunk[starts[i] : ends[i] + 1].decode(errors="replace")
        raise ParseError(f"feature {text!r} has no value after its ':'", int(starts[i]))
    all_one = (ends[val_f] - starts[val_f] == 1).all() and (b[starts[val_f]] == 49).all()
    if len(val_f) == 0 or all_one:
        values = None  # every value is exactly "1": one-hot data, no value array needed
    else:
        values = np.ones(len(idx_f), np.float32)
        values[with_value] = decimals(chunk, b, words, starts[val_f], ends[val_f])

    lab_f = np.flatnonzero(is_label)
    labels = (decimals(chunk, b, words, starts[lab_f], ends[lab_f]) > 0).astype(np.float32)
    counts = np.bincount(row[idx_f], minlength=len(lab_f))
    indptr = np.zeros(len(lab_f) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Batch(indptr, indices, values, labels)


def read_libsvm(
    path,
    dims_log2: int | None = None,
    chunk_bytes: int = CHUNK_BYTES,
    bad_rows: BadRows | None = None,
) -> Iterator[Batch]:
    """Streams a libsvm/svmlight file (optionally gzip) as :class:`Batch` chunks.

    Raises:
        ValueError: ``PATH:LINE: libsvm: ...`` for a malformed row (unless ``bad_rows``
            collects it, see :func:`miniflow.ml.text_rows.read_rows`); an empty file.
    """
    yield from read_rows(
        path, lambda c: parse_libsvm(c, dims_log2), "libsvm", chunk_bytes, bad_rows
    )


# -- any format ---------------------------------------------------------------------------
FORMATS = ("auto", "libsvm", "vw", "csv", "cache")


def detect_format(path) -> str:
    """``cache`` for miniflow cache files; ``csv`` for ``.csv``/``.tsv`` names (``.gz``
    or not) or a first line with a ``,``; ``vw`` for a first line with a ``|``; else
    ``libsvm``."""
    if is_cache(path):
        return "cache"
    name = os.fspath(path).lower().removesuffix(".gz")
    if name.endswith((".csv", ".tsv")):
        return "csv"
    first = next(iter_chunks(path, 1 << 16), b"").split(b"\n", 1)[0]
    if b"|" in first:
        return "vw"
    return "csv" if b"," in first else "libsvm"


def read_file(
    path,
    dims_log2: int,
    fmt: str = "auto",
    chunk_bytes: int = CHUNK_BYTES,
    bad_rows: BadRows | None = None,
    label_col: int | str = 0,
) -> Iterator[Batch]:
    """Streams ``path`` in the given format: ``libsvm``, ``vw``, ``csv``, ``cache`` or
    ``auto`` (:func:`detect_format`).

    Args:
        bad_rows: collects the text rows that fail to parse, which are then skipped
            (default: the first one is an error naming the file and line).
        label_col: the label column of a CSV file (position or header name).
    """
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt == "cache":
        return read_cache(path, dims_log2)
    if fmt == "vw":
        return read_vw(path, dims_log2, chunk_bytes, bad_rows)
    if fmt == "libsvm":
        return read_libsvm(path, dims_log2, chunk_bytes, bad_rows)
    if fmt == "csv":
        return read_csv(path, dims_log2, label_col, chunk_bytes=chunk_bytes, bad_rows=bad_rows)
    raise ValueError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}")
