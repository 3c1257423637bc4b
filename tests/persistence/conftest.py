import os
import sys

import pytest

import miniflow


def subprocess_env() -> dict:
    """The environment for child Pythons: they import the same miniflow as the tests."""
    src = os.path.dirname(os.path.dirname(os.path.abspath(miniflow.__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    return env


@pytest.fixture
def child_env():
    return subprocess_env()


@pytest.fixture
def python():
    return sys.executable


@pytest.fixture(autouse=True)
def fresh_graph():
    miniflow.reset_default_graph()
    yield
    miniflow.reset_default_graph()
