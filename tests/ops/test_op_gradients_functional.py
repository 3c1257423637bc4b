"""Every row of the functional gradient table (op_specs_functional.py) against central
finite differences (float64, graph mode, to the order the row names), and GradientTape
(eager) against tf.gradients (graph)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import miniflow as tf
from miniflow.testing import check_grads
from tests.nn.helpers import eager_matches_graph_gradients
from tests.ops.op_specs import real
from tests.ops.op_specs_functional import SPECS


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    case = data.draw(spec.cases, label="case")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    shapes = data.draw(st.sampled_from(["static", "partial", "unknown"]), label="shapes")
    rng = np.random.default_rng(seed)
    domain = spec.domain or real
    if getattr(domain, "per_input", False):
        args = [domain(rng, s, i).astype(spec.dtype) for i, s in enumerate(case.shapes)]
    else:
        args = [domain(rng, s).astype(spec.dtype) for s in case.shapes]

    def build(*xs):
        out = spec.fn(*xs, **case.kwargs)
        built = {op.type for op in tf.get_default_graph().get_operations()}
        assert spec.op_type in built, f"row {spec.id} builds only {sorted(built)}"
        return out

    check_grads(build, args, order=spec.order, shapes=shapes, seed=seed, **spec.tol)


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_eager_gradients_match_graph(spec, data):
    """The same row differentiated by GradientTape in eager mode gives tf.gradients' values."""
    case = data.draw(spec.cases, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    domain = spec.domain or real
    if getattr(domain, "per_input", False):
        args = [domain(rng, s, i).astype(spec.dtype) for i, s in enumerate(case.shapes)]
    else:
        args = [domain(rng, s).astype(spec.dtype) for s in case.shapes]
    eager_matches_graph_gradients(lambda *xs: spec.fn(*xs, **case.kwargs), args)
