"""The default BLAS thread count follows other processes' load: a load that has just
started counts at once (the 1-minute average would lag it), and a running Session
re-chooses as the load changes."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import miniflow as tf
from miniflow.core import blas_threads

BUSY = "while True: pass"


@pytest.fixture
def default_in_effect(monkeypatch):
    if blas_threads.current_threads() is None:
        pytest.skip("no BLAS library visible to threadpoolctl")
    for k in blas_threads._ENV:
        monkeypatch.delenv(k, raising=False)
    before, pinned = blas_threads.current_threads(), blas_threads._state["pinned"]
    blas_threads._state["pinned"] = False
    yield
    blas_threads.set_threads(before)
    blas_threads._state["pinned"] = pinned


@pytest.fixture
def busy_loops():
    """Starts one busy-looping process per core; waits until they are running."""
    procs = [
        subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(blas_threads.cpu_count())
    ]
    try:
        deadline = time.monotonic() + 20
        while (blas_threads.running_now() or 0) < len(procs) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


def test_a_load_that_has_just_started_takes_the_cores(default_in_effect, busy_loops):
    if blas_threads.cpu_count() < 2:
        pytest.skip("one core: the default is always 1")
    assert blas_threads.default_threads() == 1
    tf.Session().close()
    assert blas_threads.current_threads() == 1


def test_a_running_session_follows_the_load(default_in_effect, monkeypatch):
    cores = blas_threads.cpu_count()
    if cores < 2:
        pytest.skip("one core: the default is always 1")
    readings = [cores]
    monkeypatch.setattr(blas_threads, "running_now", lambda: readings[0])
    monkeypatch.setattr(os, "getloadavg", lambda: (float(cores), 0.0, 0.0))
    with tf.Graph().as_default():
        c = tf.constant(1.0)
        sess = tf.Session()
        assert blas_threads.current_threads() == 1
        readings[0] = 0  # the other processes ended
        seen = []
        for _ in range(6):
            blas_threads.next_check[0] = 0.0  # due now
            assert sess.run(c) == 1.0
            assert blas_threads.next_check[0] > time.monotonic()  # not again for a while
            seen.append(blas_threads.current_threads())
        assert seen[0] < cores  # smoothed: one reading does not decide
        assert seen[-1] == cores
        readings[0] = cores
        for _ in range(6):
            blas_threads.next_check[0] = 0.0
            sess.run(c)
        assert blas_threads.current_threads() == 1
        sess.close()


def test_a_pin_is_not_re_chosen(default_in_effect, monkeypatch):
    monkeypatch.setattr(blas_threads, "running_now", lambda: 0)
    with tf.Graph().as_default():
        c = tf.constant(1.0)
        with tf.Session(config=tf.ConfigProto(intra_op_parallelism_threads=1)) as sess:
            blas_threads.next_check[0] = 0.0
            sess.run(c)
            assert blas_threads.current_threads() == 1
            assert blas_threads.next_check[0] == float("inf")
