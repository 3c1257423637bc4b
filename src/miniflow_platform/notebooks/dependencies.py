"""Who may use a notebook: ``OwnedNotebook`` for the API, ``proxy_access`` for its proxy.

The proxy accepts, in this order: ``Authorization: Bearer`` with the owner's API token
or the notebook's access token; the access-token cookie the proxy sets for browsers;
``?token=<access token>``. A cookie (sent by the browser on its own) is accepted for a
websocket or a state-changing request only if ``Origin`` is the platform itself, so
another site cannot drive a logged-in user's notebook.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Path
from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import owned
from miniflow_platform.errors import Forbidden, NotFound, Unauthorized
from miniflow_platform.notebooks.models import Notebook
from miniflow_platform.notebooks.service import ACCESS_TOKEN_PREFIX, cookie_name, token_matches

NotebookId = Annotated[int, Path(ge=1, le=2**53)]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


OwnedNotebook = owned(Notebook, "notebook_id", NotebookId, "notebook")


def proxy_access(conn: HTTPConnection, session: Session, notebook_id: int, method: str) -> Notebook:
    """The notebook if ``conn`` may reach it through the proxy (owner only, not admins:
    a notebook runs code as its owner)."""
    bearer = _bearer(conn)
    if bearer and not bearer.startswith(ACCESS_TOKEN_PREFIX):
        user = auth_service.authenticate(session, bearer)
        if user is None:
            raise Unauthorized("unknown or revoked API token")
        nb = session.get(Notebook, notebook_id)
        if nb is None or nb.owner_id != user.id:
            raise NotFound(f"notebook {notebook_id} not found")
        return nb
    cookie = conn.cookies.get(cookie_name(notebook_id))
    token = bearer or conn.query_params.get("token") or cookie
    nb = session.get(Notebook, notebook_id)
    if not token or nb is None or not token_matches(nb, token):
        if cookie and nb is not None and token_matches(nb, cookie):
            token = cookie  # e.g. JupyterLab adds ?token=<the backend token> to websockets
        else:
            raise Unauthorized(
                f"notebook {notebook_id}: send 'Authorization: Bearer <API token>' or open "
                "the notebook's URL with ?token=<its access token>"
            )
    if token == cookie and method not in SAFE_METHODS and not _same_origin(conn):
        raise Forbidden(f"cross-origin {method} to notebook {notebook_id} refused")
    return nb


def _bearer(conn: HTTPConnection) -> str | None:
    scheme, _, value = conn.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _same_origin(conn: HTTPConnection) -> bool:
    origin = conn.headers.get("origin")
    if origin is None:  # not a browser request made on another site's behalf
        return True
    return urlsplit(origin).netloc.lower() == conn.headers.get("host", "").lower()
