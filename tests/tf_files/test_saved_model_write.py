"""`SavedModelBuilder(format="tf")`/`simple_save(format="tf")`: TensorFlow's layout
written by miniflow, read back by miniflow (TensorFlow reads it in
fixtures/tf_reads_miniflow_saved_models.py), and the signature helpers' protos."""

from __future__ import annotations

import os

import numpy as np
import pytest

import miniflow as tf
from miniflow.saved_model import tf_proto

pb = pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")

W = np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -0.75]], np.float32)
B = np.array([0.1, -0.2, 0.3], np.float32)


def build_and_save(export_dir, as_text=False, asset=None):
    """x [None, 2] -> logits = x W + b, probs = softmax(logits * scale); ``scale`` is a
    local variable the main op sets; signatures serving_default and ``logits``; tags
    {serve} and {train}. Returns TF-independent reference outputs for X."""
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        w = tf.Variable(W, name="dense/kernel")
        b = tf.Variable(B, name="dense/bias")
        scale = tf.Variable(0.0, name="scale", collections=[tf.GraphKeys.LOCAL_VARIABLES])
        logits = tf.nn.bias_add(tf.matmul(x, w), b, name="logits")
        probs = tf.nn.softmax(logits * scale, name="probs")
        assets, updates = None, [tf.assign(scale, 0.5)]
        if asset is not None:
            assets = [tf.constant(str(asset), name="vocab_path")]
            vocab = tf.Variable("", name="vocab", collections=[tf.GraphKeys.LOCAL_VARIABLES])
            updates.append(tf.assign(vocab, tf.io.read_file(assets[0])))
        with tf.control_dependencies([tf.local_variables_initializer()]):
            main_op = tf.group(*updates, name="main_op")
        sdu = tf.saved_model.signature_def_utils
        sigs = {
            "serving_default": sdu.predict_signature_def({"x": x}, {"probs": probs}),
            "logits": sdu.build_signature_def(
                {"features": tf.saved_model.utils.build_tensor_info(x)},
                {"logits": tf.saved_model.utils.build_tensor_info(logits)},
                tf.saved_model.PREDICT_METHOD_NAME,
            ),
        }
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            builder = tf.saved_model.builder.SavedModelBuilder(export_dir, format="tf")
            builder.add_meta_graph_and_variables(
                sess, ["serve"], signature_def_map=sigs, main_op=main_op, assets_collection=assets
            )
            builder.add_meta_graph(["train"])
            return builder.save(as_text=as_text)


X = np.array([[1.0, 2.0], [-0.5, 0.25], [0.0, 0.0]], np.float32)


def reference():
    logits = X.astype(np.float64) @ W + B
    e = np.exp(0.5 * logits - (0.5 * logits).max(1, keepdims=True))
    return logits, e / e.sum(1, keepdims=True)


@pytest.mark.parametrize("as_text", [False, True])
def test_builder_round_trip_in_miniflow(tmp_path, as_text):
    export_dir = str(tmp_path / "m")
    assert build_and_save(export_dir, as_text) == export_dir
    name = "saved_model.pbtxt" if as_text else "saved_model.pb"
    assert sorted(os.listdir(export_dir)) == [name, "variables"]
    assert sorted(os.listdir(os.path.join(export_dir, "variables"))) == [
        "variables.data-00000-of-00001",
        "variables.index",
    ]
    logits, probs = reference()
    for tags in (["serve"], ["train"]):
        with tf.Graph().as_default(), tf.Session() as sess:
            meta = tf.saved_model.loader.load(sess, tags, export_dir)
            got_logits, got_probs = sess.run(["logits:0", "probs:0"], {"x:0": X})
        np.testing.assert_allclose(got_logits, logits, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(got_probs, probs, rtol=1e-6, atol=1e-7)
        assert list(meta.meta_info_def.tags) == tags
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        sig = meta.signature_def["logits"]
        got = sess.run(sig.outputs["logits"].name, {sig.inputs["features"].name: X})
    np.testing.assert_allclose(got, logits, rtol=1e-6, atol=1e-6)


def test_the_file_is_tf_s_savedmodel_proto(tmp_path):
    export_dir = str(tmp_path / "m")
    build_and_save(export_dir)
    data = open(os.path.join(export_dir, "saved_model.pb"), "rb").read()
    # Field 1 (schema version, varint 1) first, then the meta graphs (field 2).
    assert data[:2] == b"\x08\x01" and data[2] == 0x12
    sm = tf_proto.read(export_dir)
    assert sm.saved_model_schema_version == 1
    assert [list(m.meta_info_def.tags) for m in sm.meta_graphs] == [["serve"], ["train"]]
    serve = sm.meta_graphs[0]
    assert isinstance(serve, pb.MetaGraphDef)
    assert list(serve.collection_def["saved_model_main_op"].node_list.value) == ["main_op"]
    sig = serve.signature_def["serving_default"]
    assert sig.method_name == "tensorflow/serving/predict"
    assert (sig.inputs["x"].name, sig.inputs["x"].dtype) == ("x:0", 1)
    assert [d.size for d in sig.outputs["probs"].tensor_shape.dim] == [-1, 3]
    sd = serve.saver_def
    assert sd.restore_op_name and sd.filename_tensor_name and sd.version == 2  # V2
    ops = {n.op for n in serve.graph_def.node}
    assert {"SaveV2", "RestoreV2", "VariableV2", "MatMul"} <= ops
    # The variables are TF's V2 bundle, with the values.
    prefix = os.path.join(export_dir, "variables", "variables")
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "dense/kernel"), W)
    np.testing.assert_array_equal(tf.train.load_variable(prefix, "dense/bias"), B)
    assert open(prefix + ".index", "rb").read(1) != b"{"  # not miniflow's JSON index


def test_assets_are_copied_and_fed_back(tmp_path):
    src = tmp_path / "vocab.txt"
    src.write_text("a\nb\n")
    export_dir = str(tmp_path / "m")
    build_and_save(export_dir, asset=src)
    assert open(os.path.join(export_dir, "assets", "vocab.txt")).read() == "a\nb\n"
    (serve, _) = tf_proto.read(export_dir).meta_graphs
    assert [(a.filename, a.tensor_info.name) for a in serve.asset_file_def] == [
        ("vocab.txt", "vocab_path:0")
    ]
    src.unlink()
    with tf.Graph().as_default() as g, tf.Session() as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)  # reads assets/vocab.txt
        assert sess.run(g.get_tensor_by_name("vocab:0")) == b"a\nb\n"


def test_simple_save_format_tf_and_default_format(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        v = tf.Variable(W, name="v")
        y = tf.matmul(x, v, name="y")
        with tf.Session() as sess:
            sess.run(v.initializer)
            tf.saved_model.simple_save(sess, str(tmp_path / "tf"), {"x": x}, {"y": y}, format="tf")
            tf.saved_model.simple_save(sess, str(tmp_path / "mf"), {"x": x}, {"y": y})
    assert sorted(os.listdir(tmp_path / "tf")) == ["saved_model.pb", "variables"]
    assert sorted(os.listdir(tmp_path / "mf")) == ["saved_model.json", "variables"]
    for d in ("tf", "mf"):
        runner = tf.saved_model.load_signature_runner(str(tmp_path / d))
        try:
            np.testing.assert_allclose(runner.run({"x": X})["y"], X @ W, rtol=1e-6)
        finally:
            runner.close()


def test_a_miniflow_format_saver_still_writes_the_tf_bundle(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None, 2], name="x")
        v = tf.Variable(W, name="v")
        y = tf.matmul(x, v, name="y")
        saver = tf.train.Saver({"renamed_v": v})
        with tf.Session() as sess:
            sess.run(v.initializer)
            b = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "m"), format="tf")
            sig = tf.saved_model.predict_signature_def({"x": x}, {"y": y})
            b.add_meta_graph_and_variables(sess, ["serve"], {"serving_default": sig}, saver=saver)
            b.save()
    prefix = str(tmp_path / "m" / "variables" / "variables")
    assert [n for n, _ in tf.train.list_variables(prefix)] == ["renamed_v"]
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.loader.load(sess, ["serve"], str(tmp_path / "m"))
        np.testing.assert_allclose(sess.run("y:0", {"x:0": X}), X @ W, rtol=1e-6)


def test_builder_errors(tmp_path):
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        v = tf.Variable(1.0, name="v")
        y = x * v
        sig = {"serving_default": tf.saved_model.predict_signature_def({"x": x}, {"y": y})}
        with tf.Session() as sess:
            sess.run(v.initializer)
            with pytest.raises(ValueError, match="format must be 'miniflow' or 'tf'"):
                tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "a"), format="pb")
            b = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "a"), format="tf")
            with pytest.raises(AssertionError, match="add_meta_graph_and_variables"):
                b.add_meta_graph(["serve"])
            b.add_meta_graph_and_variables(sess, ["serve"], sig)
            with pytest.raises(AssertionError, match="already been saved"):
                b.add_meta_graph_and_variables(sess, ["train"], sig)
            with pytest.raises(AssertionError, match="already added"):
                b.add_meta_graph(["serve"])
            with pytest.raises(TypeError, match="must be of type constant"):
                b.add_meta_graph(["x"], assets_collection=[y])
            with pytest.raises(FileNotFoundError, match="does not exist"):
                b.add_meta_graph(["x"], assets_collection=[tf.constant(str(tmp_path / "no"))])
            b.save()
            assert not os.path.exists(tmp_path / "a" / "assets")
            with pytest.raises(tf.errors.AlreadyExistsError):
                tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "a"), format="tf")


def test_signature_helpers_give_tf_protos():
    with tf.Graph().as_default():
        examples = tf.placeholder(tf.string, [None], name="examples")
        scores = tf.placeholder(tf.float32, [None, 3], name="scores")
        classes = tf.placeholder(tf.string, [None, 3], name="classes")
        sdu = tf.saved_model.signature_def_utils
        cls = tf_proto.signature_def_proto(
            sdu.classification_signature_def(examples, classes, scores)
        )
        reg = tf_proto.signature_def_proto(
            sdu.regression_signature_def(examples, tf.reduce_sum(scores, 1))
        )
    # Field values as TF 2.21's signature_def_utils gives them for the same graph.
    assert isinstance(cls, pb.SignatureDef)
    assert cls.method_name == "tensorflow/serving/classify"
    assert sorted(cls.inputs) == ["inputs"] and sorted(cls.outputs) == ["classes", "scores"]
    assert (cls.inputs["inputs"].name, cls.inputs["inputs"].dtype) == ("examples:0", 7)
    assert [d.size for d in cls.outputs["scores"].tensor_shape.dim] == [-1, 3]
    assert reg.method_name == "tensorflow/serving/regress"
    assert sorted(reg.outputs) == ["outputs"] and reg.outputs["outputs"].dtype == 1
    assert tf_proto.signature_def_proto(cls) is cls
    unknown = tf_proto.tensor_info_proto(tf.saved_model.TensorInfo("t:0", tf.int64, None))
    assert unknown.tensor_shape.unknown_rank and unknown.dtype == 9


def test_same_named_assets_are_kept_apart_as_tf_does(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "vocab.txt").write_text("first")
    (tmp_path / "b" / "vocab.txt").write_text("second")
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "vocab.txt").write_text("first")  # same content as a/: shared
    with tf.Graph().as_default():
        paths = [tf.constant(str(tmp_path / d / "vocab.txt"), name=f"p_{d}") for d in "abc"]
        x = tf.placeholder(tf.float32, [None], name="x")
        sig = {"serving_default": tf.saved_model.predict_signature_def({"x": x}, {"y": x + 1})}
        with tf.Session() as sess:
            b = tf.saved_model.builder.SavedModelBuilder(str(tmp_path / "m"), format="tf")
            b.add_meta_graph_and_variables(sess, ["serve"], sig, assets_collection=paths)
            b.save()
    (serve,) = tf_proto.read(str(tmp_path / "m")).meta_graphs
    assert [(a.filename, a.tensor_info.name) for a in serve.asset_file_def] == [
        ("vocab.txt", "p_a:0"),
        ("vocab.txt_1", "p_b:0"),
        ("vocab.txt", "p_c:0"),
    ]
    assets = tmp_path / "m" / "assets"
    assert sorted(os.listdir(assets)) == ["vocab.txt", "vocab.txt_1"]
    assert (assets / "vocab.txt_1").read_text() == "second"
    # A graph without global variables: no SaverDef, and it loads back.
    assert not serve.HasField("saver_def")
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.saved_model.loader.load(sess, ["serve"], str(tmp_path / "m"))
        assert sess.run("add:0", {"x:0": [1.0, 2.0]}).tolist() == [2.0, 3.0]


@pytest.mark.parametrize("name", ["mlp", "mlp_text"])
def test_method_name_updater_on_tf_s_layout(tmp_path, name):
    src = os.path.join(os.path.dirname(__file__), "fixtures", "saved_models", name, "1")
    updater = tf.saved_model.signature_def_utils.MethodNameUpdater(src)
    with pytest.raises(ValueError, match="does not have a signature_def with key: 'nope'"):
        updater.replace_method_name("nope", "m", tags="serve")
    with pytest.raises(ValueError, match="could not be found in SavedModel"):
        updater.replace_method_name("hidden", "m", tags=["gpu"])
    updater.replace_method_name("hidden", "tensorflow/serving/regress", tags="serve")
    updater.save(str(tmp_path))  # only the SavedModel file, in the source's form
    file = "saved_model.pbtxt" if name == "mlp_text" else "saved_model.pb"
    assert os.listdir(tmp_path) == [file]
    serve, train = tf_proto.read(str(tmp_path)).meta_graphs
    assert serve.signature_def["hidden"].method_name == "tensorflow/serving/regress"
    assert serve.signature_def["serving_default"].method_name == "tensorflow/serving/predict"
    assert list(train.meta_info_def.tags) == ["train"]
    (original, _) = tf_proto.read(src).meta_graphs
    assert original.signature_def["hidden"].method_name == "tensorflow/serving/predict"
