"""The model_metrics table: one row per (evaluation, metric)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from miniflow_platform.db import Base, utcnow


class ModelMetric(Base):
    """A metric of one model version on one dataset, from one evaluation step's run.

    ``degraded`` says the value crossed the step's threshold for it (``threshold``).
    """

    __tablename__ = "model_metrics"
    __table_args__ = (
        Index("ix_model_metrics_series", "owner_id", "model", "metric", "time"),
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String(64))
    version: Mapped[str] = mapped_column(String(64), default="")
    dataset: Mapped[str] = mapped_column(Text, default="")
    metric: Mapped[str] = mapped_column(String(32))
    value: Mapped[float | None] = mapped_column(Float, nullable=True)  # None: undefined
    threshold: Mapped[str] = mapped_column(String(64), default="")  # e.g. "min_auc 0.7"
    degraded: Mapped[bool] = mapped_column(Boolean, default=False)
    time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # pipeline run
    step: Mapped[str] = mapped_column(String(64), default="")
    job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
