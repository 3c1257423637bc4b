"""Server-side micro-batching: concurrent predict calls on one servable become one call.

Request threads enqueue their (already checked) inputs and wait. One worker thread
takes the oldest request, waits until requests with the same signature and input
layout add up to ``max_batch_size`` rows or the oldest has waited ``timeout_s``, then
runs the servable once on the concatenated inputs and hands each caller its rows.
This trades at most ``timeout_s`` of latency for fewer, larger model calls, as
TensorFlow Serving's ``--enable_batching`` does.

``timeout_s=0`` (``miniflow serve``'s default) is adaptive: the worker never waits. A
request that finds the worker idle runs at once, alone; requests that arrive while a
model call runs queue up and become the next call together. Batches therefore grow
only with load, and an idle server adds no latency.

If a merged call fails (one request with a bad value), each request of the batch is run
alone, so a bad request only fails itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

import numpy as np

from miniflow.serving.signature import Ragged

__all__ = ["MicroBatcher"]


@dataclass
class _Pending:
    key: tuple
    signature_name: str
    inputs: dict
    rows: int
    arrived: float = field(default_factory=time.monotonic)
    future: Future = field(default_factory=Future)


def _layout_key(signature_name: str, inputs: dict) -> tuple:
    """Requests can be merged when they agree on this: dense inputs need equal trailing
    shapes and dtypes; ragged inputs always concatenate."""
    parts = [signature_name]
    for name, v in inputs.items():
        parts.append(
            (name, "ragged") if isinstance(v, Ragged) else (name, v.dtype.str, v.shape[1:])
        )
    return tuple(parts)


def _concat(values: list):
    if isinstance(values[0], Ragged):
        return Ragged.concat(values)
    return np.concatenate(values)


class MicroBatcher:
    """Batches ``predict(signature_name, inputs, rows)`` calls onto ``run``.

    Args:
        run: the servable's ``predict(signature_name, inputs)``.
        max_batch_size: most rows in one merged call; a request at least this large
            runs alone, at once.
        timeout_s: longest time the oldest queued request waits for others.
        on_batch: called with the row count of every merged call (metrics).
    """

    def __init__(
        self,
        run: Callable,
        max_batch_size: int,
        timeout_s: float,
        on_batch: Callable[[int], None] | None = None,
    ):
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be >= 1, got {max_batch_size}")
        self._run = run
        self.max_batch_size = int(max_batch_size)
        self.timeout_s = float(timeout_s)
        self._on_batch = on_batch
        self._queue: list[_Pending] = []
        self._cv = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="micro-batcher", daemon=True)
        self._thread.start()

    def predict(self, signature_name: str, inputs: dict, rows: int) -> dict[str, np.ndarray]:
        if rows >= self.max_batch_size or self._closed:
            return self._run(signature_name, inputs)
        item = _Pending(_layout_key(signature_name, inputs), signature_name, inputs, rows)
        with self._cv:
            self._queue.append(item)
            self._cv.notify()
        return item.future.result()

    def close(self) -> None:
        """Runs what is queued, then stops the worker thread."""
        with self._cv:
            self._closed = True
            self._cv.notify()
        self._thread.join()

    def _loop(self) -> None:
        while True:
            with self._cv:
                while not self._queue and not self._closed:
                    self._cv.wait()
                if not self._queue:
                    return
                batch = self._collect()
            try:
                self._execute(batch)
            except BaseException as e:  # never leave a caller waiting on a dead worker
                for p in batch:
                    if not p.future.done():
                        p.future.set_exception(e)

    def _collect(self) -> list[_Pending]:
        """Waits (lock held, released while waiting) for the oldest request's batch."""
        first = self._queue[0]
        deadline = first.arrived + self.timeout_s
        while True:
            same = [p for p in self._queue if p.key == first.key]
            remaining = deadline - time.monotonic()
            if sum(p.rows for p in same) >= self.max_batch_size or remaining <= 0 or self._closed:
                break
            self._cv.wait(remaining)
        taken, rows = [], 0
        for p in same:
            if taken and rows + p.rows > self.max_batch_size:
                break
            taken.append(p)
            rows += p.rows
        for p in taken:
            self._queue.remove(p)
        return taken

    def _execute(self, batch: list[_Pending]) -> None:
        if len(batch) == 1:
            self._run_alone(batch[0])
            return
        try:
            merged = {n: _concat([p.inputs[n] for p in batch]) for n in batch[0].inputs}
            outputs = self._run(batch[0].signature_name, merged)
        except Exception:  # one bad request must not fail the others: run each alone
            for p in batch:
                self._run_alone(p)
            return
        if self._on_batch is not None:
            self._on_batch(sum(p.rows for p in batch))
        start = 0
        for p in batch:
            p.future.set_result({k: v[start : start + p.rows] for k, v in outputs.items()})
            start += p.rows

    def _run_alone(self, p: _Pending) -> None:
        try:
            result = self._run(p.signature_name, p.inputs)
        except Exception as e:  # delivered to the waiting request thread, which reports it
            p.future.set_exception(e)
            return
        if self._on_batch is not None:
            self._on_batch(p.rows)
        p.future.set_result(result)
