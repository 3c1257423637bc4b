"""Notebook logic: start a Jupyter server (with JupyterLab), watch it, cull it, proxy it.

The server listens on the executor's address (127.0.0.1 locally) under the base URL ``/v1/notebooks/ID/proxy/`` and
answers only requests carrying its backend token, which only the platform's proxy
sends. The owner gets an *access token* for the browser (returned once, stored as a
SHA-256), or uses their API token.
"""

from __future__ import annotations

import hmac
import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi import Request, WebSocket
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import managed, proxy
from miniflow_platform.auth.models import User
from miniflow_platform.auth.service import hash_token
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.errors import Conflict
from miniflow_platform.jobs.service import check_user_path
from miniflow_platform.managed import Phase
from miniflow_platform.notebooks.models import ACTIVE, Notebook, NotebookState
from miniflow_platform.notebooks.schemas import NotebookCreate

START_TIMEOUT_S = 120.0
ACCESS_TOKEN_PREFIX = "mfn_"
COOKIE_PREFIX = "mfp-notebook-"  # + id: the browser's access token, for the proxy only


def run_dir(p: Platform, nb: Notebook) -> Path:
    return p.settings.data_dir / "notebooks" / f"nb-{nb.id}"


def base_path(notebook_id: int) -> str:
    """Where the notebook lives on the platform; also the Jupyter server's base_url."""
    return f"/v1/notebooks/{notebook_id}/proxy/"


def cookie_name(notebook_id: int) -> str:
    return f"{COOKIE_PREFIX}{notebook_id}"


def token_matches(nb: Notebook, token: str) -> bool:
    return hmac.compare_digest(hash_token(token), nb.token_hash)


def backend(p: Platform, nb: Notebook) -> proxy.Backend:
    token = managed.backend_token(p, f"notebook:{nb.id}")
    return managed.backend(p, run_dir(p, nb), nb.port, {"Authorization": f"token {token}"})


def create_notebook(
    p: Platform, session: Session, user: User, body: NotebookCreate
) -> tuple[Notebook, str]:
    """Start the notebook; returns it with its access token (not stored, shown once)."""
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    res = body.resources
    token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with p.lock:
        held = managed.reserve(p, session, user.id, res.cpu, res.memory_mb, res.gpu)
        nb = Notebook(
            owner_id=user.id,
            name=body.name,
            port=held.port,
            token_hash=hash_token(token),
            cpu=held.cpu,
            memory_mb=held.memory_mb,
            gpu=held.gpu,
            gpu_devices=held.gpu_devices,
            idle_timeout_s=body.idle_timeout_s or p.settings.notebook_idle_timeout_s,
        )
        session.add(nb)
        session.flush()
        command, env, work = _launch(p, nb, body.python_env)
        nb.isolation = managed.submit(
            p, run_dir(p, nb), command, env, held, cwd=work, health_path=base_path(nb.id) + "api"
        )
        session.commit()
    return nb, token


def rotate_token(session: Session, nb: Notebook) -> str:
    """A new access token; the old one stops working at once."""
    token = ACCESS_TOKEN_PREFIX + secrets.token_urlsafe(32)
    nb.token_hash = hash_token(token)
    session.commit()
    return token


def _launch(p: Platform, nb: Notebook, python_env: str | None) -> tuple[list[str], dict, Path]:
    rd = run_dir(p, nb)
    work = rd / "work"
    for d in (work, rd / "jupyter"):
        d.mkdir(parents=True, exist_ok=True, mode=0o700)
    python = str(Path(python_env) / "bin" / "python") if python_env else sys.executable
    env = p.base_env(python_env)
    env.update(
        {
            # In the env, not argv, so `ps` does not show it.
            "JUPYTER_TOKEN": managed.backend_token(p, f"notebook:{nb.id}"),
            "JUPYTER_CONFIG_DIR": str(rd / "jupyter" / "config"),
            "JUPYTER_DATA_DIR": str(rd / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(rd / "jupyter" / "runtime"),
            "IPYTHONDIR": str(rd / "jupyter" / "ipython"),
            "HOME": str(work),
        }
    )
    command = [
        python,
        "-m",
        "jupyter_server",
        f"--ServerApp.ip={p.executor.listen_host}",
        f"--ServerApp.port={nb.port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.base_url={base_path(nb.id)}",
        f"--ServerApp.root_dir={work}",
        "--ServerApp.open_browser=False",
        "--ServerApp.default_url=/lab",
    ]
    if os.geteuid() == 0:  # containers often run as root; jupyter refuses that by default
        command.append("--ServerApp.allow_root=True")
    return command, env, work


def read_log(p: Platform, nb: Notebook) -> str:
    return p.executor.log_tail(managed.run_id(p, run_dir(p, nb)))


def stop_notebook(p: Platform, session: Session, nb: Notebook, reason: str) -> Notebook:
    with p.lock:
        session.refresh(nb)
        if nb.state not in ACTIVE:
            raise Conflict(f"notebook {nb.id} is already {nb.state}")
        _stop(p, session, nb, NotebookState.STOPPED, reason)
    return nb


def _stop(p: Platform, session: Session, nb: Notebook, state: NotebookState, reason: str) -> None:
    managed.stop(p, run_dir(p, nb))
    _end(session, nb, state, reason)


def _end(session: Session, nb: Notebook, state: NotebookState, reason: str) -> None:
    nb.state, nb.reason, nb.stopped_at = state.value, reason, utcnow()
    session.commit()


def delete_notebook(p: Platform, session: Session, nb: Notebook) -> None:
    with p.lock:
        session.refresh(nb)
        if nb.state in ACTIVE:
            _stop(p, session, nb, NotebookState.STOPPED, "deleted")
        session.delete(nb)
        session.commit()
        p.executor.remove(managed.run_id(p, run_dir(p, nb)))


def sync_notebooks(p: Platform, session: Session) -> None:
    """Scheduler step: mark started/exited notebooks, cull idle ones."""
    for nb in session.scalars(select(Notebook).where(Notebook.state.in_(ACTIVE))).all():
        last: list[datetime] = []
        starting = nb.state == NotebookState.STARTING.value
        check = managed.poll(
            p,
            run_dir(p, nb),
            lambda n=nb, out=last: _probe_activity(p, n, out),
            "the Jupyter server",
            ready_by=nb.created_at + timedelta(seconds=START_TIMEOUT_S) if starting else None,
        )
        if check.phase == Phase.ENDED:
            _end(session, nb, NotebookState.FAILED, check.reason)
            continue
        if check.phase == Phase.NOT_READY:
            continue
        nb.state, nb.last_activity = NotebookState.RUNNING.value, last[0]
        session.commit()
        idle = (utcnow() - last[0]).total_seconds()
        if idle > nb.idle_timeout_s:
            reason = f"culled: idle for {idle:.0f} s (limit {nb.idle_timeout_s:.0f} s)"
            _stop(p, session, nb, NotebookState.STOPPED, reason)


def _probe_activity(p: Platform, nb: Notebook, out: list[datetime]) -> bool:
    """Health check that also reads the server's own last-activity time (GET /api/status
    itself does not count as activity)."""
    r = managed.probe_http(backend(p, nb), base_path(nb.id) + "api/status")
    if r is None or r.status_code != 200:
        return False
    try:
        stamp = datetime.fromisoformat(r.json()["last_activity"].replace("Z", "+00:00"))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False
    out.append(stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp)
    return True


async def forward(request: Request, p: Platform, nb: Notebook, path: str) -> Response:
    if nb.state not in ACTIVE:
        return proxy.bad_gateway(f"notebook {nb.id} is {nb.state}", status=503)
    return await proxy.forward(
        request,
        backend(p, nb),
        base_path(nb.id).lstrip("/") + path,
        f"notebook {nb.id}",
        keep_cookies=lambda name: not name.startswith(COOKIE_PREFIX),
    )


async def relay_websocket(ws: WebSocket, p: Platform, nb: Notebook, path: str) -> None:
    await proxy.relay_websocket(
        ws, backend(p, nb), base_path(nb.id).lstrip("/") + path, f"notebook {nb.id}"
    )
