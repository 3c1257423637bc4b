"""The pipelines, pipeline runs and step runs tables, and their states."""

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


class RunState(enum.StrEnum):
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


class StepState(enum.StrEnum):
    PENDING = "PENDING"  # waits for its dependencies
    SUBMITTING = "SUBMITTING"  # its job is being created (a restart looks the job up)
    QUEUED = "QUEUED"  # its job waits in the queue
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"  # its job failed after its retries, or its inputs could not be built
    SKIPPED = "SKIPPED"  # its condition was false, or a dependency was skipped
    UPSTREAM_FAILED = "UPSTREAM_FAILED"  # a dependency failed or was cancelled
    CANCELLED = "CANCELLED"


STEP_TERMINAL = frozenset(
    {
        StepState.SUCCEEDED,
        StepState.FAILED,
        StepState.SKIPPED,
        StepState.UPSTREAM_FAILED,
        StepState.CANCELLED,
    }
)


class Pipeline(Base):
    """A named DAG definition; names are unique per owner."""

    __tablename__ = "pipelines"
    __table_args__ = (UniqueConstraint("owner_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(64))
    description: Mapped[str] = mapped_column(Text, default="")
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)  # the validated PipelineCreate
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    owner: Mapped[User] = relationship(lazy="joined")


class PipelineRun(Base):
    """One execution of a pipeline; it keeps its own copy of the spec and parameters."""

    __tablename__ = "pipeline_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pipeline_id: Mapped[int] = mapped_column(
        ForeignKey("pipelines.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    spec: Mapped[dict[str, Any]] = mapped_column(JSON)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(16), default=RunState.RUNNING.value, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    # Who started it: "" (the API) or "schedule:<fire id>", committed with the run, so a
    # schedule restarted mid-fire finds the run instead of creating a second one.
    trigger: Mapped[str] = mapped_column(String(64), default="", index=True)
    # An evaluation step crossed one of its thresholds (the run may still succeed).
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[User] = relationship(lazy="joined")
    pipeline: Mapped[Pipeline] = relationship(lazy="joined")
    steps: Mapped[list[StepRun]] = relationship(
        lazy="selectin", order_by="StepRun.id", cascade="all, delete-orphan"
    )


class StepRun(Base):
    """One step of one run: its state, its job (recorded before the job can start), outputs."""

    __tablename__ = "pipeline_step_runs"
    __table_args__ = (UniqueConstraint("run_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("pipeline_runs.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default=StepState.PENDING.value)
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    submissions: Mapped[int] = mapped_column(Integer, default=0)  # jobs created for it (0 or 1)
    outputs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    reason: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
