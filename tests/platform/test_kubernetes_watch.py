"""Status through watches, on the fake API server: transitions seen as events, a dropped
stream resumed without missing or repeating events, 410 Gone re-listed, the fallback to
polling when watching keeps failing, and watch threads stopped on close.
"""

from __future__ import annotations

import logging
import threading
import time

import pytest

pytest.importorskip("kubernetes", reason="needs the kubernetes extra")

from executor_contract import Harness, free_port, wait_done  # noqa: E402
from kubernetes_fake import FakeKube, executors  # noqa: E402

from miniflow_platform.config import Settings  # noqa: E402
from miniflow_platform.executors import kube_watch  # noqa: E402
from miniflow_platform.executors.base import RunState  # noqa: E402

NS = "miniflow-t1"


@pytest.fixture
def fake(tmp_path):
    (tmp_path / "kubelet").mkdir()
    kube = FakeKube(tmp_path / "kubelet").start()
    kube.bookmark_s = 0.2
    try:
        yield kube
    finally:
        kube.stop()


@pytest.fixture
def h(fake, tmp_path, monkeypatch):
    monkeypatch.setattr(kube_watch, "BACKOFF_S", (0.05, 0.2))
    data = tmp_path / "data"
    data.mkdir()
    s = Settings(data_dir=data, executor="kubernetes", kube_service_host="127.0.0.1")
    with executors(fake) as make:
        yield Harness(make(s), data, lambda: make(s))


def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while not (got := check()):
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)
    return got


def api_reads(fake) -> int:
    """Requests other than watch streams."""
    return sum(1 for _m, _p, q in fake.requests if q.get("watch") != "true")


def watches(fake, plural: str) -> list[dict[str, str]]:
    return [q for _m, p, q in fake.requests if q.get("watch") == "true" and p.endswith(plural)]


def gated_job(h, rid: str, gate) -> None:
    code = (
        "import pathlib, time\n"
        f"while not pathlib.Path({str(gate)!r}).exists(): time.sleep(0.05)\n"
        "print('done')\n"
    )
    h.executor.start(rid, h.spec(rid, code))


def pod_of(fake, prefix: str) -> dict:
    (pod,) = [p for p in fake.all("pods") if p["metadata"]["name"].startswith(prefix)]
    return pod


def test_pending_running_succeeded_through_events_without_requests(h, fake, tmp_path):
    ex, gate = h.executor, tmp_path / "gate"
    gated_job(h, "jobs/job-1", gate)
    pods = ex.caches.cache("pods", NS)
    eventually(lambda: pods.items())
    name = pod_of(fake, "mf-jobs-job-1")["metadata"]["name"]

    def pending(pod):  # as the kubelet reports a pod whose image is being pulled
        pod["status"]["phase"] = "Pending"
        cs = pod["status"]["containerStatuses"][0]
        cs["state"] = {"waiting": {"reason": "ContainerCreating"}}

    fake.modify("pods", NS, name, pending)
    eventually(lambda: pods.get(name).status.phase == "Pending")
    ex.status("jobs/job-1")  # the first one lists the namespace's Jobs: its cache starts
    before = api_reads(fake)
    for _ in range(20):
        assert ex.status("jobs/job-1").state == RunState.RUNNING
    assert api_reads(fake) == before  # 20 status calls, 0 requests: the cache answers
    fake.modify("pods", NS, name, lambda p: p["status"].update(phase="Running"))
    eventually(lambda: pods.get(name).status.phase == "Running")
    assert ex.status("jobs/job-1").state == RunState.RUNNING
    gate.touch()
    status = wait_done(ex, "jobs/job-1")
    assert (status.state, status.exit_code) == (RunState.EXITED, 0)
    assert api_reads(fake) == before  # Complete came as an event as well
    kinds = [k for k, n, _ in pods.recent if n == name]
    assert kinds == ["MODIFIED"] * 3  # Pending, Running, Succeeded (after the list)


def test_polling_costs_two_requests_per_status_of_a_running_job(h, fake, tmp_path):
    """The same question with watches off: what the cache saves."""
    gate = tmp_path / "gate"
    with executors(fake) as make:
        ex = make(Settings(data_dir=h.data_dir, executor="kubernetes"), watch=False)
        gated_job(Harness(ex, h.data_dir, lambda: ex), "jobs/job-2", gate)
        ex.status("jobs/job-2")  # finds its namespace
        before = api_reads(fake)
        for _ in range(10):
            assert ex.status("jobs/job-2").state == RunState.RUNNING
        assert api_reads(fake) - before == 20  # the Job, then its pods
        assert ex.caches is None and watches(fake, "/pods") == []
        ex.cancel("jobs/job-2")


def test_a_vanished_notebook_pod_is_lost_through_its_deleted_event(h, fake):
    rid = "notebooks/nb-1"
    h.executor.start(rid, h.spec(rid, "import time; time.sleep(60)", port=free_port()))
    pods = h.executor.caches.cache("pods", NS)
    eventually(lambda: pods.get("mf-notebooks-nb-1"))
    fake.vanish("pods", NS, "mf-notebooks-nb-1")
    status = wait_done(h.executor, rid)
    assert status.state == RunState.LOST and "gone" in status.reason
    assert ("DELETED", "mf-notebooks-nb-1") in [(k, n) for k, n, _ in pods.recent]
    h.executor.cancel(rid)


def test_a_deadline_and_an_oom_kill_arrive_as_events(h, fake):
    ex = h.executor
    ex.start("jobs/job-3", h.spec("jobs/job-3", "import time; time.sleep(60)", timeout_s=1))
    code = "x = b'x' * (600 << 20); print(len(x))"
    from miniflow_platform.executors.base import Resources

    ex.status("jobs/job-3")  # the caches start: job-4 is seen only through events
    ex.start("jobs/job-4", h.spec("jobs/job-4", code, resources=Resources(memory_mb=100)))
    assert wait_done(ex, "jobs/job-3").state == RunState.TIMED_OUT
    oom = wait_done(ex, "jobs/job-4")
    assert (oom.state, oom.exit_code) == (RunState.OOM_KILLED, 137)
    jobs = [(k, n) for k, n, _ in ex.caches.cache("jobs", NS).recent]
    assert ("MODIFIED", "mf-jobs-job-3") in jobs and ("MODIFIED", "mf-jobs-job-4") in jobs


def test_a_dropped_stream_resumes_without_missing_or_repeating_events(h, fake, tmp_path):
    ex = h.executor
    gated_job(h, "jobs/job-5", tmp_path / "gate")
    pods = ex.caches.cache("pods", NS)
    name = eventually(lambda: [p.metadata.name for p in pods.items()])[0]
    eventually(lambda: len(watches(fake, "/pods")) >= 1)
    relists = pods.relists
    fake.drop_watch("pods", after=2)  # the stream breaks after two of the five changes
    for i in range(5):
        fake.modify(
            "pods", NS, name, lambda p, i=i: p["metadata"].update(annotations={"n": str(i)})
        )
    eventually(lambda: (pods.get(name).metadata.annotations or {}).get("n") == "4")
    want = [
        str(v)
        for v, t, p, _, o in fake.history
        if p == "pods" and t == "MODIFIED" and o["metadata"]["name"] == name
    ]
    got = [rv for k, n, rv in pods.recent if k == "MODIFIED" and n == name]
    assert got[-5:] == want[-5:] and len(set(got)) == len(got)  # each once, in order
    resumed = watches(fake, "/pods")[-1]["resourceVersion"]
    assert resumed == want[-4]  # from the last event it had: the second change
    assert pods.relists == relists  # resumed, not listed again
    ex.cancel("jobs/job-5")


@pytest.mark.parametrize("gone", ["event", "http"])
def test_410_gone_lists_again_and_converges(h, fake, tmp_path, gone):
    """Disconnected while a job vanishes and the history is compacted: only a new list
    can tell, since the DELETED event is gone with the history."""
    ex = h.executor
    gated_job(h, "jobs/job-6", tmp_path / "gate6")
    gated_job(h, "jobs/job-7", tmp_path / "gate7")
    jobs = ex.caches.cache("jobs", NS)
    eventually(lambda: jobs.get("mf-jobs-job-6") and jobs.get("mf-jobs-job-7"))
    relists = jobs.relists
    with fake.lock:  # nothing is sent in between
        if gone == "http":
            fake.fail_watches(1, 410, plural="jobs")
        fake.drop_watches()
        fake.vanish("jobs", NS, "mf-jobs-job-7")
        fake.modify(
            "jobs",
            NS,
            "mf-jobs-job-6",
            lambda j: j["metadata"].update(
                labels={**j["metadata"]["labels"], "seen": "after-relist"}
            ),
        )
        fake.compact()
    eventually(lambda: jobs.relists > relists)
    eventually(lambda: (jobs.get("mf-jobs-job-6").metadata.labels or {}).get("seen"))
    assert jobs.get("mf-jobs-job-7") is None
    assert wait_done(ex, "jobs/job-7").state == RunState.LOST
    assert ex.status("jobs/job-6").state == RunState.RUNNING
    assert jobs.usable
    ex.cancel("jobs/job-6")


def test_watching_that_keeps_failing_falls_back_to_polling_and_recovers(h, fake, caplog):
    ex = h.executor
    ex.start("jobs/job-8", h.spec("jobs/job-8", "import time; time.sleep(60)"))
    jobs = ex.caches.cache("jobs", NS)
    eventually(lambda: jobs.get("mf-jobs-job-8"))
    caplog.set_level(logging.WARNING, logger=kube_watch.__name__)
    with fake.lock:
        fake.fail_watches(1000, 500, plural="jobs")
        fake.drop_watches()
    eventually(lambda: not jobs.usable)
    assert "falls back to polling" in caplog.text
    before = api_reads(fake)
    assert ex.status("jobs/job-8").state == RunState.RUNNING
    assert api_reads(fake) > before  # polling: the API answered
    with fake.lock:
        fake.watch_faults.clear()  # the API server is back
    eventually(lambda: jobs.usable)  # the first event (a bookmark) brings it back
    assert "recovered" in caplog.text
    before = api_reads(fake)
    assert ex.status("jobs/job-8").state == RunState.RUNNING
    assert api_reads(fake) == before
    ex.cancel("jobs/job-8")


def test_a_status_right_after_start_and_cancel_is_consistent(h, fake):
    """Read-your-writes: a new object the cache has not seen is read from the API, one
    this server deleted leaves the cache at once."""
    ex = h.executor
    for i in range(3):
        rid = f"jobs/job-{10 + i}"
        ex.start(rid, h.spec(rid, "import time; time.sleep(60)"))
        assert ex.status(rid).state == RunState.RUNNING
        ex.cancel(rid)
        assert ex.status(rid).exit_code == -15
    assert ex.status("jobs/job-99").state == RunState.LOST


def test_close_stops_every_watch_thread(h, fake):
    ex = h.executor
    rid = "services/svc-1-g1"
    ex.start(rid, h.spec(rid, "import time; time.sleep(60)", port=free_port()))
    ex.status(rid)
    names = {t.name for t in threading.enumerate() if t.name.startswith("kube-watch-")}
    assert {"kube-watch-deployments-miniflow-t1", "kube-watch-pods-miniflow-t1"} <= names
    ex.cancel(rid)
    ex.close()
    assert not [t for t in threading.enumerate() if t.name.startswith("kube-watch-")]
    eventually(lambda: not fake.streams, timeout=10)  # the server saw them go
