"""The model services table.

A service serves one *generation* at a time (a `miniflow serve` process; +1 per model
update). During an update the next generation runs beside it (``pending_*``) until its
health check passes; then traffic switches and the old one drains (``draining_*``)
and stops.
"""

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


class UpdateState(enum.StrEnum):
    NONE = ""  # never updated
    UPDATING = "UPDATING"  # the next generation is starting; the current one serves
    SUCCEEDED = "SUCCEEDED"  # traffic switched to the new generation
    FAILED = "FAILED"  # the new generation never became healthy; the old one serves on


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
    generation: Mapped[int] = mapped_column(Integer, default=1)  # the one taking traffic
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
    # The update in progress (the next generation, starting beside the current one).
    update_state: Mapped[str] = mapped_column(String(16), default=UpdateState.NONE.value)
    update_reason: Mapped[str] = mapped_column(Text, default="")
    pending_generation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pending_port: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pending_model_dir: Mapped[str | None] = mapped_column(Text, nullable=True)
    pending_source_job_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    pending_gpu_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    pending_started_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # The generation traffic left, stopped once its last request is answered.
    draining_generation: Mapped[int | None] = mapped_column(Integer, nullable=True)
    draining_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    draining_gpu_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    last_generation: Mapped[int] = mapped_column(Integer, default=1)  # highest ever started
    owner: Mapped[User] = relationship(lazy="joined")
