"""The lifecycle shared by every long-running managed process: reserve -> submit -> poll -> stop.

Notebooks and model service generations are both an HTTP server that the platform
starts for a user, health-checks each scheduler tick, proxies to, and stops. This
module is that cycle once; the domains only say which command to run and which URL
answers their health check.

Each process gets a *backend token*: it must be sent on every request to the
process's port (``Authorization``), and only the platform's proxy sends it. The token
is derived (HMAC-SHA256) from a per-server key in ``<data_dir>/proxy.key`` (mode 0600)
and the process's identity, so the database holds no backend secret at all.
"""

from __future__ import annotations

import base64
import contextlib
import enum
import hashlib
import hmac
import os
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
from sqlalchemy.orm import Session

from miniflow_platform import usage
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.executors.base import Resources, RunSpec, RunState

KEY_FILE = "proxy.key"
PROBE_TIMEOUT_S = 1.0
_keys: dict[str, bytes] = {}
_keys_lock = threading.Lock()


@dataclass(frozen=True)
class Reservation:
    """Capacity held for one process: resources, GPU ids and a loopback port."""

    cpu: float
    memory_mb: int
    gpu: int
    gpu_devices: list[str]
    port: int
    owner_id: int | None = None  # the tenant: an isolated executor runs the process as its uid


def reserve(
    p: Platform, session: Session, owner_id: int, cpu: float, memory_mb: int | None, gpu: int
) -> Reservation:
    """Room for a process now (else Conflict, 409), within the owner's quota."""
    memory_mb = memory_mb or p.settings.default_job_memory_mb
    gpus = usage.reserve_now(session, p.settings, owner_id, cpu, memory_mb, gpu)
    return Reservation(cpu, memory_mb, gpu, gpus, usage.free_port(), owner_id)


def submit(
    p: Platform,
    run_dir: Path,
    command: list[str],
    env: dict[str, str],
    held: Reservation,
    cwd: Path,
) -> str:
    """Start the process as its owner (``held.owner_id``) through the executor; returns
    the isolation it runs under."""
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    spec = RunSpec(
        command=command,
        run_dir=run_dir,
        cwd=cwd,
        env=env,
        resources=Resources(
            cpu=held.cpu,
            memory_mb=held.memory_mb,
            gpu_devices=tuple(held.gpu_devices),
            pids=p.settings.default_pids_limit,
        ),
        tenant=held.owner_id,
    )
    return p.executor.submit(spec)


class Phase(enum.StrEnum):
    READY = "READY"  # running and its health check passes
    NOT_READY = "NOT_READY"  # running, health check failing (still starting, or sick)
    ENDED = "ENDED"  # exited, or stopped here for never becoming ready; see reason


@dataclass(frozen=True)
class Check:
    phase: Phase
    reason: str = ""


def poll(
    p: Platform,
    run_dir: Path,
    probe: Callable[[], bool],
    what: str,
    ready_by: datetime | None = None,
) -> Check:
    """One health check. A process that ended is released; one that is not ready by
    ``ready_by`` (None: no deadline) is stopped. The reason quotes the log's last line."""
    status = p.executor.poll(run_dir)
    if status.state != RunState.RUNNING:
        p.executor.release(run_dir)
        why = status.reason or f"{what} exited with code {status.exit_code}"
        return Check(Phase.ENDED, _with_last_line(why, p.executor.log_path(run_dir)))
    if probe():
        return Check(Phase.READY)
    if ready_by is not None and utcnow() > ready_by:
        stop(p, run_dir)
        why = f"{what} did not pass its health check in time"
        return Check(Phase.ENDED, _with_last_line(why, p.executor.log_path(run_dir)))
    return Check(Phase.NOT_READY)


def stop(p: Platform, run_dir: Path) -> None:
    """Kill the process tree and free its per-run resources (cgroups)."""
    p.executor.cancel(run_dir)
    p.executor.release(run_dir)


def probe_http(port: int, path: str, headers: dict[str, str]) -> httpx.Response | None:
    """GET ``http://127.0.0.1:port/path``; None when nothing answers."""
    try:
        return httpx.get(
            f"http://127.0.0.1:{port}/{path.lstrip('/')}", headers=headers, timeout=PROBE_TIMEOUT_S
        )
    except httpx.HTTPError:
        return None


def backend_token(p: Platform, identity: str) -> str:
    """The secret that process ``identity`` (e.g. ``service:3:2``) requires from callers."""
    digest = hmac.new(_key(p.settings.data_dir), identity.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _key(data_dir: Path) -> bytes:
    path = data_dir / KEY_FILE
    with _keys_lock:
        if str(path) not in _keys:
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(secrets.token_bytes(32))
            _keys[str(path)] = path.read_bytes()
        return _keys[str(path)]


def _with_last_line(reason: str, log: Path) -> str:
    with contextlib.suppress(OSError), log.open("rb") as f:
        f.seek(max(0, log.stat().st_size - 4096))
        lines = [ln.strip() for ln in f.read().decode(errors="replace").splitlines()]
        last = next((ln for ln in reversed(lines) if ln), "")
        if last:
            return f"{reason}: {last[:300]}"
    return reason
