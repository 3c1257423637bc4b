"""Every element of a dataset, in graph mode and in eager mode, for the tf.data tests."""

import pytest

import miniflow as tf


def graph_values(ds):
    """The elements of a one-shot iterator over ``ds`` until OutOfRangeError (which must
    then repeat, as in TF)."""
    nxt = ds.make_one_shot_iterator().get_next()
    out = []
    with tf.Session() as s:
        while True:
            try:
                out.append(s.run(nxt))
            except tf.errors.OutOfRangeError:
                break
        with pytest.raises(tf.errors.OutOfRangeError):
            s.run(nxt)
    return out


def eager_values(make):
    """The elements of ``make()`` built and iterated in eager mode."""
    with tf.eager_mode():
        return list(make().as_numpy_iterator())
