"""Capacity accounting: what running jobs, notebooks and services hold, per user and in all.

Jobs wait in the queue for capacity; notebooks and services start at once or are
refused, but they count against the same capacity and quotas.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform.config import Settings
from miniflow_platform.context import Platform
from miniflow_platform.errors import Conflict, InvalidRequest
from miniflow_platform.jobs.models import Job, JobState
from miniflow_platform.notebooks.models import ACTIVE as NOTEBOOK_ACTIVE, Notebook
from miniflow_platform.serving.models import ACTIVE as SERVICE_ACTIVE, ModelService
from miniflow_platform.uploads.models import Upload


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
    for s in session.scalars(select(ModelService).where(ModelService.state.in_(SERVICE_ACTIVE))):
        rows.append((s.owner_id, s.cpu, s.memory_mb, s.gpu_devices, False))
        # during an update the next (or the draining) generation runs too
        for other, gpus in (
            (s.pending_generation, s.pending_gpu_devices),
            (s.draining_generation, s.draining_gpu_devices),
        ):
            if other is not None:
                rows.append((s.owner_id, s.cpu, s.memory_mb, gpus, False))
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


@dataclass
class DiskUsage:
    """Bytes a user holds on the server's disk (what the disk quota counts)."""

    jobs_bytes: int
    notebooks_bytes: int
    uploads_bytes: int

    @property
    def total_bytes(self) -> int:
        return self.jobs_bytes + self.notebooks_bytes + self.uploads_bytes


def disk_usage(p: Platform, session: Session, owner_id: int) -> DiskUsage:
    """Walk the user's job dirs (code, artifacts, logs), notebook dirs and uploads.

    The layout (``jobs/job-N``, ``notebooks/nb-N``) is the one ``jobs.service`` and
    ``notebooks.service`` create; only the models are imported here, to avoid a cycle.
    """
    data = p.settings.data_dir
    job_ids = session.scalars(select(Job.id).where(Job.owner_id == owner_id))
    nb_ids = session.scalars(select(Notebook.id).where(Notebook.owner_id == owner_id))
    uploads = session.scalars(select(Upload.size_bytes).where(Upload.owner_id == owner_id))
    return DiskUsage(
        jobs_bytes=sum(tree_bytes(data / "jobs" / f"job-{i}") for i in job_ids),
        notebooks_bytes=sum(tree_bytes(data / "notebooks" / f"nb-{i}") for i in nb_ids),
        uploads_bytes=sum(uploads),
    )


def tree_bytes(root: Path) -> int:
    """Disk bytes under ``root`` (symlinks not followed; the larger of the apparent size
    and the allocated blocks, so neither sparse files nor many tiny files hide usage)."""
    total = 0
    stack = [str(root)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                st = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(entry.path)
            total += max(st.st_size, st.st_blocks * 512)
    return total
