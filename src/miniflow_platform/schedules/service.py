"""Schedule logic: definitions, edits, pause/resume, history, and ``fire_due``, the scheduler step.

``fire_due`` reads the time from ``Platform.clock``. For each schedule whose
``next_fire_at`` has come it decides, by the catch-up policy, which of the due times
run and which are skipped, and commits those fires (SUBMITTING) together with the new
``next_fire_at`` and ``last_scheduled_at`` before it creates any run. Each run is
created with the fire's trigger (``schedule:<fire id>``: a pipeline run's ``trigger``,
a job's name), so a restart that finds a SUBMITTING fire looks its run up instead of
creating a second one: a time fires at most once, whenever the server dies.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import add_unique
from miniflow_platform.errors import Conflict, InvalidRequest, PlatformError
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.models import Job, JobKind, JobState
from miniflow_platform.pipelines import service as pipelines
from miniflow_platform.pipelines.models import PipelineRun, RunState
from miniflow_platform.pipelines.schemas import RunCreate
from miniflow_platform.schedules.cron import Cron
from miniflow_platform.schedules.models import (
    CatchUp,
    Concurrency,
    FireState,
    Schedule,
    ScheduleFire,
    Target,
)
from miniflow_platform.schedules.schemas import ScheduleCreate, ScheduledJob, ScheduleUpdate

MAX_SCHEDULES_PER_USER = 100
MAX_ACTIVE_RUNS = 20  # per schedule: an "allow" schedule cannot pile up runs without end
HISTORY_LIMIT = 1000  # fires kept per schedule
COUNT_LIMIT = 10_000  # missed times counted one by one (more are reported as "at least")
DEFAULT_DEADLINE_S = 60.0  # catch_up none: how late a time may still run


def naive(t: datetime) -> datetime:
    return t.astimezone(UTC).replace(tzinfo=None)


def aware(t: datetime) -> datetime:
    return t.replace(tzinfo=UTC) if t.tzinfo is None else t


def cron_of(schedule: Schedule) -> Cron:
    return Cron(schedule.cron, schedule.timezone)  # validated when created


def trigger(fire: ScheduleFire) -> str:
    return f"schedule:{fire.id}"


def job_name(schedule: Schedule, fire: ScheduleFire) -> str:
    return f"{trigger(fire)}/{schedule.name}"


# ---- definitions ----------------------------------------------------------------------------


def create_schedule(p: Platform, session: Session, user: User, body: ScheduleCreate) -> Schedule:
    owned = session.scalar(select(func.count()).where(Schedule.owner_id == user.id)) or 0
    if owned >= MAX_SCHEDULES_PER_USER:
        raise InvalidRequest(
            f"you have {owned} schedules; the limit is {MAX_SCHEDULES_PER_USER} (delete one)",
            {"limit": MAX_SCHEDULES_PER_USER},
        )
    if body.pipeline is not None:
        pipeline = pipelines.get_pipeline(session, user, body.pipeline)
        if pipeline is None:
            raise InvalidRequest(f"you have no pipeline named {body.pipeline!r}")
        pipelines.check_params(pipeline, body.params)
    if body.job is not None:
        check_job(p, session, user, body.job)
    if get_schedule(session, user, body.name) is not None:
        raise Conflict(f"you already have a schedule named {body.name!r}; delete it first")
    now = p.clock()
    schedule = Schedule(
        owner_id=user.id,
        name=body.name,
        description=body.description,
        cron=Cron.parse(body.cron, body.timezone).expr,
        timezone=body.timezone,
        target=body.target.value,
        pipeline=body.pipeline,
        params=body.params,
        job=body.job.model_dump(mode="json") if body.job is not None else None,
        concurrency=body.concurrency_policy.value,
        catch_up=body.catch_up.value,
        max_catchup=body.max_catchup,
        starting_deadline_s=body.starting_deadline_s,
        paused=body.paused,
        created_at=naive(now),
    )
    if not body.paused:
        schedule.next_fire_at = _next(schedule, now)
    taken = f"you already have a schedule named {body.name!r}; delete it first"
    add_unique(session, schedule, taken)
    return schedule


def update_schedule(
    p: Platform, session: Session, user: User, schedule: Schedule, body: ScheduleUpdate
) -> Schedule:
    """Edit ``schedule`` in place; its history and the runs it started stay.

    A new cron or zone, or a resume, sets the next time from now on (the times of the
    old definition that have not fired are dropped, as when paused); other changes keep
    it. Under the platform lock, so no tick fires half an edit; the version moves by a
    compare-and-set, so of two edits that read the same version one gets 409.
    """
    with p.lock:
        session.refresh(schedule)
        read = body.version if body.version is not None else schedule.version
        if read != schedule.version:
            raise _edited(schedule, read)
        changes = body.changes()
        _check_update(p, session, user, schedule, changes)
        diff = {
            key: _stored(value)
            for key, value in changes.items()
            if getattr(schedule, _column(key)) != _stored(value)
        }
        if not diff:
            return schedule  # nothing changes: the version stays
        moved = session.execute(
            update(Schedule)
            .where(Schedule.id == schedule.id, Schedule.version == read)
            .values(version=read + 1)
            .execution_options(synchronize_session=False)
        )
        if moved.rowcount != 1:  # another process edited it after our read
            session.rollback()
            session.refresh(schedule)
            raise _edited(schedule, read)
        for key, value in diff.items():
            setattr(schedule, _column(key), value)
        now = p.clock()
        if schedule.paused:
            schedule.next_fire_at = None
        elif diff.keys() & {"cron", "timezone", "paused"}:
            schedule.next_fire_at = _next(schedule, now)
        schedule.version, schedule.updated_at = read + 1, naive(now)
        session.commit()
    return schedule


COLUMNS = {"concurrency_policy": "concurrency"}  # body field -> column, where they differ


def _column(key: str) -> str:
    return COLUMNS.get(key, key)


def _stored(value: object) -> object:
    """A body value as the column holds it (enums by value, a job as its JSON)."""
    if isinstance(value, ScheduledJob):
        return value.model_dump(mode="json")
    return getattr(value, "value", value)


def _edited(schedule: Schedule, read: int) -> Conflict:
    return Conflict(
        f"schedule {schedule.name!r} was edited since you read it (you sent version {read}, "
        f"it is at {schedule.version}); read it again and repeat your change",
        {"version": schedule.version},
    )


def _check_update(
    p: Platform, session: Session, user: User, schedule: Schedule, changes: dict
) -> None:
    """What ``create_schedule`` would refuse, for the fields that change."""
    is_pipeline = schedule.target == Target.PIPELINE.value
    wrong = [k for k in ("pipeline", "params") if k in changes and not is_pipeline]
    wrong += ["job"] if "job" in changes and is_pipeline else []
    if wrong:
        raise InvalidRequest(
            f"schedule {schedule.name!r} runs a {schedule.target}: it takes no "
            f"{', '.join(wrong)} (what a schedule runs cannot change: delete it and "
            f"create another)"
        )
    if "pipeline" in changes or "params" in changes:
        name = changes.get("pipeline", schedule.pipeline) or ""
        pipeline = pipelines.get_pipeline(session, user, name)
        if pipeline is None:
            raise InvalidRequest(f"you have no pipeline named {name!r}")
        pipelines.check_params(pipeline, changes.get("params", schedule.params or {}))
    if "job" in changes:
        check_job(p, session, user, changes["job"])


def check_job(p: Platform, session: Session, user: User, job: ScheduledJob) -> None:
    """What ``POST /v1/jobs`` would refuse is refused when the schedule is created."""
    jobs.check_limits(p, job)
    if job.python_env is not None:
        jobs.check_user_path(p, session, user, job.python_env, "job.python_env")
    if job.working_dir is not None:
        jobs.check_user_path(p, session, user, job.working_dir, "job.working_dir")


def get_schedule(session: Session, user: User, name: str) -> Schedule | None:
    query = select(Schedule).where(Schedule.owner_id == user.id, Schedule.name == name)
    return session.scalar(query)


def _next(schedule: Schedule, after: datetime) -> datetime | None:
    t = cron_of(schedule).next_after(after)
    return naive(t) if t is not None else None


def pause(p: Platform, session: Session, schedule: Schedule) -> Schedule:
    """Stop firing; runs already started go on. Idempotent."""
    with p.lock:
        session.refresh(schedule)
        if not schedule.paused:
            schedule.paused, schedule.next_fire_at = True, None
            schedule.version += 1
            session.commit()
    return schedule


def resume(p: Platform, session: Session, schedule: Schedule) -> Schedule:
    """Fire again from now on: the times that passed while paused are not run."""
    with p.lock:
        session.refresh(schedule)
        if schedule.paused:
            schedule.paused = False
            schedule.next_fire_at = _next(schedule, p.clock())
            schedule.version += 1
            session.commit()
    return schedule


def delete_schedule(p: Platform, session: Session, schedule: Schedule) -> None:
    """Delete the schedule and its history; the runs it started are left alone."""
    with p.lock:
        session.delete(schedule)
        session.commit()


def history(session: Session, schedule: Schedule, limit: int) -> list[ScheduleFire]:
    query = select(ScheduleFire).where(ScheduleFire.schedule_id == schedule.id)
    return list(session.scalars(query.order_by(ScheduleFire.id.desc()).limit(limit)))


def active_runs(session: Session, schedule: Schedule) -> list[int]:
    """Ids of the pipeline runs (or jobs) this schedule started that have not ended."""
    fired = (ScheduleFire.schedule_id == schedule.id, ScheduleFire.state == FireState.FIRED.value)
    if schedule.target == Target.PIPELINE.value:
        query = (
            select(PipelineRun.id)
            .join(ScheduleFire, ScheduleFire.run_id == PipelineRun.id)
            .where(*fired, PipelineRun.state == RunState.RUNNING.value)
        )
    else:
        query = (
            select(Job.id)
            .join(ScheduleFire, ScheduleFire.run_id == Job.id)
            .where(*fired, Job.state.in_([JobState.QUEUED.value, JobState.RUNNING.value]))
        )
    return sorted(session.scalars(query))


def outcome(session: Session, fire: ScheduleFire) -> tuple[str | None, bool | None]:
    """The state of the fire's run now (None once it is deleted), and its degraded flag."""
    if fire.run_id is None:
        return None, None
    if fire.target == Target.PIPELINE.value:
        run = session.get(PipelineRun, fire.run_id)
        return (run.state, run.degraded) if run is not None else (None, None)
    job = session.get(Job, fire.run_id)
    return (job.state if job is not None else None), None


# ---- scheduler step -------------------------------------------------------------------------


def fire_due(p: Platform, session: Session) -> None:
    """Fire every schedule whose time has come (the scheduler calls this each tick)."""
    now = p.clock()
    pending = select(ScheduleFire).where(ScheduleFire.state == FireState.SUBMITTING.value)
    for fire in session.scalars(pending.order_by(ScheduleFire.id)).all():
        schedule = session.get(Schedule, fire.schedule_id)
        if schedule is not None:  # a restart: finish what the crash interrupted
            _fire(p, session, schedule, fire)
    due = select(Schedule).where(
        Schedule.paused.is_(False),
        Schedule.next_fire_at.is_not(None),
        Schedule.next_fire_at <= naive(now),
    )
    for schedule in session.scalars(due.order_by(Schedule.next_fire_at)).all():
        for fire in _plan(session, schedule, now):
            _fire(p, session, schedule, fire)
        _prune(session, schedule)


def _plan(session: Session, schedule: Schedule, now: datetime) -> list[ScheduleFire]:
    """Decide which due times run (by catch-up policy) and commit that decision."""
    cron = cron_of(schedule)
    assert schedule.next_fire_at is not None
    after = aware(schedule.next_fire_at) - timedelta(microseconds=1)
    policy = CatchUp(schedule.catch_up)
    keep = schedule.max_catchup if policy == CatchUp.ALL else 1
    newest = cron.latest(after, now, keep)
    deadline = schedule.starting_deadline_s
    if deadline is None and policy == CatchUp.NONE:
        deadline = DEFAULT_DEADLINE_S
    run = [t for t in newest if deadline is None or (now - t).total_seconds() <= deadline]
    counted = cron.times(after, now, COUNT_LIMIT)
    exact = len(counted) < COUNT_LIMIT
    chosen = set(run)
    skipped = [t for t in counted if t not in chosen]
    if not exact and newest:  # the newest times beyond the count are skipped too
        skipped += [t for t in newest if t not in chosen and t > counted[-1]]
    fires = []
    if skipped:
        n = len(skipped) if exact else f"at least {len(skipped)}"
        fires.append(
            ScheduleFire(
                schedule_id=schedule.id,
                scheduled_at=naive(skipped[0]),
                last_scheduled_at=naive(skipped[-1]),
                count=len(skipped),
                state=FireState.SKIPPED.value,
                target=schedule.target,
                reason=f"missed: {n} scheduled time(s) from {skipped[0]:%Y-%m-%dT%H:%M:%SZ} "
                f"to {skipped[-1]:%Y-%m-%dT%H:%M:%SZ} came while the server was down or "
                f"busy and were not run ({_policy_text(schedule, deadline)})",
            )
        )
    for t in run:
        fires.append(
            ScheduleFire(
                schedule_id=schedule.id,
                scheduled_at=naive(t),
                state=FireState.SUBMITTING.value,
                target=schedule.target,
            )
        )
    session.add_all(fires)
    handled = (newest or counted or [aware(schedule.next_fire_at)])[-1]
    schedule.last_scheduled_at = naive(handled)
    schedule.next_fire_at = _next(schedule, max(now, handled))
    session.commit()  # the decision is durable before any run exists
    return [f for f in fires if f.state == FireState.SUBMITTING.value]


def _policy_text(schedule: Schedule, deadline: float | None) -> str:
    text = f"catch_up {schedule.catch_up}"
    if schedule.catch_up == CatchUp.ALL.value:
        text += f", max_catchup {schedule.max_catchup}"
    if deadline is not None:
        text += f", starting deadline {deadline:g} s"
    return text


def _fire(p: Platform, session: Session, schedule: Schedule, fire: ScheduleFire) -> None:
    """Create the fire's run, unless it exists already or the concurrency policy says no."""
    found = _find_run(session, schedule, fire)
    if found is not None:
        _end(fire, FireState.FIRED, "", found[0], found[1])
        session.commit()
        return
    active = active_runs(session, schedule)
    policy = Concurrency(schedule.concurrency)
    reason = ""
    if active and policy == Concurrency.FORBID:
        _end(fire, FireState.SKIPPED, f"{_runs(schedule, active)} still active (forbid)")
        session.commit()
        return
    if active and policy == Concurrency.REPLACE:
        _cancel(p, session, schedule, active)
        reason = f"replaced {_runs(schedule, active)} (cancelled)"
    elif len(active) >= MAX_ACTIVE_RUNS:
        _end(
            fire,
            FireState.SKIPPED,
            f"{len(active)} runs of this schedule are active; at most {MAX_ACTIVE_RUNS} at once",
        )
        session.commit()
        return
    try:
        run_id = _create(p, session, schedule, fire)
    except (PlatformError, ValidationError) as e:
        session.rollback()
        _end(fire, FireState.FAILED, f"could not start: {e}")
        session.commit()
        return
    _end(fire, FireState.FIRED, reason, run_id, p.clock())
    session.commit()


def _end(
    fire: ScheduleFire,
    state: FireState,
    reason: str,
    run_id: int | None = None,
    at: datetime | None = None,
) -> None:
    fire.state, fire.reason, fire.run_id = state.value, reason, run_id
    fire.fired_at = naive(at) if at is not None else None


def _runs(schedule: Schedule, ids: list[int]) -> str:
    what = "run" if schedule.target == Target.PIPELINE.value else "job"
    return f"{what}{'s' if len(ids) > 1 else ''} {', '.join(map(str, ids))}"


def _find_run(
    session: Session, schedule: Schedule, fire: ScheduleFire
) -> tuple[int, datetime] | None:
    if schedule.target == Target.PIPELINE.value:
        run = session.scalar(select(PipelineRun).where(PipelineRun.trigger == trigger(fire)))
        return (run.id, aware(run.created_at)) if run is not None else None
    job = session.scalar(
        select(Job).where(Job.owner_id == schedule.owner_id, Job.name == job_name(schedule, fire))
    )
    return (job.id, aware(job.created_at)) if job is not None else None


def _cancel(p: Platform, session: Session, schedule: Schedule, ids: list[int]) -> None:
    for run_id in ids:
        try:
            if schedule.target == Target.PIPELINE.value:
                run = session.get(PipelineRun, run_id)
                if run is not None:
                    pipelines.cancel_run(p, session, run, schedule.owner)
            else:
                job = session.get(Job, run_id)
                if job is not None:
                    jobs.cancel_job(p, session, job, schedule.owner)
        except Conflict:  # it ended meanwhile
            session.rollback()


def _create(p: Platform, session: Session, schedule: Schedule, fire: ScheduleFire) -> int:
    owner = schedule.owner
    if schedule.target == Target.PIPELINE.value:
        pipeline = pipelines.get_pipeline(session, owner, schedule.pipeline or "")
        if pipeline is None:
            raise InvalidRequest(f"pipeline {schedule.pipeline!r} no longer exists")
        known = pipeline.spec.get("params", {})
        params = {k: v for k, v in _times(schedule, fire).items() if k in known}
        body = RunCreate(params={**params, **(schedule.params or {})})
        return pipelines.create_run(p, session, owner, pipeline, body, trigger(fire)).id
    job = dict(schedule.job or {})
    env = {f"MINIFLOW_{k.upper()}": v for k, v in _times(schedule, fire).items()}
    job["env"] = {**env, **job.get("env", {})}
    spec = ScheduledJob.model_validate({**job, "name": job_name(schedule, fire)})
    details = {"schedule": schedule.name, "schedule_fire_id": fire.id, **_times(schedule, fire)}
    job = jobs.create_job(
        p,
        session,
        owner,
        spec,
        spec.command,
        JobKind.TRAINING,
        working_dir=spec.working_dir,
        code_upload_id=spec.code_upload_id,
        details=details,
    )
    return job.id


def _times(schedule: Schedule, fire: ScheduleFire) -> dict[str, str]:
    """The fire's time for the run: pipeline params of these names (when the pipeline
    declares them), a job's ``MINIFLOW_SCHEDULED_AT``, ``..._DATE``, ``..._PREVIOUS_DATE``
    (dates in the schedule's zone: "evaluate on yesterday's data" is ``previous_date``)."""
    local = aware(fire.scheduled_at).astimezone(cron_of(schedule).zone)
    return {
        "scheduled_at": aware(fire.scheduled_at).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "scheduled_date": local.strftime("%Y-%m-%d"),
        "previous_date": (local.date() - timedelta(days=1)).isoformat(),
    }


def _prune(session: Session, schedule: Schedule) -> None:
    """Keep the newest ``HISTORY_LIMIT`` fires of the schedule."""
    query = select(ScheduleFire.id).where(ScheduleFire.schedule_id == schedule.id)
    cutoff = session.scalar(query.order_by(ScheduleFire.id.desc()).offset(HISTORY_LIMIT))
    if cutoff is not None:
        session.execute(
            delete(ScheduleFire).where(
                ScheduleFire.schedule_id == schedule.id,
                ScheduleFire.id <= cutoff,
                ScheduleFire.state != FireState.SUBMITTING.value,
            )
        )
        session.commit()
