"""Dependencies shared by every router: the platform context and a DB session."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from miniflow_platform.context import Platform


def get_platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


def get_session(platform: Annotated[Platform, Depends(get_platform)]) -> Iterator[Session]:
    with platform.sessions() as session:
        yield session


PlatformDep = Annotated[Platform, Depends(get_platform)]
SessionDep = Annotated[Session, Depends(get_session)]


_declared_cache: dict[int, frozenset[str]] = {}


def no_unknown_query(request: HTTPConnection) -> None:
    """Refuse query parameters the route does not declare (a typo such as ``?stat=``
    would otherwise be ignored silently and return everything). Proxy routes (outside
    the schema, and websockets) pass the backend's own query parameters on."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None or request.scope["type"] != "http" or not route.include_in_schema:
        return
    declared = _declared_cache.get(id(route))
    if declared is None:
        declared = frozenset(_query_names(dependant))
        _declared_cache[id(route)] = declared
    unknown = sorted(set(request.query_params) - declared)
    if unknown:
        raise RequestValidationError(
            [
                {
                    "loc": ("query", name),
                    "msg": f"unknown query parameter; this endpoint takes {sorted(declared)}",
                    "type": "extra_forbidden",
                }
                for name in unknown
            ]
        )


def _query_names(dependant: Any) -> Iterator[str]:
    for field in dependant.query_params:
        yield field.alias
    for sub in dependant.dependencies:
        yield from _query_names(sub)
