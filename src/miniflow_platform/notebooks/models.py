"""The notebooks table."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from miniflow_platform.auth.models import User
from miniflow_platform.db import Base, utcnow


class NotebookState(enum.StrEnum):
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    FAILED = "FAILED"


ACTIVE = frozenset({NotebookState.STARTING.value, NotebookState.RUNNING.value})


class Notebook(Base):
    __tablename__ = "notebooks"
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(128), default="")
    state: Mapped[str] = mapped_column(String(16), default=NotebookState.STARTING.value)
    reason: Mapped[str] = mapped_column(Text, default="")
    port: Mapped[int] = mapped_column(Integer)
    # SHA-256 of the owner's access token (shown once); the proxy's token to the
    # Jupyter server is derived, not stored (see managed.backend_token).
    token_hash: Mapped[str] = mapped_column(String(64))
    cpu: Mapped[float] = mapped_column(Float, default=1.0)
    memory_mb: Mapped[int] = mapped_column(Integer)
    gpu: Mapped[int] = mapped_column(Integer, default=0)
    gpu_devices: Mapped[list[str]] = mapped_column(JSON, default=list)
    idle_timeout_s: Mapped[float] = mapped_column(Float)
    isolation: Mapped[str] = mapped_column(String(32), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_activity: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    owner: Mapped[User] = relationship(lazy="joined")
