"""`tf.summary.FileWriterCache`: one shared `FileWriter` per log directory."""

from __future__ import annotations

import threading

from miniflow.graph.graph import get_default_graph
from miniflow.summary.writer import FileWriter


class FileWriterCache:
    """Caches one `FileWriter` per directory (``get(logdir)``; ``clear()`` closes all)."""

    _cache: dict = {}
    _lock = threading.RLock()

    @staticmethod
    def clear() -> None:
        """Closes and forgets every cached writer."""
        with FileWriterCache._lock:
            for writer in FileWriterCache._cache.values():
                writer.close()
            FileWriterCache._cache = {}

    @staticmethod
    def get(logdir) -> FileWriter:
        """The writer for ``logdir``, created (with the default graph) on first use."""
        with FileWriterCache._lock:
            if logdir not in FileWriterCache._cache:
                FileWriterCache._cache[logdir] = FileWriter(logdir, graph=get_default_graph())
            return FileWriterCache._cache[logdir]
