"""While loops written by TensorFlow 2.21 (fixtures/make_tf_loops.py), as TF1 frames and
as TF2 functional ``StatelessWhile``s, imported as miniflow ``While`` ops: a counter and
running sum, a TensorArray scan, a nested loop and a loop's gradient (Stacks, or
TensorLists in TF2) give TensorFlow's outputs; malformed frames are refused with
an InvalidArgumentError naming the problem and leave the graph as it was."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.registry import lookup_op
from miniflow.train.tf_proto_values import protos

pytest.importorskip("tensorboard.compat.proto.graph_pb2")

LOOPS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "loops")
with open(os.path.join(LOOPS, "expected.json")) as _f:
    EXPECTED = json.load(_f)
X = np.array(EXPECTED["x"], np.float32)
V1_CASES = ["counter_cumsum", "tensor_array_scan", "nested", "loop_gradient"]
# TF2 functional loops: While/StatelessWhile with cond and body in the function library
V2_CASES = [f"v2_{case}" for case in V1_CASES]


def _graph_def(case):
    gd = protos().graph_pb2.GraphDef()
    with open(os.path.join(LOOPS, f"{case}.pb"), "rb") as f:
        gd.ParseFromString(f.read())
    return gd


def _run(gd, names):
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.import_graph_def(gd, name="")
        return sess.run([f"{n}:0" for n in names], {"x:0": X})


@pytest.mark.parametrize("case", V1_CASES + V2_CASES)
def test_loops_give_tensorflows_outputs(case):
    expected = EXPECTED["cases"][case]
    if case.startswith("v2_"):
        assert "StatelessWhile" in expected["ops"] and "Enter" not in expected["ops"]
    else:
        assert "Enter" in expected["ops"] and "LoopCond" in expected["ops"]
    names = sorted(expected["outputs"])
    got = _run(_graph_def(case), names)
    for name, value in zip(names, got):
        np.testing.assert_allclose(value, expected["outputs"][name], rtol=1e-6, atol=1e-6)


def test_loop_runs_again_with_other_inputs():
    """Handles (TensorArrays) are made fresh on every run; the trip count follows x."""
    gd = _graph_def("tensor_array_scan")
    with tf.Graph().as_default(), tf.Session() as sess:
        tf.import_graph_def(gd, name="")
        for x in (X, X[:2], np.array([2.0, 3.0, 4.0], np.float32)):
            y = sess.run("y:0", {"x:0": x})
            np.testing.assert_allclose(y, np.cumprod(x), rtol=1e-6)


def test_the_loop_is_one_while_op_per_frame():
    with tf.Graph().as_default() as g:
        tf.import_graph_def(_graph_def("nested"), name="")
        whiles = [op for op in g.get_operations() if op.type == "While"]
        assert len(whiles) == 2  # the inner frame is a While inside the outer one's body
        assert not [op for op in g.get_operations() if op.type in ("Enter", "Exit", "Merge")]


def test_v2_function_reading_a_missing_output_is_refused():
    gd = _graph_def("v2_counter_cumsum")
    (body,) = [f for f in gd.library.function if f.signature.name.startswith("while_body")]
    (add,) = [n for n in body.node_def if n.name == "add_2_0"]
    add.input[1] = "strided_slice:output:7"  # StridedSlice has one output
    _refused(gd, "node 'add_2_0'", "strided_slice:7")


def test_v2_while_naming_a_missing_function_is_refused():
    gd = _graph_def("v2_counter_cumsum")
    _node(gd, "while").attr["body"].func.name = "no_such_body"
    _refused(gd, "node 'while'", "function 'no_such_body' is not in the graph's library")


def test_v2_while_whose_cond_is_not_a_predicate_is_refused():
    gd = _graph_def("v2_counter_cumsum")
    while_ = _node(gd, "while")
    while_.attr["cond"].func.name = while_.attr["body"].func.name  # returns 6 values
    _refused(gd, "node 'while'", "the cond function returns 6 values, not 1")


def test_v2_while_whose_body_runs_itself_is_refused():
    gd = _graph_def("v2_counter_cumsum")
    while_ = _node(gd, "while")
    body_name = while_.attr["body"].func.name
    (body,) = [f for f in gd.library.function if f.signature.name == body_name]
    rec = body.node_def.add(name="rec", op="StatelessWhile")
    rec.input.extend(a.name for a in body.signature.input_arg)
    for key in ("T", "cond", "body"):
        rec.attr[key].CopyFrom(while_.attr[key])
    _refused(gd, f"function '{body_name}' calls itself")


def _node(gd, name):
    (node,) = [n for n in gd.node if n.name == name]
    return node


def _refused(gd, *phrases):
    with tf.Graph().as_default() as g:
        with pytest.raises(tf.errors.InvalidArgumentError) as info:
            tf.import_graph_def(gd, name="")
        assert g.get_operations() == []  # a failed import adds nothing
    for p in phrases:
        assert p in str(info.value), str(info.value)


def test_frame_without_loop_cond_is_refused():
    gd = _graph_def("counter_cumsum")
    _node(gd, "while/LoopCond").op = "Identity"
    _refused(gd, "while/while_context", "exactly one LoopCond")


def test_cycle_not_through_next_iteration_is_refused():
    gd = _graph_def("counter_cumsum")
    for n in gd.node:
        if n.op == "NextIteration":
            n.op = "Identity"
    _refused(gd, "cycle")


def test_reading_a_loop_value_outside_the_loop_is_refused():
    gd = _graph_def("counter_cumsum")
    # x is outside the loop, so "leak" is too: it cannot read the loop's running sum
    leak = gd.node.add(name="leak", op="AddV2", input=["x", "while/Identity_1"])
    leak.attr["T"].type = 1
    _refused(gd, "node 'leak'", "only through an Exit")


def test_exit_outside_a_loop_is_refused():
    gd = _graph_def("counter_cumsum")
    stray = gd.node.add(name="stray", op="Exit", input=["x"])
    stray.attr["T"].type = 1
    _refused(gd, "node 'stray'", "Exit outside any while loop")


def test_enter_without_frame_name_is_refused():
    gd = _graph_def("counter_cumsum")
    del _node(gd, "while/Enter").attr["frame_name"]
    _refused(gd, "while/Enter", "frame_name")


def test_merge_without_enter_is_refused():
    gd = _graph_def("counter_cumsum")
    merge = _node(gd, "while/Merge")
    merge.input[0] = "x"  # a loop Merge must start from an Enter
    _refused(gd, "while/Merge", "one Enter and one NextIteration")
    merge.input[0] = "no_such_node"  # nor from a node the file does not have
    _refused(gd, "while/Merge", "one Enter and one NextIteration")


def test_tensor_array_and_stack_kernels_raise_tf_errors():
    ta, _ = lookup_op("TensorArrayV3").forward(np.int32(2), dtype=tf.float32)
    write, read = lookup_op("TensorArrayWriteV3").forward, lookup_op("TensorArrayReadV3").forward
    with pytest.raises(tf.errors.InvalidArgumentError, match="never written"):
        read(ta, 1, 0.0)
    write(ta, 0, np.float32(3.0), 0.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="already written"):
        write(ta, 0, np.float32(4.0), 0.0)
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        write(ta, 5, np.float32(4.0), 0.0)
    assert read(ta, 0, 0.0) == 3.0
    assert lookup_op("TensorArraySizeV3").forward(ta, 0.0) == 2
    with pytest.raises(tf.errors.InvalidArgumentError, match="twice"):
        read(ta, 0, 0.0)  # clear_after_read, TF's default
    stack = lookup_op("StackV2").forward(np.int32(-1), elem_type=tf.float32)
    lookup_op("StackPushV2").forward(stack, np.float32(1.0))
    assert lookup_op("StackPopV2").forward(stack) == 1.0
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty"):
        lookup_op("StackPopV2").forward(stack)
    with pytest.raises(tf.errors.InvalidArgumentError, match="handle"):
        lookup_op("StackPopV2").forward(np.float32(0.0))
    # TF2's TensorLists are values: every op gives a new list
    empty = lookup_op("EmptyTensorList").forward(np.int32(-1), np.int32(-1))
    one = lookup_op("TensorListPushBack").forward(empty, np.float32(2.0))
    rest, top = lookup_op("TensorListPopBack").forward(one, np.int32(-1))
    assert top == 2.0 and len(one.items) == 1 and not rest.items
    with pytest.raises(tf.errors.InvalidArgumentError, match="empty list"):
        lookup_op("TensorListPopBack").forward(rest, np.int32(-1))
    reserved = lookup_op("TensorListReserve").forward(np.int32(-1), np.int32(2))
    with pytest.raises(tf.errors.InvalidArgumentError, match="never set"):
        lookup_op("TensorListStack").forward(reserved, np.int32(-1))
    with pytest.raises(tf.errors.InvalidArgumentError, match="out of range"):
        lookup_op("TensorListGetItem").forward(reserved, 5, np.int32(-1))
