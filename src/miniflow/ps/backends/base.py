"""The interface every backend implements: start shards and workers, watch, stop."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass

from miniflow.ps.client import ShardClient
from miniflow.ps.partition import Partitions, StreamedInput
from miniflow.ps.shard import ShardConfig

__all__ = ["Backend", "JobSpec", "WorkerState"]


@dataclass
class JobSpec:
    """What a backend needs to run a job (built by :class:`miniflow.ps.job.PSJob`)."""

    shards: list[ShardConfig]
    partitions: Partitions | StreamedInput  # what each worker reads: ``.path(index)``
    epochs: int
    job_dir: str
    pace: float = 0.0
    timeout: float = 300.0
    address: str | None = None
    ray_cpus: float = 1.0  # ray: CPUs each shard actor and worker task reserves
    ray_placement: str = "SPREAD"  # ray: placement-group strategy of those reservations

    @property
    def num_workers(self) -> int:
        return self.partitions.num_workers


@dataclass
class WorkerState:
    """``running``, ``done`` or ``failed`` (with the reason; ``fatal``: the worker
    refused its input or credentials, which a replacement would only repeat)."""

    status: str
    reason: str = ""
    fatal: bool = False


class Backend(ABC):
    """Runs the shards and workers of one job (one instance per job)."""

    name = "?"

    def __init__(self, spec: JobSpec):
        self.spec = spec
        self.events: list[str] = []

    @abstractmethod
    def start_shards(self, restore: bool = False) -> None:
        """Starts every shard (from its checkpoint if ``restore``); returns when all
        accept requests."""

    @abstractmethod
    def client(self, worker: int = -1, timeout: float | None = None) -> ShardClient:
        """A client for the coordinator (worker -1) or for serving; ``timeout`` bounds how
        long a request retries an unreachable shard (backends that retry at all)."""

    @abstractmethod
    def start_worker(self, index: int) -> None:
        """Starts worker ``index`` on its partition (again, for a replacement)."""

    @abstractmethod
    def poll(self) -> list[WorkerState]:
        """Each worker's state; also restarts dead shards (logged in ``events``)."""

    @abstractmethod
    def stop(self) -> None:
        """Stops every shard and worker this backend started (idempotent)."""

    def kill_worker(self, index: int) -> None:
        """Fault injection: kills worker ``index`` abruptly (SIGKILL where it is a process)."""
        raise NotImplementedError(
            f"the {self.name} backend cannot kill a worker; "
            "use the process backend for fault-injection tests"
        )

    def kill_shard(self, index: int) -> None:
        """Fault injection: kills shard ``index`` abruptly."""
        raise NotImplementedError(
            f"the {self.name} backend cannot kill a shard; "
            "use the process backend for fault-injection tests"
        )

    def log(self, event: str) -> None:
        self.events.append(event)


def import_path() -> str:
    """The directory holding the ``miniflow`` package, for child processes' PYTHONPATH
    (works for an editable checkout and for an installed package alike)."""
    import miniflow

    return os.path.dirname(os.path.dirname(os.path.abspath(miniflow.__file__)))
