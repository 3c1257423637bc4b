"""``OwnedPipeline`` (one of the caller's pipelines, by name) and ``OwnedRun`` (a run of it)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.pipelines import service
from miniflow_platform.pipelines.models import Pipeline, PipelineRun

PipelineName = Annotated[str, Path(pattern=NAME_PATTERN, description="pipeline name")]
RunId = Annotated[int, Path(ge=1, le=2**53, description="run id")]


def owned_pipeline(name: PipelineName, session: SessionDep, user: CurrentUser) -> Pipeline:
    """Names are per user, so the lookup is always among the caller's own pipelines."""
    pipeline = service.get_pipeline(session, user, name)
    if pipeline is None:
        raise NotFound(f"pipeline {name!r} not found")
    return pipeline


OwnedPipeline = Annotated[Pipeline, Depends(owned_pipeline)]


def owned_run(pipeline: OwnedPipeline, run_id: RunId, session: SessionDep) -> PipelineRun:
    run = session.get(PipelineRun, run_id)
    if run is None or run.pipeline_id != pipeline.id:
        raise NotFound(f"run {run_id} of pipeline {pipeline.name!r} not found")
    return run


OwnedRun = Annotated[PipelineRun, Depends(owned_run)]
