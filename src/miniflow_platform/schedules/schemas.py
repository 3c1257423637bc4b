"""Schedule definitions (cron and zone checked when created or edited) and their responses."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from miniflow_platform.api_types import UTCDatetime
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.jobs.models import JobState
from miniflow_platform.jobs.schemas import Arg, JobBase
from miniflow_platform.pipelines.models import RunState
from miniflow_platform.pipelines.schemas import ParamName, ParamValue
from miniflow_platform.schedules.cron import MAX_EXPRESSION, Cron, CronError, zone
from miniflow_platform.schedules.models import CatchUp, Concurrency, FireState, Target

MAX_CATCHUP = 100


def _valid_cron(expr: str) -> str:
    try:
        return Cron.parse(expr).expr  # @daily and the like are expanded
    except CronError as e:
        raise ValueError(str(e)) from None


def _valid_zone(name: str) -> str:
    try:
        zone(name)
    except CronError as e:
        raise ValueError(str(e)) from None
    return name


# Fields shared by the create and the edit bodies; a bad cron or zone is a 422 whose
# ``loc`` names the field (``body.cron``, ``body.timezone``).
CronExpr = Annotated[
    str,
    Field(
        max_length=MAX_EXPRESSION,
        description="5 fields (minute hour day month weekday), or 6 with seconds first; "
        "or @hourly, @daily, @weekly, @monthly, @yearly",
    ),
    AfterValidator(_valid_cron),
]
TimeZone = Annotated[
    str,
    Field(max_length=64, description="IANA zone, e.g. Europe/Berlin"),
    AfterValidator(_valid_zone),
]
Description = Annotated[str, Field(max_length=4096)]
PipelineName = Annotated[str, Field(pattern=NAME_PATTERN, description="your pipeline")]
Params = Annotated[
    dict[ParamName, ParamValue],
    Field(
        description="with pipeline: overrides of its params for each run",
        json_schema_extra={"additionalProperties": False},
    ),
]
MaxCatchup = Annotated[int, Field(ge=1, le=MAX_CATCHUP)]
StartingDeadline = Annotated[
    float,
    Field(
        gt=0,
        le=366 * 86400,
        description="a time later than this is not run (catch_up none: default 60 s)",
    ),
]
CONCURRENCY_HELP = (
    "while an earlier run is active: allow another, forbid (skip this time) or replace "
    "(cancel it, then start)"
)
CATCH_UP_HELP = (
    "times missed (server down): none (run only a time within starting_deadline_s), "
    "once (the latest), all (each, newest max_catchup)"
)


class ScheduledJob(JobBase):
    """The job a schedule submits at each time (a ``POST /v1/jobs`` body without inline
    code: use ``working_dir`` or an upload, which is unpacked for each run)."""

    command: list[Arg] = Field(min_length=1, max_length=4096)
    working_dir: str | None = Field(default=None, max_length=4096)
    code_upload_id: int | None = Field(default=None, ge=1, le=2**53)

    @model_validator(mode="after")
    def _one_code_source(self) -> ScheduledJob:
        if self.working_dir is not None and self.code_upload_id is not None:
            raise ValueError("give at most one of working_dir and code_upload_id")
        return self


class ScheduleCreate(BaseModel):
    """Run ``pipeline`` (with ``params``) or ``job`` at the times of ``cron`` in ``timezone``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="unique among your schedules")
    description: Description = ""
    cron: CronExpr
    timezone: TimeZone = "UTC"
    pipeline: PipelineName | None = None
    params: Params = Field(default_factory=dict)
    job: ScheduledJob | None = None
    concurrency_policy: Concurrency = Field(default=Concurrency.ALLOW, description=CONCURRENCY_HELP)
    catch_up: CatchUp = Field(default=CatchUp.ONCE, description=CATCH_UP_HELP)
    max_catchup: MaxCatchup = 10
    starting_deadline_s: StartingDeadline | None = None
    paused: bool = False

    @model_validator(mode="after")
    def _target(self) -> ScheduleCreate:
        if (self.pipeline is None) == (self.job is None):
            raise ValueError("give exactly one of pipeline and job")
        if self.params and self.pipeline is None:
            raise ValueError("params are a pipeline's; a job schedule takes none")
        return self

    @property
    def target(self) -> Target:
        return Target.PIPELINE if self.pipeline is not None else Target.JOB


class ScheduleUpdate(BaseModel):
    """``PATCH /v1/schedules/{name}``: the fields to change; the others keep their value.

    ``params`` and ``job`` replace the old value as a whole. What a schedule runs (a
    pipeline or a job) cannot change: delete it and create another. ``version`` is
    the one you read: if the schedule was edited since, the edit is refused (409).
    """

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        default=None, ge=1, le=2**53, description="apply only if the schedule is still at it"
    )
    description: Description | None = None
    cron: CronExpr | None = None
    timezone: TimeZone | None = None
    pipeline: PipelineName | None = Field(default=None, description="another of your pipelines")
    params: Params | None = None
    job: ScheduledJob | None = None
    concurrency_policy: Concurrency | None = Field(default=None, description=CONCURRENCY_HELP)
    catch_up: CatchUp | None = Field(default=None, description=CATCH_UP_HELP)
    max_catchup: MaxCatchup | None = None
    starting_deadline_s: StartingDeadline | None = Field(
        default=None, description="null: no deadline (catch_up none: 60 s)"
    )
    paused: bool | None = None

    @model_validator(mode="after")
    def _no_nulls(self) -> ScheduleUpdate:
        nulls = sorted(
            name
            for name in self.model_fields_set
            if getattr(self, name) is None and name not in NULLABLE
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null (leave a field out to keep it)")
        return self

    def changes(self) -> dict[str, Any]:
        """The fields sent, by name (``version`` left out)."""
        return {name: getattr(self, name) for name in self.model_fields_set - {"version"}}


NULLABLE = {"version", "starting_deadline_s"}


class SchedulePublic(BaseModel):
    id: int
    name: str
    user: str
    description: str
    cron: str
    timezone: str
    target: Target
    pipeline: str | None
    params: dict[str, Any]
    job: dict[str, Any] | None
    concurrency_policy: Concurrency
    catch_up: CatchUp
    max_catchup: int
    starting_deadline_s: float | None
    paused: bool
    version: int = Field(description="counts the edits; send it with PATCH to edit safely")
    updated_at: UTCDatetime | None = Field(description="the last edit")
    next_fire_at: UTCDatetime | None = Field(description="the next time it fires (not paused)")
    last_scheduled_at: UTCDatetime | None = Field(description="the last time it handled")
    upcoming: list[UTCDatetime] = Field(description="its next five times")
    active_runs: list[int] = Field(description="runs (or jobs) it started that have not ended")
    created_at: UTCDatetime


class SchedulesPublic(BaseModel):
    data: list[SchedulePublic]
    count: int


class FirePublic(BaseModel):
    """One scheduled time and what became of it."""

    id: int
    scheduled_at: UTCDatetime = Field(description="the cron time (the first, for a group)")
    last_scheduled_at: UTCDatetime | None = Field(description="the last time of a group")
    count: int = Field(description="how many scheduled times this row stands for")
    fired_at: UTCDatetime | None = Field(description="when the run was created")
    state: FireState
    target: Target
    run_id: int | None = Field(description="the pipeline run (or job) it started")
    outcome: RunState | JobState | None = Field(description="that run's state now")
    degraded: bool | None = Field(description="a pipeline run whose evaluation was degraded")
    reason: str


class FiresPublic(BaseModel):
    data: list[FirePublic]
    count: int
