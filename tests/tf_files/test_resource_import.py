"""Resource variables (``use_resource=True``) in a TF1 training graph written by
TensorFlow 2.21 (fixtures/make_tf_resource.py): ``VarHandleOp`` becomes a miniflow
variable, ``ReadVariableOp`` its read, ``AssignVariableOp``/``AssignAddVariableOp`` and
``ResourceApply*``/``ResourceSparseApply*`` the ref ops, ``ResourceGather`` a gather.
The restored model gives TF's output and two training steps give TF's variables."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import miniflow as tf

pytest.importorskip("tensorboard.compat.proto.meta_graph_pb2")

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "resource")
with open(os.path.join(HERE, "expected.json")) as _f:
    EXPECTED = json.load(_f)


def test_resource_training_graph_matches_tensorflow():
    for op in ("VarHandleOp", "ResourceApplyMomentum", "ResourceSparseApplyMomentum"):
        assert op in EXPECTED["ops"]
    feed = {"x:0": np.array(EXPECTED["x"], np.float32), "ids:0": np.array(EXPECTED["ids"])}
    with tf.Graph().as_default(), tf.Session() as sess:
        saver = tf.train.import_meta_graph(os.path.join(HERE, "model.ckpt.meta"))
        saver.restore(sess, tf.train.latest_checkpoint(HERE))
        np.testing.assert_allclose(sess.run("y:0", feed), EXPECTED["y"], rtol=1e-6, atol=1e-6)
        (train_op,) = tf.get_collection(tf.GraphKeys.TRAIN_OP)
        for _ in range(2):
            sess.run(train_op, feed)
        after = EXPECTED["variables_after_2_steps"]
        assert sorted(v.op_name for v in tf.global_variables()) == sorted(after)
        for var in tf.global_variables():
            np.testing.assert_allclose(
                sess.run(var), after[var.op_name], rtol=1e-6, atol=1e-6, err_msg=var.op_name
            )
        np.testing.assert_allclose(
            sess.run("y:0", feed), EXPECTED["y_after_2_steps"], rtol=1e-6, atol=1e-6
        )


def test_reading_a_handle_that_is_not_a_variable_is_refused():
    from miniflow.train.tf_proto_values import protos

    meta = protos().meta_graph_pb2.MetaGraphDef()
    with open(os.path.join(HERE, "model.ckpt.meta"), "rb") as f:
        meta.ParseFromString(f.read())
    node = meta.graph_def.node.add(name="bad_read", op="ReadVariableOp", input=["x"])
    node.attr["dtype"].type = 1
    with tf.Graph().as_default() as g:
        with pytest.raises(tf.errors.InvalidArgumentError, match="bad_read.*must be a variable"):
            tf.train.import_meta_graph(meta)
        assert g.get_operations() == []
