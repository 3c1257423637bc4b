"""`tf.io.gfile.join`, `get_registered_schemes` and `tf.io.write_graph` (values from TF 2.21)."""

import miniflow as tf


def test_join_matches_tensorflow():
    g = tf.io.gfile
    assert g.join("a", "b", "c") == "a/b/c"
    assert g.join("/a/", "b") == "/a/b"
    assert g.join("gs://bucket", "x") == "gs://bucket/x"
    assert g.join("a", "/b") == "/b"
    assert g.join("a") == "a"


def test_registered_schemes_name_plain_paths():
    assert tf.io.gfile.get_registered_schemes() == [""]


def test_io_write_graph_is_train_write_graph():
    assert tf.io.write_graph is tf.train.write_graph
