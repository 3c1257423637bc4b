"""Model service logic: run `miniflow serve`, health-check it, update, stop, proxy predictions."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import usage
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.errors import Conflict, Unavailable
from miniflow_platform.executors.base import Resources, RunSpec, RunState
from miniflow_platform.jobs.logs import tail_file
from miniflow_platform.jobs.service import check_user_path
from miniflow_platform.predictions.service import resolve_model
from miniflow_platform.serving.models import ACTIVE, ModelService, ServiceState
from miniflow_platform.serving.schemas import ModelSource, ServiceCreate

PROXY_TIMEOUT_S = 60.0


def run_dir(p: Platform, svc: ModelService) -> Path:
    return p.settings.data_dir / "services" / f"svc-{svc.id}-g{svc.generation}"


def create_service(p: Platform, session: Session, user: User, body: ServiceCreate) -> ModelService:
    model_dir, source = resolve_model(
        p, session, user, body.model_dir, body.model_job_id, body.model_path
    )
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    res = body.resources
    memory_mb = res.memory_mb or p.settings.default_job_memory_mb
    with p.lock:
        if session.scalar(select(ModelService.id).where(ModelService.name == body.name)):
            raise Conflict(
                f"a model service named {body.name!r} already exists; choose another name"
            )
        gpus = usage.reserve_now(session, p.settings, user.id, res.cpu, memory_mb, res.gpu)
        svc = ModelService(
            name=body.name,
            owner_id=user.id,
            model_dir=model_dir,
            source_job_id=source,
            python_env=body.python_env,
            port=usage.free_port(),
            cpu=res.cpu,
            memory_mb=memory_mb,
            gpu=res.gpu,
            gpu_devices=gpus,
        )
        session.add(svc)
        session.flush()
        svc.isolation = p.executor.submit(_spec(p, svc))
        session.commit()
    return svc


def _spec(p: Platform, svc: ModelService) -> RunSpec:
    rd = run_dir(p, svc)
    rd.mkdir(parents=True, exist_ok=True)
    command = [
        "miniflow",
        "serve",
        "--model-dir",
        svc.model_dir,
        "--name",
        svc.name,
        "--port",
        str(svc.port),
        "--host",
        "127.0.0.1",
    ]
    env = p.base_env(svc.python_env)
    return RunSpec(
        command=command,
        run_dir=rd,
        cwd=rd,
        env=env,
        resources=Resources(
            cpu=svc.cpu,
            memory_mb=svc.memory_mb,
            gpu_devices=tuple(svc.gpu_devices),
            pids=p.settings.default_pids_limit,
        ),
    )


def list_services(session: Session, user: User) -> list[ModelService]:
    query = select(ModelService).order_by(ModelService.id)
    if not user.is_admin:
        query = query.where(ModelService.owner_id == user.id)
    return list(session.scalars(query))


def update_service(
    p: Platform, session: Session, user: User, svc: ModelService, body: ModelSource
) -> ModelService:
    """Serve another model: stop the process, start a new generation on the same port."""
    model_dir, source = resolve_model(
        p, session, user, body.model_dir, body.model_job_id, body.model_path
    )
    with p.lock:
        session.refresh(svc)
        if svc.state not in ACTIVE:
            raise Conflict(f"model service {svc.name!r} is {svc.state}; create it again")
        _halt(p, svc)
        svc.model_dir, svc.source_job_id = model_dir, source
        svc.generation += 1
        svc.state, svc.reason, svc.started_at = ServiceState.STARTING.value, "", utcnow()
        svc.isolation = p.executor.submit(_spec(p, svc))
        session.commit()
    return svc


def _halt(p: Platform, svc: ModelService) -> None:
    p.executor.cancel(run_dir(p, svc))
    p.executor.release(run_dir(p, svc))


def stop_service(p: Platform, session: Session, svc: ModelService, reason: str) -> ModelService:
    with p.lock:
        session.refresh(svc)
        if svc.state not in ACTIVE:
            raise Conflict(f"model service {svc.name!r} is already {svc.state}")
        _halt(p, svc)
        svc.state, svc.reason, svc.stopped_at = ServiceState.STOPPED.value, reason, utcnow()
        session.commit()
    return svc


def delete_service(p: Platform, session: Session, svc: ModelService) -> None:
    with p.lock:
        session.refresh(svc)
        if svc.state in ACTIVE:
            _halt(p, svc)
        session.delete(svc)
        session.commit()
        for gen in range(1, svc.generation + 1):
            p.executor.remove(p.settings.data_dir / "services" / f"svc-{svc.id}-g{gen}")


def read_log(p: Platform, svc: ModelService) -> str:
    return tail_file(p.executor.log_path(run_dir(p, svc)))


def healthy(svc: ModelService) -> bool:
    try:
        return (
            httpx.get(f"http://127.0.0.1:{svc.port}/v1/models/{svc.name}", timeout=1.0).status_code
            == 200
        )
    except httpx.HTTPError:
        return False


def sync_services(p: Platform, session: Session) -> None:
    """Scheduler step: process exited -> FAILED; health check -> AVAILABLE / UNAVAILABLE."""
    for svc in session.scalars(select(ModelService).where(ModelService.state.in_(ACTIVE))).all():
        status = p.executor.poll(run_dir(p, svc))
        if status.state != RunState.RUNNING:
            p.executor.release(run_dir(p, svc))
            svc.state, svc.stopped_at = ServiceState.FAILED.value, utcnow()
            svc.reason = status.reason or f"`miniflow serve` exited with code {status.exit_code}"
        elif healthy(svc):
            svc.state, svc.reason = ServiceState.AVAILABLE.value, ""
        elif svc.state == ServiceState.AVAILABLE.value:
            svc.state, svc.reason = ServiceState.UNAVAILABLE.value, "health check failing"
        elif svc.state == ServiceState.STARTING.value and utcnow() - svc.started_at > timedelta(
            seconds=p.settings.service_start_timeout_s
        ):
            _halt(p, svc)
            svc.state, svc.stopped_at = ServiceState.FAILED.value, utcnow()
            svc.reason = "the model server never passed its health check"
        session.commit()


def predict(svc: ModelService, payload: dict[str, Any]) -> tuple[int, Any]:
    """Forward a TF Serving predict request to the service; returns (status, JSON body)."""
    if svc.state not in ACTIVE:
        raise Unavailable(f"model service {svc.name!r} is {svc.state}")
    url = f"http://127.0.0.1:{svc.port}/v1/models/{svc.name}:predict"
    try:
        r = httpx.post(url, json=payload, timeout=PROXY_TIMEOUT_S)
    except httpx.HTTPError as e:
        raise Unavailable(f"model service {svc.name!r} did not answer: {e}") from e
    try:
        return r.status_code, r.json()
    except ValueError:
        return 502, {
            "detail": f"model service {svc.name!r} returned non-JSON (HTTP {r.status_code})"
        }
