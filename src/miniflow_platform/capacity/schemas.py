"""The body of ``GET /v1/capacity``."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class Resources(BaseModel):
    """An amount of the three resources the scheduler hands out."""

    cpu: float
    memory_mb: int
    gpus: int


class ServerCapacity(Resources):
    """What the server hands out in all (``serve --cpu --memory-mb --gpus``)."""

    gpu_devices: list[str] = Field(description="the GPU ids; free_gpu_devices are not held")
    free_gpu_devices: list[str]


class Quota(BaseModel):
    """The per-user quotas (the same for every user; null: no quota)."""

    cpu: float | None
    memory_mb: int | None
    gpu: int | None
    running_jobs: int | None
    disk_bytes: int | None = Field(description="see GET /v1/users/{name}/usage for disk use")


class Queue(BaseModel):
    """Jobs waiting and work running (server-wide for an admin, your own otherwise)."""

    queued_jobs: int
    queued: Resources = Field(description="what the queued jobs ask for, summed")
    by_reason: dict[str, int] = Field(
        description="queued jobs by the scheduler's last queue_reason: quota, capacity, "
        "priority, backoff (pending: not looked at yet)"
    )
    running_jobs: int
    notebooks: int = Field(description="starting or running")
    service_generations: int = Field(
        description="running model service generations (two during an update)"
    )


class UserCapacity(BaseModel):
    """What one user's running work holds against the quota, and what they have queued."""

    user: str
    held: Resources
    running_jobs: int
    queue: Queue
    quota_reached: list[str] = Field(
        description="the quotas this user is at: cpu, memory_mb, gpu, running_jobs"
    )


class CapacityPublic(BaseModel):
    scope: Literal["server", "user"] = Field(
        description="server: an admin's view (every user); user: the caller's own"
    )
    capacity: ServerCapacity
    used: Resources = Field(description="held by all running work on the server")
    free: Resources
    quota: Quota
    queue: Queue
    users: list[UserCapacity] = Field(description="every user (admins), or only you")
