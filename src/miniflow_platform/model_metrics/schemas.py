"""Thresholds an evaluation step may set, and the metric series responses."""

from __future__ import annotations

import math
import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field

from miniflow_platform.api_types import UTCDatetime

METRICS = ("auc", "log_loss", "accuracy", "calibration", "mean_prediction", "observed_rate", "rows")
THRESHOLD = re.compile(rf"^(min|max)_({'|'.join(METRICS)})$")


def _check(thresholds: dict[str, float]) -> dict[str, float]:
    for key, value in thresholds.items():
        if not THRESHOLD.match(key):
            raise ValueError(
                f"unknown threshold {key!r}; use min_<metric> or max_<metric> with a metric "
                f"of {', '.join(METRICS)} (e.g. min_auc)"
            )
        if not math.isfinite(value):
            raise ValueError(f"threshold {key} must be a finite number")
    return thresholds


Thresholds = Annotated[dict[str, float], AfterValidator(_check)]


class MetricPoint(BaseModel):
    """One metric of one evaluation."""

    version: str = Field(description="the model version evaluated ('' if unversioned)")
    dataset: str
    metric: str
    value: float | None = Field(description="null when undefined (AUC of one class)")
    threshold: str = Field(description="the bound it was checked against, e.g. 'min_auc 0.7'")
    degraded: bool = Field(description="the value crossed its threshold")
    time: UTCDatetime
    run_id: int | None = Field(description="the pipeline run of the evaluation")
    step: str
    job_id: int | None


class ModelMetricsPublic(BaseModel):
    model: str
    degraded: bool = Field(description="the latest evaluation crossed a threshold")
    data: list[MetricPoint] = Field(description="oldest first")
    count: int
