"""/v1/services: model services (TF Serving REST API behind the platform)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body
from fastapi.responses import JSONResponse, PlainTextResponse

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.serving import service
from miniflow_platform.serving.dependencies import OwnedService
from miniflow_platform.serving.schemas import (
    ServiceCreate,
    ServicePublic,
    ServicesPublic,
    ServiceUpdate,
)

router = APIRouter(prefix="/v1/services", tags=["services"])


@router.post("", status_code=201, response_model=ServicePublic)
def create_service(
    body: ServiceCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> ServicePublic:
    """Start `miniflow serve` for a model dir or a training job's output."""
    return ServicePublic.of(service.create_service(p, session, user, body))


@router.get("", response_model=ServicesPublic)
def read_services(session: SessionDep, user: CurrentUser) -> ServicesPublic:
    """List your model services (admins: everyone's)."""
    found = service.list_services(session, user)
    return ServicesPublic(data=[ServicePublic.of(s) for s in found], count=len(found))


@router.get("/{name}", response_model=ServicePublic)
def read_service(svc: OwnedService) -> ServicePublic:
    """One model service: URL, state (health), model."""
    return ServicePublic.of(svc)


@router.patch("/{name}", response_model=ServicePublic)
def update_service(
    body: ServiceUpdate, svc: OwnedService, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> ServicePublic:
    """Switch to another model version (restarts the model server on the same port)."""
    return ServicePublic.of(service.update_service(p, session, user, svc, body))


@router.post("/{name}/stop", response_model=ServicePublic)
def stop_service(
    svc: OwnedService, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> ServicePublic:
    """Stop the model server (the record stays; delete removes it)."""
    return ServicePublic.of(service.stop_service(p, session, svc, f"stopped by {user.name}"))


@router.delete("/{name}", status_code=204)
def delete_service(svc: OwnedService, p: PlatformDep, session: SessionDep) -> None:
    """Stop the model server if it runs and delete the service."""
    service.delete_service(p, session, svc)


@router.get("/{name}/logs", response_class=PlainTextResponse)
def read_service_logs(svc: OwnedService, p: PlatformDep) -> PlainTextResponse:
    """Output of the current model server process (the latest generation)."""
    return PlainTextResponse(service.read_log(p, svc))


@router.post("/{name}:predict")
def predict(
    svc: OwnedService,
    payload: dict[str, Any] = Body(  # noqa: B008  FastAPI idiom
        examples=[{"instances": [[1.0, 2.0]]}]
    ),
) -> JSONResponse:
    """Proxy a TF Serving predict request (`{"instances": [...]}`) to the service."""
    status, body = service.predict(svc, payload)
    return JSONResponse(body, status_code=status)
