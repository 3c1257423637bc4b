"""Vowpal Wabbit text: ``label [importance] [tag]|ns f f:v |ns2:scale ...``, vectorised
per chunk, with VW's feature hashing.

A chunk is cut into words with NumPy (blanks and ``:`` separate them, ``bytes.split``
makes the word objects in C), and each word's role comes from its neighbours: the first
word of a line is the label, a word starting with ``|`` opens a namespace, a word after
a ``:`` is a value (a feature's weight, or a namespace's scale). Labels, weights and
scales go through :func:`~miniflow.ml.numeric_text.decimals`; names are hashed by a
C-level ``map`` over ``mmh3.hash`` (seeded with their namespace's hash), and names that
are decimal integers take VW's shortcut, vectorised. No Python code runs per feature
except that hash call. Layouts the vectorised path does not take (a tag glued to ``|``,
``a:1:2``) go to a line-by-line parser that gives the same result or the error.
"""

from __future__ import annotations

import itertools
import operator
from collections.abc import Iterator

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.numeric_text import ParseError, decimals, text_kernels, uints, words_at
from miniflow.ml.text_rows import CHUNK_BYTES, BadRows, read_rows

__all__ = ["hash_feature", "parse_vw", "read_vw"]

_COLON, _NEWLINE, _PIPE = 58, 10, 124
# Bytes below '!' that _words takes for blanks but bytes.split() does not.
_NOT_SPLIT = np.zeros(256, np.bool_)
_NOT_SPLIT[[c for c in range(33) if not bytes([c]).isspace()]] = True


def _murmur3_32(data: bytes, seed: int) -> int:
    import mmh3

    return mmh3.hash(data, seed, signed=False)


def _hashstring(text: bytes, seed: int) -> int:
    """VW's ``hashstring``: a decimal integer maps to itself plus ``seed``, anything
    else to ``murmur3_32(text, seed)``."""
    if text.isdigit():
        return (int(text) + seed) & 0xFFFFFFFF
    return _murmur3_32(text, seed)


def hash_feature(name: bytes, namespace: bytes = b"") -> int:
    """The 32-bit id of feature ``name`` in ``namespace``, as VW computes it.

    ``h_ns = hashstring(namespace, seed=0)`` (0 for the default namespace); a feature
    whose name is a decimal integer maps to ``int(name) + h_ns`` (VW's shortcut), any
    other to ``murmur3_32(name, seed=h_ns)``. The model takes the low ``dims_log2`` bits.
    """
    return _hashstring(name, _hashstring(namespace, 0) if namespace else 0)


# -- the vectorised path ------------------------------------------------------------------
def _words(b: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """(starts, ends) of the runs of word bytes (not blank, not ':'), or None when a
    ':' does not sit between two word bytes (``a:``, ``:1``, ``a::1``)."""
    word = b > 32
    colons = np.flatnonzero(b == _COLON)
    if len(colons):
        if colons[0] == 0 or not (word[colons - 1] & word[colons + 1]).all():
            return None
        if (b[colons - 1] == _COLON).any() or (b[colons + 1] == _COLON).any():
            return None
        word[colons] = False
    body = np.empty(len(b) + 2, np.bool_)
    body[0] = body[-1] = False
    body[1:-1] = word
    edges = np.flatnonzero(body[1:] != body[:-1])
    return edges[0::2], edges[1::2]


def _namespace_seeds(markers: list[bytes]) -> np.ndarray:
    """The hash seed of each ``|ns`` marker word (``|`` alone: the default, 0)."""
    seed_of = {m: _hashstring(m[1:], 0) if len(m) > 1 else 0 for m in set(markers)}
    return np.fromiter(map(seed_of.__getitem__, markers), np.int64, len(markers))


def _hash_names(b, words, names, starts, ends, seeds) -> np.ndarray:
    """32-bit ids of the feature names (hash_feature, vectorised but for the hash);
    ``names()`` gives the names' bytes objects, needed by the NumPy path only."""
    kernels = text_kernels()
    if kernels is not None:  # MurmurHash3 and the digit shortcut compiled, no objects
        ids, slow = kernels.vw_hash_fields(b, starts, ends, seeds)
        for i in np.flatnonzero(slow).tolist():  # digit names of more than 18 digits
            ids[i] = (int(b[starts[i] : ends[i]].tobytes()) + int(seeds[i])) & 0xFFFFFFFF
        return ids
    import mmh3

    names = names()
    n = len(names)
    seed_list = itertools.repeat(int(seeds[0])) if (seeds == seeds[0]).all() else seeds.tolist()
    ids = np.fromiter(map(mmh3.hash, names, seed_list, itertools.repeat(False)), np.int64, n)
    numeric = np.flatnonzero(b[starts] - 48 < 10)  # a digit first: maybe VW's shortcut
    if len(numeric):
        value, bad = uints(words, starts[numeric], ends[numeric])
        good = numeric[~bad]
        ids[good] = (value[~bad] + seeds[good]) & 0xFFFFFFFF
        for i in numeric[bad].tolist():  # '3abc' (murmur, right already) or > 16 digits
            if names[i].isdigit():
                ids[i] = (int(names[i]) + int(seeds[i])) & 0xFFFFFFFF
    return ids


def _pick(words: list[bytes], at: np.ndarray) -> list[bytes] | tuple[bytes, ...]:
    """``words[i] for i in at``, in C (``itemgetter`` of one index returns no tuple)."""
    if len(at) < 2:
        return [words[i] for i in at.tolist()]
    return operator.itemgetter(*at.tolist())(words)


def _parse_fast(chunk: bytes, mask: int) -> Batch | None:
    """The vectorised parser; None for layouts it does not take."""
    b = np.frombuffer(chunk, np.uint8)
    found = _words(b)
    if found is None:
        return None
    starts, ends = found
    if not len(starts):
        return None
    kernels = text_kernels()
    words = None  # the words as objects: the NumPy path's hashing needs them
    if kernels is None:
        words = chunk.replace(b":", b" ").split()
        if len(words) != len(starts):
            return None  # control bytes that bytes.split does not take for blanks
    elif _NOT_SPLIT[b].any():
        return None  # the same, found without making the words
    n = len(starts)
    is_marker = b[starts] == _PIPE
    if np.count_nonzero(b == _PIPE) != np.count_nonzero(is_marker):
        return None  # a '|' inside a word: a tag glued to its namespace
    line = np.searchsorted(np.flatnonzero(b == _NEWLINE), starts)  # of each word
    is_label = np.empty(n, np.bool_)
    is_label[0] = True
    np.not_equal(line[1:], line[:-1], out=is_label[1:])
    after_colon = np.zeros(n, np.bool_)
    after_colon[1:] = b[starts[1:] - 1] == _COLON
    where = np.arange(n)
    last_marker = np.maximum.accumulate(np.where(is_marker, where, -1))
    last_label = np.maximum.accumulate(np.where(is_label, where, -1))
    in_namespace = last_marker > last_label
    if (is_label & is_marker).any():
        i = int(np.argmax(is_label & is_marker))
        raise ParseError("the row has no label before its first '|'", int(starts[i]))
    # A value must follow a feature name or a namespace marker (not 'a:1:2', not a tag).
    prev_ok = np.zeros(n, np.bool_)
    prev_ok[1:] = ~after_colon[:-1] & ~is_label[:-1] & in_namespace[:-1]
    prev_ok[1:] |= is_marker[:-1]
    if (after_colon & ~prev_ok).any():
        return None
    feat = np.flatnonzero(~is_label & ~is_marker & ~after_colon & in_namespace)
    lab = np.flatnonzero(is_label)

    bw = words_at(chunk)
    labels = decimals(chunk, b, bw, starts[lab], ends[lab]) > 0
    markers = np.flatnonzero(is_marker)
    marker_seed = np.zeros(n, np.int64)
    if words is None:  # hashstring(ns, 0), 0 for the default namespace '|'
        ns_seed, slow = kernels.vw_hash_fields(
            b, starts[markers] + 1, ends[markers], np.zeros(len(markers), np.int64)
        )
        for i in np.flatnonzero(slow).tolist():  # a namespace of more than 18 digits
            ns_seed[i] = _hashstring(b[starts[markers[i]] + 1 : ends[markers[i]]].tobytes(), 0)
        marker_seed[markers] = np.where(ends[markers] - starts[markers] > 1, ns_seed, 0)
    else:
        marker_seed[markers] = _namespace_seeds(_pick(words, markers))
    owner = last_marker[feat]
    indices = _hash_names(
        b, bw, lambda: _pick(words, feat), starts[feat], ends[feat], marker_seed[owner]
    )
    indices &= mask

    values = None
    has_value = np.zeros(n, np.bool_)
    has_value[:-1] = after_colon[1:]
    scaled = markers[has_value[markers]]
    weighted = np.flatnonzero(has_value[feat])
    if len(scaled) or len(weighted):
        values = np.ones(len(feat), np.float32)
        v = feat[weighted] + 1
        values[weighted] = decimals(chunk, b, bw, starts[v], ends[v])
        if len(scaled):
            scale = np.ones(n, np.float32)
            scale[scaled] = decimals(chunk, b, bw, starts[scaled + 1], ends[scaled + 1])
            values *= scale[owner]
    counts = np.diff(np.searchsorted(feat, np.append(lab, n)))
    indptr = np.zeros(len(lab) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Batch(indptr, indices, values, labels.astype(np.float32))


# -- the line-by-line path ----------------------------------------------------------------
def _number(text: bytes, what: str, offset: int) -> float:
    try:
        value = float(text) if b"_" not in text else float("nan")
    except ValueError:
        raise ParseError(
            f"{what} {text.decode(errors='replace')!r} is not a number", offset
        ) from None
    if not np.isfinite(value):
        raise ParseError(
            f"{what} {text.decode(errors='replace')!r} is not a finite number (NaN/inf)", offset
        )
    return value


def _parse_line(line: bytes, offset: int, mask: int, out: tuple[list, list, list]) -> bool:
    """Appends one line's features to ``out`` (ids, values, rows); returns its label."""
    ids, values, _ = out
    head, bar, rest = line.partition(b"|")
    label_words = head.split()
    if not label_words:
        raise ParseError("the row has no label before its first '|'", offset)
    label = _number(label_words[0], "label", offset) > 0
    if not bar:
        return label
    for segment in rest.split(b"|"):
        toks = segment.split()
        namespace, scale = b"", np.float32(1.0)  # float32 products, as the vectorised path
        if toks and segment[:1] not in b" \t\r\v\f":
            namespace, _, s = toks.pop(0).partition(b":")
            if s:
                scale = np.float32(_number(s, "namespace scale", offset))
        seed = _hashstring(namespace, 0) if namespace else 0
        for tok in toks:
            name, colon, val = tok.partition(b":")
            if not name:
                raise ParseError(f"feature {tok.decode(errors='replace')!r} has no name", offset)
            ids.append(_hashstring(name, seed) & mask)
            value = np.float32(_number(val, "feature value", offset) if colon else 1.0)
            values.append(value * scale)
    return label


def _parse_lines(chunk: bytes, mask: int) -> Batch:
    ids: list[int] = []
    values: list[float] = []
    labels, counts = [], []
    offset = 0
    for number, line in enumerate(chunk.split(b"\n"), 1):
        if line.strip():
            before = len(ids)
            try:
                labels.append(_parse_line(line, offset, mask, (ids, values, [])))
            except ParseError as e:
                e.line = number
                raise
            counts.append(len(ids) - before)
        offset += len(line) + 1
    indptr = np.zeros(len(counts) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    vals = np.array(values, np.float32)
    return Batch(
        indptr,
        np.array(ids, np.int64),
        None if (vals == 1.0).all() else vals,
        np.array(labels, np.float32),
    )


def parse_vw(chunk: bytes, dims_log2: int, memo: dict | None = None) -> Batch:
    """Parses Vowpal Wabbit text lines: ``label [importance] [tag]|ns f f:v ... |ns2 ...``.

    Namespaces may carry a scale (``|ns:0.5``), which multiplies their features'
    values; labels > 0 become 1 (-1/1 and 0/1 both work); importance weights and tags
    are read past and not used. Feature ids are :func:`hash_feature` reduced to
    ``dims_log2`` bits. (``memo`` is accepted for compatibility and not needed.)

    Raises:
        ParseError: a label, weight or scale that is not a finite number, a row without
            a label, a feature without a name; ``.line`` is its line in the chunk.
    """
    del memo
    mask = (1 << dims_log2) - 1
    if not chunk.endswith(b"\n"):
        chunk += b"\n"
    try:
        fast = _parse_fast(chunk, mask)
    except ParseError as e:
        e.line = chunk.count(b"\n", 0, e.offset) + 1
        raise
    return fast if fast is not None else _parse_lines(chunk, mask)


def read_vw(
    path, dims_log2: int, chunk_bytes: int = CHUNK_BYTES, bad_rows: BadRows | None = None
) -> Iterator[Batch]:
    """Streams a VW text file (optionally gzip) as :class:`Batch` chunks.

    Raises:
        ValueError: ``PATH:LINE: vw: ...`` for a malformed row (unless ``bad_rows``
            collects it); a file without data rows.
    """
    yield from read_rows(path, lambda c: parse_vw(c, dims_log2), "vw", chunk_bytes, bad_rows)
