"""Each test starts from an empty default graph, and leaves no thread behind."""

import threading
import time

import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def _fresh_default_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


@pytest.fixture
def no_thread_left():
    """Fails the test if a thread it started is still alive (after 2 s of grace)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 2.0
    while time.monotonic() < deadline:
        left = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not left:
            return
        time.sleep(0.01)
    pytest.fail(f"threads left behind: {[t.name for t in left]}")
