"""Cutting the training stream into per-worker partitions, step by step.

The stream is cut into global minibatches exactly as ``SparseLRTrainer.partial_fit``
cuts it (each input chunk into slices of ``batch_size`` rows), and each global
minibatch into ``num_workers`` contiguous slices of near-equal size (some may be
empty). Worker ``w`` gets slice ``w`` of every global step, so in sync mode step ``t``
of the job sees exactly the rows of single-process step ``t``.

A partition file is a sequence of :mod:`miniflow.ps.wire` frames, one per step, with
arrays ``indptr``, ``indices`` (int64, so any key space), ``labels`` and optionally
``values``. ``manifest.json`` records the step count and the rows of every step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import numpy as np

from miniflow.core.atomic_file import AtomicFile, atomic_write
from miniflow.ml.data import Batch
from miniflow.ps import wire
from miniflow.ps.validation import check_batch

__all__ = ["Partitions", "write_partitions", "read_partition", "load_partitions"]


@dataclass
class Partitions:
    """Where the partitions are and how the steps are made."""

    directory: str
    num_workers: int
    batch_size: int
    step_rows: list[int]

    @property
    def steps(self) -> int:
        return len(self.step_rows)

    @property
    def rows(self) -> int:
        return int(sum(self.step_rows))

    def path(self, worker: int) -> str:
        return os.path.join(self.directory, f"worker-{worker}.frames")


def write_partitions(
    batches: Iterable[Batch],
    directory,
    num_workers: int,
    batch_size: int,
    dims_log2: int | None = None,
) -> Partitions:
    """Reads ``batches`` once and writes one partition file per worker.

    With ``dims_log2`` every row is checked first (:func:`check_batch`); an input
    without rows is refused (``ValueError``).
    """
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    parts = Partitions(directory, num_workers, int(batch_size), [])
    files: list[AtomicFile] = []
    try:
        for w in range(num_workers):
            files.append(AtomicFile(parts.path(w), temp=parts.path(w) + ".part"))
        for chunk in batches:
            if dims_log2 is not None:
                check_batch(chunk, dims_log2, parts.rows)
            for start in range(0, len(chunk), batch_size):
                stop = min(start + batch_size, len(chunk))
                bounds = start + (np.arange(num_workers + 1) * (stop - start)) // num_workers
                for w, f in enumerate(files):
                    _write_step(f.file, chunk.slice(int(bounds[w]), int(bounds[w + 1])))
                parts.step_rows.append(stop - start)
        if not parts.rows:
            raise ValueError("the training input has no rows")
    except BaseException:  # a refused or interrupted input leaves no partial files behind
        for f in files:
            f.abort()
        raise
    for f in files:
        f.commit()
    manifest = {
        "num_workers": num_workers,
        "batch_size": parts.batch_size,
        "step_rows": parts.step_rows,
    }
    data = json.dumps(manifest).encode()
    atomic_write(os.path.join(directory, "manifest.json"), data)
    return parts


def load_partitions(directory) -> Partitions:
    """The :class:`Partitions` described by ``directory/manifest.json``."""
    directory = os.fspath(directory)
    with open(os.path.join(directory, "manifest.json")) as f:
        m = json.load(f)
    return Partitions(directory, m["num_workers"], m["batch_size"], m["step_rows"])


def _write_step(f, b: Batch) -> None:
    arrays = {
        "indptr": b.indptr - b.indptr[0],
        "indices": np.asarray(b.indices, np.int64),
        "labels": np.asarray(b.labels, np.float32),
    }
    if b.values is not None:
        arrays["values"] = np.asarray(b.values, np.float32)
    wire.write_frame(f, {"rows": len(b)}, arrays)


def read_partition(path) -> Iterator[Batch]:
    """The steps of one partition file, as batches (possibly empty)."""
    with open(path, "rb") as f:
        while (frame := wire.read_frame(f)) is not None:
            _, a = frame
            yield Batch(a["indptr"], a["indices"], a.get("values"), a["labels"])
