"""Cutting the training stream into per-worker slices, step by step.

The stream is cut into global minibatches exactly as ``SparseLRTrainer.partial_fit``
cuts it (each input chunk into slices of ``batch_size`` rows), and each global
minibatch into ``num_workers`` contiguous slices of near-equal size (some may be
empty): :func:`cut_steps`. Worker ``w`` gets slice ``w`` of every global step, so in
sync mode step ``t`` of the job sees exactly the rows of single-process step ``t``.

Two ways to get a worker its slices:

* :class:`StreamedInput` (``miniflow lr|fm train --ps-shards``, and ``PSJob.run`` of a
  file source): every worker streams the input files itself and keeps its own slice
  of every step. Nothing is written, and no process but the worker reads its rows;
  the price is that each worker parses the whole input (M times the parsing CPU of
  one pass), which is what keeps sync training equal to single-process training.
* :func:`write_partitions` (``PSJob.run`` of any other iterable of batches, which
  other processes cannot re-read): the coordinator reads the stream once and writes
  one partition file per worker, a sequence of :mod:`miniflow.core.wire` frames, one per
  step, with arrays ``indptr``, ``indices`` (int64, so any key space), ``labels`` and
  optionally ``values``; ``manifest.json`` records the rows of every step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass

import numpy as np

from miniflow.core import wire
from miniflow.core.atomic_file import AtomicFile, atomic_write
from miniflow.ml.data import Batch
from miniflow.ps.validation import check_batch

__all__ = [
    "Partitions",
    "StreamedInput",
    "cut_steps",
    "write_partitions",
    "read_partition",
    "load_partitions",
    "open_input",
]


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


@dataclass
class StreamedInput:
    """Input every worker reads itself (JSON-serialisable: sent to worker processes).

    Attributes:
        paths: the training files, read in order by every worker.
        fmt: their format (``auto``, ``libsvm``, ``vw``, ``cache``; ``libffm`` for FFM).
        dims_log2, num_workers, batch_size: as the job's.
        model, field_bits, fields: ``lr``, or ``fm``/``ffm`` (read with the FM reader).
    """

    paths: list[str]
    fmt: str
    dims_log2: int
    num_workers: int
    batch_size: int
    model: str = "lr"
    field_bits: int = 0
    fields: int = 0

    rows = None  # known only when the workers have read it (they report it in ``done``)
    steps = None

    def path(self, worker: int) -> dict:
        """Worker ``worker``'s input descriptor (for :func:`open_input`)."""
        return {**asdict(self), "worker": worker}

    def source(self) -> Iterator[Batch]:
        """One pass over the files, in the chunks the single-process command reads."""
        for path in self.paths:
            if self.model == "lr":
                from miniflow.ml.source import DataSource

                yield from DataSource(path, self.dims_log2, self.fmt)
            else:
                from miniflow.ml.fm_data import FMSource

                yield from FMSource(path, self.dims_log2, self.fmt, self.field_bits, self.fields)

    def check(self) -> None:
        """Fails fast (``ValueError``/``FileNotFoundError``) on a missing file, an empty
        one or a bad first block, before any process starts; the workers check every
        row as they read."""
        for path in self.paths:
            if not os.path.isfile(path):
                raise FileNotFoundError(f"{path}: no such file")
        first = next(iter(self.source()), None)
        if first is None:
            raise ValueError("the training input has no rows")
        check_batch(first, self.dims_log2, 0)


def cut_steps(
    batches: Iterable[Batch], num_workers: int, batch_size: int, dims_log2: int | None = None
) -> Iterator[list[Batch]]:
    """The ``num_workers`` slices of each global step of ``batches`` (with
    ``dims_log2``, every row checked first by :func:`check_batch`)."""
    seen = 0
    for chunk in batches:
        if dims_log2 is not None:
            check_batch(chunk, dims_log2, seen)
        seen += len(chunk)
        for start in range(0, len(chunk), batch_size):
            stop = min(start + batch_size, len(chunk))
            bounds = start + (np.arange(num_workers + 1) * (stop - start)) // num_workers
            yield [chunk.slice(int(bounds[w]), int(bounds[w + 1])) for w in range(num_workers)]


def open_input(descriptor: str | dict) -> Callable[[], Iterator[Batch]]:
    """A function returning one pass of a worker's steps: from its partition file (a
    path) or, for a :meth:`StreamedInput.path` descriptor, from the input files."""
    if isinstance(descriptor, str):
        return lambda: read_partition(descriptor)
    spec = dict(descriptor)
    worker = spec.pop("worker")
    streamed = StreamedInput(**spec)

    def steps() -> Iterator[Batch]:
        cut = cut_steps(
            streamed.source(), streamed.num_workers, streamed.batch_size, streamed.dims_log2
        )
        for slices in cut:
            yield slices[worker]

    return steps


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
        for slices in cut_steps(batches, num_workers, batch_size, dims_log2):
            for f, part in zip(files, slices, strict=True):
                _write_step(f.file, part)
            parts.step_rows.append(sum(len(p) for p in slices))
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
