"""/v1/schedules: cron schedules of pipelines and jobs, edits, pause/resume, and history."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from miniflow_platform import errors
from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.schedules import service
from miniflow_platform.schedules.dependencies import OwnedSchedule
from miniflow_platform.schedules.models import (
    CatchUp,
    Concurrency,
    FireState,
    Schedule,
    ScheduleFire,
    Target,
)
from miniflow_platform.schedules.schemas import (
    FirePublic,
    FiresPublic,
    ScheduleCreate,
    SchedulePublic,
    SchedulesPublic,
    ScheduleUpdate,
)

router = APIRouter(prefix="/v1/schedules", tags=["schedules"])
UPCOMING = 5


def schedule_public(p: PlatformDep, session: Session, s: Schedule) -> SchedulePublic:
    upcoming = []
    if not s.paused and s.next_fire_at is not None:
        t = service.aware(s.next_fire_at)
        upcoming = [t, *service.cron_of(s).following(t, UPCOMING - 1)]
    return SchedulePublic(
        id=s.id,
        name=s.name,
        user=s.owner.name,
        description=s.description,
        cron=s.cron,
        timezone=s.timezone,
        target=Target(s.target),
        pipeline=s.pipeline,
        params=s.params or {},
        job=s.job,
        concurrency_policy=Concurrency(s.concurrency),
        catch_up=CatchUp(s.catch_up),
        max_catchup=s.max_catchup,
        starting_deadline_s=s.starting_deadline_s,
        paused=s.paused,
        version=s.version,
        updated_at=s.updated_at,
        next_fire_at=s.next_fire_at,
        last_scheduled_at=s.last_scheduled_at,
        upcoming=upcoming,
        active_runs=service.active_runs(session, s),
        created_at=s.created_at,
    )


def fire_public(session: Session, fire: ScheduleFire) -> FirePublic:
    state, degraded = service.outcome(session, fire)
    return FirePublic(
        id=fire.id,
        scheduled_at=fire.scheduled_at,
        last_scheduled_at=fire.last_scheduled_at,
        count=fire.count,
        fired_at=fire.fired_at,
        state=FireState(fire.state),
        target=Target(fire.target),
        run_id=fire.run_id,
        outcome=state,  # type: ignore[arg-type]  # a RunState or JobState value
        degraded=degraded,
        reason=fire.reason,
    )


@router.post(
    "", status_code=201, response_model=SchedulePublic, responses=errors.responses(409, 422)
)
def create_schedule(
    body: ScheduleCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> SchedulePublic:
    """Run one of your pipelines (or a job) at each time of a cron expression."""
    return schedule_public(p, session, service.create_schedule(p, session, user, body))


@router.get("", response_model=SchedulesPublic)
def read_schedules(p: PlatformDep, session: SessionDep, user: CurrentUser) -> SchedulesPublic:
    """Your schedules (admins: everyone's)."""
    found = auth_service.visible_rows(session, user, Schedule)
    return SchedulesPublic(data=[schedule_public(p, session, s) for s in found], count=len(found))


@router.get("/{name}", response_model=SchedulePublic, responses=errors.responses(404))
def read_schedule(schedule: OwnedSchedule, p: PlatformDep, session: SessionDep) -> SchedulePublic:
    """One schedule: its definition, next times and active runs."""
    return schedule_public(p, session, schedule)


@router.patch("/{name}", response_model=SchedulePublic, responses=errors.responses(404, 409, 422))
def update_schedule(
    body: ScheduleUpdate,
    schedule: OwnedSchedule,
    p: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
) -> SchedulePublic:
    """Edit a schedule in place: cron, zone, policies, paused, the pipeline and its params
    or the job. A new cron or zone sets the next time from now; the history stays. Send
    the ``version`` you read to have the edit refused (409) if someone edited it since."""
    return schedule_public(p, session, service.update_schedule(p, session, user, schedule, body))


@router.delete("/{name}", status_code=204, responses=errors.responses(404))
def delete_schedule(schedule: OwnedSchedule, p: PlatformDep, session: SessionDep) -> None:
    """Delete a schedule and its history (the runs it started go on)."""
    service.delete_schedule(p, session, schedule)


@router.post("/{name}/pause", response_model=SchedulePublic, responses=errors.responses(404))
def pause_schedule(schedule: OwnedSchedule, p: PlatformDep, session: SessionDep) -> SchedulePublic:
    """Stop firing until resumed (runs already started go on)."""
    return schedule_public(p, session, service.pause(p, session, schedule))


@router.post("/{name}/resume", response_model=SchedulePublic, responses=errors.responses(404))
def resume_schedule(schedule: OwnedSchedule, p: PlatformDep, session: SessionDep) -> SchedulePublic:
    """Fire again from the next time after now (times passed while paused are not run)."""
    return schedule_public(p, session, service.resume(p, session, schedule))


@router.get("/{name}/history", response_model=FiresPublic, responses=errors.responses(404))
def read_history(
    schedule: OwnedSchedule,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=service.HISTORY_LIMIT)] = 100,
) -> FiresPublic:
    """Each scheduled time, newest first: when it fired, its run and that run's state,
    or why it was skipped."""
    fires = service.history(session, schedule, limit)
    return FiresPublic(data=[fire_public(session, f) for f in fires], count=len(fires))
