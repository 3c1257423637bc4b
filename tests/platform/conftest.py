"""Shared fixtures: one platform server per test module (real uvicorn, real SQLite)."""

from __future__ import annotations

import pytest
from platform_helpers import Server, kill_all_runs


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("platform")
    srv = Server(root / "data", "--cpu", "2", "--memory-mb", "8192", "--gpus", "0,1,2")
    try:
        yield srv.start()
    finally:
        srv.stop()
        kill_all_runs(srv.data_dir)


@pytest.fixture(scope="module")
def alice(server):
    return server.client(server.new_user("alice"))


@pytest.fixture(scope="module")
def bob(server):
    return server.client(server.new_user("bob"))


@pytest.fixture(scope="module")
def admin(server):
    return server.client(server.admin_token)
