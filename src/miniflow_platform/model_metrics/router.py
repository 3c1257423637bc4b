"""/v1/models/{name}/metrics: the metric series of a model, from its evaluations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from miniflow_platform import errors
from miniflow_platform.auth.dependencies import CurrentUser
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.deps import SessionDep
from miniflow_platform.errors import NotFound
from miniflow_platform.model_metrics import service
from miniflow_platform.model_metrics.schemas import METRICS, MetricPoint, ModelMetricsPublic

router = APIRouter(prefix="/v1/models", tags=["model metrics"])
ModelName = Annotated[str, Path(pattern=NAME_PATTERN, description="model (series) name")]
Metric = Annotated[str | None, Query(pattern=rf"^({'|'.join(METRICS)})$")]


@router.get("/{name}/metrics", response_model=ModelMetricsPublic, responses=errors.responses(404))
def read_metrics(
    name: ModelName,
    session: SessionDep,
    user: CurrentUser,
    metric: Metric = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> ModelMetricsPublic:
    """Your model's metrics over time (each evaluation step adds a point per metric)."""
    rows = service.series(session, user, name, metric, limit)
    if not rows and not service.series(session, user, name, None, 1):
        raise NotFound(f"model {name!r} has no metrics (no evaluation recorded it)")
    data = [
        MetricPoint(
            version=r.version,
            dataset=r.dataset,
            metric=r.metric,
            value=r.value,
            threshold=r.threshold,
            degraded=r.degraded,
            time=r.time,
            run_id=r.run_id,
            step=r.step,
            job_id=r.job_id,
        )
        for r in rows
    ]
    degraded = service.latest_degraded(session, user, name)
    return ModelMetricsPublic(model=name, degraded=degraded, data=data, count=len(data))
