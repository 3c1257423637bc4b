"""/v1/notebooks: Jupyter servers (dev environments)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.notebooks import service
from miniflow_platform.notebooks.dependencies import OwnedNotebook
from miniflow_platform.notebooks.schemas import NotebookCreate, NotebookPublic, NotebooksPublic

router = APIRouter(prefix="/v1/notebooks", tags=["notebooks"])


@router.post("", status_code=201, response_model=NotebookPublic)
def create_notebook(
    body: NotebookCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> NotebookPublic:
    """Start a Jupyter server on a free loopback port; the response carries its token."""
    return NotebookPublic.of(service.create_notebook(p, session, user, body), user.id)


@router.get("", response_model=NotebooksPublic)
def read_notebooks(session: SessionDep, user: CurrentUser) -> NotebooksPublic:
    """List your notebooks (admins: everyone's, without their tokens)."""
    found = service.list_notebooks(session, user)
    return NotebooksPublic(data=[NotebookPublic.of(n, user.id) for n in found], count=len(found))


@router.get("/{notebook_id}", response_model=NotebookPublic)
def read_notebook(nb: OwnedNotebook, user: CurrentUser) -> NotebookPublic:
    """One notebook: URL, state, last activity; the token only for its owner."""
    return NotebookPublic.of(nb, user.id)


@router.get("/{notebook_id}/logs", response_class=PlainTextResponse)
def read_notebook_logs(nb: OwnedNotebook, p: PlatformDep) -> PlainTextResponse:
    """The Jupyter server's output."""
    return PlainTextResponse(service.read_log(p, nb))


@router.post("/{notebook_id}/stop", response_model=NotebookPublic)
def stop_notebook(
    nb: OwnedNotebook, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> NotebookPublic:
    """Stop the Jupyter server (its files stay until the notebook is deleted)."""
    return NotebookPublic.of(
        service.stop_notebook(p, session, nb, f"stopped by {user.name}"), user.id
    )


@router.delete("/{notebook_id}", status_code=204)
def delete_notebook(nb: OwnedNotebook, p: PlatformDep, session: SessionDep) -> None:
    """Stop the notebook if it runs and delete it with its files."""
    service.delete_notebook(p, session, nb)
