"""The Kubernetes executor's logic against the fake API server: each state transition
and error (retries, OOMKilled, 409 conflicts, 404 on vanished objects, API errors,
dropped log streams), tenancy objects, adoption, and the platform's job flow on top.
"""

from __future__ import annotations

import sys
import time

import pytest

pytest.importorskip("kubernetes", reason="needs the kubernetes extra")

from executor_contract import Harness, free_port, wait_done  # noqa: E402
from kubernetes_fake import FakeKube, executors  # noqa: E402
from test_storage_backends import s3_endpoint, s3_env  # noqa: E402, F401  fixtures

from miniflow_platform.config import Settings  # noqa: E402
from miniflow_platform.executors.base import RunState  # noqa: E402
from miniflow_platform.executors.kubernetes import KubernetesError  # noqa: E402


@pytest.fixture
def fake(tmp_path):
    (tmp_path / "kubelet").mkdir()
    kube = FakeKube(tmp_path / "kubelet").start()
    try:
        yield kube
    finally:
        kube.stop()


def settings(tmp_path, **kw) -> Settings:
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    return Settings(data_dir=data, executor="kubernetes", kube_service_host="127.0.0.1", **kw)


@pytest.fixture
def make(fake):
    """make(settings, **kw) -> an executor on the fake, closed after the test."""
    with executors(fake) as make:
        yield make


@pytest.fixture
def h(make, tmp_path):
    s = settings(tmp_path, quota_cpu=4, quota_memory_mb=4096)
    return Harness(make(s), s.data_dir, lambda: make(s))


def requests(fake, method, part):
    return [(m, p, q) for m, p, q in fake.requests if m == method and part in p]


def test_a_failed_attempt_is_retried_up_to_the_backoff_limit(h, fake):
    code = (
        "import pathlib, sys\n"
        "p = pathlib.Path('attempts')\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        "print('attempt', n)\n"
        "sys.exit(0 if n else 2)\n"
    )
    h.executor.start("jobs/job-1", h.spec("jobs/job-1", code, max_retries=1))
    status = wait_done(h.executor, "jobs/job-1")
    assert (status.state, status.exit_code) == (RunState.EXITED, 0)
    assert len(fake.all("pods")) == 2  # the first pod failed, the Job made a second
    assert h.executor.read_log("jobs/job-1") == b"attempt 1\n"  # the newest pod's log


def test_exhausted_retries_report_the_last_exit_code(h, fake):
    spec = h.spec("jobs/job-2", "raise SystemExit(4)", max_retries=1)
    h.executor.start("jobs/job-2", spec)
    status = wait_done(h.executor, "jobs/job-2")
    assert (status.state, status.exit_code) == (RunState.EXITED, 4)
    assert len(fake.all("pods")) == 2


def test_a_deployment_pod_killed_for_memory_is_oom_killed(h, fake):
    port = free_port()
    rid = "services/svc-2-g1"
    code = "import time\ntime.sleep(60)"
    h.executor.start(rid, h.spec(rid, code, port=port))
    assert h.executor.status(rid).state == RunState.RUNNING
    (pod,) = fake.all("pods")

    def oom_killed(pod):  # what the kubelet reports after the kernel's OOM killer
        cs = pod["status"]["containerStatuses"][0]
        cs["lastState"] = {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}
        cs["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
        cs["restartCount"] = 1

    fake.modify("pods", "miniflow-t1", pod["metadata"]["name"], oom_killed)
    status = wait_done(h.executor, rid)  # the MODIFIED event reaches the cache
    assert (status.state, status.exit_code) == (RunState.OOM_KILLED, 137)
    h.executor.cancel(rid)


def test_a_crashed_service_ends_with_its_exit_code(h):
    rid = "services/svc-3-g1"
    h.executor.start(rid, h.spec(rid, "raise SystemExit(5)", port=free_port()))
    status = wait_done(h.executor, rid)
    assert (status.state, status.exit_code) == (RunState.EXITED, 5)
    h.executor.release(rid)


def test_starting_a_run_again_replaces_its_old_job_after_a_409(h, fake):
    ex = h.executor
    ex.start("jobs/job-3", h.spec("jobs/job-3", "print('first')"))
    wait_done(ex, "jobs/job-3")
    ex.start("jobs/job-3", h.spec("jobs/job-3", "print('second')"))  # the platform's retry
    assert wait_done(ex, "jobs/job-3").exit_code == 0
    assert ex.read_log("jobs/job-3") == b"second\n"
    deletes = requests(fake, "DELETE", "/jobs/mf-jobs-job-3")
    assert deletes and deletes[0][2]["propagationPolicy"] == "Foreground"
    assert len(fake.all("jobs")) == 1


def test_cancel_deletes_the_job_in_the_foreground_with_its_pods_and_secret(h, fake):
    ex = h.executor
    ex.start("jobs/job-4", h.spec("jobs/job-4", "import time; time.sleep(60)"))
    assert fake.get("secrets", "miniflow-t1", "mf-jobs-job-4-env") is not None
    ex.cancel("jobs/job-4")
    (delete,) = requests(fake, "DELETE", "/jobs/mf-jobs-job-4")
    assert delete[2]["propagationPolicy"] == "Foreground"
    assert fake.all("pods") == [] and fake.all("jobs") == []
    assert fake.get("secrets", "miniflow-t1", "mf-jobs-job-4-env") is None
    assert ex.status("jobs/job-4").exit_code == -15
    ex.cancel("jobs/job-4")  # twice: nothing left, no error


def test_the_environment_is_a_secret_and_reaches_the_process(h, fake):
    spec = h.spec("jobs/job-5", "import os; print(os.environ['API_KEY'])")
    spec.env["API_KEY"] = "k-123"
    h.executor.start("jobs/job-5", spec)
    wait_done(h.executor, "jobs/job-5")
    assert h.executor.read_log("jobs/job-5") == b"k-123\n"
    (job,) = fake.all("jobs")
    assert "k-123" not in str(job)


def test_an_api_error_on_create_is_an_os_error_naming_it(h, fake):
    fake.fail_next("POST", "/jobs", 500)
    with pytest.raises(KubernetesError, match="500") as e:
        h.executor.start("jobs/job-6", h.spec("jobs/job-6", "pass"))
    assert isinstance(e.value, OSError)  # jobs.service marks the job FAILED "could not start"


def test_forbidden_is_reported_with_the_servers_message(h, fake, make):
    # Polling (a watch cache answers without a request); a job still running, so that
    # status lists its pods (a completed Job answers first).
    ex = make(settings(h.data_dir.parent), watch=False)
    ex.start("jobs/job-7", h.spec("jobs/job-7", "import time; time.sleep(60)"))
    fake.fail_next("GET", "/pods", 403)
    try:
        with pytest.raises(KubernetesError, match="403 injected fault"):
            ex.status("jobs/job-7")
    finally:
        ex.cancel("jobs/job-7")


def test_a_vanished_job_is_lost(h, fake):
    h.executor.start("jobs/job-8", h.spec("jobs/job-8", "import time; time.sleep(60)"))
    fake.vanish("jobs", "miniflow-t1", "mf-jobs-job-8")
    status = wait_done(h.executor, "jobs/job-8")  # once the DELETED event is in
    assert status.state == RunState.LOST and "gone" in status.reason
    for pod in fake.all("pods"):
        fake.vanish("pods", pod["metadata"]["namespace"], pod["metadata"]["name"])


def test_a_vanished_pod_gives_an_empty_log_not_an_error(h, fake):
    h.executor.start("jobs/job-9", h.spec("jobs/job-9", "import time; time.sleep(60)"))
    (pod,) = fake.all("pods")
    fake.fail_next("GET", f"/pods/{pod['metadata']['name']}/log", 404)
    assert h.executor.read_log("jobs/job-9") == b""
    fake.vanish("pods", "miniflow-t1", pod["metadata"]["name"])
    assert h.executor.read_log("jobs/job-9") == b""
    assert h.executor.status("jobs/job-9").state == RunState.RUNNING  # the Job still is
    h.executor.cancel("jobs/job-9")


def test_an_image_that_cannot_exist_fails_the_run(h, make):
    ex = make(settings(h.data_dir.parent, kube_image="Registry/MiniFlow:1"))
    ex.start("jobs/job-10", h.spec("jobs/job-10", "pass"))
    status = wait_done(ex, "jobs/job-10")  # once the pod's ADDED event is in
    assert (status.state, status.exit_code) == (RunState.EXITED, 127)
    assert "InvalidImageName" in status.reason


def test_a_dropped_log_stream_is_reopened_without_repeating_bytes(h, fake):
    code = "import time\nfor i in range(6):\n    print('line', i, flush=True); time.sleep(0.2)"
    h.executor.start("jobs/job-11", h.spec("jobs/job-11", code))
    fake.drop_follow_after = 9  # mid-line: "line 0\nli" then the connection closes
    got = b"".join(h.executor.logs("jobs/job-11", follow=True))
    assert got == b"".join(b"line %d\n" % i for i in range(6))
    follows = [r for r in fake.requests if r[0] == "GET" and r[2].get("follow") == "true"]
    assert len(follows) >= 2


def test_tenant_objects_are_made_once_and_tolerate_existing_ones(h, fake):
    ex = h.executor
    ex.start("jobs/job-12", h.spec("jobs/job-12", "pass"))
    ex.start("jobs/job-13", h.spec("jobs/job-13", "pass"))
    assert (
        len(requests(fake, "POST", "/api/v1/namespaces"))
        - len(requests(fake, "POST", "/api/v1/namespaces/"))
        == 1
    )
    quota = fake.get("resourcequotas", "miniflow-t1", "miniflow-quota")
    assert quota["spec"]["hard"]["limits.memory"] == "4096Mi"
    assert fake.get("networkpolicies", "miniflow-t1", "miniflow-tenant-isolation") is not None
    again = h.reopen()  # a restarted server: everything exists already (409) -> replaced
    again.start("jobs/job-14", h.spec("jobs/job-14", "pass"))
    assert requests(fake, "PUT", "/resourcequotas/miniflow-quota")
    wait_done(again, "jobs/job-14")


def test_a_restarted_server_adopts_what_runs_and_marks_what_vanished(h, fake):
    ex = h.executor
    ex.start("jobs/job-15", h.spec("jobs/job-15", "import time; time.sleep(60)"))
    ex.start("jobs/job-16", h.spec("jobs/job-16", "import time; time.sleep(60)"))
    fake.vanish("jobs", "miniflow-t1", "mf-jobs-job-16")
    again = h.reopen()
    assert again.list_runs() == {"jobs/job-15": "miniflow-t1", "jobs/job-16": "miniflow-t1"}
    assert again.status("jobs/job-15").state == RunState.RUNNING
    assert again.status("jobs/job-16").state == RunState.LOST
    again.cancel("jobs/job-15")
    again.cancel("jobs/job-16")


def test_the_deadline_of_a_notebook_pod_is_timed_out(h):
    rid = "notebooks/nb-1"
    code = "import time\ntime.sleep(60)"
    h.executor.start(rid, h.spec(rid, code, port=free_port(), timeout_s=1))
    assert wait_done(h.executor, rid).state == RunState.TIMED_OUT
    h.executor.release(rid)


@pytest.fixture
def kube_platform(make, tmp_path):
    """(platform, session, user alice): jobs.service on the Kubernetes executor."""
    from miniflow_platform.auth.service import create_user
    from miniflow_platform.main import build_platform

    s = settings(tmp_path, capacity_cpu=4, capacity_memory_mb=4000)
    p = build_platform(s, executor=make(s))
    session = p.sessions()
    try:
        alice, _ = create_user(session, "alice")
        yield p, session, alice
    finally:
        session.close()


def test_the_platform_runs_a_job_on_kubernetes(fake, kube_platform):
    """jobs.service through the contract: start, sync, artifacts, logs, cancel."""
    from miniflow_platform.jobs import service
    from miniflow_platform.jobs.models import JobState
    from miniflow_platform.jobs.schemas import JobBase, ResourcesSpec

    p, session, alice = kube_platform
    body = JobBase(name="train", resources=ResourcesSpec(cpu=1, memory_mb=256))
    code = (
        "import os, pathlib\n"
        "d = pathlib.Path(os.environ['MINIFLOW_ARTIFACTS_DIR'])\n"
        "(d / 'weights.txt').write_text('1 2 3')\n"
        "print('trained')\n"
    )
    job = service.create_job(p, session, alice, body, [sys.executable, "-c", code])
    assert service.start_queued(p, session) == 1
    (k8s_job,) = fake.all("jobs")
    assert k8s_job["metadata"]["namespace"] == f"miniflow-t{alice.id}"
    deadline = time.monotonic() + 60
    while session.get(type(job), job.id).state == JobState.RUNNING.value:
        assert time.monotonic() < deadline
        service.sync_running(p, session)
        time.sleep(0.1)
    assert job.state == JobState.SUCCEEDED.value
    assert service.list_artifacts(p, job) == ["weights.txt"]
    assert p.executor.read_log(service.run_id(job.id)) == b"trained\n"  # kept after release
    assert fake.all("jobs") == []  # released: the cluster keeps nothing of an ended run

    sleeper = service.create_job(
        p, session, alice, body, [sys.executable, "-c", "import time; time.sleep(60)"]
    )
    service.start_queued(p, session)
    service.cancel_job(p, session, sleeper, alice)
    assert sleeper.state == JobState.CANCELLED.value
    assert fake.all("pods") == []


def test_with_s3_storage_artifacts_and_logs_go_to_the_bucket(make, tmp_path, request):
    """A real S3 HTTP server (moto, a subprocess): release uploads, remove deletes."""
    boto3 = pytest.importorskip("boto3")
    endpoint = request.getfixturevalue("s3_endpoint")
    request.getfixturevalue("s3_env")
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket="artifacts")
    s = settings(tmp_path, storage_url="s3://artifacts/platform", s3_endpoint_url=endpoint)
    ex = make(s)
    h = Harness(ex, s.data_dir, lambda: ex)
    code = (
        "import os, pathlib\n"
        "d = pathlib.Path(os.environ['MINIFLOW_ARTIFACTS_DIR'])\n"
        "(d / 'w.txt').write_text('0.25')\n"
        "print('done')\n"
    )
    ex.start("jobs/job-20", h.spec("jobs/job-20", code))
    assert wait_done(ex, "jobs/job-20").exit_code == 0
    ex.release("jobs/job-20")
    listed = boto3.client("s3", endpoint_url=endpoint).list_objects_v2(Bucket="artifacts")
    keys = sorted(o["Key"] for o in listed["Contents"])
    assert keys == [
        "platform/jobs/job-20/artifacts/w.txt",
        "platform/jobs/job-20/final-status.json",
        "platform/jobs/job-20/output.log",
    ]
    assert ex.storage.list(ex.artifacts_prefix("jobs/job-20")) == ["w.txt"]
    assert ex.read_log("jobs/job-20") == b"done\n"  # from the bucket: the pod is gone
    ex.remove("jobs/job-20")
    assert ex.storage.list("jobs/job-20/") == []


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        ("kube_namespace_prefix", "Bad_Prefix", "string_pattern_mismatch"),
        ("kube_namespace_prefix", "x" * 41, "string_pattern_mismatch"),
        ("kube_image", "two words", "string_pattern_mismatch"),
        ("kube_images", {"gpu": ""}, "string_too_short"),
    ],
)
def test_bad_kubernetes_settings_are_refused(tmp_path, field, value, problem):
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=problem):
        Settings(data_dir=tmp_path, executor="kubernetes", **{field: value})


def test_serve_without_a_reachable_cluster_says_why(tmp_path, monkeypatch, capsys):
    from miniflow_platform import cli

    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing-kubeconfig"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    args = ["serve", "--data-dir", str(tmp_path), "--executor", "kubernetes"]
    assert cli.main([*args, "--kube-context", "nope"]) == 2
    assert "cannot connect to Kubernetes (context 'nope')" in capsys.readouterr().err
    assert cli.main([*args, "--environment-image", "gpu"]) == 2  # no '=IMAGE'
    assert "kube_images.gpu" in capsys.readouterr().err


def test_a_platform_retry_keeps_both_attempts_in_one_log(kube_platform):
    """As locally: attempt 1's output, the platform's retry note, then attempt 2's."""
    from miniflow_platform.jobs import service
    from miniflow_platform.jobs.models import JobState
    from miniflow_platform.jobs.schemas import JobBase, ResourcesSpec

    p, session, alice = kube_platform
    body = JobBase(
        name="flaky",
        resources=ResourcesSpec(cpu=1, memory_mb=256),
        max_retries=1,
        retry_backoff_s=0,
    )
    code = (
        "import pathlib, sys\n"
        "p = pathlib.Path('tries')\n"
        "n = int(p.read_text()) if p.exists() else 0\n"
        "p.write_text(str(n + 1))\n"
        "print('attempt', n + 1, flush=True)\n"
        "sys.exit(0 if n else 3)\n"
    )
    job = service.create_job(p, session, alice, body, [sys.executable, "-c", code])
    deadline = time.monotonic() + 90
    while session.get(type(job), job.id).state not in (JobState.SUCCEEDED.value, "FAILED"):
        assert time.monotonic() < deadline
        service.start_queued(p, session)
        service.sync_running(p, session)
        time.sleep(0.1)
    assert job.state == JobState.SUCCEEDED.value and len(job.attempts) == 1
    log = p.executor.read_log(service.run_id(job.id), 0, 1 << 20).decode()
    first, note, second = log.index("attempt 1"), log.index("retry 1 of 1"), log.index("attempt 2")
    assert first < note < second
    followed = b"".join(p.executor.logs(service.run_id(job.id), follow=True)).decode()
    assert followed == log
