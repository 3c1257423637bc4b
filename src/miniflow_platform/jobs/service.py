"""Job logic: create, list, cancel, delete, logs, artifacts; and the scheduler's two steps.

``start_queued`` and ``sync_running`` are what the scheduler calls each tick; they
are the only code that moves a job out of QUEUED or RUNNING on its own.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from datetime import timedelta
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
from miniflow_platform.jobs.models import (
    RETRYABLE,
    TERMINAL,
    TRANSITIONS,
    Job,
    JobKind,
    JobState,
    QueueReason,
)
from miniflow_platform.jobs.schemas import JobBase
from miniflow_platform.paths import is_within, safe_join
from miniflow_platform.uploads import archive, service as uploads


def job_dir(p: Platform, job_id: int) -> Path:
    return p.settings.data_dir / run_id(job_id)


def run_id(job_id: int) -> str:
    """The executor's id of the job's run (its directory under the data dir, locally)."""
    return f"jobs/job-{job_id}"


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
    code_upload_id: int | None = None,
) -> Job:
    res = body.resources
    memory_mb = res.memory_mb or p.settings.default_job_memory_mb
    check_limits(p, body)
    if body.python_env is not None:
        check_user_path(p, session, user, body.python_env, "python_env")
    if working_dir is not None:
        if not check_user_path(p, session, user, working_dir, "working_dir").is_dir():
            raise InvalidRequest(f"working_dir {working_dir!r} is not a directory")
    archive_bytes = _decode_archive(code_archive_b64) if code_archive_b64 else None
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
        pids=res.pids or p.settings.default_pids_limit,
        priority=body.priority,
        timeout_s=body.timeout_s,
        max_retries=body.max_retries,
        retry_backoff_s=body.retry_backoff_s,
        attempts=[],
        details=details or {},
    )
    session.add(job)
    session.flush()
    (job_dir(p, job.id) / "artifacts").mkdir(parents=True, exist_ok=True)
    code = job_dir(p, job.id) / "code"
    try:
        if archive_bytes is not None:
            _unpack_bytes(p, session, user, archive_bytes, code)
        elif code_upload_id is not None:
            uploads.unpack_for(p, session, user, code_upload_id, code)
    except Exception:
        session.rollback()
        p.executor.remove(run_id(job.id))
        raise
    if archive_bytes is not None or code_upload_id is not None:
        job.working_dir = str(code)
    session.commit()
    return job


def check_limits(p: Platform, body: JobBase) -> None:
    """The server's limits on a job request: resources it could never give (whatever else
    runs), and sizes and counts the schema cannot know."""
    res = body.resources
    memory_mb = res.memory_mb or p.settings.default_job_memory_mb
    usage.check_possible(p.settings, res.cpu, memory_mb, res.gpu)
    limits = p.settings.limits
    command = getattr(body, "command", None)
    if command is not None and not command[0]:
        raise InvalidRequest("command[0] is empty: give the program to run, then its arguments")
    env_bytes = sum(len(k.encode()) + len(v.encode()) for k, v in body.env.items())
    if len(body.env) > limits.max_env_vars:
        raise InvalidRequest(
            f"env has {len(body.env)} variables; the limit is {limits.max_env_vars} "
            "(limits.max_env_vars)",
            {"limit": limits.max_env_vars},
        )
    if env_bytes > limits.max_env_bytes:
        raise InvalidRequest(
            f"env is {env_bytes} bytes (names + values); the limit is {limits.max_env_bytes} "
            "(limits.max_env_bytes)",
            {"limit_bytes": limits.max_env_bytes},
        )
    pids = body.resources.pids
    if pids is not None and pids > limits.max_pids:
        raise InvalidRequest(
            f"resources.pids {pids} is over the server's limit of {limits.max_pids} "
            "(limits.max_pids)",
            {"limit": limits.max_pids},
        )
    if body.max_retries > limits.max_retries:
        raise InvalidRequest(
            f"max_retries {body.max_retries} is over the server's limit of "
            f"{limits.max_retries} (limits.max_retries)",
            {"limit": limits.max_retries},
        )


def _decode_archive(b64: str) -> bytes:
    try:
        return base64.b64decode(b64, validate=True)
    except (binascii.Error, ValueError) as e:
        raise InvalidRequest(f"code_archive_b64 is not valid base64: {e}") from e


def _unpack_bytes(p: Platform, session: Session, user: User, data: bytes, dest: Path) -> None:
    """An inline archive goes through the same checks as an upload."""
    with tempfile.NamedTemporaryFile(dir=p.settings.data_dir, suffix=".archive") as f:
        f.write(data)
        f.flush()
        summary = archive.inspect(Path(f.name), p.settings.limits)
        uploads.unpack_file(p, session, user.id, Path(f.name), dest, summary.unpacked_bytes)


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
            rid = run_id(job.id)
            p.executor.cancel(rid)
            status = p.executor.status(rid)
            transition(
                session,
                job,
                JobState.CANCELLED,
                reason=reason,
                finished_at=utcnow(),
                exit_code=status.exit_code,
            )
            p.executor.release(rid)
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
        p.executor.remove(run_id(job.id))


def list_artifacts(p: Platform, job: Job) -> list[str]:
    return p.executor.storage.list(p.executor.artifacts_prefix(run_id(job.id)))


def artifact_path(p: Platform, job: Job, relative: str) -> Path:
    path = safe_join(artifacts_dir(p, job), relative)
    if not path.is_file():
        raise NotFound(f"job {job.id} has no artifact {relative!r}")
    return path


# ---- scheduler steps -------------------------------------------------------------------


def start_queued(p: Platform, session: Session) -> int:
    """Start queued jobs in priority-then-FIFO order while they fit; returns how many started.

    A job over its owner's quota, or a retry still in its backoff, is skipped (others
    may run); a job that does not fit the free capacity stops the pass, so a big job at
    the head is never starved by smaller ones behind it. Every job left waiting gets
    its ``queue_reason``.
    """
    queued = session.scalars(
        select(Job).where(Job.state == JobState.QUEUED.value).order_by(Job.priority.desc(), Job.id)
    ).all()
    if not queued:
        return 0
    held = usage.current_usage(session)
    now = utcnow()
    started = 0
    blocker: Job | None = None
    for job in queued:
        if blocker is not None:
            _wait(
                job,
                QueueReason.PRIORITY,
                f"behind job {blocker.id} (priority {blocker.priority}), which waits for capacity",
            )
            continue
        if job.next_attempt_at is not None and job.next_attempt_at > now:
            _wait(
                job,
                QueueReason.BACKOFF,
                f"attempt {len(job.attempts or []) + 1} starts after its backoff, at "
                f"{job.next_attempt_at.isoformat(timespec='seconds')}Z",
            )
            continue
        mine = held.user(job.owner_id)
        why = usage.over_quota(p.settings, mine, job.cpu, job.memory_mb, job.gpu, is_job=True)
        if why:
            _wait(job, QueueReason.QUOTA, why)
            continue
        gpus = usage.allocate(p.settings, held.total, job.cpu, job.memory_mb, job.gpu)
        if gpus is None:
            _wait(job, QueueReason.CAPACITY, _capacity_message(p, held.total, job))
            blocker = job
            continue
        if _launch(p, session, job, gpus):
            held.total.add(job.cpu, job.memory_mb, gpus, True)
            mine.add(job.cpu, job.memory_mb, gpus, True)
            started += 1
    session.commit()
    return started


def _wait(job: Job, reason: QueueReason, message: str) -> None:
    if job.queue_reason != reason.value or job.queue_message != message:
        job.queue_reason, job.queue_message = reason.value, message


def _capacity_message(p: Platform, total: usage.Held, job: Job) -> str:
    s = p.settings
    free_gpus = len([g for g in s.gpus if g not in total.gpus])
    return (
        f"needs cpu {job.cpu}, memory {job.memory_mb} MiB, {job.gpu} GPU(s); free now: "
        f"cpu {max(0.0, s.capacity_cpu - total.cpu):g}, "
        f"memory {max(0, s.capacity_memory_mb - total.memory_mb)} MiB, {free_gpus} GPU(s)"
    )


def _launch(p: Platform, session: Session, job: Job, gpus: list[str]) -> bool:
    run_dir = job_dir(p, job.id)
    if not transition(
        session,
        job,
        JobState.RUNNING,
        started_at=utcnow(),
        finished_at=None,
        gpu_devices=gpus,
        queue_reason=None,
        queue_message="",
        next_attempt_at=None,
    ):
        return False
    env = p.base_env(job.python_env)
    env.update(
        {"MINIFLOW_JOB_ID": str(job.id), "MINIFLOW_ARTIFACTS_DIR": str(artifacts_dir(p, job))}
    )
    env.update(job.env)
    for hook in p.job_env_hooks:  # after the user's env: a job cannot pick another run
        env.update(hook(p, session, job))
    spec = RunSpec(
        command=job.command,
        run_dir=run_dir,
        cwd=Path(job.working_dir or artifacts_dir(p, job)),
        env=env,
        resources=Resources(
            cpu=job.cpu,
            memory_mb=job.memory_mb,
            gpu_devices=tuple(gpus),
            pids=job.pids or p.settings.default_pids_limit,
        ),
        timeout_s=job.timeout_s,
        tenant=job.owner_id,  # isolated executors run it as the owner's own uid
    )
    try:
        job.isolation = p.executor.start(run_id(job.id), spec)
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
    """Poll every RUNNING job and store the ones that ended (also the restart reconcile).

    A failed attempt of a job with retries left goes back to QUEUED with a backoff.
    """
    for job in session.scalars(select(Job).where(Job.state == JobState.RUNNING.value)).all():
        rid = run_id(job.id)
        status = p.executor.status(rid)
        if status.state == RunState.RUNNING:
            continue
        new = _OUTCOME.get(status.state) or (
            JobState.SUCCEEDED if status.exit_code == 0 else JobState.FAILED
        )
        reason = status.reason
        if status.state == RunState.EXITED and status.exit_code:
            reason = reason or f"exited with code {status.exit_code}"
        attempts = list(job.attempts or [])
        if new in RETRYABLE and len(attempts) < (job.max_retries or 0):
            _retry(p, session, job, new, status.exit_code, reason)
        else:
            transition(
                session, job, new, exit_code=status.exit_code, reason=reason, finished_at=utcnow()
            )
        p.executor.release(rid)


def backoff_s(p: Platform, job: Job, retry: int) -> float:
    """Delay before retry number ``retry`` (1, 2, ...): base * 2**(retry-1), capped."""
    base = job.retry_backoff_s if job.retry_backoff_s is not None else 10.0
    return float(min(base * 2 ** (retry - 1), p.settings.limits.max_retry_delay_s))


def _retry(
    p: Platform, session: Session, job: Job, outcome: JobState, code: int | None, reason: str
) -> None:
    attempts = list(job.attempts or [])
    now = utcnow()
    attempts.append(
        {
            "attempt": len(attempts) + 1,
            "state": outcome.value,
            "exit_code": code,
            "reason": reason,
            "started_at": job.started_at.isoformat() if job.started_at else None,
            "finished_at": now.isoformat(),
        }
    )
    delay = backoff_s(p, job, len(attempts))
    when = now + timedelta(seconds=delay)
    transition(
        session,
        job,
        JobState.QUEUED,
        attempts=attempts,
        exit_code=code,
        reason=f"attempt {len(attempts)} ended {outcome.value}: {reason}".rstrip(": "),
        next_attempt_at=when,
        queue_reason=QueueReason.BACKOFF.value,
        queue_message=f"retry {len(attempts)} of {job.max_retries} after {delay:g} s",
    )
    p.executor.append_log(
        run_id(job.id),
        f"\n--- miniflow platform: attempt {len(attempts)} ended {outcome.value}"
        f" ({reason or 'no reason'}); retry {len(attempts)} of {job.max_retries}"
        f" in {delay:g} s ---\n",
    )
