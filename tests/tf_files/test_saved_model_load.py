"""`tf.saved_model.loader.load` on SavedModels written by TensorFlow 2.21's TF1 API
(fixtures/make_tf_saved_models.py and the graphs fixtures of make_tf_models.py): the
outputs are TensorFlow's, recorded in the fixtures."""

from __future__ import annotations

import os
import shutil

import numpy as np
import pytest

import miniflow as tf
from miniflow.saved_model import tf_loader, tf_proto

pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
MINE = os.path.join(FIXTURES, "saved_models")


def expected(name) -> dict:
    """``{signature: ({input: array}, {output: array})}`` as TensorFlow computed them."""
    with np.load(os.path.join(MINE, name, "expected.npz")) as z:
        out: dict = {}
        for key in z.files:
            sig, kind, k = key.split("/")
            out.setdefault(sig, ({}, {}))[0 if kind == "in" else 1][k] = z[key]
        return out


def run_signature(sess, meta, key, feeds, import_scope=None):
    sig = meta.signature_def[key]
    scope = f"{import_scope}/" if import_scope else ""
    return sess.run(
        {k: scope + v.name for k, v in sig.outputs.items()},
        {scope + sig.inputs[k].name: v for k, v in feeds.items()},
    )


def assert_tf_outputs(got: dict, want: dict):
    assert sorted(got) == sorted(want)
    for k, v in want.items():
        if v.dtype.kind == "S":
            assert np.asarray(got[k]).astype(bytes).tolist() == v.tolist()
        else:
            assert got[k].dtype == v.dtype, k
            np.testing.assert_allclose(got[k], v, rtol=1e-6, atol=1e-6, err_msg=k)


@pytest.mark.parametrize("name", ["linear", "mlp", "mlp_text", "asset"])
def test_tf_saved_models_load_and_give_tf_outputs(name):
    export_dir = os.path.join(MINE, name, "1")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, [tf.saved_model.SERVING], export_dir)
        assert list(meta.meta_info_def.tags) == ["serve"]
        for key, (feeds, want) in expected(name).items():
            assert_tf_outputs(run_signature(sess, meta, key, feeds), want)


def test_signature_defs_are_tf_protos_usable_with_the_utils():
    export_dir = os.path.join(MINE, "mlp", "1")
    with tf.Graph().as_default() as g, tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        assert sorted(meta.signature_def) == ["hidden", "serving_default"]
        sig = meta.signature_def["serving_default"]
        assert sig.method_name == "tensorflow/serving/predict"
        assert (sig.inputs["x"].name, sig.inputs["x"].dtype) == ("x:0", 1)  # DT_FLOAT
        assert [d.size for d in sig.inputs["x"].tensor_shape.dim] == [-1, 4]
        x = tf.saved_model.utils.get_tensor_from_tensor_info(sig.inputs["x"])
        probs = tf.saved_model.utils.get_tensor_from_tensor_info(sig.outputs["probs"])
        assert x is g.get_tensor_by_name("x:0") and probs.shape.as_list() == [None, 3]
        feeds, want = expected("mlp")["serving_default"]
        np.testing.assert_allclose(sess.run(probs, {x: feeds["x"]}), want["probs"], rtol=1e-6)


def test_main_op_initializes_the_local_variable_the_outputs_use():
    # mlp's softmax divides by `temperature`, a local variable only the main op sets.
    export_dir = os.path.join(MINE, "mlp", "1")
    with tf.Graph().as_default() as g, tf.Session() as sess:
        tf.saved_model.loader.load(sess, ["serve"], export_dir)
        (temperature,) = g.get_collection(tf.GraphKeys.LOCAL_VARIABLES)
        assert sess.run(temperature) == 2.0


def test_variables_are_the_checkpoint_values_under_every_tag_set():
    export_dir = os.path.join(MINE, "mlp", "1")
    prefix = os.path.join(export_dir, "variables", "variables")
    saved = dict(tf.train.list_variables(prefix))
    assert saved == {
        "hidden/bias": [8],
        "hidden/kernel": [4, 8],
        "logits/bias": [3],
        "logits/kernel": [8, 3],
    }
    for tags in (["train"], "serve", ("serve",)):
        with tf.Graph().as_default() as g, tf.Session() as sess:
            meta = tf.saved_model.loader.load(sess, tags, export_dir)
            for v in g.get_collection(tf.GraphKeys.GLOBAL_VARIABLES):
                np.testing.assert_array_equal(
                    sess.run(v), tf.train.load_variable(prefix, v.op.name)
                )
            assert len(g.get_collection(tf.GraphKeys.TRAINABLE_VARIABLES)) == 4
        assert list(meta.meta_info_def.tags) == (["train"] if tags == ["train"] else ["serve"])


def test_unknown_tag_set_lists_the_available_ones():
    export_dir = os.path.join(MINE, "mlp", "1")
    with tf.Graph().as_default() as g, tf.Session() as sess:
        with pytest.raises(RuntimeError) as e:
            tf.saved_model.loader.load(sess, ["serve", "gpu"], export_dir)
        assert "['gpu', 'serve'] could not be found" in str(e.value)
        assert "available tag-sets: [['serve'], ['train']]" in str(e.value)
        assert g.get_operations() == []


def test_import_scope_prefixes_every_tensor():
    export_dir = os.path.join(MINE, "linear", "1")
    feeds, want = expected("linear")["serving_default"]
    with tf.Graph().as_default() as g, tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir, import_scope="m")
        assert meta.signature_def["serving_default"].inputs["x"].name == "x:0"  # as in the file
        assert g.get_tensor_by_name("m/y:0") is not None
        with pytest.raises(KeyError):
            g.get_tensor_by_name("y:0")
        got = run_signature(sess, meta, "serving_default", feeds, import_scope="m")
        assert_tf_outputs(got, want)


def test_assets_are_fed_from_the_export_directory_wherever_it_is(tmp_path):
    # The file's constant holds the path TF wrote the asset from, deleted since; the
    # loader feeds assets/greeting.txt of wherever the model is now.
    moved = tmp_path / "elsewhere"
    shutil.copytree(os.path.join(MINE, "asset", "1"), moved)
    (moved / "assets" / "greeting.txt").write_text("a new greeting")
    feeds, want = expected("asset")["serving_default"]
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], str(moved))
        got = run_signature(sess, meta, "serving_default", feeds)
    assert got["content"].tolist() == [b"a new greeting"] * 3
    np.testing.assert_allclose(got["y"], want["y"])
    asset = meta.collection_def["saved_model_assets"].any_list.value[0]
    assert asset.type_url == "type.googleapis.com/tensorflow.AssetFileDef"


def test_layout_detection_and_runner(tmp_path):
    tf_dir = os.path.join(MINE, "linear", "1")
    assert tf.saved_model.contains_saved_model(tf_dir)
    assert tf.saved_model.loader.maybe_saved_model_directory(tf_dir)
    assert tf_loader.is_tf_layout(tf_dir)
    assert not tf.saved_model.contains_saved_model(str(tmp_path))
    feeds, want = expected("linear")["serving_default"]
    runner = tf.saved_model.load_signature_runner(tf_dir)
    try:
        assert_tf_outputs(runner.run(feeds), want)
    finally:
        runner.close()
    # miniflow's own layout next to it: still miniflow's MetaGraphDef.
    with tf.Graph().as_default():
        x = tf.placeholder(tf.float32, [None], name="x")
        with tf.Session() as sess:
            tf.saved_model.simple_save(sess, str(tmp_path / "mf"), {"x": x}, {"y": x * 2.0})
    assert os.listdir(tmp_path / "mf") == ["saved_model.json"]  # no variables to save
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, "serve", str(tmp_path / "mf"))  # one tag
        assert isinstance(meta, tf.saved_model.MetaGraphDef)


def test_pb_is_preferred_over_pbtxt_as_tf_does(tmp_path):
    d = tmp_path / "both"
    shutil.copytree(os.path.join(MINE, "mlp", "1"), d)
    text = os.path.join(MINE, "mlp_text", "1", "saved_model.pbtxt")
    shutil.copy(text, d / "saved_model.pbtxt")
    (d / "saved_model.pbtxt").write_text("this is not read")
    assert tf_proto.find_file(str(d)).endswith("saved_model.pb")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], str(d))
        feeds, want = expected("mlp")["serving_default"]
        assert_tf_outputs(run_signature(sess, meta, "serving_default", feeds), want)


# -- the graphs engineer's fixtures: simple_save of each model, TF's outputs in io.npz ----
GRAPH_MODELS = ["linear", "mlp", "cnn", "adam", "partitioned", "lstm"]


@pytest.mark.parametrize("name", GRAPH_MODELS)
def test_graph_fixture_saved_models(name):
    directory = os.path.join(FIXTURES, name)
    with np.load(os.path.join(directory, "io.npz")) as z:
        io = {k: z[k] for k in z.files}
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], os.path.join(directory, "saved_model"))
        sig = meta.signature_def["serving_default"]
        (key,) = sig.inputs
        y = sess.run(sig.outputs["y"].name, {sig.inputs[key].name: io[key]})
    np.testing.assert_allclose(y, io["y"], rtol=1e-6, atol=1e-6)


def test_resource_variable_model_loads_and_gives_tensorflows_outputs():
    # TF-written with use_resource=True (VarHandleOp/ReadVariableOp/AssignVariableOp).
    export_dir = os.path.join(MINE, "linear_resource", "1")
    feeds, want = expected("linear_resource")["serving_default"]
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir)
        assert sorted(v.op_name for v in tf.global_variables()) == ["W", "b"]
        assert_tf_outputs(run_signature(sess, meta, "serving_default", feeds), want)


def test_loader_keyword_arguments_go_to_the_graph_import():
    export_dir = os.path.join(MINE, "linear", "1")
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], export_dir, clear_devices=True)
        feeds, want = expected("linear")["serving_default"]
        assert_tf_outputs(run_signature(sess, meta, "serving_default", feeds), want)
    with tf.Graph().as_default(), tf.Session() as sess:
        with pytest.raises(TypeError, match="no_such_option"):
            tf.saved_model.loader.load(sess, ["serve"], export_dir, no_such_option=1)


def test_tf2_init_op_signature_is_run_and_not_served(tmp_path):
    # TF2's builder records the init op as the __saved_model_init_op signature instead
    # of the saved_model_main_op collection; the loader runs it, serving skips it.
    from miniflow.serving import load_servable

    d = tmp_path / "m"
    shutil.copytree(os.path.join(MINE, "mlp", "1"), d)
    sm = tf_proto.read(str(d))
    for meta in sm.meta_graphs:
        del meta.collection_def["saved_model_main_op"]
        sig = meta.signature_def["__saved_model_init_op"]
        sig.outputs["__saved_model_init_op"].name = "group_deps"
    tf_proto.write(str(d), sm)
    feeds, want = expected("mlp")["serving_default"]
    with tf.Graph().as_default(), tf.Session() as sess:
        meta = tf.saved_model.loader.load(sess, ["serve"], str(d))
        assert_tf_outputs(run_signature(sess, meta, "serving_default", feeds), want)
    servable = load_servable(d)
    try:
        assert sorted(servable.signature_defs) == ["hidden", "serving_default"]
        got = servable.predict("serving_default", feeds)
        np.testing.assert_allclose(got["probs"], want["probs"], rtol=1e-6, atol=1e-6)
    finally:
        servable.close()


def test_pbtxt_with_expanded_any_assets(tmp_path):
    # TensorFlow's text format may spell an Any as "[type URL] { fields }".
    (tmp_path / "saved_model.pbtxt").write_text(
        'saved_model_schema_version: 1\nmeta_graphs {\n  meta_info_def { tags: "serve" }\n'
        '  collection_def { key: "saved_model_assets" value { any_list { value {\n'
        "    [type.googleapis.com/tensorflow.AssetFileDef] {\n"
        '      tensor_info { name: "vocab:0" } filename: "v.txt" } } } } }\n}\n'
    )
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "v.txt").write_text("a\n")
    (meta,) = tf_proto.read(str(tmp_path)).meta_graphs
    value = meta.collection_def["saved_model_assets"].any_list.value[0]
    assert value.type_url == "type.googleapis.com/tensorflow.AssetFileDef"  # as TF writes it
    assert tf_loader.asset_paths(str(tmp_path), meta, "s") == {
        "s/vocab:0": str(tmp_path / "assets" / "v.txt")
    }
