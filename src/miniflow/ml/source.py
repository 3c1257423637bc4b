"""Re-iterable training data: the text file on the first pass, its binary cache after."""

from __future__ import annotations

import os
from collections.abc import Iterator

from miniflow.ml.cache import CacheWriter, is_complete_cache, read_cache
from miniflow.ml.data import CHUNK_BYTES, Batch, read_file
from miniflow.ml.text_rows import BadRows

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
        path: libsvm, VW, CSV (optionally gzip) or cache file.
        dims_log2: feature ids are reduced to this many bits.
        fmt: ``auto``, ``libsvm``, ``vw``, ``csv`` or ``cache``.
        cache: path of the cache file, or None for no cache.
        block_rows: rows per cached block (use the trainer's batch size; ``"auto"``
            is 4096, the size its automatic batches reach).
        skip_bad_rows: skip text rows that fail to parse instead of raising; the last
            pass over the text counts them in :attr:`bad_rows`.
        label_col: the label column of a CSV file (position or header name).

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
        skip_bad_rows: bool = False,
        label_col: int | str = 0,
    ):
        self.path = os.fspath(path)
        self.dims_log2 = dims_log2
        self.fmt = fmt
        self.cache = None if cache is None else os.fspath(cache)
        self.chunk_bytes = chunk_bytes
        self.block_rows = 4096 if block_rows == "auto" else int(block_rows)
        self.skip_bad_rows = skip_bad_rows
        self.label_col = label_col
        self.bad_rows: BadRows | None = BadRows() if skip_bad_rows else None

    @property
    def cached(self) -> bool:
        """True once a complete cache exists for this source."""
        return self.cache is not None and is_complete_cache(self.cache, self.dims_log2)

    def __iter__(self) -> Iterator[Batch]:
        if self.cached:
            yield from read_cache(self.cache, self.dims_log2)
            return
        if self.skip_bad_rows:
            self.bad_rows = BadRows()  # this pass's count
        batches = self._read_text()
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

    def _read_text(self) -> Iterator[Batch]:
        """The text pass's batches (a subclass reads other formats, e.g. ``FMSource``)."""
        return read_file(
            self.path, self.dims_log2, self.fmt, self.chunk_bytes, self.bad_rows, self.label_col
        )
