"""Tracking logic: experiments, runs, logging with limits, search, comparison, and the
two hooks into jobs: ``job_env`` (a job's run and scoped token, when it starts) and
``sync_runs`` (the scheduler step that ends a job's run and ingests its outputs)."""

from __future__ import annotations

import re
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import CursorResult, and_, case, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from miniflow_platform.auth.models import User
from miniflow_platform.auth.service import hash_token
from miniflow_platform.context import Platform
from miniflow_platform.db import add_unique, utcnow
from miniflow_platform.errors import Conflict, InvalidRequest, NotFound
from miniflow_platform.jobs import service as jobs
from miniflow_platform.jobs.models import TERMINAL, Job, JobKind
from miniflow_platform.tracking import ingest, query
from miniflow_platform.tracking.models import (
    Experiment,
    LatestMetric,
    MetricPoint,
    RunParam,
    RunTag,
    TrackedRun,
)
from miniflow_platform.tracking.schemas import (
    DEFAULT_EXPERIMENT,
    EXPERIMENT_PATTERN,
    KEY_PATTERN,
    MAX_COMPARE,
    MAX_KEYS_PER_RUN,
    MAX_POINTS_PER_RUN,
    MAX_RUNS_LISTED,
    Comparison,
    LogBatch,
    MetricIn,
    RunCreate,
    RunPublic,
)

RUN_TOKEN_PREFIX = "mfr_"
ENDED = frozenset(s.value for s in TERMINAL)

# ---- experiments ------------------------------------------------------------------------


def experiment_named(session: Session, user: User, name: str, create: bool = False) -> Experiment:
    """The user's experiment ``name`` (experiments are per user, like every resource)."""
    found = session.scalar(
        select(Experiment).where(Experiment.owner_id == user.id, Experiment.name == name)
    )
    if found is None and create:
        return create_experiment(session, user.id, name)
    if found is None:
        raise NotFound(f"experiment {name!r} not found")
    return found


def create_experiment(
    session: Session, owner_id: int, name: str, description: str = ""
) -> Experiment:
    if not re.match(EXPERIMENT_PATTERN, name):
        raise InvalidRequest(f"experiment name {name!r} does not match {EXPERIMENT_PATTERN}")
    exp = Experiment(owner_id=owner_id, name=name, description=description)
    add_unique(session, exp, f"experiment {name!r} already exists", commit=False)
    return exp


def list_experiments(session: Session, user: User) -> list[tuple[Experiment, int]]:
    counts = dict(
        session.execute(
            select(TrackedRun.experiment_id, func.count())
            .where(TrackedRun.owner_id == user.id)
            .group_by(TrackedRun.experiment_id)
        ).all()
    )
    rows = session.scalars(
        select(Experiment).where(Experiment.owner_id == user.id).order_by(Experiment.id)
    )
    return [(e, counts.get(e.id, 0)) for e in rows]


# ---- runs -------------------------------------------------------------------------------


def readable_run(session: Session, user: User, run_id: int) -> TrackedRun:
    run = session.get(TrackedRun, run_id)
    if run is None or not (user.is_admin or run.owner_id == user.id):
        raise NotFound(f"run {run_id} not found")
    return run


def run_for_token(session: Session, token: str) -> TrackedRun | None:
    if not token.startswith(RUN_TOKEN_PREFIX):
        return None
    return session.scalar(select(TrackedRun).where(TrackedRun.token_hash == hash_token(token)))


def create_run(session: Session, user: User, experiment: str, body: RunCreate) -> TrackedRun:
    exp = experiment_named(session, user, experiment, create=experiment == DEFAULT_EXPERIMENT)
    run = TrackedRun(experiment_id=exp.id, owner_id=user.id, name=body.name)
    session.add(run)
    session.flush()
    log_batch(session, run, LogBatch(params=body.params, tags=body.tags))
    return run


def end_run(session: Session, run: TrackedRun, status: str) -> TrackedRun:
    if run.job_id is not None:
        raise Conflict(f"run {run.id} belongs to job {run.job_id}; it ends with the job")
    if run.ended:
        raise Conflict(f"run {run.id} already ended ({run.status})")
    run.status, run.ended, run.finished_at = status, True, utcnow()
    session.commit()
    return run


def job_env(p: Platform, session: Session, job: Job) -> dict[str, str]:
    """The tracking environment of a job about to start: its run (created on the first
    attempt, in the job's experiment) and a new scoped token that may log to that run
    only. The token's hash is stored; the token itself exists only in the job's env.
    Batch prediction jobs get no run."""
    if job.kind != JobKind.TRAINING.value:
        return {}
    run = session.scalar(select(TrackedRun).where(TrackedRun.job_id == job.id))
    if run is None:
        owner = session.get(User, job.owner_id)
        assert owner is not None
        name = str((job.details or {}).get("experiment") or DEFAULT_EXPERIMENT)
        exp = experiment_named(session, owner, name, create=True)
        run = TrackedRun(
            experiment_id=exp.id, owner_id=job.owner_id, job_id=job.id, name=job.name or ""
        )
        session.add(run)
    token = RUN_TOKEN_PREFIX + secrets.token_urlsafe(32)
    run.token_hash, run.status, run.ended = hash_token(token), "RUNNING", False
    session.flush()
    exp_name = session.get(Experiment, run.experiment_id).name  # type: ignore[union-attr]
    return {
        "MINIFLOW_TRACKING_URI": public_url(p),
        "MINIFLOW_TRACKING_TOKEN": token,
        "MINIFLOW_RUN_ID": str(run.id),
        "MINIFLOW_EXPERIMENT": exp_name,
    }


def public_url(p: Platform) -> str:
    host = p.settings.host
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{p.settings.port}"


# ---- logging ----------------------------------------------------------------------------


def log_batch(session: Session, run: TrackedRun, batch: LogBatch) -> None:
    """Store ``batch`` in ``run`` all or nothing. Params are write-once (a different
    value for a logged param is a conflict); tags overwrite. Two requests adding the same
    new name at once collide on its key: the loser is tried again on what the winner left."""
    for attempt in range(2):
        try:
            _log_batch(session, run, batch)
            return
        except IntegrityError:
            session.rollback()
            if attempt:
                raise Conflict(f"run {run.id} was written concurrently; send it again") from None


def _log_batch(session: Session, run: TrackedRun, batch: LogBatch) -> None:
    if run.ended and batch.metrics:
        raise Conflict(f"run {run.id} has ended ({run.status}); it takes no more metrics")
    existing = dict(
        session.execute(select(RunParam.key, RunParam.value).where(RunParam.run_id == run.id)).all()
    )
    for key, value in batch.params.items():
        if key in existing and existing[key] != value:
            raise Conflict(
                f"param {key!r} of run {run.id} is already {existing[key]!r}; params are "
                "write-once (log a tag or a metric for values that change)"
            )
    new_params = {k: v for k, v in batch.params.items() if k not in existing}
    _check_count(len(existing) + len(new_params), "params")
    tags = dict(
        session.execute(select(RunTag.key, RunTag.value).where(RunTag.run_id == run.id)).all()
    )
    _check_count(len(set(tags) | set(batch.tags)), "tags")
    latest = {
        m.key: m for m in session.scalars(select(LatestMetric).where(LatestMetric.run_id == run.id))
    }
    _check_count(len(set(latest) | {m.key for m in batch.metrics}), "metric names")
    points = sum(m.count for m in latest.values())
    if points + len(batch.metrics) > MAX_POINTS_PER_RUN:
        raise InvalidRequest(
            f"run {run.id} would have {points + len(batch.metrics)} metric points; the limit "
            f"is {MAX_POINTS_PER_RUN} per run"
        )
    for key, value in new_params.items():
        session.add(RunParam(run_id=run.id, key=key, value=value))
    for key, value in batch.tags.items():
        if key in tags:
            session.get(RunTag, (run.id, key)).value = value  # type: ignore[union-attr]
        else:
            session.add(RunTag(run_id=run.id, key=key, value=value))
    _add_points(session, run, [_point(m) for m in batch.metrics])
    session.commit()


def _check_count(n: int, what: str) -> None:
    if n > MAX_KEYS_PER_RUN:
        raise InvalidRequest(f"a run may have at most {MAX_KEYS_PER_RUN} {what}; this makes {n}")


def _point(m: MetricIn) -> tuple[str, int, float, float]:
    return m.key, m.step, m.value, m.timestamp if m.timestamp is not None else time.time()


def _add_points(
    session: Session, run: TrackedRun, points: list[tuple[str, int, float, float]]
) -> None:
    """Insert the points and move each name's latest value with one conditional UPDATE
    (or an INSERT for a new name), so concurrent requests never lose an update."""
    if not points:
        return
    session.execute(
        insert(MetricPoint),
        [
            {"run_id": run.id, "key": k, "step": s, "value": v, "timestamp": t}
            for k, s, v, t in points
        ],
    )
    newest: dict[str, tuple[int, float, float]] = {}
    counts: dict[str, int] = defaultdict(int)
    for key, step, value, ts in points:
        counts[key] += 1
        if key not in newest or (step, ts) >= newest[key][::2]:
            newest[key] = (step, value, ts)
    for key, (step, value, ts) in newest.items():
        later = or_(
            LatestMetric.step < step,
            and_(LatestMetric.step == step, LatestMetric.timestamp <= ts),
        )
        done = session.execute(
            update(LatestMetric)
            .where(LatestMetric.run_id == run.id, LatestMetric.key == key)
            .values(
                count=LatestMetric.count + counts[key],
                value=case((later, value), else_=LatestMetric.value),
                timestamp=case((later, ts), else_=LatestMetric.timestamp),
                step=case((later, step), else_=LatestMetric.step),
            )
        )
        if cast(CursorResult[Any], done).rowcount == 0:
            session.add(
                LatestMetric(
                    run_id=run.id, key=key, step=step, value=value, timestamp=ts, count=counts[key]
                )
            )
            session.flush()


# ---- reading ----------------------------------------------------------------------------


def publish(session: Session, runs: list[TrackedRun]) -> list[RunPublic]:
    """Public views of ``runs`` with three queries whatever their number."""
    ids = [r.id for r in runs]
    params: dict[int, dict[str, str]] = defaultdict(dict)
    tags: dict[int, dict[str, str]] = defaultdict(dict)
    metrics: dict[int, dict[str, float]] = defaultdict(dict)
    for model, into in ((RunParam, params), (RunTag, tags)):
        for run_id, key, value in session.execute(
            select(model.run_id, model.key, model.value).where(model.run_id.in_(ids))
        ):
            into[run_id][key] = value
    for run_id, key, value in session.execute(
        select(LatestMetric.run_id, LatestMetric.key, LatestMetric.value).where(
            LatestMetric.run_id.in_(ids)
        )
    ):
        metrics[run_id][key] = value
    names = dict(
        session.execute(
            select(Experiment.id, Experiment.name).where(
                Experiment.id.in_({r.experiment_id for r in runs})
            )
        ).all()
    )
    return [
        RunPublic(
            id=r.id,
            experiment=names.get(r.experiment_id, ""),
            name=r.name,
            job_id=r.job_id,
            status=r.status,
            params=dict(sorted(params[r.id].items())),
            tags=dict(sorted(tags[r.id].items())),
            metrics=dict(sorted(metrics[r.id].items())),
            created_at=r.created_at,
            finished_at=r.finished_at,
            ingest_note=r.ingest_note,
        )
        for r in runs
    ]


def search_runs(
    session: Session,
    exp: Experiment,
    filter_text: str | None,
    order_text: str | None,
    limit: int,
) -> list[RunPublic]:
    clauses = query.parse_filter(filter_text)
    orders = query.parse_order(order_text) or [query.Order("run", "id", True)]
    runs = list(
        session.scalars(
            select(TrackedRun)
            .where(TrackedRun.experiment_id == exp.id)
            .order_by(TrackedRun.id.desc())
            .limit(MAX_RUNS_LISTED * 10)
        )
    )
    views = publish(session, runs)
    rows = [v.model_dump() for v in views]
    by_id = {v.id: v for v in views}
    kept = query.sort_rows([r for r in rows if query.matches(r, clauses)], orders)
    return [by_id[r["id"]] for r in kept[: min(limit, MAX_RUNS_LISTED)]]


def compare(session: Session, user: User, ids: Iterable[int]) -> Comparison:
    wanted = list(dict.fromkeys(ids))
    if not 1 <= len(wanted) <= MAX_COMPARE:
        raise InvalidRequest(f"compare takes 1 to {MAX_COMPARE} run ids, got {len(wanted)}")
    views = publish(session, [readable_run(session, user, i) for i in wanted])
    param_keys = sorted({k for v in views for k in v.params})
    metric_keys = sorted({k for v in views for k in v.metrics})
    return Comparison(
        runs=views,
        params={k: [v.params.get(k) for v in views] for k in param_keys},
        metrics={k: [v.metrics.get(k) for v in views] for k in metric_keys},
    )


def history(session: Session, run: TrackedRun, key: str) -> list[MetricPoint]:
    points = list(
        session.scalars(
            select(MetricPoint)
            .where(MetricPoint.run_id == run.id, MetricPoint.key == key)
            .order_by(MetricPoint.step, MetricPoint.timestamp, MetricPoint.id)
        )
    )
    if not points:
        raise NotFound(f"run {run.id} has no metric {key!r}")
    return points


def artifacts(p: Platform, session: Session, run: TrackedRun) -> list[str]:
    job = session.get(Job, run.job_id) if run.job_id is not None else None
    return jobs.list_artifacts(p, job) if job is not None else []


# ---- the scheduler step -----------------------------------------------------------------


def sync_runs(p: Platform, session: Session) -> int:
    """End the runs of jobs that ended: revoke the scoped token, take the job's state,
    and ingest its metrics files and TensorBoard scalars. Returns how many ended."""
    rows = session.execute(
        select(TrackedRun, Job)
        .join(Job, Job.id == TrackedRun.job_id)
        .where(TrackedRun.ended.is_(False), Job.state.in_(ENDED))
    ).all()
    for run, job in rows:
        found = ingest.collect(jobs.artifacts_dir(p, job), job.command)
        notes = found.notes + _store_found(session, run, found)
        run.token_hash, run.ended, run.status = None, True, job.state
        run.finished_at = job.finished_at or utcnow()
        run.ingest_note = "; ".join(notes)[:4000]
        session.commit()
    return len(rows)


def _store_found(session: Session, run: TrackedRun, found: ingest.Found) -> list[str]:
    """Add what ingestion found, within the limits; points the job already logged
    itself (same name and step) are not added twice. Returns notes on what was left out."""
    notes = []
    params = {k: v for k, v in found.params.items() if re.match(KEY_PATTERN, k)}
    have = set(session.scalars(select(RunParam.key).where(RunParam.run_id == run.id)))
    room = MAX_KEYS_PER_RUN - len(have)
    for key, value in list(params.items())[: max(room, 0)]:
        if key not in have:
            session.add(RunParam(run_id=run.id, key=key, value=value))
    latest = {
        m.key: m for m in session.scalars(select(LatestMetric).where(LatestMetric.run_id == run.id))
    }
    logged = set(
        session.execute(
            select(MetricPoint.key, MetricPoint.step).where(MetricPoint.run_id == run.id)
        ).all()
    )
    room = MAX_POINTS_PER_RUN - sum(m.count for m in latest.values())
    fresh = [
        pt for pt in found.points if (pt[0], pt[1]) not in logged and re.match(KEY_PATTERN, pt[0])
    ]
    keys = set(latest)
    kept = []
    for pt in fresh:
        if pt[0] not in keys and len(keys) >= MAX_KEYS_PER_RUN:
            continue
        keys.add(pt[0])
        kept.append(pt)
    if len(kept) > room:
        notes.append(
            f"{len(kept) - room} metric points over the limit of {MAX_POINTS_PER_RUN} skipped"
        )
        kept = kept[: max(room, 0)]
    if len(kept) < len(fresh) and not notes:
        notes.append(
            f"{len(fresh) - len(kept)} metric points skipped (limit of {MAX_KEYS_PER_RUN} names)"
        )
    _add_points(session, run, kept)
    return notes


def as_dict(points: list[MetricPoint]) -> list[dict[str, Any]]:
    return [{"value": m.value, "step": m.step, "timestamp": m.timestamp} for m in points]
