"""Job logic: create, list, cancel, delete, logs, artifacts; and the scheduler's two steps.

``start_queued`` and ``sync_running`` are what the scheduler calls each tick; they
are the only code that moves a job out of QUEUED or RUNNING on its own.
"""

from __future__ import annotations

import base64
import binascii
import io
import tarfile
import zipfile
from pathlib import Path
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.orm import Session

from miniflow_platform import usage
from miniflow_platform.auth.models import User
from miniflow_platform.context import Platform
from miniflow_platform.db import utcnow
from miniflow_platform.errors import Conflict, InvalidRequest, NotFound
from miniflow_platform.executors.base import Resources, RunSpec, RunState
from miniflow_platform.jobs.models import TERMINAL, TRANSITIONS, Job, JobKind, JobState
from miniflow_platform.jobs.schemas import JobBase
from miniflow_platform.paths import is_within, safe_join


def job_dir(p: Platform, job_id: int) -> Path:
    return p.settings.data_dir / "jobs" / f"job-{job_id}"


def artifacts_dir(p: Platform, job: Job) -> Path:
    return job_dir(p, job.id) / "artifacts"


def check_user_path(p: Platform, session: Session, user: User, raw: str, what: str) -> Path:
    """A host path from a request. Inside the data dir only the user's own job dirs are allowed.

    Jobs run as the server's OS user (see docs/platform.md, trust model), so paths
    elsewhere are the user's business; but the API must not hand one user's logs or
    artifacts to another by way of a job input.
    """
    path = Path(raw)
    if not path.is_absolute():
        raise InvalidRequest(f"{what} must be an absolute path, got {raw!r}")
    data_dir = p.settings.data_dir
    if not is_within(path, data_dir):
        return path.resolve()
    jobs_root = (data_dir / "jobs").resolve()
    rel = path.resolve().relative_to(data_dir.resolve()) if is_within(path, jobs_root) else None
    if rel is not None and len(rel.parts) >= 2 and rel.parts[1].startswith("job-"):
        job = session.get(Job, _int(rel.parts[1][4:]))
        if job is not None and (user.is_admin or job.owner_id == user.id):
            return path.resolve()
    raise InvalidRequest(
        f"{what} {raw!r} points into the platform's data directory outside your own jobs"
    )


def _int(text: str) -> int:
    return int(text) if text.isdigit() else -1


def create_job(
    p: Platform,
    session: Session,
    user: User,
    body: JobBase,
    command: list[str],
    kind: JobKind = JobKind.TRAINING,
    working_dir: str | None = None,
    code_archive_b64: str | None = None,
    details: dict[str, Any] | None = None,
) -> Job:
    res = body.resources
    memory_mb = res.memory_mb or p.settings.default_job_memory_mb
    usage.check_possible(p.settings, res.cpu, memory_mb, res.gpu)
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    if working_dir is not None:
        if not check_user_path(p, session, user, working_dir, "working_dir").is_dir():
            raise InvalidRequest(f"working_dir {working_dir!r} is not a directory")
    archive = _decode_archive(code_archive_b64) if code_archive_b64 else None
    job = Job(
        kind=kind.value,
        owner_id=user.id,
        name=body.name,
        command=command,
        env=body.env,
        working_dir=working_dir,
        python_env=body.python_env,
        cpu=res.cpu,
        memory_mb=memory_mb,
        gpu=res.gpu,
        priority=body.priority,
        timeout_s=body.timeout_s,
        details=details or {},
    )
    session.add(job)
    session.flush()
    (job_dir(p, job.id) / "artifacts").mkdir(parents=True, exist_ok=True)
    if archive is not None:
        code = job_dir(p, job.id) / "code"
        _unpack(archive, code)
        job.working_dir = str(code)
    session.commit()
    return job


def _decode_archive(b64: str) -> bytes:
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidRequest(f"code_archive_b64 is not valid base64: {e}") from e


def _unpack(data: bytes, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as zf:
                for member in zf.namelist():
                    safe_join(dest, member)  # refuses ../ and absolute names
                zf.extractall(dest)
            return
        with tarfile.open(fileobj=io.BytesIO(data)) as tf:
            tf.extractall(dest, filter="data")  # "data" refuses links/paths out of dest
    except (tarfile.TarError, zipfile.BadZipFile, OSError, LookupError) as e:
        raise InvalidRequest(f"code archive is not a valid .tar.gz or .zip: {e}") from e


def list_jobs(
    session: Session,
    user: User,
    kind: JobKind,
    state: JobState | None = None,
    user_name: str | None = None,
) -> list[Job]:
    query = select(Job).where(Job.kind == kind.value).order_by(Job.id)
    if not user.is_admin:
        query = query.where(Job.owner_id == user.id)
    elif user_name is not None:
        query = query.join(Job.owner).where(User.name == user_name)
    if state is not None:
        query = query.where(Job.state == state.value)
    return list(session.scalars(query))


def transition(session: Session, job: Job, new: JobState, **fields: object) -> bool:
    """Move ``job`` to ``new`` if it is still in the state we read (compare-and-set)."""
    old = JobState(job.state)
    if new not in TRANSITIONS.get(old, frozenset()):
        raise Conflict(f"job {job.id} is {old.value}; it cannot become {new.value}")
    result = cast(
        CursorResult[Any],
        session.execute(
            update(Job)
            .where(Job.id == job.id, Job.state == old.value)
            .values(state=new.value, **fields)
        ),
    )
    session.commit()
    session.refresh(job)
    return result.rowcount == 1


def cancel_job(p: Platform, session: Session, job: Job, by: User) -> Job:
    with p.lock:
        session.refresh(job)
        reason = f"cancelled by {by.name}"
        if job.state == JobState.QUEUED.value:
            transition(session, job, JobState.CANCELLED, reason=reason, finished_at=utcnow())
        elif job.state == JobState.RUNNING.value:
            run_dir = job_dir(p, job.id)
            p.executor.cancel(run_dir)
            status = p.executor.poll(run_dir)
            transition(
                session,
                job,
                JobState.CANCELLED,
                reason=reason,
                finished_at=utcnow(),
                exit_code=status.exit_code,
            )
            p.executor.release(run_dir)
        else:
            raise Conflict(f"job {job.id} already ended ({job.state}); nothing to cancel")
    return job


def delete_job(p: Platform, session: Session, job: Job) -> None:
    with p.lock:  # under the lock, a QUEUED job cannot start while we delete it
        session.refresh(job)
        if job.state not in {s.value for s in TERMINAL} | {JobState.QUEUED.value}:
            raise Conflict(f"job {job.id} is {job.state}; cancel it before deleting it")
        session.delete(job)
        session.commit()
        p.executor.remove(job_dir(p, job.id))


def list_artifacts(p: Platform, job: Job) -> list[str]:
    root = artifacts_dir(p, job)
    if not root.is_dir():
        return []
    return sorted(str(f.relative_to(root)) for f in root.rglob("*") if f.is_file())


def artifact_path(p: Platform, job: Job, relative: str) -> Path:
    path = safe_join(artifacts_dir(p, job), relative)
    if not path.is_file():
        raise NotFound(f"job {job.id} has no artifact {relative!r}")
    return path


def log_path(p: Platform, job: Job) -> Path:
    return p.executor.log_path(job_dir(p, job.id))


# ---- scheduler steps -------------------------------------------------------------------


def start_queued(p: Platform, session: Session) -> int:
    """Start queued jobs in priority-then-FIFO order while they fit; returns how many started.

    A job over its owner's quota is skipped (others may run); a job that does not fit
    the free capacity stops the pass, so a big job at the head is never starved by
    smaller ones behind it.
    """
    queued = session.scalars(
        select(Job).where(Job.state == JobState.QUEUED.value).order_by(Job.priority.desc(), Job.id)
    ).all()
    if not queued:
        return 0
    held = usage.current_usage(session)
    started = 0
    for job in queued:
        mine = held.user(job.owner_id)
        if usage.over_quota(p.settings, mine, job.cpu, job.memory_mb, job.gpu, is_job=True):
            continue
        gpus = usage.allocate(p.settings, held.total, job.cpu, job.memory_mb, job.gpu)
        if gpus is None:
            break
        if _launch(p, session, job, gpus):
            held.total.add(job.cpu, job.memory_mb, gpus, True)
            mine.add(job.cpu, job.memory_mb, gpus, True)
            started += 1
    return started


def _launch(p: Platform, session: Session, job: Job, gpus: list[str]) -> bool:
    run_dir = job_dir(p, job.id)
    if not transition(session, job, JobState.RUNNING, started_at=utcnow(), gpu_devices=gpus):
        return False
    env = p.base_env(job.python_env)
    env.update(
        {"MINIFLOW_JOB_ID": str(job.id), "MINIFLOW_ARTIFACTS_DIR": str(artifacts_dir(p, job))}
    )
    env.update(job.env)
    spec = RunSpec(
        command=job.command,
        run_dir=run_dir,
        cwd=Path(job.working_dir or artifacts_dir(p, job)),
        env=env,
        resources=Resources(
            cpu=job.cpu,
            memory_mb=job.memory_mb,
            gpu_devices=tuple(gpus),
            pids=p.settings.default_pids_limit,
        ),
        timeout_s=job.timeout_s,
    )
    try:
        job.isolation = p.executor.submit(spec)
    except OSError as e:
        transition(
            session, job, JobState.FAILED, reason=f"could not start: {e}", finished_at=utcnow()
        )
        return False
    session.commit()
    return True


_OUTCOME = {
    RunState.OOM_KILLED: JobState.OOM_KILLED,
    RunState.TIMED_OUT: JobState.TIMED_OUT,
    RunState.LOST: JobState.FAILED,
}


def sync_running(p: Platform, session: Session) -> None:
    """Poll every RUNNING job and store the ones that ended (also the restart reconcile)."""
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING.value)).all():
        run_dir = job_dir(p, job.id)
        status = p.executor.poll(run_dir)
        if status.state == RunState.RUNNING:
            continue
        new = _OUTCOME.get(status.state) or (
            JobState.SUCCEEDED if status.exit_code == 0 else JobState.FAILED
        )
        reason = status.reason
        if status.state == RunState.EXITED and status.exit_code:
            reason = reason or f"exited with code {status.exit_code}"
        transition(
            session, job, new, exit_code=status.exit_code, reason=reason, finished_at=utcnow()
        )
        p.executor.release(run_dir)
