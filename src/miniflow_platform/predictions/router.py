"""/v1/predictions: batch prediction jobs (the shared job routes plus their own create)."""

from __future__ import annotations

from miniflow_platform import errors
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.deps import PlatformDep, SessionDep
from miniflow_platform.jobs.models import JobKind
from miniflow_platform.jobs.routes import job_routes, public
from miniflow_platform.jobs.schemas import JobPublic
from miniflow_platform.predictions import service
from miniflow_platform.predictions.schemas import PredictionCreate

router = job_routes(JobKind.PREDICTION, "/v1/predictions", "prediction", "predictions")


@router.post("", status_code=201, response_model=JobPublic, responses=errors.responses(404, 413))
def create_prediction(
    body: PredictionCreate, p: PlatformDep, session: SessionDep, user: CurrentUser
) -> JobPublic:
    """Submit a batch prediction job (`miniflow predict` over the input files)."""
    return public(p, service.create_prediction(p, session, user, body))
