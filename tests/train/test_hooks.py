"""The standard SessionRunHooks, each against hand-computed expectations or numbers
taken from real TensorFlow 2.21 (tf.compat.v1) running the same program."""

import glob
import json
import logging
import os
import threading
import time

import numpy as np
import pytest

import miniflow as tf


def _model():
    """w starts at 3, loss = w^2, SGD(0.25): w halves every step."""
    gs = tf.train.get_or_create_global_step()
    w = tf.get_variable("w", [], initializer=tf.constant_initializer(3.0))
    loss = tf.square(w)
    train = tf.train.GradientDescentOptimizer(0.25).minimize(loss, global_step=gs)
    return gs, w, loss, train


def _train(hooks, session_creator=None):
    runs = 0
    with tf.train.MonitoredSession(session_creator, hooks=hooks) as sess:
        while not sess.should_stop():
            sess.run("GradientDescent")
            runs += 1
    return runs


class _Listener(tf.train.CheckpointSaverListener):
    def __init__(self, stop_at=None):
        self.log, self._stop_at = [], stop_at

    def begin(self):
        self.log.append("begin")

    def before_save(self, session, step):
        self.log.append(("before", int(step)))

    def after_save(self, session, step):
        self.log.append(("after", int(step)))
        return step == self._stop_at

    def end(self, session, step):
        self.log.append(("end", int(step)))


# -- SecondOrStepTimer --------------------------------------------------------------------
def test_second_or_step_timer_by_steps():
    timer = tf.train.SecondOrStepTimer(every_steps=3)
    assert timer.should_trigger_for_step(0)  # the first query always triggers
    assert timer.update_last_triggered_step(0) == (None, None)
    assert [s for s in range(1, 10) if timer.should_trigger_for_step(s)] == [3, 4, 5, 6, 7, 8, 9]
    secs, steps = timer.update_last_triggered_step(3)
    assert steps == 3 and secs >= 0
    assert not timer.should_trigger_for_step(3) and not timer.should_trigger_for_step(5)
    assert timer.should_trigger_for_step(6) and timer.last_triggered_step() == 3


def test_second_or_step_timer_arguments():
    with pytest.raises(ValueError, match="Either every_secs or every_steps"):
        tf.train.SecondOrStepTimer()
    with pytest.raises(ValueError, match="Can not provide both"):
        tf.train.SecondOrStepTimer(every_secs=1, every_steps=1)
    timer = tf.train.SecondOrStepTimer(every_secs=3600)
    timer.update_last_triggered_step(0)
    assert not timer.should_trigger_for_step(100)


# -- StopAtStepHook -------------------------------------------------------------------------
def test_stop_at_step_stops_at_exactly_last_step():
    with tf.Graph().as_default():
        gs, w, _, _ = _model()
        hook = tf.train.StopAtStepHook(last_step=7)
        final = tf.train.FinalOpsHook([gs, w])
        assert _train([hook, final]) == 7
        assert final.final_ops_values[0] == 7
        assert final.final_ops_values[1] == np.float32(3.0 * 0.5**7)


def test_stop_at_step_num_steps_counts_from_the_restored_step(tmp_path):
    for expected_last in (4, 8):
        with tf.Graph().as_default():
            gs, _, _, _ = _model()
            final = tf.train.FinalOpsHook(gs)
            creator = tf.train.ChiefSessionCreator(checkpoint_dir=str(tmp_path))
            hooks = [
                tf.train.StopAtStepHook(num_steps=4),
                tf.train.CheckpointSaverHook(str(tmp_path), save_steps=100),
                final,
            ]
            assert _train(hooks, creator) == 4
            assert final.final_ops_values == expected_last


def test_stop_at_step_arguments_and_global_step_required():
    with pytest.raises(ValueError, match="One of num_steps or last_step"):
        tf.train.StopAtStepHook()
    with pytest.raises(ValueError, match="Only one of"):
        tf.train.StopAtStepHook(num_steps=1, last_step=1)
    with tf.Graph().as_default():
        tf.Variable(1.0)
        with pytest.raises(RuntimeError, match="Global step should be created"):
            tf.train.MonitoredSession(hooks=[tf.train.StopAtStepHook(last_step=1)])


# -- CheckpointSaverHook ----------------------------------------------------------------------
def test_checkpoint_saver_saves_at_the_steps_tf_saves(tmp_path):
    # TensorFlow 2.21, same program (save_steps=3, last_step=10): listener log and
    # checkpoint list below.
    with tf.Graph().as_default():
        _model()
        listener = _Listener()
        hooks = [
            tf.train.CheckpointSaverHook(str(tmp_path), save_steps=3, listeners=[listener]),
            tf.train.StopAtStepHook(last_step=10),
        ]
        assert _train(hooks) == 10
    assert listener.log == [
        "begin",
        ("before", 0),
        ("after", 0),
        ("before", 3),
        ("after", 3),
        ("before", 6),
        ("after", 6),
        ("before", 9),
        ("after", 9),
        ("before", 10),
        ("after", 10),
        ("end", 10),
    ]
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert [os.path.basename(p) for p in state.all_model_checkpoint_paths] == [
        "model.ckpt-0",
        "model.ckpt-3",
        "model.ckpt-6",
        "model.ckpt-9",
        "model.ckpt-10",
    ]
    assert tf.train.load_variable(str(tmp_path), "w") == np.float32(3.0 * 0.5**10)


def test_checkpoint_listener_can_stop_training(tmp_path):
    with tf.Graph().as_default():
        _model()
        listener = _Listener(stop_at=4)
        hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=2, listeners=[listener])
        assert _train([hook, tf.train.StopAtStepHook(last_step=100)]) == 4
    assert listener.log[-1] == ("end", 4)


def test_checkpoint_saver_needs_exactly_one_saver(tmp_path):
    with pytest.raises(ValueError, match="both saver and scaffold"):
        tf.train.CheckpointSaverHook(
            str(tmp_path), save_steps=1, saver=object(), scaffold=tf.train.Scaffold()
        )
    with tf.Graph().as_default():
        _model()
        hook = tf.train.CheckpointSaverHook(str(tmp_path), save_steps=1)
        with pytest.raises(RuntimeError, match="No items in collection savers"):
            with tf.train.MonitoredSession(
                tf.train.ChiefSessionCreator(tf.train.Scaffold(saver=tf.train.Saver())),
                hooks=[hook],
            ):
                pass


# -- NanTensorHook ---------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_tensor_hook_raises_on_nan_loss(caplog):
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [])
        loss = tf.log(x)
        with tf.train.MonitoredSession(hooks=[tf.train.NanTensorHook(loss)]) as sess:
            assert sess.run(loss, {x: 1.0}) == 0.0
            with caplog.at_level(logging.ERROR, logger="miniflow"):
                with pytest.raises(tf.train.NanLossDuringTrainingError) as info:
                    sess.run(loss, {x: -1.0})
    assert str(info.value) == "NaN loss during training."  # TF's message
    assert "Model diverged with loss = NaN." in caplog.text
    assert issubclass(tf.train.NanLossDuringTrainingError, RuntimeError)


@pytest.mark.filterwarnings("ignore:invalid value encountered")
def test_nan_tensor_hook_can_request_stop_instead():
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [])
        hook = tf.train.NanTensorHook(tf.sqrt(x), fail_on_nan_loss=False)
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            sess.run(x, {x: 4.0})
            assert not sess.should_stop()
            sess.run(x, {x: -4.0})
            assert sess.should_stop()


# -- LoggingTensorHook -----------------------------------------------------------------------
def test_logging_tensor_hook_every_n_iter_in_tf_format(caplog):
    with tf.Graph().as_default():
        gs, w, loss, _ = _model()
        hook = tf.train.LoggingTensorHook({"loss": loss, "step": gs}, every_n_iter=2)
        with caplog.at_level(logging.INFO, logger="miniflow"):
            _train([hook, tf.train.StopAtStepHook(last_step=5)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("loss =")]
    # Logged before runs 0, 2 and 4 (loss of w = 3, 0.75, 0.1875), tags sorted.
    assert len(lines) == 3
    assert lines[0] == "loss = 9.0, step = 1"
    assert lines[1].startswith("loss = 0.5625, step = 3 (") and lines[1].endswith(" sec)")
    assert lines[2].startswith("loss = 0.03515625, step = 5 (")


def test_logging_tensor_hook_list_of_names_formatter_and_at_end(caplog):
    with tf.Graph().as_default():
        gs, w, loss, _ = _model()
        tf.identity(loss, name="my_loss")
        hook = tf.train.LoggingTensorHook(["my_loss", "w:0"], at_end=True)
        custom = tf.train.LoggingTensorHook(
            {"loss": loss}, every_n_iter=1, formatter=lambda v: f"custom {v['loss']:.2f}"
        )
        with caplog.at_level(logging.INFO, logger="miniflow"):
            _train([hook, custom, tf.train.StopAtStepHook(last_step=2)])
    messages = [r.getMessage() for r in caplog.records]
    assert "my_loss = 0.5625, w:0 = 0.75" in messages  # only at the end: w = 3/4
    assert [m for m in messages if m.startswith("custom")] == ["custom 9.00", "custom 2.25"]
    with pytest.raises(ValueError, match="exactly one of every_n_iter and every_n_secs"):
        tf.train.LoggingTensorHook(["a"])
    with pytest.raises(ValueError, match="invalid every_n_iter=0"):
        tf.train.LoggingTensorHook(["a"], every_n_iter=0)


# -- StepCounterHook and SummarySaverHook --------------------------------------------------------
def _scalars(logdir):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(logdir))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


def test_step_counter_and_summary_saver_write_tensorboard_events(tmp_path):
    # TensorFlow 2.21 writes, for this program: loss at steps 1, 3, 5, 7 with values
    # 9, 0.5625, 0.035156, 0.002197, and global_step/sec at steps 4 and 7.
    with tf.Graph().as_default():
        gs, w, loss, _ = _model()
        summary = tf.summary.scalar("loss", loss)
        hooks = [
            tf.train.StepCounterHook(every_n_steps=3, output_dir=str(tmp_path)),
            tf.train.SummarySaverHook(save_steps=2, output_dir=str(tmp_path), summary_op=summary),
            tf.train.StopAtStepHook(last_step=7),
        ]
        _train(hooks)
    scalars = _scalars(tmp_path)
    assert [s for s, _ in scalars["loss"]] == [1, 3, 5, 7]
    np.testing.assert_allclose(
        [v for _, v in scalars["loss"]], [9.0, 0.5625, 0.03515625, 0.002197265625]
    )
    assert [s for s, _ in scalars["global_step/sec"]] == [4, 7]
    assert all(v > 0 for _, v in scalars["global_step/sec"])


def test_summary_saver_arguments():
    with pytest.raises(ValueError, match="Exactly one of scaffold or summary_op"):
        tf.train.SummarySaverHook(save_steps=1)
    with pytest.raises(ValueError, match="exactly one of every_n_steps and every_n_secs"):
        tf.train.StepCounterHook(every_n_steps=None)


# -- FeedFnHook, FinalOpsHook, GlobalStepWaiterHook, ProfilerHook -------------------------------
def test_feed_fn_hook_feeds_every_run_and_conflicts_are_errors():
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [])
        y = x * 2
        counter = iter(range(100))
        hook = tf.train.FeedFnHook(lambda: {x: float(next(counter))})
        with tf.train.MonitoredSession(hooks=[hook]) as sess:
            assert [sess.run(y) for _ in range(3)] == [0.0, 2.0, 4.0]
            with pytest.raises(RuntimeError, match="fed by a SessionRunHook and user"):
                sess.run(x, {x: 1.0})


def test_final_ops_hook_runs_at_end_with_feed():
    with tf.Graph().as_default():
        tf.train.get_or_create_global_step()
        x = tf.placeholder(tf.float32, [])
        hook = tf.train.FinalOpsHook({"y": x + 1}, final_ops_feed_dict={x: 41.0})
        with tf.train.MonitoredSession(hooks=[hook]):
            assert hook.final_ops_values is None
        assert hook.final_ops_values == {"y": 42.0}


def test_global_step_waiter_hook_blocks_until_the_step_is_reached():
    with tf.Graph().as_default():
        gs, _, _, train = _model()
        waiter = tf.train.GlobalStepWaiterHook(wait_until_step=3)
        with tf.train.MonitoredSession(hooks=[waiter]) as sess:
            raw = sess._tf_sess()

            def other_worker():
                for _ in range(3):
                    time.sleep(0.05)
                    raw.run(train)

            worker = threading.Thread(target=other_worker)
            worker.start()
            # The first run waits for the other worker's three steps.
            assert sess.run(gs) == 3
            worker.join()
            assert sess.run(gs) == 3  # no waiting any more


def test_profiler_hook_writes_chrome_traces(tmp_path):
    with tf.Graph().as_default():
        _model()
        hook = tf.train.ProfilerHook(save_steps=2, output_dir=str(tmp_path))
        _train([hook, tf.train.StopAtStepHook(last_step=6)])
    files = sorted(os.path.basename(f) for f in glob.glob(str(tmp_path / "timeline-*.json")))
    # TensorFlow 2.21 writes timeline-2, -4 and -6 for this program.
    assert files == ["timeline-2.json", "timeline-4.json", "timeline-6.json"]
    with open(tmp_path / "timeline-4.json") as fh:
        assert any(e.get("ph") == "X" for e in json.load(fh)["traceEvents"])
