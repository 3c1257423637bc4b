"""Starting on an older data directory: the database is upgraded in place (or refused
with a clear message), its file is private, and cgroups an earlier server left behind
after ``kill -9`` are reused or removed."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from platform_helpers import Server, submit, wait_for, wait_job
from sqlalchemy import create_engine

from miniflow_platform.config import Settings
from miniflow_platform.db import Base
from miniflow_platform.executors import cgroups

ADMIN_TOKEN = "mfp_old-admin-token"
NOTEBOOK_TOKEN = "mfn_old-notebook-token-in-clear"
# Columns model_services gained with zero-downtime updates.
UPDATE_COLUMNS = (
    "update_state",
    "update_reason",
    "pending_generation",
    "pending_port",
    "pending_model_dir",
    "pending_source_job_id",
    "pending_gpu_devices",
    "pending_started_at",
    "draining_generation",
    "draining_since",
    "draining_gpu_devices",
    "last_generation",
)


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def old_database(data_dir: Path) -> Path:
    """The schema before the notebook token was hashed and services could be updated:
    ``notebooks.token`` (NOT NULL, the access token in clear), no update columns."""
    data_dir.mkdir(parents=True)
    db = data_dir / "platform.db"
    engine = create_engine(f"sqlite:///{db}")
    import miniflow_platform.main  # noqa: F401  (every model registered on Base)

    Base.metadata.create_all(engine)
    engine.dispose()
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE notebooks RENAME COLUMN token_hash TO token")
    for column in UPDATE_COLUMNS:
        conn.execute(f"ALTER TABLE model_services DROP COLUMN {column}")
    when = "'2020-01-01 00:00:00'"
    conn.execute(f"INSERT INTO users (id, name, is_admin, created_at) VALUES (1, 'admin', 1, {when})")  # fmt: skip
    conn.execute(
        "INSERT INTO api_tokens (user_id, token_hash, prefix, created_at) "
        f"VALUES (1, '{sha256(ADMIN_TOKEN)}', 'mfp_old', {when})"
    )
    conn.execute(
        "INSERT INTO notebooks (owner_id, name, state, reason, port, token, cpu, memory_mb, gpu, "
        f"gpu_devices, idle_timeout_s, isolation, created_at) VALUES (1, 'nb', 'STOPPED', '', "
        f"1, '{NOTEBOOK_TOKEN}', 1, 512, 0, '[]', 600, '', {when})"
    )
    conn.execute(
        "INSERT INTO model_services (name, owner_id, model_dir, generation, port, state, reason, "
        "cpu, memory_mb, gpu, gpu_devices, isolation, created_at, started_at) VALUES "
        f"('ctr', 1, '/m', 3, 1, 'STOPPED', '', 1, 512, 0, '[]', '', {when}, {when})"
    )
    conn.commit()
    conn.close()
    return db


def test_old_database_is_upgraded_and_served(tmp_path):
    db = old_database(tmp_path / "data")
    server = Server(tmp_path / "data")
    server.admin_token = ADMIN_TOKEN
    try:
        server.start()
        with server.client(ADMIN_TOKEN) as admin:
            nbs = admin.get("/v1/notebooks")
            assert nbs.status_code == 200, nbs.text
            assert [n["name"] for n in nbs.json()["data"]] == ["nb"]
            svc = admin.get("/v1/services/ctr")
            assert svc.status_code == 200, svc.text
            body = svc.json()
            assert body["generation"] == 3 and body["update"]["state"] == "", body
            # New rows insert fine (the retired NOT NULL column is gone): a job and a user.
            job = wait_job(admin, submit(admin, "print('ok')")["id"])
            assert job["state"] == "SUCCEEDED", job
            assert admin.post("/v1/users", json={"name": "carol"}).status_code == 201
    finally:
        server.stop()
    conn = sqlite3.connect(db)
    notebook_columns = {row[1] for row in conn.execute("PRAGMA table_info(notebooks)")}
    assert "token" not in notebook_columns  # the clear-text secret is gone ...
    # ... and the access token still opens the notebook: its hash was carried over.
    assert conn.execute("SELECT token_hash FROM notebooks").fetchone() == (sha256(NOTEBOOK_TOKEN),)
    row = conn.execute(
        "SELECT last_generation, update_state, pending_gpu_devices FROM model_services"
    ).fetchone()
    assert row == (3, "", "[]")  # the next update starts generation 4, not 2
    conn.close()


def test_unknown_required_column_is_refused_with_a_message(tmp_path):
    data = tmp_path / "data"
    db = old_database(data)
    conn = sqlite3.connect(db)
    conn.execute("ALTER TABLE jobs ADD COLUMN shard INTEGER NOT NULL DEFAULT 0")
    conn.commit()
    conn.close()
    _make_column_required(db, "jobs", "shard")
    done = subprocess.run(
        [sys.executable, "-m", "miniflow_platform.cli", "serve", "--data-dir", str(data)]
        + ["--port", "1", "--single-tenant"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert "jobs.shard" in done.stderr and "NOT NULL" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def _make_column_required(db: Path, table: str, column: str) -> None:
    """Rewrite the column's declaration to NOT NULL without a default (as a newer server's
    table would have it), through SQLite's writable schema."""
    conn = sqlite3.connect(db)
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = ?", (table,)).fetchone()
    new = sql.replace(f"{column} INTEGER NOT NULL DEFAULT 0", f"{column} INTEGER NOT NULL")
    assert new != sql
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = ? WHERE name = ?", (new, table))
    conn.commit()
    conn.close()


def test_database_file_is_private(tmp_path):
    server = Server(tmp_path / "data")
    try:
        server.start()
        with server.client(server.admin_token) as admin:
            assert admin.get("/v1/jobs").status_code == 200
        assert stat.S_IMODE(server.data_dir.stat().st_mode) == 0o700
        files = [server.data_dir / n for n in ("platform.db", "platform.db-wal", "platform.db-shm")]
        for f in files:
            assert f.exists() and stat.S_IMODE(f.stat().st_mode) == 0o600, f
    finally:
        server.stop()


def test_existing_database_file_is_made_private(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    db = settings.data_dir / "platform.db"
    db.touch(mode=0o644)
    os.chmod(db, 0o644)
    from miniflow_platform.db import make_engine

    make_engine(settings).dispose()
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def _cgroups_v1() -> str:
    if not Path("/sys/fs/cgroup/pids/cgroup.procs").exists() or os.geteuid() != 0:
        return "needs root and a cgroup v1 pids hierarchy"
    return ""


def _tag(data_dir: Path) -> str:
    return "miniflow-" + hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:10]


@pytest.mark.skipif(bool(_cgroups_v1()), reason=_cgroups_v1() or "-")
def test_parent_cgroup_left_by_kill9_is_reused_then_removed(tmp_path):
    server = Server(tmp_path / "data")
    tag = _tag(server.data_dir)
    pids_mount = Path("/sys/fs/cgroup/pids")
    try:
        server.start()
        with server.client(server.admin_token) as admin:
            job = wait_job(admin, submit(admin, "print('ok')")["id"])
            assert job["state"] == "SUCCEEDED", job
            if "cgroups" not in job["isolation"]:
                pytest.skip(f"server runs without cgroups ({job['isolation']})")
        server.kill9()
        left = cgroups._find(pids_mount, tag, 4)
        assert len(left) == 1  # kill -9: nobody removed it
        server.start()  # same cgroup as before: the group is reused, not doubled
        assert cgroups._find(pids_mount, tag, 4) == left
        server.stop()  # no run left: the parent goes
        wait_for(lambda: not cgroups._find(pids_mount, tag, 4), timeout=10, what="parent removed")
    finally:
        server.stop()


@pytest.mark.skipif(bool(_cgroups_v1()), reason=_cgroups_v1() or "-")
def test_stale_parent_cgroup_elsewhere_is_removed_at_start(tmp_path):
    """A server restarted in another cgroup (a new per-process group) finds its old
    parent there and removes it with its empty run groups; a group with a process stays."""
    data = tmp_path / "data"
    data.mkdir()
    tag = _tag(data)
    elsewhere = Path("/sys/fs/cgroup/pids") / f"mftest-{os.getpid()}"
    stale = elsewhere / tag
    (stale / "job-1").mkdir(parents=True)
    busy = elsewhere / "other" / tag / "job-2"
    busy.mkdir(parents=True)
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (busy / "cgroup.procs").write_text(str(sleeper.pid))
        layout = cgroups.detect(str(data.resolve()))
        assert layout is not None and layout.parents["pids"] != stale
        assert not stale.exists()  # empty: removed with its run group
        assert busy.exists()  # a process is still in it: left alone
    finally:
        sleeper.kill()
        sleeper.wait()
        cgroups.remove([str(busy), str(busy.parent), str(busy.parent.parent), str(stale / "job-1")])
        cgroups.remove([str(stale), str(elsewhere)])
        if layout := cgroups.detect(str(data.resolve())):
            cgroups.remove([str(p) for p in layout.parents.values()])
