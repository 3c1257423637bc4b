"""``OwnedNotebook``: the notebook in the path, if the caller may act on it (else 404)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.notebooks.models import Notebook


def owned_notebook(
    session: SessionDep, user: CurrentUser, notebook_id: Annotated[int, Path(ge=1, le=2**53)]
) -> Notebook:
    nb = session.get(Notebook, notebook_id)
    if nb is None or not (user.is_admin or nb.owner_id == user.id):
        raise NotFound(f"notebook {notebook_id} not found")
    return nb


OwnedNotebook = Annotated[Notebook, Depends(owned_notebook)]
