"""Every row of `op_specs_math.SPECS` against central finite differences (float64)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import miniflow as tf
from miniflow.testing import check_grads
from tests.ops.op_specs import real
from tests.ops.op_specs_math import SPECS, STATIC_ONLY, STATIC_RANK


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_gradient_matches_finite_differences(spec, data):
    case = data.draw(spec.cases, label="case")
    seed = data.draw(st.integers(0, 2**16), label="seed")
    modes = ["static"] + ([] if spec.id in STATIC_ONLY else ["partial"]) + (
        [] if spec.id in STATIC_RANK else ["unknown"])
    shapes = data.draw(st.sampled_from(modes), label="shapes")
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


def _flat(out):
    return list(out) if isinstance(out, list | tuple) else [out]


@pytest.mark.parametrize("spec", SPECS, ids=[s.id for s in SPECS])
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_eager_gradients_match_graph(spec, data):
    """The same rule under GradientTape (eager) gives the graph's tf.gradients values."""
    case = data.draw(spec.cases, label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), label="seed"))
    domain = spec.domain or real
    if getattr(domain, "per_input", False):
        args = [domain(rng, s, i).astype(spec.dtype) for i, s in enumerate(case.shapes)]
    else:
        args = [domain(rng, s).astype(spec.dtype) for s in case.shapes]
    with tf.Graph().as_default(), tf.Session() as sess:
        xs = [tf.constant(a) for a in args]
        outs = _flat(spec.fn(*xs, **case.kwargs))
        loss = tf.add_n([tf.reduce_sum(o * 0.5) for o in outs])
        grads = tf.gradients(loss, xs)
        values = iter(sess.run([g for g in grads if g is not None]))
        want = [None if g is None else next(values) for g in grads]
    with tf.eager_mode():
        xs = [tf.constant(a) for a in args]
        with tf.GradientTape() as tape:
            for x in xs:
                tape.watch(x)
            outs = _flat(spec.fn(*xs, **case.kwargs))
            loss = tf.add_n([tf.reduce_sum(o * 0.5) for o in outs])
        got = tape.gradient(loss, xs)
    for g, w in zip(got, want):
        if w is None:
            assert g is None or not np.any(g.numpy())
        else:
            np.testing.assert_allclose(g.numpy(), w, rtol=1e-10, atol=1e-12)
