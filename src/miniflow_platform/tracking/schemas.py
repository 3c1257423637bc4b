"""Request and response bodies of the tracking API, with its size limits."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from miniflow_platform.api_types import UTCDatetime

# Names: letters, digits and _ - . / space (TensorBoard tags use '/').
KEY_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_\-./ ]{0,249}$"
EXPERIMENT_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_\-. ]{0,127}$"
DEFAULT_EXPERIMENT = "Default"

MAX_PARAM_VALUE = 6000
MAX_TAG_VALUE = 5000
MAX_BATCH = 1000  # metrics, params or tags in one request
MAX_KEYS_PER_RUN = 1000  # distinct params (and tags, and metric names) per run
MAX_POINTS_PER_RUN = 200_000
MAX_RUNS_LISTED = 1000
MAX_COMPARE = 20
MAX_STEP = (
    2**53
)  # the served OpenAPI writes bounds as floats: 2**62 came back as 4611686018427388000

Key = Annotated[str, StringConstraints(pattern=KEY_PATTERN)]
ONLY_PATTERN_KEYS: dict[str, Any] = {"additionalProperties": False}  # keys match Key
ExperimentName = Annotated[str, StringConstraints(pattern=EXPERIMENT_PATTERN)]
NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
ParamValue = Annotated[str, StringConstraints(max_length=MAX_PARAM_VALUE, pattern=NO_NUL)]
TagValue = Annotated[str, StringConstraints(max_length=MAX_TAG_VALUE, pattern=NO_NUL)]


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: ExperimentName
    description: str = Field(default="", max_length=5000, pattern=NO_NUL)


class ExperimentPublic(BaseModel):
    id: int
    name: str
    description: str
    runs: int
    created_at: UTCDatetime


class ExperimentsPublic(BaseModel):
    data: list[ExperimentPublic]
    count: int


class MetricIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: Key
    value: float = Field(allow_inf_nan=False)
    step: int = Field(default=0, ge=0, le=MAX_STEP)
    timestamp: float | None = Field(
        default=None, ge=0, le=2**40, description="seconds since the epoch (default: now)"
    )


class LogBatch(BaseModel):
    """Metrics, params and tags of one run in one request (all or nothing)."""

    model_config = ConfigDict(extra="forbid")

    metrics: list[MetricIn] = Field(default_factory=list, max_length=MAX_BATCH)
    params: dict[Key, ParamValue] = Field(
        default_factory=dict, max_length=MAX_BATCH, json_schema_extra=ONLY_PATTERN_KEYS
    )
    tags: dict[Key, TagValue] = Field(
        default_factory=dict, max_length=MAX_BATCH, json_schema_extra=ONLY_PATTERN_KEYS
    )


class RunCreate(BaseModel):
    """A run not tied to a job (e.g. logged from a laptop with the user's token)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default="", max_length=128, pattern=NO_NUL)
    params: dict[Key, ParamValue] = Field(
        default_factory=dict, max_length=MAX_BATCH, json_schema_extra=ONLY_PATTERN_KEYS
    )
    tags: dict[Key, TagValue] = Field(
        default_factory=dict, max_length=MAX_BATCH, json_schema_extra=ONLY_PATTERN_KEYS
    )


class RunUpdate(BaseModel):
    """End a run that has no job (a job's run ends with the job)."""

    model_config = ConfigDict(extra="forbid")

    status: str = Field(pattern=r"^(SUCCEEDED|FAILED|CANCELLED)$")


class MetricValue(BaseModel):
    value: float
    step: int
    timestamp: float


class RunPublic(BaseModel):
    id: int
    experiment: str
    name: str
    job_id: int | None
    status: str
    params: dict[str, str]
    tags: dict[str, str]
    metrics: dict[str, float] = Field(description="each metric's latest value")
    created_at: UTCDatetime
    finished_at: UTCDatetime | None
    ingest_note: str = Field(description="what automatic ingestion skipped, if anything")


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int


class MetricHistory(BaseModel):
    run_id: int
    key: str
    data: list[MetricValue]
    count: int


class Comparison(BaseModel):
    """Runs side by side: every param and metric name any of them has, one value per run
    (null where a run has none)."""

    runs: list[RunPublic]
    params: dict[str, list[str | None]]
    metrics: dict[str, list[float | None]]


class ArtifactsPublic(BaseModel):
    files: list[str]
