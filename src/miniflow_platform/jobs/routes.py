"""``job_routes``: the routes every job-like resource shares, built once.

Training jobs, batch predictions (and later pipelines) differ only in how they are
created; listing, reading, cancelling, deleting, logs and artifacts come from here, and
each resource's router adds its own create route.
"""

# No ``from __future__ import annotations``: the routes built inside ``job_routes`` are
# annotated with a local dependency, which FastAPI must see as an object, not a string.
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, StreamingResponse

from miniflow_platform import errors
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.jobs import service
from miniflow_platform.jobs.dependencies import owned_job
from miniflow_platform.jobs.logs import stream_log
from miniflow_platform.jobs.models import TERMINAL, Job, JobKind, JobState
from miniflow_platform.jobs.schemas import ArtifactsPublic, JobPublic, JobsPublic

UserFilter = Annotated[
    str | None, Query(pattern=NAME_PATTERN, description="admin only: one user's jobs")
]
Offset = Annotated[int, Query(ge=0, le=2**53, description="start at this byte of the log")]


def public(p: PlatformDep, job: Job) -> JobPublic:
    return JobPublic.of(job, str(service.artifacts_dir(p, job)))


def job_routes(kind: JobKind, prefix: str, noun: str, plural: str) -> APIRouter:
    """A router with list, get, cancel, delete, logs and artifacts for jobs of ``kind``.

    ``noun``/``plural`` name the operations (``read_prediction``...) and the docs; the
    caller adds its own create route.
    """
    router = APIRouter(prefix=prefix, tags=[plural])
    owned = owned_job(kind)
    label = f"{kind.value} job"

    @router.get("", response_model=JobsPublic, name=f"read_{plural}")
    def read_all(
        p: PlatformDep,
        session: SessionDep,
        user: CurrentUser,
        state: JobState | None = None,
        user_name: UserFilter = None,
    ) -> JobsPublic:
        jobs = service.list_jobs(session, user, kind, state, user_name)
        return JobsPublic(data=[public(p, j) for j in jobs], count=len(jobs))

    read_all.__doc__ = f"List your {label}s (admins: everyone's), optionally by state or user."

    @router.get("/{job_id}", response_model=JobPublic, name=f"read_{noun}")
    def read_one(job: owned, p: PlatformDep) -> JobPublic:  # type: ignore[valid-type]
        return public(p, job)

    read_one.__doc__ = f"One {label}: state, attempts, queue reason, timestamps, resources."

    @router.post(
        "/{job_id}/cancel",
        response_model=JobPublic,
        name=f"cancel_{noun}",
        responses=errors.responses(409),
    )
    def cancel(
        job: owned,  # type: ignore[valid-type]
        p: PlatformDep,
        session: SessionDep,
        user: CurrentUser,
    ) -> JobPublic:
        return public(p, service.cancel_job(p, session, job, user))

    cancel.__doc__ = f"Cancel a queued or running {label}; its whole process tree is killed."

    @router.delete(
        "/{job_id}", status_code=204, name=f"delete_{noun}", responses=errors.responses(409)
    )
    def delete(job: owned, p: PlatformDep, session: SessionDep) -> None:  # type: ignore[valid-type]
        service.delete_job(p, session, job)

    delete.__doc__ = f"Delete an ended (or still queued) {label} with its logs and artifacts."

    @router.get(
        "/{job_id}/logs",
        response_class=StreamingResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
        name=f"read_{noun}_logs",
    )
    def read_logs(
        job: owned,  # type: ignore[valid-type]
        p: PlatformDep,
        request: Request,
        follow: bool = False,
        offset: Offset = 0,
    ) -> StreamingResponse:
        return logs_response(p, job, request, follow, offset)

    read_logs.__doc__ = f"The {label}'s stdout and stderr; `follow=true` streams until it ends."

    @router.get(
        "/{job_id}/artifacts", response_model=ArtifactsPublic, name=f"read_{noun}_artifacts"
    )
    def read_artifacts(job: owned, p: PlatformDep) -> ArtifactsPublic:  # type: ignore[valid-type]
        return ArtifactsPublic(files=service.list_artifacts(p, job))

    read_artifacts.__doc__ = "Files the job wrote to its artifacts dir ($MINIFLOW_ARTIFACTS_DIR)."

    @router.get(
        "/{job_id}/artifacts/{path:path}",
        response_class=FileResponse,
        responses={200: {"content": {"application/octet-stream": {}}}},
        name=f"read_{noun}_artifact",
    )
    def read_artifact(job: owned, p: PlatformDep, path: str) -> FileResponse:  # type: ignore[valid-type]
        return FileResponse(service.artifact_path(p, job, path))

    read_artifact.__doc__ = "Download one artifact; paths cannot leave the artifacts dir."
    return router


def logs_response(
    p: PlatformDep, job: Job, request: Request, follow: bool, offset: int
) -> StreamingResponse:
    job_id = job.id

    def is_finished() -> bool:
        with p.sessions() as session:
            current = session.get(Job, job_id)
            return current is None or current.state in {s.value for s in TERMINAL}

    return StreamingResponse(
        stream_log(
            lambda pos: p.executor.read_log(service.run_id(job_id), pos),
            offset,
            follow,
            request,
            is_finished,
        ),
        media_type="text/plain",
    )
