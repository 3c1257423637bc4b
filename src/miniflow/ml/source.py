"""Re-iterable training data: the text file on the first pass, its binary cache after."""

from __future__ import annotations

import os
from collections.abc import Iterator

from miniflow.ml.cache import CacheWriter, is_complete_cache, read_cache
from miniflow.ml.data import CHUNK_BYTES, Batch, read_file

__all__ = ["DataSource"]


class DataSource:
    """Iterating yields the file's :class:`~miniflow.ml.data.Batch` chunks, every time.

    With ``cache`` set, the first complete pass over the text also writes the binary
    cache (:mod:`miniflow.ml.cache`); every later pass (and later runs) read the cache
    instead of parsing. A pass that stops early (Ctrl-C, an error) discards the
    partial cache. While writing the cache the source yields blocks of ``block_rows``
    rows and stores each one *after* the consumer is done with it, so the
    de-duplication a :class:`~miniflow.ml.sparse_lr.SparseLRTrainer` attaches to a
    minibatch of that size is cached too.

    Args:
        path: libsvm, VW (optionally gzip) or cache file.
        dims_log2: feature ids are reduced to this many bits.
        fmt: ``auto``, ``libsvm``, ``vw`` or ``cache``.
        cache: path of the cache file, or None for no cache.
        block_rows: rows per cached block (use the trainer's batch size; ``"auto"``
            is 4096, the size its automatic batches reach).

    Example:
        >>> src = DataSource("train.svm", 22, cache="train.svm.cache")  # doctest: +SKIP
        >>> trainer.fit(src, epochs=3)                                  # doctest: +SKIP
    """

    def __init__(
        self,
        path,
        dims_log2: int,
        fmt: str = "auto",
        cache=None,
        chunk_bytes: int = CHUNK_BYTES,
        block_rows: int | str = 4096,
    ):
        self.path = os.fspath(path)
        self.dims_log2 = dims_log2
        self.fmt = fmt
        self.cache = None if cache is None else os.fspath(cache)
        self.chunk_bytes = chunk_bytes
        self.block_rows = 4096 if block_rows == "auto" else int(block_rows)

    @property
    def cached(self) -> bool:
        """True once a complete cache exists for this source."""
        return self.cache is not None and is_complete_cache(self.cache, self.dims_log2)

    def __iter__(self) -> Iterator[Batch]:
        if self.cached:
            yield from read_cache(self.cache, self.dims_log2)
            return
        batches = read_file(self.path, self.dims_log2, self.fmt, self.chunk_bytes)
        if self.cache is None:
            yield from batches
            return
        writer = CacheWriter(self.cache, self.dims_log2)
        complete = False
        try:
            for chunk in batches:
                for block in chunk.split(self.block_rows):
                    yield block
                    writer.write(block)  # after the consumer: with its de-duplication
            complete = True
        finally:
            if complete:
                writer.close()
            else:
                writer.abort()
