"""Shard checkpoints: a cheap snapshot under the shard lock, an atomic write outside it.

Taking a snapshot copies the store's used rows (one ``memcpy`` per slot) and the
clocks while the shard lock is held; writing it (``np.savez`` to a temporary file,
``fsync``, ``os.replace``) happens on the :class:`CheckpointWriter`'s thread, so pulls
and pushes of other workers never wait for the disk. Snapshots are numbered: a write
never replaces a newer checkpoint with an older one, and when periodic snapshots come
faster than the disk takes them, only the newest pending one is written.
"""

from __future__ import annotations

import json
import os
import threading

import numpy as np

__all__ = ["CheckpointWriter", "write_atomic", "load"]


def write_atomic(path: str, arrays: dict[str, np.ndarray], meta: dict) -> None:
    """``arrays`` plus ``meta`` (JSON, as a uint8 array) to ``path``, all or nothing."""
    data = {**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), np.uint8)}
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    try:
        with open(tmp, "wb") as f:
            np.savez(f, **data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # a reader sees the old file or the new one, never half
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def load(path: str) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, meta) of a checkpoint written by :func:`write_atomic`."""
    with np.load(path, allow_pickle=False) as z:
        arrays = {k: z[k] for k in z.files if k != "meta"}
        meta = json.loads(z["meta"].tobytes())
    return arrays, meta


class CheckpointWriter:
    """Writes numbered snapshots to one path; ``submit`` returns at once, ``write`` waits.

    Attributes:
        written: number of the newest snapshot on disk (-1: none yet).
        errors: messages of failed writes (a full disk must not kill training, but
            the job reports it).
    """

    def __init__(self, path: str):
        self.path = path
        self.written = -1
        self.errors: list[str] = []
        self._io = threading.Lock()  # one write at a time
        self._cv = threading.Condition()
        self._pending: tuple[int, dict, dict] | None = None
        self._busy = False
        self._thread: threading.Thread | None = None

    def submit(self, seq: int, arrays: dict, meta: dict) -> None:
        """Queues a snapshot for the background thread (replacing an unwritten one)."""
        with self._cv:
            self._pending = (seq, arrays, meta)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="ps-ckpt", daemon=True)
                self._thread.start()
            self._cv.notify()

    def write(self, seq: int, arrays: dict, meta: dict) -> None:
        """Writes a snapshot now (unless a newer one is already on disk)."""
        with self._io:
            if seq <= self.written:
                return
            write_atomic(self.path, arrays, meta)
            self.written = seq

    def flush(self, timeout: float = 60.0) -> None:
        """Waits until the queued snapshot (if any) is on disk."""
        with self._cv:
            self._cv.wait_for(lambda: self._pending is None and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cv:
                self._cv.wait_for(lambda: self._pending is not None)
                seq, arrays, meta = self._pending
                self._pending, self._busy = None, True
            try:
                self.write(seq, arrays, meta)
            except OSError as e:
                self.errors.append(f"{self.path}: {e}")
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
