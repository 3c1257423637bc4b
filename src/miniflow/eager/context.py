"""Switching between graph mode and eager mode (the front-end stack of `core.dispatch`)."""

from __future__ import annotations

import contextlib

from miniflow.core import blas_threads, dispatch
from miniflow.eager.executor import FRONTEND


def _blas_threads(config=None) -> None:
    # Eager ops run outside any Session, so the BLAS thread choice a Session makes from
    # its ConfigProto (`core.blas_threads`: by default the cores the load leaves free)
    # is made here; an earlier pin stays, as in a Session.
    blas_threads.set_threads(getattr(config, "intra_op_parallelism_threads", 0), session=True)


def enable_eager_execution(config=None, device_policy=None, execution_mode=None):
    """Runs every op eagerly from now on, for the rest of the program (TF 1.x spelling).

    ``config``: a ConfigProto whose ``intra_op_parallelism_threads`` sets NumPy's BLAS
    threads, as for a Session (0 or none: the cores the machine's load leaves free).

    Raises:
        ValueError: called inside a scoped mode switch (`eager_mode`/`graph_mode`).
    """
    if executing_eagerly():
        return
    if len(dispatch._stack) != 1:
        raise ValueError(
            "tf.enable_eager_execution must be called at program startup, "
            "not inside a `with tf.eager_mode()` or `with tf.graph_mode()` "
            "block."
        )
    _blas_threads(config)
    dispatch.push_frontend(FRONTEND)


def disable_eager_execution():
    """Builds graphs again after `enable_eager_execution` (TF1's
    ``tf.compat.v1.disable_eager_execution``; a no-op in graph mode).

    Raises:
        ValueError: called inside a scoped mode switch (`eager_mode`/`graph_mode`).
    """
    if len(dispatch._stack) == 1:
        return
    if len(dispatch._stack) != 2 or not executing_eagerly():
        raise ValueError(
            "tf.disable_eager_execution cannot be called inside a "
            "`with tf.eager_mode()` or `with tf.graph_mode()` block."
        )
    dispatch.pop_frontend(FRONTEND)


def executing_eagerly() -> bool:
    """True when ops run immediately (eager mode), False when they build a graph."""
    return dispatch.executing_eagerly()


@contextlib.contextmanager
def eager_mode():
    """Runs the ops of the ``with`` block eagerly."""
    _blas_threads()
    with eager_ops():
        yield


@contextlib.contextmanager
def eager_ops():
    """`eager_mode` without its BLAS thread choice: for running a Python function's ops
    eagerly inside a Session's step (`tf.py_function`), whose threads are chosen."""
    dispatch.push_frontend(FRONTEND)
    try:
        yield
    finally:
        dispatch.pop_frontend(FRONTEND)


@contextlib.contextmanager
def graph_mode():
    """Builds graph ops in the ``with`` block, even when eager execution is enabled."""
    graph_frontend = next(f for f in dispatch._stack if not f.eager)
    dispatch.push_frontend(graph_frontend)
    try:
        yield
    finally:
        dispatch.pop_frontend(graph_frontend)
