"""The graph model: names, name scopes, lookup, collections, control dependencies,
default graphs and static shapes."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf


def test_tensor_and_op_names_follow_tf():
    a = tf.constant(1, name="a")
    b = tf.constant(2, name="a")
    c = tf.constant(3, name="a")
    assert (a.name, b.name, c.name) == ("a:0", "a_1:0", "a_2:0")
    assert a.op.name == "a" and a.value_index == 0
    assert tf.add(a, b).name == "Add:0"
    assert tf.add(a, b).name == "Add_1:0"
    # an explicit name that collides with a generated one is itself made unique
    assert tf.constant(4, name="a_1").name == "a_1_1:0"
    assert tf.constant(5).op.name == "Const"


def test_name_scopes_nest_and_are_made_unique():
    with tf.name_scope("outer") as outer:
        assert outer == "outer/"
        x = tf.constant(1.0, name="x")
        with tf.name_scope("inner") as inner:
            assert inner == "outer/inner/"
            y = tf.identity(x, name="y")
            z = tf.identity(x)
    with tf.name_scope("outer") as outer2:
        w = tf.identity(x)
    assert (x.name, y.name, z.name) == ("outer/x:0", "outer/inner/y:0", "outer/inner/Identity:0")
    assert outer2 == "outer_1/" and w.name == "outer_1/Identity:0"
    # re-entering an exact scope (a name ending in '/') does not uniquify
    with tf.name_scope(outer):
        assert tf.identity(x).name == "outer/Identity:0"
    with tf.name_scope(None):
        assert tf.identity(x).name == "Identity:0"
    with tf.name_scope(None, default_name="default"):
        assert tf.identity(x).name == "default/Identity:0"
    with pytest.raises(ValueError, match="not a valid scope name"):
        with tf.name_scope("bad name!"):
            pass


def test_lookup_by_name_and_its_errors():
    g = tf.get_default_graph()
    with tf.name_scope("s"):
        t = tf.add(tf.constant(1), tf.constant(2), name="sum")
        parts = tf.split(tf.zeros([4]), 2)
    assert g.get_tensor_by_name("s/sum:0") is t
    assert g.get_operation_by_name("s/sum") is t.op
    assert g.get_tensor_by_name(parts[1].name) is parts[1]
    assert parts[1].name == "s/split:1"
    assert t.op in g.get_operations()
    with pytest.raises(KeyError, match="does not exist"):
        g.get_tensor_by_name("s/nope:0")
    with pytest.raises(KeyError, match="only has 1 outputs"):
        g.get_tensor_by_name("s/sum:1")
    with pytest.raises(ValueError, match="looks a like an Operation name"):
        g.get_tensor_by_name("s/sum")
    with pytest.raises(KeyError, match="not in the graph"):
        g.get_operation_by_name("s/nope")
    with pytest.raises(TypeError):
        g.get_operation_by_name(3)
    with pytest.raises(TypeError):
        g.get_tensor_by_name(None)


def test_operation_and_tensor_attributes():
    a = tf.placeholder(tf.float32, [2, 3], name="a")
    s = tf.reduce_sum(a, axis=1, name="s")
    assert s.op.type == "Sum" and list(s.op.inputs) == [a] and s.op.outputs == (s,)
    assert s.op.get_attr("axis") == (1,)
    with pytest.raises(ValueError, match="no attr named"):
        s.op.get_attr("nope")
    assert a.consumers() == [s.op]
    assert s.graph is tf.get_default_graph()
    assert repr(s) == "<tf.Tensor 's:0' shape=(2,) dtype=float32>"
    assert "test_graph.py" in s.op.traceback  # where the op was created
    with pytest.raises(TypeError, match="as a Python `bool`"):
        bool(a)
    with pytest.raises(TypeError, match="only iterable when eager"):
        iter(a)
    with pytest.raises(TypeError):
        len(a)


def test_collections():
    tf.add_to_collection("my", 1)
    tf.add_to_collections(["my", "other"], 2)
    assert tf.get_collection("my") == [1, 2]
    assert tf.get_collection("other") == [2]
    assert tf.get_collection("missing") == []
    ref = tf.get_collection_ref("my")
    ref.append(3)
    assert tf.get_collection("my") == [1, 2, 3]
    copy = tf.get_collection("my")
    copy.append(4)
    assert tf.get_collection("my") == [1, 2, 3]
    v = tf.Variable(1.0, name="v")
    with tf.name_scope("scope"):
        w = tf.Variable(1.0, name="w", trainable=False)
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES) == [v, w]
    assert tf.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES) == [v]
    assert tf.get_collection(tf.GraphKeys.GLOBAL_VARIABLES, scope="scope") == [w]
    assert tf.global_variables() == [v, w] and tf.trainable_variables() == [v]


def test_control_dependencies_order_side_effects():
    v = tf.Variable(1.0)
    inc = tf.assign_add(v, 10.0)
    with tf.control_dependencies([inc]):
        after = tf.identity(v.value())
        nested_none = None
        with tf.control_dependencies(None):  # clears the dependencies
            nested_none = tf.identity(v.value())
    assert after.op.control_inputs == (inc.op,)
    reset = tf.assign(v, 100.0)
    with tf.control_dependencies([reset]):
        plus_one = v + 1.0  # reads the variable after the assignment
    assert nested_none.op.control_inputs == ()
    with tf.Session() as sess:
        sess.run(v.initializer)
        assert sess.run(after) == 11.0  # the increment ran first
        assert sess.run(after) == 21.0
        assert sess.run(nested_none) == 21.0  # no increment
        assert sess.run(plus_one) == 101.0


def test_group_no_op_identity_and_tuple():
    v = tf.Variable(0.0)
    w = tf.Variable(0.0)
    g = tf.group(tf.assign_add(v, 1.0), [tf.assign_add(w, 2.0)], name="both")
    assert g.type == "NoOp" and g.name == "both"
    n = tf.no_op(name="nothing")
    assert n.type == "NoOp" and n.outputs == ()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert sess.run(g) is None
        assert sess.run(n) is None
        assert sess.run([v, w]) == [1.0, 2.0]
        g.run()
        assert sess.run([v, w]) == [2.0, 4.0]
        a, b = tf.tuple([tf.identity(v), tf.assign_add(w, 1.0)])
        assert sess.run(a) == 2.0 and sess.run(w) == 5.0  # the gate ran the update too


def test_default_graph_stack_and_reset():
    g0 = tf.get_default_graph()
    g = tf.Graph()
    with g.as_default() as entered:
        assert entered is g and tf.get_default_graph() is g
        t = tf.constant(1)
        with pytest.raises(AssertionError, match="nested graphs"):
            tf.reset_default_graph()
    assert tf.get_default_graph() is g0 and t.graph is g
    assert g0.get_operations() == []
    with pytest.raises(ValueError, match="same graph"):
        tf.add(t, tf.constant(1))
    tf.constant(1)
    tf.reset_default_graph()
    assert tf.get_default_graph() is not g0
    assert tf.get_default_graph().get_operations() == []


def test_reentering_a_graph_inside_another_restores_the_right_default():
    a, b = tf.Graph(), tf.Graph()
    with a.as_default():
        with b.as_default():
            with a.as_default():
                assert tf.get_default_graph() is a
            assert tf.get_default_graph() is b
        assert tf.get_default_graph() is a


def test_finalized_graph_rejects_new_ops():
    g = tf.Graph()
    with g.as_default():
        tf.constant(1)
        g.finalize()
        assert g.finalized
        with pytest.raises(RuntimeError, match="finalized"):
            tf.constant(2)


def test_static_shapes_with_unknown_dims():
    p = tf.placeholder(tf.float32, [None, 3])
    assert p.shape.as_list() == [None, 3] and str(p.shape) == "(?, 3)"
    assert not p.shape.is_fully_defined()
    assert (p + tf.zeros([3])).shape.as_list() == [None, 3]
    assert tf.matmul(p, tf.zeros([3, 5])).shape.as_list() == [None, 5]
    assert tf.reduce_sum(p, axis=1).shape.as_list() == [None]
    assert tf.reduce_sum(p, axis=0, keepdims=True).shape.as_list() == [1, 3]
    assert tf.reshape(p, [-1]).shape.as_list() == [None]
    assert tf.transpose(p).shape.as_list() == [3, None]
    assert tf.concat([p, p], 0).shape.as_list() == [None, 3]
    assert tf.concat([p, p], 1).shape.as_list() == [None, 6]
    assert tf.expand_dims(p, 1).shape.as_list() == [None, 1, 3]
    assert p[:, 1].shape.as_list() == [None]
    assert p[1:, ::2].shape.as_list() == [None, 2]
    assert tf.stack([p, p], axis=1).shape.as_list() == [None, 2, 3]
    assert tf.shape(p).shape.as_list() == [2]
    unknown = tf.placeholder(tf.float32)
    assert unknown.shape.ndims is None and str(unknown.shape) == "<unknown>"
    assert (unknown * p).shape.ndims is None
    assert tf.placeholder(tf.float32, [None, None])[0].shape.as_list() == [None]
    s = tf.placeholder(tf.float32, [None, 3])
    s.set_shape([4, 3])
    assert s.shape.as_list() == [4, 3]
    with pytest.raises(ValueError):
        s.set_shape([4, 2])


@pytest.mark.parametrize(
    "build,match",
    [
        (lambda: tf.matmul(tf.zeros([2, 3]), tf.zeros([4, 2])), "Dimensions must be equal"),
        (lambda: tf.matmul(tf.zeros([3]), tf.zeros([3, 2])), "rank 2"),
        (lambda: tf.zeros([2, 3]) + tf.zeros([4]), "Dimensions must be equal, but are 3 and 4"),
        (lambda: tf.placeholder(tf.float32, [None, 3]) * tf.zeros([2]), "3 and 2"),
        (lambda: tf.reshape(tf.zeros([2, 3]), [4]), "Cannot reshape a tensor with 6 elements"),
        (lambda: tf.concat([tf.zeros([2, 3]), tf.zeros([2, 4])], 0), "Dimension 1"),
        (lambda: tf.concat([tf.zeros([2]), tf.zeros([2, 4])], 0), "equal rank"),
        (lambda: tf.squeeze(tf.zeros([2, 3]), [0]), "Can not squeeze dim"),
        (lambda: tf.reduce_sum(tf.zeros([2, 3]), axis=2), "Invalid axis"),
        (lambda: tf.expand_dims(tf.zeros([2]), 3), "Invalid axis"),
        (lambda: tf.transpose(tf.zeros([2, 3]), [0, 0]), "not a permutation"),
        (lambda: tf.split(tf.zeros([5]), 2), "evenly divisible"),
        (lambda: tf.split(tf.zeros([5]), [1, 2]), "split_dim"),
        (lambda: tf.split(tf.zeros([5]), [4, 2, -1]), "split_dim"),
        (lambda: tf.tile(tf.zeros([2]), [1, 2]), "multiples"),
        (lambda: tf.pad(tf.zeros([2]), [[1, 1], [1, 1]]), "paddings"),
        (lambda: tf.zeros([2])[3], "out of bounds"),
        (lambda: tf.stack([tf.zeros([2]), tf.zeros([3])]), "Dimensions must be equal"),
        (lambda: tf.gather(tf.zeros([2, 3]), [0], axis=2), "Invalid axis"),
        (lambda: tf.where([True, False], tf.zeros([2]), tf.zeros([3])), "Dimension 0"),  # TF
        (lambda: tf.broadcast_to(tf.zeros([3]), [2, 4]), "Dimensions"),
    ],
)
def test_shape_errors_are_caught_at_construction(build, match):
    with pytest.raises(ValueError, match=match) as info:
        build()
    assert "input shapes" in str(info.value)  # names the op and its input shapes


def test_placeholder_with_default():
    d = tf.placeholder_with_default(tf.constant([1.0, 2.0]), shape=[None], name="pwd")
    assert d.shape.as_list() == [None]
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(d), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(d, {d: [5.0, 6.0, 7.0]}), [5.0, 6.0, 7.0])
        np.testing.assert_array_equal(sess.run(d * 2), [2.0, 4.0])
    with pytest.raises(ValueError, match="not compatible"):
        tf.placeholder_with_default([1.0, 2.0], shape=[3])


def test_python_operators_name_their_ops_like_tf1():
    a, b = tf.constant(1.0), tf.constant(2.0)
    names = [
        t.op.name
        for t in [
            a + b,
            a - b,
            a * b,
            a / b,
            a % b,
            a**b,
            1.0 + a,
            a < b,
            -a,
            tf.reshape(a, [1])[0],
        ]
    ]
    assert names == [
        "add",
        "sub",
        "mul",
        "truediv",
        "mod",
        "pow",
        "add_1",
        "Less",
        "Neg",
        "strided_slice",
    ]
    # the function names the op by its type; uniqueness ignores case, as in TF
    assert tf.add(a, b).op.name == "Add_2"
    assert tf.multiply(a, b, name="product").op.name == "product"
