"""Request and response bodies of the notebooks API."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from miniflow_platform.api_types import UTCDatetime
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
        default=None,
        max_length=4096,
        description="a virtualenv with jupyter_server, ipykernel (and jupyterlab for the UI)",
    )


class NotebookPublic(BaseModel):
    id: int
    user: str
    name: str
    state: NotebookState
    reason: str
    url: str = Field(description="JupyterLab through the platform's proxy")
    token: str | None = Field(
        description="the access token for url (?token=...): only in the answer that "
        "creates it (create, POST .../token); the platform keeps only its hash"
    )
    resources: ResourcesPublic
    isolation: str
    idle_timeout_s: float
    last_activity: UTCDatetime | None
    created_at: UTCDatetime
    stopped_at: UTCDatetime | None

    @classmethod
    def of(cls, nb: Notebook, base_url: str, token: str | None = None) -> NotebookPublic:
        return cls(
            id=nb.id,
            user=nb.owner.name,
            name=nb.name,
            state=NotebookState(nb.state),
            reason=nb.reason,
            url=f"{base_url.rstrip('/')}/v1/notebooks/{nb.id}/proxy/lab",
            token=token,
            resources=ResourcesPublic(
                cpu=nb.cpu,
                memory_mb=nb.memory_mb,
                gpu=nb.gpu,
                gpu_devices=nb.gpu_devices,
                pids=None,
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
