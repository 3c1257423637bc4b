"""/v1/jobs: training jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.jobs import service
from miniflow_platform.jobs.dependencies import OwnedJob
from miniflow_platform.jobs.logs import stream_file
from miniflow_platform.jobs.models import TERMINAL, Job, JobKind, JobState
from miniflow_platform.jobs.schemas import ArtifactsPublic, JobCreate, JobPublic, JobsPublic

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])
UserFilter = Annotated[str | None, Query(max_length=64, description="admin only: one user")]


def public(p: PlatformDep, job: Job) -> JobPublic:
    return JobPublic.of(job, str(service.artifacts_dir(p, job)))


@router.post("", status_code=201, response_model=JobPublic)
def create_job(
    body: JobCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> JobPublic:
    """Submit a training job; it waits in the queue until its resources fit."""
    job = service.create_job(
        p,
        session,
        user,
        body,
        body.command,
        JobKind.TRAINING,
        working_dir=body.working_dir,
        code_archive_b64=body.code_archive_b64,
    )
    return public(p, job)


@router.get("", response_model=JobsPublic)
def read_jobs(
    p: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    state: JobState | None = None,
    user_name: UserFilter = None,
) -> JobsPublic:
    """List your training jobs (admins: everyone's), optionally by state or user."""
    jobs = service.list_jobs(session, user, JobKind.TRAINING, state, user_name)
    return JobsPublic(data=[public(p, j) for j in jobs], count=len(jobs))


@router.get("/{job_id}", response_model=JobPublic)
def read_job(job: OwnedJob, p: PlatformDep) -> JobPublic:
    """One training job: state, exit code, timestamps, resources."""
    return public(p, job)


@router.post("/{job_id}/cancel", response_model=JobPublic)
def cancel_job(job: OwnedJob, p: PlatformDep, session: SessionDep, user: CurrentUser) -> JobPublic:
    """Cancel a queued or running job; a running job's whole process tree is killed."""
    return public(p, service.cancel_job(p, session, job, user))


@router.delete("/{job_id}", status_code=204)
def delete_job(job: OwnedJob, p: PlatformDep, session: SessionDep) -> None:
    """Delete an ended (or still queued) job with its logs and artifacts."""
    service.delete_job(p, session, job)


@router.get(
    "/{job_id}/logs",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/plain": {}}}},
)
def read_logs(
    job: OwnedJob,
    p: PlatformDep,
    request: Request,
    follow: bool = False,
    offset: Annotated[int, Query(ge=0, le=2**62)] = 0,
) -> StreamingResponse:
    """The job's stdout and stderr; ``follow=true`` streams until the job ends."""
    return logs_response(p, job, request, follow, offset)


@router.get("/{job_id}/artifacts", response_model=ArtifactsPublic)
def read_artifacts(job: OwnedJob, p: PlatformDep) -> ArtifactsPublic:
    """Files the job wrote to its artifacts directory ($MINIFLOW_ARTIFACTS_DIR)."""
    return ArtifactsPublic(files=service.list_artifacts(p, job))


@router.get("/{job_id}/artifacts/{path:path}", response_class=FileResponse)
def read_artifact(job: OwnedJob, p: PlatformDep, path: str) -> FileResponse:
    """Download one artifact; paths cannot leave the job's artifacts directory."""
    return FileResponse(service.artifact_path(p, job, path))


def logs_response(
    p: PlatformDep, job: Job, request: Request, follow: bool, offset: int
) -> StreamingResponse:
    job_id = job.id

    def is_finished() -> bool:
        with p.sessions() as session:
            current = session.get(Job, job_id)
            return current is None or current.state in {s.value for s in TERMINAL}

    return StreamingResponse(
        stream_file(service.log_path(p, job), offset, follow, request, is_finished),
        media_type="text/plain",
    )
