"""``tf.device`` and ``tf.train.replica_device_setter`` place ops as TF does.

Every expected device string below was printed by TensorFlow 2.21
(``tensorflow.compat.v1`` with eager execution disabled) for the same graph.
"""

import pytest

import miniflow as tf

CLUSTER = {
    "ps": ["localhost:2222", "localhost:2223"],
    "worker": ["localhost:2224", "localhost:2225"],
}


def test_the_acceptance_graph_is_placed_as_in_tf():
    cluster = tf.train.ClusterSpec(CLUSTER)
    with tf.Graph().as_default():
        setter = tf.train.replica_device_setter(worker_device="/job:worker/task:1", cluster=cluster)
        with tf.device(setter):
            gs = tf.train.get_or_create_global_step()
            emb = tf.get_variable("emb", [10, 3], partitioner=tf.fixed_size_partitioner(2))
            w = tf.get_variable("w", [3, 1])
            b = tf.get_variable("b", [1], initializer=tf.zeros_initializer())
            ids = tf.placeholder(tf.int64, [None])
            x = tf.nn.embedding_lookup(emb, ids)
            y = tf.matmul(x, w) + b
            loss = tf.reduce_mean(tf.square(y))
            opt = tf.train.SyncReplicasOptimizer(
                tf.train.AdagradOptimizer(0.1), replicas_to_aggregate=2, total_num_replicas=2
            )
            opt.minimize(loss, global_step=gs)
        got = {v.op.name: v.device for v in tf.global_variables()}
        # TF 2.21 (round robin in creation order; slots follow their variable)
        assert got == {
            "global_step": "/job:ps/task:0",
            "emb/part_0": "/job:ps/task:1",
            "emb/part_1": "/job:ps/task:0",
            "w": "/job:ps/task:1",
            "b": "/job:ps/task:0",
            "emb/part_0/Adagrad": "/job:ps/task:1",
            "emb/part_1/Adagrad": "/job:ps/task:0",
            "w/Adagrad": "/job:ps/task:1",
            "b/Adagrad": "/job:ps/task:0",
        }
        assert y.op.device == "/job:worker/task:1"  # TF 2.21
        assert loss.op.device == "/job:worker/task:1"
        assert ids.op.device == "/job:worker/task:1"
        assert [p.op.name for p in emb] == ["emb/part_0", "emb/part_1"]
        assert emb.get_shape().as_list() == [10, 3]


def test_ps_tasks_without_a_cluster_and_the_default_worker_job():
    with tf.Graph().as_default():
        with tf.device(tf.train.replica_device_setter(ps_tasks=3)):
            vs = [tf.Variable(float(i)) for i in range(4)]
            z = vs[0] + vs[1]
        # TF 2.21
        assert [v.device for v in vs] == [
            "/job:ps/task:0",
            "/job:ps/task:1",
            "/job:ps/task:2",
            "/job:ps/task:0",
        ]
        assert z.op.device == "/job:worker"


def test_nested_scopes_merge_field_by_field():
    cluster = tf.train.ClusterSpec(CLUSTER)
    with tf.Graph().as_default():
        with tf.device("/job:worker/task:0"):
            with tf.device(tf.train.replica_device_setter(cluster=cluster)):
                e = tf.Variable(1.0)
                f = e * 2
                with tf.device("/cpu:0"):
                    h = f + 1
                    v2 = tf.Variable(2.0)
        # TF 2.21
        assert e.device == "/job:ps/task:0"
        assert f.op.device == "/job:worker/task:0"
        assert h.op.device == "/job:worker/task:0/device:CPU:0"
        assert v2.device == "/job:ps/task:1/device:CPU:0"


def test_pinned_tasks_none_scopes_and_colocation():
    with tf.Graph().as_default():
        setter = tf.train.replica_device_setter(
            ps_tasks=2, ps_device="/job:ps/device:CPU:0", worker_device="/job:worker/task:3"
        )
        with tf.device(setter):
            a = tf.Variable(1.0, name="a")
            b = tf.Variable(2.0, name="b")
            with tf.device(None):
                n = tf.constant(1.0, name="n")
                nv = tf.Variable(3.0, name="nv")
            with tf.device("/job:ps/task:5"):
                pinned = tf.Variable(4.0, name="pinned")
            with tf.colocate_with(a):
                col = tf.constant(2.0, name="col")
            c = tf.Variable(5.0, name="c")
        # TF 2.21 (the pinned variable still takes its turn of the round robin)
        assert a.device == "/job:ps/task:0/device:CPU:0"
        assert b.device == "/job:ps/task:1/device:CPU:0"
        assert nv.device == "" and n.device == ""
        assert pinned.device == "/job:ps/task:5/device:CPU:0"
        assert c.device == "/job:ps/task:1/device:CPU:0"
        assert col.device == "/job:ps/task:0/device:CPU:0"


def test_no_ps_tasks_gives_none_and_bad_arguments_raise():
    assert tf.train.replica_device_setter(ps_tasks=0) is None  # TF 2.21: None
    assert tf.train.replica_device_setter(cluster={"worker": ["localhost:1"]}) is None
    with pytest.raises(TypeError, match="ps_strategy must be callable"):
        tf.train.replica_device_setter(ps_tasks=1, ps_strategy=3)
    with pytest.raises(ValueError, match="Unknown attribute 'nonsense'"):
        tf.device("/nonsense:1")
    with pytest.raises(TypeError, match="tf.device expects"):
        tf.device(3)


def test_without_scopes_nothing_is_placed():
    with tf.Graph().as_default():
        v = tf.Variable(1.0)
        assert v.device == "" and (v + 1).op.device == ""


def test_colocated_slots_and_averages_still_take_their_turn():
    cluster = tf.train.ClusterSpec({"ps": [f"localhost:{p}" for p in range(2300, 2305)]})
    with tf.Graph().as_default() as g:
        with tf.device(tf.train.replica_device_setter(cluster=cluster)):
            a = tf.Variable(1.0, name="a")
            b = tf.Variable(2.0, name="b")
            tf.train.MomentumOptimizer(0.1, 0.9).minimize(a * b)
            c = tf.Variable(3.0, name="c")
            with g.colocate_with(a):
                tf.Variable(3.0, name="d")
            e = tf.Variable(3.0, name="e")
            tf.train.ExponentialMovingAverage(0.9).apply([c, e])
            tf.Variable(3.0, name="f")
        got = {v.op.name: v.device for v in tf.global_variables()}
    # TF 2.21: a slot, an average or a colocated variable follows its variable, and the
    # round robin counts it
    assert got == {
        "a": "/job:ps/task:0",
        "b": "/job:ps/task:1",
        "a/Momentum": "/job:ps/task:0",
        "b/Momentum": "/job:ps/task:1",
        "c": "/job:ps/task:4",
        "d": "/job:ps/task:0",
        "e": "/job:ps/task:1",
        "c/ExponentialMovingAverage": "/job:ps/task:4",
        "e/ExponentialMovingAverage": "/job:ps/task:1",
        "f": "/job:ps/task:4",
    }
