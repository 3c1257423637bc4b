"""TF1's checkpoint utilities (reader, load/remove, iterator, state proto, warm starts)
and the cluster/saver description classes. Expected errors and values were observed with
TensorFlow 2.x `tf.compat.v1` running the same calls."""

import os
import threading
import time

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _save(directory, name="m"):
    with tf.Graph().as_default():
        with tf.variable_scope("old"):
            tf.get_variable("a", initializer=[1.0, 2.0])
            tf.get_variable("b", initializer=[[3.0]])
        saver = tf.train.Saver()
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            return saver.save(sess, os.path.join(str(directory), name))


def test_reader_load_and_remove(tmp_path):
    prefix = _save(tmp_path)
    for reader in (tf.train.NewCheckpointReader(prefix), tf.train.load_checkpoint(tmp_path)):
        assert reader.get_variable_to_shape_map() == {"old/a": [2], "old/b": [1, 1]}
        assert reader.get_variable_to_dtype_map()["old/a"] == tf.float32
        np.testing.assert_array_equal(reader.get_tensor("old/b"), [[3.0]])
        assert reader.has_tensor("old/a") and not reader.has_tensor("old/c")
        with pytest.raises(tf.errors.NotFoundError):
            reader.get_tensor("old/c")
    with pytest.raises(tf.errors.NotFoundError):
        tf.train.NewCheckpointReader(str(tmp_path / "nothing"))
    with pytest.raises(ValueError, match="Couldn't find 'checkpoint' file"):
        tf.train.load_checkpoint(_empty_dir(tmp_path))
    tf.train.remove_checkpoint(prefix)
    assert not tf.train.checkpoint_exists(prefix)
    assert not [f for f in os.listdir(tmp_path) if f.startswith("m.")]


def _empty_dir(tmp_path):
    path = tmp_path / "empty"
    path.mkdir()
    return str(path)


def test_checkpoints_iterator_yields_new_checkpoints_then_times_out(tmp_path):
    first = _save(tmp_path, "m-1")
    it = tf.train.checkpoints_iterator(str(tmp_path), timeout=2.5)  # polls once a second
    assert next(it) == first
    second = {}
    saver = threading.Timer(0.1, lambda: second.setdefault("p", _save(tmp_path, "m-2")))
    saver.start()
    got = next(it)
    saver.join()
    assert got == second["p"]
    start = time.time()
    assert list(it) == []  # nothing new within the timeout
    assert time.time() - start < 6


def test_generate_checkpoint_state_proto_follows_tf():
    st = tf.train.generate_checkpoint_state_proto("/abs/dir", "/abs/dir/m-2", ["/abs/dir/m-1"])
    assert st.model_checkpoint_path == "/abs/dir/m-2"
    assert st.all_model_checkpoint_paths == ["/abs/dir/m-1", "/abs/dir/m-2"]
    rel = tf.train.generate_checkpoint_state_proto("rel", "rel/m-3")
    assert (rel.model_checkpoint_path, rel.all_model_checkpoint_paths) == ("m-3", ["m-3"])
    with pytest.raises(ValueError, match="timestamps, if provided, must match"):
        tf.train.generate_checkpoint_state_proto("d", "d/m", ["d/a", "d/m"], [1.0])


def test_init_from_checkpoint_scopes_and_single_variables(tmp_path):
    _save(tmp_path)
    with tf.variable_scope("new"):
        a = tf.get_variable("a", shape=[2])
        b = tf.get_variable("b", shape=[1, 1])
    c = tf.get_variable("c", shape=[2])
    d = tf.get_variable("d", shape=[1, 1])
    tf.train.init_from_checkpoint(str(tmp_path), {"old/": "new/", "old/a": c, "old/b": "d"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        got = sess.run([a, b, c, d])
    for g, want in zip(got, [[1.0, 2.0], [[3.0]], [1.0, 2.0], [[3.0]]]):
        np.testing.assert_array_equal(g, want)
    # TF's messages for a missing tensor and a shape mismatch.
    with pytest.raises(ValueError, match="Tensor old/zz is not found in"):
        tf.train.init_from_checkpoint(str(tmp_path), {"old/zz": "c"})
    with pytest.raises(ValueError, match=r"Shape of variable c:0 \(\(2,\)\) doesn't match"):
        tf.train.init_from_checkpoint(str(tmp_path), {"old/b": c})
    with pytest.raises(ValueError, match="names no variable"):
        tf.train.init_from_checkpoint(str(tmp_path), {"old/a": "nope"})


def test_init_from_checkpoint_in_eager_mode_assigns_at_once(tmp_path):
    prefix = _save(tmp_path)
    with tf.eager_mode():
        v = tf.Variable(np.zeros(2, np.float32))
        tf.train.init_from_checkpoint(prefix, {"old/a": v})
        np.testing.assert_array_equal(v.numpy(), [1.0, 2.0])


def test_warm_start_by_regex_and_previous_names(tmp_path):
    prefix = _save(tmp_path)
    with tf.variable_scope("old"):
        a = tf.get_variable("a", shape=[2])
    other = tf.get_variable("renamed", shape=[1, 1])
    skipped = tf.get_variable("skipped", initializer=[7.0])
    tf.train.warm_start(prefix, vars_to_warm_start="old/.*")
    tf.train.warm_start(prefix, ["renamed"], var_name_to_prev_var_name={"renamed": "old/b"})
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(sess.run(a), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(other), [[3.0]])
        np.testing.assert_array_equal(sess.run(skipped), [7.0])
    vocab = tf.train.VocabInfo("new.txt", 10, 1, "old.txt")
    assert (vocab.old_vocab_size, vocab.backup_initializer, vocab.axis) == (-1, None, 0)
    with pytest.raises(tf.errors.UnimplementedError, match="vocabulary"):
        tf.train.warm_start(prefix, var_name_to_vocab_info={"old/a": vocab})


def test_assert_global_step_messages():
    tf.train.assert_global_step(tf.placeholder(tf.int64))
    tf.train.assert_global_step(tf.train.get_or_create_global_step())
    with pytest.raises(TypeError, match='"global_step" does not have integer type'):
        tf.train.assert_global_step(tf.Variable(1.0))
    with pytest.raises(TypeError, match=r'"global_step" is not scalar: \(2,\)'):
        tf.train.assert_global_step(tf.Variable([1, 2]))
    with pytest.raises(TypeError, match='"global_step" must be a Variable or Tensor: 3.'):
        tf.train.assert_global_step(3)


def test_cluster_spec_matches_tf():
    c = tf.train.ClusterSpec({"worker": ["w0:1", "w1:1"], "ps": {3: "p3:1", 0: "p0:1"}})
    # Values printed by TensorFlow for the same spec.
    assert c.as_dict() == {"worker": ["w0:1", "w1:1"], "ps": {0: "p0:1", 3: "p3:1"}}
    assert c.jobs == ["worker", "ps"]
    assert (c.num_tasks("ps"), c.task_indices("ps"), c.task_address("ps", 3)) == (2, [0, 3], "p3:1")
    assert c.job_tasks("ps") == ["p0:1", None, None, "p3:1"]
    assert repr(c) == "ClusterSpec({'ps': {0: 'p0:1', 3: 'p3:1'}, 'worker': ['w0:1', 'w1:1']})"
    cdef = c.as_cluster_def()
    assert [j.name for j in cdef.job] == ["ps", "worker"]
    assert tf.train.ClusterSpec(cdef) == c and tf.train.ClusterSpec(c) == c
    assert not tf.train.ClusterSpec({})
    with pytest.raises(ValueError, match="No such job in cluster: 'x'"):
        c.num_tasks("x")
    with pytest.raises(ValueError, match="No task with index 1 in job 'ps'"):
        c.task_address("ps", 1)
    with pytest.raises(TypeError, match="must be a dictionary mapping"):
        tf.train.ClusterSpec(3)
    with pytest.raises(TypeError, match="The tasks for job 'a' must be a list"):
        tf.train.ClusterSpec({"a": 3})
    server = tf.train.ServerDef(cluster=cdef, job_name="ps", task_index=0, protocol="grpc")
    assert (server.job_name, server.task_index, server.protocol) == ("ps", 0, "grpc")
    assert tf.train.JobDef(name="x", tasks={0: "a:1"}).tasks == {0: "a:1"}


def test_saver_def_fields():
    sd = tf.train.SaverDef(
        filename_tensor_name="save/Const:0", max_to_keep=5, version=tf.train.SaverDef.V2
    )
    assert (sd.filename_tensor_name, sd.max_to_keep, sd.version, sd.sharded) == (
        "save/Const:0",
        5,
        2,
        False,
    )
    assert tf.train.SaverDef() == tf.train.SaverDef() and tf.train.SaverDef.V1 == 1


def test_sdca_shrink_l1_matches_tensorflow():
    w = tf.Variable([0.5, -0.2, 0.05, -1.0])
    u = tf.Variable([[2.0, -0.3]])
    op = tf.train.sdca_shrink_l1([w, u], l1=0.1, l2=0.5)
    again = tf.train.sdca_shrink_l1([w], l1=0.3, l2=2.0, name="again")
    assert (op.name, again.name) == ("SdcaShrinkL1", "again")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(op)
        # TensorFlow (ref variables): [0.3, -0., 0., -0.8] [[1.8, -0.10000001]]
        got_w, got_u = sess.run([w, u])
        np.testing.assert_allclose(got_w, [0.3, -0.0, 0.0, -0.8], rtol=1e-6)
        np.testing.assert_allclose(got_u, [[1.8, -0.10000001]], rtol=1e-6)
        sess.run(again)
        np.testing.assert_allclose(sess.run(w), [0.15, 0.0, 0.0, -0.65], rtol=1e-6)
        sess.run(tf.train.sdca_shrink_l1([w], l1=0.1, l2=0.0))  # TF: all zero
        np.testing.assert_array_equal(sess.run(w), [0.0, 0.0, 0.0, 0.0])
    with tf.eager_mode():
        v = tf.Variable([0.5, -0.2])
        assert tf.train.sdca_shrink_l1([v], l1=0.1, l2=0.5) is None
        np.testing.assert_allclose(v.numpy(), [0.3, 0.0], rtol=1e-6)
