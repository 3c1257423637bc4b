"""Request and response bodies of the users API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from miniflow_platform.api_types import UTCDatetime

NAME_PATTERN = r"^[a-z][a-z0-9_-]{0,62}$"


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="lowercase login name")
    admin: bool = False


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    is_admin: bool
    created_at: UTCDatetime


class UsersPublic(BaseModel):
    data: list[UserPublic]
    count: int


class TokenPublic(BaseModel):
    """A new API token. It is shown once: the server keeps only its hash."""

    id: int
    user: str
    token: str


class DiskUsagePublic(BaseModel):
    used_bytes: int
    quota_bytes: int | None = Field(description="limits.disk_quota_bytes; null: no quota")
    jobs_bytes: int = Field(description="job dirs: code, artifacts, logs")
    notebooks_bytes: int
    uploads_bytes: int


class ComputeUsagePublic(BaseModel):
    """What the user's running jobs, notebooks and services hold, and the quotas."""

    cpu: float
    memory_mb: int
    gpus: int
    running_jobs: int
    quota_cpu: float | None
    quota_memory_mb: int | None
    quota_gpu: int | None
    quota_running_jobs: int | None


class UsagePublic(BaseModel):
    user: str
    disk: DiskUsagePublic
    compute: ComputeUsagePublic
