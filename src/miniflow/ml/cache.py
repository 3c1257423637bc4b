"""Binary cache of parsed data: CSR blocks that later epochs read at memory speed.

File layout (little-endian)::

    b"MFCSR\\x00\\x02\\x00"                    magic + format version 2
    int64 header_len, header_len bytes of JSON   {"dims_log2": D, "version": 2}
    block*:  int64[4] (n_rows, nnz, flags, n_keys)   flags: 1 = values, 2 = de-duplicated
             int64[n_rows+1] indptr
             uint32[nnz] indices                  (not de-duplicated), or
             uint32[n_keys] keys, int32[nnz] local   (de-duplicated: indices = keys[local])
             float32[nnz] values (only with flag 1), float32[n_rows] labels
    int64[4] (-1, 0, 0, 0)                       end marker: the file is complete

Feature ids are stored as uint32, so a cache serves models up to 2^32 dimensions.
A block that the trainer has de-duplicated (``Batch.keys``/``Batch.local``) is stored
with that mapping, so later epochs skip the de-duplication too.
A file without the end marker (an interrupted first pass) is reported as incomplete
and is not used.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator

import numpy as np

from miniflow.core.atomic_file import AtomicFile
from miniflow.ml.batch import Batch

__all__ = ["CacheWriter", "read_cache", "is_cache", "is_complete_cache", "write_cache"]

MAGIC = b"MFCSR\x00\x02\x00"
_END = np.array([-1, 0, 0, 0], np.int64)
_VALUES, _DEDUP = 1, 2


class CacheWriter:
    """Appends batches to a cache file; :meth:`close` writes the end marker.

    Written to ``path + ".part"`` and renamed on close (an :class:`AtomicFile`), so a
    reader never sees a half-written file under the final name.
    """

    def __init__(self, path, dims_log2: int):
        self.path = os.fspath(path)
        self._out = AtomicFile(self.path, temp=self.path + ".part")
        self._f = self._out.file
        header = json.dumps({"dims_log2": dims_log2, "version": 2}).encode()
        self._f.write(MAGIC)
        self._f.write(np.int64(len(header)).tobytes())
        self._f.write(header)

    def write(self, batch: Batch) -> None:
        dedup = batch.keys is not None
        flags = (_VALUES if batch.values is not None else 0) | (_DEDUP if dedup else 0)
        n_keys = len(batch.keys) if dedup else 0
        w = self._f.write
        w(np.array([len(batch), batch.nnz, flags, n_keys], np.int64).tobytes())
        w(np.ascontiguousarray(batch.indptr - batch.indptr[0], np.int64).tobytes())
        if dedup:
            w(np.ascontiguousarray(batch.keys, np.uint32).tobytes())
            w(np.ascontiguousarray(batch.local, np.int32).tobytes())
        else:
            w(np.ascontiguousarray(batch.indices, np.uint32).tobytes())
        if batch.values is not None:
            w(np.ascontiguousarray(batch.values, np.float32).tobytes())
        w(np.ascontiguousarray(batch.labels, np.float32).tobytes())

    def close(self) -> None:
        self._f.write(_END.tobytes())
        self._out.commit()

    def abort(self) -> None:
        """Drops the partial file (e.g. after Ctrl-C)."""
        self._out.abort()


def write_cache(path, batches: Iterable[Batch], dims_log2: int) -> None:
    """Writes every batch to a complete cache file."""
    w = CacheWriter(path, dims_log2)
    try:
        for b in batches:
            w.write(b)
    except BaseException:
        w.abort()
        raise
    w.close()


def _header(f) -> dict:
    if f.read(len(MAGIC)) != MAGIC:
        raise ValueError(f"{f.name}: not a miniflow cache file (bad magic)")
    n = int(np.frombuffer(f.read(8), np.int64)[0])
    return json.loads(f.read(n))


def is_cache(path) -> bool:
    """True if ``path`` starts with the cache magic."""
    try:
        with open(path, "rb") as f:
            return f.read(len(MAGIC)) == MAGIC
    except OSError:
        return False


def is_complete_cache(path, dims_log2: int | None = None) -> bool:
    """True if ``path`` is a cache with its end marker (and for ``dims_log2`` if given)."""
    if not is_cache(path):
        return False
    with open(path, "rb") as f:
        header = _header(f)
        f.seek(-_END.nbytes, os.SEEK_END)
        done = np.array_equal(np.frombuffer(f.read(_END.nbytes), np.int64), _END)
    return done and (dims_log2 is None or header["dims_log2"] >= dims_log2)


def read_cache(path, dims_log2: int | None = None) -> Iterator[Batch]:
    """Streams the batches of a cache file (one block in memory at a time).

    Args:
        dims_log2: reduce indices to this many bits (must be <= the cache's).

    Raises:
        ValueError: not a cache, or cached with fewer bits than requested.
    """
    with open(path, "rb") as f:
        header = _header(f)
        if dims_log2 is not None and dims_log2 > header["dims_log2"]:
            raise ValueError(
                f"{path}: cached with dims_log2={header['dims_log2']}, cannot serve "
                f"{dims_log2}; delete the cache to rebuild it"
            )
        reduce = dims_log2 is not None and dims_log2 < header["dims_log2"]
        mask = (1 << dims_log2) - 1 if reduce else 0
        while True:
            n_rows, nnz, flags, n_keys = (int(x) for x in np.fromfile(f, np.int64, 4))
            if n_rows < 0:
                return
            indptr = np.fromfile(f, np.int64, n_rows + 1)
            keys = local = None
            if flags & _DEDUP:
                keys = np.fromfile(f, np.uint32, n_keys).astype(np.int64)
                local = np.fromfile(f, np.int32, nnz)
                indices = keys[local]
            else:
                indices = np.fromfile(f, np.uint32, nnz).astype(np.int64)
            if reduce:  # fewer bits than cached: keys may merge, so drop the mapping
                indices &= mask
                keys = local = None
            values = np.fromfile(f, np.float32, nnz) if flags & _VALUES else None
            labels = np.fromfile(f, np.float32, n_rows)
            yield Batch(indptr, indices, values, labels, keys, local)
