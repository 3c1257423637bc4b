"""The executor interface: submit without blocking, poll, cancel, logs.

An executor never writes to the database. The scheduler and the services call
``poll`` and store what it reports (the Airflow ``BaseExecutor`` split). A run is
identified by its run directory, which holds everything needed to find the run
again after the server restarts.
"""

from __future__ import annotations

import abc
import enum
import shutil
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Resources:
    """Limits of one run. ``None`` means no limit of that kind."""

    cpu: float | None = None
    memory_mb: int | None = None
    gpu_devices: tuple[str, ...] = ()
    pids: int | None = None


@dataclass(frozen=True)
class RunSpec:
    """What to run and where. ``command`` is an argv list, run without a shell.

    ``tenant`` is the owning user's id: an isolated executor runs the command as that
    tenant's own unprivileged uid and shows it only that tenant's directories.
    """

    command: list[str]
    run_dir: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    resources: Resources = Resources()
    timeout_s: float | None = None
    tenant: int | None = None


class RunState(enum.StrEnum):
    RUNNING = "RUNNING"
    EXITED = "EXITED"  # exit_code tells success or failure; signal_num if killed
    OOM_KILLED = "OOM_KILLED"
    TIMED_OUT = "TIMED_OUT"
    LOST = "LOST"  # no process and no exit record: the run vanished


@dataclass(frozen=True)
class RunStatus:
    state: RunState
    exit_code: int | None = None
    reason: str = ""


class Executor(abc.ABC):
    """Runs commands with resource limits. Implementations are listed in ``EXECUTORS``."""

    @abc.abstractmethod
    def submit(self, spec: RunSpec) -> str:
        """Start the run and return at once; returns the isolation used (e.g. ``cgroups-v1``)."""

    @abc.abstractmethod
    def poll(self, run_dir: Path) -> RunStatus:
        """Report the run's state; works for runs started by an earlier server process."""

    @abc.abstractmethod
    def cancel(self, run_dir: Path) -> None:
        """Kill the run's whole process tree and wait until it is gone."""

    @abc.abstractmethod
    def log_path(self, run_dir: Path) -> Path:
        """The file holding the run's stdout and stderr; it outlives the run."""

    def release(self, run_dir: Path) -> None:  # noqa: B027  optional hook, default no-op
        """Free per-run resources (e.g. cgroups) once the run has ended."""

    def close(self) -> None:  # noqa: B027  optional hook, default no-op
        """The server is shutting down; runs keep going (the next server adopts them)."""

    def remove(self, run_dir: Path) -> None:
        """Release the run and delete its directory (logs and artifacts included)."""
        self.release(run_dir)
        shutil.rmtree(run_dir, ignore_errors=True)
