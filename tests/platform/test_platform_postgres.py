"""The job flow on PostgreSQL: a server from MINIFLOW_TEST_POSTGRES_URL, or a throwaway
cluster started with this machine's `initdb`/`pg_ctl`; skipped (with the reason) when
neither is available."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from platform_helpers import Server, free_port, kill_all_runs, submit, wait_job


def _as_postgres_user(argv: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; use the distribution's `postgres` user.
    if os.geteuid() != 0:
        return argv
    return ["runuser", "-u", "postgres", "--", *argv]


@pytest.fixture(scope="module")
def postgres_url():
    if os.environ.get("MINIFLOW_TEST_POSTGRES_URL"):
        yield os.environ["MINIFLOW_TEST_POSTGRES_URL"]
        return
    pytest.importorskip("psycopg", reason="PostgreSQL driver psycopg is not installed")
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip(
            "no PostgreSQL server: set MINIFLOW_TEST_POSTGRES_URL, or install the "
            "PostgreSQL server binaries (initdb, pg_ctl) for a throwaway cluster"
        )
    if os.geteuid() == 0 and subprocess.run(["id", "postgres"], capture_output=True).returncode:
        pytest.skip("running as root without a `postgres` user to run a throwaway cluster")
    root = Path(tempfile.mkdtemp(prefix="miniflow-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = free_port()
    db = root / "db"
    subprocess.run(
        _as_postgres_user(["initdb", "-D", str(db), "-A", "trust", "-U", "postgres"]),
        check=True,
        capture_output=True,
    )
    subprocess.run(
        _as_postgres_user(
            [
                "pg_ctl",
                "-D",
                str(db),
                "-l",
                str(root / "log"),
                "-w",
                "start",
                "-o",
                f"-p {port} -k {root} -c listen_addresses=127.0.0.1",
            ]
        ),
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            _as_postgres_user(["pg_ctl", "-D", str(db), "-m", "immediate", "stop"]),
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


def test_jobs_on_postgres(tmp_path, postgres_url):
    server = Server(tmp_path / "data", "--db", postgres_url, "--cpu", "1")
    try:
        server.start()
        if server.admin_token is None:
            pytest.skip("the PostgreSQL database already has users (not a fresh database)")
        alice = server.client(server.new_user("alice"))
        bob = server.client(server.new_user("bob"))
        res = {"resources": {"cpu": 0.5, "memory_mb": 128}}
        ok = submit(alice, "print('on postgres')", **res)
        bad = submit(alice, "raise SystemExit(4)", **res)
        blocker = submit(bob, "import time; time.sleep(60)", resources={"cpu": 1, "memory_mb": 128})
        assert wait_job(alice, ok["id"])["state"] == "SUCCEEDED"
        assert "on postgres" in alice.get(f"/v1/jobs/{ok['id']}/logs").text
        assert wait_job(alice, bad["id"])["exit_code"] == 4
        wait_job(bob, blocker["id"], states={"RUNNING"})
        queued = submit(alice, "print('later')", **res)
        assert alice.get(f"/v1/jobs/{queued['id']}").json()["state"] == "QUEUED"
        assert bob.get(f"/v1/jobs/{ok['id']}").status_code == 404
        assert bob.post(f"/v1/jobs/{blocker['id']}/cancel").json()["state"] == "CANCELLED"
        assert wait_job(alice, queued["id"])["state"] == "SUCCEEDED"
        assert [j["id"] for j in alice.get("/v1/jobs").json()["data"]] == [
            ok["id"],
            bad["id"],
            queued["id"],
        ]
    finally:
        server.stop()
        kill_all_runs(server.data_dir)
