"""Record each evaluation's metrics as series per model; thresholds mark it degraded.

``record`` is called by the pipelines' scheduler step in the same transaction that
marks the evaluation step SUCCEEDED, so an evaluation is recorded exactly once.
``service_model`` finds what a model service serves now (the version its process
reports), so a scheduled evaluation measures the model users get.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from miniflow_platform import managed
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.errors import Conflict, NotFound
from miniflow_platform.model_metrics.models import ModelMetric
from miniflow_platform.model_metrics.schemas import METRICS
from miniflow_platform.serving import service as serving
from miniflow_platform.serving.models import ModelService, ServiceState


def crossed(outputs: dict[str, Any], thresholds: dict[str, float]) -> dict[str, str]:
    """Metric -> why it crossed its threshold (an undefined value crosses any bound)."""
    found = {}
    for key, bound in thresholds.items():
        side, metric = key.split("_", 1)
        value = outputs.get(metric)
        if not isinstance(value, int | float) or isinstance(value, bool):
            found[metric] = f"{metric} is undefined ({value!r}); {key} is {bound:g}"
        elif (side == "min" and value < bound) or (side == "max" and value > bound):
            sign = "<" if side == "min" else ">"
            found[metric] = f"{metric} {value:.6g} {sign} {key} {bound:g}"
    return found


def record(
    session: Session,
    owner_id: int,
    model: str,
    outputs: dict[str, Any],
    thresholds: dict[str, float],
    *,
    at: datetime,
    run_id: int | None = None,
    step: str = "",
    job_id: int | None = None,
) -> list[str]:
    """Add the evaluation's metrics to ``model``'s series (not committed); returns why it
    is degraded (empty: it is not)."""
    bad = crossed(outputs, thresholds)
    bounds = {key.split("_", 1)[1]: f"{key} {v:g}" for key, v in thresholds.items()}
    for metric in METRICS:
        if metric not in outputs and metric not in bounds:
            continue
        value = outputs.get(metric)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        session.add(
            ModelMetric(
                owner_id=owner_id,
                model=model,
                version=str(outputs.get("model_version", ""))[:64],
                dataset=str(outputs.get("data", "")),
                metric=metric,
                value=float(value) if ok else None,
                threshold=bounds.get(metric, ""),
                degraded=metric in bad,
                time=at,
                run_id=run_id,
                step=step,
                job_id=job_id,
            )
        )
    return list(bad.values())


def series(
    session: Session, user: User, model: str, metric: str | None, limit: int
) -> list[ModelMetric]:
    """The newest ``limit`` points of the caller's ``model`` (one metric or all), oldest first."""
    query = select(ModelMetric).where(ModelMetric.owner_id == user.id, ModelMetric.model == model)
    if metric is not None:
        query = query.where(ModelMetric.metric == metric)
    rows = list(session.scalars(query.order_by(ModelMetric.id.desc()).limit(limit)))
    return rows[::-1]


def latest_degraded(session: Session, user: User, model: str) -> bool:
    """Whether the model's latest evaluation crossed a threshold."""
    last = session.scalar(
        select(ModelMetric)
        .where(ModelMetric.owner_id == user.id, ModelMetric.model == model)
        .order_by(ModelMetric.id.desc())
    )
    if last is None:
        return False
    same = select(ModelMetric.degraded).where(
        ModelMetric.owner_id == user.id,
        ModelMetric.model == model,
        ModelMetric.time == last.time,
        ModelMetric.run_id == last.run_id,
        ModelMetric.step == last.step,
    )
    return any(session.scalars(same))


def service_model(p: Platform, session: Session, user: User, name: str) -> tuple[str, str]:
    """The model directory and the version the caller's service ``name`` serves now."""
    svc = session.scalar(select(ModelService).where(ModelService.name == name))
    if svc is None or not (user.is_admin or svc.owner_id == user.id):
        raise NotFound(f"model service {name!r} not found")
    if svc.state != ServiceState.AVAILABLE.value:
        raise Conflict(f"model service {name!r} is {svc.state}; evaluating it needs AVAILABLE")
    r = managed.probe_http(
        serving.backend(p, svc, svc.generation, svc.port), f"v1/models/{svc.name}"
    )
    if r is None or r.status_code != 200:
        raise Conflict(f"model service {name!r} did not report its model version")
    try:
        statuses = r.json()["model_version_status"]
        versions = [str(s["version"]) for s in statuses if s.get("state") == "AVAILABLE"]
    except (ValueError, KeyError, TypeError):
        versions = []
    if not versions:
        raise Conflict(f"model service {name!r} reports no AVAILABLE model version")
    return svc.model_dir, max(versions, key=lambda v: (len(v), v))
