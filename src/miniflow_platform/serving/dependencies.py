"""``OwnedService``: the model service in the path, if the caller may act on it (else 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from miniflow_platform.auth.dependencies import owned
from miniflow_platform.serving.models import ModelService
from miniflow_platform.serving.schemas import SERVICE_NAME

OwnedService = owned(
    ModelService,
    "name",
    Annotated[str, Path(pattern=SERVICE_NAME)],
    "model service",
    column="name",
)
