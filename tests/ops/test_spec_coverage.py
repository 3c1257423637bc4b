"""Every registered op with a gradient rule must have a row in the gradient table."""

from __future__ import annotations

import importlib
from pathlib import Path

from hypothesis import find

import miniflow as tf
from miniflow.core.registry import registered_gradients, registered_ops
from tests.ops.op_specs import SPECS


def _other_tables() -> set:
    """Op types covered by the per-area tables ``tests/ops/op_specs_<area>.py``; each
    exports ``COVERED_OP_TYPES`` and checks its rows with its own finite-difference test."""
    covered = set()
    for path in sorted(Path(__file__).parent.glob("op_specs_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        covered |= set(module.COVERED_OP_TYPES)
    return covered


def _library_gradients() -> dict:
    """Gradient rules shipped in the miniflow package (tests register their own ops)."""
    return {t: rule for t, rule in registered_gradients().items()
            if rule is not None and getattr(rule, "__module__", "").startswith("miniflow.")}


def test_every_differentiable_op_has_a_gradient_spec():
    covered = {s.op_type for s in SPECS} | _other_tables()
    missing = sorted(t for t, rule in _library_gradients().items() if t not in covered)
    assert not missing, (
        f"Op types with a registered gradient but no row in tests/ops/op_specs.py: {missing}. "
        "Add one per op to SPECS there, e.g. "
        "OpSpec('MyOp', lambda x: my_op(x), unary(), positive) — fn builds the op from "
        "float64 placeholders, the strategy draws shapes (binary_broadcast() for "
        "broadcasting binary ops) and the domain samples valid inputs; the row is then "
        "checked against finite differences by tests/ops/test_op_gradients.py. If the op "
        "has no gradient, declare it with tf.NotDifferentiable('MyOp') instead.")


def test_every_spec_row_names_a_registered_differentiable_op():
    grads = registered_gradients()
    unknown = sorted({s.op_type for s in SPECS} - set(registered_ops()))
    assert not unknown, f"rows in op_specs.py for unregistered op types: {unknown}"
    nondiff = sorted(s.op_type for s in SPECS if grads.get(s.op_type) is None)
    assert not nondiff, f"rows in op_specs.py for ops without a gradient rule: {nondiff}"


def test_each_row_builds_its_op_type():
    """A row must really build the op it claims to cover (not a composite of others)."""
    for spec in SPECS:
        case = find(spec.cases, lambda c: True)
        g = tf.Graph()
        with g.as_default():
            xs = [tf.placeholder(tf.float64, shape=s) for s in case.shapes]
            spec.fn(*xs, **case.kwargs)
        types = {op.type for op in g.get_operations()}
        assert spec.op_type in types, f"row {spec.id} builds {sorted(types)}"
