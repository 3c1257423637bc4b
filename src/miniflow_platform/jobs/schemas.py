"""Request and response bodies of the jobs API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from miniflow_platform.jobs.models import Job, JobState

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"


class ResourcesSpec(BaseModel):
    """What a run may use: CPUs (fractions allowed), memory in MiB, whole GPUs."""

    model_config = ConfigDict(extra="forbid")

    cpu: float = Field(default=1.0, gt=0, le=1024)
    memory_mb: int | None = Field(
        default=None, gt=0, le=2**24, description="default: the server's default_job_memory_mb"
    )
    gpu: int = Field(default=0, ge=0, le=64)


class JobBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=128)
    env: dict[str, str] = Field(default_factory=dict, max_length=256)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    priority: int = Field(default=0, ge=-1000, le=1000, description="higher runs first")
    timeout_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    python_env: str | None = Field(
        default=None, max_length=4096, description="a virtualenv dir; its bin/ goes first on PATH"
    )

    @field_validator("env")
    @classmethod
    def _env_names(cls, env: dict[str, str]) -> dict[str, str]:
        import re

        for key, value in env.items():
            if not re.match(ENV_NAME, key) or "\x00" in value:
                raise ValueError(f"invalid environment variable {key!r}")
        return env


class ModelSource(BaseModel):
    """Where a model comes from: a directory, or a training job's artifacts (batch
    prediction jobs and model services take one)."""

    model_config = ConfigDict(extra="forbid")

    model_dir: str | None = Field(
        default=None, max_length=4096, description="absolute path of a model base dir"
    )
    model_job_id: int | None = Field(
        default=None, ge=1, le=2**53, description="a training job whose output to use instead"
    )
    model_path: str = Field(
        default="model",
        max_length=1024,
        description="with model_job_id: the model's path in its artifacts",
    )

    @model_validator(mode="after")
    def _one_model(self) -> ModelSource:
        if (self.model_dir is None) == (self.model_job_id is None):
            raise ValueError("give exactly one of model_dir and model_job_id")
        return self


class JobCreate(JobBase):
    """A training job: ``command`` runs (no shell) in ``working_dir`` or the uploaded code."""

    command: list[str] = Field(min_length=1, max_length=4096)
    working_dir: str | None = Field(default=None, max_length=4096)
    code_archive_b64: str | None = Field(
        default=None,
        max_length=64 * 2**20,
        description="base64 of a .tar.gz or .zip; unpacked into the job's code dir (its cwd)",
    )

    @field_validator("command")
    @classmethod
    def _no_nul(cls, command: list[str]) -> list[str]:
        if not command[0] or any("\x00" in arg for arg in command):
            raise ValueError("command must be a non-empty argv list without NUL bytes")
        return command


class ResourcesPublic(BaseModel):
    cpu: float
    memory_mb: int
    gpu: int
    gpu_devices: list[str]


class JobPublic(BaseModel):
    id: int
    kind: str
    user: str
    name: str
    command: list[str]
    state: JobState
    reason: str
    exit_code: int | None
    priority: int
    timeout_s: float | None
    resources: ResourcesPublic
    isolation: str
    artifacts_dir: str
    details: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None

    @classmethod
    def of(cls, job: Job, artifacts_dir: str) -> JobPublic:
        return cls(
            id=job.id,
            kind=job.kind,
            user=job.owner.name,
            name=job.name,
            command=job.command,
            state=JobState(job.state),
            reason=job.reason,
            exit_code=job.exit_code,
            priority=job.priority,
            timeout_s=job.timeout_s,
            resources=ResourcesPublic(
                cpu=job.cpu, memory_mb=job.memory_mb, gpu=job.gpu, gpu_devices=job.gpu_devices
            ),
            isolation=job.isolation,
            artifacts_dir=artifacts_dir,
            details=job.details,
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


class ArtifactsPublic(BaseModel):
    files: list[str]
