"""Scheduling decisions (priority, FIFO, capacity, quotas, GPUs) with a fake executor."""

from __future__ import annotations

import pytest

from miniflow_platform.auth.service import create_user
from miniflow_platform.config import Settings
from miniflow_platform.executors.base import Endpoint, Executor, RunSpec, RunState, RunStatus
from miniflow_platform.jobs import service
from miniflow_platform.jobs.models import Job, JobState
from miniflow_platform.jobs.schemas import JobBase, ResourcesSpec
from miniflow_platform.main import build_platform


class FakeExecutor(Executor):
    """Records submissions; runs 'finish' when the test says so."""

    def __init__(self):
        self.started: list[RunSpec] = []
        self.finished: dict[str, int] = {}

    storage = None  # type: ignore[assignment]  # the scheduler never reads artifacts

    def start(self, run_id: str, spec: RunSpec) -> str:
        self.started.append(spec)
        return "fake"

    def status(self, run_id: str) -> RunStatus:
        name = run_id.rsplit("/", 1)[-1]
        if name in self.finished:
            return RunStatus(RunState.EXITED, self.finished[name])
        return RunStatus(RunState.RUNNING)

    def cancel(self, run_id: str) -> None:
        self.finished[run_id.rsplit("/", 1)[-1]] = -15

    def read_log(self, run_id: str, offset: int = 0, limit: int = 65536) -> bytes:
        return b""

    def endpoint(self, run_id: str, port: int) -> Endpoint:
        return Endpoint("127.0.0.1", port)


def make(tmp_path, **settings):
    fake = FakeExecutor()
    p = build_platform(
        Settings(data_dir=tmp_path, capacity_cpu=4, capacity_memory_mb=4000, **settings),
        executor=fake,
    )
    session = p.sessions()
    alice, _ = create_user(session, "alice")
    bob, _ = create_user(session, "bob")
    return p, session, fake, alice, bob


def add(p, session, user, name, cpu=1.0, memory_mb=100, gpu=0, priority=0) -> Job:
    body = JobBase(
        name=name, priority=priority, resources=ResourcesSpec(cpu=cpu, memory_mb=memory_mb, gpu=gpu)
    )
    return service.create_job(p, session, user, body, ["true"])


def started_names(session, fake) -> list[str]:
    ids = [int(s.run_dir.name.split("-")[1]) for s in fake.started]
    return [session.get(Job, i).name for i in ids]


def test_priority_then_fifo(tmp_path):
    p, s, fake, alice, _ = make(tmp_path)
    for name, prio in (("a", 0), ("b", 5), ("c", 0), ("d", 5)):
        add(p, s, alice, name, cpu=2, priority=prio)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["b", "d"]  # capacity 4 = two 2-CPU jobs
    fake.finished.update({"job-2": 0, "job-4": 0})
    service.sync_running(p, s)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["b", "d", "a", "c"]


def test_head_of_queue_is_not_starved_by_smaller_jobs(tmp_path):
    p, s, fake, alice, _ = make(tmp_path)
    add(p, s, alice, "running", cpu=2)
    service.start_queued(p, s)
    add(p, s, alice, "big", cpu=4)
    add(p, s, alice, "small", cpu=1)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["running"]  # "small" waits behind "big"


def test_user_quota_skips_only_that_user(tmp_path):
    p, s, fake, alice, bob = make(tmp_path, quota_cpu=1.0)
    add(p, s, alice, "a1")
    add(p, s, alice, "a2")
    add(p, s, bob, "b1")
    service.start_queued(p, s)
    assert started_names(s, fake) == ["a1", "b1"]


def test_running_jobs_quota(tmp_path):
    p, s, fake, alice, _ = make(tmp_path, quota_running_jobs=1)
    add(p, s, alice, "a1", cpu=0.5)
    add(p, s, alice, "a2", cpu=0.5)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["a1"]


def test_gpus_are_countable_devices(tmp_path):
    p, s, fake, alice, _ = make(tmp_path, gpus=["0", "1", "2"])
    add(p, s, alice, "two", cpu=0.5, gpu=2)
    add(p, s, alice, "two-more", cpu=0.5, gpu=2)
    add(p, s, alice, "one", cpu=0.5, gpu=1)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["two"]  # "two-more" must wait; "one" waits behind it
    assert fake.started[0].resources.gpu_devices == ("0", "1")
    fake.finished["job-1"] = 0
    service.sync_running(p, s)
    service.start_queued(p, s)
    assert started_names(s, fake) == ["two", "two-more", "one"]
    second, third = (set(s.resources.gpu_devices) for s in fake.started[1:3])
    assert second.isdisjoint(third)


def test_impossible_requests_are_refused_at_submit(tmp_path):
    from miniflow_platform.errors import InvalidRequest

    p, s, _, alice, _ = make(tmp_path, quota_memory_mb=1000)
    with pytest.raises(InvalidRequest, match="cpu 8.0 > capacity 4.0"):
        add(p, s, alice, "x", cpu=8)
    with pytest.raises(InvalidRequest, match="per-user quota"):
        add(p, s, alice, "x", memory_mb=2000)
    with pytest.raises(InvalidRequest, match="GPUs configured"):
        add(p, s, alice, "x", gpu=1)


def test_exit_codes_map_to_states_and_transitions_are_checked(tmp_path):
    from miniflow_platform.errors import Conflict

    p, s, fake, alice, _ = make(tmp_path)
    ok, bad = add(p, s, alice, "ok"), add(p, s, alice, "bad")
    service.start_queued(p, s)
    fake.finished.update({"job-1": 0, "job-2": 2})
    service.sync_running(p, s)
    s.refresh(ok)
    s.refresh(bad)
    assert (ok.state, bad.state, bad.exit_code) == ("SUCCEEDED", "FAILED", 2)
    assert "exited with code 2" in bad.reason
    with pytest.raises(Conflict, match="cannot become RUNNING"):
        service.transition(s, ok, JobState.RUNNING)
