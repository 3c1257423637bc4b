"""tf.train.Coordinator and LooperThread: real threads, stop requests, join with a grace
period, exception re-raise, no thread left behind."""

import threading
import time

import pytest

import miniflow as tf


def _alive_besides(before):
    return [t for t in threading.enumerate() if t not in before and t.is_alive()]


def test_request_stop_is_seen_by_all_threads_and_join_returns():
    coord = tf.train.Coordinator()
    before = set(threading.enumerate())
    seen = []

    def work(i):
        while not coord.should_stop():
            time.sleep(0.001)
        seen.append(i)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    assert not coord.should_stop()
    coord.request_stop()
    coord.join(threads, stop_grace_period_secs=5)
    assert sorted(seen) == [0, 1, 2]
    assert coord.joined and coord.should_stop()
    assert _alive_besides(before) == []


def test_join_reraises_the_first_exception_of_a_thread():
    coord = tf.train.Coordinator()

    def bad():
        with coord.stop_on_exception():
            raise ValueError("boom in thread")

    def second():
        with coord.stop_on_exception():
            coord.wait_for_stop()
            raise KeyError("second error is ignored")

    threads = [threading.Thread(target=second), threading.Thread(target=bad)]
    for t in threads:
        t.start()
    with pytest.raises(ValueError, match="boom in thread"):
        coord.join(threads, stop_grace_period_secs=5)
    assert not any(t.is_alive() for t in threads)


def test_out_of_range_is_a_clean_stop_unless_configured_otherwise():
    coord = tf.train.Coordinator()
    coord.request_stop(tf.errors.OutOfRangeError(None, None, "end of input"))
    assert coord.should_stop()
    coord.join([])  # not re-raised
    strict = tf.train.Coordinator(clean_stop_exception_types=[])
    strict.request_stop(tf.errors.OutOfRangeError(None, None, "end of input"))
    with pytest.raises(tf.errors.OutOfRangeError):
        strict.join([])


def test_raise_requested_exception_and_clear_stop():
    coord = tf.train.Coordinator()
    coord.raise_requested_exception()  # nothing requested: no error
    try:
        raise RuntimeError("reported")
    except RuntimeError as e:
        coord.request_stop(e)
    with pytest.raises(RuntimeError, match="reported"):
        coord.raise_requested_exception()
    coord.clear_stop()
    assert not coord.should_stop()
    coord.raise_requested_exception()


def test_join_with_a_straggler_raises_after_the_grace_period():
    coord = tf.train.Coordinator()
    release = threading.Event()
    t = threading.Thread(target=release.wait, name="straggler")
    t.start()
    try:
        coord.request_stop()
        start = time.monotonic()
        with pytest.raises(RuntimeError, match="threads still running: straggler"):
            coord.join([t], stop_grace_period_secs=0.2)
        assert 0.15 < time.monotonic() - start < 3
        coord.clear_stop()
        coord.request_stop()
        coord.join([t], stop_grace_period_secs=0.05, ignore_live_threads=True)
    finally:
        release.set()
        t.join()


def test_request_stop_after_join_raises_the_exception_at_once():
    coord = tf.train.Coordinator()
    coord.request_stop()
    coord.join([])
    with pytest.raises(ValueError, match="late"):
        coord.request_stop(ValueError("late"))


def test_looper_thread_runs_target_on_a_timer_until_stop():
    coord = tf.train.Coordinator()
    before = set(threading.enumerate())
    calls = []
    looper = tf.train.LooperThread.loop(coord, 0.01, target=calls.append, args=(1,))
    assert looper.daemon
    time.sleep(0.2)
    coord.request_stop()
    coord.join(stop_grace_period_secs=5)  # the looper registered itself
    assert 3 <= len(calls)  # first call at once, then every 10 ms
    assert _alive_besides(before) == []


def test_looper_thread_subclass_hooks_and_error_reporting():
    coord = tf.train.Coordinator()
    events = []

    class Looper(tf.train.LooperThread):
        def start_loop(self):
            events.append("start")

        def run_loop(self):
            events.append("loop")
            if len(events) == 3:
                raise ZeroDivisionError("in loop")

    Looper(coord, None).start()
    with pytest.raises(ZeroDivisionError, match="in loop"):
        coord.join(stop_grace_period_secs=5)
    assert events == ["start", "loop", "loop"]


def test_looper_thread_rejects_bad_arguments():
    with pytest.raises(ValueError, match="must be a Coordinator"):
        tf.train.LooperThread(object(), 1)
    with pytest.raises(ValueError, match="require that you also pass 'target'"):
        tf.train.LooperThread(tf.train.Coordinator(), 1, args=(1,))
