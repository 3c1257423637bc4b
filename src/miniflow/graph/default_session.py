"""The default session stack (``with sess:``, ``sess.as_default()``), per thread.

Its own module so that `Tensor.eval` and `Operation.run` (``operation.py``) can find the
default session without importing ``session.py``, which imports them.
"""

from __future__ import annotations

import threading

_default_sessions = threading.local()


def get_default_session():
    """The session made default by ``with sess:`` / ``as_default`` (None if none)."""
    stack = getattr(_default_sessions, "stack", None)
    return stack[-1] if stack else None


def session_stack() -> list:
    """This thread's stack of default sessions (innermost last)."""
    return _default_sessions.__dict__.setdefault("stack", [])


def _session_for(graph, session):
    session = session or get_default_session()
    if session is None:
        raise ValueError(
            "Cannot evaluate tensor using `eval()`: No default session is "
            "registered. Use `with sess.as_default()` or pass an explicit "
            "session to `eval(session=sess)`"
        )
    if session.graph is not graph:
        raise ValueError(
            "Cannot use the given session to evaluate tensor: the tensor's "
            "graph is different from the session's graph."
        )
    return session
