"""Every row of every OpSpec gradient table (`op_specs.py` and each `op_specs_<area>.py`
whose SPECS are OpSpec rows) against central finite differences (float64), and, for tables
with ``EAGER_PARITY``, GradientTape (eager) against `tf.gradients` (graph).

A table whose area has a runner file of its own (``test_op_gradients_<area>.py``, e.g. an
area still in progress, or a table in another row format) is run there, not here."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

import miniflow as tf
from miniflow.testing import check_grads
from tests.nn.helpers import eager_matches_graph_gradients
from tests.ops.op_specs import OpSpec, real

ALL_SHAPE_MODES = ("static", "partial", "unknown")


def _tables():
    """(area, module) of each OpSpec table this runner owns; the core table's area is ''."""
    here = Path(__file__).parent
    for path in sorted(here.glob("op_specs*.py")):
        area = path.stem.removeprefix("op_specs").lstrip("_")
        if area and (here / f"test_op_gradients_{area}.py").exists():
            continue
        module = importlib.import_module(f"tests.ops.{path.stem}")
        if not hasattr(module, "SPECS"):  # another row format (op_specs_nn: NN_SPECS)
            continue
        odd = [s for s in module.SPECS if not isinstance(s, OpSpec)]
        assert not odd, f"{path.name}: SPECS rows must be OpSpec (or add its own runner)"
        yield area, module


def _rows(eager_only=False):
    return [
        pytest.param(module, spec, id=f"{area}-{spec.id}" if area else spec.id)
        for area, module in _tables()
        if not eager_only or getattr(module, "EAGER_PARITY", False)
        for spec in module.SPECS
    ]


def _args(spec, case, rng):
    domain = spec.domain or real
    if getattr(domain, "per_input", False):
        return [domain(rng, s, i).astype(spec.dtype) for i, s in enumerate(case.shapes)]
    return [domain(rng, s).astype(spec.dtype) for s in case.shapes]


def _examples(n):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("table, spec", _rows())
def test_gradient_matches_finite_differences(table, spec):
    modes = spec.shape_modes or getattr(table, "SHAPE_MODES", ALL_SHAPE_MODES)

    @_examples(getattr(table, "MAX_EXAMPLES", 10))
    @given(data=st.data())
    def check(data):
        case = data.draw(spec.cases, label="case")
        seed = data.draw(st.integers(0, 2**16), label="seed")
        shapes = data.draw(st.sampled_from(modes), label="shapes")
        args = _args(spec, case, np.random.default_rng(seed))

        def build(*xs):
            out = spec.fn(*xs, **case.kwargs)
            built = {op.type for op in tf.get_default_graph().get_operations()}
            assert spec.op_type in built, f"row {spec.id} builds only {sorted(built)}"
            return out

        check_grads(build, args, order=spec.order, shapes=shapes, seed=seed, **spec.tol)

    check()


@pytest.mark.parametrize("table, spec", _rows(eager_only=True))
def test_eager_gradients_match_graph(table, spec):
    """The same row differentiated by GradientTape in eager mode gives tf.gradients' values."""

    @_examples(3)
    @given(data=st.data())
    def check(data):
        case = data.draw(spec.cases, label="case")
        rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
        eager_matches_graph_gradients(
            lambda *xs: spec.fn(*xs, **case.kwargs), _args(spec, case, rng)
        )

    check()
