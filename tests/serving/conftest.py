"""Fixtures of the serving tests (helpers live in serving_helpers.py)."""

from __future__ import annotations

import pytest
from serving_helpers import ServerProcess


@pytest.fixture
def start_server():
    """Starts servers for one test and stops every one of them afterwards."""
    started: list[ServerProcess] = []

    def start(*args: str) -> ServerProcess:
        s = ServerProcess([str(a) for a in args])
        started.append(s)
        return s

    yield start
    errors = []
    for s in started:  # every server is stopped even if stopping one fails
        try:
            s.stop()
        except Exception as e:  # noqa: BLE001  re-raised below
            errors.append(e)
    if errors:
        raise errors[0]
