"""Request body of the batch prediction API (responses are ``JobPublic``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from miniflow_platform.jobs.schemas import JobBase, ModelSource


class PredictionCreate(JobBase, ModelSource):
    """Model (a directory, or a training job's artifact) + input file(s) + output path."""

    inputs: list[str] = Field(min_length=1, max_length=64)
    output: str | None = Field(
        default=None,
        max_length=4096,
        description="file (one input) or directory (several); default: in the job's artifacts",
    )
    format: Literal["libsvm", "csv", "jsonl"] | None = None
