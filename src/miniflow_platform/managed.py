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

from miniflow_platform import proxy, usage
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
    health_path: str | None = None,
) -> str:
    """Start the process as its owner (``held.owner_id``) through the executor; returns
    the isolation it runs under."""
    run_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    spec = RunSpec(
        port=held.port,
        health_path=health_path,
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
    return p.executor.start(run_id(p, run_dir), spec)


def run_id(p: Platform, run_dir: Path) -> str:
    """The executor's id of the process whose local directory is ``run_dir``."""
    return run_dir.relative_to(p.settings.data_dir).as_posix()


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
    rid = run_id(p, run_dir)
    status = p.executor.status(rid)
    if status.state != RunState.RUNNING:
        p.executor.release(rid)
        why = status.reason or f"{what} exited with code {status.exit_code}"
        return Check(Phase.ENDED, _with_last_line(why, p.executor.log_tail(rid, 4096)))
    if probe():
        return Check(Phase.READY)
    if ready_by is not None and utcnow() > ready_by:
        stop(p, run_dir)
        why = f"{what} did not pass its health check in time"
        return Check(Phase.ENDED, _with_last_line(why, p.executor.log_tail(rid, 4096)))
    return Check(Phase.NOT_READY)


def stop(p: Platform, run_dir: Path) -> None:
    """Kill the process tree and free its per-run resources (cgroups)."""
    rid = run_id(p, run_dir)
    p.executor.cancel(rid)
    p.executor.release(rid)


def backend(
    p: Platform, run_dir: Path, port: int, headers: dict[str, str], generation: int = 0
) -> proxy.Backend:
    """Where the proxy and the health checks reach the process: the executor's endpoint."""
    where = p.executor.endpoint(run_id(p, run_dir), port)
    return proxy.Backend(where.port, headers, generation, where.host, where.scheme)


def probe_http(
    target: proxy.Backend | int, path: str, headers: dict[str, str] | None = None
) -> httpx.Response | None:
    """GET ``path`` of the process with its backend headers; None when nothing answers.

    ``target`` is where the executor put it (``backend``); a bare port means loopback
    (the first signature, still used by callers that run only locally).
    """
    if isinstance(target, int):
        target = proxy.Backend(target, headers or {})
    try:
        return httpx.get(
            target.url(path.lstrip("/")), headers=target.headers, timeout=PROBE_TIMEOUT_S
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


def _with_last_line(reason: str, tail: str) -> str:
    lines = [ln.strip() for ln in tail.splitlines()]
    last = next((ln for ln in reversed(lines) if ln), "")
    return f"{reason}: {last[:300]}" if last else reason
