"""Attacks by a tenant's job, run as real jobs through the real API server and executor.

Each test names the isolation mode it ran under (``isolation_mode`` in the test's
properties and in every assertion message); on a machine that cannot isolate jobs the
attacks would succeed by design (docs/platform.md, threat model), so they are skipped
there with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest
from platform_helpers import Server, isolation_mode, kill_all_runs, submit, wait_for, wait_job

from miniflow_platform.executors import modes, sandbox_plan

MODE = isolation_mode()
isolated_only = pytest.mark.skipif(
    MODE != "isolated", reason=f"this machine cannot isolate jobs: {modes.probe().reason}"
)
SMALL = {"cpu": 0.5, "memory_mb": 256}


@pytest.fixture(autouse=True)
def _name_the_mode(record_property):
    record_property("isolation_mode", MODE)
    print(f"isolation mode: {MODE}")


def run_job(client: httpx.Client, code: str, **body) -> tuple[dict, str]:
    """Submit ``code`` as a job, wait for its end; returns the job and its log."""
    body.setdefault("resources", SMALL)
    job = wait_job(client, submit(client, code, **body)["id"], timeout=90)
    return job, client.get(f"/v1/jobs/{job['id']}/logs").text


def results(log: str) -> dict:
    """The job prints one JSON line starting with RESULT."""
    line = next(x for x in log.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT ") :])


PROBE = """
import json, os, sys
def attempt(fn):
    try:
        return "ok: " + repr(fn())[:80]
    except BaseException as e:
        return f"denied: {type(e).__name__}: {e}"
"""


@pytest.fixture(scope="module")
def alices_job(alice):
    """A finished job of Alice's with a log line and an artifact, both secret."""
    job, _ = run_job(
        alice,
        "import pathlib; print('alice log secret'); "
        "pathlib.Path('model.txt').write_text('alice model secret')",
    )
    assert job["state"] == "SUCCEEDED", (MODE, job)
    return job


@isolated_only
def test_cgroup_escape_then_allocating_past_the_limit_is_killed(alice):
    code = (
        PROBE
        + """
own = {l.split(':')[1]: l.split(':')[2] for l in open('/proc/self/cgroup').read().splitlines()}
tries = {}
for ctrl in ('memory', 'pids', 'cpu', 'freezer'):
    path = own.get(ctrl, '/')
    for target in (f'/sys/fs/cgroup/{ctrl}/cgroup.procs',
                   f'/sys/fs/cgroup/{ctrl}{os.path.dirname(path)}/cgroup.procs'):
        tries[target] = attempt(lambda: open(target, 'w').write(str(os.getpid())))
tries['limit'] = attempt(lambda: open('/sys/fs/cgroup/memory' + own['memory']
                                      + '/memory.limit_in_bytes', 'w').write('-1'))
tries['mount'] = attempt(lambda: os.system('mount -o remount,rw /sys/fs/cgroup 2>&1'))
print('RESULT ' + json.dumps(tries), flush=True)
blocks = [bytearray(100 * 2**20) for _ in range(30)]   # 3 GB under a 256 MiB limit
for b in blocks:
    b[::4096] = b'x' * len(b[::4096])
print('ALLOCATED 3 GB', flush=True)
"""
    )
    job, log = run_job(alice, code, resources={"cpu": 0.5, "memory_mb": 256})
    tries = results(log)
    escaped = {k: v for k, v in tries.items() if k != "mount" and not v.startswith("denied")}
    assert not escaped, (MODE, escaped)
    assert "ALLOCATED" not in log, (MODE, log[-2000:])
    assert job["state"] == "OOM_KILLED", (MODE, job, log[-2000:])


@isolated_only
def test_platform_db_and_other_tenants_files_are_invisible(server, alice, bob, alices_job):
    data = server.data_dir.resolve()
    alice_dir = data / "jobs" / f"job-{alices_job['id']}"
    targets = {
        "db": data / "platform.db",
        "alice_log": alice_dir / "output.log",
        "alice_spec": alice_dir / "spec.json",
        "alice_artifact": alice_dir / "artifacts" / "model.txt",
    }
    # The paths are on Bob's command line too: naming them does not expose them.
    code = (
        PROBE
        + f"""
targets = {json.dumps({k: str(v) for k, v in targets.items()})}
out = {{k: attempt(lambda p=p: open(p, 'rb').read()) for k, p in targets.items()}}
out['list_data'] = attempt(lambda: os.listdir({str(data)!r}))
out['list_jobs'] = attempt(lambda: os.listdir({str(data / "jobs")!r}))
out['list_alice'] = attempt(lambda: os.listdir({str(alice_dir)!r}))
out['server_env'] = attempt(lambda: [open(f'/proc/{{p}}/environ').read() for p in os.listdir('/proc')
                                    if p.isdigit() and int(p) > 2])
out['pids'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())
print('RESULT ' + json.dumps(out), flush=True)
"""
    )
    job, log = run_job(bob, code + "\n# " + " ".join(map(str, targets.values())))
    out = results(log)
    for key in ("db", "alice_log", "alice_spec", "alice_artifact", "list_alice"):
        assert out[key].startswith("denied"), (MODE, key, out[key])
    assert out["list_jobs"].startswith("ok"), (MODE, out["list_jobs"])
    assert f"'job-{alices_job['id']}'" not in out["list_jobs"], (MODE, out["list_jobs"])
    assert "platform.db" not in out["list_data"], (MODE, out["list_data"])
    assert out["pids"] == [1, 2], (MODE, out["pids"])  # only its own namespace
    assert "alice log secret" not in log and "alice model secret" not in log, (MODE, log)


INSERT_ADMIN_TOKEN = (
    "insert into api_tokens (user_id, token_hash, prefix, created_at) "
    "values (1, ?, 'mfp_', '2026-01-01 00:00:00.000000')"
)


@isolated_only
def test_inserting_a_token_row_does_not_make_an_admin(server, bob):
    token = "mfp_" + secrets.token_urlsafe(32)
    digest = hashlib.sha256(token.encode()).hexdigest()
    db = server.data_dir.resolve() / "platform.db"
    code = (
        PROBE
        + f"""
import sqlite3
def insert(uri):
    con = sqlite3.connect(uri, uri=True)
    con.execute({INSERT_ADMIN_TOKEN!r}, ({digest!r},))
    con.commit()
    return 'inserted'
out = {{
    'rw': attempt(lambda: insert('file:{db}?mode=rw')),
    'create': attempt(lambda: insert('file:{db}')),
}}
print('RESULT ' + json.dumps(out), flush=True)
"""
    )
    _, log = run_job(bob, code)
    out = results(log)
    assert all(v.startswith("denied") for v in out.values()), (MODE, out)
    with server.client(token) as c:
        assert c.get("/v1/users/me").status_code == 401, MODE
    assert bob.get("/v1/users/me").json()["is_admin"] is False
    # Control: the same statement run by the platform's own user does make an admin,
    # so the job failed because of isolation, not because of a wrong statement.
    import sqlite3

    control = "mfp_" + secrets.token_urlsafe(32)
    with sqlite3.connect(db) as con:
        con.execute(INSERT_ADMIN_TOKEN, (hashlib.sha256(control.encode()).hexdigest(),))
    with server.client(control) as c:
        assert c.get("/v1/users/me").json()["is_admin"] is True


@isolated_only
def test_writing_outside_the_workdir_is_denied(server, alice, bob, alices_job):
    data = server.data_dir.resolve()
    artifacts = data / "jobs" / f"job-{alices_job['id']}" / "artifacts"
    site = Path(psutil.__file__).parent.parent  # the platform's own site-packages
    targets = {
        "alice_artifact": artifacts / "model.txt",
        "alice_new": artifacts / "planted.txt",
        "data_dir": data / "planted",
        "platform_code": site / "miniflow_platform_planted.py",
        "interpreter": Path(sys.base_prefix) / "planted",
        "etc": Path("/etc/planted"),
    }
    code = (
        PROBE
        + f"""
targets = {json.dumps({k: str(v) for k, v in targets.items()})}
out = {{k: attempt(lambda p=p: open(p, 'w').write('bob was here')) for k, p in targets.items()}}
out['own'] = attempt(lambda: open('mine.txt', 'w').write('fine'))
print('RESULT ' + json.dumps(out), flush=True)
"""
    )
    job, log = run_job(bob, code + "\n# " + str(artifacts))
    out = results(log)
    assert out.pop("own").startswith("ok"), (MODE, log)
    assert all(v.startswith("denied") for v in out.values()), (MODE, out)
    for path in targets.values():
        if path.name == "model.txt":
            assert path.read_text() == "alice model secret", MODE
        else:
            assert not path.exists(), (MODE, path)
    listing = alice.get(f"/v1/jobs/{alices_job['id']}/artifacts").json()
    assert "planted.txt" not in json.dumps(listing), (MODE, listing)
    assert bob.get(f"/v1/jobs/{job['id']}/artifacts/mine.txt").text == "fine"


def _run_cgroups(data_dir: Path, job_id: int) -> list[str]:
    return json.loads((data_dir / "jobs" / f"job-{job_id}" / "spec.json").read_text())["cgroups"]


@isolated_only
def test_fork_bomb_is_contained_by_the_pids_limit(server, alice):
    limit = 20
    code = (
        "import os, time\n"
        "end = time.time() + 4\n"
        "while time.time() < end:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        time.sleep(0.05)\n"
    )
    body = {"resources": {"cpu": 0.3, "memory_mb": 256, "pids": limit}, "timeout_s": 30}
    job = submit(alice, code, **body)
    groups = wait_for(
        lambda: (
            (server.data_dir / "jobs" / f"job-{job['id']}" / "spec.json").exists()
            and _run_cgroups(server.data_dir, job["id"])
        ),
        what="the job's cgroups",
    )
    pids_group = Path(next(g for g in groups if "/pids/" in g))
    peak, refused = 0, 0
    while alice.get(f"/v1/jobs/{job['id']}").json()["state"] in ("QUEUED", "RUNNING"):
        assert httpx.get(server.url + "/healthz", timeout=5).status_code == 200, MODE
        try:
            peak = max(peak, int((pids_group / "pids.current").read_text()))
            events = (pids_group / "pids.events").read_text().split()
            refused = max(refused, int(events[1]))
        except OSError:
            break  # the run ended and its group is gone
        time.sleep(0.1)
    done = wait_job(alice, job["id"])
    assert 0 < peak <= limit, (MODE, peak)
    assert refused > 0, (MODE, "the bomb never hit the limit")
    assert done["state"] in ("SUCCEEDED", "FAILED", "TIMED_OUT"), (MODE, done)
    assert not any(Path(g).exists() for g in groups), (MODE, groups)


def test_server_and_supervisor_killed_leaves_nothing_after_restart(tmp_path):
    """Runs in any mode: the cleanup goes through the run's cgroups (freeze, kill, thaw)."""
    data = tmp_path / "data"
    server = Server(data, "--cpu", "2", "--memory-mb", "4096").start()
    try:
        with server.client(server.new_user("carol")) as carol:
            code = (
                "import subprocess, sys, time, os\n"
                "kids = [subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])"
                " for _ in range(2)]\n"
                "if os.fork() == 0:\n"
                "    os.setsid(); time.sleep(300)\n"
                "print('ready', flush=True); time.sleep(300)\n"
            )
            job = submit(carol, code, resources=SMALL)
            run_dir = data / "jobs" / f"job-{job['id']}"
            wait_for(lambda: "ready" in carol.get(f"/v1/jobs/{job['id']}/logs").text)
            groups = _run_cgroups(data, job["id"])
            if not groups:
                pytest.skip(f"no writable cgroups here ({MODE} mode): lost runs cannot be found")
            runner = json.loads((run_dir / "runner.json").read_text())
            procs = psutil.Process(runner["pid"]).children(recursive=True)
            assert len(procs) >= 4, procs  # job, 2 children, setsid'd child (+ sandbox init)
            server.kill9()
            os.kill(runner["pid"], 9)
            time.sleep(0.5)
            assert all(p.is_running() for p in procs), "the run must outlive its supervisor"
            server.start()
            done = wait_job(carol, job["id"])
        assert done["state"] == "FAILED", (MODE, done)
        assert "supervisor process is gone" in done["reason"], done
        assert "leftover process(es) of the run were killed" in done["reason"], done
        gone, alive = psutil.wait_procs(procs, timeout=10)
        assert not alive, (MODE, alive)
        assert not any(Path(g).exists() for g in groups), (MODE, groups)
    finally:
        server.stop()
        kill_all_runs(data)


@isolated_only
def test_a_path_swapped_for_a_symlink_after_planning_is_not_exposed(tmp_path):
    """A tenant's other run replaces a planned dir by a symlink to the platform's data."""
    # Like the data dir: readable files (platform.db is 0644) in a dir only root can reach.
    hidden = tmp_path / "data"
    hidden.mkdir()
    hidden.chmod(0o755)
    (hidden / "secret.db").write_text("platform secret")
    planned = tmp_path / "shared" / "inputs"
    planned.mkdir(parents=True)
    run_dir = tmp_path / "platform" / "jobs" / "job-1"
    run_dir.mkdir(parents=True)
    code = "import sys; print(open(sys.argv[1] + '/secret.db').read())"
    command = [sys.executable, "-c", code, str(planned)]
    plan = sandbox_plan.build(
        data_dir=tmp_path / "platform",
        run_dir=run_dir,
        uid=200_999,
        gid=200_999,
        command=command,
        env={},
        cwd=Path("/"),
    )
    assert [str(planned), "rw"] in plan["expose"], plan
    planned.rmdir()
    planned.symlink_to(hidden)  # swapped after the plan resolved it
    spec = {
        "command": command,
        "cwd": "/",
        "env": {},
        "timeout_s": 30,
        "cgroups": [],
        "rlimits": {},
        "log": str(run_dir / "output.log"),
        "submitted_at": time.time(),
        "sandbox": plan,
    }
    (run_dir / "spec.json").write_text(json.dumps(spec))
    runner = [sys.executable, "-m", "miniflow_platform.executors.runner", str(run_dir)]
    subprocess.run(runner, timeout=60, check=True)
    log = (run_dir / "output.log").read_text()
    assert "platform secret" not in log, (MODE, log)
    assert "changed since the run was planned" in log, (MODE, log)
    assert json.loads((run_dir / "status.json").read_text())["exit_code"] == 125
