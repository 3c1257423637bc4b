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
import os
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

__all__ = ["Batch", "iter_chunks", "parse_libsvm", "parse_vw", "read_libsvm", "read_vw",
           "read_file", "hash_feature", "concat_batches"]

CHUNK_BYTES = 1 << 20
_COLON, _NEWLINE, _MINUS, _PLUS, _DOT = 58, 10, 45, 43, 46


@dataclass
class Batch:
    """Rows of a sparse binary-classification data set in CSR form.

    Attributes:
        indptr: int64 (n_rows + 1,) row offsets into ``indices``.
        indices: int64 feature ids (already reduced to the model's dimension).
        values: float32 feature values, or None when every value is 1 (one-hot data).
        labels: float32 (n_rows,) in {0, 1} (libsvm -1/+1 and VW -1/1 become 0/1).
    """

    indptr: np.ndarray
    indices: np.ndarray
    values: np.ndarray | None
    labels: np.ndarray

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def nnz(self) -> int:
        return len(self.indices)

    def slice(self, start: int, stop: int) -> Batch:
        """Rows ``start:stop`` (views, no copy of the feature arrays)."""
        lo, hi = self.indptr[start], self.indptr[stop]
        return Batch(self.indptr[start:stop + 1] - lo, self.indices[lo:hi],
                     None if self.values is None else self.values[lo:hi], self.labels[start:stop])

    def row_ids(self) -> np.ndarray:
        """The row of every stored feature (length nnz)."""
        return np.repeat(np.arange(len(self), dtype=np.int64), np.diff(self.indptr))

    def to_csr(self, n_features: int):
        """A ``scipy.sparse.csr_matrix`` of shape (n_rows, n_features)."""
        import scipy.sparse as sp

        values = np.ones(self.nnz, np.float32) if self.values is None else self.values
        return sp.csr_matrix((values, self.indices, self.indptr), shape=(len(self), n_features))

    @classmethod
    def from_csr(cls, X, labels) -> Batch:
        """Wraps a SciPy CSR matrix (and labels) without densifying anything."""
        import scipy.sparse as sp

        X = sp.csr_matrix(X)
        return cls(X.indptr.astype(np.int64), X.indices.astype(np.int64),
                   X.data.astype(np.float32), np.asarray(labels, np.float32))


def concat_batches(batches: list[Batch]) -> Batch:
    """Stacks batches row-wise."""
    if len(batches) == 1:
        return batches[0]
    offsets = np.cumsum([0] + [b.nnz for b in batches])
    indptr = np.concatenate([batches[0].indptr[:1]] +
                            [b.indptr[1:] + off for b, off in zip(batches, offsets)])
    values = None
    if any(b.values is not None for b in batches):
        values = np.concatenate([np.ones(b.nnz, np.float32) if b.values is None else b.values
                                 for b in batches])
    return Batch(indptr, np.concatenate([b.indices for b in batches]), values,
                 np.concatenate([b.labels for b in batches]))


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
            block = tail + block
            cut = block.rfind(b"\n") + 1
            if cut == 0:  # no newline yet: a line longer than the chunk
                tail = block
                continue
            tail = block[cut:]
            yield block[:cut]
        if tail.strip():
            yield tail + b"\n"


# -- libsvm -------------------------------------------------------------------------------
def _fields(b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start and end offsets of the runs of non-separator bytes (whitespace and ':')."""
    body = np.empty(len(b) + 2, dtype=np.bool_)
    body[0] = body[-1] = False
    np.greater(b, 32, out=body[1:-1])
    body[1:-1] &= b != _COLON
    edges = np.flatnonzero(body[1:] != body[:-1])
    return edges[0::2], edges[1::2]


def _uints(d: np.ndarray, starts: np.ndarray, lens: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Decimal digit runs -> (int64 values, mask of runs holding a non-digit).

    ``d`` is the chunk's bytes minus ord('0'), so a digit is ``d <= 9``. Runs are
    grouped by length and each group is folded digit by digit (Horner's rule) with one
    gather per digit position: total work is one gather per digit.
    """
    out = np.zeros(len(starts), dtype=np.int64)
    bad = np.zeros(len(starts), dtype=np.bool_)
    if not len(starts):
        return out, bad
    lo, hi = int(lens.min()), int(lens.max())
    if lo < 1 or hi > 18:
        return out, np.ones(len(starts), np.bool_)
    for length in range(lo, hi + 1):
        sel = None if lo == hi else np.flatnonzero(lens == length)
        s = starts if sel is None else starts[sel]
        if not len(s):
            continue
        digit = d[s]
        acc = digit.astype(np.int64)
        wrong = digit > 9
        for k in range(1, length):
            digit = d[s + k]
            wrong |= digit > 9
            acc *= 10
            acc += digit
        if sel is None:
            return acc, wrong
        out[sel] = acc
        bad[sel] = wrong
    return out, bad


def _floats(chunk: bytes, b: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Numeric fields -> float64: vectorised for [+-]digits, else Python float()."""
    if not len(starts):
        return np.zeros(0)
    first = b[starts]
    sign = np.where(first == _MINUS, -1.0, 1.0)
    s = starts + ((first == _MINUS) | (first == _PLUS))
    values, bad = _uints(b - np.uint8(48), s, ends - s)
    if not bad.any():
        return sign * values
    try:
        return np.array([float(chunk[i:j]) for i, j in zip(starts.tolist(), ends.tolist())])
    except ValueError as e:
        raise ValueError(f"libsvm: bad number in chunk: {e}") from None


def _field_roles(b: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """(is_label, is_value, has_value) per field.

    A label is the first field of a line, a value follows a ':' and an index with a
    value is followed by one. When every gap between fields is one byte (the normal
    case) the byte before a field decides; otherwise newlines are counted.
    """
    n = len(b)
    prev = b[np.maximum(starts - 1, 0)]
    is_value = (prev == _COLON) & (starts > 0)
    has_value = (b[np.minimum(ends, n - 1)] == _COLON) & (ends < n)
    is_label = np.empty(len(starts), np.bool_)
    is_label[0] = True
    if (starts[1:] - ends[:-1] == 1).all():
        np.equal(prev[1:], _NEWLINE, out=is_label[1:])
    else:
        newlines = np.cumsum(b == _NEWLINE, dtype=np.int64)
        line = newlines[starts]
        np.not_equal(line[1:], line[:-1], out=is_label[1:])
    return is_label, is_value, has_value


def parse_libsvm(chunk: bytes, dims_log2: int | None = None) -> Batch:
    """Parses whole lines of libsvm/svmlight text into a :class:`Batch`.

    Accepts ``label idx:val ...``, the binary form ``label idx idx ...``, mixtures,
    ``qid:N`` (ignored), ``#`` comments and blank lines. Labels > 0 become 1, others 0.
    Indices are kept as given, reduced modulo ``2**dims_log2`` when that is set.

    Raises:
        ValueError: a feature index that is not a non-negative integer.
    """
    if b"#" in chunk:
        chunk = b"\n".join(line.split(b"#", 1)[0] for line in chunk.split(b"\n"))
    b = np.frombuffer(chunk, dtype=np.uint8)
    starts, ends = _fields(b)
    if len(starts) == 0:
        return Batch(np.zeros(1, np.int64), np.zeros(0, np.int64), None, np.zeros(0, np.float32))
    is_label, is_value, has_value = _field_roles(b, starts, ends)
    row = np.cumsum(is_label) - 1  # the row of every field

    idx_f = np.flatnonzero(~(is_label | is_value))
    s, e = starts[idx_f], ends[idx_f]
    indices, bad = _uints(b - np.uint8(48), s, e - s)
    if bad.any():
        qid = (e - s == 3) & (b[s] == ord("q")) & (b[s + 1] == ord("i")) & (b[s + 2] == ord("d"))
        wrong = bad & ~qid
        if wrong.any():
            i = idx_f[np.argmax(wrong)]
            text = chunk[starts[i]:ends[i]].decode(errors="replace")
            raise ValueError(f"libsvm: feature index {text!r} in row {row[i] + 1} of the chunk "
                             "is not a non-negative integer")
        idx_f, indices = idx_f[~bad], indices[~bad]
    if dims_log2 is not None:
        indices &= (1 << dims_log2) - 1

    with_value = has_value[idx_f]
    val_f = idx_f[with_value] + 1
    if len(val_f) == 0 or ((ends[val_f] - starts[val_f] == 1).all() and (b[starts[val_f]] == 49).all()):
        values = None  # every value is exactly "1": one-hot data, no value array needed
    else:
        values = np.ones(len(idx_f), np.float32)
        values[with_value] = _floats(chunk, b, starts[val_f], ends[val_f])

    lab_f = np.flatnonzero(is_label)
    labels = (_floats(chunk, b, starts[lab_f], ends[lab_f]) > 0).astype(np.float32)
    counts = np.bincount(row[idx_f], minlength=len(lab_f))
    indptr = np.zeros(len(lab_f) + 1, np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Batch(indptr, indices, values, labels)


def read_libsvm(path, dims_log2: int | None = None, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Batch]:
    """Streams a libsvm/svmlight file (optionally gzip) as :class:`Batch` chunks."""
    for chunk in iter_chunks(path, chunk_bytes):
        batch = parse_libsvm(chunk, dims_log2)
        if len(batch):
            yield batch


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


def parse_vw(chunk: bytes, dims_log2: int, memo: dict | None = None) -> Batch:
    """Parses Vowpal Wabbit text lines: ``label [importance] [tag]|ns f f:v ... |ns2 ...``.

    Namespaces may carry a scale (``|ns:0.5``); labels > 0 become 1. Feature ids are
    :func:`hash_feature` reduced to ``dims_log2`` bits. ``memo`` caches the hash of each
    (namespace, feature) seen, so Zipf-distributed categorical data hashes each distinct
    token once.
    """
    memo = {} if memo is None else memo
    mask = (1 << dims_log2) - 1
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
    return Batch(indptr, np.array(indices, np.int64),
                 np.array(values, np.float32) if scaled else None, np.array(labels, np.float32))


def read_vw(path, dims_log2: int, chunk_bytes: int = CHUNK_BYTES) -> Iterator[Batch]:
    """Streams a VW-format text file (optionally gzip) as :class:`Batch` chunks."""
    memo: dict = {}
    for chunk in iter_chunks(path, chunk_bytes):
        if len(memo) > 4_000_000:  # bound the memo's memory on huge vocabularies
            memo.clear()
        batch = parse_vw(chunk, dims_log2, memo)
        if len(batch):
            yield batch


def read_file(path, dims_log2: int, fmt: str = "auto", chunk_bytes: int = CHUNK_BYTES) -> Iterator[Batch]:
    """Streams ``path`` in the given format: ``libsvm``, ``vw``, ``cache`` or ``auto``.

    ``auto`` picks ``cache`` for miniflow cache files, ``vw`` when the first line
    contains ``|``, else ``libsvm``.
    """
    from miniflow.ml.cache import is_cache, read_cache

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
