"""/v1/jobs: training jobs (the shared job routes plus their own create)."""

from __future__ import annotations

from miniflow_platform import errors
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.jobs import service
from miniflow_platform.jobs.models import JobKind
from miniflow_platform.jobs.routes import job_routes, public
from miniflow_platform.jobs.schemas import JobCreate, JobPublic

router = job_routes(JobKind.TRAINING, "/v1/jobs", "job", "jobs")


@router.post("", status_code=201, response_model=JobPublic, responses=errors.responses(404, 413))
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
        code_upload_id=body.code_upload_id,
        details={"experiment": body.experiment} if body.experiment else None,
    )
    return public(p, job)
