"""/v1/predictions: batch prediction jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.dependencies import OwnedPrediction
from miniflow_platform.jobs.models import JobKind, JobState
from miniflow_platform.jobs.router import UserFilter, logs_response, public
from miniflow_platform.jobs.schemas import ArtifactsPublic, JobPublic, JobsPublic
from miniflow_platform.predictions import service
from miniflow_platform.predictions.schemas import PredictionCreate

router = APIRouter(prefix="/v1/predictions", tags=["predictions"])


@router.post("", status_code=201, response_model=JobPublic)
def create_prediction(
    body: PredictionCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> JobPublic:
    """Submit a batch prediction job (`miniflow predict` over the input files)."""
    return public(p, service.create_prediction(p, session, user, body))


@router.get("", response_model=JobsPublic)
def read_predictions(
    p: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    state: JobState | None = None,
    user_name: UserFilter = None,
) -> JobsPublic:
    """List your batch prediction jobs (admins: everyone's)."""
    found = jobs.list_jobs(session, user, JobKind.PREDICTION, state, user_name)
    return JobsPublic(data=[public(p, j) for j in found], count=len(found))


@router.get("/{job_id}", response_model=JobPublic)
def read_prediction(job: OwnedPrediction, p: PlatformDep) -> JobPublic:
    """One batch prediction job."""
    return public(p, job)


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_prediction(
    job: OwnedPrediction, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> JobPublic:
    """Cancel a queued or running batch prediction job."""
    return public(p, jobs.cancel_job(p, session, job, user))


@router.delete("/{job_id}", status_code=204)
def delete_prediction(job: OwnedPrediction, p: PlatformDep, session: SessionDep) -> None:
    """Delete an ended batch prediction job with its logs and outputs in its artifacts."""
    jobs.delete_job(p, session, job)


@router.get(
    "/{job_id}/logs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def read_prediction_logs(
    job: OwnedPrediction,
    p: PlatformDep,
    request: Request,
    follow: bool = False,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> StreamingResponse:
    """The job's output; ``follow=true`` streams until it ends."""
    return logs_response(p, job, request, follow, offset)


@router.get("/{job_id}/artifacts", response_model=ArtifactsPublic)
def read_prediction_artifacts(job: OwnedPrediction, p: PlatformDep) -> ArtifactsPublic:
    """Files in the job's artifacts directory (the default output goes there)."""
    return ArtifactsPublic(files=jobs.list_artifacts(p, job))


@router.get("/{job_id}/artifacts/{path:path}", response_class=FileResponse)
def read_prediction_artifact(job: OwnedPrediction, p: PlatformDep, path: str) -> FileResponse:
    """Download one output file."""
    return FileResponse(jobs.artifact_path(p, job, path))
