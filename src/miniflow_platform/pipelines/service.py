"""Pipeline logic: definitions, runs, cancelling, and ``advance_runs``, the scheduler step.

``advance_runs`` moves every RUNNING run forward from what the database says: it reads
each step's job, marks what ended, and creates the jobs of steps whose dependencies are
done. A step is SUBMITTING while its job is created; a restart that finds a SUBMITTING
step looks its job up by name (``run-<id>/<step>``) instead of creating another, so no
step runs twice.
"""

from __future__ import annotations

import json
import os
import stat
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import add_unique, utcnow
from miniflow_platform.errors import Conflict, InvalidRequest, PlatformError
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.models import Job, JobKind, JobState
from miniflow_platform.jobs.schemas import JobBase
from miniflow_platform.model_metrics import service as model_metrics
from miniflow_platform.pipelines import expressions as ex
from miniflow_platform.pipelines.models import (
    STEP_TERMINAL,
    Pipeline,
    PipelineRun,
    RunState,
    StepRun,
    StepState,
)
from miniflow_platform.pipelines.schemas import PipelineCreate, RunCreate, StepSpec
from miniflow_platform.predictions import service as predictions
from miniflow_platform.predictions.schemas import PredictionCreate
from miniflow_platform.serving import service as serving
from miniflow_platform.serving.models import ACTIVE, ModelService, ServiceState
from miniflow_platform.serving.schemas import ServiceCreate, ServiceUpdate

MAX_OUTPUTS_BYTES = 64 * 1024
_JOB_FIELDS = set(JobBase.model_fields)
_STEP_OF_JOB = {
    JobState.QUEUED.value: StepState.QUEUED,
    JobState.RUNNING.value: StepState.RUNNING,
    JobState.SUCCEEDED.value: StepState.SUCCEEDED,
    JobState.CANCELLED.value: StepState.CANCELLED,
}
_BROKEN = {StepState.FAILED, StepState.UPSTREAM_FAILED, StepState.CANCELLED}


def create_pipeline(p: Platform, session: Session, user: User, body: PipelineCreate) -> Pipeline:
    for step in body.steps:
        try:
            jobs.check_limits(p, step)
        except PlatformError as e:
            raise InvalidRequest(f"step {step.name!r}: {e}", e.details) from None
    if get_pipeline(session, user, body.name) is not None:
        raise Conflict(f"you already have a pipeline named {body.name!r}; delete it first")
    pipeline = Pipeline(
        owner_id=user.id,
        name=body.name,
        description=body.description,
        spec=body.model_dump(mode="json"),
    )
    taken = f"you already have a pipeline named {body.name!r}; delete it first"
    add_unique(session, pipeline, taken)
    return pipeline


def get_pipeline(session: Session, user: User, name: str) -> Pipeline | None:
    query = select(Pipeline).where(Pipeline.owner_id == user.id, Pipeline.name == name)
    return session.scalar(query)


def delete_pipeline(p: Platform, session: Session, pipeline: Pipeline) -> None:
    with p.lock:
        running = session.scalar(
            select(PipelineRun.id).where(
                PipelineRun.pipeline_id == pipeline.id,
                PipelineRun.state == RunState.RUNNING.value,
            )
        )
        if running is not None:
            raise Conflict(f"run {running} of pipeline {pipeline.name!r} is running; cancel it")
        for run in list_runs(session, pipeline):
            session.delete(run)
        session.delete(pipeline)
        session.commit()


def create_run(
    p: Platform,
    session: Session,
    user: User,
    pipeline: Pipeline,
    body: RunCreate,
    trigger: str = "",
) -> PipelineRun:
    defaults = check_params(pipeline, body.params)
    with p.lock:
        run = PipelineRun(
            pipeline_id=pipeline.id,
            owner_id=pipeline.owner_id,
            spec=pipeline.spec,
            params={**defaults, **body.params},
            state=RunState.RUNNING.value,
            trigger=trigger,
        )
        run.steps = [StepRun(name=s["name"], outputs={}) for s in pipeline.spec["steps"]]
        session.add(run)
        session.commit()
        advance_run(p, session, run)  # start the first steps now, not at the next tick
    return run


def check_params(pipeline: Pipeline, params: dict[str, Any]) -> dict[str, Any]:
    """The pipeline's params with their defaults; refuses names it does not declare."""
    defaults = pipeline.spec.get("params", {})
    unknown = sorted(set(params) - set(defaults))
    if unknown:
        raise InvalidRequest(
            f"unknown params: {', '.join(unknown)}; pipeline {pipeline.name!r} takes "
            f"{sorted(defaults)}"
        )
    return defaults


def list_runs(session: Session, pipeline: Pipeline) -> list[PipelineRun]:
    query = select(PipelineRun).where(PipelineRun.pipeline_id == pipeline.id)
    return list(session.scalars(query.order_by(PipelineRun.id)))


def cancel_run(p: Platform, session: Session, run: PipelineRun, by: User) -> PipelineRun:
    with p.lock:
        session.refresh(run)
        if run.state != RunState.RUNNING.value:
            raise Conflict(f"run {run.id} already ended ({run.state}); nothing to cancel")
        _sync_jobs(p, session, run)
        reason = f"cancelled by {by.name}"
        for step in run.steps:
            if StepState(step.state) in STEP_TERMINAL:
                continue
            job = session.get(Job, step.job_id) if step.job_id else None
            if job is not None and job.state in {JobState.QUEUED.value, JobState.RUNNING.value}:
                jobs.cancel_job(p, session, job, by)
            step.state, step.reason, step.finished_at = StepState.CANCELLED.value, reason, utcnow()
        run.state, run.reason, run.finished_at = RunState.CANCELLED.value, reason, utcnow()
        session.commit()
    return run


def step_job(session: Session, run: PipelineRun, name: str) -> Job | None:
    step = next((s for s in run.steps if s.name == name), None)
    return session.get(Job, step.job_id) if step is not None and step.job_id else None


# ---- scheduler step ----------------------------------------------------------------------


def advance_runs(p: Platform, session: Session) -> None:
    """Advance every RUNNING run (the scheduler calls this each tick, under the lock)."""
    query = select(PipelineRun).where(PipelineRun.state == RunState.RUNNING.value)
    for run in session.scalars(query.order_by(PipelineRun.id)).all():
        advance_run(p, session, run)


def advance_run(p: Platform, session: Session, run: PipelineRun) -> None:
    specs = {s["name"]: StepSpec.model_validate(s) for s in run.spec["steps"]}
    _sync_jobs(p, session, run)
    steps = {s.name: s for s in run.steps}
    changed = True
    while changed:  # one tick settles chains of SKIPPED / UPSTREAM_FAILED
        changed = False
        for name, spec in specs.items():
            step = steps[name]
            if step.state != StepState.PENDING.value:
                continue
            deps = [steps[d] for d in spec.depends_on]
            broken = [d.name for d in deps if StepState(d.state) in _BROKEN]
            skipped = [d.name for d in deps if d.state == StepState.SKIPPED.value]
            if broken:
                _end(step, StepState.UPSTREAM_FAILED, f"dependency {broken[0]!r} did not succeed")
            elif skipped:
                _end(step, StepState.SKIPPED, f"dependency {skipped[0]!r} was skipped")
            elif all(d.state == StepState.SUCCEEDED.value for d in deps):
                _start(p, session, run, spec, step)
            else:
                continue
            changed = True
    session.commit()
    states = {StepState(s.state) for s in run.steps}
    if states <= STEP_TERMINAL:
        if states & {StepState.FAILED, StepState.UPSTREAM_FAILED, StepState.CANCELLED}:
            failed = [s.name for s in run.steps if s.state == StepState.FAILED.value]
            run.state = RunState.FAILED.value
            run.reason = f"step {failed[0]!r} failed" if failed else "a step did not succeed"
        else:
            run.state = RunState.SUCCEEDED.value
        run.finished_at = utcnow()
        session.commit()


def _end(step: StepRun, state: StepState, reason: str) -> None:
    step.state, step.reason, step.finished_at = state.value, reason, utcnow()


def _sync_jobs(p: Platform, session: Session, run: PipelineRun) -> None:
    """Copy the state of each step's job into the step (and find jobs a crash orphaned)."""
    kinds = {s["name"]: s.get("kind", "command") for s in run.spec["steps"]}
    for step in run.steps:
        if kinds[step.name] == "deploy":
            _sync_deploy(session, run, step)
            continue
        if step.state == StepState.SUBMITTING.value and step.job_id is None:
            job = session.scalar(
                select(Job)
                .where(Job.owner_id == run.owner_id, Job.name == job_name(run, step))
                .order_by(Job.id.desc())
            )
            if job is None:  # the crash came before the job was created
                step.state = StepState.PENDING.value
                continue
            step.job_id = job.id
        if step.state not in {
            StepState.SUBMITTING.value,
            StepState.QUEUED.value,
            StepState.RUNNING.value,
        }:
            continue
        job = session.get(Job, step.job_id)
        if job is None:
            _end(step, StepState.FAILED, f"its job {step.job_id} was deleted")
            continue
        step.started_at = job.started_at
        job_reason = ""
        new = _STEP_OF_JOB.get(job.state, StepState.FAILED)
        if new == StepState.SUCCEEDED:
            try:
                step.outputs = read_outputs(p, job)
            except ValueError as e:
                new, job_reason = StepState.FAILED, str(e)
            else:
                job_reason = _record_evaluation(session, run, step, job)
        elif new in {StepState.FAILED, StepState.CANCELLED}:
            job_reason = f"job {job.id} ended {job.state}" + (
                f": {job.reason}" if job.reason else ""
            )
        if new in STEP_TERMINAL:
            _end(step, new, job_reason)  # a SUCCEEDED evaluation: why it is degraded, or ""
        else:
            step.state = new.value
    session.commit()


def _record_evaluation(session: Session, run: PipelineRun, step: StepRun, job: Job) -> str:
    """An evaluate step's metrics join its model's series (in the transaction that ends
    the step, so once); a crossed threshold marks the step's outputs and the run degraded."""
    spec = next(s for s in run.spec["steps"] if s["name"] == step.name)
    if spec.get("kind") != "evaluate":
        return ""
    model = spec.get("model") or spec.get("service") or run.pipeline.name
    bad = model_metrics.record(
        session,
        run.owner_id,
        model,
        step.outputs,
        spec.get("thresholds") or {},
        at=job.finished_at or utcnow(),
        run_id=run.id,
        step=step.name,
        job_id=job.id,
    )
    step.outputs = {**step.outputs, "degraded": bool(bad)}
    if not bad:
        return ""
    run.degraded = True
    return "degraded: " + "; ".join(bad)


def job_name(run: PipelineRun, step: StepRun) -> str:
    return f"run-{run.id}/{step.name}"


def read_outputs(p: Platform, job: Job) -> dict[str, Any]:
    """The step's ``outputs.json`` (a small JSON object), ``{}`` if it wrote none.

    Opened without following links: the file is written by the job, which must not make
    the server read (and show) another file.
    """
    path = jobs.artifacts_dir(p, job) / "outputs.json"
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return {}
    except OSError as e:
        raise ValueError(f"cannot read outputs.json: {e.strerror}") from None
    with os.fdopen(fd, "rb") as f:
        info = os.fstat(f.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError("outputs.json is not a regular file")
        if info.st_size > MAX_OUTPUTS_BYTES:
            raise ValueError(
                f"outputs.json is {info.st_size} bytes; the limit is {MAX_OUTPUTS_BYTES}"
            )
        raw = f.read(MAX_OUTPUTS_BYTES + 1)
    try:
        outputs = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as e:
        raise ValueError(f"outputs.json is not valid JSON: {e}") from None
    if not isinstance(outputs, dict):
        raise ValueError(f"outputs.json must hold a JSON object, not {type(outputs).__name__}")
    return outputs


def context(p: Platform, session: Session, run: PipelineRun) -> dict[str, Any]:
    """What templates and conditions of ``run`` can refer to."""
    steps = {}
    for step in run.steps:
        job = session.get(Job, step.job_id) if step.job_id else None
        if step.state == StepState.SUCCEEDED.value and job is not None:
            steps[step.name] = {
                "outputs": step.outputs,
                "artifacts": str(jobs.artifacts_dir(p, job)),
                "job_id": job.id,
            }
        elif step.state == StepState.SUCCEEDED.value:  # a deploy step: no job
            steps[step.name] = {"outputs": step.outputs}
    return {"steps": steps, "params": run.params}


def _start(p: Platform, session: Session, run: PipelineRun, spec: StepSpec, step: StepRun) -> None:
    ctx = context(p, session, run)
    try:
        if spec.when and not ex.evaluate(spec.when, ctx):
            _end(step, StepState.SKIPPED, f"condition is false: {spec.when}")
            return
    except ex.ExpressionError as e:
        _end(step, StepState.FAILED, str(e))
        return
    if spec.kind == "deploy":
        _start_deploy(p, session, run, spec, step, ctx)
        return
    step.state = StepState.SUBMITTING.value
    session.commit()
    try:
        job = _create_job(p, session, run, spec, step, ctx)
    except (PlatformError, ex.ExpressionError, ValidationError) as e:
        session.rollback()
        _end(step, StepState.FAILED, f"could not submit: {_message(e)}")
        session.commit()
        return
    step.job_id, step.state = job.id, StepState.QUEUED.value
    session.commit()


def _start_deploy(
    p: Platform,
    session: Session,
    run: PipelineRun,
    spec: StepSpec,
    step: StepRun,
    ctx: dict[str, Any],
) -> None:
    """Create the service or start its next generation, after recording in the step the
    generation it had (``from_generation``): a restart that finds the step SUBMITTING
    compares it with the service's and so neither repeats nor loses the deployment."""
    name = spec.service or ""
    svc = session.scalar(select(ModelService).where(ModelService.name == name))
    if svc is not None and svc.owner_id != run.owner_id:
        _end(step, StepState.FAILED, f"a model service named {name!r} belongs to another user")
        return
    step.outputs = {"service": name, "from_generation": svc.last_generation if svc else 0}
    step.state, step.started_at = StepState.SUBMITTING.value, utcnow()
    session.commit()
    try:
        source = {"model_dir": ex.render(spec.model_dir or "", ctx)}
        if svc is None:
            body = ServiceCreate.model_validate(
                {**source, "name": name, "resources": spec.resources}
            )
            serving.create_service(p, session, run.owner, body)
        else:
            update = ServiceUpdate.model_validate(source)
            serving.update_service(p, session, run.owner, svc, update)
    except (PlatformError, ex.ExpressionError, ValidationError) as e:
        session.rollback()
        _end(step, StepState.FAILED, f"could not deploy: {_message(e)}")
        session.commit()
        return
    step.state = StepState.RUNNING.value
    session.commit()


def _sync_deploy(session: Session, run: PipelineRun, step: StepRun) -> None:
    """A deploy step succeeds once its generation takes the traffic, and fails if that
    generation (or a new service) never becomes healthy; the old generation serves on."""
    if step.state not in {StepState.SUBMITTING.value, StepState.RUNNING.value}:
        return
    name = step.outputs.get("service", "")
    target = int(step.outputs.get("from_generation", 0)) + 1
    svc = session.scalar(select(ModelService).where(ModelService.name == name))
    if svc is not None and svc.owner_id != run.owner_id:
        svc = None
    if step.state == StepState.SUBMITTING.value:  # the server stopped while deploying
        done = svc is not None and svc.last_generation >= target
        step.state = (StepState.RUNNING if done else StepState.PENDING).value
        if not done:
            return
    if svc is None:
        _end(step, StepState.FAILED, f"model service {name!r} was deleted")
    elif svc.generation >= target and svc.state == ServiceState.AVAILABLE.value:
        step.outputs = {
            "service": name,
            "generation": target,
            "url": f"/v1/services/{name}/v1/models/{name}",
        }
        _end(step, StepState.SUCCEEDED, "")
    elif svc.state not in ACTIVE:
        _end(step, StepState.FAILED, f"model service {name!r} is {svc.state}: {svc.reason}")
    elif svc.generation < target and svc.pending_generation != target:
        _end(
            step,
            StepState.FAILED,
            f"generation {target} of model service {name!r} failed: {svc.update_reason}; "
            f"generation {svc.generation} serves on",
        )


def _message(e: Exception) -> str:
    if isinstance(e, ValidationError):
        first = e.errors()[0]
        return f"{'.'.join(map(str, first['loc']))}: {first['msg']}"
    return str(e)


def _create_job(
    p: Platform,
    session: Session,
    run: PipelineRun,
    spec: StepSpec,
    step: StepRun,
    ctx: dict[str, Any],
) -> Job:
    def r(text: str) -> str:
        return ex.render(text, ctx)

    user = run.owner
    fields = spec.model_dump(include=_JOB_FIELDS)
    fields["name"] = job_name(run, step)
    fields["env"] = {k: r(v) for k, v in spec.env.items()}
    details = {"pipeline": run.pipeline.name, "pipeline_run_id": run.id, "step": step.name}
    if spec.kind == "batch_predict":
        body = PredictionCreate.model_validate(
            {
                **fields,
                "model_dir": r(spec.model_dir or ""),
                "inputs": [r(i) for i in spec.inputs or []],
                "output": r(spec.output) if spec.output else None,
                "format": spec.format,
            }
        )
        return predictions.create_prediction(p, session, user, body)
    base = JobBase.model_validate(fields)
    if spec.kind == "evaluate":
        version = None
        if spec.service is not None:  # the version the service answers with now
            model_dir, version = model_metrics.service_model(p, session, user, spec.service)
        else:
            model_dir = r(spec.model_dir or "")
        model = jobs.check_user_path(p, session, user, model_dir, "model_dir")
        data = jobs.check_user_path(p, session, user, r(spec.data or ""), "data")
        command = ["python", "-m", "miniflow_platform.workloads.evaluate"]
        command += ["--model-dir", str(model), "--data", str(data)]
        command += ["--version", version] if version else []
        command += ["--format", spec.format] if spec.format else []
        command += ["--metrics-out", "outputs.json"]  # the cwd is the artifacts dir
        command += ["--predictions-out", "predictions.txt"]
        return jobs.create_job(p, session, user, base, command, JobKind.TRAINING, details=details)
    command = [r(a) for a in spec.command or []]
    working_dir = r(spec.working_dir) if spec.working_dir else None
    return jobs.create_job(
        p, session, user, base, command, JobKind.TRAINING, working_dir, details=details
    )
