"""The jobs table and the job state machine."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from miniflow_platform.auth.models import User
from miniflow_platform.db import Base, utcnow


class JobState(enum.StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    TIMED_OUT = "TIMED_OUT"
    OOM_KILLED = "OOM_KILLED"


TERMINAL = frozenset(
    {
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.TIMED_OUT,
        JobState.OOM_KILLED,
    }
)

# The only allowed moves; ``jobs.service.transition`` checks every state change here.
# RUNNING -> QUEUED is a retry (``max_retries``) after a failed attempt.
TRANSITIONS: dict[JobState, frozenset[JobState]] = {
    JobState.QUEUED: frozenset({JobState.RUNNING, JobState.CANCELLED, JobState.FAILED}),
    JobState.RUNNING: TERMINAL | {JobState.QUEUED},
}

# Outcomes after which a job with retries left is queued again.
RETRYABLE = frozenset({JobState.FAILED, JobState.TIMED_OUT, JobState.OOM_KILLED})


class QueueReason(enum.StrEnum):
    """Why a QUEUED job is not running yet (set by the scheduler at each pass)."""

    QUOTA = "quota"  # its owner's running jobs use the owner's quota
    CAPACITY = "capacity"  # it heads the queue and does not fit the free capacity
    PRIORITY = "priority"  # a job ahead of it (higher priority or older) waits first
    BACKOFF = "backoff"  # a retry waiting for its backoff delay


class JobKind(enum.StrEnum):
    TRAINING = "training"
    PREDICTION = "prediction"


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = {"sqlite_autoincrement": True}  # ids (and run dirs) are never reused

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default=JobKind.TRAINING.value, index=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    command: Mapped[list[str]] = mapped_column(JSON)
    env: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    working_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    python_env: Mapped[str | None] = mapped_column(Text, nullable=True)
    cpu: Mapped[float] = mapped_column(Float, default=1.0)
    memory_mb: Mapped[int] = mapped_column(Integer)
    gpu: Mapped[int] = mapped_column(Integer, default=0)
    gpu_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    timeout_s: Mapped[float | None] = mapped_column(Float, nullable=True)
    pids: Mapped[int | None] = mapped_column(Integer, nullable=True)
    max_retries: Mapped[int] = mapped_column(Integer, default=0)
    retry_backoff_s: Mapped[float] = mapped_column(Float, default=10.0)
    # One entry per ended attempt: {attempt, state, exit_code, reason, started_at, finished_at}.
    attempts: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    queue_reason: Mapped[str | None] = mapped_column(String(16), nullable=True)
    queue_message: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[str] = mapped_column(String(16), default=JobState.QUEUED.value, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    exit_code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    isolation: Mapped[str] = mapped_column(String(32), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)  # kind-specific inputs
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[User] = relationship(lazy="joined")
