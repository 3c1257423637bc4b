"""`tf.experimental`: the parts that mean something for a synchronous, CPU-only TF1
library: `Optional`, and the async-execution helpers (miniflow runs every op to completion
before returning, so an async scope has nothing to defer)."""

from __future__ import annotations

import contextlib

from miniflow.data.structures import Optional as Optional  # noqa: F401


@contextlib.contextmanager
def async_scope():
    """async_scope(): TF lets ops inside run asynchronously; miniflow runs them at once, so
    errors surface where they happen (the scope changes nothing)."""
    yield


def async_clear_error():
    """async_clear_error(): clears a pending async error; miniflow never has one."""
