"""Users and tokens: creation, hashing, lookup."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform.auth.models import ApiToken, User
from miniflow_platform.db import add_unique
from miniflow_platform.errors import NotFound

TOKEN_PREFIX = "mfp_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def visible_rows(session: Session, user: User, model: Any) -> list[Any]:
    """The rows of ``model`` (a table with ``id`` and ``owner_id``) that ``user`` may list:
    their own; for an admin, everyone's. By id."""
    query = select(model).order_by(model.id)
    if not user.is_admin:
        query = query.where(model.owner_id == user.id)
    return list(session.scalars(query))


def issue_token(session: Session, user: User) -> tuple[ApiToken, str]:
    """Create a token for ``user``; returns the row and the clear token (shown once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = ApiToken(user=user, token_hash=hash_token(token), prefix=token[:10])
    session.add(row)
    session.commit()
    return row, token


def create_user(session: Session, name: str, is_admin: bool = False) -> tuple[User, str]:
    user = User(name=name, is_admin=is_admin)
    add_unique(session, user, f"user {name!r} already exists", commit=False)
    _, token = issue_token(session, user)
    return user, token


def authenticate(session: Session, token: str) -> User | None:
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_token(token)))
    return row.user if row is not None else None


def ensure_admin(session: Session) -> str | None:
    """On first start, create the ``admin`` user; returns its token, or None if users exist."""
    if session.scalar(select(User.id).limit(1)) is not None:
        return None
    _, token = create_user(session, "admin", is_admin=True)
    return token


def get_user(session: Session, name: str) -> User:
    user = session.scalar(select(User).where(User.name == name))
    if user is None:
        raise NotFound(f"user {name!r} not found")
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.id)))


def revoke_token(session: Session, user: User, token_id: int) -> None:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user.id:
        raise NotFound(f"token {token_id} of user {user.name!r} not found")
    session.delete(row)
    session.commit()
