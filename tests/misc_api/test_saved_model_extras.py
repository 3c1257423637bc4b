"""tf.saved_model's main ops, TF's file-name constants and get_tensor_from_tensor_info
(TF behaviour observed with TensorFlow 2.x `tf.compat.v1` in graph mode)."""

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_constants_have_tf_values():
    # Printed by TensorFlow: saved_model.pb saved_model.pbtxt saved_model_debug_info.pb
    assert tf.saved_model.SAVED_MODEL_FILENAME_PB == "saved_model.pb"
    assert tf.saved_model.constants.SAVED_MODEL_FILENAME_PBTXT == "saved_model.pbtxt"
    assert tf.saved_model.constants.DEBUG_INFO_FILENAME_PB == "saved_model_debug_info.pb"


def test_main_op_initializes_local_variables():
    v = tf.Variable(3.0, collections=[tf.GraphKeys.LOCAL_VARIABLES], name="local")
    op = tf.saved_model.main_op.main_op()
    assert op.type == "NoOp"
    with tf.Session() as sess:
        sess.run(op)
        assert sess.run(v) == 3.0


def test_main_op_with_restore_runs_main_op_and_the_restore_op():
    v = tf.Variable(3.0, collections=[tf.GraphKeys.LOCAL_VARIABLES], name="local")
    w = tf.Variable(1.0, name="w")
    restore = tf.assign(w, 4.0, name="restore")
    for op in (
        tf.saved_model.main_op_with_restore(restore.op),
        tf.saved_model.main_op_with_restore("restore"),
    ):
        assert op.type == "NoOp"
        with tf.Session() as sess:
            sess.run(op)
            assert sess.run([v, w]) == [3.0, 4.0]
    with pytest.raises((KeyError, ValueError)):
        tf.saved_model.main_op_with_restore("no_such_op")


def test_get_tensor_from_tensor_info_finds_the_tensor_and_scoped_copies():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    out = tf.identity(x * 2.0, name="out")
    info = tf.saved_model.build_tensor_info(out)
    assert tf.saved_model.get_tensor_from_tensor_info(info) is out
    assert tf.saved_model.utils.get_tensor_from_tensor_info(info) is out
    g = tf.Graph()
    with g.as_default():
        with tf.name_scope("imported"):
            y = tf.identity(tf.constant([1.0]), name="out")
    assert tf.saved_model.get_tensor_from_tensor_info(info, graph=g, import_scope="imported") is y
    with tf.Session() as sess:
        got = sess.run(tf.saved_model.get_tensor_from_tensor_info(info), {x: [[1.0, 2.0]]})
    np.testing.assert_array_equal(got, [[2.0, 4.0]])


def test_tf2_object_saving_is_reported_unsupported():
    with pytest.raises(tf.errors.UnimplementedError, match="TF2 object-based SavedModel"):
        tf.saved_model.save(None, "/tmp/x")
    with pytest.raises(tf.errors.UnimplementedError, match="TF2 object-based"):
        tf.saved_model.experimental.save(None, "/tmp/x")


def test_method_name_updater_edits_signatures_on_disk(tmp_path):
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.identity(x * 2.0, name="y")
    export = str(tmp_path / "model")
    with tf.Session() as sess:
        tf.saved_model.simple_save(sess, export, {"x": x}, {"y": y})
    updater = tf.saved_model.signature_def_utils.MethodNameUpdater(export)
    with pytest.raises(ValueError, match="`method_name` must be defined"):
        updater.replace_method_name("serving_default", "")
    with pytest.raises(ValueError, match="does not have a signature_def with key: 'nope'"):
        updater.replace_method_name("nope", "m")
    with pytest.raises(ValueError, match="could not be found in SavedModel"):
        updater.replace_method_name("serving_default", "m", tags="train")
    updater.replace_method_name(
        "serving_default", "tensorflow/serving/regress", tags=tf.saved_model.SERVING
    )
    updater.save()
    (meta,) = tf.saved_model.read_saved_model(export)
    assert meta.signature_def["serving_default"].method_name == "tensorflow/serving/regress"
    other = str(tmp_path / "copy")
    updater.replace_method_name("serving_default", "custom")
    updater.save(other)
    (copied,) = tf.saved_model.read_saved_model(other)
    assert copied.signature_def["serving_default"].method_name == "custom"
    (unchanged,) = tf.saved_model.read_saved_model(export)
    assert unchanged.signature_def["serving_default"].method_name == "tensorflow/serving/regress"
