"""Request and response bodies of the model services API."""

from __future__ import annotations

from pydantic import BaseModel, Field

from miniflow_platform.api_types import UTCDatetime
from miniflow_platform.jobs.schemas import ModelSource, ResourcesPublic, ResourcesSpec
from miniflow_platform.serving.models import ModelService, ServiceState, UpdateState

SERVICE_NAME = r"^[a-z][a-z0-9-]{0,62}$"


class ServiceCreate(ModelSource):
    """A model service: `miniflow serve` behind the platform's proxy, with its resources."""

    name: str = Field(pattern=SERVICE_NAME, description="also the TF Serving model name")
    resources: ResourcesSpec = Field(default_factory=ResourcesSpec)
    python_env: str | None = Field(default=None, max_length=4096)


class ServiceUpdate(ModelSource):
    """Serve another model: a new generation starts, takes traffic once healthy, and the
    old one stops after its last request (zero downtime)."""


class UpdatePublic(BaseModel):
    state: UpdateState = Field(description="'' (never updated), UPDATING, SUCCEEDED or FAILED")
    reason: str = Field(description="why the last update failed")
    pending_generation: int | None = Field(description="the generation starting now")


class ServicePublic(BaseModel):
    id: int
    name: str
    user: str
    state: ServiceState
    reason: str
    url: str = Field(description="the model's TF Serving REST URL, through the platform's proxy")
    model_dir: str
    model_job_id: int | None
    generation: int = Field(description="the generation taking traffic")
    update: UpdatePublic
    resources: ResourcesPublic
    isolation: str
    created_at: UTCDatetime
    started_at: UTCDatetime
    stopped_at: UTCDatetime | None

    @classmethod
    def of(cls, svc: ModelService, base_url: str) -> ServicePublic:
        return cls(
            id=svc.id,
            name=svc.name,
            user=svc.owner.name,
            state=ServiceState(svc.state),
            reason=svc.reason,
            url=f"{base_url.rstrip('/')}/v1/services/{svc.name}/v1/models/{svc.name}",
            model_dir=svc.model_dir,
            model_job_id=svc.source_job_id,
            generation=svc.generation,
            update=UpdatePublic(
                state=UpdateState(svc.update_state),
                reason=svc.update_reason,
                pending_generation=svc.pending_generation,
            ),
            resources=ResourcesPublic(
                cpu=svc.cpu,
                memory_mb=svc.memory_mb,
                gpu=svc.gpu,
                gpu_devices=svc.gpu_devices,
                pids=None,
            ),
            isolation=svc.isolation,
            created_at=svc.created_at,
            started_at=svc.started_at,
            stopped_at=svc.stopped_at,
        )


class ServicesPublic(BaseModel):
    data: list[ServicePublic]
    count: int
