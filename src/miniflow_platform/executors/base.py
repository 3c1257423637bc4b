"""The executor contract: start a run by id, read its status, cancel it, stream its log,
find its endpoint, and reach the storage its artifacts live in.

An executor never writes to the database. The scheduler and the services call
``status`` and store what it reports (the Airflow ``BaseExecutor`` split). A run is
identified by a *run id*, a relative path such as ``jobs/job-3`` or
``services/svc-1-g2``: the local executor keeps the run in ``<data_dir>/<run id>``,
the Kubernetes executor labels its objects with it. Everything needed to find a run
again after the server restarts is derived from the id.

Every implementation passes the shared suite ``tests/platform/executor_contract.py``.
"""

from __future__ import annotations

import abc
import enum
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from miniflow_platform.storage import Storage

RUN_ID = re.compile(r"[a-z][a-z0-9-]{0,30}/[a-z0-9]([a-z0-9-]{0,30}[a-z0-9])?")
FOLLOW_POLL_S = 0.25
LOG_CHUNK = 64 * 1024


def check_run_id(run_id: str) -> str:
    """``run_id`` if it is ``kind/name`` in lower-case DNS-label characters, else ValueError.

    Absolute paths are accepted too, for the local executor only (tests and tools that
    run outside a data directory).
    """
    if isinstance(run_id, Path):
        run_id = str(run_id)
    if not isinstance(run_id, str) or not (RUN_ID.fullmatch(run_id) or run_id.startswith("/")):
        raise ValueError(
            f"run id {run_id!r} must look like 'jobs/job-3': a kind and a name of "
            "lower-case letters, digits and '-'"
        )
    return run_id


@dataclass(frozen=True)
class Resources:
    """Limits of one run. ``None`` means no limit of that kind."""

    cpu: float | None = None
    memory_mb: int | None = None
    gpu_devices: tuple[str, ...] = ()
    pids: int | None = None
    gpu: int | None = None  # GPUs to request (Kubernetes); default: len(gpu_devices)

    @property
    def gpu_count(self) -> int:
        return self.gpu if self.gpu is not None else len(self.gpu_devices)


@dataclass(frozen=True)
class RunSpec:
    """What to run and where. ``command`` is an argv list, run without a shell.

    ``tenant`` is the owning user's id: an isolated executor runs the command as that
    tenant's own unprivileged uid and shows it only that tenant's directories.
    ``port`` is the port a long-running process listens on (services, notebooks),
    ``health_path`` the path that answers 200 once it is ready; ``environment`` picks
    the image (Kubernetes).
    ``max_retries`` is for executors that retry themselves (Kubernetes ``backoffLimit``);
    the platform retries jobs itself and leaves it 0.
    """

    command: list[str]
    run_dir: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    resources: Resources = Resources()
    timeout_s: float | None = None
    tenant: int | None = None
    port: int | None = None
    health_path: str | None = None
    environment: str = "default"
    max_retries: int = 0


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


@dataclass(frozen=True)
class Endpoint:
    """Where a service or notebook answers, as the platform's proxy reaches it."""

    host: str
    port: int
    scheme: str = "http"

    def url(self, path: str = "") -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}/{path.lstrip('/')}"

    def ws_url(self, path: str = "") -> str:
        return ("wss" if self.scheme == "https" else "ws") + self.url(path)[len(self.scheme) :]


class Executor(abc.ABC):
    """Runs commands with resource limits. Implementations are listed in ``EXECUTORS``."""

    listen_host = "127.0.0.1"  # the address a service or notebook binds to

    @property
    @abc.abstractmethod
    def storage(self) -> Storage:
        """Where runs' artifacts live; a run's are under ``<run id>/artifacts/``."""

    @abc.abstractmethod
    def start(self, run_id: str, spec: RunSpec) -> str:
        """Start the run and return at once; returns the isolation used (e.g. ``cgroups-v1``)."""

    @abc.abstractmethod
    def status(self, run_id: str) -> RunStatus:
        """Report the run's state; works for runs started by an earlier server process."""

    @abc.abstractmethod
    def cancel(self, run_id: str) -> None:
        """Stop the run with everything it started and wait until it is gone."""

    @abc.abstractmethod
    def read_log(self, run_id: str, offset: int = 0, limit: int = LOG_CHUNK) -> bytes:
        """Up to ``limit`` bytes of the run's stdout+stderr from byte ``offset`` (b"" at the end)."""

    @abc.abstractmethod
    def endpoint(self, run_id: str, port: int) -> Endpoint:
        """Where the run's server, started to listen on ``port``, is reached."""

    def logs(self, run_id: str, offset: int = 0, follow: bool = False) -> Iterator[bytes]:
        """The log from ``offset``; with ``follow``, keep yielding until the run ends.

        The state is read *before* the last read, so output written just before the
        end is never lost.
        """
        pos = offset
        while True:
            finished = not follow or self.status(run_id).state != RunState.RUNNING
            while data := self.read_log(run_id, pos):
                pos += len(data)
                yield data
            if finished:
                return
            time.sleep(FOLLOW_POLL_S)

    def log_tail(self, run_id: str, limit: int = 2**20) -> str:
        """The last ``limit`` bytes of the log as text ("" when there is none yet)."""
        chunks, pos = [], 0
        while data := self.read_log(run_id, pos, LOG_CHUNK * 16):
            pos += len(data)
            chunks.append(data)
        return b"".join(chunks)[-limit:].decode(errors="replace")

    def append_log(self, run_id: str, text: str) -> None:  # noqa: B027  optional
        """Add a platform note to the run's log, where the executor keeps one."""

    def artifacts_prefix(self, run_id: str) -> str:
        return f"{check_run_id(run_id).strip('/')}/artifacts/"

    def release(self, run_id: str) -> None:  # noqa: B027  optional hook, default no-op
        """Free per-run resources (e.g. cgroups) once the run has ended."""

    def close(self) -> None:  # noqa: B027  optional hook, default no-op
        """The server is shutting down; runs keep going (the next server adopts them)."""

    def remove(self, run_id: str) -> None:
        """Release the run and delete everything it left (logs and artifacts included)."""
        self.release(run_id)
        self.storage.delete_prefix(check_run_id(run_id).strip("/") + "/")

    # The names of the first interface, which took a run directory (kept for callers
    # and tests written against it; a run directory is the local executor's run id).
    def submit(self, spec: RunSpec) -> str:
        return self.start(str(spec.run_dir), spec)

    def poll(self, run_id: str | Path) -> RunStatus:
        return self.status(str(run_id))
