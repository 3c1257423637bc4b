"""/v1/users: user and token management (admins manage everyone, users themselves)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from miniflow_platform.auth import service
from miniflow_platform.auth.dependencies import AdminUser, CurrentUser
from miniflow_platform.auth.models import User
from miniflow_platform.auth.schemas import (
    NAME_PATTERN,
    TokenPublic,
    UserCreate,
    UserPublic,
    UsersPublic,
)
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post("", status_code=201, response_model=TokenPublic)
def create_user(body: UserCreate, session: SessionDep, _admin: AdminUser) -> TokenPublic:
    """Create a user and its first API token (admin only; the token is shown once)."""
    user, token = service.create_user(session, body.name, body.admin)
    return TokenPublic(id=user.tokens[0].id, user=user.name, token=token)


@router.get("", response_model=UsersPublic)
def read_users(session: SessionDep, _admin: AdminUser) -> UsersPublic:
    """List users (admin only)."""
    users = [UserPublic.model_validate(u) for u in service.list_users(session)]
    return UsersPublic(data=users, count=len(users))


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> UserPublic:
    """The user the token belongs to."""
    return UserPublic.model_validate(user)


def _self_or_admin(
    session: SessionDep, user: CurrentUser, name: Annotated[str, Path(pattern=NAME_PATTERN)]
) -> User:
    if name != user.name and not user.is_admin:
        raise NotFound(f"user {name!r} not found")
    return service.get_user(session, name)


TargetUser = Annotated[User, Depends(_self_or_admin)]


@router.post("/{name}/tokens", status_code=201, response_model=TokenPublic)
def create_token(session: SessionDep, target: TargetUser) -> TokenPublic:
    """Issue another token for a user (the user itself or an admin)."""
    row, token = service.issue_token(session, target)
    return TokenPublic(id=row.id, user=target.name, token=token)


@router.delete("/{name}/tokens/{token_id}", status_code=204)
def revoke_token(
    session: SessionDep, target: TargetUser, token_id: Annotated[int, Path(ge=1, le=2**53)]
) -> None:
    """Revoke one of a user's tokens (its id is in the response that created it)."""
    service.revoke_token(session, target, token_id)
