"""Every row of the gradient table against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from miniflow.testing import check_grads
from tests.ops.op_specs import SPECS, real


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    case = data.draw(spec.cases, label="case")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    static = data.draw(st.booleans(), label="static_shapes")
    rng = np.random.default_rng(seed)
    domain = spec.domain or real
    if getattr(domain, "per_input", False):
        args = [domain(rng, s, i).astype(spec.dtype) for i, s in enumerate(case.shapes)]
    else:
        args = [domain(rng, s).astype(spec.dtype) for s in case.shapes]
    check_grads(lambda *xs: spec.fn(*xs, **case.kwargs), args, order=spec.order,
                static_shapes=static, seed=seed, **spec.tol)
