"""/v1/services: model services (TF Serving REST API behind the platform's proxy)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import PlainTextResponse, Response

from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.errors import NotFound, responses
from miniflow_platform.serving import service
from miniflow_platform.serving.dependencies import OwnedService
from miniflow_platform.serving.models import ModelService
from miniflow_platform.serving.schemas import (
    ServiceCreate,
    ServicePublic,
    ServicesPublic,
    ServiceUpdate,
)

router = APIRouter(prefix="/v1/services", tags=["services"])
ERRORS = responses(401, 404)


def _public(svc: Any, request: Request) -> ServicePublic:
    return ServicePublic.of(svc, str(request.base_url))


@router.post(
    "", status_code=201, response_model=ServicePublic, responses=responses(401, 404, 409, 422)
)
def create_service(
    body: ServiceCreate, p: PlatformDep, session: SessionDep, user: CurrentUser, request: Request
) -> ServicePublic:
    """Start `miniflow serve` for a model dir or a training job's output."""
    return _public(service.create_service(p, session, user, body), request)


@router.get("", response_model=ServicesPublic, responses=responses(401))
def read_services(session: SessionDep, user: CurrentUser, request: Request) -> ServicesPublic:
    """List your model services (admins: everyone's)."""
    found = auth_service.visible_rows(session, user, ModelService)
    return ServicesPublic(data=[_public(s, request) for s in found], count=len(found))


@router.get("/{name}", response_model=ServicePublic, responses=ERRORS)
def read_service(svc: OwnedService, request: Request) -> ServicePublic:
    """One model service: URL, state (health), model, the last update."""
    return _public(svc, request)


@router.patch("/{name}", response_model=ServicePublic, responses=responses(401, 404, 409, 422))
def update_service(
    body: ServiceUpdate,
    svc: OwnedService,
    p: PlatformDep,
    session: SessionDep,
    user: CurrentUser,
    request: Request,
) -> ServicePublic:
    """Serve another model without downtime: `update.state` goes UPDATING, then SUCCEEDED
    (traffic switched to the new generation) or FAILED (the old one serves on)."""
    return _public(service.update_service(p, session, user, svc, body), request)


@router.post("/{name}/stop", response_model=ServicePublic, responses=responses(401, 404, 409))
def stop_service(
    svc: OwnedService, p: PlatformDep, session: SessionDep, user: CurrentUser, request: Request
) -> ServicePublic:
    """Stop the model server (the record stays; delete removes it)."""
    return _public(service.stop_service(p, session, svc, f"stopped by {user.name}"), request)


@router.delete("/{name}", status_code=204, responses=ERRORS)
def delete_service(svc: OwnedService, p: PlatformDep, session: SessionDep) -> None:
    """Stop the model server if it runs and delete the service."""
    service.delete_service(p, session, svc)


@router.get("/{name}/logs", response_class=PlainTextResponse, responses=ERRORS)
def read_service_logs(
    svc: OwnedService,
    p: PlatformDep,
    generation: Annotated[
        int | None, Query(ge=1, le=2**31, description="default: the one taking traffic")
    ] = None,
) -> PlainTextResponse:
    """Output of one generation's model server (e.g. of an update that failed)."""
    if generation is not None and generation > svc.last_generation:
        raise NotFound(f"model service {svc.name!r} has no generation {generation}")
    return PlainTextResponse(service.read_log(p, svc, generation))


@router.post("/{name}:predict", responses=responses(401, 404))
async def predict(
    svc: OwnedService,
    p: PlatformDep,
    request: Request,
    payload: dict[str, Any] = Body(  # noqa: B008  FastAPI idiom; documents the body
        examples=[{"instances": [[1.0, 2.0]]}]
    ),
) -> Response:
    """TF Serving predict (`{"instances": [...]}`), forwarded to the service."""
    del payload  # validated as a JSON object; the raw body is streamed on unchanged
    return await service.forward(request, p, svc, f"v1/models/{svc.name}:predict")


@router.api_route("/{name}/v1/{path:path}", methods=["GET", "POST"], include_in_schema=False)
async def proxy_tf_serving(
    svc: OwnedService, p: PlatformDep, request: Request, path: str
) -> Response:
    """The service's whole TF Serving REST API (status, metadata, predict, versions)."""
    return await service.forward(request, p, svc, f"v1/{path}")
