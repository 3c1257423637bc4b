"""`tf.train.SessionRunHook` and the values passed to it around each `MonitoredSession.run`.

A hook sees a session's life as: ``begin`` (graph still editable) -> ``after_create_session``
-> per step ``before_run`` / ``after_run`` -> ``end``. ``before_run`` may return a
`SessionRunArgs`: its fetches run in the same step as the caller's, and come back in
``after_run``'s `SessionRunValues.results`.
"""

from __future__ import annotations

import collections


class SessionRunHook:
    """Base class of hooks for `MonitoredSession`; override the methods you need."""

    def begin(self):
        """Called once before the session is created; the graph may still be changed."""

    def after_create_session(self, session, coord):
        """Called when the session is created (and restored or initialized)."""

    def before_run(self, run_context):
        """Called before each `run`; may return a `SessionRunArgs` to add fetches/feeds."""
        return None

    def after_run(self, run_context, run_values):
        """Called after each `run` with the results of this hook's fetches."""

    def end(self, session):
        """Called when the monitored session closes without an exception (or on
        `OutOfRangeError`/`StopIteration`)."""


class SessionRunArgs(collections.namedtuple("SessionRunArgs", ["fetches", "feed_dict", "options"])):
    """What a hook adds to one `run` call: fetches (any nesting), a feed dict, RunOptions."""

    __slots__ = ()

    def __new__(cls, fetches, feed_dict=None, options=None):
        return super().__new__(cls, fetches, feed_dict, options)


class SessionRunContext:
    """The `run` call in progress as hooks see it: the caller's args, the raw session,
    and `request_stop()` to end the loop after this step."""

    def __init__(self, original_args, session):
        self._original_args = original_args
        self._session = session
        self._stop_requested = False

    @property
    def original_args(self):
        """The caller's `SessionRunArgs` (fetches and feed_dict of this `run`)."""
        return self._original_args

    @property
    def session(self):
        """The underlying `tf.Session` (runs here bypass the hooks)."""
        return self._session

    @property
    def stop_requested(self) -> bool:
        return self._stop_requested

    def request_stop(self) -> None:
        """Makes `MonitoredSession.should_stop()` true after this step."""
        self._stop_requested = True


class SessionRunValues(
    collections.namedtuple("SessionRunValues", ["results", "options", "run_metadata"])
):
    """What `after_run` receives: the results of the hook's own fetches (None if it
    requested none), the merged RunOptions and the RunMetadata of the step."""

    __slots__ = ()
