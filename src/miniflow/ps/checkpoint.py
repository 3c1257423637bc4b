"""Shard checkpoints: incremental, snapshotted under the shard lock, written outside it.

A checkpoint is a chain: a **full** file (``shard-i.ckpt.npz``: every key's row) and
**deltas** beside it (``shard-i.ckpt.npz.delta-<base>-<seq>``: only the rows written
since the previous snapshot, plus the clocks and counters). Taking a delta copies just
the rows the :class:`~miniflow.ps.keystore.ArrayKeyStore` marked dirty, so the time a
periodic checkpoint holds the shard lock and the bytes it writes follow the keys
touched in the interval, not the model size. A full snapshot is taken on request (the
end of a job), first after a (re)start, and when the deltas since the last one hold
more rows than half the store; writing it deletes the older deltas.

Writing (``np.savez`` to a temporary file, ``fsync``, ``os.replace``) happens after the
lock is released, in the thread of the request that made the checkpoint due, so other
workers' pulls and pushes never wait for the disk, while that request's reply does: a
shard that acknowledged an update past a checkpoint has that checkpoint on disk, so a
crash loses at most one interval. Snapshots are numbered and written in order; a full
one makes older pending ones moot. A failed write (full disk) is reported and makes the
next snapshot a full one, and restoring stops at the first missing delta.
"""

from __future__ import annotations

import glob
import json
import os
import threading

import numpy as np

from miniflow.core.atomic_file import atomic_write

__all__ = ["CheckpointWriter", "write_atomic", "load", "load_chain", "delta_path"]


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


def delta_path(path: str, base: str, seq: int) -> str:
    """Where the delta ``seq`` on top of the full snapshot ``base`` lives."""
    return f"{path}.delta-{base}-{seq:09d}"


def _deltas(path: str) -> list[str]:
    return glob.glob(glob.escape(path) + ".delta-*")


def load_chain(path: str) -> tuple[dict[str, np.ndarray], dict, list[tuple[dict, dict]]]:
    """(arrays, meta) of the full checkpoint at ``path`` and the ``(arrays, meta)`` of
    its deltas in order, up to the first one missing."""
    arrays, meta = load(path)
    base = meta.get("id")
    mine = sorted(p for p in _deltas(path) if base and f".delta-{base}-" in p)
    chain, expect = [], meta.get("seq", 0) + 1
    for p in mine:
        try:
            d_arrays, d_meta = load(p)
        except (OSError, ValueError):
            break  # unreadable: the chain ends before it
        if d_meta.get("seq") != expect:
            break
        chain.append((d_arrays, d_meta))
        expect += 1
    return arrays, meta, chain


class CheckpointWriter:
    """Writes numbered snapshots of one shard in order: fulls to ``path``, deltas beside.

    Attributes:
        written: number of the newest snapshot on disk (-1: none yet).
        errors: messages of failed writes (a full disk must not kill training, but
            the job reports it).
        broken: a delta could not be written; later deltas are useless until the next
            full snapshot (the shard asks for one).
    """

    def __init__(self, path: str):
        self.path = path
        self.written = -1
        self.errors: list[str] = []
        self.broken = False
        self.bytes_written = 0
        self._pending: dict[int, tuple[dict, dict]] = {}
        self._lock = threading.Lock()
        self._io = threading.Lock()

    def write(self, seq: int, arrays: dict, meta: dict) -> None:
        """Writes snapshot ``seq`` and every older pending one, in order (a full one
        makes the older ones moot). Raises ``OSError`` if a write failed."""
        with self._lock:
            self._pending[seq] = (arrays, meta)
        with self._io:
            with self._lock:
                todo, self._pending = sorted(self._pending.items()), {}
            fulls = [s for s, (_, m) in todo if m.get("kind", "full") == "full"]
            if fulls:
                todo = [(s, x) for s, x in todo if s >= fulls[-1]]
            failure = None
            for s, (a, m) in todo:
                if s <= self.written:
                    continue
                full = m.get("kind", "full") == "full"
                if not full and self.broken:
                    continue
                target = self.path if full else delta_path(self.path, m["base"], s)
                try:
                    write_atomic(target, a, m)
                except OSError as e:
                    self.broken = True
                    failure = failure or e
                    continue
                self.bytes_written += os.path.getsize(target)
                self.written = s
                if full:
                    self.broken = False
                    for old in _deltas(self.path):  # the full one holds all they did
                        try:
                            os.remove(old)
                        except OSError:
                            pass
            if failure is not None:
                raise failure
