"""The capacity view: the numbers the scheduler decides with, for people.

What running work holds comes from ``usage.current_usage``, the function the job
queue (``jobs.service.start_queued``) and the notebook and service starts
(``usage.reserve_now``) count with; why a job waits is the ``queue_reason`` the
scheduler wrote at its last pass. Nothing here keeps numbers of its own.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import usage
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.models import User
from miniflow_platform.capacity.schemas import (
    CapacityPublic,
    Queue,
    Quota,
    Resources,
    ServerCapacity,
    UserCapacity,
)
from miniflow_platform.context import Platform
from miniflow_platform.jobs.models import Job, JobState
from miniflow_platform.notebooks.models import ACTIVE as NOTEBOOK_ACTIVE, Notebook
from miniflow_platform.serving.models import ACTIVE as SERVICE_ACTIVE, ModelService

EPS = 1e-9  # the scheduler's tolerance for float CPU sums (usage.over_quota)


def capacity(p: Platform, session: Session, user: User) -> CapacityPublic:
    """An admin's view of the whole server, or ``user``'s own share of it."""
    s = p.settings
    held = usage.current_usage(session)
    people = auth_service.list_users(session) if user.is_admin else [user]
    owners = None if user.is_admin else {user.id}
    queued = _queued(session, owners)
    notebooks = Counter(
        session.scalars(select(Notebook.owner_id).where(Notebook.state.in_(NOTEBOOK_ACTIVE)))
    )
    generations: Counter[int] = Counter()
    for svc in session.scalars(select(ModelService).where(ModelService.state.in_(SERVICE_ACTIVE))):
        extra = (svc.pending_generation, svc.draining_generation)
        generations[svc.owner_id] += 1 + sum(g is not None for g in extra)
    rows = [
        UserCapacity(
            user=u.name,
            held=_resources(held.user(u.id)),
            running_jobs=held.user(u.id).running_jobs,
            queue=_queue(
                [j for j in queued if j.owner_id == u.id],
                held.user(u.id),
                notebooks[u.id],
                generations[u.id],
            ),
            quota_reached=_reached(p, held.user(u.id)),
        )
        for u in people
    ]
    if user.is_admin:
        queue = _queue(queued, held.total, notebooks.total(), generations.total())
    else:
        queue = rows[0].queue
    free_gpus = [g for g in s.gpus if g not in held.total.gpus]
    return CapacityPublic(
        scope="server" if user.is_admin else "user",
        capacity=ServerCapacity(
            cpu=s.capacity_cpu,
            memory_mb=s.capacity_memory_mb,
            gpus=len(s.gpus),
            gpu_devices=list(s.gpus),
            free_gpu_devices=free_gpus,
        ),
        used=_resources(held.total),
        free=Resources(
            cpu=max(0.0, s.capacity_cpu - held.total.cpu),
            memory_mb=max(0, s.capacity_memory_mb - held.total.memory_mb),
            gpus=len(free_gpus),
        ),
        quota=Quota(
            cpu=s.quota_cpu,
            memory_mb=s.quota_memory_mb,
            gpu=s.quota_gpu,
            running_jobs=s.quota_running_jobs,
            disk_bytes=s.limits.disk_quota_bytes,
        ),
        queue=queue,
        users=rows,
    )


def _queued(session: Session, owners: set[int] | None) -> list[Job]:
    query = select(Job).where(Job.state == JobState.QUEUED.value)
    if owners is not None:
        query = query.where(Job.owner_id.in_(owners))
    return list(session.scalars(query.order_by(Job.id)))


def _resources(held: usage.Held) -> Resources:
    return Resources(cpu=held.cpu, memory_mb=held.memory_mb, gpus=len(held.gpus))


def _queue(jobs: list[Job], held: usage.Held, notebooks: int, generations: int) -> Queue:
    return Queue(
        queued_jobs=len(jobs),
        queued=Resources(
            cpu=sum(j.cpu for j in jobs),
            memory_mb=sum(j.memory_mb for j in jobs),
            gpus=sum(j.gpu for j in jobs),
        ),
        by_reason=dict(Counter(j.queue_reason or "pending" for j in jobs)),
        running_jobs=held.running_jobs,
        notebooks=notebooks,
        service_generations=generations,
    )


def _reached(p: Platform, held: usage.Held) -> list[str]:
    s = p.settings
    return [
        name
        for name, used, quota in (
            ("cpu", held.cpu + EPS, s.quota_cpu),
            ("memory_mb", held.memory_mb, s.quota_memory_mb),
            ("gpu", len(held.gpus), s.quota_gpu),
            ("running_jobs", held.running_jobs, s.quota_running_jobs),
        )
        if quota is not None and used >= quota
    ]
