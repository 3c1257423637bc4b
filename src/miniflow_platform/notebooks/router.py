"""/v1/notebooks: Jupyter servers (dev environments), reached only through the proxy."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request, WebSocket
from fastapi.responses import PlainTextResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from miniflow_platform.auth import service as auth_service
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.context import Platform
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.errors import NotFound, PlatformError, responses
from miniflow_platform.notebooks import service
from miniflow_platform.notebooks.dependencies import NotebookId, OwnedNotebook, proxy_access
from miniflow_platform.notebooks.models import Notebook
from miniflow_platform.notebooks.schemas import NotebookCreate, NotebookPublic, NotebooksPublic

router = APIRouter(prefix="/v1/notebooks", tags=["notebooks"])
ERRORS = responses(401, 404)
PROXY_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


@router.post("", status_code=201, response_model=NotebookPublic, responses=responses(401, 409, 422))
def create_notebook(
    body: NotebookCreate, p: PlatformDep, session: SessionDep, user: CurrentUser, request: Request
) -> NotebookPublic:
    """Start a Jupyter server; the answer carries its access token (shown only here)."""
    nb, token = service.create_notebook(p, session, user, body)
    return NotebookPublic.of(nb, str(request.base_url), token)


@router.get("", response_model=NotebooksPublic, responses=responses(401))
def read_notebooks(session: SessionDep, user: CurrentUser, request: Request) -> NotebooksPublic:
    """List your notebooks (admins: everyone's)."""
    found = auth_service.visible_rows(session, user, Notebook)
    base = str(request.base_url)
    return NotebooksPublic(data=[NotebookPublic.of(n, base) for n in found], count=len(found))


@router.get("/{notebook_id}", response_model=NotebookPublic, responses=ERRORS)
def read_notebook(nb: OwnedNotebook, request: Request) -> NotebookPublic:
    """One notebook: URL, state, last activity."""
    return NotebookPublic.of(nb, str(request.base_url))


@router.post("/{notebook_id}/token", response_model=NotebookPublic, responses=ERRORS)
def rotate_notebook_token(
    nb: OwnedNotebook, session: SessionDep, user: CurrentUser, request: Request
) -> NotebookPublic:
    """A new access token for the owner (the old one stops working)."""
    if nb.owner_id != user.id:
        raise NotFound(f"notebook {nb.id} not found")  # admins see notebooks, not tokens
    return NotebookPublic.of(nb, str(request.base_url), service.rotate_token(session, nb))


@router.get("/{notebook_id}/logs", response_class=PlainTextResponse, responses=ERRORS)
def read_notebook_logs(nb: OwnedNotebook, p: PlatformDep) -> PlainTextResponse:
    """The Jupyter server's output."""
    return PlainTextResponse(service.read_log(p, nb))


@router.post(
    "/{notebook_id}/stop", response_model=NotebookPublic, responses=responses(401, 404, 409)
)
def stop_notebook(
    nb: OwnedNotebook, p: PlatformDep, session: SessionDep, user: CurrentUser, request: Request
) -> NotebookPublic:
    """Stop the Jupyter server (its files stay until the notebook is deleted)."""
    service.stop_notebook(p, session, nb, f"stopped by {user.name}")
    return NotebookPublic.of(nb, str(request.base_url))


@router.delete("/{notebook_id}", status_code=204, responses=ERRORS)
def delete_notebook(nb: OwnedNotebook, p: PlatformDep, session: SessionDep) -> None:
    """Stop the notebook if it runs and delete it with its files."""
    service.delete_notebook(p, session, nb)


def _proxied(request: Request, session: SessionDep, notebook_id: NotebookId) -> Notebook:
    return proxy_access(request, session, notebook_id, request.method)


@router.api_route(
    "/{notebook_id}/proxy/{path:path}", methods=PROXY_METHODS, include_in_schema=False
)
async def proxy_notebook(
    request: Request, p: PlatformDep, path: str, nb: Notebook = Depends(_proxied)
) -> Response:
    """The Jupyter server: JupyterLab, its REST API (e.g. POST api/kernels), files."""
    token = request.query_params.get("token")
    if token and request.method == "GET" and service.token_matches(nb, token):
        # A browser login: keep the token in a cookie for this notebook only, drop it
        # from the address bar (and from history and Referer headers).
        target = str(request.url.remove_query_params("token"))
        redirect = RedirectResponse(target, status_code=303)
        redirect.set_cookie(
            service.cookie_name(nb.id),
            token,
            path=service.base_path(nb.id),
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return redirect
    return await service.forward(request, p, nb, path)


@router.websocket("/{notebook_id}/proxy/{path:path}")
async def proxy_notebook_websocket(ws: WebSocket, notebook_id: int, path: str) -> None:
    """Websockets of the Jupyter server (kernel channels, terminals, events)."""
    p: Platform = ws.app.state.platform

    def authorize() -> Notebook | PlatformError:
        with p.sessions() as session:
            try:
                return proxy_access(ws, session, notebook_id, "WEBSOCKET")
            except PlatformError as e:
                return e

    nb = await run_in_threadpool(authorize)
    if isinstance(nb, PlatformError):
        await ws.close(code=1008, reason=str(nb)[:120])  # before accept: HTTP 403
        return
    if nb.state not in service.ACTIVE:
        await ws.close(code=1013, reason=f"notebook {nb.id} is {nb.state}")
        return
    await service.relay_websocket(ws, p, nb, path)
