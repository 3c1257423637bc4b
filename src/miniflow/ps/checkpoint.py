"""Shard checkpoints: a cheap snapshot under the shard lock, an atomic write outside it.

Taking a snapshot copies the store's used rows (one ``memcpy`` per slot) and the
clocks while the shard lock is held; writing it (``np.savez`` to a temporary file,
``fsync``, ``os.replace``) happens after the lock is released, in the thread of the
request that made the checkpoint due, so other workers' pulls and pushes (and stats)
never wait for the disk, while that request's reply does: a shard that acknowledged an
update past a checkpoint has that checkpoint on disk, so a crash loses at most one
interval. Snapshots are numbered: a write never replaces a newer checkpoint with an
older one.
"""

from __future__ import annotations

import json
import threading

import numpy as np

from miniflow.graph.file_io import atomic_write

__all__ = ["CheckpointWriter", "write_atomic", "load"]


def write_atomic(path: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """``arrays`` plus ``meta`` (JSON, as a uint8 array) to ``path``, all or nothing."""
    data = {**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    # a reader sees the old file or the new one, never half
    atomic_write(path, lambda f: np.savez(f, **data))


def load(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a checkpoint written by :func:`write_atomic`."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(z["meta"].tobytes())
    return arrays, meta


class CheckpointWriter:
    """Writes numbered snapshots to one path, one write at a time, never older over newer.

    Attributes:
        written: number of the newest snapshot on disk (-1: none yet).
        errors: messages of failed writes (a full disk must not kill training, but
            the job reports it).
    """

    def __init__(self, path: str):
        self.path = path
        self.written = -1
        self.errors: list[str] = []
        self._io = threading.Lock()

    def write(self, seq: int, arrays: dict, meta: dict) -> None:
        """Writes snapshot ``seq`` (unless a newer one is already on disk)."""
        with self._io:
            if seq <= self.written:
                return
            write_atomic(self.path, arrays, meta)
            self.written = seq
