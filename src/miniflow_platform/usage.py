"""Capacity accounting: what running jobs, notebooks and services hold, per user and in all.

Jobs wait in the queue for capacity; notebooks and services start at once or are
refused, but they count against the same capacity and quotas.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform.config import Settings
from miniflow_platform.errors import Conflict, InvalidRequest
from miniflow_platform.jobs.models import Job, JobState
from miniflow_platform.notebooks.models import ACTIVE as NOTEBOOK_ACTIVE
from miniflow_platform.notebooks.models import Notebook
from miniflow_platform.serving.models import ACTIVE as SERVICE_ACTIVE
from miniflow_platform.serving.models import ModelService


@dataclass
class Held:
    cpu: float = 0.0
    memory_mb: int = 0
    gpus: set[str] = field(default_factory=set)
    running_jobs: int = 0

    def add(self, cpu: float, memory_mb: int, gpus: list[str], is_job: bool) -> None:
        self.cpu += cpu
        self.memory_mb += memory_mb
        self.gpus.update(gpus)
        self.running_jobs += int(is_job)


@dataclass
class Usage:
    total: Held
    per_user: dict[int, Held]

    def user(self, owner_id: int) -> Held:
        return self.per_user.setdefault(owner_id, Held())


def current_usage(session: Session) -> Usage:
    usage = Usage(Held(), {})
    rows: list[tuple[int, float, int, list[str], bool]] = []
    rows += [
        (j.owner_id, j.cpu, j.memory_mb, j.gpu_devices, True)
        for j in session.scalars(select(Job).where(Job.state == JobState.RUNNING.value))
    ]
    rows += [
        (n.owner_id, n.cpu, n.memory_mb, n.gpu_devices, False)
        for n in session.scalars(select(Notebook).where(Notebook.state.in_(NOTEBOOK_ACTIVE)))
    ]
    rows += [
        (s.owner_id, s.cpu, s.memory_mb, s.gpu_devices, False)
        for s in session.scalars(select(ModelService).where(ModelService.state.in_(SERVICE_ACTIVE)))
    ]
    for owner_id, cpu, mem, gpus, is_job in rows:
        usage.total.add(cpu, mem, gpus, is_job)
        usage.user(owner_id).add(cpu, mem, gpus, is_job)
    return usage


def check_possible(settings: Settings, cpu: float, memory_mb: int, gpu: int) -> None:
    """Refuse a request that could never run on this server, whatever else is running."""
    problems = []
    if cpu > settings.capacity_cpu:
        problems.append(f"cpu {cpu} > capacity {settings.capacity_cpu}")
    if memory_mb > settings.capacity_memory_mb:
        problems.append(f"memory_mb {memory_mb} > capacity {settings.capacity_memory_mb}")
    if gpu > len(settings.gpus):
        problems.append(f"gpu {gpu} > {len(settings.gpus)} GPUs configured")
    for what, asked, quota in (
        ("cpu", cpu, settings.quota_cpu),
        ("memory_mb", memory_mb, settings.quota_memory_mb),
        ("gpu", gpu, settings.quota_gpu),
    ):
        if quota is not None and asked > quota:
            problems.append(f"{what} {asked} > per-user quota {quota}")
    if problems:
        raise InvalidRequest("request can never be scheduled: " + "; ".join(problems))


def over_quota(
    settings: Settings, held: Held, cpu: float, memory_mb: int, gpu: int, is_job: bool
) -> str | None:
    """Why adding this request would break the user's quota, or None if it fits."""
    if settings.quota_cpu is not None and held.cpu + cpu > settings.quota_cpu + 1e-9:
        return f"cpu quota {settings.quota_cpu} reached"
    quota_mem = settings.quota_memory_mb
    if quota_mem is not None and held.memory_mb + memory_mb > quota_mem:
        return f"memory quota {settings.quota_memory_mb} MiB reached"
    if settings.quota_gpu is not None and len(held.gpus) + gpu > settings.quota_gpu:
        return f"gpu quota {settings.quota_gpu} reached"
    if (
        is_job
        and settings.quota_running_jobs is not None
        and held.running_jobs + 1 > settings.quota_running_jobs
    ):
        return f"running-jobs quota {settings.quota_running_jobs} reached"
    return None


def allocate(
    settings: Settings, total: Held, cpu: float, memory_mb: int, gpu: int
) -> list[str] | None:
    """GPU device ids for a request that fits the free capacity now, or None if it does not."""
    if total.cpu + cpu > settings.capacity_cpu + 1e-9:
        return None
    if total.memory_mb + memory_mb > settings.capacity_memory_mb:
        return None
    free = [g for g in settings.gpus if g not in total.gpus]
    if len(free) < gpu:
        return None
    return free[:gpu]


def reserve_now(
    session: Session, settings: Settings, owner_id: int, cpu: float, memory_mb: int, gpu: int
) -> list[str]:
    """For notebooks and services: the GPUs to use, or Conflict if there is no room now."""
    check_possible(settings, cpu, memory_mb, gpu)
    usage = current_usage(session)
    why = over_quota(settings, usage.user(owner_id), cpu, memory_mb, gpu, is_job=False)
    if why:
        raise Conflict(f"cannot start now: {why}")
    gpus = allocate(settings, usage.total, cpu, memory_mb, gpu)
    if gpus is None:
        raise Conflict("cannot start now: not enough free capacity on this server")
    return gpus


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
