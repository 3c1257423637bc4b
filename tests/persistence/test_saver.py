"""tf.train.Saver round trips, the checkpoint state file, pruning and restore errors."""

import os

import numpy as np
import pytest

import miniflow as tf
from miniflow.train.checkpoint import load_checkpoint_tensors


def _model(w_init=None, shape=(2, 3)):
    w = tf.Variable(np.zeros(shape, np.float32) if w_init is None else w_init, name="w")
    b = tf.Variable(np.zeros([shape[1]], np.float64), name="dense/b")
    n = tf.Variable(np.array([1, 2, 3], np.int64), name="counts", trainable=False)
    return w, b, n


def test_save_restore_round_trip_into_rebuilt_graph(tmp_path):
    w, b, n = _model()
    saver = tf.train.Saver()
    wv = np.arange(6, dtype=np.float32).reshape(2, 3) / 7
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run([w.assign(wv), b.assign([0.5, -1.5, 1e-300]), n.assign([7, 8, 2**40])])
        path = saver.save(sess, str(tmp_path / "model.ckpt"), global_step=42)
    assert path == str(tmp_path / "model.ckpt-42")

    tf.reset_default_graph()
    w, b, n = _model()
    saver = tf.train.Saver()
    with tf.Session() as sess:
        saver.restore(sess, path)  # no initializer needed
        got_w, got_b, got_n = sess.run([w, b, n])
    np.testing.assert_array_equal(got_w, wv)
    assert got_w.dtype == np.float32
    np.testing.assert_array_equal(got_b, [0.5, -1.5, 1e-300])
    np.testing.assert_array_equal(got_n, [7, 8, 2**40])


def test_checkpoint_state_and_max_to_keep_pruning(tmp_path):
    v = tf.Variable(0.0, name="v")
    step = tf.Variable(0, name="global_step", trainable=False)
    inc = [v.assign_add(1.0), step.assign_add(1)]
    saver = tf.train.Saver(max_to_keep=2)
    prefix = str(tmp_path / "model.ckpt")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for _ in range(4):
            sess.run(inc)
            saver.save(sess, prefix, global_step=step)  # a tensor step is evaluated
    state = tf.train.get_checkpoint_state(str(tmp_path))
    assert state.model_checkpoint_path == prefix + "-4"
    assert state.all_model_checkpoint_paths == [prefix + "-3", prefix + "-4"]
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix + "-4"
    assert saver.last_checkpoints == [prefix + "-3", prefix + "-4"]
    assert not tf.train.checkpoint_exists(prefix + "-2")
    assert not [f for f in os.listdir(tmp_path) if f.startswith("model.ckpt-1")]
    # The state file stores paths relative to its directory (the run can be moved).
    text = (tmp_path / "checkpoint").read_text()
    assert 'model_checkpoint_path: "model.ckpt-4"' in text
    assert float(tf.train.load_variable(str(tmp_path), "v")) == 4.0
    assert tf.train.list_variables(prefix + "-3") == [("global_step", []), ("v", [])]


def test_no_state_file_means_no_checkpoint(tmp_path):
    assert tf.train.latest_checkpoint(str(tmp_path)) is None
    assert tf.train.get_checkpoint_state(str(tmp_path)) is None


def test_saver_with_name_dict_restores_under_other_variables(tmp_path):
    a = tf.Variable([1.0, 2.0], name="a")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver({"shadow/a": a}).save(sess, str(tmp_path / "c"))
    assert [n for n, _ in tf.train.list_variables(path)] == ["shadow/a"]
    tf.reset_default_graph()
    other = tf.Variable([0.0, 0.0], name="other")
    with tf.Session() as sess:
        tf.train.Saver(var_list={"shadow/a": other}).restore(sess, path)
        np.testing.assert_array_equal(sess.run(other), [1.0, 2.0])


def test_missing_variable_raises_not_found_naming_it(tmp_path):
    tf.Variable(1.0, name="x")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "c"))
    tf.reset_default_graph()
    tf.Variable(1.0, name="x")
    tf.Variable(2.0, name="extra_var")
    with tf.Session() as sess, pytest.raises(tf.errors.NotFoundError, match="extra_var"):
        tf.train.Saver().restore(sess, path)


def test_misshaped_variable_raises_invalid_argument_naming_it(tmp_path):
    tf.Variable(np.zeros([2, 3], np.float32), name="kernel")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "c"))
    tf.reset_default_graph()
    k = tf.Variable(np.ones([3, 2], np.float32), name="kernel")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(tf.errors.InvalidArgumentError, match=r"kernel.*\[2, 3\].*\[3, 2\]"):
            tf.train.Saver().restore(sess, path)
        np.testing.assert_array_equal(sess.run(k), np.ones([3, 2]))  # untouched


def test_wrong_dtype_raises_invalid_argument(tmp_path):
    tf.Variable(np.zeros([2], np.float32), name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "c"))
    tf.reset_default_graph()
    tf.Variable(np.zeros([2], np.int32), name="v")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError, match="int32"):
        tf.train.Saver().restore(sess, path)


def test_saving_uninitialized_variable_fails(tmp_path):
    tf.Variable(1.0, name="late")
    with tf.Session() as sess, pytest.raises(tf.errors.FailedPreconditionError, match="late"):
        tf.train.Saver().save(sess, str(tmp_path / "c"))
    assert not os.path.exists(tmp_path / "c.index")


def test_restore_of_nonexistent_prefix_and_empty_saver(tmp_path):
    tf.Variable(1.0, name="v")
    with tf.Session() as sess, pytest.raises(ValueError, match="not a valid checkpoint"):
        tf.train.Saver().restore(sess, str(tmp_path / "nothing"))
    tf.reset_default_graph()
    with pytest.raises(ValueError, match="No variables to save"):
        tf.train.Saver()


def test_crash_before_index_commit_keeps_previous_checkpoint(tmp_path, monkeypatch):
    """A save interrupted after the data file is written leaves the old checkpoint."""
    from miniflow.core import atomic_file

    v = tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    prefix = str(tmp_path / "m")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, prefix)
        sess.run(v.assign(2.0))
        real_replace = os.replace

        def crash_on_index(src, dst):
            if str(dst).endswith(".index"):
                raise KeyboardInterrupt("simulated crash")
            real_replace(src, dst)

        monkeypatch.setattr(atomic_file.os, "replace", crash_on_index)
        with pytest.raises(KeyboardInterrupt):
            saver.save(sess, prefix)
        monkeypatch.undo()
    assert float(load_checkpoint_tensors(prefix)["v"]) == 1.0
    assert tf.train.latest_checkpoint(str(tmp_path)) == prefix
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".tmp")]


def test_save_into_missing_directory_is_refused(tmp_path):
    tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match="Parent directory"):
            tf.train.Saver().save(sess, str(tmp_path / "missing" / "model.ckpt"))
    assert not (tmp_path / "missing").exists()


def test_session_of_another_graph_or_no_session_is_refused(tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver()
    with tf.Session(graph=tf.Graph()) as other:
        with pytest.raises(ValueError, match="another graph"):
            saver.save(other, str(tmp_path / "c"))
    with pytest.raises(TypeError, match="Session"):
        saver.restore(None, str(tmp_path / "c"))


def test_import_over_existing_names_asks_for_a_scope(tmp_path):
    tf.Variable(1.0, name="v")
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    with pytest.raises(tf.errors.InvalidArgumentError, match="import_scope"):
        tf.train.import_meta_graph(str(tmp_path / "g.meta"))


def test_meta_graph_is_encoded_once_per_graph_state(tmp_path, monkeypatch):
    from miniflow.graph import serialization

    calls = []
    real = serialization.graph_to_dict
    monkeypatch.setattr(
        serialization, "graph_to_dict", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    v = tf.Variable(np.ones(3, np.float32), name="v")
    saver = tf.train.Saver()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            saver.save(sess, str(tmp_path / "m"), global_step=step)
        assert len(calls) == 1
        tf.identity(v, name="new_op")  # the graph changed: encoded again
        last = saver.save(sess, str(tmp_path / "m"), global_step=3)
    assert len(calls) == 2
    tf.reset_default_graph()
    tf.train.import_meta_graph(last + ".meta")
    assert tf.get_default_graph().get_operation_by_name("new_op").type == "Identity"
    assert (tmp_path / "m-2.meta").read_bytes() == (tmp_path / "m-1.meta").read_bytes()


def test_keep_checkpoint_every_n_hours_preserves_old_checkpoints(tmp_path):
    tf.Variable(1.0, name="v")
    saver = tf.train.Saver(max_to_keep=1, keep_checkpoint_every_n_hours=1e-12)
    keep_all = tf.train.Saver(max_to_keep=None)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for step in range(3):
            saver.save(sess, str(tmp_path / "a"), global_step=step)
            keep_all.save(sess, str(tmp_path / "b"), global_step=step, latest_filename="b")
    # Every interval elapsed, so each checkpoint leaving the window was preserved.
    assert all(tf.train.checkpoint_exists(str(tmp_path / f"a-{s}")) for s in range(3))
    assert saver.last_checkpoints == [str(tmp_path / "a-2")]
    assert tf.train.get_checkpoint_state(str(tmp_path), "b").all_model_checkpoint_paths == [
        str(tmp_path / f"b-{s}") for s in range(3)
    ]


def test_string_variables_round_trip_without_pickle(tmp_path):
    v = tf.Variable(["héllo".encode(), b"x"], name="s")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "c"))
        sess.run(v.assign([b"", b""]))
        tf.train.Saver().restore(sess, path)
        got = sess.run(v)
    assert got.dtype == object and list(got) == ["héllo".encode(), b"x"]
