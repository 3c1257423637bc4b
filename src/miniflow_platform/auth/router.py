"""/v1/users: user and token management (admins manage everyone, users themselves)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from miniflow_platform import errors, usage
from miniflow_platform.auth import service
from miniflow_platform.auth.dependencies import AdminUser, CurrentUser
from miniflow_platform.auth.models import User
from miniflow_platform.auth.schemas import (
    NAME_PATTERN,
    ComputeUsagePublic,
    DiskUsagePublic,
    TokenPublic,
    UsagePublic,
    UserCreate,
    UserPublic,
    UsersPublic,
)
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.errors import NotFound

router = APIRouter(prefix="/v1/users", tags=["users"])


@router.post("", status_code=201, response_model=TokenPublic, responses=errors.responses(403, 409))
def create_user(body: UserCreate, session: SessionDep, _admin: AdminUser) -> TokenPublic:
    """Create a user and its first API token (admin only; the token is shown once)."""
    user, token = service.create_user(session, body.name, body.admin)
    return TokenPublic(id=user.tokens[0].id, user=user.name, token=token)


@router.get("", response_model=UsersPublic, responses=errors.responses(403))
def read_users(session: SessionDep, _admin: AdminUser) -> UsersPublic:
    """List users (admin only)."""
    users = [UserPublic.model_validate(u) for u in service.list_users(session)]
    return UsersPublic(data=users, count=len(users))


@router.get("/me", response_model=UserPublic)
def read_me(user: CurrentUser) -> UserPublic:
    """The user the token belongs to."""
    return UserPublic.model_validate(user)


@router.get("/me/usage", response_model=UsagePublic)
def read_my_usage(p: PlatformDep, session: SessionDep, user: CurrentUser) -> UsagePublic:
    """Your disk usage against the disk quota, and what your running work holds."""
    return _usage(p, session, user)


def _usage(p: PlatformDep, session: SessionDep, user: User) -> UsagePublic:
    s = p.settings
    disk = usage.disk_usage(p, session, user.id)
    held = usage.current_usage(session).user(user.id)
    return UsagePublic(
        user=user.name,
        disk=DiskUsagePublic(
            used_bytes=disk.total_bytes,
            quota_bytes=s.limits.disk_quota_bytes,
            jobs_bytes=disk.jobs_bytes,
            notebooks_bytes=disk.notebooks_bytes,
            uploads_bytes=disk.uploads_bytes,
        ),
        compute=ComputeUsagePublic(
            cpu=held.cpu,
            memory_mb=held.memory_mb,
            gpus=len(held.gpus),
            running_jobs=held.running_jobs,
            quota_cpu=s.quota_cpu,
            quota_memory_mb=s.quota_memory_mb,
            quota_gpu=s.quota_gpu,
            quota_running_jobs=s.quota_running_jobs,
        ),
    )


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


@router.get("/{name}/usage", response_model=UsagePublic)
def read_usage(p: PlatformDep, session: SessionDep, target: TargetUser) -> UsagePublic:
    """A user's usage (the user itself or an admin)."""
    return _usage(p, session, target)
