"""`Session.run`: fetch structures, feeds, pruning, plan caching and every error path."""

from __future__ import annotations

import collections

import numpy as np
import pytest

import miniflow as tf


@pytest.fixture
def graph():
    x = tf.placeholder(tf.float32, [None, 2], name="x")
    y = tf.reduce_sum(x * 2.0, axis=1, name="y")
    c = tf.constant([1, 2], name="c")
    return x, y, c


def test_nested_fetch_structures_keep_their_shape(graph):
    x, y, c = graph
    Pair = collections.namedtuple("Pair", "a b")
    feed = {x: [[1.0, 2.0], [3.0, 4.0]]}
    with tf.Session() as sess:
        out = sess.run({"y": y, "nested": [c, (y, Pair(c, {"k": y}))], "op": y.op}, feed)
    assert set(out) == {"y", "nested", "op"}
    np.testing.assert_array_equal(out["y"], [6.0, 14.0])
    assert out["op"] is None  # an Operation fetch gives None
    lst = out["nested"]
    assert isinstance(lst, list) and isinstance(lst[1], tuple)
    pair = lst[1][1]
    assert isinstance(pair, Pair)
    np.testing.assert_array_equal(pair.a, [1, 2])
    np.testing.assert_array_equal(pair.b["k"], [6.0, 14.0])
    assert out["nested"][0].dtype == np.int32


def test_ordered_dict_and_single_fetches(graph):
    x, y, c = graph
    with tf.Session() as sess:
        od = sess.run(collections.OrderedDict([("b", c), ("a", c)]))
        assert isinstance(od, collections.OrderedDict) and list(od) == ["b", "a"]
        scalar = sess.run(tf.constant(3.0))
        assert isinstance(scalar, np.float32) and scalar == 3.0
        assert sess.run([]) == []
        assert sess.run(()) == ()


def test_fetch_and_feed_by_name(graph):
    x, y, c = graph
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run("y:0", {"x:0": [[1.0, 1.0]]}), [4.0])
        assert sess.run("y", {x: [[1.0, 1.0]]}) is None  # an op name fetches the op
        np.testing.assert_array_equal(sess.run(["c:0", c]), [[1, 2], [1, 2]])


def test_fed_and_fetched_tensor_returns_the_fed_value(graph):
    x, y, c = graph
    with tf.Session() as sess:
        # a non-placeholder can be fed too; downstream ops then use the fed value
        got_c, got_sum = sess.run([c, c * 10], {c: [5, 6]})
        np.testing.assert_array_equal(got_c, [5, 6])
        np.testing.assert_array_equal(got_sum, [50, 60])
        fed = np.array([[1.0, 2.0]], np.float32)
        got = sess.run(x, {x: fed})
        np.testing.assert_array_equal(got, fed)
        got[0, 0] = 99.0  # the result is not the caller's array
        assert fed[0, 0] == 1.0


def test_only_the_needed_subgraph_runs(graph):
    x, y, c = graph
    unfed = tf.placeholder(tf.float32, name="unfed")
    _ = unfed * 2.0
    v = tf.Variable(1.0)  # never initialized
    _ = v + 1.0
    boom = tf.gather(tf.constant([1, 2]), [5])  # would fail if it ran
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(c * 2), [2, 4])
        # a fed tensor cuts off its upstream: y's placeholder need not be fed
        np.testing.assert_array_equal(sess.run(y * 1.0, {y: [3.0]}), [3.0])
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(boom)


def test_plan_is_built_once_per_signature(graph):
    x, y, c = graph
    with tf.Session() as sess:
        for i in range(5):
            sess.run(y, {x: [[float(i), 0.0]]})
        assert sess.plan_builds == 1
        for _ in range(3):
            sess.run([y, c], {x: [[1.0, 0.0]]})
            sess.run({"y": [y]}, {x: [[1.0, 0.0]]})
        assert sess.plan_builds == 3
        sess.run(y, {"x:0": [[1.0, 0.0]]})  # a different feed key is a new signature
        assert sess.plan_builds == 4
        sess.run(c)
        sess.run(c)
        assert sess.plan_builds == 5


def test_results_do_not_alias_variable_state():
    v = tf.Variable([1.0, 2.0])
    inc = tf.assign_add(v, [1.0, 1.0])
    with tf.Session() as sess:
        sess.run(v.initializer)
        before = sess.run(v)
        sess.run(inc)
        np.testing.assert_array_equal(before, [1.0, 2.0])
        np.testing.assert_array_equal(sess.run(v), [2.0, 3.0])


@pytest.mark.parametrize(
    "view",
    [
        tf.identity,
        tf.stop_gradient,
        lambda x: tf.reshape(x, [4]),
        lambda x: tf.unstack(x)[0],
        lambda x: tf.split(x, 2)[0],
        lambda x: tf.broadcast_to(x, [2, 2]),
        lambda x: x[0],
    ],
    ids=["identity", "stop_gradient", "reshape", "unstack", "split", "broadcast_to", "slice"],
)
def test_values_computed_from_a_variable_are_fetched_before_its_update(view):
    v = tf.Variable([[1.0, 2.0], [3.0, 4.0]])
    t = view(v)
    with tf.control_dependencies([t]):
        inc = tf.assign_add(v, tf.ones([2, 2]))
    with tf.Session() as sess:
        sess.run(v.initializer)
        got, _ = sess.run([t, inc])  # the update runs after t, in place
        np.testing.assert_array_equal(np.ravel(got)[:2], [1.0, 2.0])
        later = sess.run(t)
        sess.run(inc)  # a fetched value never changes afterwards either
        np.testing.assert_array_equal(np.ravel(later)[:2], [2.0, 3.0])


def test_eval_run_and_default_sessions(graph):
    x, y, c = graph
    with pytest.raises(ValueError, match="No default session"):
        c.eval()
    with tf.Session() as sess:
        assert tf.get_default_session() is sess
        np.testing.assert_array_equal(c.eval(), [1, 2])
        np.testing.assert_array_equal(y.eval({x: [[1.0, 2.0]]}), [6.0])
        v = tf.Variable(3.0)
        v.initializer.run()
        assert v.eval() == 3.0
    assert tf.get_default_session() is None
    sess = tf.Session()
    np.testing.assert_array_equal(c.eval(session=sess), [1, 2])
    with sess.as_default():
        np.testing.assert_array_equal(c.eval(), [1, 2])
    other = tf.Graph()
    with other.as_default():
        foreign = tf.Session()
    with pytest.raises(ValueError, match="graph is different"):
        c.eval(session=foreign)


def test_nested_default_sessions():
    s1, s2 = tf.Session(), tf.Session()
    with s1.as_default():
        with s2.as_default():
            with s1.as_default():
                assert tf.get_default_session() is s1
            assert tf.get_default_session() is s2
        assert tf.get_default_session() is s1
    assert tf.get_default_session() is None


def test_interactive_session_installs_itself():
    c = tf.constant(4.0)
    sess = tf.InteractiveSession()
    try:
        assert tf.get_default_session() is sess
        assert c.eval() == 4.0
    finally:
        sess.close()
    assert tf.get_default_session() is None


def test_sessions_keep_separate_variable_state():
    v = tf.Variable(1.0)
    inc = v.assign_add(1.0)
    s1, s2 = tf.Session(), tf.Session()
    s1.run(v.initializer)
    s2.run(v.initializer)
    s1.run(inc)
    assert s1.run(v) == 2.0 and s2.run(v) == 1.0


def test_session_on_an_explicit_graph():
    g = tf.Graph()
    with g.as_default():
        t = tf.constant(5)
    with tf.Session(graph=g) as sess:
        assert sess.graph is g and sess.run(t) == 5
    with tf.Session() as sess, pytest.raises(ValueError, match="not an element of this graph"):
        sess.run(t)


# -- error paths -----------------------------------------------------------------------------


def test_missing_feed_names_the_placeholder(graph):
    x, y, c = graph
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(y)
    msg = str(info.value)
    assert "You must feed a value for placeholder tensor 'x'" in msg
    assert "dtype float32" in msg and "[?,2]" in msg
    assert "test_session.py" in msg  # where the placeholder was defined


@pytest.mark.parametrize(
    "value,match",
    [  # TF 2.21's class and message
        (
            np.zeros((2, 3)),
            r"Cannot feed value of shape \(2, 3\) for Tensor x:0, which has "
            r"shape \(None, 2\)",
        ),
        (np.zeros(2), "Cannot feed value of shape"),
        ([["a", "b"]], "Cannot feed value"),
    ],
)
def test_bad_feed_value(graph, value, match):
    x, y, c = graph
    with tf.Session() as sess, pytest.raises(ValueError, match=match):
        sess.run(y, {x: value})


def test_bad_feed_dtype():
    i = tf.placeholder(tf.int32, [2])
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-integral"):
            sess.run(i, {i: np.array([1.5, 2.0])})
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-integral"):
            sess.run(i, {i: [1.5, 2.0]})
        with pytest.raises(tf.errors.InvalidArgumentError, match="non-integral"):
            sess.run(tf.placeholder(tf.int64, []), {"Placeholder_1:0": 0.5})
        np.testing.assert_array_equal(sess.run(i, {i: np.array([1.0, 2.0])}), [1, 2])
        assert sess.run(i, {i: [1, 2]}).dtype == np.int32


def test_bad_feed_keys(graph):
    x, y, c = graph
    with tf.Session() as sess:
        with pytest.raises(tf.errors.NotFoundError, match="Cannot interpret feed_dict key"):
            sess.run(y, {"nope:0": 1.0})
        with pytest.raises(TypeError, match="Cannot interpret feed_dict key"):
            sess.run(y, {3: 1.0})
        other = tf.Graph()
        with other.as_default():
            foreign = tf.placeholder(tf.float32)
        with pytest.raises(ValueError, match="not an element"):
            sess.run(c, {foreign: 1.0})


@pytest.mark.parametrize(
    "fetch,error,match",
    [
        (None, TypeError, "Fetch argument None has invalid type"),
        (3, TypeError, "Fetch argument 3 has invalid type"),
        (1.5, TypeError, "must be a string or Tensor"),
        ([3], TypeError, "invalid type"),
        ({"a": object()}, TypeError, "invalid type"),
        ("nope:0", tf.errors.NotFoundError, "does not exist"),
        ("nope", tf.errors.NotFoundError, "not in the graph"),
    ],
)
def test_bad_fetches(graph, fetch, error, match):
    with tf.Session() as sess, pytest.raises(error, match=match):
        sess.run(fetch)


def test_uninitialized_variable():
    v = tf.Variable([1.0], name="weights")
    with tf.Session() as sess:
        with pytest.raises(
            tf.errors.FailedPreconditionError, match="Attempting to use uninitialized value weights"
        ):
            sess.run(v * 2.0)
        with pytest.raises(tf.errors.FailedPreconditionError):
            sess.run(v.assign_add([1.0]))
        with pytest.raises(RuntimeError):  # FailedPreconditionError is a RuntimeError
            sess.run(v)
        assert not sess.run(tf.is_variable_initialized(v))
        sess.run(v.initializer)
        assert sess.run(tf.is_variable_initialized(v))


def test_kernel_errors_name_the_op():
    idx = tf.placeholder(tf.int32, [None])
    g = tf.gather(tf.constant([1.0, 2.0]), idx, name="lookup")
    with tf.Session() as sess, pytest.raises(tf.errors.InvalidArgumentError) as info:
        sess.run(g, {idx: [7]})
    assert "lookup" in str(info.value) and "7" in str(info.value)
    assert info.value.op is g.op


def test_closed_session():
    sess = tf.Session()
    sess.close()
    with pytest.raises(RuntimeError, match="closed Session"):
        sess.run(tf.constant(1))
    with tf.Session() as sess2:
        pass
    with pytest.raises(RuntimeError, match="closed Session"):
        sess2.run(tf.constant(1))


def test_session_target_type_check():
    with pytest.raises(TypeError, match="Session\\(config=config\\)"):
        tf.Session(object())


def test_fetched_values_are_numpy_scalars_or_fresh_arrays():
    c = tf.constant([1.0, 2.0])
    with tf.Session() as sess:
        got = sess.run(c)
        got[0] = 100.0  # mutating a result does not change the graph's constant
        np.testing.assert_array_equal(sess.run(c), [1.0, 2.0])
        for t in [tf.reduce_sum(c), tf.constant(2), tf.reduce_mean(tf.constant([1, 2])), c[0]]:
            value = sess.run(t)
            assert isinstance(value, np.generic) and value.dtype == t.dtype.np, t


def test_list_and_tuple_fetches_of_the_same_tensors_keep_their_types():
    a, b = tf.constant(1), tf.constant(2)
    with tf.Session() as sess:
        assert sess.run([a, b]) == [1, 2]
        assert sess.run((a, b)) == (1, 2)
        assert sess.run([a, b]) == [1, 2]


def test_fetch_and_feed_variables():
    v = tf.Variable([1.0, 2.0], name="v")
    doubled = v * 2.0
    with tf.Session() as sess:
        sess.run(v.initializer)
        np.testing.assert_array_equal(sess.run(v), [1.0, 2.0])
        np.testing.assert_array_equal(sess.run({"v": [v]})["v"][0], [1.0, 2.0])
        # feeding a variable overrides its value for this step only
        np.testing.assert_array_equal(sess.run(doubled, {v: [5.0, 6.0]}), [10.0, 12.0])
        np.testing.assert_array_equal(sess.run(doubled), [2.0, 4.0])
        np.testing.assert_array_equal(sess.run("v:0"), [1.0, 2.0])


def test_fetching_a_variable_with_its_update_returns_the_updated_value():
    """TF1 ref-variable semantics: the variable itself is read at the end of the run,
    while a value computed from it (identity, arithmetic) is taken when computed."""
    step = tf.Variable(0, name="global_step", trainable=False)
    inc = tf.assign_add(step, 1)
    before = tf.identity(step)
    with tf.Session() as sess:
        sess.run(step.initializer)
        _, s, b = sess.run([inc, step, before])
        assert (s, b) == (1, 0)
        _, s, b = sess.run([inc, step, before])
        assert (s, b) == (2, 1)


def test_string_feeds_are_checked_against_the_placeholder_shape():
    p = tf.placeholder(tf.string, [2])
    q = tf.identity(p)
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(q, {p: ["a", "b"]}), [b"a", b"b"])
        with pytest.raises(ValueError, match="shape"):
            sess.run(q, {p: ["a", "b", "c"]})
