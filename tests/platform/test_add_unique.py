"""``db.add_unique``, the one "add, then 409 on a unique key" of users, experiments,
pipelines and schedules: on real SQLite (commit and flush, the session usable after),
and through the API, where requests racing on one name get one 201 and 409s."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, func, select

import miniflow_platform.main  # noqa: F401  (every model registered on Base)
from miniflow_platform.auth.models import User
from miniflow_platform.db import Base, add_unique, make_session_factory
from miniflow_platform.errors import Conflict


@pytest.fixture
def session(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'u.db'}")
    Base.metadata.create_all(engine)
    with make_session_factory(engine)() as s:
        yield s
    engine.dispose()


@pytest.mark.parametrize("commit", [True, False])
def test_a_taken_key_is_a_conflict_and_the_session_goes_on(session, commit):
    add_unique(session, User(name="ann"), "taken", commit=commit)
    session.commit()
    with pytest.raises(Conflict, match="^user ann is taken$") as info:
        add_unique(session, User(name="ann"), "user ann is taken", commit=commit)
    assert info.value.status_code == 409
    add_unique(session, User(name="bea"), "taken", commit=commit)  # rolled back, usable
    session.commit()
    names = session.scalars(select(User.name).order_by(User.name)).all()
    assert names == ["ann", "bea"]


def test_flush_leaves_the_commit_to_the_caller(session):
    add_unique(session, User(name="cid"), "taken", commit=False)
    assert session.get(User, 1) is not None  # flushed: it has its id
    session.rollback()
    assert session.scalar(select(func.count()).select_from(User)) == 0


def race(n: int, call) -> list[int]:
    """``call()`` from ``n`` threads released together; their status codes."""
    barrier = threading.Barrier(n)
    codes: list[int] = []

    def run() -> None:
        barrier.wait()
        codes.append(call())

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return sorted(codes)


def test_duplicates_through_the_api(server, admin, alice):
    assert admin.post("/v1/users", json={"name": "dup"}).status_code == 201
    r = admin.post("/v1/users", json={"name": "dup"})
    assert r.status_code == 409 and r.json()["error"]["message"] == "user 'dup' already exists"
    assert alice.post("/v1/experiments", json={"name": "dup-exp"}).status_code == 201
    r = alice.post("/v1/experiments", json={"name": "dup-exp"})
    assert r.status_code == 409 and "experiment 'dup-exp' already exists" in r.text


def test_requests_racing_on_one_name_get_one_201(server, alice):
    body = {"name": "raced", "steps": [{"name": "a", "command": ["true"]}]}
    codes = race(4, lambda: alice.post("/v1/pipelines", json=body).status_code)
    assert codes == [201, 409, 409, 409]
    assert [p["name"] for p in alice.get("/v1/pipelines").json()["data"]].count("raced") == 1
    with server.client(server.admin_token) as admin:
        codes = race(4, lambda: admin.post("/v1/users", json={"name": "racer"}).status_code)
    assert codes == [201, 409, 409, 409]
