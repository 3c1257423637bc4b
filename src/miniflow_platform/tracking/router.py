"""/v1/experiments and /v1/runs: experiment tracking (MLflow-like).

Reading and creating take the user's token. ``POST /v1/runs/{id}/log`` also takes the
scoped token the platform gives a job (``$MINIFLOW_TRACKING_TOKEN``), which may log to
that job's own run and nothing else.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query
from fastapi.security import HTTPAuthorizationCredentials

from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser, _bearer
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.errors import Forbidden, InvalidRequest, NotFound, Unauthorized, responses
from miniflow_platform.tracking import service
from miniflow_platform.tracking.models import TrackedRun
from miniflow_platform.tracking.schemas import (
    EXPERIMENT_PATTERN,
    KEY_PATTERN,
    MAX_COMPARE,
    MAX_RUNS_LISTED,
    ArtifactsPublic,
    Comparison,
    ExperimentCreate,
    ExperimentPublic,
    ExperimentsPublic,
    LogBatch,
    MetricHistory,
    MetricValue,
    RunCreate,
    RunPublic,
    RunsPublic,
    RunUpdate,
)

router = APIRouter(tags=["experiments"])
ExperimentName = Annotated[str, Path(pattern=EXPERIMENT_PATTERN, description="experiment name")]
RunId = Annotated[int, Path(ge=1, le=2**53)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _experiment_public(exp, runs: int) -> ExperimentPublic:  # type: ignore[no-untyped-def]
    return ExperimentPublic(
        id=exp.id, name=exp.name, description=exp.description, runs=runs, created_at=exp.created_at
    )


@router.get("/v1/experiments", response_model=ExperimentsPublic)
def read_experiments(session: SessionDep, user: CurrentUser) -> ExperimentsPublic:
    """Your experiments, with how many runs each has."""
    rows = service.list_experiments(session, user)
    return ExperimentsPublic(data=[_experiment_public(e, n) for e, n in rows], count=len(rows))


@router.post(
    "/v1/experiments",
    status_code=201,
    response_model=ExperimentPublic,
    responses=responses(409, 422),
)
def create_experiment(
    body: ExperimentCreate, session: SessionDep, user: CurrentUser
) -> ExperimentPublic:
    """Create an experiment (jobs naming an unknown experiment create it too)."""
    exp = service.create_experiment(session, user.id, body.name, body.description)
    session.commit()
    return _experiment_public(exp, 0)


@router.get("/v1/experiments/{name}", response_model=ExperimentPublic, responses=responses(404))
def read_experiment(
    name: ExperimentName, session: SessionDep, user: CurrentUser
) -> ExperimentPublic:
    """One experiment."""
    exp = service.experiment_named(session, user, name)
    runs = dict((e.id, n) for e, n in service.list_experiments(session, user)).get(exp.id, 0)
    return _experiment_public(exp, runs)


@router.get("/v1/experiments/{name}/runs", response_model=RunsPublic, responses=responses(404, 422))
def read_runs(
    name: ExperimentName,
    session: SessionDep,
    user: CurrentUser,
    filter: Annotated[  # noqa: A002  the query parameter's name
        str | None,
        Query(max_length=1000, description="e.g. metrics.auc > 0.7 and params.optimizer = 'ftrl'"),
    ] = None,
    order_by: Annotated[
        str | None, Query(max_length=1000, description="e.g. metrics.auc desc (default: newest)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS_LISTED)] = 100,
) -> RunsPublic:
    """Runs of an experiment: filtered and sorted by metrics, params, tags (docs/platform.md)."""
    exp = service.experiment_named(session, user, name)
    runs = service.search_runs(session, exp, filter, order_by, limit)
    return RunsPublic(data=runs, count=len(runs))


@router.post(
    "/v1/experiments/{name}/runs",
    status_code=201,
    response_model=RunPublic,
    responses=responses(404, 409, 422),
)
def create_run(
    name: ExperimentName, body: RunCreate, session: SessionDep, user: CurrentUser
) -> RunPublic:
    """Start a run that is not a job's (jobs get theirs when they start)."""
    run = service.create_run(session, user, name, body)
    return service.publish(session, [run])[0]


@router.get("/v1/runs/compare", response_model=Comparison, responses=responses(404, 422))
def compare_runs(
    session: SessionDep,
    user: CurrentUser,
    ids: Annotated[
        str,
        Query(
            pattern=r"^\d{1,16}(,\d{1,16})*$",
            max_length=17 * MAX_COMPARE,
            description=f"comma-separated run ids, at most {MAX_COMPARE}",
        ),
    ],
) -> Comparison:
    """Runs side by side: each param and each metric's latest value, one column per run."""
    return service.compare(session, user, [int(i) for i in ids.split(",")])


@router.get("/v1/runs/{run_id}", response_model=RunPublic, responses=responses(404))
def read_run(run_id: RunId, session: SessionDep, credentials: Credentials) -> RunPublic:
    """A run: params, tags, each metric's latest value, its job. The run's own scoped
    token may read it too."""
    return service.publish(session, [_run_for(session, credentials, run_id)])[0]


@router.patch("/v1/runs/{run_id}", response_model=RunPublic, responses=responses(404, 409))
def end_run(run_id: RunId, body: RunUpdate, session: SessionDep, user: CurrentUser) -> RunPublic:
    """End a run that is not a job's."""
    run = service.end_run(session, service.readable_run(session, user, run_id), body.status)
    return service.publish(session, [run])[0]


@router.post("/v1/runs/{run_id}/log", status_code=204, responses=responses(401, 403, 404, 409, 422))
def log_to_run(
    run_id: RunId, body: LogBatch, session: SessionDep, credentials: Credentials
) -> None:
    """Log metrics, params and tags to a run, all or nothing. Takes the owner's token or
    the run's own scoped token."""
    service.log_batch(session, _run_for(session, credentials, run_id), body)


@router.get(
    "/v1/runs/{run_id}/metrics/{key:path}", response_model=MetricHistory, responses=responses(404)
)
def read_metric_history(
    run_id: RunId, key: str, session: SessionDep, user: CurrentUser
) -> MetricHistory:
    """Every logged value of one metric, by step."""
    if not re.match(KEY_PATTERN, key):
        raise InvalidRequest(f"metric name {key!r} does not match {KEY_PATTERN}")
    run = service.readable_run(session, user, run_id)
    points = service.history(session, run, key)
    data = [MetricValue(value=m.value, step=m.step, timestamp=m.timestamp) for m in points]
    return MetricHistory(run_id=run.id, key=key, data=data, count=len(data))


@router.get("/v1/runs/{run_id}/artifacts", response_model=ArtifactsPublic, responses=responses(404))
def read_run_artifacts(
    run_id: RunId, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> ArtifactsPublic:
    """Files of the run's job (download them from /v1/jobs/{job_id}/artifacts/...)."""
    run = service.readable_run(session, user, run_id)
    return ArtifactsPublic(files=service.artifacts(p, session, run))


def _run_for(session: SessionDep, credentials: Credentials, run_id: int) -> TrackedRun:
    """The run, if the bearer token is its owner's (or an admin's) or the run's own."""
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    token = credentials.credentials
    if token.startswith(service.RUN_TOKEN_PREFIX):
        run = service.run_for_token(session, token)
        if run is None:
            raise Unauthorized("unknown or expired run token (a job's token ends with the job)")
        if run.id != run_id:
            raise Forbidden(f"this token belongs to run {run.id}; it cannot use run {run_id}")
        return run
    user = auth_service.authenticate(session, token)
    if user is None:
        raise Unauthorized("unknown or revoked API token")
    try:
        return service.readable_run(session, user, run_id)
    except NotFound:
        raise NotFound(f"run {run_id} not found") from None
