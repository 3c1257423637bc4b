"""/v1/capacity: the server's capacity, what is used and queued, and each user's share."""

from __future__ import annotations

from fastapi import APIRouter

from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.capacity import service
from miniflow_platform.capacity.schemas import CapacityPublic
from miniflow_platform.deps import PlatformDep, SessionDep

router = APIRouter(prefix="/v1/capacity", tags=["capacity"])


@router.get("", response_model=CapacityPublic)
def read_capacity(p: PlatformDep, session: SessionDep, user: CurrentUser) -> CapacityPublic:
    """The server's CPU, memory and GPUs, what running work holds and what is free, the
    quotas, and the queue. Admins get every user's usage and queue; others their own
    (the server's totals are shown to everyone: queued jobs already say what is free)."""
    return service.capacity(p, session, user)
