"""``OwnedService``: the model service in the path, if the caller may act on it (else 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from sqlalchemy import select

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.serving.models import ModelService
from miniflow_platform.serving.schemas import SERVICE_NAME


def owned_service(
    session: SessionDep, user: CurrentUser, name: Annotated[str, Path(pattern=SERVICE_NAME)]
) -> ModelService:
    svc = session.scalar(select(ModelService).where(ModelService.name == name))
    if svc is None or not (user.is_admin or svc.owner_id == user.id):
        raise NotFound(f"model service {name!r} not found")
    return svc


OwnedService = Annotated[ModelService, Depends(owned_service)]
