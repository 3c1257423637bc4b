"""``OwnedSchedule``: one of the caller's schedules, by name (another user's is 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.schedules import service
from miniflow_platform.schedules.models import Schedule

ScheduleName = Annotated[str, Path(pattern=NAME_PATTERN, description="schedule name")]


def owned_schedule(name: ScheduleName, session: SessionDep, user: CurrentUser) -> Schedule:
    schedule = service.get_schedule(session, user, name)
    if schedule is None:
        raise NotFound(f"schedule {name!r} not found")
    return schedule


OwnedSchedule = Annotated[Schedule, Depends(owned_schedule)]
