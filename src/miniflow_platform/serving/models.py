"""The model services table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from miniflow_platform.auth.models import User
from miniflow_platform.db import Base, utcnow


class ServiceState(enum.StrEnum):
    STARTING = "STARTING"  # process started, health check not yet passing
    AVAILABLE = "AVAILABLE"
    UNAVAILABLE = "UNAVAILABLE"  # process up, health check failing
    STOPPED = "STOPPED"
    FAILED = "FAILED"


ACTIVE = frozenset(
    {ServiceState.STARTING.value, ServiceState.AVAILABLE.value, ServiceState.UNAVAILABLE.value}
)


class ModelService(Base):
    __tablename__ = "model_services"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    model_dir: Mapped[str] = mapped_column(Text)
    source_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    python_env: Mapped[str | None] = mapped_column(Text, nullable=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)  # +1 per model update
    port: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default=ServiceState.STARTING.value)
    reason: Mapped[str] = mapped_column(Text, default="")
    cpu: Mapped[float] = mapped_column(Float, default=1.0)
    memory_mb: Mapped[int] = mapped_column(Integer)
    gpu: Mapped[int] = mapped_column(Integer, default=0)
    gpu_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    isolation: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[User] = relationship(lazy="joined")
