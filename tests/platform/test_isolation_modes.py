"""Isolation modes: detection, the refusal to serve tenants without isolation, what
``GET /v1/platform`` reports, and what an isolated job sees of the machine.

Each test names the mode it ran under; tests of the isolated mode skip (with the
reason) where the machine cannot do it.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx
import pytest
from platform_helpers import Server, free_port, isolation_mode, submit, wait_job

from miniflow_platform.config import Settings
from miniflow_platform.executors import modes

MODE = isolation_mode()
REASON = modes.probe().reason
isolated_only = pytest.mark.skipif(
    MODE != "isolated", reason=f"this machine cannot isolate jobs: {REASON}"
)
SMALL = {"resources": {"cpu": 0.5, "memory_mb": 256}}


@pytest.fixture(autouse=True)
def _name_the_mode(record_property):
    record_property("isolation_mode", MODE)
    print(f"isolation mode: {MODE}")


def _serve(data_dir: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    """Start a server that is expected to refuse (it exits at once)."""
    argv = [sys.executable, "-m", "miniflow_platform.cli", "serve", "--port", str(free_port())]
    argv += ["--data-dir", str(data_dir), *extra]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def test_platform_endpoint_reports_the_mode(server, alice):
    info = alice.get("/v1/platform").json()
    assert info["isolation"]["mode"] == MODE, info
    assert httpx.get(server.url + "/v1/platform").status_code == 401
    if MODE == "isolated":
        assert info["isolation"]["reason"] == ""
        assert info["isolation"]["tenant_uid_base"] == Settings(data_dir="x").tenant_uid_base
    else:
        assert info["isolation"]["reason"] and info["isolation"]["single_tenant"] is True


def test_no_isolation_refuses_multi_tenant_unless_single_tenant(tmp_path):
    """Runs in any mode: --isolation rlimits forces "none" on every machine."""
    refused = _serve(tmp_path / "a", "--isolation", "rlimits")
    assert refused.returncode == 2, refused.stdout + refused.stderr
    assert "refusing to start in multi-tenant mode" in refused.stderr
    assert "--single-tenant" in refused.stderr
    assert "admin token" not in refused.stdout  # nothing was handed out
    server = Server(tmp_path / "b", "--isolation", "rlimits", "--single-tenant").start()
    try:
        with server.client(server.admin_token) as admin:
            iso = admin.get("/v1/platform").json()["isolation"]
        assert (iso["mode"], iso["single_tenant"], iso["limits"]) == ("none", True, "rlimits")
        assert "rlimits" in iso["reason"] and iso["tenant_uid_base"] is None
        assert "jobs: none, single-tenant" in server.log.read_text()
    finally:
        server.stop()


def test_forcing_isolated_mode(tmp_path):
    """--isolation isolated: starts isolated where possible, else exits saying why."""
    if MODE == "isolated":
        server = Server(tmp_path / "d", "--isolation", "isolated").start()
        server.stop()
        assert "jobs: isolated" in server.log.read_text()
    else:
        refused = _serve(tmp_path / "d", "--isolation", "isolated")
        assert refused.returncode == 2 and REASON in refused.stderr, refused.stderr


def test_probe_names_why_isolation_is_unavailable(tmp_path):
    """As a non-root user the probe answers "none" and says so (checked through setpriv)."""
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or setpriv is None:
        assert MODE == "none" and REASON, REASON
        return
    code = "from miniflow_platform.executors import modes; print(modes.probe())"
    env = {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    done = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
    )
    if done.returncode != 0 and "Permission denied" in done.stderr:
        pytest.skip("the interpreter is not readable by an unprivileged user on this machine")
    assert "mode='none'" in done.stdout and "not root" in done.stdout, done


VIEW = """
import json, os, socket
status = dict(l.split(':\\t', 1) for l in open('/proc/self/status').read().splitlines() if ':\\t' in l)
print('VIEW ' + json.dumps({
    'uid': os.getresuid(), 'gid': os.getresgid(), 'groups': os.getgroups(),
    'caps': {k: status[k].strip() for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb')},
    'nnp': status['NoNewPrivs'].strip(),
    'ns': {n: os.readlink(f'/proc/self/ns/{n}') for n in ('mnt', 'pid', 'ipc', 'uts')},
    'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
    'hostname': socket.gethostname(),
    'cgroup_ro': os.statvfs('/sys/fs/cgroup/memory').f_flag & os.ST_RDONLY != 0,
    'umask': oct(os.umask(0o077)),
}), flush=True)
"""


@isolated_only
def test_isolated_job_view_of_the_machine(alice):
    job = wait_job(alice, submit(alice, VIEW, **SMALL)["id"])
    log = alice.get(f"/v1/jobs/{job['id']}/logs").text
    view = json.loads(next(x for x in log.splitlines() if x.startswith("VIEW "))[5:])
    uid = Settings(data_dir="x").tenant_uid_base + alice.get("/v1/users/me").json()["id"]
    assert view["uid"] == [uid] * 3 and view["gid"] == [uid] * 3 and view["groups"] == []
    assert set(view["caps"].values()) == {"0000000000000000"}, view["caps"]
    assert view["nnp"] == "1"
    mine = {n: os.readlink(f"/proc/self/ns/{n}") for n in ("mnt", "pid", "ipc", "uts")}
    assert all(view["ns"][n] != mine[n] for n in mine), (view["ns"], mine)
    assert view["pids"] == [1, 2]  # its sandbox init and itself
    assert view["hostname"] != socket.gethostname()
    assert view["cgroup_ro"] is True
    assert view["umask"] == "0o77"


@isolated_only
def test_setuid_binaries_give_no_privilege(alice):
    """no_new_privs: a setuid-root binary runs with the job's uid (control: without it, root)."""
    holder = Path(tempfile.mkdtemp(prefix="mf-suid-"))
    try:
        holder.chmod(0o755)
        binary = holder / "id"
        shutil.copy(shutil.which("id") or "/usr/bin/id", binary)
        binary.chmod(0o4755)
        control = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", str(binary), "-u"],
            capture_output=True,
            text=True,
        )
        assert control.stdout.strip() == "0", control  # setuid works for a plain user
        r = alice.post("/v1/jobs", json={"command": [str(binary), "-u"], **SMALL})
        job = wait_job(alice, r.json()["id"])
        out = alice.get(f"/v1/jobs/{job['id']}/logs").text.strip()
        assert out == str(
            Settings(data_dir="x").tenant_uid_base + alice.get("/v1/users/me").json()["id"]
        )
    finally:
        shutil.rmtree(holder)
