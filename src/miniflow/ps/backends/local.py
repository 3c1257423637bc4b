"""The ``local`` backend: shards are objects and workers are threads of this process.

Requests are plain method calls (``Shard.handle``), so this backend exercises the whole
protocol (incarnations, idempotent pushes, barriers) without serialisation. The GIL
runs one worker's NumPy at a time; use it for tests and small jobs.
"""

from __future__ import annotations

import threading

from miniflow.ps.backends.base import Backend, WorkerState
from miniflow.ps.client import Call, ShardClient
from miniflow.ps.shard import Shard
from miniflow.ps.worker import run_worker

__all__ = ["LocalBackend", "LocalTransport"]


class LocalTransport:
    """Calls the shards' ``handle`` directly (in order; each call is a function call)."""

    def __init__(self, shards: list[Shard]):
        self.shards = shards
        self.num_shards = len(shards)

    def call_many(self, calls: list[Call]) -> list[tuple[dict, dict]]:
        return [self.shards[c.shard].handle(dict(c.header), dict(c.arrays)) for c in calls]

    def close(self) -> None:
        pass


class LocalBackend(Backend):
    name = "local"

    def __init__(self, spec):
        super().__init__(spec)
        self.shards: list[Shard] = []
        self._threads: dict[int, threading.Thread] = {}
        self._errors: dict[int, str] = {}
        self._fatal: dict[int, str] = {}
        self._stop = threading.Event()

    def start_shards(self, restore: bool = False) -> None:
        self.shards = [Shard(cfg, restore=restore) for cfg in self.spec.shards]

    def client(self, worker: int = -1, timeout: float | None = None) -> ShardClient:  # noqa: ARG002
        return ShardClient(LocalTransport(self.shards), worker)

    def start_worker(self, index: int) -> None:
        def target():
            try:
                run_worker(
                    self.client(index),
                    self.spec.partitions.path(index),
                    self.spec.epochs,
                    self.spec.pace,
                    stop=self._stop.is_set,
                    factors=self.spec.shards[0].factors,
                )
            except (ValueError, FileNotFoundError) as e:  # its input: fatal, see poll()
                self._fatal[index] = str(e)
            except Exception as e:  # noqa: BLE001  reported through poll()
                self._errors[index] = f"{type(e).__name__}: {e}"

        self._errors.pop(index, None)
        self._fatal.pop(index, None)
        t = threading.Thread(target=target, name=f"ps-worker-{index}", daemon=True)
        self._threads[index] = t
        t.start()

    def poll(self) -> list[WorkerState]:
        states = []
        for i in range(self.spec.num_workers):
            t = self._threads.get(i)
            if i in self._fatal:
                states.append(WorkerState("failed", self._fatal[i], fatal=True))
            elif i in self._errors:
                states.append(WorkerState("failed", self._errors[i]))
            elif t is not None and t.is_alive():
                states.append(WorkerState("running"))
            else:
                states.append(WorkerState("done"))
        return states

    def stop(self) -> None:
        self._stop.set()
        for shard in self.shards:
            shard.close()
        for t in self._threads.values():
            t.join(timeout=self.spec.timeout)
