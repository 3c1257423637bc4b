"""/v1/pipelines: define pipelines, start and follow their runs, read each step's logs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from miniflow_platform import errors
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.models import Job
from miniflow_platform.jobs.routes import Offset, logs_response
from miniflow_platform.pipelines import service
from miniflow_platform.pipelines.dependencies import OwnedPipeline, OwnedRun
from miniflow_platform.pipelines.models import Pipeline, PipelineRun, RunState, StepState
from miniflow_platform.pipelines.schemas import (
    STEP_NAME,
    PipelineCreate,
    PipelinePublic,
    PipelinesPublic,
    RunCreate,
    RunPublic,
    RunsPublic,
    StepRunPublic,
)

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"])
StepName = Annotated[str, Path(pattern=STEP_NAME, description="step name")]


def pipeline_public(pipeline: Pipeline) -> PipelinePublic:
    spec = pipeline.spec
    return PipelinePublic(
        id=pipeline.id,
        name=pipeline.name,
        user=pipeline.owner.name,
        description=pipeline.description,
        params=spec.get("params", {}),
        steps=spec["steps"],
        created_at=pipeline.created_at,
    )


def run_public(p: PlatformDep, session: Session, run: PipelineRun) -> RunPublic:
    specs = {s["name"]: s for s in run.spec["steps"]}
    steps = []
    for step in run.steps:
        job = session.get(Job, step.job_id) if step.job_id else None
        steps.append(
            StepRunPublic(
                name=step.name,
                kind=specs[step.name].get("kind", "command"),
                depends_on=specs[step.name].get("depends_on", []),
                state=StepState(step.state),
                job_id=step.job_id,
                reason=step.reason,
                outputs=step.outputs or {},
                artifacts_dir=str(jobs.artifacts_dir(p, job)) if job is not None else None,
                started_at=step.started_at,
                finished_at=step.finished_at,
            )
        )
    return RunPublic(
        id=run.id,
        pipeline=run.pipeline.name,
        user=run.owner.name,
        state=RunState(run.state),
        reason=run.reason,
        degraded=bool(run.degraded),
        trigger=run.trigger or "",
        params=run.params,
        steps=steps,
        created_at=run.created_at,
        finished_at=run.finished_at,
    )


@router.post(
    "", status_code=201, response_model=PipelinePublic, responses=errors.responses(409, 422)
)
def create_pipeline(
    body: PipelineCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> PipelinePublic:
    """Define a pipeline: steps with ``depends_on`` forming a DAG (checked: no cycles)."""
    return pipeline_public(service.create_pipeline(p, session, user, body))


@router.get("", response_model=PipelinesPublic)
def read_pipelines(session: SessionDep, user: CurrentUser) -> PipelinesPublic:
    """Your pipelines (admins: everyone's)."""
    found = auth_service.visible_rows(session, user, Pipeline)
    return PipelinesPublic(data=[pipeline_public(x) for x in found], count=len(found))


@router.get("/{name}", response_model=PipelinePublic, responses=errors.responses(404))
def read_pipeline(pipeline: OwnedPipeline) -> PipelinePublic:
    """One pipeline's definition."""
    return pipeline_public(pipeline)


@router.delete("/{name}", status_code=204, responses=errors.responses(404, 409))
def delete_pipeline(pipeline: OwnedPipeline, p: PlatformDep, session: SessionDep) -> None:
    """Delete a pipeline and its run history (not while a run is running; jobs stay)."""
    service.delete_pipeline(p, session, pipeline)


@router.post(
    "/{name}/runs",
    status_code=201,
    response_model=RunPublic,
    responses=errors.responses(404, 422),
)
def create_run(
    pipeline: OwnedPipeline,
    p: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    body: RunCreate | None = None,
) -> RunPublic:
    """Start a run; its first steps are submitted as your jobs at once."""
    run = service.create_run(p, session, user, pipeline, body or RunCreate())
    return run_public(p, session, run)


@router.get("/{name}/runs", response_model=RunsPublic, responses=errors.responses(404))
def read_runs(pipeline: OwnedPipeline, p: PlatformDep, session: SessionDep) -> RunsPublic:
    """The pipeline's runs, oldest first, with every step's state."""
    runs = service.list_runs(session, pipeline)
    return RunsPublic(data=[run_public(p, session, r) for r in runs], count=len(runs))


@router.get("/{name}/runs/{run_id}", response_model=RunPublic, responses=errors.responses(404))
def read_run(run: OwnedRun, p: PlatformDep, session: SessionDep) -> RunPublic:
    """One run: its state and each step's state, job, timings and outputs."""
    return run_public(p, session, run)


@router.post(
    "/{name}/runs/{run_id}/cancel",
    response_model=RunPublic,
    responses=errors.responses(404, 409),
)
def cancel_run(run: OwnedRun, p: PlatformDep, session: SessionDep, user: CurrentUser) -> RunPublic:
    """Cancel a running run: its queued and running steps' jobs are cancelled."""
    return run_public(p, session, service.cancel_run(p, session, run, user))


@router.get(
    "/{name}/runs/{run_id}/steps/{step}/logs",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
        **errors.responses(404),
    },
)
def read_step_logs(
    run: OwnedRun,
    step: StepName,
    p: PlatformDep,
    session: SessionDep,
    request: Request,
    follow: bool = False,
    offset: Offset = 0,
) -> StreamingResponse:
    """A step's job logs; `follow=true` streams until the job ends."""
    job = service.step_job(session, run, step)
    if job is None:
        raise NotFound(f"step {step!r} of run {run.id} has no job (yet)")
    return logs_response(p, job, request, follow, offset)
