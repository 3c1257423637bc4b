"""`tf.io.parse_example` / `parse_single_example` with `tf.io.RaggedFeature`. Expected
values were obtained from TensorFlow 2.21 on the same two examples."""

from __future__ import annotations

import numpy as np
import pytest

import miniflow as tf

R = tf.io.RaggedFeature


def _example(**features):
    out = {}
    for k, v in features.items():
        if isinstance(v[0], float):
            out[k] = tf.train.Feature(float_list=tf.train.FloatList(value=v))
        else:
            out[k] = tf.train.Feature(int64_list=tf.train.Int64List(value=v))
    return tf.train.Example(features=tf.train.Features(feature=out)).SerializeToString()


E1 = _example(
    v=[1.0, 2.0, 3.0, 4.0], len=[3, 0, 1], sp=[0, 1, 4], ids=[0, 0, 2, 2], lim=[2, 4], st=[0, 3]
)
E2 = _example(v=[5.0, 6.0], len=[2], sp=[0, 2], ids=[1, 1], lim=[1, 2], st=[0, 0])

CASES = {  # spec -> (batch of [E1, E2], single E1), from TF
    "plain": (R(tf.float32, "v"), [[1, 2, 3, 4], [5, 6]], [1, 2, 3, 4]),
    "lengths": (
        R(tf.float32, "v", [R.RowLengths("len")]),
        [[[1, 2, 3], [], [4]], [[5, 6]]],
        [[1, 2, 3], [], [4]],
    ),
    "splits": (
        R(tf.float32, "v", [R.RowSplits("sp")]),
        [[[1], [2, 3, 4]], [[5, 6]]],
        [[1], [2, 3, 4]],
    ),
    "ids": (
        R(tf.float32, "v", [R.ValueRowIds("ids")]),
        [[[1, 2], [], [3, 4]], [[], [5, 6]]],
        [[1, 2], [], [3, 4]],
    ),
    "limits": (
        R(tf.float32, "v", [R.RowLimits("lim")]),
        [[[1, 2], [3, 4]], [[5], [6]]],
        [[1, 2], [3, 4]],
    ),
    "starts": (
        R(tf.float32, "v", [R.RowStarts("st")]),
        [[[1, 2, 3], [4]], [[], [5, 6]]],
        [[1, 2, 3], [4]],
    ),
    "uniform": (
        R(tf.float32, "v", [R.UniformRowLength(2)]),
        [[[1, 2], [3, 4]], [[5, 6]]],
        [[1, 2], [3, 4]],
    ),
    "two": (
        R(tf.float32, "v", [R.RowLimits("lim"), R.UniformRowLength(1)]),
        [[[[1], [2]], [[3], [4]]], [[[5]], [[6]]]],
        [[[1], [2]], [[3], [4]]],
    ),
}


def _list(v):
    return v.to_list() if hasattr(v, "to_list") else np.asarray(v).tolist()


@pytest.mark.parametrize("case", sorted(CASES))
def test_parse_example_builds_the_ragged_tensor(case):
    spec, want_batch, want_single = CASES[case]
    batch = tf.io.parse_example([E1, E2], {case: spec})[case]
    single = tf.io.parse_single_example(E1, {case: spec})[case]
    assert isinstance(batch, tf.RaggedTensor)
    assert batch.row_splits.dtype == tf.int32  # RaggedFeature's default, as TF
    with tf.Session() as sess:
        got_batch, got_single = sess.run([batch, single])
    assert _list(got_batch) == want_batch
    assert _list(got_single) == want_single


def test_single_example_without_ragged_partition_is_dense():
    # TF: a plain RaggedFeature or one with only uniform partitions parses to a Tensor
    for spec in (R(tf.float32, "v"), R(tf.float32, "v", [R.UniformRowLength(2)])):
        assert isinstance(tf.io.parse_single_example(E1, {"x": spec})["x"], tf.Tensor)
    assert tf.io.parse_example([E1], {"x": R(tf.float32, "v", [R.UniformRowLength(2)])})[
        "x"
    ].shape.as_list()[2:] == [2]


def test_value_key_defaults_to_the_key_and_mixes_with_other_specs():
    features = {
        "len": R(tf.int64, row_splits_dtype=tf.int64),
        "v": tf.io.VarLenFeature(tf.float32),
        "missing": R(tf.float32),
    }
    out = tf.io.parse_example([E1, E2], features)
    assert out["len"].row_splits.dtype == tf.int64
    with tf.Session() as sess:
        got = sess.run(out)
    assert got["len"].to_list() == [[3, 0, 1], [2]]
    np.testing.assert_array_equal(got["v"].values, [1, 2, 3, 4, 5, 6])
    assert got["missing"].to_list() == [[], []]


def test_eager_parse():
    with tf.eager_mode():
        out = tf.io.parse_example([E1, E2], {"x": R(tf.float32, "v", [R.RowLengths("len")])})["x"]
        assert out.to_list() == [[[1, 2, 3], [], [4]], [[5, 6]]]


def test_inconsistent_partition_is_invalid_argument():
    out = tf.io.parse_example([E1], {"x": R(tf.float32, "v", [R.RowLengths("lim")])})["x"]
    with (
        tf.Session() as sess,
        pytest.raises(tf.errors.InvalidArgumentError, match="does not match"),
    ):
        sess.run(out)


def test_conflicting_specs_are_rejected():
    with pytest.raises(ValueError, match="RaggedFeature"):
        tf.io.parse_example(
            [E1], {"v": tf.io.FixedLenFeature([4], tf.float32), "x": R(tf.float32, "v")}
        )
