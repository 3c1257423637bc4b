"""Request body of the batch prediction API (responses are ``JobPublic``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from miniflow_platform.jobs.schemas import JobBase


class PredictionCreate(JobBase):
    """Model (a directory, or a training job's artifact) + input file(s) + output path."""

    model_dir: str | None = Field(default=None, max_length=4096,
                                  description="absolute path of a model base dir")
    model_job_id: int | None = Field(default=None, ge=1, le=2**53,
                                     description="use a training job's output instead")
    model_path: str = Field(default="model", max_length=1024,
                            description="with model_job_id: the model's path in its artifacts")
    inputs: list[str] = Field(min_length=1, max_length=64)
    output: str | None = Field(
        default=None, max_length=4096,
        description="file (one input) or directory (several); default: in the job's artifacts")
    format: Literal["libsvm", "csv", "jsonl"] | None = None

    @model_validator(mode="after")
    def _one_model(self) -> PredictionCreate:
        if (self.model_dir is None) == (self.model_job_id is None):
            raise ValueError("give exactly one of model_dir and model_job_id")
        return self
