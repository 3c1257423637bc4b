"""The code generator (core/codegen.py) behind Session plans and eager gradient plans:
what the generated function computes, the liveness pass (dead pure steps dropped,
buffers freed after their last use), and the line -> step map errors are reported with."""

from __future__ import annotations

import tracemalloc
import weakref

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.codegen import (
    Attr,
    BoolOp,
    Bound,
    Call,
    Compare,
    IfElse,
    Item,
    Lit,
    Not,
    Program,
    Seq,
    Slot,
)


def test_straight_line_calls_compute_what_the_steps_say():
    prog = Program("f", ["x", "y"])
    x, y = prog.params
    s = prog.call(np.add, [x, y])
    p = prog.call(np.multiply, [s, 3.0])  # a float literal in the source
    q, r = prog.call(divmod, [p, 7], 2, unpack=True)
    prog.returns(Seq("tuple", (q, r, Lit(None))))
    fn = prog.compile().fn
    assert fn(2, 5) == (3, 0, None)  # (2 + 5) * 3 = 21 = 3 * 7 + 0
    assert fn(np.float64(1.0), 1) == (0.0, 6.0, None)


def test_a_dead_pure_step_is_dropped_and_a_dead_impure_step_runs():
    calls = []

    def kernel(tag):
        calls.append(tag)
        return tag

    prog = Program("f", ["x"])
    prog.call(kernel, ["pure, unused"], pure=True)
    used = prog.call(kernel, ["pure, used"], pure=True)
    prog.call(kernel, ["impure, unused"])  # writes state, say: always runs
    feeds_only_dead = prog.call(kernel, ["feeds a dead step"], pure=True)
    prog.call(kernel, [feeds_only_dead], pure=True)
    prog.returns(used)
    compiled = prog.compile()
    assert compiled.fn(0) == "pure, used"
    assert calls == ["pure, used", "impure, unused"]
    assert compiled.calls == 2


def test_a_buffer_is_freed_right_after_its_last_use():
    alive = []

    def make(n):
        return np.ones(n)

    def check(a, *probes):  # records which earlier buffers are still alive
        alive.append([p() is not None for p in probes])
        return a + 1

    refs = []

    def probe(a):
        refs.append(weakref.ref(a))
        return a

    prog = Program("f", ["n"])
    a = prog.call(make, [prog.param(0)])
    a = prog.call(probe, [a])
    b = prog.call(np.negative, [a])  # last use of a
    c = prog.call(check, [b], 1)
    d = prog.call(lambda c: check(c, *refs), [c])
    prog.returns(Seq("tuple", (d, b)))
    compiled = prog.compile()
    d_val, b_val = compiled.fn(4)
    assert alive == [[], [False]]  # a was gone when the last step ran
    np.testing.assert_array_equal(d_val, -np.ones(4) + 1 + 1)
    np.testing.assert_array_equal(b_val, -np.ones(4))  # returned: never deleted
    assert "del" in compiled.source


def test_a_buffer_last_read_by_a_check_is_freed_after_it():
    prog = Program("f", [])
    a = prog.call(np.ones, [3])
    ref = prog.call(weakref.ref, [a])
    prog.exit_if(Compare(Call(Bound(len), (a,)), "==", Lit(0)))  # the last use of a
    prog.returns(prog.call(lambda r: r() is None, [ref]))
    assert prog.compile().fn() is True  # a was gone when the last step ran


def test_tag_of_names_the_step_that_raised():
    def boom(x):
        raise ValueError("bad value")

    prog = Program("plan", ["x"])
    a = prog.call(np.abs, [prog.param(0)], tag="first op")
    b = prog.call(boom, [a], tag="second op")
    prog.returns(b)
    compiled = prog.compile()
    with pytest.raises(ValueError) as info:
        compiled.fn(-1)
    assert compiled.tag_of(info.value) == "second op"
    assert compiled.filename.startswith("<miniflow plan ")
    assert compiled.tag_of(ValueError("raised elsewhere")) is None


def test_guard_when_and_exit_if():
    prog = Program("f", ["flag", "x"])
    flag, x = prog.params
    y = prog.call(np.negative, [x], guard=flag)  # (-x if flag else None)
    z = prog.assign(Slot("z"), x)
    prog.assign(z, Call(Bound(abs), (z,)), when=Compare(z, "!=", Lit(0)))
    prog.exit_if(Compare(z, "==", Lit(5)), "five")
    prog.returns(Seq("list", (y, z)))
    fn = prog.compile().fn
    assert fn(True, -3) == [3, 3]
    assert fn(False, -3) == [None, 3]
    assert fn(False, -5) == "five"


def test_one_item_tuples_unpacking_and_a_failed_check_returning_false():
    prog = Program("f", ["x"])
    x = prog.param(0)
    (only,) = prog.call(lambda v: (v * 2,), [x], 1, unpack=True)  # `a, = k(x)`
    prog.exit_if(Compare(only, "==", Lit(0)))  # returns False by default
    prog.returns(Seq("tuple", (only,)))
    fn = prog.compile().fn
    assert fn(4) == (8,)
    assert fn(0) is False


def test_a_pure_result_overwritten_before_any_read_is_not_computed():
    calls = []

    def kernel(tag):
        calls.append(tag)
        return tag

    prog = Program("f", [])
    slot = Slot("x", buffer=True)
    prog.assign(slot, Call(Bound(kernel), (Lit("first"),)), pure=True)
    prog.assign(slot, Call(Bound(kernel), (Lit("second"),)), pure=True)
    fixed = Slot("y")
    prog.assign(fixed, Lit(0))
    prog.assign(fixed, Lit(7), when=Compare(slot, "==", Lit("second")), pure=True)
    prog.returns(Seq("tuple", (slot, fixed)))
    assert prog.compile().fn() == ("second", 7)
    assert calls == ["second"]


def test_only_kernel_results_are_buffers_to_free():
    prog = Program("f", ["n"])
    n = prog.param(0)
    head = prog.assign(Slot("v"), Item(n, 0))  # a load: the caller's object, never freed
    doubled = prog.call(np.multiply, [head, 2])
    prog.call(np.add, [doubled, 1])  # the kernel result is dropped at once
    prog.returns(Seq("tuple", (head,)))
    compiled = prog.compile()
    assert compiled.fn([np.ones(2)])[0].tolist() == [1.0, 1.0]
    assert compiled.calls == 2
    freed = [
        name
        for line in compiled.source.splitlines()
        if line.strip().startswith("del ")
        for name in line.strip()[4:].split(", ")
    ]
    assert sorted(freed) == sorted([doubled.name, "t2"]) and head.name not in freed


def test_guard_of_a_multi_output_call_skips_every_output():
    prog = Program("f", ["p", "q", "x"])
    p, q, x = prog.params
    outs = prog.call(divmod, [x, 4], 2, unpack=True, guard=BoolOp("and", (p, Not(q))))
    prog.returns(Seq("tuple", tuple(outs)))
    fn = prog.compile().fn
    assert fn(True, False, 9) == (2, 1)
    assert fn(True, True, 9) == (None, None)


def test_loads_items_attributes_and_sets():
    class Box:
        def __init__(self, v):
            self._value = v

    prog = Program("f", ["n"])
    n = prog.param(0)
    first = prog.assign(Slot("v"), Attr(Item(Item(n, 0), 1), "_value"), pure=True)
    prog.assign(Slot("unused"), Item(n, 5), pure=True)  # would raise IndexError if run
    distinct = Call(Bound(len), (Seq("set", (Item(n, 0), Item(n, 1))),))
    prog.returns(Seq("tuple", (first, distinct, IfElse(first, Lit("t"), Lit("f")))))
    fn = prog.compile().fn
    box = Box(7)
    assert fn([(None, box), box]) == (7, 2, "t")
    assert fn([(None, Box(0)), box]) == (0, 2, "f")


def test_bound_objects_are_shared_and_parameters_are_never_shadowed():
    kernel = np.add
    prog = Program("f", ["t0", "t1"])  # the generator's own naming scheme
    a = prog.call(kernel, [prog.param(0), prog.param(1)])
    b = prog.call(kernel, [a, prog.param(1)])
    prog.returns(Seq("tuple", (b, prog.param(0))))
    compiled = prog.compile()
    assert compiled.fn(1, 10) == (21, 1)
    assert compiled.bound == [np.add]


@pytest.mark.parametrize(
    "build, message",
    [
        (lambda p: p.call(abs, [1]), "no return statement"),
        (lambda p: (p.returns(1), p.assign(Slot("x"), 1)), "statement after the return"),
        (lambda p: (p.assign([Slot("a"), Slot("b")], 1), p.returns(1)), "several targets"),
        (lambda p: (p.assign(Slot("a"), Seq("set", ())), p.returns(1)), "empty set"),
        (lambda p: Compare(Lit(1), "<", Lit(2)), "unknown comparison"),
        (lambda p: p.assign(Slot("a"), 1, unpack=True), "unpack needs a list"),
        (lambda p: p.call(divmod, [7, 2], 2), "2 results needs unpack=True"),
        (lambda p: (p.returns(BoolOp("xor", (Lit(1), Lit(2)))),), "bad boolean operation"),
        (lambda p: (p.returns(BoolOp("and", ())),), "bad boolean operation"),
        (lambda p: Lit([1]), "Lit takes"),
    ],
)
def test_malformed_programs_are_rejected_with_the_reason(build, message):
    prog = Program("f", [])
    with pytest.raises((ValueError, TypeError), match=message):
        build(prog)
        prog.compile()


# -- the session and the eager gradient plans run on it --------------------------------


def test_session_plan_frees_intermediate_arrays_as_it_goes():
    """Ten chained element-wise ops on an 8 MB input: with buffers freed after their
    last use, the run's peak is a few arrays, not ten."""
    tf.reset_default_graph()
    x = tf.placeholder(tf.float64, [1 << 20])
    y = x
    for _ in range(10):
        y = tf.sin(y)
    value = np.linspace(0.0, 1.0, 1 << 20)
    with tf.Session() as sess:
        sess.run(y, {x: value})  # builds the plan
        tracemalloc.start()
        try:
            out = sess.run(y, {x: value})
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    expected = value
    for _ in range(10):
        expected = np.sin(expected)
    np.testing.assert_array_equal(out, expected)
    assert peak < 4 * value.nbytes  # input (converted in place), two live buffers, output


def test_session_error_names_the_op_and_where_it_was_created():
    tf.reset_default_graph()
    x = tf.placeholder(tf.float32, [None])
    bad = tf.reshape(x, [3], name="needs_three")  # created on this line
    line = bad.op.traceback
    with tf.Session() as sess:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            sess.run(bad, {x: np.ones(4, np.float32)})
    msg = str(info.value)
    assert "Reshape op 'needs_three'" in msg
    assert f"[[node needs_three (defined at {line}) ]]" in msg
    assert "test_codegen.py" in line
    assert info.value.op is bad.op
