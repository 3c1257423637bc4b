"""Devices in exported and imported graphs (GraphDef/MetaGraphDef ``device`` fields), for
a ``replica_device_setter`` graph. TF_DEVICES is what TensorFlow 2.21's TF1 API wrote in
``graph.as_graph_def()`` for the same program (benchmarks/.venv-bench)."""

from __future__ import annotations

import pytest

import miniflow as tf
from miniflow.train import tf_graph_export

TF_DEVICES = {  # real TF 2.21: node.device of these nodes
    "MatMul": "/job:worker/task:0",
    "b": "/job:ps/task:0",
    "b/Adam_1": "/job:ps/task:0",
    "beta1_power": "/job:ps/task:0",  # colocated with "b", the first variable by name
    "beta2_power": "/job:ps/task:0",
    "global_step": "/job:ps/task:0",
    "w": "/job:ps/task:1",
    "w/Adam": "/job:ps/task:1",
    "x": "/job:worker/task:0",
    "y": "/job:worker/task:0",
}


def _program():
    g = tf.Graph()
    with g.as_default():
        cluster = tf.train.ClusterSpec({"ps": ["a:1", "b:1"], "worker": ["c:1"]})
        setter = tf.train.replica_device_setter(worker_device="/job:worker/task:0", cluster=cluster)
        with tf.device(setter):
            gs = tf.train.get_or_create_global_step()
            w = tf.get_variable("w", [3, 2])
            b = tf.get_variable("b", [2])
            x = tf.placeholder(tf.float32, [None, 3], name="x")
            y = tf.identity(tf.matmul(x, w) + b, name="y")
            tf.train.AdamOptimizer(0.1).minimize(tf.reduce_sum(y * y), global_step=gs)
    return g


def _devices(nodes):
    return {n.name: n.device for n in nodes if n.name in TF_DEVICES}


def test_graph_def_carries_tfs_devices():
    g = _program()
    assert _devices(g.as_graph_def().node) == TF_DEVICES
    # TensorFlow's protobuf GraphDef: the same strings
    assert _devices(tf_graph_export.graph_def_from_graph(g).node) == TF_DEVICES


@pytest.mark.parametrize("fmt", ["miniflow", "tf"])
def test_meta_graph_round_trip_keeps_devices_and_clear_devices_drops_them(fmt):
    g = _program()
    with g.as_default():
        meta = tf.train.export_meta_graph(format=fmt)
        cleared = tf.train.export_meta_graph(format=fmt, clear_devices=True)
    with tf.Graph().as_default() as g2:
        tf.train.import_meta_graph(meta)
        assert {n: g2.get_operation_by_name(n).device for n in TF_DEVICES} == TF_DEVICES
        assert g2.get_operation_by_name("w").device == "/job:ps/task:1"
    with tf.Graph().as_default() as g3:
        tf.train.import_meta_graph(meta, clear_devices=True)
        assert {g3.get_operation_by_name(n).device for n in TF_DEVICES} == {""}
    with tf.Graph().as_default() as g4:
        tf.train.import_meta_graph(cleared)
        assert {g4.get_operation_by_name(n).device for n in TF_DEVICES} == {""}


def test_import_graph_def_keeps_saved_devices_over_an_enclosing_scope():
    gd = _program().as_graph_def()
    with tf.Graph().as_default() as g:
        with tf.device("/job:worker/task:1"):
            tf.import_graph_def(gd, name="")
            extra = tf.constant(1.0, name="extra")
        # TF 2.21 printed: w /job:ps/task:1, y /job:worker/task:0 under the same scope
        assert g.get_operation_by_name("w").device == "/job:ps/task:1"
        assert g.get_operation_by_name("y").device == "/job:worker/task:0"
        assert extra.op.device == "/job:worker/task:1"


def test_a_device_that_is_not_a_string_is_refused():
    with _program().as_default():
        meta = tf.train.export_meta_graph(format="miniflow")
    meta._body["graph_def"]["ops"][0]["device"] = 7
    with tf.Graph().as_default(), pytest.raises(tf.errors.InvalidArgumentError, match="device"):
        tf.train.import_meta_graph(meta)
