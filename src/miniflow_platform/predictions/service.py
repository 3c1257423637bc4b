"""Turn a prediction request into a job running `miniflow predict`."""

from __future__ import annotations

from sqlalchemy.orm import Session

from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.errors import NotFound
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.models import Job, JobKind
from miniflow_platform.paths import safe_join
from miniflow_platform.predictions.schemas import PredictionCreate

DEFAULT_OUTPUT = "predictions"


def resolve_model(
    p: Platform,
    session: Session,
    user: User,
    model_dir: str | None,
    model_job_id: int | None,
    model_path: str,
) -> tuple[str, int | None]:
    """The model directory of a request: a path, or a path inside one's own training job."""
    if model_job_id is None:
        assert model_dir is not None  # enforced by the request schema
        return str(jobs.check_user_path(p, session, user, model_dir, "model_dir")), None
    job = session.get(Job, model_job_id)
    if (
        job is None
        or job.kind != JobKind.TRAINING.value
        or not (user.is_admin or job.owner_id == user.id)
    ):
        raise NotFound(f"training job {model_job_id} not found")
    return str(safe_join(jobs.artifacts_dir(p, job), model_path)), job.id


def create_prediction(p: Platform, session: Session, user: User, body: PredictionCreate) -> Job:
    model_dir, source = resolve_model(
        p, session, user, body.model_dir, body.model_job_id, body.model_path
    )
    inputs = [str(jobs.check_user_path(p, session, user, i, "input")) for i in body.inputs]
    # Relative default output: the job's cwd is its artifacts directory.
    output = (
        str(jobs.check_user_path(p, session, user, body.output, "output"))
        if body.output
        else DEFAULT_OUTPUT + ("" if len(inputs) > 1 else ".txt")
    )
    fmt = ["--format", body.format] if body.format else []
    if len(inputs) == 1:
        command = [
            "miniflow",
            "predict",
            "--model-dir",
            model_dir,
            "--input",
            inputs[0],
            "--output",
            output,
            *fmt,
        ]
    else:
        command = [
            "python",
            "-m",
            "miniflow_platform.workloads.batch_predict",
            "--model-dir",
            model_dir,
            "--output-dir",
            output,
            *fmt,
            "--",
            *inputs,
        ]
    details = {
        "model_dir": model_dir,
        "model_job_id": source,
        "inputs": inputs,
        "output": output,
        "format": body.format,
    }
    return jobs.create_job(p, session, user, body, command, JobKind.PREDICTION, details=details)
