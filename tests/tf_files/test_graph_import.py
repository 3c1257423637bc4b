"""Importing meta graphs and GraphDefs written by TensorFlow 2.21's TF1 API
(fixtures/make_tf_models.py): restore TF's checkpoint through the imported saver, run on
the fixed inputs and get TensorFlow's outputs (recorded in the fixtures) to 1e-6; keep
training with the imported train_op and match the same program built with miniflow."""

from __future__ import annotations

import numpy as np
import pytest
from tf_graph_fixtures import IMPORTABLE, builder, fixture_path, inputs

import miniflow as tf
from miniflow.train import tf_graph_proto
from miniflow.train.tf_proto_values import protos

pytestmark = pytest.mark.usefixtures("fresh_graph")
from tf_graph_fixtures import fresh_graph  # noqa: E402,F401  (the fixture)


def _restore_and_run(model, meta_file="model.ckpt.meta", scope=None):
    saver = tf.train.import_meta_graph(fixture_path(model, meta_file), import_scope=scope)
    name, x, _ = inputs(model)
    prefix = f"{scope}/" if scope else ""
    sess = tf.Session()
    saver.restore(sess, tf.train.latest_checkpoint(fixture_path(model)))
    return sess, saver, sess.run(prefix + "y:0", {prefix + name: x})


@pytest.mark.parametrize("model", IMPORTABLE)
def test_meta_graph_restores_and_gives_tensorflows_outputs(model):
    sess, _, y = _restore_and_run(model)
    np.testing.assert_allclose(y, inputs(model)[2], rtol=1e-6, atol=1e-6)
    # every variable holds exactly what TF saved (partitions are slices of one tensor)
    reader = tf.train.load_checkpoint(fixture_path(model))
    for var in tf.global_variables():
        name = var.op_name
        if "/part_" in name:
            continue
        np.testing.assert_array_equal(sess.run(var), reader.get_tensor(name), err_msg=name)
    sess.close()


def test_the_text_meta_graph_gives_the_same_outputs():
    _, _, y = _restore_and_run("linear", "model.meta.pbtxt")
    np.testing.assert_allclose(y, inputs("linear")[2], rtol=1e-6)


def test_variables_and_collections_are_tensorflows():
    tf.train.import_meta_graph(fixture_path("adam", "model.ckpt.meta"))
    names = sorted(v.op_name for v in tf.trainable_variables())
    assert names == ["dense/bias", "dense/kernel", "dense_1/bias", "dense_1/kernel"]
    every = {v.op_name for v in tf.global_variables()}
    # Adam's slots and its beta powers, as TF1 names them
    assert {"dense/kernel/Adam", "dense/kernel/Adam_1", "beta1_power", "beta2_power"} <= every
    (step,) = tf.get_collection(tf.GraphKeys.GLOBAL_STEP)
    assert step.op_name == "global_step"
    (train_op,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
    assert train_op.name == "Adam"


def test_partitioned_variables_restore_as_slices_of_the_full_tensor():
    sess, saver, _ = _restore_and_run("partitioned")
    full = tf.train.load_checkpoint(fixture_path("partitioned")).get_tensor("embedding")
    parts = [sess.run(f"embedding/part_{i}:0") for i in range(3)]
    assert [p.shape for p in parts] == [(3, 3), (2, 3), (2, 3)]  # fixed_size_partitioner(3)
    np.testing.assert_array_equal(np.concatenate(parts), full)
    with pytest.raises(tf.errors.UnimplementedError, match="partitioned"):
        saver.save(sess, "/tmp/never")
    sess.close()


@pytest.mark.parametrize("model", ["linear", "mlp", "cnn", "adam", "cond"])
def test_imported_train_op_takes_the_step_miniflow_takes(model):
    """TF's own gradient graph (BroadcastGradientArgs, BiasAddGrad, ...) trains the
    imported variables exactly as the same program built with miniflow does."""
    sess, _, _ = _restore_and_run(model)
    name, x, _ = inputs(model)
    (train,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
    for _ in range(2):
        sess.run(train, {name: x})
    got = sess.run("y:0", {name: x})
    sess.close()
    with tf.Graph().as_default():
        ph, y, train, _ = builder(model)(tf)
        with tf.Session() as s:
            tf.train.Saver().restore(s, tf.train.latest_checkpoint(fixture_path(model)))
            for _ in range(2):
                s.run(train, {ph: x})
            want = s.run(y, {ph: x})
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    assert not np.allclose(got, inputs(model)[2])  # the step moved the model


def test_partitioned_embedding_trains_like_numpy():
    """One SGD step of TF's graph on the partitioned embedding, checked by hand: TF1's
    embedding_lookup ("mod" strategy) reads id i from part i % 3, row i // 3."""
    sess, _, y0 = _restore_and_run("partitioned")
    name, ids, _ = inputs("partitioned")
    full = tf.train.load_checkpoint(fixture_path("partitioned")).get_tensor("embedding")
    rows = np.array([[0, 3, 5][i % 3] + i // 3 for i in ids])
    np.testing.assert_allclose(y0, full[rows].sum(1), rtol=1e-6)
    (train,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
    sess.run(train, {name: ids})
    grad = np.zeros_like(full)
    np.add.at(grad, rows, (2.0 / len(ids) * (y0 - ids / 7.0))[:, None] * np.ones(3))
    want = (full - 0.1 * grad)[rows].sum(1)
    np.testing.assert_allclose(sess.run("y:0", {name: ids}), want, rtol=1e-5)
    sess.close()


def test_tf1_cond_takes_either_branch():
    """TF's v1 tf.cond (Switch/Merge) imports as a Select on its predicate: the fixture's
    input takes the true branch (TF's output), the negated input the false one (NumPy)."""
    sess, _, _ = _restore_and_run("cond")
    _, x, want = inputs("cond")
    np.testing.assert_allclose(sess.run("y:0", {"x:0": x}), want, rtol=1e-6, atol=1e-6)
    reader = tf.train.load_checkpoint(fixture_path("cond"))
    k, b, w = (reader.get_tensor(n) for n in ("dense/kernel", "dense/bias", "w"))
    h = np.maximum(-x @ k + b, 0.0)
    np.testing.assert_allclose(sess.run("y:0", {"x:0": -x}), (h @ w) ** 2 - 1.0, rtol=1e-5)
    assert tf.get_default_graph().get_operation_by_name("pick/Merge").type == "Select"
    sess.close()


def test_import_scope_prefixes_every_name():
    sess, saver, y = _restore_and_run("mlp", scope="m")
    np.testing.assert_allclose(y, inputs("mlp")[2], rtol=1e-6)
    assert tf.get_default_graph().get_operation_by_name("m/dense/kernel").type == "VariableV2"
    sess.close()


def test_input_map_puts_a_new_input_in_front():
    feed = tf.placeholder(tf.float32, [None, 4], name="feed")
    saver = tf.train.import_meta_graph(
        fixture_path("mlp", "model.ckpt.meta"), input_map={"x:0": tf.square(feed, name="sq")}
    )
    _, x, want = inputs("mlp")
    with tf.Session() as sess:
        saver.restore(sess, tf.train.latest_checkpoint(fixture_path("mlp")))
        np.testing.assert_allclose(sess.run("y:0", {"sq:0": x}), want, rtol=1e-6)
        got = sess.run("y:0", {feed: np.sqrt(np.abs(x))})  # y is computed from feed**2
        np.testing.assert_allclose(got, sess.run("y:0", {"sq:0": np.abs(x)}), rtol=1e-6)
        assert not np.allclose(got, want)


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_frozen_graph_def_with_input_map_and_return_elements(model):
    """The classic deployment flow: tf.GraphDef().ParseFromString(frozen .pb bytes)."""
    graph_def = tf.GraphDef()
    with open(fixture_path(model, "frozen.pb"), "rb") as fh:
        graph_def.ParseFromString(fh.read())
    assert any(n.op == "BiasAdd" for n in graph_def.node)
    _, x, want = inputs(model)
    feed = tf.placeholder(tf.float32, [None, *x.shape[1:]], name="feed")
    y, y_op = tf.import_graph_def(
        graph_def, input_map={"x": feed}, return_elements=["y:0", "y"], name="frozen"
    )
    assert y.name == "frozen/y:0" and y_op is y.op
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(y, {feed: x}), want, rtol=1e-6, atol=1e-7)


def test_graph_def_text_with_variables_runs_after_their_initializers():
    """graph.pbtxt (TF's write_graph, text) holds VariableV2 + Assign: they import as
    variables whose initializer gives TF's initial values (W, b of build_linear)."""
    with open(fixture_path("linear", "graph.pbtxt"), "rb") as fh:
        data = fh.read()
    y, init = tf.import_graph_def(data, return_elements=["y:0", "W/Assign"], name="")
    x = np.array([[1.0, 2.0, 3.0], [-1.0, 0.0, 0.5]], np.float32)
    with tf.Session() as sess:
        sess.run([init, "b/Assign"])
        got = sess.run(y, {"x:0": x})
    np.testing.assert_allclose(got, x @ [[0.5], [-1.0], [2.0]] + 0.25, rtol=1e-6)


def test_proto_objects_are_accepted_as_well_as_files():
    p = protos()
    meta = tf_graph_proto.read_proto_file(
        fixture_path("linear", "model.ckpt.meta"), p.meta_graph_pb2.MetaGraphDef, "meta"
    )
    saver = tf.train.import_meta_graph(meta)
    assert isinstance(saver, tf.train.Saver)
    with tf.Graph().as_default():
        tf.import_graph_def(meta.graph_def.SerializeToString(), name="g")
        assert tf.get_default_graph().get_operation_by_name("g/W").type == "VariableV2"


def test_miniflow_json_meta_graphs_still_import(tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    v = tf.Variable([[2.0], [3.0]], name="v")
    tf.matmul(x, v, name="y")
    tf.train.export_meta_graph(str(tmp_path / "g.meta"))
    assert (tmp_path / "g.meta").read_bytes().lstrip()[:1] == b"{"
    with tf.Graph().as_default():
        saver = tf.train.import_meta_graph(str(tmp_path / "g.meta"))
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run("y:0", {"x:0": [[1.0, 1.0]]}).tolist() == [[5.0]]
        assert saver is not None


def test_lstm_trains_two_steps_as_tensorflow_does():
    """dynamic_rnn's training graph: the forward loop pushes each step's activations on
    Stacks, the gradient loop pops them (tf_while_import, two While ops)."""
    sess, _, _ = _restore_and_run("lstm")
    name, x, _ = inputs("lstm")
    (train_op,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
    for _ in range(2):
        sess.run(train_op, {name: x})
    # TensorFlow 2.21 (bench venv): import_meta_graph + restore + 2 runs of the train_op
    tf_y = [-0.8616336584091187, 0.9351106882095337]
    tf_bias = [
        0.24523881077766418, -0.0005060525145381689, 0.06897613406181335,
        -0.016299666836857796, 0.021963726729154587, -0.007400872651487589,
        0.13348427414894104, 0.006982723250985146, 0.05637858808040619,
        0.3680614233016968, 0.004434356931596994, 0.08170048147439957,
    ]  # fmt: skip
    np.testing.assert_allclose(sess.run("y:0", {name: x}).ravel(), tf_y, atol=1e-6)
    np.testing.assert_allclose(sess.run("rnn/lstm_cell/bias:0"), tf_bias, atol=1e-6)
    sess.close()
