"""The schedules table and its history (one row per fire or per group of skipped times)."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from miniflow_platform.auth.models import User
from miniflow_platform.db import Base, utcnow


class Concurrency(enum.StrEnum):
    """What a fire does while an earlier run of the schedule is still active (as a
    Kubernetes CronJob's ``concurrencyPolicy``)."""

    ALLOW = "allow"  # start another run beside it
    FORBID = "forbid"  # skip this time
    REPLACE = "replace"  # cancel the active run(s), then start


class CatchUp(enum.StrEnum):
    """What happens to times missed while the server was down (or a tick was late)."""

    NONE = "none"  # run the latest time only if it is within the starting deadline
    ONCE = "once"  # run the latest missed time once
    ALL = "all"  # run each missed time, the newest ``max_catchup`` of them


class Target(enum.StrEnum):
    PIPELINE = "pipeline"
    JOB = "job"


class FireState(enum.StrEnum):
    SUBMITTING = "SUBMITTING"  # committed before its run is created (a restart finishes it)
    FIRED = "FIRED"  # its run exists (``run_id``)
    SKIPPED = "SKIPPED"  # by the concurrency or catch-up policy (``reason``)
    FAILED = "FAILED"  # the run could not be created (``reason``)


class Schedule(Base):
    """A cron expression in a time zone, and what to run at each of its times.

    ``next_fire_at`` and ``last_scheduled_at`` (UTC) are committed together with the
    fires they decide, before any run is created: a restart never fires a time twice.
    ``version`` counts the edits of the definition (the scheduler's own updates do not
    change it): an edit that names the version it read is refused once it has moved.
    """

    __tablename__ = "schedules"
    __table_args__ = (UniqueConstraint("owner_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    cron: Mapped[str] = mapped_column(String(256))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    target: Mapped[str] = mapped_column(String(16))
    pipeline: Mapped[str | None] = mapped_column(String(64), nullable=True)  # by name
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    job: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # a ScheduledJob
    concurrency: Mapped[str] = mapped_column(String(16), default=Concurrency.ALLOW.value)
    catch_up: Mapped[str] = mapped_column(String(16), default=CatchUp.ONCE.value)
    max_catchup: Mapped[int] = mapped_column(Integer, default=10)
    starting_deadline_s: Mapped[float | None] = mapped_column(nullable=True)
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    next_fire_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    last_scheduled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[User] = relationship(lazy="joined")


class ScheduleFire(Base):
    """One scheduled time: when it was due, when it fired, its run, or why it did not run.

    A row for skipped missed times may stand for ``count`` of them (``scheduled_at`` is
    the first, ``last_scheduled_at`` the last).
    """

    __tablename__ = "schedule_fires"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    schedule_id: Mapped[int] = mapped_column(
        ForeignKey("schedules.id", ondelete="CASCADE"), index=True
    )
    scheduled_at: Mapped[datetime] = mapped_column(DateTime)
    last_scheduled_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    count: Mapped[int] = mapped_column(Integer, default=1)
    fired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    state: Mapped[str] = mapped_column(String(16), default=FireState.SUBMITTING.value, index=True)
    target: Mapped[str] = mapped_column(String(16))
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # pipeline run or job id
    reason: Mapped[str] = mapped_column(Text, default="")
