"""`tf.assert_*`, `tf.Assert`, `tf.check_numerics` and `tf.debugging`. Every expected
message below was produced by TensorFlow (tf.compat.v1) for the same program."""

import numpy as np
import pytest

import miniflow as tf

X = [1.0, 2.0, -3.0, 4.0]
Y = [1.0, 2.0, 3.0, 4.0]


def _run_error(op, feed):
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(op, feed)
    return info.value.message.split("\n")[0]


@pytest.mark.parametrize(
    "fn, want",
    [
        (
            lambda x, y: tf.assert_equal(x, y),
            "assertion failed: [Condition x == y did not hold "
            "element-wise:] [x (x:0) = ] [1 2 -3...] [y (y:0) = ] [1 2 3...]",
        ),
        (
            lambda x, y: tf.assert_equal(x, y, message="boom", summarize=2),
            "assertion failed: [boom] [Condition x == y did not hold element-wise:] [x (x:0) = ] "
            "[1 2...] [y (y:0) = ] [1 2...]",
        ),
        (
            lambda x, y: tf.assert_greater_equal(x, y),
            "assertion failed: [Condition x >= y did "
            "not hold element-wise:] [x (x:0) = ] [1 2 -3...] [y (y:0) = ] [1 2 3...]",
        ),
        (
            lambda x, y: tf.assert_none_equal(x, y),
            "assertion failed: [Condition x != y did not "
            "hold element-wise:] [x (x:0) = ] [1 2 -3...] [y (y:0) = ] [1 2 3...]",
        ),
        (
            lambda x, y: tf.Assert(
                False, [tf.reshape(x, [2, 2]), [1e10, 1e-5, 123456789.0]], summarize=3
            ),
            "assertion failed: [[1 2][-3...]] [1e+10 1e-05 123456792]",
        ),
        (
            lambda x, y: tf.assert_positive(x),
            "assertion failed: [] [Condition x > 0 did not "
            "hold element-wise:] [x (x:0) = ] [1 2 -3...]",
        ),
        (
            lambda x, y: tf.assert_non_negative(x),
            "assertion failed: [] [Condition x >= 0 did "
            "not hold element-wise:] [x (x:0) = ] [1 2 -3...]",
        ),
        (
            lambda x, y: tf.assert_non_positive(x),
            "assertion failed: [] [Condition x <= 0 did "
            "not hold element-wise:x (x:0) = ] [1 2 -3...]",
        ),
        (
            lambda x, y: tf.Assert(tf.reduce_all(x > 0), [x, "str", y]),
            "assertion failed: [1 2 -3...] [str] [1 2 3...]",
        ),
        (lambda x, y: tf.check_numerics(x / 0.0, "bad x"), "bad x : Tensor had Inf values"),
    ],
)
def test_graph_assertions_fail_when_run_with_tf_messages(fn, want):
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    op = fn(x, y)
    assert _run_error(op, {x: X, y: Y}) == want


@pytest.mark.parametrize(
    "fn, good",
    [
        (tf.assert_equal, Y),
        (tf.assert_none_equal, [5.0] * 4),
        (tf.assert_less, [0.0] * 4),
        (tf.assert_greater_equal, Y),
        (lambda x, y: tf.assert_positive(x), Y),
        (lambda x, y: tf.assert_non_positive(x), [-1.0, 0.0, -2.0, -3.0]),
    ],
)
def test_graph_assertions_pass_on_good_values(fn, good):
    x = tf.placeholder(tf.float32, [None], name="x")
    y = tf.placeholder(tf.float32, [None], name="y")
    op = fn(x, y)
    assert op.type == "Assert"
    with tf.Session() as sess:
        assert sess.run(op, {x: good, y: Y}) is None


def test_passing_assertions_and_summaries_of_matrices():
    x = tf.placeholder(tf.float32, [None, None], name="x")
    op = tf.assert_less(x, 10.0, summarize=5)
    with tf.Session() as sess:
        assert sess.run(op, {x: np.ones((2, 3))}) is None
    assert _run_error(op, {x: np.arange(12.0).reshape(3, 4)}) == (
        "assertion failed: [Condition x < y did not hold element-wise:] [x (x:0) = ] "
        "[[0 1 2 3][4...]...] [y (assert_less/y:0) = ] [10]"
    )
    assert _run_error(tf.Assert(False, [x + 0.5]), {x: np.zeros((2, 3, 2))[0]}) == (
        "assertion failed: [[0.5 0.5][0.5...]...]"
    )


def test_asserts_run_only_when_fetched_or_depended_on():
    x = tf.placeholder(tf.float32, [None])
    check = tf.assert_positive(x)
    with tf.control_dependencies([check]):
        guarded = tf.identity(x)
    unguarded = x * 2.0
    with tf.Session() as sess:
        np.testing.assert_array_equal(sess.run(unguarded, {x: [-1.0]}), [-2.0])
        np.testing.assert_array_equal(sess.run(guarded, {x: [1.0]}), [1.0])
        with pytest.raises(tf.errors.InvalidArgumentError, match="x > 0"):
            sess.run(guarded, {x: [-1.0]})


def test_static_violations_raise_at_construction():
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 3]))
    assert info.value.message == (
        "Condition x == y did not hold element-wise:\n"
        "x (Const:0) = \n[1 2]\ny (Const_1:0) = \n[1 3]"
    )
    with pytest.raises(tf.errors.InvalidArgumentError) as info:
        tf.assert_positive(tf.constant([-1.0]))
    assert info.value.message == (
        "\nCondition x > 0 did not hold element-wise:\nx (Const_2:0) = \n[-1.]"
    )
    with pytest.raises(tf.errors.InvalidArgumentError, match="not equal to tolerance"):
        tf.assert_near(tf.constant(1.0), 1.1)
    tf.assert_near(tf.constant(1.0), 1.0 + 1e-7)  # within 10 epsilons
    with pytest.raises(ValueError, match="Dimensions must be equal"):
        tf.assert_equal(tf.constant([1, 2]), tf.constant([1, 2, 3]))


def test_static_rank_dtype_and_shape_checks():
    c = tf.constant([1.0])
    with pytest.raises(
        ValueError,
        match=r"^Tensor Const:0 must have rank 2\.  Received rank "
        r"1, shape \(1,\)$",
    ):
        tf.assert_rank(c, 2)
    assert tf.assert_rank(c, 1).type == "NoOp"
    with pytest.raises(ValueError, match=r"must have rank at least 2\."):
        tf.assert_rank_at_least(c, 2)
    with pytest.raises(ValueError, match=r"must have rank in \(0, 2\)\."):
        tf.assert_rank_in(c, [0, 2])
    with pytest.raises(TypeError, match=r"must be of type tf.float64; got tf.float32"):
        tf.assert_type(c, tf.float64)
    with pytest.raises(
        TypeError,
        match=r"Expected \"x\" to be integer type.  Found: "
        r"Const:0 of dtype <dtype: 'float32'>",
    ):
        tf.assert_integer(c)
    with pytest.raises(
        ValueError,
        match=r"Expected scalar shape for Const:0, saw shape: "
        r"\(1,\)\.",
    ):
        tf.assert_scalar(c)
    s = tf.constant(1.0)
    assert tf.assert_scalar(s) is s
    with pytest.raises(TypeError, match='"proper" iterable'):
        tf.assert_proper_iterable("abc")
    tf.assert_proper_iterable([1, 2])
    assert tf.assert_same_float_dtype([c]) == tf.float32
    assert tf.assert_same_float_dtype() == tf.float32
    with pytest.raises(
        ValueError,
        match=r"type=<dtype: 'float64'>, must be of the same type "
        r"\(<dtype: 'float32'>\) as Const:0",
    ):
        tf.assert_same_float_dtype([c, tf.constant(1.0, tf.float64)])
    with pytest.raises(
        ValueError,
        match=r"Specified by tensor Const_\d:0 dimension 0.  "
        r"Tensor Const_\d:0 dimension 0 must have size 1.  Received size 2",
    ):
        tf.debugging.assert_shapes(
            [(tf.constant([[1.0]]), ("N", "M")), (tf.constant([1.0, 2.0]), ("N",))]
        )


def test_dynamic_rank_and_shape_checks():
    z = tf.placeholder(tf.float32, name="z")
    rank = tf.assert_rank(z, 2)
    assert _run_error(rank, {z: np.zeros(3)}) == (
        "assertion failed: [] [Tensor z:0 must have rank] [2] [Received shape: ] [3]"
    )
    a = tf.placeholder(tf.float32, [None, 3])
    b = tf.placeholder(tf.float32, [None])
    shapes = tf.debugging.assert_shapes([(a, ("N", 3)), (b, ("N",))])
    with tf.Session() as sess:
        sess.run(shapes, {a: np.zeros((2, 3)), b: np.zeros(2)})
        with pytest.raises(tf.errors.InvalidArgumentError):
            sess.run(shapes, {a: np.zeros((2, 3)), b: np.zeros(3)})


def test_eager_assertions_raise_immediately_with_tf_messages():
    with tf.eager_mode():
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.assert_equal(tf.constant([1, 2, 4]), tf.constant([1, 3, 5]))
        assert info.value.message == (
            "Condition x == y did not hold.\nIndices of first 2 different values:\n[[1]\n "
            "[2]]\nCorresponding x values:\n[2 4]\nCorresponding y values:\n[3 5]\nFirst 3 "
            "elements of x:\n[1 2 4]\nFirst 3 elements of y:\n[1 3 5]"
        )
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.assert_positive(tf.constant([-1.0, 2.0, 3.0, 4.0]))
        assert info.value.message == (
            "\nCondition x > 0 did not hold element-wise:\nx "
            "(shape=(4,) dtype=float32) = \n['-1.0', '2.0', '3.0', "
            "'...']"
        )
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.Assert(False, ["a", tf.constant([1, 2, 3, 4])])
        assert info.value.message == (
            "Expected 'False' to be true. Summarized data: b'a'\n1, 2, 3, ..."
        )
        with pytest.raises(tf.errors.InvalidArgumentError, match="m : Tensor had NaN values"):
            tf.check_numerics(tf.constant([np.nan]), "m")
        with pytest.raises(ValueError, match="Tensor  must have rank 2"):
            tf.assert_rank(tf.constant([1.0]), 2)
        assert tf.assert_equal(1, 1) is None
        assert (
            tf.debugging.assert_shapes([(tf.ones([2, 3]), (2, "N")), (tf.ones([3]), ("N",))])
            is None
        )
        assert bool(tf.is_non_decreasing([1, 2, 2]))
        np.testing.assert_array_equal(
            tf.verify_tensor_all_finite(tf.constant([1.0]), "x").numpy(), [1.0]
        )


def test_check_numerics_gradient_is_checked_too():
    x = tf.placeholder(tf.float32, [2])
    y = tf.sqrt(tf.check_numerics(x, "fwd"))
    g = tf.gradients(y, x)[0]
    with tf.Session() as sess:
        np.testing.assert_allclose(sess.run(g, {x: [1.0, 4.0]}), [0.5, 0.25])
        with pytest.raises(
            tf.errors.InvalidArgumentError,
            match="detected in gradient. fwd : Tensor had Inf values",
        ):
            sess.run(g, {x: [0.0, 4.0]})
    checked = tf.add_check_numerics_ops()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError, match="Tensor had"):
            sess.run(checked, {x: [-1.0, 4.0]})


def test_predicates():
    assert tf.is_numeric_tensor(tf.constant(1)) and not tf.is_numeric_tensor(tf.constant("a"))
    assert not tf.is_numeric_tensor(np.ones(2)) and not tf.is_numeric_tensor(tf.constant(True))
    with tf.Session() as sess:
        got = sess.run(
            [
                tf.is_non_decreasing(tf.constant([1, 2, 2])),
                tf.is_strictly_increasing(tf.constant([1, 2, 2])),
                tf.is_strictly_increasing(tf.constant([[1.0, 2.0], [3.0, 4.0]])),
                tf.is_non_decreasing(tf.constant([], tf.float32)),
            ]
        )
    assert [bool(v) for v in got] == [True, False, True, True]
    tf.debugging.set_log_device_placement(True)
    assert tf.debugging.get_log_device_placement()
    tf.debugging.set_log_device_placement(False)


def test_debugging_namespace_matches_tf1():
    # the 37 public names of tf.compat.v1.debugging in TF 2.21, minus `experimental`
    names = [
        "Assert",
        "assert_all_finite",
        "assert_equal",
        "assert_greater",
        "assert_greater_equal",
        "assert_integer",
        "assert_less",
        "assert_less_equal",
        "assert_near",
        "assert_negative",
        "assert_non_negative",
        "assert_non_positive",
        "assert_none_equal",
        "assert_positive",
        "assert_proper_iterable",
        "assert_rank",
        "assert_rank_at_least",
        "assert_rank_in",
        "assert_same_float_dtype",
        "assert_scalar",
        "assert_shapes",
        "assert_type",
        "check_numerics",
        "disable_check_numerics",
        "disable_traceback_filtering",
        "enable_check_numerics",
        "enable_traceback_filtering",
        "get_log_device_placement",
        "is_finite",
        "is_inf",
        "is_nan",
        "is_non_decreasing",
        "is_numeric_tensor",
        "is_strictly_increasing",
        "is_traceback_filtering_enabled",
        "set_log_device_placement",
    ]
    assert [n for n in names if not callable(getattr(tf.debugging, n, None))] == []


def test_assert_variables_initialized():
    assert tf.assert_variables_initialized() is None
    v = tf.Variable([1.0, 2.0], name="v")
    check = tf.assert_variables_initialized()
    with tf.Session() as sess:
        with pytest.raises(tf.errors.FailedPreconditionError, match="uninitialized value v"):
            sess.run(check)
        sess.run(v.initializer)
        assert sess.run(check) == 1
