"""tf.make_template, tf.get_local_variable, partitioners and
tf.create_partitioned_variables, tf.count_up_to, tf.report_uninitialized_variables,
tf.Module. Names and values were checked against TensorFlow 2.21 (tf.compat.v1, graph
mode) on the same programs."""

import numpy as np
import pytest

import miniflow as tf


def _lin(x, n):
    w = tf.get_variable("w", [x.shape[-1], n], initializer=tf.ones_initializer())
    return tf.matmul(x, w)


def test_make_template_shares_variables():
    t = tf.make_template("lin", _lin, n=2)
    x = tf.ones([1, 3])
    a, b = t(x), t(x)
    t2 = tf.make_template("lin", _lin, n=2)
    t2(x)
    assert [v.name for v in tf.global_variables()] == ["lin/w:0", "lin_1/w:0"]  # as TF
    assert t.variable_scope.name == "lin" and t2.variable_scope_name == "lin_1/"
    assert t.trainable_variables == [tf.global_variables()[0]]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_allclose(sess.run(a), sess.run(b))


def test_make_template_create_scope_now():
    with tf.variable_scope("outer"):
        t = tf.make_template("lin", _lin, create_scope_now_=True, n=1)
    t(tf.ones([1, 3]))
    t(tf.ones([2, 3]))
    assert [v.name for v in t.variables] == ["outer/lin/w:0"]


def test_get_local_variable():
    lv = tf.get_local_variable("lv", [2], initializer=tf.zeros_initializer())
    assert lv.name == "lv:0" and not lv.trainable
    assert tf.local_variables() == [lv]
    assert lv not in tf.global_variables() and lv not in tf.trainable_variables()


def test_no_regularizer_and_old_scope_spellings():
    x = tf.ones([1])
    assert tf.no_regularizer(x) is None
    with tf.op_scope([x], "foo", "bar") as scope:
        assert scope == "foo/"
    with tf.variable_op_scope([x], None, "vop") as scope:
        assert scope.name == "vop"
        assert tf.get_variable("z", [1]).name == "vop/z:0"


def test_partitioners_match_tensorflow():
    shape = tf.TensorShape([10, 4])
    assert tf.fixed_size_partitioner(3)(shape, dtype=tf.float32) == [3, 1]
    assert tf.fixed_size_partitioner(20)(shape) == [10, 1]
    assert tf.min_max_variable_partitioner(max_partitions=4, min_slice_size=16)(
        shape, tf.float32
    ) == [4, 1]
    assert tf.variable_axis_size_partitioner(max_shard_bytes=64)(shape, tf.float32) == [3, 1]
    assert tf.variable_axis_size_partitioner(64, max_shards=2)(shape, tf.float32) == [2, 1]
    with pytest.raises(ValueError, match="positive"):
        tf.variable_axis_size_partitioner(0)


def test_create_partitioned_variables():
    parts = tf.create_partitioned_variables([10, 4], [3, 1], tf.ones_initializer(), name="pv")
    assert [(v.name, v.shape.as_list()) for v in parts] == [
        ("pv/part_0:0", [4, 4]),
        ("pv/part_1:0", [3, 4]),
        ("pv/part_2:0", [3, 4]),
    ]
    whole = np.arange(10.0).reshape(5, 2)
    sliced = tf.create_partitioned_variables([5, 2], [2, 1], whole, name="pw")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        np.testing.assert_array_equal(np.concatenate(sess.run(sliced)), whole)
    with pytest.raises(ValueError, match="one dimension"):
        tf.create_partitioned_variables([4, 4], [2, 2], tf.ones_initializer())


def test_count_up_to_and_report_uninitialized_variables():
    counter = tf.Variable(0, name="counter")
    up = tf.count_up_to(counter, 2)
    tf.get_local_variable("lv", [2], initializer=tf.zeros_initializer())
    report = tf.report_uninitialized_variables()
    with tf.Session() as sess:
        assert list(sess.run(report)) == [b"counter", b"lv"]
        sess.run(tf.global_variables_initializer())
        assert list(sess.run(report)) == [b"lv"]  # TF: local variables stay uninitialized
        assert [sess.run(up), sess.run(up)] == [0, 1]
        with pytest.raises(tf.errors.OutOfRangeError, match="Reached limit of 2"):
            sess.run(up)
    with pytest.raises(TypeError, match="int32 or int64 scalar"):
        tf.count_up_to(tf.Variable(0.0), 2)


def test_count_up_to_eager():
    with tf.eager_mode():
        counter = tf.Variable(5)
        assert int(tf.count_up_to(counter, 7)) == 5
        assert int(counter.numpy()) == 6


class InnerModule(tf.Module):
    def __init__(self):
        super().__init__()
        with self.name_scope:
            self.w = tf.Variable(3.0, name="w")


class OuterModule(tf.Module):
    def __init__(self):
        super().__init__(name="m")
        self.v = tf.Variable(1.0, name="v")
        self.sub = InnerModule()
        self.lst = [tf.Variable(2.0, trainable=False, name="u")]

    @tf.Module.with_name_scope
    def __call__(self, x):
        return x * self.v


def test_module_tracks_variables_and_submodules():
    m = OuterModule()
    assert (m.name, m.sub.name) == ("m", "inner_module")
    assert [v.name for v in m.variables] == ["u:0", "v:0", "inner_module/w:0"]  # TF's order
    assert [v.name for v in m.trainable_variables] == ["v:0", "inner_module/w:0"]
    assert m.submodules == (m.sub,)
    with m.name_scope:
        assert tf.constant(1.0).name == "m/Const:0"
    assert m(tf.constant(2.0)).name == "m/mul:0"
    with pytest.raises(ValueError, match="valid module name"):
        tf.Module(name="not valid")


def test_module_in_eager_mode():
    with tf.eager_mode():
        m = OuterModule()
        assert len(m.variables) == 3
        assert float(m(tf.constant(2.0))) == 2.0
