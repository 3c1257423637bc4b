"""tf.train.Checkpoint / CheckpointManager: key names, numbering, max_to_keep and the
save counter as TensorFlow 2.x (`tf.compat.v1`, graph mode) gives them for the same
program; restores in graph and eager mode."""

import os

import numpy as np
import pytest

import miniflow as tf


class Model:
    pass


def _names(paths):
    return [os.path.basename(p) for p in paths]


def test_manager_in_graph_mode_matches_tensorflow(tmp_path):
    d = str(tmp_path)
    with tf.Graph().as_default():
        m = Model()
        m.w = tf.Variable([1.0, 2.0], name="w")
        m.layers = [tf.Variable(3.0, name="b")]
        step = tf.Variable(0, dtype=tf.int64, name="step")
        c = tf.train.Checkpoint(model=m, step=step)
        mgr = tf.train.CheckpointManager(c, d, max_to_keep=2)
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            paths = [mgr.save() for _ in range(3)]
            # TensorFlow: ['ckpt-1', 'ckpt-2', 'ckpt-3'] ['ckpt-2', 'ckpt-3'] ckpt-3
            assert _names(paths) == ["ckpt-1", "ckpt-2", "ckpt-3"]
            assert _names(mgr.checkpoints) == ["ckpt-2", "ckpt-3"]
            assert mgr.latest_checkpoint == paths[-1] == tf.train.latest_checkpoint(d)
            assert not tf.train.checkpoint_exists(paths[0])
            # TensorFlow also lists its _CHECKPOINTABLE_OBJECT_GRAPH entry.
            assert sorted(n for n, _ in tf.train.list_variables(d)) == [
                "model/layers/0/.ATTRIBUTES/VARIABLE_VALUE",
                "model/w/.ATTRIBUTES/VARIABLE_VALUE",
                "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
                "step/.ATTRIBUTES/VARIABLE_VALUE",
            ]
            p4 = mgr.save(checkpoint_number=10)
            assert _names([p4]) == ["ckpt-10"]
            assert _names(mgr.checkpoints) == ["ckpt-3", "ckpt-10"]
            assert tf.train.load_variable(d, "save_counter/.ATTRIBUTES/VARIABLE_VALUE") == 4
            sess.run(m.w.assign([5.0, 6.0]))
            status = c.restore(mgr.latest_checkpoint)
            np.testing.assert_array_equal(sess.run(m.w), [5.0, 6.0])  # not yet
            status.assert_consumed()
            status.run_restore_ops(sess)
            np.testing.assert_array_equal(sess.run(m.w), [1.0, 2.0])
            assert _names([c.save(os.path.join(d, "other"))]) == ["other-5"]
        # A new manager on the directory finds the existing checkpoints.
        again = tf.train.CheckpointManager(c, d, max_to_keep=3)
        assert _names(again.checkpoints)[-1] == "other-5"


def test_eager_restore_is_immediate_and_mismatches_are_reported(tmp_path):
    with tf.eager_mode():
        opt_var = tf.Variable(np.ones((2, 2), np.float32))
        opt = tf.train.AdagradOptimizer(0.1)
        opt.minimize(lambda: tf.reduce_sum(opt_var * opt_var), var_list=[opt_var])
        c = tf.train.Checkpoint(optimizer=opt, v=opt_var)
        path = c.save(str(tmp_path / "ck"))
        assert _names([path]) == ["ck-1"] and c.save_counter == 1
        saved_v = opt_var.numpy().copy()
        accum = opt.get_slot(opt_var, "accumulator")
        saved_accum = accum.numpy().copy()
        opt.minimize(lambda: tf.reduce_sum(opt_var * opt_var), var_list=[opt_var])
        assert not np.array_equal(opt_var.numpy(), saved_v)
        status = c.restore(path)
        np.testing.assert_array_equal(opt_var.numpy(), saved_v)
        np.testing.assert_array_equal(accum.numpy(), saved_accum)
        status.assert_consumed()
        partial = tf.train.Checkpoint(v=opt_var)
        st = partial.restore(path)
        st.assert_existing_objects_matched()
        with pytest.raises(AssertionError, match="Unresolved checkpoint values"):
            st.assert_consumed()
        wrong = tf.train.Checkpoint(v=tf.Variable(np.zeros(3, np.float32)))
        with pytest.raises(ValueError, match="has shape"):
            wrong.restore(path)
        with pytest.raises(tf.errors.NotFoundError):
            c.restore(str(tmp_path / "missing"))


def test_manager_arguments_and_restore_or_initialize(tmp_path):
    with tf.eager_mode():
        v = tf.Variable(1.0)
        c = tf.train.Checkpoint(v=v)
        with pytest.raises(ValueError, match="positive integer or `None`"):
            tf.train.CheckpointManager(c, str(tmp_path), max_to_keep=0)
        with pytest.raises(ValueError, match="`step_counter` should be passed"):
            tf.train.CheckpointManager(c, str(tmp_path), 1, checkpoint_interval=2)
        calls = []
        mgr = tf.train.CheckpointManager(
            c, str(tmp_path), max_to_keep=None, init_fn=lambda: calls.append(1)
        )
        assert mgr.restore_or_initialize() is None and calls == [1]
        saved = mgr.save()
        v.assign(7.0)
        assert mgr.restore_or_initialize() == saved and float(v.numpy()) == 1.0
        step = tf.Variable(0, dtype=tf.int64)
        timed = tf.train.CheckpointManager(
            c, str(tmp_path / "t"), None, step_counter=step, checkpoint_interval=5
        )
        # TF 2.21 on the same calls: ckpt-1 (mgr), then ckpt-2, None, ckpt-3 (one save_counter)
        assert saved == str(tmp_path / "ckpt-1")
        assert timed.save() == str(tmp_path / "t" / "ckpt-2")
        step.assign(3)
        assert timed.save() is None
        step.assign(5)
        assert timed.save() == str(tmp_path / "t" / "ckpt-3")
        assert timed.checkpoints == [str(tmp_path / "t" / f"ckpt-{i}") for i in (2, 3)]
    with tf.Graph().as_default():
        g = tf.train.Checkpoint(v=tf.Variable(1.0))
        with pytest.raises(ValueError, match="needs a session"):
            g.save(str(tmp_path / "g"))


def test_checkpoint_options_are_accepted(tmp_path):
    opts = tf.train.CheckpointOptions(experimental_io_device="/job:localhost")
    assert opts.experimental_io_device == "/job:localhost" and not opts.enable_async
    with tf.eager_mode():
        v = tf.Variable(2.0)
        c = tf.train.Checkpoint(v=v)
        path = c.save(str(tmp_path / "o"), options=opts)
        v.assign(0.0)
        c.restore(path, options=opts)
        assert float(v.numpy()) == 2.0
