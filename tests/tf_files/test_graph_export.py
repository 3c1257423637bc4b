"""Writing TensorFlow's GraphDef/MetaGraphDef protos: miniflow -> proto -> miniflow gives
identical outputs and training steps; the nodes carry TF's op types and attributes (as
in TF's own files); what cannot be written is named. That TensorFlow 2.21 imports these
files is checked by fixtures/tf_reads_miniflow_graphs.py (`make conformance`)."""

from __future__ import annotations

import numpy as np
import pytest
from tf_graph_fixtures import builder, fixture_path, inputs

import miniflow as tf
from miniflow.ops import tf_graph_ops
from miniflow.train import tf_graph_proto
from miniflow.train.tf_proto_values import protos

pytestmark = pytest.mark.usefixtures("fresh_graph")
from tf_graph_fixtures import fresh_graph  # noqa: E402,F401  (the fixture)


def _trained(model, tmp_path):
    """Builds the fixture program with miniflow, takes one step, saves a TF checkpoint;
    returns (graph, saver, feed name, x, y after the step)."""
    _, x, _ = inputs(model)
    ph, y, train, _ = builder(model)(tf)
    # minimize() added its op to the train_op collection, as TF1's does
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [train]
    saver = tf.train.Saver(format="tf")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {ph: x})
        y1 = sess.run(y, {ph: x})
        saver.save(sess, str(tmp_path / "model.ckpt"), write_meta_graph=False)
    return tf.get_default_graph(), saver, ph.name, x, y1


@pytest.mark.parametrize("model", ["linear", "mlp", "cnn", "adam", "partitioned", "cond"])
def test_round_trip_gives_identical_outputs_and_training(model, tmp_path):
    graph, saver, feed, x, y1 = _trained(model, tmp_path)
    meta = tf_graph_proto.meta_graph_def_from_graph(graph, saver=saver)
    data = meta.SerializeToString()
    with graph.as_default(), tf.Session() as sess:  # the original continues training
        saver.restore(sess, str(tmp_path / "model.ckpt"))
        sess.run(graph.get_collection(tf.GraphKeys.TRAIN_OP)[0], {feed: x})
        want = sess.run("y:0", {feed: x})
    with tf.Graph().as_default():
        restored = tf.train.import_meta_graph(
            tf_graph_proto.parse_proto(data, protos().meta_graph_pb2.MetaGraphDef, "meta")
        )
        with tf.Session() as sess:
            restored.restore(sess, str(tmp_path / "model.ckpt"))
            np.testing.assert_array_equal(sess.run("y:0", {feed: x}), y1)
            (train,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
            sess.run(train, {feed: x})
            np.testing.assert_allclose(sess.run("y:0", {feed: x}), want, rtol=1e-6, atol=1e-7)


def test_export_meta_graph_chooses_the_format(tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable([[1.0], [2.0]], name="v")
    tf.matmul(x, v, name="y")
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))  # miniflow's JSON, as before
    tf.train.export_meta_graph(str(tmp_path / "g.pbtxt"), as_text=True)
    tf.train.export_meta_graph(str(tmp_path / "g.pb"))
    proto = tf.train.export_meta_graph(str(tmp_path / "g.tfmeta"), format="tf")
    assert (tmp_path / "g.meta").read_bytes()[:1] == b"{"
    text = (tmp_path / "g.pbtxt").read_text()
    assert 'op: "MatMul"' in text and "graph_def {" in text
    assert (tmp_path / "g.pb").read_bytes() == proto.SerializeToString()
    assert (tmp_path / "g.tfmeta").read_bytes() == proto.SerializeToString()
    for name in ("g.meta", "g.pbtxt", "g.pb", "g.tfmeta"):
        with tf.Graph().as_default():
            saver = tf.train.import_meta_graph(str(tmp_path / name))
            with tf.Session() as sess:
                sess.run(tf.global_variables_initializer())
                assert sess.run("y:0", {"x:0": [[1.0, 1.0]]}).tolist() == [[3.0]], name
            assert saver is not None
    with pytest.raises(ValueError, match="format"):
        tf.train.export_meta_graph(str(tmp_path / "g.x"), format="onnx")


def test_saver_writes_tf1s_save_subgraph_and_its_names(tmp_path):
    w = tf.Variable([1.0, 2.0], name="w")
    b = tf.Variable(3.0, name="b")
    saver = tf.train.Saver({"renamed/w": w, "b": b}, max_to_keep=7, format="tf")
    meta = saver.export_meta_graph(str(tmp_path / "m.meta"))
    sd = meta.saver_def
    assert (sd.filename_tensor_name, sd.restore_op_name) == ("save/Const:0", "save/restore_all")
    assert sd.max_to_keep == 7 and sd.version == protos().saver_pb2.SaverDef.V2
    nodes = {n.name: n for n in meta.graph_def.node}
    names = nodes["save/SaveV2/tensor_names"].attr["value"].tensor.string_val
    assert list(names) == [b"b", b"renamed/w"]
    assert list(nodes["save/SaveV2"].input[3:]) == ["b", "w"]
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        saver.save(sess, str(tmp_path / "ckpt"), write_meta_graph=False)
    with tf.Graph().as_default():
        restored = tf.train.import_meta_graph(str(tmp_path / "m.meta"))
        assert sorted(restored._vars) == ["b", "renamed/w"]
        with tf.Session() as sess:
            restored.restore(sess, str(tmp_path / "ckpt"))
            assert sess.run("w:0").tolist() == [1.0, 2.0] and sess.run("b:0") == 3.0


def test_nodes_carry_tensorflows_types_and_attributes():
    """Attributes as TF 2.21 writes them for the same ops (fixtures/linear/graph.pbtxt,
    fixtures/cnn/model.ckpt.meta)."""
    x = tf.placeholder(tf.float32, [None, 6, 6, 1], name="x")
    k = tf.Variable(np.ones((3, 3, 1, 2), np.float32), name="k")
    conv = tf.nn.conv2d(x, k, strides=[1, 1, 1, 1], padding="SAME", name="conv")
    pool = tf.nn.max_pool(conv, [1, 2, 2, 1], [1, 2, 2, 1], "VALID", name="pool")
    tf.reduce_sum(pool, axis=[1, 2], keepdims=True, name="total")
    mine = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    tf_meta = tf_graph_proto.read_proto_file(
        fixture_path("cnn", "model.ckpt.meta"), protos().meta_graph_pb2.MetaGraphDef, "meta"
    )
    theirs = {n.name: n for n in tf_meta.graph_def.node}
    pairs = (("conv", "conv2d/Conv2D"), ("pool", "MaxPool"), ("k", "conv2d/kernel"))
    for name, tf_name in pairs:
        assert mine[name].op == theirs[tf_name].op
        for key in set(theirs[tf_name].attr) - {"_class", "_output_shapes"}:
            assert mine[name].attr[key] == theirs[tf_name].attr[key], (tf_name, key)
    total = mine["total"]
    assert total.op == "Sum" and total.attr["keep_dims"].b
    axis = mine[total.input[1]]
    assert axis.op == "Const" and list(
        np.frombuffer(axis.attr["value"].tensor.tensor_content, "<i4")
    ) == [1, 2]
    assert mine["conv"].input == ["x", "k/read"]  # TF1 reads variables through a snapshot


def test_write_graph_writes_tensorflows_graph_def(tmp_path):
    x = tf.placeholder(tf.float32, [None, 3], name="x")
    tf.nn.softmax(x * 2.0, name="y")
    gd = tf.get_default_graph().as_graph_def()
    text = tf.train.write_graph(gd, str(tmp_path), "g.pbtxt")
    binary = tf.train.write_graph(gd, str(tmp_path), "g.pb", as_text=False)
    parsed = protos().graph_pb2.GraphDef.FromString(open(binary, "rb").read())
    assert parsed == gd
    assert protos().text_format.Parse(open(text).read(), protos().graph_pb2.GraphDef()) == gd
    with tf.Graph().as_default():
        (y,) = tf.import_graph_def(open(text, "rb").read(), return_elements=["y:0"])
        with tf.Session() as sess:
            got = sess.run(y, {"import/x:0": [[0.0, 1.0, 2.0]]})
    e = np.exp([0.0, 2.0, 4.0])
    np.testing.assert_allclose(got[0], e / e.sum(), rtol=1e-6)


def test_ops_that_cannot_be_written_are_all_named():
    v = tf.Variable(1.0, name="v")
    tf.add(v.initialized_value(), 1.0)
    tf.cumsum(tf.constant([1.0, 2.0]), exclusive=True, name="cs")
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.get_default_graph().as_graph_def()
    msg = str(info.value)
    assert "InitializedValue" in msg and "Cumsum" in msg and "'cs'" in msg


@pytest.mark.parametrize(
    "s0, s1, r0, r1",
    [  # TensorFlow 2.21's BroadcastGradientArgs on these shapes
        ([2, 3], [3], [], [0]),
        ([2, 1], [1, 3], [1], [0]),
        ([1], [1], [], []),
        ([4, 1, 5], [3, 1], [1], [0, 2]),
        ([], [2, 2], [0, 1], []),
        ([2, 1], [1], [1], [0, 1]),
        ([1, 3], [2, 1, 1], [0, 1], [1, 2]),
        ([], [1], [0], [0]),
    ],
)
def test_broadcast_gradient_args_matches_tensorflow(s0, s1, r0, r1):
    got = tf_graph_ops._broadcast_gradient_args(np.array(s0, np.int32), np.array(s1, np.int32))
    assert [g.tolist() for g in got] == [r0, r1]
    with pytest.raises(ValueError, match="Incompatible shapes"):
        tf_graph_ops._broadcast_gradient_args(np.array([2, 3]), np.array([4]))


def test_variable_updates_wait_for_every_read_of_the_step():
    """TF runs ops in any order its dataflow allows; the exported graph orders each
    in-place update after the reads of its variable in the same step (the gradient of
    the first layer reads the second layer's kernel), so TF computes miniflow's step."""
    _, x, _ = inputs("mlp")
    ph, y, train, _ = builder("mlp")(tf)
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    update = next(
        n
        for n in nodes.values()
        if n.op == "ApplyGradientDescent" and n.input[0] == "dense_1/kernel"
    )
    readers = [
        n.name for n in nodes.values() if "dense_1/kernel/read" in n.input and n.op == "MatMul"
    ]
    assert len(readers) == 2  # the forward MatMul and the gradient w.r.t. its input
    assert all(f"^{r}" in update.input for r in readers)
    assert nodes["dense_1/kernel/read"].op == "Identity"


def test_a_cond_is_written_as_tf1s_switch_and_merge():
    """miniflow's guarded tf.cond branches become TF1 v1 control flow: every tensor
    entering a branch passes a Switch on the predicate, the result is a Merge."""
    x = tf.placeholder(tf.float32, [2], name="x")
    pred = tf.reduce_sum(x) > 0.0
    y = tf.cond(pred, lambda: x * 2.0, lambda: tf.constant([7.0, 7.0]), name="pick")
    nodes = {n.name: n for n in tf.get_default_graph().as_graph_def().node}
    merge = nodes[y.op.name]
    assert merge.op == "Merge" and len(merge.input) == 2
    switches = [n for n in nodes.values() if n.op == "Switch"]
    assert switches and all(n.input[1] == pred.op.name for n in switches)
    (branch_const,) = [
        op
        for op in tf.get_default_graph().get_operations()
        if op.type == "Const" and op.attrs.get("_guard") and op.outputs[0].shape == [2]
    ]
    const = nodes[branch_const.name]
    assert any(i.startswith("^") and "_pivot" in i for i in const.input)  # runs with its branch
    data = tf.get_default_graph().as_graph_def().SerializeToString()
    with tf.Graph().as_default():  # and back: the Merge imports as a Select
        (y2,) = tf.import_graph_def(data, return_elements=[y.name], name="")
        with tf.Session() as sess:
            assert sess.run(y2, {"x:0": [1.0, 2.0]}).tolist() == [2.0, 4.0]
            assert sess.run(y2, {"x:0": [-1.0, -2.0]}).tolist() == [7.0, 7.0]


def test_tf_format_saver_writes_tensorflows_meta_graph_beside_the_checkpoint(tmp_path):
    _, x, _ = inputs("mlp")
    ph, y, train, _ = builder("mlp")(tf)
    saver = tf.train.Saver(format="tf")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        sess.run(train, {ph: x})
        want = sess.run(y, {ph: x})
        prefix = saver.save(sess, str(tmp_path / "model.ckpt"))
    with open(prefix + ".meta", "rb") as f:
        data = f.read()
    assert not data.startswith(b"{")  # not miniflow's JSON
    meta = protos().meta_graph_pb2.MetaGraphDef()
    meta.ParseFromString(data)
    assert meta.saver_def.save_tensor_name and meta.saver_def.version == 2  # TF's V2 saver
    assert {"SaveV2", "RestoreV2", "VariableV2"} <= {n.op for n in meta.graph_def.node}
    # miniflow's import_meta_graph reads it back, with the checkpoint
    with tf.Graph().as_default(), tf.Session() as sess:
        restorer = tf.train.import_meta_graph(prefix + ".meta")
        restorer.restore(sess, prefix)
        np.testing.assert_array_equal(sess.run(y.name, {ph.name: x}), want)


def test_miniflow_format_saver_still_writes_json_meta(tmp_path):
    tf.Variable(1.0, name="v")
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver().save(sess, str(tmp_path / "m"))
    with open(prefix + ".meta", "rb") as f:
        assert f.read(1) == b"{"


def test_tf_format_saver_falls_back_to_json_for_graphs_tf_cannot_hold(tmp_path, caplog):
    v = tf.Variable([1.0, 2.0], name="v")
    tf.cumsum(v, exclusive=True, name="cs")  # an attribute TF's export table lacks
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        prefix = tf.train.Saver(format="tf").save(sess, str(tmp_path / "m"))
    assert "miniflow's format instead of TF's" in caplog.text and "Cumsum" in caplog.text
    with open(prefix + ".meta", "rb") as f:
        assert f.read(1) == b"{"
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.train.import_meta_graph(prefix + ".meta").restore(sess, prefix)
        assert sess.run("v:0").tolist() == [1.0, 2.0]


def test_apply_gradients_adds_its_op_to_the_train_op_collection_once():
    v = tf.Variable(1.0, name="v")
    gd = tf.train.GradientDescentOptimizer(0.1).minimize(v * v)
    adam = tf.train.AdamOptimizer(0.1).apply_gradients([(tf.constant(1.0), v)])
    # TensorFlow 2.21 (tf.compat.v1, the same two calls): ['GradientDescent', 'Adam']
    assert [op.name for op in tf.get_collection(tf.GraphKeys.TRAIN_OP)] == [
        "GradientDescent",
        "Adam",
    ]
    assert tf.get_collection(tf.GraphKeys.TRAIN_OP) == [gd, adam]
