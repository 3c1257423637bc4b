"""Streaming readers for sparse click data: libsvm/svmlight, VW text, and a binary cache.

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

import gzip
import io
import itertools
import os
from collections.abc import Iterator

import numpy as np

from miniflow.ml.batch import Batch, concat_batches
from miniflow.ml.cache import is_cache, read_cache
from miniflow.ml.numeric_text import ParseError, decimals, uints, words_at

__all__ = [
    "Batch",
    "iter_chunks",
    "parse_libsvm",
    "parse_vw",
    "read_libsvm",
    "read_vw",
    "read_file",
    "hash_feature",
    "concat_batches",
]

CHUNK_BYTES = 1 << 20
_COLON, _NEWLINE, _PIPE = 58, 10, 124


# -- input files --------------------------------------------------------------------------
def _open(path: str | os.PathLike) -> io.BufferedIOBase:
    f = open(path, "rb")  # noqa: SIM115  returned to the caller, who closes it
    if f.peek(2)[:2] == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=f, mode="rb")
    return f


def iter_chunks(path, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """Yields the file's bytes in pieces of about ``chunk_bytes`` that end at a newline.

    Memory stays O(chunk_bytes + longest line). Gzip input is detected by its magic.
    """
    with _open(path) as f:
        tail = b""
        while True:
            block = f.read(chunk_bytes)
            if not block:
                break
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # no newline yet: a line longer than the chunk
                tail += block
                continue
            # One copy: the previous tail and this block up to its last newline.
            chunk = b"".join((tail, memoryview(block)[:cut]))
            tail = block[cut:]
            yield chunk
        if tail.strip():
            yield tail + b"\n"


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


def _parse_libsvm(chunk: bytes, dims_log2: int | None) -> Batch:
    b = np.frombuffer(chunk, dtype=np.uint8)
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
    path, dims_log2: int | None = None, chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Batch]:
    """Streams a libsvm/svmlight file (optionally gzip) as :class:`Batch` chunks.

    Raises:
        ValueError: ``PATH:LINE: ...`` for a malformed field; an empty file.
    """
    line, rows = 0, 0
    for chunk in iter_chunks(path, chunk_bytes):
        try:
            batch = parse_libsvm(chunk, dims_log2)
        except ParseError as e:
            at = line + e.line
            raise ValueError(f"{os.fspath(path)}:{at}: libsvm: {e}") from None
        line += chunk.count(b"\n")
        rows += len(batch)
        if len(batch):
            yield batch
    if not rows:
        raise ValueError(f"{os.fspath(path)}: no data rows (empty file)")


# -- Vowpal Wabbit text -------------------------------------------------------------------
def _murmur3_32(data: bytes, seed: int) -> int:
    import mmh3

    return mmh3.hash(data, seed, signed=False)


def hash_feature(name: bytes, namespace: bytes = b"") -> int:
    """The 32-bit id of feature ``name`` in ``namespace``, as VW computes it.

    ``h_ns = murmur3_32(namespace, seed=0)``; a feature whose name is a decimal integer
    maps to ``int(name) + h_ns`` (VW's shortcut), any other to
    ``murmur3_32(name, seed=h_ns)``. The model takes the low ``dims_log2`` bits.
    """
    h_ns = _murmur3_32(namespace, 0) if namespace else 0
    if name.isdigit():
        return (int(name) + h_ns) & 0xFFFFFFFF
    return _murmur3_32(name, h_ns)


def _vw_namespace(marker: bytes) -> tuple[bytes, float]:
    """``|ns:0.5`` -> (b"ns", 0.5); ``|`` -> (b"", 1.0)."""
    name, _, scale = marker[1:].partition(b":")
    return name, float(scale) if scale else 1.0


def _vw_ids(
    toks: np.ndarray, special: np.ndarray, namespace: bytes
) -> tuple[np.ndarray, np.ndarray | None]:
    """(32-bit ids, values or None) of one namespace's feature words, as hash_feature.

    Plain categorical tokens (the bulk) are hashed by a C-level ``map`` over
    ``mmh3.hash``, about 80 ns each: faster than a memo dict, whose cache misses on a
    big vocabulary cost ~3x more. The ``special`` words (numeric names, ``name:value``)
    take a Python path.
    """
    import mmh3

    seed = hash_feature(namespace) if namespace else 0
    n = len(toks)
    ids = np.fromiter(
        map(mmh3.hash, toks, itertools.repeat(seed), itertools.repeat(False)), np.int64, n
    )
    values = None
    for i in np.flatnonzero(special).tolist():
        name, colon, val = toks[i].partition(b":")
        ids[i] = hash_feature(name, namespace)
        if colon:
            if values is None:
                values = np.ones(n, np.float32)
            values[i] = float(val)
    return ids, values


def _parse_vw_fast(chunk: bytes, mask: int) -> Batch | None:
    """Vectorised VW parsing for single-space separated lines; None means "use the slow
    parser". Words come from ``bytes.split`` (C speed); their roles (label, namespace
    marker, feature) from NumPy on the bytes; ids from :func:`_vw_ids`."""
    b = np.frombuffer(chunk, np.uint8)
    sep = np.flatnonzero(b <= 32)
    if not len(sep) or sep[0] == 0 or sep[-1] != len(b) - 1 or (sep[1:] - sep[:-1] == 1).any():
        return None
    words = np.array(chunk.split(), dtype=object)
    if len(words) != len(sep):
        return None
    starts = np.empty(len(sep), np.int64)
    starts[0] = 0
    starts[1:] = sep[:-1] + 1
    is_label = np.empty(len(sep), np.bool_)
    is_label[0] = True
    np.equal(b[sep[:-1]], _NEWLINE, out=is_label[1:])
    is_ns = b[starts] == _PIPE
    if np.count_nonzero(b == _PIPE) != np.count_nonzero(is_ns):
        return None  # a '|' inside a word (e.g. a tag written 'tag|ns): slow path
    where = np.arange(len(sep))
    last_ns = np.maximum.accumulate(np.where(is_ns, where, -1))
    last_label = np.maximum.accumulate(np.where(is_label, where, -1))
    feat = np.flatnonzero(~is_ns & ~is_label & (last_ns > last_label))
    lab = np.flatnonzero(is_label)
    labels = np.fromiter(map(float, words[lab]), np.float64, len(lab)) > 0
    # Words that need more than murmur3 of the whole word: a digit first (VW's numeric
    # names) or a ':' inside (name:value).
    colon_word = np.searchsorted(starts, np.flatnonzero(b == _COLON), side="right") - 1
    special = b[starts[feat]] <= ord("9")
    special[np.searchsorted(feat, colon_word[np.isin(colon_word, feat)])] = True
    indices = np.empty(len(feat), np.int64)
    values = None
    ns_words = np.flatnonzero(is_ns)
    distinct = sorted(set(words[ns_words].tolist()))
    if len(distinct) > 1:
        number = {m: i for i, m in enumerate(distinct)}
        ns_number = np.zeros(len(sep), np.int64)
        ns_number[ns_words] = np.fromiter(
            map(number.__getitem__, words[ns_words]), np.int64, len(ns_words)
        )
        owner = ns_number[last_ns[feat]]
    for i, marker in enumerate(distinct):
        sel = slice(None) if len(distinct) == 1 else np.flatnonzero(owner == i)
        namespace, scale = _vw_namespace(marker)
        ids, vals = _vw_ids(words[feat[sel]], special[sel], namespace)
        indices[sel] = ids
        if vals is not None or scale != 1.0:
            if values is None:
                values = np.ones(len(feat), np.float32)
            values[sel] = (1.0 if vals is None else vals) * scale
    indices &= mask
    counts = np.diff(np.searchsorted(feat, np.append(lab, len(sep))))
    indptr = np.zeros(len(lab) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Batch(indptr, indices, values, labels.astype(np.float32))


def parse_vw(chunk: bytes, dims_log2: int, memo: dict | None = None) -> Batch:
    """Parses Vowpal Wabbit text lines: ``label [importance] [tag]|ns f f:v ... |ns2 ...``.

    Namespaces may carry a scale (``|ns:0.5``); labels > 0 become 1; importance
    weights and tags are skipped. Feature ids are :func:`hash_feature` reduced to
    ``dims_log2`` bits. Single-space separated text takes a vectorised path
    (:func:`_parse_vw_fast`); anything else (tags glued to ``|``, repeated blanks) a
    line-by-line one, where ``memo`` caches each (namespace, feature) hash.
    """
    memo = {} if memo is None else memo
    mask = (1 << dims_log2) - 1
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    fast = _parse_vw_fast(chunk, mask)
    if fast is not None:
        return fast
    labels, counts, indices, values = [], [], [], []
    scaled = False
    for line in chunk.split(b"\n"):
        if not line.strip():
            continue
        head, *spaces = line.split(b"|")
        labels.append(float(head.split()[0]) > 0)
        n = 0
        for space in spaces:
            ns, scale = b"", 1.0
            if space[:1] not in (b" ", b"\t", b""):
                first, _, space = space.partition(b" ")
                ns, _, s = first.partition(b":")
                if s:
                    scale, scaled = float(s), True
            for tok in space.split():
                key = (ns, tok)
                entry = memo.get(key)
                if entry is None:
                    name, _, val = tok.partition(b":")
                    entry = memo[key] = (hash_feature(name, ns) & mask, float(val) if val else 1.0)
                indices.append(entry[0])
                if entry[1] != 1.0 or scale != 1.0:
                    scaled = True
                values.append(entry[1] * scale)
                n += 1
        counts.append(n)
    indptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Batch(
        indptr,
        np.array(indices, np.int64),
        np.array(values, np.float32) if scaled else None,
        np.array(labels, np.float32),
    )


def read_vw(path, dims_log2: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Batch]:
    """Streams a VW-format text file (optionally gzip) as :class:`Batch` chunks."""
    memo: dict = {}
    for chunk in iter_chunks(path, chunk_bytes):
        if len(memo) > 4_000_000:  # bound the memo's memory on huge vocabularies
            memo.clear()
        batch = parse_vw(chunk, dims_log2, memo)
        if len(batch):
            yield batch


def read_file(
    path, dims_log2: int, fmt: str = "auto", chunk_bytes: int = CHUNK_BYTES
) -> Iterator[Batch]:
    """Streams ``path`` in the given format: ``libsvm``, ``vw``, ``cache`` or ``auto``.

    ``auto`` picks ``cache`` for miniflow cache files, ``vw`` when the first line
    contains ``|``, else ``libsvm``.
    """
    if fmt == "auto":
        if is_cache(path):
            fmt = "cache"
        else:
            first = next(iter_chunks(path, 1 << 16), b"")
            fmt = "vw" if b"|" in first.split(b"\n", 1)[0] else "libsvm"
    if fmt == "cache":
        return read_cache(path, dims_log2)
    if fmt == "vw":
        return read_vw(path, dims_log2, chunk_bytes)
    if fmt == "libsvm":
        return read_libsvm(path, dims_log2, chunk_bytes)
    raise ValueError(f"unknown format {fmt!r}; expected libsvm, vw, cache or auto")
