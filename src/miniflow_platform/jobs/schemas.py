"""Request and response bodies of the jobs API."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from miniflow_platform.api_types import UTCDatetime
from miniflow_platform.jobs.models import Job, JobState, QueueReason

ENV_NAME = r"^[A-Za-z_][A-Za-z0-9_]{0,127}$"
EnvName = Annotated[str, StringConstraints(pattern=ENV_NAME)]
EnvValue = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
Arg = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$", max_length=2**17)]


class ResourcesSpec(BaseModel):
    """What a run may use: CPUs (fractions allowed), memory in MiB, whole GPUs."""

    model_config = ConfigDict(extra="forbid")

    cpu: float = Field(default=1.0, gt=0, le=1024)
    memory_mb: int | None = Field(
        default=None, gt=0, le=2**24, description="default: the server's default_job_memory_mb"
    )
    gpu: int = Field(default=0, ge=0, le=64)
    pids: int | None = Field(
        default=None,
        ge=1,
        le=2**22,
        description="most processes and threads at once (default: the server's "
        "default_pids_limit; at most its limits.max_pids)",
    )


class JobBase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=128)
    env: dict[EnvName, EnvValue] = Field(
        default_factory=dict,
        description="extra environment; at most limits.max_env_vars variables and "
        "limits.max_env_bytes bytes (names + values)",
        json_schema_extra={"additionalProperties": False},  # names must match the pattern
    )
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    priority: int = Field(default=0, ge=-1000, le=1000, description="higher runs first")
    timeout_s: float | None = Field(default=None, gt=0, le=30 * 86400)
    python_env: str | None = Field(
        default=None, max_length=4096, description="a virtualenv dir; its bin/ goes first on PATH"
    )
    max_retries: int = Field(
        default=0, ge=0, le=1000, description="run again after a failed attempt, this many times"
    )
    retry_backoff_s: float = Field(
        default=10.0,
        ge=0,
        le=86400,
        description="delay before retry n is retry_backoff_s * 2**(n-1), capped by the server",
    )


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

    command: list[Arg] = Field(min_length=1, max_length=4096)
    working_dir: str | None = Field(default=None, max_length=4096)
    code_archive_b64: str | None = Field(
        default=None,
        max_length=64 * 2**20,
        description="base64 of a .tar(.gz|.bz2|.xz) or .zip, for small code; larger code: "
        "POST /v1/uploads, then code_upload_id",
    )
    code_upload_id: int | None = Field(
        default=None, ge=1, le=2**53, description="an upload to unpack into the job's code dir"
    )
    experiment: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_][A-Za-z0-9_\-. ]{0,127}$",
        description="the experiment the job's tracking run belongs to (default: Default)",
    )

    @model_validator(mode="after")
    def _one_code_source(self) -> JobCreate:
        given = [self.working_dir, self.code_archive_b64, self.code_upload_id]
        if sum(x is not None for x in given) > 1:
            raise ValueError("give at most one of working_dir, code_archive_b64, code_upload_id")
        return self


class ResourcesPublic(BaseModel):
    cpu: float
    memory_mb: int
    gpu: int
    gpu_devices: list[str]
    pids: int | None


class AttemptPublic(BaseModel):
    """One ended attempt of a job with retries."""

    attempt: int
    state: JobState
    exit_code: int | None
    reason: str
    started_at: UTCDatetime | None
    finished_at: UTCDatetime | None


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
    max_retries: int
    retry_backoff_s: float
    attempt: int = Field(description="the current (or last) attempt, from 1")
    attempts: list[AttemptPublic] = Field(
        description="earlier attempts that ended and were retried"
    )
    next_attempt_at: UTCDatetime | None = Field(description="a retry in backoff starts then")
    queue_reason: QueueReason | None = Field(description="why a QUEUED job waits")
    queue_message: str
    created_at: UTCDatetime
    started_at: UTCDatetime | None
    finished_at: UTCDatetime | None

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
                cpu=job.cpu,
                memory_mb=job.memory_mb,
                gpu=job.gpu,
                gpu_devices=job.gpu_devices,
                pids=job.pids,
            ),
            isolation=job.isolation,
            artifacts_dir=artifacts_dir,
            details=job.details,
            max_retries=job.max_retries or 0,
            retry_backoff_s=job.retry_backoff_s if job.retry_backoff_s is not None else 10.0,
            attempt=len(job.attempts or []) + 1,
            attempts=[AttemptPublic(**a) for a in job.attempts or []],
            next_attempt_at=job.next_attempt_at,
            queue_reason=job.queue_reason if job.state == JobState.QUEUED.value else None,
            queue_message=(job.queue_message or "") if job.state == JobState.QUEUED.value else "",
            created_at=job.created_at,
            started_at=job.started_at,
            finished_at=job.finished_at,
        )


class JobsPublic(BaseModel):
    data: list[JobPublic]
    count: int


class ArtifactsPublic(BaseModel):
    files: list[str]
