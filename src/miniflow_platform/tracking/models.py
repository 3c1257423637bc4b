"""Tables: experiments, their runs, and each run's params, tags and metric points.

A training job gets one run (created when it first starts, in the job's experiment,
"Default" unless the job names one); users may also create runs of their own. The
latest value of each metric is kept in ``latest_metrics`` so runs can be filtered and
sorted by a metric without reading its whole history.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from miniflow_platform.db import Base, utcnow


class Experiment(Base):
    __tablename__ = "experiments"
    __table_args__ = (UniqueConstraint("owner_id", "name"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    description: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class TrackedRun(Base):
    __tablename__ = "tracking_runs"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(
        ForeignKey("experiments.id", ondelete="CASCADE"), index=True
    )
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The job this run records; deleting the job deletes its run (its artifacts go too).
    job_id: Mapped[int | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    name: Mapped[str] = mapped_column(String(128), default="")
    status: Mapped[str] = mapped_column(String(16), default="RUNNING")
    # SHA-256 of the run's scoped token (the job's own; cleared when the job ends).
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    ended: Mapped[bool] = mapped_column(Boolean, default=False)
    ingest_note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class RunParam(Base):
    __tablename__ = "run_params"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class RunTag(Base):
    __tablename__ = "run_tags"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class MetricPoint(Base):
    __tablename__ = "run_metrics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_runs.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(250))
    step: Mapped[int] = mapped_column(Integer, default=0)
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[float] = mapped_column(Float)  # seconds since the epoch


class LatestMetric(Base):
    """The value at the highest step (latest time on ties) of each metric of a run."""

    __tablename__ = "latest_metrics"

    run_id: Mapped[int] = mapped_column(
        ForeignKey("tracking_runs.id", ondelete="CASCADE"), primary_key=True
    )
    key: Mapped[str] = mapped_column(String(250), primary_key=True)
    step: Mapped[int] = mapped_column(Integer)
    value: Mapped[float] = mapped_column(Float)
    timestamp: Mapped[float] = mapped_column(Float)
    count: Mapped[int] = mapped_column(Integer, default=0)
