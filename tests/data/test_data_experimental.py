"""tf.data options, structures, Optional, random/directed sources, lookup tables from
datasets and the remaining tf.data.experimental names. Expected values are hand-computed
or (where marked) were obtained from TF 2.21's tf.compat.v1."""

import collections

import numpy as np
import pytest

import miniflow as tf
from tests.data.helpers import graph_values

D = tf.data.Dataset
E = tf.data.experimental


def test_options_set_merge_compare_and_propagate():
    o = tf.data.Options()
    assert o == tf.data.Options() and o.deterministic is None
    o.threading.private_threadpool_size = 3
    o.experimental_optimization.map_fusion = True
    assert o.experimental_threading is o.threading  # the deprecated alias (as TF)
    with pytest.raises(AttributeError, match="Cannot set the property foo on Options"):
        o.foo = 1
    other = tf.data.Options()
    other.deterministic = False
    merged = o.merge(other)  # TF: 3 False
    assert merged.threading.private_threadpool_size == 3 and merged.deterministic is False
    ds = D.range(3).with_options(o).map(lambda x: x).with_options(other)
    got = ds.options()  # TF: options reach through later transformations
    assert got.threading.private_threadpool_size == 3 and got.deterministic is False
    assert D.range(2).options() == tf.data.Options()
    assert graph_values(ds) == [0, 1, 2]
    assert isinstance(o.autotune, E.AutotuneOptions)
    assert isinstance(tf.data.ThreadingOptions(), E.ThreadingOptions)
    assert [int(p) for p in E.AutoShardPolicy] == [-1, 0, 1, 2, 3]
    assert E.ExternalStatePolicy.FAIL == 2 and E.AutotuneAlgorithm.STAGE_BASED == 4
    assert tf.data.AUTOTUNE == E.AUTOTUNE == -1 and E.SHARD_HINT == -1
    with pytest.raises(TypeError, match="tf.data.Options"):
        D.range(2).with_options({"deterministic": True})


def test_structures_and_output_functions():
    ds = D.from_tensor_slices((np.zeros([4, 2], np.float32), np.arange(4)))
    assert E.get_structure(ds) == (tf.TensorSpec([2], tf.float32), tf.TensorSpec([], tf.int64))
    it = ds.make_initializable_iterator()
    assert E.get_structure(it) == E.get_structure(ds)
    assert tf.data.get_output_types(it) == (tf.float32, tf.int64)
    assert [s.as_list() for s in tf.data.get_output_shapes(ds)] == [[2], []]
    assert tf.data.get_output_classes(ds) == (tf.Tensor, tf.Tensor)
    assert E.TensorStructure(tf.int32, [3]) == tf.TensorSpec([3], tf.int32)
    assert E.SparseTensorStructure(tf.int32, [3]) == tf.SparseTensorSpec([3], tf.int32)
    assert isinstance(E.TensorStructure(tf.int32, []), E.Structure)
    spec = tf.data.DatasetSpec(tf.TensorSpec([], tf.int64))
    assert spec == E.DatasetStructure(tf.TensorSpec([], tf.int64))
    assert spec.element_spec == tf.TensorSpec([], tf.int64)
    with pytest.raises(TypeError, match="tf.data.Dataset"):
        E.get_structure([1, 2])


def test_get_next_as_optional_graph():
    it = D.range(2).make_initializable_iterator()
    opt = E.get_next_as_optional(it)
    assert opt.element_spec == tf.TensorSpec([], tf.int64)
    with tf.Session() as s:
        s.run(it.initializer)
        assert [s.run([opt.has_value(), opt.get_value()]) for _ in range(2)] == [
            [True, 0],
            [True, 1],
        ]
        assert not s.run(opt.has_value())  # the end is an empty Optional, not an error
        with pytest.raises(tf.errors.InvalidArgumentError, match="does not have a value"):
            s.run(opt.get_value())


def test_optional_eager_and_from_value():
    with tf.eager_mode():
        it = iter(D.from_tensors((1, 2.0)))
        first, second = E.get_next_as_optional(it), E.get_next_as_optional(it)
        assert first.has_value().numpy() and not second.has_value().numpy()
        a, b = first.get_value()
        assert (a.numpy(), b.numpy()) == (1, 2.0)
        with pytest.raises(tf.errors.InvalidArgumentError):
            second.get_value()
        assert E.Optional.from_value({"k": 3}).get_value()["k"].numpy() == 3
        empty = E.Optional.empty(tf.TensorSpec([2], tf.float32))
        assert not empty.has_value().numpy()


def test_as_numpy_iterator_is_eager_only():
    with tf.eager_mode():
        got = list(D.from_tensor_slices({"a": [1, 2], "b": ["x", "y"]}).as_numpy_iterator())
        assert got == [{"a": 1, "b": b"x"}, {"a": 2, "b": b"y"}]
        assert isinstance(D.range(1).as_numpy_iterator(), tf.data.NumpyIterator)
    with pytest.raises(RuntimeError, match="eager"):
        D.range(1).as_numpy_iterator()


def test_sample_from_datasets_follows_weights_and_drains_inputs():
    ds = E.sample_from_datasets(
        [D.from_tensors(0).repeat(), D.from_tensors(1).repeat()], [0.8, 0.2], seed=7
    )
    got = np.array(graph_values(ds.take(2000)))
    assert abs(got.mean() - 0.2) < 0.03  # binomial sd 0.009
    tf.reset_default_graph()
    ds = D.sample_from_datasets([D.range(5), D.range(10, 13)], seed=1)
    got = graph_values(ds)
    assert sorted(got) == [0, 1, 2, 3, 4, 10, 11, 12]
    assert [v for v in got if v < 10] == [0, 1, 2, 3, 4]  # each input keeps its order
    tf.reset_default_graph()
    again = graph_values(D.sample_from_datasets([D.range(5), D.range(10, 13)], seed=1))
    assert again == got  # same seed, same order
    tf.reset_default_graph()
    stop = graph_values(
        D.sample_from_datasets([D.range(1), D.range(10, 100)], seed=2, stop_on_empty_dataset=True)
    )
    # It stops when the exhausted range(1) is picked again: 0 once, the other input in
    # order and not drained.
    rest = [v for v in stop if v != 0]
    assert stop.count(0) == 1 and rest == list(range(10, 10 + len(rest))) and len(rest) < 90


def test_choose_from_datasets_experimental_default_does_not_stop():
    choices = D.from_tensor_slices(np.array([0, 1, 1, 0, 1, 1, 0], np.int64))
    datasets = [D.from_tensors(0).repeat(), D.from_tensors(1).repeat(3)]
    # tf.data.experimental's default stop_on_empty_dataset=False skips the empty input
    # (TF 2.21 gives [0, 1, 1, 0, 1, 0]).
    assert graph_values(E.choose_from_datasets(datasets, choices)) == [0, 1, 1, 0, 1, 0]
    with pytest.raises(TypeError, match="int64"):
        D.choose_from_datasets(datasets, D.range(3).map(lambda x: tf.cast(x, tf.int32)))


def test_rejection_resample_moves_towards_target():
    labels = np.array([0] * 900 + [1] * 100, np.int64)
    np.random.default_rng(0).shuffle(labels)
    ds = D.from_tensor_slices(labels).rejection_resample(
        lambda x: x, target_dist=[0.5, 0.5], initial_dist=[0.9, 0.1], seed=3
    )
    got = graph_values(ds)
    classes = np.array([c for c, _ in got])
    assert all(c == v for c, v in got)
    assert (classes == 1).sum() == 100  # the rare class is always kept
    assert abs((classes == 0).sum() - 100) < 35  # the common one kept with p = 1/9


def test_random_counter_and_from_list():
    a = graph_values(D.random(seed=4).take(3))
    tf.reset_default_graph()
    b = graph_values(E.RandomDataset(seed=4).take(3))
    assert a == b and len(set(a)) == 3 and all(isinstance(v, np.int64) for v in a)
    assert all(0 <= v < 2**32 for v in a)  # TF's values: [0, 2**32) as int64
    assert graph_values(E.Counter(2, 3).take(3)) == [2, 5, 8]
    assert graph_values(D.counter(1, dtype=tf.int32).take(2)) == [1, 2]
    got = graph_values(E.from_list([(1, "a"), (2, "b")]))
    assert got == [(1, b"a"), (2, b"b")]
    ds = E.from_list([np.array([1, 2]), np.array([3, 4, 5])])
    assert ds.output_shapes.as_list() == [None]
    with tf.Session() as s:
        assert s.run(ds.cardinality()) == 2
    with pytest.raises(ValueError, match="same structure"):
        E.from_list([(1, 2), 3])


def test_pad_to_cardinality_marks_padding():
    ds = D.from_tensor_slices({"a": np.arange(3)}).apply(E.pad_to_cardinality(5))
    got = graph_values(ds)  # the same elements as TF 2.21
    assert [(int(e["a"]), bool(e["valid"])) for e in got] == [
        (0, True),
        (1, True),
        (2, True),
        (0, False),
        (0, False),
    ]
    with pytest.raises(ValueError, match="dictionary"):
        D.range(3).apply(E.pad_to_cardinality(5))


def test_lookup_tables_from_datasets():
    table = E.index_table_from_dataset(D.from_tensor_slices(["x", "y", "z"]))
    ids = table.lookup(tf.constant(["y", "q", "z"]))
    pairs = D.from_tensor_slices((["a", "b"], np.array([10, 20], np.int64)))
    t2 = tf.lookup.StaticHashTable(E.DatasetInitializer(pairs), -1)
    vals = t2.lookup(tf.constant(["b", "c"]))
    with tf.Session() as s:
        s.run(tf.tables_initializer())
        assert s.run(ids).tolist() == [1, -1, 2]  # TF 2.21: [1, -1, 2]
        assert s.run(vals).tolist() == [20, -1]


def test_pass_through_names():
    ds = D.range(4)
    assert E.snapshot("/tmp/unused")(ds) is ds and ds.snapshot("/tmp/unused") is ds
    E.enable_debug_mode()
    assert graph_values(ds.apply(E.unique())) == [0, 1, 2, 3]
    assert graph_values(D.range(6).apply(E.take_while(lambda x: x < 2))) == [0, 1]
    assert graph_values(D.range(3).apply(E.scan(np.int64(0), lambda s, x: (s + x, s)))) == [0, 0, 1]
    assert graph_values(D.range(4).batch(2).apply(E.unbatch())) == [0, 1, 2, 3]
    assert graph_values(D.range(3).map_with_legacy_function(lambda x: x + 1)) == [1, 2, 3]
    assert graph_values(D.range(3).filter_with_legacy_function(lambda x: x > 0)) == [1, 2]


def test_make_csv_dataset_batches_repeat_forever_with_drop_remainder(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x,y\n1,a\n2,b\n3,c\n")
    ds = E.make_csv_dataset(str(path), 2, shuffle=True, shuffle_seed=1)
    assert ds.output_shapes["x"].as_list() == [2]  # num_epochs=None: drop_remainder
    nxt = ds.make_one_shot_iterator().get_next()
    with tf.Session() as s:
        rows = [s.run(nxt) for _ in range(3)]
    xs = collections.Counter(int(v) for r in rows for v in r["x"])
    assert sum(xs.values()) == 6 and set(xs) <= {1, 2, 3}


def test_variant_round_trip_reads_captured_tensors_when_computed():
    n = tf.placeholder(tf.int64, [])
    variant = E.to_variant(D.range(n).map(lambda x: x * 2))
    assert variant.dtype == tf.variant
    it = E.from_variant(variant, tf.TensorSpec([], tf.int64)).make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as s:
        s.run(it.initializer, {n: 3})
        assert [s.run(nxt) for _ in range(3)] == [0, 2, 4]
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(nxt)
    with tf.eager_mode():
        v = E.to_variant(D.range(2))
        got = E.from_variant(v, tf.TensorSpec([], tf.int64))
        assert list(got.as_numpy_iterator()) == [0, 1]
        with pytest.raises(TypeError, match="variant"):
            E.from_variant(tf.constant("x"), tf.TensorSpec([], tf.int64))


def test_tensor_array_structure():
    spec = E.TensorArrayStructure(tf.float32, [2], True, True)
    assert spec == E.TensorArrayStructure(tf.float32, [2], True, True)
    assert spec != E.TensorArrayStructure(tf.float32, [3], True, True)
    # TF: TensorArrayStructure builds a tf.TensorArraySpec, with its repr
    assert type(spec) is tf.TensorArraySpec
    assert repr(spec) == "TensorArraySpec(TensorShape([2]), tf.float32, True, True)"
    assert spec.dtype == tf.float32 and spec.element_shape.as_list() == [2]


def test_make_csv_dataset_inferred_columns_default_to_zero_and_empty(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("x,y,z\n1,,2.5\n,b,\n")
    ds = E.make_csv_dataset(str(path), 2, num_epochs=1, shuffle=False)
    assert ds.output_types == {"x": tf.int32, "y": tf.string, "z": tf.float32}
    (got,) = graph_values(ds)  # TF 2.21: x [1, 0], y [b"", b"b"], z [2.5, 0.0]
    assert got["x"].tolist() == [1, 0] and got["y"].tolist() == [b"", b"b"]
    assert got["z"].tolist() == [2.5, 0.0]


def test_bucket_by_sequence_length_padding_value_tensor_and_no_padding():
    ds = D.from_generator(lambda: ([1] * n for n in [2, 1, 4]), tf.int32, [None])
    got = graph_values(
        ds.bucket_by_sequence_length(
            lambda x: tf.shape(x)[0], [3], [2, 1], padding_values=tf.constant(-7)
        )
    )
    assert [g.tolist() for g in got] == [[[1, 1], [1, -7]], [[1, 1, 1, 1]]]  # as TF 2.21
    tf.reset_default_graph()
    ds = D.range(5).bucket_by_sequence_length(
        lambda x: tf.cast(x, tf.int32), [2], [2, 2], no_padding=True, drop_remainder=True
    )
    assert [g.tolist() for g in graph_values(ds)] == [[0, 1], [2, 3]]
    with pytest.raises(TypeError, match="int32"):  # as TF (int64 vs int32 boundaries)
        D.range(5).bucket_by_sequence_length(lambda x: x, [2], [2, 2])


def test_save_and_load_round_trip_graph_and_eager(tmp_path):
    path = str(tmp_path / "saved")
    ds = D.from_tensor_slices({"x": np.arange(3, dtype=np.float32), "s": ["a", "b", "c"]}).map(
        lambda e: (e["x"] * 2, e["s"])
    )
    with tf.Session() as s:
        s.run(ds.save(path, compression="GZIP"))
    loaded = D.load(path)
    assert loaded.output_types == (tf.float32, tf.string)
    assert graph_values(loaded) == [(0.0, b"a"), (2.0, b"b"), (4.0, b"c")]
    with tf.eager_mode():
        D.range(2).batch(2).save(str(tmp_path / "e"))
        spec = tf.TensorSpec([None], tf.int64)
        assert [v.tolist() for v in D.load(str(tmp_path / "e"), spec).as_numpy_iterator()] == [
            [0, 1]
        ]
    with pytest.raises(tf.errors.NotFoundError, match="no saved dataset"):
        D.load(str(tmp_path / "nothing"))
    with pytest.raises(tf.errors.UnimplementedError, match="ragged"):
        D.range(2).ragged_batch(2)
