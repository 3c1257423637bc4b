"""tf.lookup.experimental.MutableHashTable / DenseHashTable: the results and errors that
TensorFlow 2.x (`tf.compat.v1`, graph mode) gives for the same program, and eager mode."""

import numpy as np
import pytest

import miniflow as tf

MutableHashTable = tf.lookup.experimental.MutableHashTable
DenseHashTable = tf.lookup.experimental.DenseHashTable


@pytest.fixture(autouse=True)
def fresh_graph():
    tf.reset_default_graph()
    yield
    tf.reset_default_graph()


def test_insert_lookup_remove_export_in_graph_mode():
    t = MutableHashTable(tf.string, tf.int64, default_value=-1)
    ins = t.insert(tf.constant(["a", "b", "c"]), tf.constant([1, 2, 3], tf.int64))
    look = t.lookup(tf.constant([["a", "x"], ["c", "b"]]))
    assert isinstance(ins, tf.Operation)
    assert look.shape.as_list() == [2, 2] and look.dtype == tf.int64
    rm = t.remove(tf.constant(["b"]))
    keys, values = t.export()
    with tf.Session() as s:
        assert s.run(t.size()) == 0
        s.run(ins)
        got, size = s.run([look, t.size()])
        # TensorFlow: [[1, -1], [3, 2]] 3
        np.testing.assert_array_equal(got, [[1, -1], [3, 2]])
        assert size == 3
        s.run(rm)
        np.testing.assert_array_equal(s.run(look), [[1, -1], [3, -1]])
        k, v = s.run([keys, values])
        assert sorted(zip(k.tolist(), v.tolist())) == [(b"a", 1), (b"c", 3)]
        with pytest.raises(tf.errors.InvalidArgumentError, match="Expected shape"):
            s.run(t.insert(tf.constant(["q"]), tf.constant([1, 2], tf.int64)))
    with tf.Session() as other:  # each session has its own table, as its own variables
        assert other.run(t.size()) == 0


def test_vector_values_and_dynamic_defaults():
    v = MutableHashTable(tf.int64, tf.float32, default_value=[0.0, 0.0])
    ins = v.insert(tf.constant([5], tf.int64), tf.constant([[1.0, 2.0]]))
    found = v.lookup(tf.constant([5, 6], tf.int64))
    dyn = v.lookup(tf.constant([6], tf.int64), dynamic_default_values=[9.0, 9.0])
    assert found.shape.as_list() == [2, 2]
    with tf.Session() as s:
        s.run(ins)
        np.testing.assert_array_equal(s.run(found), [[1.0, 2.0], [0.0, 0.0]])
        np.testing.assert_array_equal(s.run(dyn), [[9.0, 9.0]])
    with pytest.raises(TypeError, match="Keys must be dtype"):
        v.lookup(tf.constant([1.0]))


def test_dense_hash_table_reserved_keys():
    d = DenseHashTable(tf.int64, tf.int64, default_value=-1, empty_key=0, deleted_key=-1)
    with tf.Session() as s:
        s.run(d.insert(tf.constant([1, 2], tf.int64), tf.constant([10, 20], tf.int64)))
        np.testing.assert_array_equal(s.run(d.lookup(tf.constant([1, 3], tf.int64))), [10, -1])
        assert s.run(d.size()) == 2
        with pytest.raises(tf.errors.InvalidArgumentError, match="empty_key"):
            s.run(d.insert(tf.constant([0], tf.int64), tf.constant([1], tf.int64)))
        with pytest.raises(tf.errors.InvalidArgumentError, match="deleted_key"):
            s.run(d.lookup(tf.constant([-1], tf.int64)))
    with pytest.raises(ValueError, match="cannot be the same"):
        DenseHashTable(tf.int64, tf.int64, -1, empty_key=0, deleted_key=0)


def test_eager_tables_hold_their_own_contents():
    with tf.eager_mode():
        t = MutableHashTable(tf.int64, tf.float32, -1.0)
        other = MutableHashTable(tf.int64, tf.float32, -1.0)
        t.insert(tf.constant([1, 2], tf.int64), [0.5, 1.5])
        np.testing.assert_array_equal(t.lookup(tf.constant([2, 3], tf.int64)).numpy(), [1.5, -1.0])
        assert int(t.size()) == 2 and int(other.size()) == 0
        before = t.lookup(tf.constant([1], tf.int64))
        t.remove(tf.constant([1], tf.int64))
        np.testing.assert_array_equal(before.numpy(), [0.5])  # earlier results unchanged
        keys, values = t.export()
        assert keys.numpy().tolist() == [2] and values.numpy().tolist() == [1.5]
