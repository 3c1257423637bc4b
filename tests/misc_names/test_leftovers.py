"""The issue-13 leftover names (autograph helpers, tf.experimental, variable creator
scopes, CriticalSection, batch functions, type specs, TF2 dropout, ResidualWrapper)
against real TensorFlow 2.21's behaviour (numbers and messages written in below)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import miniflow as tf


def test_autograph_helpers():
    ag = tf.autograph
    # TF: [(f.name, f.value) for f in tf.autograph.experimental.Feature]
    assert [(f.name, f.value) for f in ag.experimental.Feature] == [
        (n, n)
        for n in (
            "ALL",
            "AUTO_CONTROL_DEPS",
            "ASSERT_STATEMENTS",
            "BUILTIN_FUNCTIONS",
            "EQUALITY_OPERATORS",
            "LISTS",
            "NAME_SCOPES",
        )
    ]

    def f(x):
        return x + 1

    assert ag.experimental.do_not_convert(f)(1) == 2
    assert ag.experimental.do_not_convert()(f) is f
    assert ag.experimental.set_loop_options(maximum_iterations=3) is None


def test_autograph_verbosity_set_wins_over_the_environment(monkeypatch):
    # TF's ag_logging.get_verbosity: the set level, else $AUTOGRAPH_VERBOSITY, else 0
    ag = tf.autograph
    monkeypatch.setitem(ag._VERBOSITY, "level", None)
    monkeypatch.setenv("AUTOGRAPH_VERBOSITY", "2")
    assert ag.get_verbosity() == 2
    ag.set_verbosity(5)
    assert ag.get_verbosity() == 5
    monkeypatch.delenv("AUTOGRAPH_VERBOSITY")
    assert ag.get_verbosity() == 5


def test_autograph_trace_prints(capsys):
    tf.autograph.trace("hello", 1)
    assert capsys.readouterr().out == "hello 1\n"  # as TF prints it


def test_experimental_async_and_optional():
    with tf.experimental.async_scope():
        x = tf.constant(1.0) + 1.0
    assert tf.experimental.async_clear_error() is None
    with tf.Session() as sess:
        assert sess.run(x) == 2.0
    opt = tf.experimental.Optional.from_value(tf.constant(1.0))
    # TF: TensorSpec(shape=(), dtype=tf.float32, name=None)
    assert repr(opt.element_spec) == "TensorSpec(shape=(), dtype=tf.float32, name=None)"
    assert isinstance(tf.OptionalSpec(opt.element_spec), tf.TypeSpec)


@pytest.mark.parametrize(
    "name, reason",
    [
        ("int4", "NumPy has no int4"),
        ("float8_e5m2", "NumPy has no float8_e5m2"),
        ("ExtensionType", "extension types"),
        ("StructuredTensor", "ragged"),
        ("dispatch_for_api", "dispatch"),
        ("enable_strict_mode", "TF2"),
    ],
)
def test_experimental_unsupported_names_say_why(name, reason):
    with pytest.raises(tf.errors.UnimplementedError, match=reason):
        getattr(tf.experimental, name)()


def test_variable_creator_scope_sees_every_variable():
    seen = []

    def creator(next_creator, **kwargs):
        seen.append(kwargs["name"])
        kwargs["trainable"] = False
        return next_creator(**kwargs)

    with tf.Graph().as_default():
        with tf.variable_creator_scope(creator):
            v = tf.Variable(1.0, name="a")
            w = tf.get_variable("w", [2])
        u = tf.Variable(2.0, name="outside")
        assert seen == ["a", "w"]
        assert not v.trainable and not w.trainable and u.trainable
        assert tf.trainable_variables() == [u]


def test_variable_creator_kwargs_are_tfs():
    keys = []

    def creator(next_creator, **kwargs):
        keys.append(sorted(kwargs))
        return next_creator(**kwargs)

    with tf.Graph().as_default(), tf.variable_creator_scope(creator):
        tf.Variable(1.0)
    # TF 2.21 passes these too, plus its own experimental_enable_variable_lifting
    assert keys == [
        [
            "aggregation",
            "caching_device",
            "collections",
            "constraint",
            "dtype",
            "expected_shape",
            "import_scope",
            "initial_value",
            "name",
            "shape",
            "synchronization",
            "trainable",
            "use_resource",
            "validate_shape",
            "variable_def",
        ]
    ]


def test_nested_creators_run_innermost_first():
    order = []

    def outer(nxt, **kw):
        order.append("outer")
        return nxt(**kw)

    def inner(nxt, **kw):
        order.append("inner")
        return nxt(**kw)

    with tf.eager_mode(), tf.variable_creator_scope(outer), tf.variable_creator_scope(inner):
        tf.Variable(1.0)
    assert order == ["inner", "outer"]


def test_critical_section_serializes_threads():
    with tf.Graph().as_default():
        cs = tf.CriticalSection(name="cs")
        v = tf.Variable(0.0)

        def increment():
            r = v.read_value()
            with tf.control_dependencies([r]):
                return v.assign(r + 1.0)

        out = cs.execute(increment)
        assert cs.name == "cs" and out.dtype == tf.float32
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            assert sess.run(out) == 1.0
            threads = [
                threading.Thread(target=lambda: [sess.run(out) for _ in range(100)])
                for _ in range(4)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert sess.run(v) == 401.0  # no lost update: each read-add-write was atomic


def test_critical_section_eager():
    with tf.eager_mode():
        v = tf.Variable(1.0)
        assert tf.CriticalSection().execute(lambda: v.assign_add(1.0)).numpy() == 2.0


def test_nondifferentiable_batch_function_as_tf():
    @tf.nondifferentiable_batch_function(1, 10, 1000)
    def double(x):
        return x * 2.0

    with tf.Graph().as_default():
        x = tf.constant([1.0, 2.0])
        y = double(x)
        with tf.Session() as sess:
            np.testing.assert_array_equal(sess.run(y), [2.0, 4.0])  # TF: [2. 4.]
        with pytest.raises(LookupError, match="BatchFunction"):  # TF: LookupError too
            tf.gradients(y, x)
        with pytest.raises(ValueError, match="supposed to be Tensors"):
            double(3.0)


def test_type_spec_from_value_as_tf():
    with tf.Graph().as_default():
        got = [
            repr(tf.type_spec_from_value(v))
            for v in (
                tf.constant([1, 2]),
                np.zeros((2, 3), np.float32),
                [1.0, 2.0],
                3,
                tf.placeholder(tf.float32, [None, 2]),
            )
        ]
        assert isinstance(
            tf.type_spec_from_value(tf.SparseTensor([[0, 0]], [1.0], [2, 2])), tf.SparseTensorSpec
        )
    assert got == [  # TF 2.21's reprs
        "TensorSpec(shape=(2,), dtype=tf.int32, name=None)",
        "TensorSpec(shape=(2, 3), dtype=tf.float32, name=None)",
        "TensorSpec(shape=(2,), dtype=tf.float32, name=None)",
        "TensorSpec(shape=(), dtype=tf.int32, name=None)",
        "TensorSpec(shape=(None, 2), dtype=tf.float32, name=None)",
    ]
    assert repr(tf.type_spec_from_value(None)) == "NoneTensorSpec()"
    assert tf.NoneTensorSpec() == tf.NoneTensorSpec()
    with pytest.raises(TypeError, match="Could not build a TypeSpec for .* unsupported type"):
        tf.type_spec_from_value(object())


X = np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4)
TF_DROPOUT = {  # TF 2.21 tf.nn.experimental.*_dropout on X
    "sd": [[2.0, 0.0, 6.0, 0.0], [0.0, 12.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]],
    "sd_ns": [
        [0.0] * 4,
        [6.6666669845581055, 8.0, 9.333333969116211, 10.666666984558105],
        [0.0] * 4,
    ],
    "gd": [[0.0] * 4, [0.0, 0.0, 14.0, 16.0], [18.0, 20.0, 22.0, 24.0]],
}


def _dropouts():
    x = tf.constant(X)
    return dict(
        sd=tf.nn.experimental.stateless_dropout(x, 0.5, seed=[1, 2]),
        sd_ns=tf.nn.experimental.stateless_dropout(x, 0.25, seed=[3, 4], noise_shape=[3, 1]),
        gd=tf.nn.experimental.general_dropout(
            x, 0.5, lambda shape, dtype: tf.reshape(tf.linspace(0.0, 1.0, 12), shape)
        ),
    )


def test_tf2_dropouts_match_tf():
    with tf.Graph().as_default():
        out = _dropouts()
        assert out["sd"].name == "stateless_dropout:0"
        with tf.Session() as sess:
            got = sess.run(out)
    with tf.eager_mode():
        eager = {k: v.numpy() for k, v in _dropouts().items()}
    for key, want in TF_DROPOUT.items():
        np.testing.assert_allclose(got[key], want, rtol=1e-6)
        np.testing.assert_allclose(eager[key], want, rtol=1e-6)
    with pytest.raises(ValueError, match="rate"):
        tf.nn.experimental.stateless_dropout(X, 1.0, seed=[1, 2])


def test_residual_wrapper_adds_the_input():
    """TF 2.21 cannot build ResidualWrapper (Keras 3); checked against TF1's definition:
    output = input + cell output, state = the cell's state, the cell's variable names."""
    with tf.Graph().as_default():
        base = tf.nn.rnn_cell.BasicRNNCell(3, activation=tf.tanh)
        cell = tf.nn.rnn_cell.ResidualWrapper(base)
        inp = tf.constant([[0.5, -1.0, 2.0]])
        out, state = cell(inp, cell.zero_state(1, tf.float32))
        assert [v.name for v in tf.global_variables()] == [
            "basic_rnn_cell/kernel:0",
            "basic_rnn_cell/bias:0",
        ]
        assert cell.state_size == 3 and cell.output_size == 3
        with tf.Session() as sess:
            sess.run(tf.global_variables_initializer())
            (k, b), o, s = sess.run([tf.global_variables(), out, state])
    h = np.tanh(np.concatenate([[0.5, -1.0, 2.0], [0.0, 0.0, 0.0]]) @ k + b)
    # float32 results against a float64 reference: the sum can cancel to near zero
    # (the kernel is randomly initialised), so the bound is absolute as well.
    np.testing.assert_allclose(s[0], h, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(o[0], h + [0.5, -1.0, 2.0], rtol=1e-6, atol=1e-6)


def test_session_handles_keep_tensors_across_runs():
    """The handle string and eval() as TF 2.21 gives them; feeding the handle follows
    TF1's documented use (TF 2.21 itself fails that feed with a dtype error)."""
    with tf.Graph().as_default():
        h = tf.get_session_handle(tf.constant([[1.0, 2.0]]) * 2.0)
        assert h.dtype == tf.string and h.op.type == "GetSessionHandle"
        with tf.Session() as sess:
            handle = sess.run(h)
            assert handle.handle == (
                "GetSessionHandle;0;/job:localhost/replica:0/task:0/device:CPU:0"
            )  # TF 2.21's first handle
            np.testing.assert_array_equal(handle.eval(), [[2.0, 4.0]])
            holder, value = tf.get_session_tensor(handle.handle, tf.float32)
            np.testing.assert_array_equal(
                sess.run(value * 10.0, {holder: handle.handle}), [[20.0, 40.0]]
            )
            np.testing.assert_array_equal(sess.run(value, {holder: handle}), [[2.0, 4.0]])
            del_holder, deleter = tf.delete_session_tensor(handle.handle)
            sess.run(deleter, {del_holder: handle.handle})
            with pytest.raises(tf.errors.InvalidArgumentError, match="not in the session"):
                sess.run(value, {holder: handle.handle})
        with tf.Session() as other:  # each session has its own store
            with pytest.raises(tf.errors.InvalidArgumentError, match="not in the session"):
                other.run(value, {holder: handle.handle})
