"""Lookup-and-ownership dependencies: a route gets a Job the caller may act on, or 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Path

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.jobs.models import Job, JobKind

JobId = Annotated[int, Path(ge=1, le=2**53, description="job id")]


def owned(kind: JobKind) -> Callable[..., Job]:
    def _owned_job(job_id: JobId, session: SessionDep, user: CurrentUser) -> Job:
        job = session.get(Job, job_id)
        # Another user's job is reported exactly like a missing one: no existence leak.
        if job is None or job.kind != kind.value or not (user.is_admin or job.owner_id == user.id):
            raise NotFound(f"{kind.value} job {job_id} not found")
        return job

    return _owned_job


OwnedJob = Annotated[Job, Depends(owned(JobKind.TRAINING))]
OwnedPrediction = Annotated[Job, Depends(owned(JobKind.PREDICTION))]
