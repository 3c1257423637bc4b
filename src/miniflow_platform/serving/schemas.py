"""Request and response bodies of the model services API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from miniflow_platform.jobs.schemas import ModelSource, ResourcesPublic, ResourcesSpec
from miniflow_platform.serving.models import ModelService, ServiceState

SERVICE_NAME = r"^[a-z][a-z0-9-]{0,62}$"


class ServiceCreate(ModelSource):
    """A model service: `miniflow serve` on a free loopback port, with its resources."""

    name: str = Field(pattern=SERVICE_NAME, description="also the TF Serving model name")
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    python_env: str | None = Field(default=None, max_length=4096)


class ServiceUpdate(ModelSource):
    """Switch the service to another model (restarts its process on the same port)."""


class ServicePublic(BaseModel):
    id: int
    name: str
    user: str
    state: ServiceState
    reason: str
    url: str
    model_dir: str
    model_job_id: int | None
    generation: int
    resources: ResourcesPublic
    isolation: str
    created_at: datetime
    started_at: datetime
    stopped_at: datetime | None

    @classmethod
    def of(cls, svc: ModelService) -> ServicePublic:
        return cls(
            id=svc.id,
            name=svc.name,
            user=svc.owner.name,
            state=ServiceState(svc.state),
            reason=svc.reason,
            url=f"http://127.0.0.1:{svc.port}/v1/models/{svc.name}",
            model_dir=svc.model_dir,
            model_job_id=svc.source_job_id,
            generation=svc.generation,
            resources=ResourcesPublic(
                cpu=svc.cpu, memory_mb=svc.memory_mb, gpu=svc.gpu, gpu_devices=svc.gpu_devices
            ),
            isolation=svc.isolation,
            created_at=svc.created_at,
            started_at=svc.started_at,
            stopped_at=svc.stopped_at,
        )


class ServicesPublic(BaseModel):
    data: list[ServicePublic]
    count: int
