"""A ``variable_scope``'s partitioner (TF1's inheritance rules) and checkpoints of
partitioned variables in TF's layout: the whole tensor under the variable's name.

Names and piece shapes below were printed by TensorFlow 2.21's TF1 API
(benchmarks/.venv-bench) for the same programs.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import miniflow as tf
from miniflow.train import tensor_bundle

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "tf_files", "fixtures", "partitioned")


@pytest.fixture(autouse=True)
def _graph():
    with tf.Graph().as_default() as g:
        yield g


def _names(pv):
    return [v.name for v in pv]


def test_scope_partitioner_is_inherited_overridden_and_cleared_as_in_tf():
    p2, p3 = tf.fixed_size_partitioner(2), tf.fixed_size_partitioner(3)
    with tf.variable_scope("a", partitioner=p2) as a:
        assert a.partitioner is p2
        assert _names(tf.get_variable("v", [6, 2])) == ["a/v/part_0:0", "a/v/part_1:0"]
        with tf.variable_scope("b"):
            assert len(tf.get_variable("w", [6, 2])) == 2
        with tf.variable_scope("c", partitioner=None):  # None keeps the enclosing one
            assert len(tf.get_variable("w", [6, 2])) == 2
        with tf.variable_scope("d", partitioner=p3):
            assert len(tf.get_variable("w", [6, 2])) == 3
        assert len(tf.get_variable("x", [6, 2], partitioner=p3)) == 3  # the argument wins
        one = tf.get_variable("one", [1, 2])  # TF: still a PartitionedVariable of one piece
        assert isinstance(one, tf.PartitionedVariable) and _names(one) == ["a/one/part_0:0"]
        scalar = tf.get_variable("sc", [])  # a scalar is never partitioned
        assert isinstance(scalar, tf.Variable) and scalar.name == "a/sc:0"
        with tf.variable_scope(a, reuse=True):
            assert _names(tf.get_variable("v", [6, 2])) == ["a/v/part_0:0", "a/v/part_1:0"]
    with tf.variable_scope("e"), tf.variable_scope(a):  # a captured scope brings its own
        assert _names(tf.get_variable("y", [4, 2])) == ["a/y/part_0:0", "a/y/part_1:0"]
    with tf.variable_scope("f", partitioner=p2) as f:
        f.set_partitioner(None)
        assert isinstance(tf.get_variable("z", [4, 2]), tf.Variable)
    with tf.variable_scope("outside"):
        assert isinstance(tf.get_variable("plain", [4, 2]), tf.Variable)


@pytest.mark.parametrize(
    "partitioner",
    [
        tf.min_max_variable_partitioner(4, min_slice_size=16),
        tf.variable_axis_size_partitioner(24),
    ],
)
def test_size_partitioners_in_a_scope_cut_as_tf(partitioner):
    with tf.variable_scope("g", partitioner=partitioner):
        m = tf.get_variable("m", [10, 2])
    # TF 2.21: parts (3, 2), (3, 2), (2, 2), (2, 2) for both partitioners
    assert [v.shape.as_list() for v in m] == [[3, 2], [3, 2], [2, 2], [2, 2]]


def test_unknown_shape_under_a_partitioner_is_refused_with_tfs_message():
    with (
        tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(2)),
        pytest.raises(ValueError, match="partitioned variable must be fully defined"),
    ):
        tf.get_variable("v", initializer=tf.zeros_initializer())


def test_a_value_initializer_is_cut_into_the_pieces():
    value = np.arange(10, dtype=np.float32).reshape(5, 2)
    with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(2)):
        v = tf.get_variable("v", initializer=value)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        assert [p.shape for p in sess.run(list(v))] == [(3, 2), (2, 2)]
        np.testing.assert_array_equal(sess.run(tf.convert_to_tensor(v)), value)


def _embedding(partitions, name="embedding"):
    with tf.variable_scope("", partitioner=tf.fixed_size_partitioner(partitions)):
        return tf.get_variable(name, [7, 3], initializer=tf.zeros_initializer())


def test_saver_restores_tfs_partitioned_checkpoint_into_scope_partitioned_pieces():
    """TF's fixture (make_tf_models.build_partitioned) saved ``embedding`` [7, 3] as 3
    slices; a scope-partitioned miniflow graph restores it with a plain Saver, cut in 2
    pieces as well as in 3 (TF re-slices on restore too)."""
    prefix = tf.train.latest_checkpoint(FIXTURES)
    full = tf.train.load_checkpoint(prefix).get_tensor("embedding")
    for n, shapes in [(3, [(3, 3), (2, 3), (2, 3)]), (2, [(4, 3), (3, 3)])]:
        with tf.Graph().as_default():
            emb = _embedding(n)
            saver = tf.train.Saver(tf.global_variables())
            with tf.Session() as sess:
                saver.restore(sess, prefix)
                parts = sess.run(list(emb))
        assert [p.shape for p in parts] == shapes
        np.testing.assert_array_equal(np.concatenate(parts), full)


@pytest.mark.parametrize("fmt", ["tf", "miniflow"])
def test_partitioned_variables_are_saved_whole_under_their_name(tmp_path, fmt):
    value = np.arange(21, dtype=np.float32).reshape(7, 3)
    emb = _embedding(3)
    bias = tf.get_variable("bias", [2], initializer=tf.ones_initializer())
    saver = tf.train.Saver([emb, bias], format=fmt)  # a PartitionedVariable in var_list
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        for piece, start, stop in zip(emb, [0, 3, 5], [3, 5, 7], strict=True):
            piece.load(value[start:stop], sess)
        path = saver.save(sess, str(tmp_path / "model.ckpt"))
    assert sorted(name for name, _ in tf.train.list_variables(path)) == ["bias", "embedding"]
    np.testing.assert_array_equal(tf.train.load_variable(path, "embedding"), value)
    if fmt == "tf":  # TF's own reader sees one unsliced [7, 3] tensor under the name
        _, entries = tensor_bundle.read_index(path)
        assert list(entries["embedding"].shape) == [7, 3]
    with tf.Graph().as_default():  # restored into another cut
        emb2 = _embedding(2)
        tf.get_variable("bias", [2])
        with tf.Session() as sess:
            tf.train.Saver().restore(sess, path)
            np.testing.assert_array_equal(np.concatenate(sess.run(list(emb2))), value)


def test_restoring_a_partitioned_variable_of_another_shape_names_it(tmp_path):
    emb = _embedding(3)
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        path = tf.train.Saver().save(sess, str(tmp_path / "m.ckpt"))
    with tf.Graph().as_default():
        with tf.variable_scope("", partitioner=tf.fixed_size_partitioner(2)):
            tf.get_variable("embedding", [8, 3])
        with (
            tf.Session() as sess,
            pytest.raises(tf.errors.InvalidArgumentError, match=r"embedding.*\[7, 3\].*\[8, 3\]"),
        ):
            tf.train.Saver().restore(sess, path)
    del emb


def test_saving_some_pieces_of_a_partitioned_variable_is_refused(tmp_path):
    emb = _embedding(3)
    saver = tf.train.Saver([emb[0], emb[2]])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        with pytest.raises(ValueError, match="pieces of partitioned variable embedding"):
            saver.save(sess, str(tmp_path / "m.ckpt"))
        # named one by one in a dict, pieces are ordinary variables
        path = tf.train.Saver({"p0": emb[0], "p2": emb[2]}).save(sess, str(tmp_path / "d.ckpt"))
    assert sorted(n for n, _ in tf.train.list_variables(path)) == ["p0", "p2"]


def test_eager_get_variable_is_partitioned_as_in_tf():
    """TF 2.21 in eager mode returns a PartitionedVariable too (printed for this program:
    parts x/part_0:0 [3, 3] and x/part_1:0 [2, 3]; a lookup of ids 4, 0, 2 times 2 and
    one SGD step at 0.5 zeroes rows 2, 0 and 1 of part_0: `embedding_lookup`'s default
    "mod" strategy puts id i in piece i % 2, row i // 2)."""
    with tf.eager_mode():
        v = tf.get_variable(
            "x", [5, 3], initializer=tf.ones_initializer(), partitioner=tf.fixed_size_partitioner(2)
        )
        assert isinstance(v, tf.PartitionedVariable)
        assert _names(v) == ["x/part_0:0", "x/part_1:0"]
        assert [p.shape.as_list() for p in v] == [[3, 3], [2, 3]]
        np.testing.assert_array_equal(tf.convert_to_tensor(v).numpy(), np.ones((5, 3)))
        with tf.GradientTape() as tape:
            y = tf.reduce_sum(tf.nn.embedding_lookup(v, [4, 0, 2]) * 2.0)
        grads = tape.gradient(y, list(v))
        assert all(isinstance(g, tf.IndexedSlices) for g in grads)
        tf.train.GradientDescentOptimizer(0.5).apply_gradients(zip(grads, list(v)))
        want = np.ones((5, 3), np.float32)
        want[[0, 1, 2]] = 0.0
        np.testing.assert_array_equal(tf.convert_to_tensor(v).numpy(), want)
        with tf.variable_scope("s", partitioner=tf.fixed_size_partitioner(3)):
            assert _names(tf.get_variable("w", [6, 2])) == [
                "s/w/part_0:0",
                "s/w/part_1:0",
                "s/w/part_2:0",
            ]
