"""Who owns what on disk, per-tenant uids, and run cgroups that never outlive their run.

Real jobs through a real server; each test names the isolation mode it ran under.
"""

from __future__ import annotations

import json
import os
import stat
import sys
import time
from pathlib import Path

import pytest
from platform_helpers import isolation_mode, kill_all_runs, submit, wait_for, wait_job

from miniflow_platform.config import Settings
from miniflow_platform.executors import Resources, RunSpec, RunState, get_executor, modes

MODE = isolation_mode()
isolated_only = pytest.mark.skipif(
    MODE != "isolated", reason=f"this machine cannot isolate jobs: {modes.probe().reason}"
)
SMALL = {"resources": {"cpu": 0.5, "memory_mb": 256}}
UID_BASE = Settings.model_fields["tenant_uid_base"].default


@pytest.fixture(autouse=True)
def _name_the_mode(record_property):
    record_property("isolation_mode", MODE)
    print(f"isolation mode: {MODE}")


def _mode(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


@isolated_only
def test_platform_and_tenant_ownership_on_disk(server, alice):
    me = alice.get("/v1/users/me").json()
    uid = UID_BASE + me["id"]
    job = submit(
        alice,
        "import os, pathlib; pathlib.Path('result.txt').write_text('r'); "
        "print('uid', os.getuid(), os.getgid(), os.getgroups())",
        env={"SECRET_TOKEN": "s3cret"},
        **SMALL,
    )
    done = wait_job(alice, job["id"])
    assert done["state"] == "SUCCEEDED", (MODE, done)
    assert f"uid {uid} {uid} []" in alice.get(f"/v1/jobs/{job['id']}/logs").text, MODE
    data = server.data_dir
    run = data / "jobs" / f"job-{job['id']}"
    me_uid = os.geteuid()
    assert _mode(data) == (0o700, me_uid, _mode(data)[2]), MODE  # DB, specs: the platform's
    assert _mode(run)[:2] == (0o700, me_uid), MODE
    assert _mode(run / "spec.json")[:2] == (0o600, me_uid), MODE  # holds SECRET_TOKEN
    assert "s3cret" in (run / "spec.json").read_text()
    assert _mode(run / "output.log") == (0o640, me_uid, uid), MODE  # platform + tenant group
    assert _mode(run / "artifacts") == (0o700, uid, uid), MODE
    assert _mode(run / "artifacts" / "result.txt") == (0o600, uid, uid), MODE  # umask 077


@isolated_only
def test_each_tenant_runs_as_its_own_uid(server, alice, bob):
    code = "import os; print('uid', os.getuid())"
    seen = {}
    for name, client in (("alice", alice), ("bob", bob), ("alice2", alice)):
        job = wait_job(client, submit(client, code, **SMALL)["id"])
        log = client.get(f"/v1/jobs/{job['id']}/logs").text
        seen[name] = int(log.split("uid ")[1].split()[0])
    assert seen["alice"] == seen["alice2"] == UID_BASE + alice.get("/v1/users/me").json()["id"]
    assert seen["bob"] == UID_BASE + bob.get("/v1/users/me").json()["id"] != seen["alice"], seen


@isolated_only
def test_a_tenant_reads_its_own_earlier_job_by_path(server, alice, bob):
    first = wait_job(
        alice,
        submit(alice, "import pathlib; pathlib.Path('m.txt').write_text('weights')", **SMALL)["id"],
    )
    path = server.data_dir.resolve() / "jobs" / f"job-{first['id']}" / "artifacts" / "m.txt"
    # Paths named on the command line (as `miniflow predict --model-dir` does) are exposed
    # when they belong to the job's own tenant, and only then.
    command = [sys.executable, "-c", "import sys; print('read', open(sys.argv[1]).read())"]
    for client, expect in ((alice, "read weights"), (bob, "No such file")):
        r = client.post("/v1/jobs", json={"command": [*command, str(path)], **SMALL})
        job = wait_job(client, r.json()["id"])
        assert expect in client.get(f"/v1/jobs/{job['id']}/logs").text, (MODE, expect)


def test_glob_inputs_under_a_private_ancestor_are_visible(alice, tmp_path_factory):
    """Batch-prediction inputs may be globs with a wildcard in a directory part
    (``/data/day=*/part-*.svm``): the sandbox exposes the directory above the first
    wildcard, read as the tenant. Pytest's temp root is 0700, so without that nothing
    under it is visible to the job ("input ... matches no file")."""
    data = tmp_path_factory.getbasetemp() / f"inputs-{os.getpid()}"  # under 0700 parents
    for day in (1, 2):
        (data / f"day={day}").mkdir(parents=True, exist_ok=True)
        (data / f"day={day}" / "part-0.svm").write_text(f"rows of day {day}\n")
    os.chmod(data, 0o755)
    pattern = str(data / "day=*" / "part-*.svm")
    code = (
        "import glob, sys; print('read', [open(f).read() for f in sorted(glob.glob(sys.argv[1]))])"
    )
    r = alice.post("/v1/jobs", json={"command": [sys.executable, "-c", code, pattern], **SMALL})
    job = wait_job(alice, r.json()["id"])
    log = alice.get(f"/v1/jobs/{job['id']}/logs").text
    assert "read ['rows of day 1\\n', 'rows of day 2\\n']" in log, (MODE, log)


def _groups(run_dir: Path) -> list[str]:
    return json.loads((run_dir / "spec.json").read_text())["cgroups"]


def test_run_cgroups_are_removed_when_runs_end(server, alice):
    """Issue 21: "run cgroups never removed". Ended, OOM-killed and cancelled runs."""
    jobs = {
        "ended": submit(alice, "print('x')", **SMALL),
        "oom": submit(
            alice, "x = bytearray(600 * 2**20)", resources={"cpu": 0.5, "memory_mb": 128}
        ),
        "cancelled": submit(alice, "import time; time.sleep(60)", **SMALL),
    }
    run_dirs = {k: server.data_dir / "jobs" / f"job-{j['id']}" for k, j in jobs.items()}
    groups = {
        k: wait_for(lambda d=d: (d / "spec.json").exists() and _groups(d), what="cgroups")
        for k, d in run_dirs.items()
    }
    if not any(groups.values()):
        pytest.skip(f"no writable cgroups on this machine ({MODE} mode)")
    wait_for(lambda: alice.get(f"/v1/jobs/{jobs['cancelled']['id']}").json()["state"] == "RUNNING")
    assert all(Path(g).is_dir() for g in groups["cancelled"]), "a running run has its groups"
    assert alice.post(f"/v1/jobs/{jobs['cancelled']['id']}/cancel").status_code == 200
    states = {k: wait_job(alice, j["id"])["state"] for k, j in jobs.items()}
    assert states == {"ended": "SUCCEEDED", "oom": "OOM_KILLED", "cancelled": "CANCELLED"}
    for kind, paths in groups.items():
        wait_for(lambda p=paths: not any(Path(g).exists() for g in p), 10, what=kind)


def test_executor_removes_groups_even_if_nobody_calls_release(tmp_path):
    """The runner removes its run's groups itself, so a server that dies leaves none."""
    ex = get_executor("local", Settings(data_dir=tmp_path / "data"))
    try:
        run_dir = tmp_path / "data" / "runs" / "r"
        ex.submit(
            RunSpec(
                [sys.executable, "-c", "print(1)"], run_dir, run_dir, {}, Resources(memory_mb=64)
            )
        )
        deadline = time.time() + 60
        while ex.poll(run_dir).state == RunState.RUNNING:
            assert time.time() < deadline
            time.sleep(0.05)
        groups = _groups(run_dir)
        if not groups:
            pytest.skip(f"no writable cgroups on this machine ({MODE} mode)")
        assert not any(Path(g).exists() for g in groups), groups
    finally:
        kill_all_runs(tmp_path / "data")
        ex.close()


def test_cancel_of_a_run_whose_runner_died_kills_only_that_run(tmp_path):
    """The cleanup goes by the run's own cgroups, never by the server's process tree."""
    import psutil

    ex = get_executor("local", Settings(data_dir=tmp_path / "data"))
    try:
        runs = {}
        for name in ("lost", "other"):
            run_dir = tmp_path / "data" / "runs" / name
            code = "import time; print('ready', flush=True); time.sleep(120)"
            ex.submit(RunSpec([sys.executable, "-c", code], run_dir, run_dir, {}, Resources()))
            runs[name] = run_dir
        for run_dir in runs.values():
            wait_for(lambda d=run_dir: "ready" in ex.log_path(d).read_text(), what="ready")
        if not _groups(runs["lost"]):
            pytest.skip(f"no writable cgroups on this machine ({MODE} mode)")
        lost_runner = json.loads((runs["lost"] / "runner.json").read_text())["pid"]
        lost_tree = psutil.Process(lost_runner).children(recursive=True)
        os.kill(lost_runner, 9)
        ex.cancel(runs["lost"])
        _, alive = psutil.wait_procs(lost_tree, timeout=10)
        assert not alive, (MODE, alive)
        assert ex.poll(runs["other"]).state == RunState.RUNNING, MODE
        other = json.loads((runs["other"] / "runner.json").read_text())["pid"]
        assert psutil.Process(other).children(recursive=True), "the other run lost its job"
    finally:
        kill_all_runs(tmp_path / "data")
        ex.close()


@isolated_only
def test_notebooks_run_as_the_tenant_through_the_same_launcher(server, alice):
    """Notebooks (and model services, through the same ``managed.submit``) are sandboxed."""
    import psutil

    nb = alice.post("/v1/notebooks", json={"resources": {"cpu": 0.5}}).json()
    try:
        wait_for(
            lambda: alice.get(f"/v1/notebooks/{nb['id']}").json()["state"] == "RUNNING",
            120,
            what="the notebook",
        )
        run_dir = server.data_dir / "notebooks" / f"nb-{nb['id']}"
        runner = json.loads((run_dir / "runner.json").read_text())
        procs = psutil.Process(runner["pid"]).children(recursive=True)
        uid = UID_BASE + alice.get("/v1/users/me").json()["id"]
        init = next(p for p in procs if p.ppid() == runner["pid"])
        job = [p for p in procs if p.pid != init.pid]
        assert init.uids().real == os.geteuid(), MODE  # the sandbox's pid 1
        assert job and all(p.uids() == (uid, uid, uid) for p in job), (MODE, job)
        assert _mode(run_dir / "work")[1] == uid, MODE
    finally:
        alice.post(f"/v1/notebooks/{nb['id']}/stop")
