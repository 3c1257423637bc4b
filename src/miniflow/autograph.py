"""`tf.autograph`: verbosity and tracing helpers. Converting Python source to graph code
(`to_graph`, `to_code`) is not supported; the names stay stubs with that reason."""

from __future__ import annotations

import os

from miniflow import autograph_experimental as experimental  # noqa: F401

_VERBOSITY = {"level": None, "alsologtostdout": False}


def set_verbosity(level, alsologtostdout=False):
    """set_verbosity(level, alsologtostdout=False): AutoGraph's log level (it wins over
    the AUTOGRAPH_VERBOSITY environment variable, as in TF)."""
    _VERBOSITY["level"] = int(level)
    _VERBOSITY["alsologtostdout"] = bool(alsologtostdout)


def get_verbosity():
    """The level set by set_verbosity, else $AUTOGRAPH_VERBOSITY, else 0."""
    if _VERBOSITY["level"] is not None:
        return _VERBOSITY["level"]
    return int(os.environ.get("AUTOGRAPH_VERBOSITY", 0))


def trace(*args):
    """trace(*args): prints its arguments when the code runs (miniflow builds graphs by
    running Python, so this is when TF would trace)."""
    print(*args)
