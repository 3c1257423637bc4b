"""The same job flow on PostgreSQL, where a server is available to the test."""

from __future__ import annotations

import os
import sys
import time

import pytest

URL = os.environ.get("MINIFLOW_TEST_POSTGRES_URL")


@pytest.mark.skipif(not URL, reason="no PostgreSQL server: set MINIFLOW_TEST_POSTGRES_URL="
                    "postgresql+psycopg://user:pass@127.0.0.1/db to run this test")
def test_jobs_on_postgres(tmp_path):
    pytest.importorskip("psycopg", reason="PostgreSQL driver psycopg is not installed")
    from platform_helpers import Server, kill_all_runs, submit, wait_job

    server = Server(tmp_path / "data", "--db", URL, "--cpu", "1")
    try:
        server.start()
        client = server.client(server.admin_token or pytest.skip("database already has users"))
        job = submit(client, "print('on postgres')", resources={"cpu": 0.1, "memory_mb": 128})
        assert wait_job(client, job["id"])["state"] == "SUCCEEDED"
        assert "on postgres" in client.get(f"/v1/jobs/{job['id']}/logs").text
    finally:
        server.stop()
        kill_all_runs(server.data_dir)
    assert sys.executable and time.time()
