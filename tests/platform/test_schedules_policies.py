"""Schedule policies with a manual clock, in-process on a real SQLite database: concurrency
(allow / forbid / replace), catch-up (none / once / all, starting deadline), pause/resume,
DST, and the restart windows of a fire (no run twice). The scheduler step
(``fire_due``) is called directly; jobs are created but never started."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from miniflow_platform.auth import service as auth_service
from miniflow_platform.config import Settings
from miniflow_platform.jobs.models import Job
from miniflow_platform.main import build_platform
from miniflow_platform.pipelines import service as pipelines
from miniflow_platform.pipelines.models import PipelineRun
from miniflow_platform.pipelines.schemas import PipelineCreate, RunCreate
from miniflow_platform.schedules import service
from miniflow_platform.schedules.clock import ManualClock
from miniflow_platform.schedules.models import ScheduleFire
from miniflow_platform.schedules.schemas import ScheduleCreate

T0 = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)


@pytest.fixture
def env(tmp_path):
    settings = Settings(data_dir=tmp_path / "data", capacity_cpu=4, capacity_memory_mb=8192)
    p = build_platform(settings)
    p.clock = clock = ManualClock(T0)
    with p.sessions() as session:
        alice, _ = auth_service.create_user(session, "alice")
        session.commit()
        body = PipelineCreate.model_validate(
            {
                "name": "nightly",
                "params": {"scheduled_date": "", "rows": 10},
                "steps": [{"name": "only", "command": ["true"]}],
            }
        )
        pipelines.create_pipeline(p, session, alice, body)
        yield p, session, alice, clock
    p.executor.close()


def schedule(p, session, user, **fields):
    body = {"name": "s", "cron": "*/10 * * * * *", "pipeline": "nightly", **fields}
    return service.create_schedule(p, session, user, ScheduleCreate.model_validate(body))


def tick(p, session, clock, seconds: float = 0):
    clock.advance(seconds)
    service.fire_due(p, session)


def fires(session, s) -> list[ScheduleFire]:
    return list(reversed(service.history(session, s, 1000)))


def runs(session) -> list[PipelineRun]:
    return list(session.scalars(select(PipelineRun).order_by(PipelineRun.id)))


def end_run(p, session, run_id, user):
    pipelines.cancel_run(p, session, session.get(PipelineRun, run_id), user)


def at(seconds: float) -> datetime:
    return (T0 + timedelta(seconds=seconds)).replace(tzinfo=None)


def test_fires_at_each_time_with_the_time_in_its_params(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice)
    assert s.next_fire_at == at(10)
    tick(p, session, clock, 9.9)
    assert runs(session) == []
    tick(p, session, clock, 0.1)  # exactly on time
    tick(p, session, clock, 0.5)  # the same time is not fired again
    tick(p, session, clock, 10.2)
    assert [(f.scheduled_at, f.state) for f in fires(session, s)] == [
        (at(10), "FIRED"),
        (at(20), "FIRED"),
    ]
    first, second = runs(session)
    assert [f.run_id for f in fires(session, s)] == [first.id, second.id]
    assert first.trigger == f"schedule:{fires(session, s)[0].id}"
    assert first.params == {"scheduled_date": "2026-06-01", "rows": 10}
    assert fires(session, s)[1].fired_at == at(20.7)  # the actual time, from the clock
    assert service.active_runs(session, s) == [first.id, second.id]  # allow: both run


def test_forbid_skips_while_the_previous_run_is_active(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice, concurrency_policy="forbid")
    tick(p, session, clock, 10)
    tick(p, session, clock, 10)
    first = runs(session)[0]
    assert len(runs(session)) == 1
    f = fires(session, s)[1]
    assert (f.state, f.reason) == ("SKIPPED", f"run {first.id} still active (forbid)")
    end_run(p, session, first.id, alice)
    tick(p, session, clock, 10)
    assert [f.state for f in fires(session, s)] == ["FIRED", "SKIPPED", "FIRED"]
    assert len(runs(session)) == 2


def test_replace_cancels_the_active_run_and_its_jobs(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice, concurrency_policy="replace")
    tick(p, session, clock, 10)
    first = runs(session)[0]
    job_id = first.steps[0].job_id
    tick(p, session, clock, 10)
    session.refresh(first)
    assert first.state == "CANCELLED"
    assert session.get(Job, job_id).state == "CANCELLED"
    second = fires(session, s)[1]
    assert (second.state, second.reason) == ("FIRED", f"replaced run {first.id} (cancelled)")
    assert service.active_runs(session, s) == [second.run_id]


def test_allow_stops_at_the_active_runs_cap(env, monkeypatch):
    p, session, alice, clock = env
    monkeypatch.setattr(service, "MAX_ACTIVE_RUNS", 2)
    s = schedule(p, session, alice)
    for _ in range(3):
        tick(p, session, clock, 10)
    assert [f.state for f in fires(session, s)] == ["FIRED", "FIRED", "SKIPPED"]
    assert "at most 2 at once" in fires(session, s)[2].reason


@pytest.mark.parametrize(
    ("catch_up", "extra", "fired", "skipped"),
    [
        # down from t=0 to t=95: times 10..90 (9 of them) were missed
        ("once", {}, [90], 8),
        ("all", {"max_catchup": 3}, [70, 80, 90], 6),
        ("all", {"max_catchup": 20}, [10, 20, 30, 40, 50, 60, 70, 80, 90], 0),
        ("none", {"starting_deadline_s": 4}, [], 9),  # 90 is 5 s late
        ("none", {}, [90], 8),  # default deadline 60 s
        ("once", {"starting_deadline_s": 3}, [], 9),
        ("all", {"starting_deadline_s": 26}, [70, 80, 90], 6),
    ],
)
def test_catch_up_of_times_missed_while_down(env, catch_up, extra, fired, skipped):
    p, session, alice, clock = env
    s = schedule(p, session, alice, catch_up=catch_up, **extra)
    tick(p, session, clock, 95)  # the first tick after a long stop
    rows = fires(session, s)
    assert [f.scheduled_at for f in rows if f.state == "FIRED"] == [at(t) for t in fired]
    assert len(runs(session)) == len(fired)
    gaps = [f for f in rows if f.state == "SKIPPED"]
    if skipped:
        (gap,) = gaps
        assert gap.count == skipped and f"missed: {skipped} scheduled time(s)" in gap.reason
        assert gap.scheduled_at == at(10)
    else:
        assert gaps == []
    assert s.last_scheduled_at == at(90) and s.next_fire_at == at(100)
    tick(p, session, clock, 0)  # nothing is due twice
    assert len(fires(session, s)) == len(rows)


def test_many_missed_times_are_counted_without_running_them(env, monkeypatch):
    p, session, alice, clock = env
    monkeypatch.setattr(service, "COUNT_LIMIT", 50)
    s = schedule(p, session, alice, cron="* * * * * *")  # every second
    tick(p, session, clock, 3600.5)  # an hour down: 3600 missed times
    gap, fire = fires(session, s)
    assert fire.state == "FIRED" and fire.scheduled_at == at(3600)
    assert gap.state == "SKIPPED" and "at least 50" in gap.reason
    assert s.next_fire_at == at(3601)


def test_pause_and_resume(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice)
    tick(p, session, clock, 10)
    service.pause(p, session, s)
    assert s.paused and s.next_fire_at is None
    tick(p, session, clock, 60)
    assert len(fires(session, s)) == 1
    service.pause(p, session, s)  # idempotent
    service.resume(p, session, s)  # at t=70: the paused times are not run
    assert s.next_fire_at == at(80)
    tick(p, session, clock, 10)
    assert [f.scheduled_at for f in fires(session, s)] == [at(10), at(80)]
    service.resume(p, session, s)  # not paused: nothing changes
    assert s.next_fire_at == at(90)


def test_created_paused_does_not_fire(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice, paused=True)
    assert s.next_fire_at is None
    tick(p, session, clock, 100)
    assert fires(session, s) == []


def test_daily_schedule_across_dst_fires_once_a_day_at_local_time(env):
    p, session, alice, clock = env
    clock.set(datetime(2026, 10, 23, 12, tzinfo=UTC))
    s = schedule(p, session, alice, cron="30 2 * * *", timezone="Europe/Berlin")
    for _ in range(4 * 24 * 4):  # every 15 minutes through the autumn change
        tick(p, session, clock, 15 * 60)
    got = [f.scheduled_at for f in fires(session, s)]
    # hand-computed: 02:30 CEST = 00:30 UTC (Oct 24, and the first 02:30 of Oct 25);
    # 02:30 CET = 01:30 UTC (Oct 26, 27)
    assert got == [
        datetime(2026, 10, 24, 0, 30),
        datetime(2026, 10, 25, 0, 30),
        datetime(2026, 10, 26, 1, 30),
        datetime(2026, 10, 27, 1, 30),
    ]
    assert all(f.state == "FIRED" for f in fires(session, s))
    dates = [r.params["scheduled_date"] for r in runs(session)]
    assert dates == ["2026-10-24", "2026-10-25", "2026-10-26", "2026-10-27"]


def test_a_crash_after_the_decision_and_before_the_run_creates_it_once(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice)
    clock.advance(10)
    (fire,) = service._plan(session, s, clock())  # committed; the "crash" comes now
    assert fire.state == "SUBMITTING" and runs(session) == []
    assert s.next_fire_at == at(20)  # the time is not due again
    tick(p, session, clock, 0.1)  # the restart's first tick
    (run,) = runs(session)
    assert (fire.state, fire.run_id) == ("FIRED", run.id)
    tick(p, session, clock, 0.1)
    assert len(runs(session)) == 1


def test_a_crash_after_the_run_and_before_its_id_was_recorded_adopts_the_run(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice)
    clock.advance(10)
    (fire,) = service._plan(session, s, clock())
    pipeline = pipelines.get_pipeline(session, alice, "nightly")
    run = pipelines.create_run(p, session, alice, pipeline, RunCreate(), service.trigger(fire))
    tick(p, session, clock, 0.1)  # the restart's first tick finds the run by its trigger
    assert runs(session) == [run]
    assert (fire.state, fire.run_id) == ("FIRED", run.id)


def test_job_schedule_gets_the_time_in_its_env_and_is_adopted_by_name(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice, pipeline=None, job={"command": ["true"], "env": {"A": "1"}})
    clock.advance(10)
    (fire,) = service._plan(session, s, clock())
    tick(p, session, clock, 0)
    job = session.get(Job, fire.run_id)
    assert job.name == f"schedule:{fire.id}/s"
    assert job.env == {
        "A": "1",
        "MINIFLOW_SCHEDULED_AT": "2026-06-01T12:00:10Z",
        "MINIFLOW_SCHEDULED_DATE": "2026-06-01",
        "MINIFLOW_PREVIOUS_DATE": "2026-05-31",
    }
    assert job.details["schedule"] == "s"
    # the crash window after the job was created: the fire is adopted, not fired again
    fire.state, fire.run_id = "SUBMITTING", None
    session.commit()
    tick(p, session, clock, 0)
    assert fire.run_id == job.id
    assert len(list(session.scalars(select(Job)))) == 1


def test_a_run_that_cannot_be_created_is_a_failed_fire_and_the_schedule_goes_on(env):
    p, session, alice, clock = env
    s = schedule(p, session, alice)
    pipelines.delete_pipeline(p, session, pipelines.get_pipeline(session, alice, "nightly"))
    tick(p, session, clock, 10)
    (fire,) = fires(session, s)
    assert fire.state == "FAILED"
    assert fire.reason == "could not start: pipeline 'nightly' no longer exists"
    assert s.next_fire_at == at(20)
