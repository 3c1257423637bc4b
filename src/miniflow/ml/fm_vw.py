"""VW text for field-aware FMs: each namespace is a field.

``1 |user u123 age:0.3 |ad a77 |site s9`` gives features of three fields. A feature's
id is VW's hash of its name in its namespace (:func:`~miniflow.ml.vw_text.hash_feature`,
the id ``miniflow lr`` and VW itself use) reduced to the low ``dims_log2 - field_bits``
bits, with the field in the top ``field_bits`` (as libffm input, :mod:`miniflow.ml.fm_data`).
Values are ``name:value`` times the namespace's ``|ns:scale`` (float32 products, as the
VW reader); the label is > 0 for a click (VW's -1/1 and 0/1 both work); importance
weights and tags are skipped.

Which namespace is which field is a list of names (``namespaces``): given by the user,
or those of the file's first chunk in order of appearance (:func:`vw_namespaces`). The
trainer's saved model keeps it, so evaluation numbers fields the same way. Lines are
parsed in Python (about 1 µs per feature), several times slower than the vectorised
libffm reader: a capability, not the fast path.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np

from miniflow.ml.batch import Batch
from miniflow.ml.numeric_text import ParseError
from miniflow.ml.text_rows import CHUNK_BYTES, iter_chunks, read_rows
from miniflow.ml.vw_text import hash_feature

__all__ = ["vw_namespaces", "parse_vw_fields", "read_vw_fields"]

_F32_MAX = float(np.finfo(np.float32).max)  # a Python float: no float32 cast of the value


def _sections(line: bytes) -> tuple[bytes, list[tuple[bytes, list[bytes]]]]:
    """(label word, [(namespace word or b"", feature words)]) of one line."""
    head, *rest = line.split(b"|")
    sections = []
    for part in rest:
        if part[:1] in (b" ", b"\t", b""):  # the default namespace
            sections.append((b"", part.split()))
        else:
            words = part.split()
            sections.append((words[0], words[1:]))
    return (head.split() or [b""])[0], sections


def vw_namespaces(path, limit: int = 1 << 16) -> list[str]:
    """The namespaces of the first ``limit`` bytes of a VW file, in order of appearance
    (``""`` for the default one)."""
    chunk = next(iter_chunks(path, limit), b"")
    seen: dict[bytes, None] = {}
    for line in chunk.split(b"\n"):
        if b"|" in line:
            for ns, _ in _sections(line)[1]:
                seen.setdefault(ns.partition(b":")[0], None)
    return [ns.decode(errors="replace") for ns in seen]


def _bad(message: str, line: int) -> ParseError:
    """A :class:`ParseError` at 1-based ``line`` of the chunk (this parser counts lines,
    so the offset is not needed to find it)."""
    e = ParseError(message, 0)
    e.line = line
    return e


def _number(word: bytes, what: str, line: int) -> float:
    try:
        value = float(word)
    except ValueError:
        value = float("nan")
    if not np.isfinite(value) or abs(value) > _F32_MAX:
        raise _bad(f"{what} {word.decode(errors='replace')!r} is not a number", line)
    return value


def parse_vw_fields(chunk: bytes, dims_log2: int, field_bits: int, namespaces: list[str]) -> Batch:
    """Whole lines of VW text -> a :class:`Batch` of packed FFM ids.

    Raises:
        ParseError: at its line of the chunk, for a namespace not in ``namespaces``, a
            label, value or scale that is not a finite number.
    """
    field_of = {ns.encode(): i for i, ns in enumerate(namespaces)}
    low = dims_log2 - field_bits
    low_mask = (1 << low) - 1
    indptr, ids, values, labels = [0], [], [], []
    for n, line in enumerate(chunk.split(b"\n"), 1):
        if not line.strip():
            continue
        if b"|" not in line:
            raise _bad("no '|namespace' section in a VW line", n)
        label, sections = _sections(line)
        labels.append(_number(label, "label", n) > 0)
        for ns_word, words in sections:
            name, _, scale_text = ns_word.partition(b":")
            scale = np.float32(_number(scale_text, "namespace scale", n)) if scale_text else None
            field = field_of.get(name)
            if field is None:
                raise _bad(
                    f"namespace {name.decode(errors='replace')!r} is not one of the "
                    f"model's fields {namespaces}",
                    n,
                )
            for word in words:
                feature, _, value_text = word.partition(b":")
                value = np.float32(_number(value_text, "value", n)) if value_text else None
                if scale is not None:
                    value = (np.float32(1) if value is None else value) * scale
                ids.append(hash_feature(feature, name) & low_mask | field << low)
                values.append(np.float32(1) if value is None else value)
        indptr.append(len(ids))
    vals = np.array(values, np.float32)
    return Batch(
        np.array(indptr, np.int64),
        np.array(ids, np.int64),
        None if np.all(vals == 1) else vals,
        np.array(labels, np.float32),
    )


def read_vw_fields(
    path,
    dims_log2: int,
    field_bits: int,
    fields: int,
    namespaces: list[str],
    chunk_bytes: int = CHUNK_BYTES,
) -> Iterator[Batch]:
    """Streams VW text (optionally gzip) as FFM :class:`Batch` chunks.

    Raises:
        ValueError: ``PATH:LINE: vw: ...`` for a malformed line; more namespaces than
            ``fields``; an empty file.
    """
    if not namespaces or len(namespaces) > fields:
        raise ValueError(
            f"{os.fspath(path)}: {len(namespaces)} namespaces {namespaces} as fields of an "
            f"FFM with {fields} fields; pass fields >= {max(len(namespaces), 1)}"
        )
    return read_rows(
        path, lambda c: parse_vw_fields(c, dims_log2, field_bits, namespaces), "vw", chunk_bytes
    )
