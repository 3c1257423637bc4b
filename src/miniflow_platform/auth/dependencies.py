"""``CurrentUser`` (any valid bearer token) and ``AdminUser`` dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from miniflow_platform.auth import service
from miniflow_platform.auth.models import User
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import Forbidden, Unauthorized

_bearer = HTTPBearer(auto_error=False, description="API token: `Authorization: Bearer mfp_...`")


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
