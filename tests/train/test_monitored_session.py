"""MonitoredSession / MonitoredTrainingSession / SingularMonitoredSession, Scaffold,
session creators and Supervisor. Expected numbers marked "TF" come from real TensorFlow
2.21 (tf.compat.v1) running the same program."""

import os
import threading

import numpy as np
import pytest

import miniflow as tf


def _model():
    """w starts at 3, loss = w^2, SGD(0.25): w halves every step."""
    gs = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [], initializer=tf.constant_initializer(3.0))
    loss = tf.square(w)
    tf.summary.scalar("loss", loss)
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss, global_step=gs)
    return gs, w, loss, train


def _checkpoints(d):
    state = tf.train.get_checkpoint_state(str(d))
    return [os.path.basename(p) for p in state.all_model_checkpoint_paths]


class _Recorder(tf.train.SessionRunHook):
    def __init__(self, fetches=None, feed_dict=None, stop_after=None):
        self.calls, self.results, self.original = [], [], []
        self._fetches, self._feed, self._stop_after = fetches, feed_dict, stop_after

    def begin(self):
        self.calls.append("begin")

    def after_create_session(self, session, coord):
        self.calls.append("after_create_session")
        self.coord = coord

    def before_run(self, run_context):
        self.calls.append("before_run")
        self.original.append(run_context.original_args)
        return tf.train.SessionRunArgs(self._fetches, self._feed)

    def after_run(self, run_context, run_values):
        self.calls.append("after_run")
        self.results.append(run_values.results)
        if self._stop_after is not None and len(self.results) >= self._stop_after:
            run_context.request_stop()

    def end(self, session):
        self.calls.append("end")


def test_classic_tf1_program_runs_and_resumes_from_checkpoint_dir(tmp_path):
    # TF: first run (last_step=7) starts at 0 and ends with w = 0.0234375; the restart
    # (last_step=12) starts at 7 and ends with w = 0.0007324219; with the default
    # save_checkpoint_secs=600 the checkpoints are model.ckpt-0, -7, -12.
    results = []
    for last_step in (7, 12):
        with tf.Graph().as_default():
            global_step = tf.train.get_or_create_global_step()
            w = tf.get_variable("w", [], initializer=tf.constant_initializer(3.0))
            loss = tf.square(w)
            train_op = tf.train.GradientDescentOptimizer(0.25).minimize(
                loss, global_step=global_step
            )
            hooks = [tf.train.StopAtStepHook(last_step=last_step), tf.train.NanTensorHook(loss)]
            with tf.train.MonitoredTrainingSession(
                checkpoint_dir=str(tmp_path), hooks=hooks
            ) as mon_sess:
                first = mon_sess.run(global_step)
                while not mon_sess.should_stop():
                    mon_sess.run(train_op)
            results.append((first, tf.train.load_variable(str(tmp_path), "w")))
    assert results == [(0, np.float32(0.0234375)), (7, np.float32(0.000732421875))]
    assert _checkpoints(tmp_path) == ["model.ckpt-0", "model.ckpt-7", "model.ckpt-12"]
    assert tf.train.load_variable(str(tmp_path), "global_step") == 12


def test_default_summaries_and_step_counter_are_readable_by_tensorboard(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    with tf.Graph().as_default():
        _, _, _, train = _model()
        with tf.train.MonitoredTrainingSession(
            checkpoint_dir=str(tmp_path),
            save_summaries_steps=2,
            log_step_count_steps=3,
            hooks=[tf.train.StopAtStepHook(last_step=7)],
        ) as sess:
            while not sess.should_stop():
                sess.run(train)
    acc = EventAccumulator(str(tmp_path))
    acc.Reload()
    # TF: loss at steps 1, 3, 5, 7; global_step/sec at 4 and 7; a CHECKPOINT session log
    # at step 0 and START at step 1.
    assert sorted(acc.Tags()["scalars"]) == ["global_step/sec", "loss"]
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [
        (1, 9.0),
        (3, 0.5625),
        (5, 0.03515625),
        (7, 0.002197265625),
    ]
    assert [e.step for e in acc.Scalars("global_step/sec")] == [4, 7]
    assert {"global_step", "w", "Square"} <= {n.name for n in acc.Graph().node}
    logs = [
        (e.step, e.session_log.status)
        for f in sorted(tmp_path.glob("events*"))
        for e in tf.train.summary_iterator(str(f))
        if e.HasField("session_log")
    ]
    assert logs[:2] == [(0, 3), (1, 1)]  # SessionLog.CHECKPOINT, SessionLog.START


def test_hook_call_order_and_fetch_merging():
    with tf.Graph().as_default():
        gs, w, _, train = _model()
        rec = _Recorder(fetches={"gs": gs, "w": w})
        with tf.train.MonitoredSession(hooks=[rec]) as sess:
            out = sess.run([train, gs], feed_dict=None)
            assert isinstance(out, list) and len(out) == 2
            sess.run(w)
        # TF: begin, after_create_session, (before_run, after_run) per step, end.
        assert rec.calls == [
            "begin",
            "after_create_session",
            "before_run",
            "after_run",
            "before_run",
            "after_run",
            "end",
        ]
        assert sorted(rec.results[0]) == ["gs", "w"]
        assert rec.results[1] == {"gs": 1, "w": np.float32(1.5)}
        assert rec.original[1].fetches is w and rec.original[1].feed_dict is None


def test_hook_feeds_and_request_stop():
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [])
        y = x + 1
        rec = _Recorder(fetches=y, feed_dict={x: 10.0}, stop_after=2)
        with tf.train.MonitoredSession(hooks=[rec]) as sess:
            assert sess.run(y) == 11.0
            assert not sess.should_stop()
            sess.run(y)
            assert sess.should_stop()
            with pytest.raises(RuntimeError, match="Run called even after should_stop"):
                sess.run(y)
        assert rec.results == [11.0, 11.0]
        other = _Recorder(feed_dict={x: 1.0})
        with tf.train.MonitoredSession(hooks=[rec, other]) as sess:
            with pytest.raises(RuntimeError, match="Same tensor is fed by two hooks"):
                sess.run(y)


@pytest.mark.parametrize(
    "exc", [tf.errors.OutOfRangeError(None, None, "end of data"), StopIteration()]
)
def test_out_of_range_ends_the_with_block_cleanly(exc):
    with tf.Graph().as_default():
        _, _, _, train = _model()
        rec = _Recorder()
        with tf.train.MonitoredSession(hooks=[rec]) as sess:
            sess.run(train)
            raise exc
        assert rec.calls[-1] == "end"
        assert sess.should_stop() and sess._is_closed()
        assert not tf.get_default_graph().finalized


def test_exception_in_with_block_propagates_and_closes_without_end():
    before = set(threading.enumerate())
    with tf.Graph().as_default():
        _, _, _, train = _model()
        rec = _Recorder()
        with pytest.raises(ZeroDivisionError):
            with tf.train.MonitoredSession(hooks=[rec]) as sess:
                sess.run(train)
                1 / 0  # noqa: B018
        assert "end" not in rec.calls
        assert sess._is_closed()
        with pytest.raises(RuntimeError, match="closed"):
            sess.run(train)
        assert not tf.get_default_graph().finalized
    assert [t for t in threading.enumerate() if t not in before] == []


def test_thread_error_reported_to_the_coordinator_stops_the_session():
    before = set(threading.enumerate())

    class StartsAThread(tf.train.SessionRunHook):
        def after_create_session(self, session, coord):
            def fail():
                raise ValueError("input thread failed")

            tf.train.LooperThread.loop(coord, None, fail)

    with tf.Graph().as_default():
        _, _, _, train = _model()
        with pytest.raises(ValueError, match="input thread failed"):
            with tf.train.MonitoredSession(hooks=[StartsAThread()]) as sess:
                while not sess.should_stop():
                    sess.run(train)
    assert [t for t in threading.enumerate() if t not in before] == []


def test_preemption_error_recreates_the_session():
    class FailsOnce(tf.train.SessionRunHook):
        created = 0
        failed = False

        def after_create_session(self, session, coord):
            FailsOnce.created += 1

        def before_run(self, run_context):
            if not FailsOnce.failed:
                FailsOnce.failed = True
                raise tf.errors.AbortedError(None, None, "worker preempted")

    with tf.Graph().as_default():
        gs, _, _, train = _model()
        with tf.train.MonitoredSession(hooks=[FailsOnce()]) as sess:
            assert sess.run(train) is None
        assert FailsOnce.created == 2
        with pytest.raises(tf.errors.AbortedError):
            FailsOnce.failed = False
            with tf.train.SingularMonitoredSession(hooks=[FailsOnce()]) as sess:
                sess.run(train)  # no recovery without MonitoredSession


def test_worker_waits_for_the_chief_and_gives_up_after_max_wait_secs():
    with tf.Graph().as_default():
        _model()
        with pytest.raises(
            tf.errors.DeadlineExceededError, match="Session was not ready after waiting 0 secs"
        ):  # TF's text
            tf.train.MonitoredTrainingSession(is_chief=False, max_wait_secs=0)


def test_singular_session_raw_session_and_restore_from_file(tmp_path):
    with tf.Graph().as_default():
        gs, w, _, train = _model()
        saver = tf.train.Saver()
        with tf.train.SingularMonitoredSession() as sess:
            sess.run(train)
            raw = sess.raw_session()
            assert isinstance(raw, tf.Session)
            path = saver.save(raw, str(tmp_path / "m.ckpt"), global_step=gs)
        assert os.path.basename(path) == "m.ckpt-1"
        with tf.train.SingularMonitoredSession(checkpoint_filename_with_path=path) as sess:
            assert sess.run([gs, w]) == [1, np.float32(1.5)]


def test_scaffold_defaults_custom_init_and_copy():
    with tf.Graph().as_default():
        gs, w, _, _ = _model()
        seen = []
        scaffold = tf.train.Scaffold(init_fn=lambda sc, sess: seen.append(sc))
        with tf.train.MonitoredSession(tf.train.ChiefSessionCreator(scaffold=scaffold)) as s:
            assert s.run(w) == np.float32(3.0)
            assert tf.get_default_graph().finalized
        assert seen == [scaffold]
        assert scaffold.saver in tf.get_collection(tf.GraphKeys.SAVERS)
        assert tf.get_collection("ready_op") == [scaffold.ready_op]
        copy = tf.train.Scaffold(copy_from_scaffold=scaffold, init_feed_dict={})
        assert copy.saver is scaffold.saver and copy.init_feed_dict == {}
        with pytest.raises(TypeError, match="not a Scaffold"):
            tf.train.Scaffold(copy_from_scaffold=object())
    with tf.Graph().as_default():
        tf.Variable(1.0)
        tf.add_to_collection("summary_op", tf.constant(1))
        tf.add_to_collection("summary_op", tf.constant(2))
        with pytest.raises(RuntimeError, match='More than one item in the collection "summary_op"'):
            tf.train.Scaffold().finalize()


def test_run_step_fn():
    with tf.Graph().as_default():
        gs, _, _, train = _model()
        rec = _Recorder()
        with tf.train.MonitoredSession(hooks=[rec]) as sess:
            assert sess.run_step_fn(lambda step_context: step_context.session.run(gs)) == 0
            assert rec.calls.count("before_run") == 0  # the raw session bypasses hooks
            sess.run_step_fn(lambda step_context: step_context.run_with_hooks(train))
            assert rec.calls.count("before_run") == 1

            def stop(step_context):
                step_context.request_stop()

            with pytest.raises(StopIteration):
                sess.run_step_fn(stop)
            with pytest.raises(ValueError, match="`step_fn` may either have one"):
                sess.run_step_fn(lambda x: None)


def test_session_manager_prepare_and_not_ready():
    with tf.Graph().as_default():
        v = tf.Variable(2.0, name="v")
        manager = tf.train.SessionManager(ready_op=tf.report_uninitialized_variables())
        with pytest.raises(RuntimeError, match="Variables not initialized: v"):
            manager.prepare_session("", init_op=tf.no_op())
        sess = manager.prepare_session("", init_op=tf.global_variables_initializer())
        assert sess.run(v) == 2.0
        with pytest.raises(ValueError, match="ready_for_local_init_op"):
            tf.train.SessionManager(ready_for_local_init_op=tf.no_op())


def test_supervisor_managed_session_and_basic_train_loop(tmp_path):
    before = set(threading.enumerate())
    with tf.Graph().as_default():
        gs, w, _, train = _model()
        sv = tf.train.Supervisor(
            logdir=str(tmp_path), save_summaries_secs=3600, save_model_secs=3600
        )
        steps = []

        def step(sess):
            steps.append(sess.run([train, gs])[1])
            if len(steps) == 3:
                sv.request_stop()

        tf.train.basic_train_loop(sv, step)
        assert steps == [1, 2, 3]
        # The checkpoint thread saves once when it starts, racing with the first steps (TF
        # 2.21 saved model.ckpt-3 in one run); no final save at stop, as in TF.
        (saved,) = _checkpoints(tmp_path)
        saved_step = int(saved.rsplit("-", 1)[1])
        assert 0 <= saved_step <= 3
    with tf.Graph().as_default():
        gs, _, _, _ = _model()
        sv = tf.train.Supervisor(logdir=str(tmp_path), save_model_secs=0)
        with pytest.raises(KeyError, match="inside"):
            with sv.managed_session() as sess:
                assert sess.run(gs) == saved_step  # restored
                raise KeyError("inside")
    assert [t for t in threading.enumerate() if t not in before] == []


def test_hook_run_options_are_merged_and_passed_to_after_run():
    class WantsTrace(tf.train.SessionRunHook):
        def __init__(self, level, timeout):
            self.level, self.timeout, self.seen = level, timeout, []

        def before_run(self, run_context):
            return tf.train.SessionRunArgs(
                None, options=tf.RunOptions(trace_level=self.level, timeout_in_ms=self.timeout)
            )

        def after_run(self, run_context, run_values):
            self.seen.append(
                (
                    run_values.options.trace_level,
                    run_values.options.timeout_in_ms,
                    run_values.results,
                )
            )

    assert tf.train.SessionRunArgs("x") == ("x", None, None)
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        c = tf.constant(1.0)
        a, b = WantsTrace(tf.RunOptions.FULL_TRACE, 10), WantsTrace(1, 500)
        with tf.train.MonitoredSession(hooks=[a, b]) as sess:
            sess.run(c)
        # TF keeps the largest trace level and timeout of all requests.
        assert a.seen == b.seen == [(3, 500, None)]


def test_queue_runners_start_with_the_session_and_out_of_range_ends_the_loop():
    # TF 2.21 prints [1, 2, 3, 1, 2, 3] for this program and leaves no queue thread.
    before = set(threading.enumerate())
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        queue = tf.FIFOQueue(10, tf.float32, shapes=[[]])
        data = tf.train.limit_epochs(tf.constant([1.0, 2.0, 3.0]), num_epochs=2)
        tf.train.add_queue_runner(tf.train.QueueRunner(queue, [queue.enqueue_many([data])]))
        x = queue.dequeue()
        got = []
        with tf.train.MonitoredSession() as sess:
            while not sess.should_stop():
                got.append(float(sess.run(x)))
    assert got == [1.0, 2.0, 3.0, 1.0, 2.0, 3.0]
    assert [t for t in threading.enumerate() if t not in before] == []
