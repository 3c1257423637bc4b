"""Pipeline definitions (checked as a DAG when created) and run/step responses."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from miniflow_platform.api_types import UTCDatetime
from miniflow_platform.auth.schemas import NAME_PATTERN
from miniflow_platform.jobs.schemas import Arg, JobBase
from miniflow_platform.model_metrics.schemas import Thresholds
from miniflow_platform.pipelines import expressions as ex
from miniflow_platform.pipelines.models import RunState, StepState
from miniflow_platform.serving.schemas import SERVICE_NAME

MAX_STEPS = 100
STEP_NAME = r"^[a-z][a-z0-9_]{0,62}$"  # no '-': names appear in conditions
StepName = Annotated[str, StringConstraints(pattern=STEP_NAME)]
ParamName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")]
ParamValue = Annotated[str, StringConstraints(max_length=4096)] | int | float | bool
Path = Annotated[str, StringConstraints(max_length=4096, pattern=r"^[^\x00]*$")]


class StepSpec(JobBase):
    """One step. ``command``/``train``: ``command`` runs as a training job; ``batch_predict``:
    ``miniflow predict`` of ``model_dir`` on ``inputs``; ``evaluate``: ``miniflow lr eval``
    of ``model_dir`` on ``data``, whose metrics become the step's outputs; ``deploy``:
    create the model service ``service`` serving ``model_dir``, or update it to that
    model (zero downtime), and succeed once it serves. Strings may
    hold ``{{steps.NAME.outputs.KEY}}``, ``{{steps.NAME.artifacts}}`` and ``{{params.NAME}}``
    of steps it depends on (directly or not)."""

    name: StepName  # type: ignore[assignment]
    kind: Literal["command", "train", "batch_predict", "evaluate", "deploy"] = "command"
    depends_on: list[StepName] = Field(default_factory=list, max_length=MAX_STEPS)
    when: str | None = Field(
        default=None,
        max_length=ex.MAX_EXPRESSION,
        description="run only if this holds, e.g. 'steps.eval.outputs.auc > 0.7'; "
        "else the step (and what depends on it) is SKIPPED",
    )
    command: list[Arg] | None = Field(default=None, min_length=1, max_length=4096)
    working_dir: Path | None = None
    model_dir: Path | None = None
    inputs: list[Path] | None = Field(default=None, min_length=1, max_length=64)
    output: Path | None = None
    format: Literal["libsvm", "csv", "jsonl", "tfrecord"] | None = None
    data: Path | None = None
    service: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="evaluate: the model service whose current version to evaluate "
        "(instead of model_dir); deploy: the model service to create or update",
    )
    model: str | None = Field(
        default=None,
        pattern=NAME_PATTERN,
        description="evaluate: the model whose metric series this evaluation adds to "
        "(default: the service's name, else the pipeline's)",
    )
    thresholds: Thresholds | None = Field(
        default=None,
        description="evaluate: e.g. {'min_auc': 0.7, 'max_log_loss': 0.5}; a crossed one "
        "marks the run degraded",
    )

    @model_validator(mode="after")
    def _fields_of_kind(self) -> StepSpec:
        needs = {
            "command": {"command"},
            "train": {"command"},
            "batch_predict": {"model_dir", "inputs"},
            "evaluate": {"data"} | ({"model_dir"} if self.service is None else set()),
            "deploy": {"service", "model_dir"},
        }[self.kind]
        optional = {"command": {"working_dir"}, "train": {"working_dir"}}.get(self.kind, set())
        if self.kind == "batch_predict":
            optional = {"output", "format"}
        if self.kind == "evaluate":
            optional = {"service", "format", "model", "thresholds"}
            if self.model_dir is not None and self.service is not None:
                raise ValueError(
                    f"step {self.name!r} of kind evaluate takes model_dir or service, not both"
                )
            if self.format == "jsonl":
                raise ValueError(f"step {self.name!r}: evaluate reads libsvm, csv or tfrecord")
        elif self.kind == "deploy" and not re.match(SERVICE_NAME, self.service or "a"):
            raise ValueError(
                f"step {self.name!r}: {self.service!r} is not a service name ({SERVICE_NAME})"
            )
        elif self.format == "tfrecord":
            raise ValueError(f"step {self.name!r}: format tfrecord is for evaluate steps")
        kind_fields = {"command", "working_dir", "model_dir", "inputs", "output", "format", "data"}
        kind_fields |= {"service", "model", "thresholds"}
        missing = sorted(f for f in needs if getattr(self, f) is None)
        extra = sorted(f for f in kind_fields - needs - optional if getattr(self, f) is not None)
        if missing:
            raise ValueError(f"step {self.name!r} of kind {self.kind} needs {', '.join(missing)}")
        if extra:
            raise ValueError(
                f"step {self.name!r} of kind {self.kind} does not take {', '.join(extra)}"
            )
        return self

    def templates(self) -> list[str]:
        """Every string of the step that may hold ``{{...}}`` references."""
        texts = [*(self.command or []), *(self.inputs or []), *self.env.values()]
        texts += [t for t in (self.working_dir, self.model_dir, self.output, self.data) if t]
        return texts

    def refs(self) -> list[str]:
        found = [r for t in self.templates() for r in ex.template_refs(t)]
        return found + (ex.condition_refs(self.when) if self.when else [])


class PipelineCreate(BaseModel):
    """A pipeline: named steps that form a DAG through ``depends_on``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=NAME_PATTERN, description="unique among your pipelines")
    description: str = Field(default="", max_length=4096)
    params: dict[ParamName, ParamValue] = Field(
        default_factory=dict,
        description="defaults of {{params.NAME}}; a run may override them",
        json_schema_extra={"additionalProperties": False},  # names must match the pattern
    )
    steps: list[StepSpec] = Field(min_length=1)

    @model_validator(mode="after")
    def _dag(self) -> PipelineCreate:
        if len(self.steps) > MAX_STEPS:
            raise ValueError(f"{len(self.steps)} steps; a pipeline has at most {MAX_STEPS}")
        names = [s.name for s in self.steps]
        dups = sorted({n for n in names if names.count(n) > 1})
        if dups:
            raise ValueError(f"duplicate step names: {', '.join(dups)}")
        for s in self.steps:
            unknown = sorted(set(s.depends_on) - set(names))
            if unknown:
                raise ValueError(f"step {s.name!r} depends on unknown steps: {', '.join(unknown)}")
        cycle = find_cycle({s.name: s.depends_on for s in self.steps})
        if cycle:
            raise ValueError(
                f"the steps form a cycle: {' -> '.join(cycle)} (each depends on the next)"
            )
        ancestors = ancestors_of({s.name: s.depends_on for s in self.steps})
        for s in self.steps:
            try:
                refs = s.refs()
            except ex.ExpressionError as e:
                raise ValueError(f"step {s.name!r}: {e}") from None
            for ref in refs:
                step = ex.step_of(ref)
                if step is None and ref.split(".")[1] not in self.params:
                    raise ValueError(f"step {s.name!r} uses {ref}, which is not in params")
                if step is not None and step not in ancestors[s.name]:
                    raise ValueError(
                        f"step {s.name!r} uses {ref}, but {step!r} is not among the steps it "
                        "depends on (add it to depends_on)"
                    )
        return self


def find_cycle(graph: dict[str, list[str]]) -> list[str]:
    """A cycle of ``graph`` (node -> dependencies) as ``[a, b, ..., a]``, or ``[]``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for dep in graph[node]:
            if state.get(dep) == 1:
                return [*path[path.index(dep) :], dep]
            if dep not in state:
                found = visit(dep)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def ancestors_of(graph: dict[str, list[str]]) -> dict[str, set[str]]:
    """Every node's transitive dependencies (``graph`` must be acyclic)."""
    memo: dict[str, set[str]] = {}

    def of(node: str) -> set[str]:
        if node not in memo:
            memo[node] = set()
            for dep in graph[node]:
                memo[node] |= {dep} | of(dep)
        return memo[node]

    return {n: of(n) for n in graph}


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    params: dict[ParamName, ParamValue] = Field(
        default_factory=dict,
        description="override the pipeline's params (known names only)",
        json_schema_extra={"additionalProperties": False},  # names must match the pattern
    )


class PipelinePublic(BaseModel):
    id: int
    name: str
    user: str
    description: str
    params: dict[str, Any]
    steps: list[dict[str, Any]]
    created_at: UTCDatetime


class PipelinesPublic(BaseModel):
    data: list[PipelinePublic]
    count: int


class StepRunPublic(BaseModel):
    name: str
    kind: str
    depends_on: list[str]
    state: StepState
    job_id: int | None = Field(description="the job that runs the step (its logs, artifacts)")
    reason: str
    outputs: dict[str, Any] = Field(description="the outputs.json the step wrote")
    artifacts_dir: str | None
    started_at: UTCDatetime | None
    finished_at: UTCDatetime | None


class RunPublic(BaseModel):
    id: int
    pipeline: str
    user: str
    state: RunState
    reason: str
    degraded: bool = Field(description="an evaluation step crossed one of its thresholds")
    trigger: str = Field(description="'' (started through the API) or 'schedule:<fire id>'")
    params: dict[str, Any]
    steps: list[StepRunPublic]
    created_at: UTCDatetime
    finished_at: UTCDatetime | None


class RunsPublic(BaseModel):
    data: list[RunPublic]
    count: int
