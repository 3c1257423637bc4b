"""Shared fixtures: one platform server per test module (real uvicorn, real SQLite)."""

from __future__ import annotations

import pytest
from platform_helpers import Server, kill_all_runs


@pytest.fixture(scope="session", autouse=True)
def _tmp_dirs_usable_by_jobs(tmp_path_factory):
    """In isolated mode jobs run as per-tenant uids, not as the test's user (root), so the
    host dirs tests hand them (inputs, outputs, model dirs, python envs) must let other
    users in, as /tmp does: pytest makes them 0700, these are made 1777."""
    original = tmp_path_factory.mktemp

    def mktemp(basename: str, numbered: bool = True):
        path = original(basename, numbered)
        path.chmod(0o1777)
        return path

    tmp_path_factory.mktemp = mktemp
    yield
    tmp_path_factory.mktemp = original


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
