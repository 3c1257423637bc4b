"""``CurrentUser`` (any valid bearer token), ``AdminUser``, and ``owned(...)``: the one
lookup-and-ownership dependency every resource route uses."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select

from miniflow_platform.auth import service
from miniflow_platform.auth.models import User
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import Forbidden, NotFound, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer mfp_...`")
T = TypeVar("T")


def current_user(
    session: SessionDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> User:
    if credentials is None or not credentials.credentials:
        raise Unauthorized("missing bearer token; send 'Authorization: Bearer <token>'")
    user = service.authenticate(session, credentials.credentials)
    if user is None:
        raise Unauthorized("unknown or revoked API token")
    return user


def admin_user(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_admin:
        raise Forbidden(f"user {user.name!r} is not an admin; this endpoint needs an admin token")
    return user


CurrentUser = Annotated[User, Depends(current_user)]
AdminUser = Annotated[User, Depends(admin_user)]


def owned(
    model: type[T],
    param: str,
    annotation: Any,
    what: str,
    column: str = "id",
    where: Callable[[T], bool] | None = None,
) -> Any:
    """``Annotated[model, Depends(...)]`` for the row named by path parameter ``param``.

    The row is looked up by ``column``; a row that is missing, fails ``where`` (e.g. a
    prediction job asked for under /v1/jobs) or belongs to another user (unless the
    caller is an admin) is reported the same way, as 404 — existence never leaks.
    """

    def dependency(**kwargs: Any) -> T:
        session, user, key = kwargs["session"], kwargs["user"], kwargs[param]
        if column == "id":
            row = session.get(model, key)
        else:
            row = session.scalar(select(model).where(getattr(model, column) == key))
        if (
            row is None
            or (where is not None and not where(row))
            or not (user.is_admin or row.owner_id == user.id)
        ):
            raise NotFound(f"{what} {key!r} not found")
        return row

    keyword = inspect.Parameter.KEYWORD_ONLY
    dependency.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [
            inspect.Parameter("session", keyword, annotation=SessionDep),
            inspect.Parameter("user", keyword, annotation=CurrentUser),
            inspect.Parameter(param, keyword, annotation=annotation),
        ]
    )
    dependency.__name__ = f"owned_{model.__name__.lower()}"
    return Annotated[model, Depends(dependency)]
