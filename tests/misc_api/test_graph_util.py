"""tf.graph_util: freeze a trained graph, strip training nodes, serialize, import it into
a fresh graph and get the same numbers; TF's errors for bad arguments."""

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def _trained():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    w = tf.Variable([[1.0], [2.0]], name="w")
    b = tf.Variable([0.5], name="b")
    h = tf.identity(tf.matmul(x, w) + b, name="h")
    y = tf.multiply(tf.check_numerics(h, "bad", name="checked"), 2.0, name="y")
    train = tf.train.GradientDescentOptimizer(0.1).minimize(tf.reduce_sum(y))
    return x, y, train


def test_freeze_strip_serialize_and_import_give_the_same_numbers():
    x, y, train = _trained()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {x: [[1.0, 1.0]]})
        want = sess.run(y, {x: [[1.0, 2.0], [0.0, -1.0]]})
        frozen = tf.graph_util.convert_variables_to_constants(
            sess, tf.GraphDef.from_graph(sess.graph), ["y"]
        )
    nodes = {n.name: n for n in frozen.node}
    assert nodes["w"].op == "Const" and nodes["b"].op == "Const"
    assert not any(n.op in ("VariableV2", "Assign", "ApplyGradientDescent") for n in frozen.node)
    assert nodes["y"].input == ["checked", "Const"]
    slim = tf.graph_util.remove_training_nodes(frozen)
    names = [n.name for n in slim.node]
    assert "h" not in names and "checked" not in names
    assert {n.name: n for n in slim.node}["y"].input == ["add", "Const"]
    data = tf.GraphDef.FromString(slim.SerializeToString())
    with tf.Graph().as_default():
        feed = tf.placeholder(tf.float32, [None, 2], name="feed")
        y2, op = tf.import_graph_def(data, input_map={"x:0": feed}, return_elements=["y:0", "y"])
        assert y2.name == "import/y:0" and op is y2.op
        assert tf.import_graph_def(data, name="again") is None
        with tf.Session() as sess:
            got = sess.run(y2, {feed: [[1.0, 2.0], [0.0, -1.0]]})
    np.testing.assert_allclose(got, want)
    # w and b moved by one SGD step of d(sum y)/dw = 2 * x^T 1: w = [0.8, 1.8], b = 0.3.
    np.testing.assert_allclose(
        got, 2 * (np.array([[1.0, 2.0], [0.0, -1.0]]) @ [[0.8], [1.8]] + 0.3), rtol=1e-6
    )


def test_whitelist_keeps_other_variables_and_their_import_is_refused():
    x, y, _ = _trained()
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        frozen = tf.graph_util.convert_variables_to_constants(
            sess, sess.graph, ["y"], variable_names_whitelist=["w"]
        )
    ops = {n.name: n.op for n in frozen.node}
    assert ops["w"] == "Const" and ops["b"] == "VariableV2"
    with tf.Graph().as_default():
        with pytest.raises(ValueError, match="refers to variable b"):
            tf.import_graph_def(frozen)


def test_extract_sub_graph_and_errors():
    a = tf.constant(1.0, name="a")
    b = tf.constant(2.0, name="b")
    with tf.control_dependencies([b]):
        c = tf.identity(a, name="c")
    tf.add(a, 3.0, name="unrelated")
    sub = tf.graph_util.extract_sub_graph(tf.GraphDef.from_graph(), ["c"])
    assert [n.name for n in sub.node] == ["a", "b", "c"]
    assert sub.node[2].input == ["a", "^b"]
    with pytest.raises(TypeError, match="iterable of strings"):
        tf.graph_util.extract_sub_graph(sub, "c")
    with pytest.raises(AssertionError, match="zz is not in graph"):
        tf.graph_util.extract_sub_graph(sub, ["zz"])
    with pytest.raises(TypeError, match="must be a GraphDef"):
        tf.graph_util.extract_sub_graph(42, ["c"])
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.GraphDef.FromString(b"\x00not json")
    assert c.op.type == "Identity"


def test_must_run_on_cpu_and_tensor_shapes():
    i = tf.constant([1, 2], name="i")
    f = tf.constant([1.0], name="f")
    s = tf.constant(["a"], name="s")
    cast = tf.cast(i, tf.float32)
    v = tf.Variable(1.0, name="v")
    gu = tf.graph_util
    assert gu.must_run_on_cpu(i.op) and gu.must_run_on_cpu(s.op)
    assert not gu.must_run_on_cpu(f.op)
    assert gu.must_run_on_cpu(cast.op) and not gu.must_run_on_cpu(tf.cast(f, tf.int32).op)
    assert gu.must_run_on_cpu(v.op, pin_variables_on_cpu=True)
    assert not gu.must_run_on_cpu(v.op)
    node = {n.name: n for n in tf.GraphDef.from_graph().node}["i"]
    assert gu.must_run_on_cpu(node)
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    assert gu.tensor_shape_from_node_def_name(tf.get_default_graph(), "x").as_list() == [None, 3]
    assert gu.tensor_shape_from_node_def_name(tf.get_default_graph(), "i:0").as_list() == [2]
    assert gu.import_graph_def is tf.import_graph_def and x.op.type == "Placeholder"


def test_write_graph_text_and_binary_read_back(tmp_path):
    tf.add(tf.constant(1.0, name="a"), 2.0, name="sum")
    text = tf.train.write_graph(tf.get_default_graph(), str(tmp_path / "sub"), "g.pbtxt")
    binary = tf.train.write_graph(tf.GraphDef.from_graph(), str(tmp_path), "g.pb", as_text=False)
    assert text == str(tmp_path / "sub" / "g.pbtxt")
    with open(text, "rb") as fh:
        raw_text = fh.read()
    with open(binary, "rb") as fh:
        raw = fh.read()
    assert b"\n" in raw_text and b"\n" not in raw
    assert tf.GraphDef.FromString(raw_text) == tf.GraphDef.FromString(raw)
    with tf.Graph().as_default():
        (total,) = tf.import_graph_def(
            tf.GraphDef.FromString(raw), name="", return_elements=["sum:0"]
        )
        assert total.name == "sum:0"
        with tf.Session() as sess:
            assert sess.run(total) == 3.0
