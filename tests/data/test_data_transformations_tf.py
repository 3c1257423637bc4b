"""Dataset methods added for TF1 breadth (enumerate, shard, scan, take_while, unique,
window, group_by_window, bucket_by_sequence_length, reduce, group_by_reducer,
choose_from_datasets, cardinality ...) against the elements real TensorFlow produced for
the same pipelines (tests/data/fixtures/tf_truth.json, written by make_fixtures.py),
in graph mode and in eager mode."""

import json
import os

import numpy as np
import pytest

import miniflow as tf
from tests.data.helpers import eager_values, graph_values

TRUTH = json.load(open(os.path.join(os.path.dirname(__file__), "fixtures", "tf_truth.json")))
D = tf.data.Dataset
E = tf.data.experimental


def tolist(v):
    if isinstance(v, dict):
        return {k: tolist(x) for k, x in v.items()}
    if isinstance(v, tuple | list):
        return [tolist(x) for x in v]
    return np.asarray(v).tolist()


def lengths(ns):
    return D.from_generator(lambda: ([1] * n for n in ns), tf.int32, [None])


PIPELINES = {
    "enumerate": lambda: D.range(3, 6).enumerate(start=10),
    "shard": lambda: D.range(10).shard(3, 1),
    "scan": lambda: D.range(5).scan(tf.constant(0, tf.int64), lambda s, x: (s + x, s * 10)),
    "take_while": lambda: D.range(10).take_while(lambda x: x < 4),
    "unique": lambda: D.from_tensor_slices([3, 1, 3, 2, 1, 5]).unique(),
    "window": lambda: D.range(7).window(3, shift=2, stride=1).flat_map(lambda w: w.batch(3)),
    "window_stride": lambda: (
        D.range(10).window(3, shift=1, stride=2, drop_remainder=True).flat_map(lambda w: w.batch(3))
    ),
    "group_by_window": lambda: D.range(10).group_by_window(
        lambda x: x % 3, lambda k, w: w.batch(2), window_size=2
    ),
    "bucket": lambda: lengths([1, 3, 2, 5, 4, 1, 6]).bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [3, 5], [2, 2, 2]
    ),
    "bucket_pad_boundary": lambda: lengths([1, 3, 2, 4, 1, 2]).bucket_by_sequence_length(
        lambda x: tf.shape(x)[0], [3, 5], [2, 2, 2], pad_to_bucket_boundary=True, padding_values=-1
    ),
    "group_by_reducer": lambda: D.range(10).apply(
        E.group_by_reducer(
            lambda x: x % 3, E.Reducer(lambda k: np.int64(0), lambda s, x: s + x, lambda s: s)
        )
    ),
    "choose": lambda: D.choose_from_datasets(
        [D.from_tensors(0).repeat(), D.from_tensors(1).repeat(3)],
        D.from_tensor_slices(np.array([0, 1, 1, 0, 1, 1, 0], np.int64)),
    ),
    "padded_batch": lambda: (
        D.range(1, 5)
        .map(lambda x: tf.fill([tf.cast(x, tf.int32)], x))
        .padded_batch(2, padded_shapes=[None], padding_values=tf.constant(-1, tf.int64))
    ),
    "skip_neg": lambda: D.range(5).skip(-1),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_pipeline_matches_tensorflow_graph(name):
    assert tolist(graph_values(PIPELINES[name]())) == TRUTH[name]


@pytest.mark.parametrize(
    "name",
    [
        "scan",
        "window",
        "group_by_window",
        "bucket",
        "choose",
        "group_by_reducer",
        "unique",
        "enumerate",
    ],
)
def test_pipeline_matches_tensorflow_eager(name):
    assert tolist(eager_values(PIPELINES[name])) == TRUTH[name]


def test_static_element_specs():
    assert D.range(3).enumerate().output_types == (tf.int64, tf.int64)
    scan = D.range(3).scan(np.float32(0), lambda s, x: (s + 1, (x, s)))
    assert scan.output_types == (tf.int64, tf.float32)
    ds = lengths([1]).bucket_by_sequence_length(lambda x: tf.shape(x)[0], [3], [2, 2])
    assert ds.output_shapes.as_list() == [None, None]
    ds = D.range(4).window(2)
    assert (
        repr(E.get_structure(ds))
        == "DatasetSpec(TensorSpec(shape=(), dtype=tf.int64, name=None), TensorShape([]))"
    )


def test_scan_relaxes_a_growing_state_shape():  # TF 2.21: [0, 1, 2]
    ds = D.range(3).scan(np.zeros([0], np.int64), lambda s, x: (tf.concat([s, [x]], 0), tf.size(s)))
    assert graph_values(ds) == [0, 1, 2]


def test_window_of_tuples_gives_a_dataset_per_component():
    ds = D.from_tensor_slices((np.arange(5), np.arange(5) * 10)).window(2, drop_remainder=True)
    got = graph_values(ds.flat_map(lambda a, b: D.zip((a.batch(2), b.batch(2)))))
    assert tolist(got) == [[[0, 1], [0, 10]], [[2, 3], [20, 30]]]  # as TF 2.21


def test_reduce_and_get_single_element_graph_and_eager():
    total = D.range(5).reduce(tf.constant(1, tf.int64), lambda s, x: s * (x + 1))
    with tf.Session() as s:
        assert s.run(total) == TRUTH["reduce"] == 120
        pair = D.from_tensors((1, [2.0, 3.0])).get_single_element()
        a, b = s.run(pair)
        assert a == 1 and b.tolist() == [2.0, 3.0]
        with pytest.raises(tf.errors.InvalidArgumentError, match="more than one element"):
            s.run(D.range(2).get_single_element())
        with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
            s.run(E.get_single_element(D.range(0)))
    with tf.eager_mode():
        assert D.range(5).reduce(np.int64(0), lambda s, x: s + x).numpy() == 10


def test_cardinality_matches_tensorflow():
    cases = {
        "slices": D.from_tensor_slices(np.zeros(7)),
        "batch": D.range(10).batch(3),
        "batch_drop": D.range(10).batch(3, drop_remainder=True),
        "repeat": D.range(3).repeat(),
        "repeat0": D.range(0).repeat(),
        "repeat2": D.range(3).repeat(2),
        "filter": D.range(3).filter(lambda x: x > 0),
        "take_inf": D.range(3).repeat().take(5),
        "skip": D.range(10).skip(4),
        "skip_neg": D.range(10).skip(-1),
        "zip": D.zip((D.range(3), D.range(5).repeat())),
        "concat": D.range(3).concatenate(D.range(4)),
        "shard": D.range(10).shard(3, 1),
        "window": D.range(7).window(3, 2),
        "enumerate": D.range(4).enumerate(),
        "unbatch": D.range(4).batch(2).unbatch(),
        "flat_map": D.range(3).flat_map(lambda x: D.range(x)),
        "take_while": D.range(3).take_while(lambda x: x < 1),
        "assert": D.range(3).filter(lambda x: x > 0).apply(E.assert_cardinality(2)),
        "shuffle_inf": D.range(3).repeat().shuffle(4),
        "generator": D.from_generator(lambda: iter([1]), tf.int64),
    }
    with tf.Session() as s:
        got = s.run({k: E.cardinality(d) for k, d in cases.items()})
    assert got == TRUTH["cardinality"]
    assert E.INFINITE_CARDINALITY == tf.data.INFINITE_CARDINALITY == -1
    assert E.UNKNOWN_CARDINALITY == tf.data.UNKNOWN_CARDINALITY == -2


def test_cardinality_reads_placeholders_at_run_time():
    n = tf.placeholder(tf.int64, [])
    card = D.range(n).batch(2).cardinality()
    with tf.Session() as s:
        assert s.run(card, {n: 7}) == 4
    with tf.eager_mode():
        assert D.range(9).shard(4, 0).cardinality().numpy() == 3


def test_assert_cardinality_fails_at_the_wrong_count():
    with pytest.raises(tf.errors.FailedPreconditionError, match="at least 3 elements"):
        graph_values(D.range(3).apply(E.assert_cardinality(2)))
    tf.reset_default_graph()
    with pytest.raises(tf.errors.FailedPreconditionError, match="only 3 elements"):
        graph_values(D.range(3).apply(E.assert_cardinality(4)))


def test_errors_match_tensorflow_classes():
    errs = TRUTH["errors"]
    assert errs["choose_out_of_range"][0] == "InvalidArgumentError"
    with pytest.raises(tf.errors.InvalidArgumentError):
        graph_values(D.choose_from_datasets([D.range(3)], D.from_tensors(tf.constant(4, tf.int64))))
    assert errs["shard_bad_index"][0] == "InvalidArgumentError"
    with pytest.raises(tf.errors.InvalidArgumentError, match="Index must be between"):
        graph_values(D.range(3).shard(2, 3))
    with pytest.raises(ValueError, match="int64"):
        D.range(3).group_by_window(lambda x: tf.cast(x, tf.int32), lambda k, w: w, window_size=2)
    with pytest.raises(TypeError, match="int32, tf.int64 or tf.string"):
        D.range(3).map(lambda x: tf.cast(x, tf.float32)).unique()


def test_group_by_window_size_func_and_rebatch():
    got = graph_values(
        D.range(9).group_by_window(
            lambda x: x % 2, lambda k, w: w.batch(9), window_size_func=lambda k: k + 2
        )
    )
    # Numbers from TF 2.21 tf.compat.v1: leftover groups come out in ascending key order.
    assert tolist(got) == [[0, 2], [1, 3, 5], [4, 6], [8], [7]]
    got = graph_values(
        D.range(4).group_by_window(lambda x: (5 - x) % 3, lambda k, w: w.batch(9), window_size=5)
    )
    assert tolist(got) == [[2], [1], [0, 3]]
    got = graph_values(
        D.range(4).apply(
            E.group_by_reducer(
                lambda x: (5 - x) % 3, E.Reducer(lambda k: k * 100, lambda s, x: s + x, lambda s: s)
            )
        )
    )
    assert got == [2, 101, 203]
    got = graph_values(D.range(7).batch(3).rebatch(2))  # TF 2.21: the same
    assert tolist(got) == [[0, 1], [2, 3], [4, 5], [6]]


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning")  # the failing elements
def test_ignore_errors_skips_failing_elements():
    ds = (
        D.from_tensor_slices([1.0, 2.0, 0.0, 4.0])
        .map(lambda x: tf.debugging.check_numerics(1.0 / x, "error"))
        .apply(E.ignore_errors())
    )
    assert graph_values(ds) == [1.0, 0.5, 0.25]
    assert eager_values(
        lambda: (
            D.from_tensor_slices([1.0, 0.0])
            .map(lambda x: tf.debugging.check_numerics(1.0 / x, "e"))
            .ignore_errors()
        )
    ) == [1.0]


def test_parallel_interleave_and_map_and_batch_legacy_names():
    ds = D.range(1, 4).apply(
        E.parallel_interleave(lambda x: D.from_tensors(x).repeat(x), cycle_length=2)
    )
    assert graph_values(ds) == [1, 2, 2, 3, 3, 3]
    tf.reset_default_graph()
    ds = D.range(5).apply(E.map_and_batch_with_legacy_function(lambda x: x * 2, 2))
    assert tolist(graph_values(ds)) == [[0, 2], [4, 6], [8]]
    assert tolist(graph_values(D.range(3).apply(E.enumerate_dataset(5)))) == [
        [5, 0],
        [6, 1],
        [7, 2],
    ]


def test_group_by_window_size_from_a_placeholder():
    size = tf.placeholder(tf.int64, [])
    ds = D.range(6).group_by_window(lambda x: x % 2, lambda k, w: w.batch(3), window_size=size)
    it = ds.make_initializable_iterator()
    nxt = it.get_next()
    with tf.Session() as s:
        s.run(it.initializer, {size: 3})
        assert [s.run(nxt).tolist() for _ in range(2)] == [[0, 2, 4], [1, 3, 5]]
        s.run(it.initializer, {size: 0})
        with pytest.raises(tf.errors.InvalidArgumentError, match="greater than zero"):
            s.run(nxt)
