"""Every registered op with a gradient rule must have a row in a gradient table: the
core table ``tests/ops/op_specs.py`` or a per-area table ``tests/ops/op_specs_<area>.py``
(which exports ``COVERED_OP_TYPES``; `test_op_gradients.py` runs its OpSpec rows)."""

from __future__ import annotations

import importlib
from pathlib import Path

from miniflow.core.registry import registered_gradients, registered_ops
from tests.ops.op_specs import SPECS

HOW_TO_ADD = (
    "Add one row per op to SPECS in tests/ops/op_specs.py (or to your area's "
    "tests/ops/op_specs_<area>.py), e.g. "
    "OpSpec('MyOp', lambda x: my_op(x), unary(), positive): fn builds the op from float64 "
    "placeholders, the strategy draws the input shapes (binary_broadcast() for a "
    "broadcasting binary op, reduction() for axis/keepdims, or a custom @st.composite) and "
    "the domain samples valid inputs. tests/ops/test_op_gradients.py then checks the row "
    "against finite differences (to second order by default). If the op has no gradient, "
    "declare it with tf.NotDifferentiable('MyOp') instead."
)


def _other_tables() -> set:
    """Op types covered by the per-area tables ``tests/ops/op_specs_<area>.py``."""
    covered = set()
    for path in sorted(Path(__file__).parent.glob("op_specs_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        covered |= set(module.COVERED_OP_TYPES)
    return covered


def missing_rows(gradients: dict, covered: set) -> list[str]:
    """Op types with a gradient rule shipped in the miniflow package but no spec row (rules
    registered elsewhere, e.g. by tests, are not the library's)."""
    return sorted(
        t
        for t, rule in gradients.items()
        if rule is not None
        and t not in covered
        and getattr(rule, "__module__", "").startswith("miniflow.")
    )


def test_every_differentiable_op_has_a_gradient_spec():
    covered = {s.op_type for s in SPECS} | _other_tables()
    missing = missing_rows(registered_gradients(), covered)
    assert not missing, (
        f"Op types with a registered gradient but no row in a gradient "
        f"table: {missing}. {HOW_TO_ADD}"
    )


def test_the_coverage_check_flags_a_new_library_op():
    def rule(op, grad):
        return [grad]

    rule.__module__ = "miniflow.ops.new_family"
    user_rule = lambda op, grad: [grad]  # noqa: E731
    table = {"Add": rule, "BrandNew": rule, "NoGrad": None, "UserOp": user_rule}
    assert missing_rows(table, {s.op_type for s in SPECS}) == ["BrandNew"]


def test_every_spec_row_names_a_registered_differentiable_op():
    grads = registered_gradients()
    unknown = sorted({s.op_type for s in SPECS} - set(registered_ops()))
    assert not unknown, f"rows in op_specs.py for unregistered op types: {unknown}"
    nondiff = sorted(s.op_type for s in SPECS if grads.get(s.op_type) is None)
    assert not nondiff, f"rows in op_specs.py for ops without a gradient rule: {nondiff}"


def _row_op_types(module) -> set | None:
    """The op types a per-area table's rows name (None: its rows do not name one, and
    that table's own test checks which op types its graphs contain)."""
    types = set()
    for row in [*getattr(module, "SPECS", []), *getattr(module, "ROWS", [])]:
        if not hasattr(row, "op_type"):
            return None
        types.add(row.op_type)
    for row in getattr(module, "NN_SPECS", []):
        types |= set(row.ops)
    return types


def test_a_per_area_table_covers_only_ops_its_rows_name():
    """``COVERED_OP_TYPES`` is what the coverage gate trusts: each entry is a registered
    op with a gradient rule and the op type of a row that the table runs."""
    grads = registered_gradients()
    for path in sorted(Path(__file__).parent.glob("op_specs_*.py")):
        module = importlib.import_module(f"tests.ops.{path.stem}")
        covered = set(module.COVERED_OP_TYPES)
        nondiff = sorted(t for t in covered if grads.get(t) is None)
        assert not nondiff, f"{path.name}: covers op types without a gradient rule: {nondiff}"
        rows = _row_op_types(module)
        if rows is not None:
            assert covered <= rows, f"{path.name}: no row for {sorted(covered - rows)}"
