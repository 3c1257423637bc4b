"""``OwnedJob``/``OwnedPrediction``: the job in the path, if the caller may act on it (else 404)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path

from miniflow_platform.auth.dependencies import owned
from miniflow_platform.jobs.models import Job, JobKind

JobId = Annotated[int, Path(ge=1, le=2**53, description="job id")]


def owned_job(kind: JobKind) -> Any:
    """A job of ``kind``: a prediction job asked for under /v1/jobs is not found."""
    return owned(Job, "job_id", JobId, f"{kind.value} job", where=lambda j: j.kind == kind.value)


OwnedJob = owned_job(JobKind.TRAINING)
OwnedPrediction = owned_job(JobKind.PREDICTION)
