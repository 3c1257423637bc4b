"""Gradient plans never replay a stale gradient: a rule that reads Python state gives the
state's current value at every step, as TF's eager GradientTape does (it has no plans),
and a pass whose two logs disagree, or in which a value was read, is never compiled."""

from __future__ import annotations

import pytest

import miniflow as tf
from miniflow.eager import gradient_plans
from miniflow.eager.gradient_plans import PLANS

SCALE = {"value": 2.0}  # e.g. a gradient reversal layer's schedule, read by its rule

tf.extend.register_op("StatefulScale", infer=tf.extend.same_shape)(lambda x: x)
tf.extend.register_gradient("StatefulScale")(lambda op, grad: [grad * SCALE["value"]])
tf.extend.register_op("StateValueGate", infer=tf.extend.same_shape)(lambda x: x)


@tf.extend.register_gradient("StateValueGate")
def _gate_grad(op, grad):
    return [grad * (1.0 if float(op.inputs[0].numpy()) > 0 else 0.0)]


@pytest.fixture(autouse=True)
def eager():
    PLANS.clear()
    SCALE["value"] = 2.0
    with tf.eager_mode():
        yield
    PLANS.enabled = True


def _grad(op_type, x0):
    """d op(x * x) / dx, or d op(3 * x) / dx for the gate (whose input changes sign)."""
    x = tf.constant(x0)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = tf.extend.apply_op(op_type, x * (3.0 if op_type == "StateValueGate" else x))
    return float(tape.gradient(y, x))


def test_a_user_rule_reading_python_state_sees_every_change():
    got, want = [], []
    for step in range(10):
        if step in (5, 8):  # after the steps that used to trace and compile a plan
            SCALE["value"] += 3.0
        got.append(_grad("StatefulScale", 3.0))
        want.append(2 * 3.0 * SCALE["value"])  # d(x^2)/dx * scale
    assert got == want
    assert want[4] != want[5] != want[8]
    assert PLANS.compiled == 0


def test_a_model_of_shipped_ops_still_gets_its_plan():
    w = tf.Variable(1.5)
    for x0 in (1.0, 2.0, 3.0, 4.0):
        with tf.GradientTape() as tape:
            loss = tf.square(w * x0 - 1.0)
        assert float(tape.gradient(loss, w)) == pytest.approx(2 * (1.5 * x0 - 1.0) * x0)
    assert PLANS.compiled == 1


@pytest.fixture
def trusting(monkeypatch):
    """Treats the rules above as miniflow's own, to test what guards shipped rules."""
    monkeypatch.setattr(gradient_plans, "_shipped_rule", lambda op_type: True)


def test_two_logs_with_different_constants_are_not_compiled(trusting):
    for step in range(8):
        SCALE["value"] = 1.0 + step  # a new constant at every step
        assert _grad("StatefulScale", 3.0) == 2 * 3.0 * SCALE["value"]
    assert PLANS.compiled == 0


def test_a_pass_that_read_a_value_is_not_compiled(trusting):
    for x0 in (2.0, 4.0, 5.0, -2.0, 6.0, -1.0):  # the sign flips after two traces
        assert _grad("StateValueGate", x0) == (3.0 if x0 > 0 else 0.0)
    assert PLANS.compiled == 0


def test_trusted_state_that_holds_still_is_compiled(trusting):
    """The control for the two tests above: same rule, unchanging state, one plan."""
    assert [_grad("StatefulScale", 3.0) for _ in range(5)] == [12.0] * 5
    assert PLANS.compiled == 1
