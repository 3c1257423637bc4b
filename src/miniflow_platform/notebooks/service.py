"""Notebook logic: start a jupyter_server, watch it, cull it when idle, stop it."""

from __future__ import annotations

import os
import secrets
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import usage
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.errors import Conflict
from miniflow_platform.executors.base import Resources, RunSpec, RunState
from miniflow_platform.jobs.logs import tail_file
from miniflow_platform.jobs.service import check_user_path
from miniflow_platform.notebooks.models import ACTIVE, Notebook, NotebookState
from miniflow_platform.notebooks.schemas import NotebookCreate

START_TIMEOUT_S = 120.0


def run_dir(p: Platform, nb: Notebook) -> Path:
    return p.settings.data_dir / "notebooks" / f"nb-{nb.id}"


def create_notebook(p: Platform, session: Session, user: User, body: NotebookCreate) -> Notebook:
    res = body.resources
    memory_mb = res.memory_mb or p.settings.default_job_memory_mb
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    with p.lock:
        gpus = usage.reserve_now(session, p.settings, user.id, res.cpu, memory_mb, res.gpu)
        nb = Notebook(
            owner_id=user.id,
            name=body.name,
            port=usage.free_port(),
            token=secrets.token_urlsafe(24),
            cpu=res.cpu,
            memory_mb=memory_mb,
            gpu=res.gpu,
            gpu_devices=gpus,
            idle_timeout_s=body.idle_timeout_s or p.settings.notebook_idle_timeout_s,
        )
        session.add(nb)
        session.flush()
        nb.isolation = p.executor.submit(_spec(p, nb, body.python_env))
        session.commit()
    return nb


def _spec(p: Platform, nb: Notebook, python_env: str | None) -> RunSpec:
    rd = run_dir(p, nb)
    work = rd / "work"
    work.mkdir(parents=True, exist_ok=True)
    python = str(Path(python_env) / "bin" / "python") if python_env else sys.executable
    env = p.base_env(python_env)
    env.update(
        {
            "JUPYTER_TOKEN": nb.token,  # in the env, not argv: `ps` must not show it
            "JUPYTER_CONFIG_DIR": str(rd / "jupyter" / "config"),
            "JUPYTER_DATA_DIR": str(rd / "jupyter" / "data"),
            "JUPYTER_RUNTIME_DIR": str(rd / "jupyter" / "runtime"),
            "HOME": str(work),
        }
    )
    command = [
        python,
        "-m",
        "jupyter_server",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={nb.port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={work}",
        "--ServerApp.open_browser=False",
    ]
    if os.geteuid() == 0:  # containers often run as root; jupyter refuses that by default
        command.append("--ServerApp.allow_root=True")
    return RunSpec(
        command=command,
        run_dir=rd,
        cwd=work,
        env=env,
        resources=Resources(
            cpu=nb.cpu,
            memory_mb=nb.memory_mb,
            gpu_devices=tuple(nb.gpu_devices),
            pids=p.settings.default_pids_limit,
        ),
    )


def read_log(p: Platform, nb: Notebook) -> str:
    return tail_file(p.executor.log_path(run_dir(p, nb)))


def list_notebooks(session: Session, user: User) -> list[Notebook]:
    query = select(Notebook).order_by(Notebook.id)
    if not user.is_admin:
        query = query.where(Notebook.owner_id == user.id)
    return list(session.scalars(query))


def stop_notebook(p: Platform, session: Session, nb: Notebook, reason: str) -> Notebook:
    with p.lock:
        session.refresh(nb)
        if nb.state not in ACTIVE:
            raise Conflict(f"notebook {nb.id} is already {nb.state}")
        _stop(p, session, nb, NotebookState.STOPPED, reason)
    return nb


def _stop(p: Platform, session: Session, nb: Notebook, state: NotebookState, reason: str) -> None:
    p.executor.cancel(run_dir(p, nb))
    p.executor.release(run_dir(p, nb))
    nb.state, nb.reason, nb.stopped_at = state.value, reason, utcnow()
    session.commit()


def delete_notebook(p: Platform, session: Session, nb: Notebook) -> None:
    with p.lock:
        session.refresh(nb)
        if nb.state in ACTIVE:
            _stop(p, session, nb, NotebookState.STOPPED, "deleted")
        session.delete(nb)
        session.commit()
        p.executor.remove(run_dir(p, nb))


def sync_notebooks(p: Platform, session: Session) -> None:
    """Scheduler step: mark started/exited notebooks, cull idle ones."""
    for nb in session.scalars(select(Notebook).where(Notebook.state.in_(ACTIVE))).all():
        status = p.executor.poll(run_dir(p, nb))
        if status.state != RunState.RUNNING:
            p.executor.release(run_dir(p, nb))
            nb.state, nb.stopped_at = NotebookState.FAILED.value, utcnow()
            nb.reason = status.reason or f"jupyter server exited with code {status.exit_code}"
            session.commit()
            continue
        last = _last_activity(nb)
        if last is None:
            if nb.state == NotebookState.STARTING.value and utcnow() - nb.created_at > timedelta(
                seconds=START_TIMEOUT_S
            ):
                _stop(p, session, nb, NotebookState.FAILED, "jupyter server did not answer")
            continue
        nb.state, nb.last_activity = NotebookState.RUNNING.value, last
        session.commit()
        idle = (utcnow() - last).total_seconds()
        if idle > nb.idle_timeout_s:
            _stop(
                p,
                session,
                nb,
                NotebookState.STOPPED,
                f"culled: idle for {idle:.0f} s (limit {nb.idle_timeout_s:.0f} s)",
            )


def _last_activity(nb: Notebook) -> datetime | None:
    """The server's own last-activity time (GET /api/status does not count as activity)."""
    try:
        r = httpx.get(
            f"http://127.0.0.1:{nb.port}/api/status",
            headers={"Authorization": f"token {nb.token}"},
            timeout=1.0,
        )
        r.raise_for_status()
        stamp = datetime.fromisoformat(r.json()["last_activity"].replace("Z", "+00:00"))
    except (httpx.HTTPError, ValueError, KeyError):
        return None
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp
