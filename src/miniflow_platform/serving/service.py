"""Model service logic: run `miniflow serve` generations, health-check, update, stop, proxy.

Every generation is a managed process (``managed``) listening on its own loopback
port with its own backend token. An update starts the next generation beside the
current one; the scheduler switches traffic once it is healthy and stops the old one
when its last request has been answered, so clients never see the update.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import managed, proxy
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.errors import Conflict
from miniflow_platform.jobs.service import check_user_path
from miniflow_platform.managed import Phase, Reservation
from miniflow_platform.predictions.service import resolve_model
from miniflow_platform.serving.models import ACTIVE, ModelService, ServiceState, UpdateState
from miniflow_platform.serving.schemas import ModelSource, ServiceCreate

DRAIN_TIMEOUT_S = 60.0  # an old generation is stopped after this even if a request still runs
TOKEN_ENV = "MINIFLOW_SERVE_TOKEN"


def run_dir(p: Platform, svc: ModelService, generation: int | None = None) -> Path:
    return p.settings.data_dir / "services" / f"svc-{svc.id}-g{generation or svc.generation}"


def routes(p: Platform) -> proxy.Routes:
    return proxy.routes_for(str(p.settings.data_dir))


def backend(p: Platform, svc: ModelService, generation: int, port: int) -> proxy.Backend:
    token = managed.backend_token(p, f"service:{svc.id}:{generation}")
    headers = {"Authorization": f"Bearer {token}"}
    return managed.backend(p, run_dir(p, svc, generation), port, headers, generation)


def create_service(p: Platform, session: Session, user: User, body: ServiceCreate) -> ModelService:
    model_dir, source = resolve_model(
        p, session, user, body.model_dir, body.model_job_id, body.model_path
    )
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    res = body.resources
    with p.lock:
        if session.scalar(select(ModelService.id).where(ModelService.name == body.name)):
            raise Conflict(
                f"a model service named {body.name!r} already exists; choose another name"
            )
        held = managed.reserve(p, session, user.id, res.cpu, res.memory_mb, res.gpu)
        svc = ModelService(
            name=body.name,
            owner_id=user.id,
            model_dir=model_dir,
            source_job_id=source,
            python_env=body.python_env,
            port=held.port,
            cpu=held.cpu,
            memory_mb=held.memory_mb,
            gpu=held.gpu,
            gpu_devices=held.gpu_devices,
        )
        session.add(svc)
        session.flush()
        svc.isolation = _submit(p, svc, 1, model_dir, held)
        session.commit()
    return svc


def _submit(
    p: Platform, svc: ModelService, generation: int, model_dir: str, held: Reservation
) -> str:
    command = [
        "miniflow",
        "serve",
        "--model-dir",
        model_dir,
        "--name",
        svc.name,
        "--port",
        str(held.port),
        "--host",
        p.executor.listen_host,  # loopback locally; the pod's address on Kubernetes
        "--auth-token-env",
        TOKEN_ENV,
    ]
    env = p.base_env(svc.python_env)
    env[TOKEN_ENV] = managed.backend_token(p, f"service:{svc.id}:{generation}")
    rd = run_dir(p, svc, generation)
    work = rd / "work"
    work.mkdir(parents=True, exist_ok=True, mode=0o700)
    health = f"/v1/models/{svc.name}"
    return managed.submit(p, rd, command, env, held, cwd=work, health_path=health)


def update_service(
    p: Platform, session: Session, user: User, svc: ModelService, body: ModelSource
) -> ModelService:
    """Start the next generation with another model beside the current one.

    The scheduler switches traffic once it passes its health check (``sync_services``);
    until then, and for good if it never does, the current generation serves.
    """
    model_dir, source = resolve_model(
        p, session, user, body.model_dir, body.model_job_id, body.model_path
    )
    with p.lock:
        session.refresh(svc)
        if svc.state not in ACTIVE:
            raise Conflict(f"model service {svc.name!r} is {svc.state}; create it again")
        if svc.pending_generation is not None:
            raise Conflict(
                f"model service {svc.name!r} is already updating to generation "
                f"{svc.pending_generation}; wait for it to finish"
            )
        # Both generations run during the switch, so the new one needs room of its own.
        held = managed.reserve(p, session, svc.owner_id, svc.cpu, svc.memory_mb, svc.gpu)
        generation = svc.last_generation + 1
        svc.last_generation = generation
        svc.pending_generation, svc.pending_port = generation, held.port
        svc.pending_model_dir, svc.pending_source_job_id = model_dir, source
        svc.pending_gpu_devices, svc.pending_started_at = held.gpu_devices, utcnow()
        svc.update_state, svc.update_reason = UpdateState.UPDATING.value, ""
        session.flush()
        _submit(p, svc, generation, model_dir, held)
        session.commit()
    return svc


def stop_service(p: Platform, session: Session, svc: ModelService, reason: str) -> ModelService:
    with p.lock:
        session.refresh(svc)
        if svc.state not in ACTIVE:
            raise Conflict(f"model service {svc.name!r} is already {svc.state}")
        _halt_all(p, svc, f"the service was stopped ({reason})")
        svc.state, svc.reason, svc.stopped_at = ServiceState.STOPPED.value, reason, utcnow()
        session.commit()
    return svc


def _halt_all(p: Platform, svc: ModelService, why: str) -> None:
    """Stop every generation of the service that may still run."""
    routes(p).forget(svc.id)
    managed.stop(p, run_dir(p, svc))
    if svc.pending_generation is not None:
        managed.stop(p, run_dir(p, svc, svc.pending_generation))
        svc.update_state, svc.update_reason = UpdateState.FAILED.value, why
        _clear_pending(svc)
    if svc.draining_generation is not None:
        managed.stop(p, run_dir(p, svc, svc.draining_generation))
        svc.draining_generation, svc.draining_since, svc.draining_gpu_devices = None, None, []


def _clear_pending(svc: ModelService) -> None:
    svc.pending_generation = svc.pending_port = svc.pending_source_job_id = None
    svc.pending_model_dir = svc.pending_started_at = None
    svc.pending_gpu_devices = []


def delete_service(p: Platform, session: Session, svc: ModelService) -> None:
    with p.lock:
        session.refresh(svc)
        if svc.state in ACTIVE:
            _halt_all(p, svc, "the service was deleted")
        routes(p).forget(svc.id)
        session.delete(svc)
        session.commit()
        for gen in range(1, svc.last_generation + 1):
            p.executor.remove(managed.run_id(p, run_dir(p, svc, gen)))


def read_log(p: Platform, svc: ModelService, generation: int | None = None) -> str:
    return p.executor.log_tail(managed.run_id(p, run_dir(p, svc, generation)))


def _healthy(p: Platform, svc: ModelService, generation: int, port: int) -> bool:
    r = managed.probe_http(backend(p, svc, generation, port), f"v1/models/{svc.name}")
    return r is not None and r.status_code == 200


def sync_services(p: Platform, session: Session) -> None:
    """Scheduler step: health of each generation, the switch of an update, draining."""
    limit = timedelta(seconds=p.settings.service_start_timeout_s)
    for svc in session.scalars(select(ModelService).where(ModelService.state.in_(ACTIVE))).all():
        starting = svc.state == ServiceState.STARTING.value
        check = managed.poll(
            p,
            run_dir(p, svc),
            lambda s=svc: _healthy(p, s, s.generation, s.port),
            "`miniflow serve`",
            ready_by=svc.started_at + limit if starting else None,
        )
        if check.phase == Phase.ENDED:
            _halt_all(p, svc, "the serving generation failed")
            svc.state, svc.reason, svc.stopped_at = (
                ServiceState.FAILED.value,
                check.reason,
                utcnow(),
            )
        elif check.phase == Phase.READY:
            svc.state, svc.reason = ServiceState.AVAILABLE.value, ""
        elif svc.state == ServiceState.AVAILABLE.value:
            svc.state, svc.reason = ServiceState.UNAVAILABLE.value, "health check failing"
        if svc.pending_generation is not None:
            _advance_update(p, svc, limit)
        if svc.draining_generation is not None:
            _drain(p, svc)
        session.commit()


def _advance_update(p: Platform, svc: ModelService, limit: timedelta) -> None:
    gen, port = svc.pending_generation, svc.pending_port
    assert gen is not None and port is not None and svc.pending_started_at is not None
    check = managed.poll(
        p,
        run_dir(p, svc, gen),
        lambda: _healthy(p, svc, gen, port),
        f"generation {gen} (`miniflow serve`)",
        ready_by=svc.pending_started_at + limit,
    )
    if check.phase == Phase.ENDED:
        svc.update_state, svc.update_reason = UpdateState.FAILED.value, check.reason
        _clear_pending(svc)
    elif check.phase == Phase.READY and svc.draining_generation is None:
        routes(p).switch(svc.id, backend(p, svc, gen, port))  # before the DB says so
        svc.draining_generation, svc.draining_since = svc.generation, utcnow()
        svc.draining_gpu_devices = svc.gpu_devices
        svc.generation, svc.port, svc.gpu_devices = gen, port, svc.pending_gpu_devices
        svc.model_dir = svc.pending_model_dir or svc.model_dir
        svc.source_job_id = svc.pending_source_job_id
        svc.started_at = svc.pending_started_at
        svc.state, svc.reason = ServiceState.AVAILABLE.value, ""
        svc.update_state, svc.update_reason = UpdateState.SUCCEEDED.value, ""
        _clear_pending(svc)


def _drain(p: Platform, svc: ModelService) -> None:
    gen = svc.draining_generation
    assert gen is not None and svc.draining_since is not None
    overdue = utcnow() - svc.draining_since > timedelta(seconds=DRAIN_TIMEOUT_S)
    if routes(p).in_flight(svc.id, gen) == 0 or overdue:
        managed.stop(p, run_dir(p, svc, gen))
        svc.draining_generation, svc.draining_since, svc.draining_gpu_devices = None, None, []


async def forward(request: Request, p: Platform, svc: ModelService, path: str) -> Response:
    """Send a TF Serving REST request to the generation that takes the service's traffic."""
    if svc.state not in ACTIVE:
        return proxy.bad_gateway(f"model service {svc.name!r} is {svc.state}", status=503)
    table = routes(p)
    chosen = table.acquire(svc.id, lambda: backend(p, svc, svc.generation, svc.port))
    return await proxy.forward(
        request,
        chosen,
        path,
        f"model service {svc.name!r}",
        on_done=lambda: table.release(svc.id, chosen),
    )
