"""Request and response bodies of the notebooks API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from miniflow_platform.jobs.schemas import ResourcesPublic, ResourcesSpec
from miniflow_platform.notebooks.models import Notebook, NotebookState


class NotebookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=128)
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    idle_timeout_s: float | None = Field(
        default=None, gt=0, le=30 * 86400, description="default: the server's setting"
    )
    python_env: str | None = Field(
        default=None, max_length=4096, description="a virtualenv with jupyter_server installed"
    )


class NotebookPublic(BaseModel):
    id: int
    user: str
    name: str
    state: NotebookState
    reason: str
    url: str
    token: str | None = Field(description="only shown to the notebook's owner")
    resources: ResourcesPublic
    isolation: str
    idle_timeout_s: float
    last_activity: datetime | None
    created_at: datetime
    stopped_at: datetime | None

    @classmethod
    def of(cls, nb: Notebook, viewer_id: int) -> NotebookPublic:
        return cls(
            id=nb.id,
            user=nb.owner.name,
            name=nb.name,
            state=NotebookState(nb.state),
            reason=nb.reason,
            url=f"http://127.0.0.1:{nb.port}/",
            token=nb.token if viewer_id == nb.owner_id else None,
            resources=ResourcesPublic(
                cpu=nb.cpu, memory_mb=nb.memory_mb, gpu=nb.gpu, gpu_devices=nb.gpu_devices
            ),
            isolation=nb.isolation,
            idle_timeout_s=nb.idle_timeout_s,
            last_activity=nb.last_activity,
            created_at=nb.created_at,
            stopped_at=nb.stopped_at,
        )


class NotebooksPublic(BaseModel):
    data: list[NotebookPublic]
    count: int
