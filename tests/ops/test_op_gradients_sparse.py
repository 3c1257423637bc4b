"""Every row of `op_specs_sparse.SPECS`: `tf.gradients` against central differences."""

import numpy as np
import pytest

import miniflow as tf
from miniflow.core.registry import registered_gradients
from tests.ops.op_specs_sparse import SPARSE_OP_TYPES, SPECS


def _value_and_grads(spec):
    """f(args) -> the loss <u, fn(args)> for a random cotangent u, the symbolic
    gradients (None where an input is unconnected), their values, the graph's op types."""
    g = tf.Graph()
    with g.as_default():
        phs = [tf.placeholder(tf.float64, np.shape(a)) for a in spec.args]
        out = tf.convert_to_tensor(spec.fn(*phs))
        sess = tf.Session(graph=g)
        shape = np.shape(sess.run(out, dict(zip(phs, spec.args))))
        loss = tf.reduce_sum(out * np.random.RandomState(7).randn(*shape))
        grads = [
            tf.convert_to_tensor(d) if d is not None else None for d in tf.gradients(loss, phs)
        ]
        types = {op.type for op in g.get_operations()}
        sym = sess.run([d for d in grads if d is not None], dict(zip(phs, spec.args)))

    def f(args):
        return sess.run(loss, dict(zip(phs, args)))

    return f, grads, sym, types


def _numeric(f, args, i, eps=1e-6):
    x = np.array(args[i], dtype=np.float64)
    out = np.zeros_like(x)
    for k in np.ndindex(x.shape):
        plus, minus = list(args), list(args)
        plus[i], minus[i] = x.copy(), x.copy()
        plus[i][k] += eps
        minus[i][k] -= eps
        out[k] = (f(plus) - f(minus)) / (2 * eps)
    return out


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_gradient_matches_finite_differences(spec):
    args = [np.asarray(a, dtype=np.float64) for a in spec.args]
    f, grads, sym, _ = _value_and_grads(spec._replace(args=args))
    assert grads[0] is not None, f"{spec.name}: no gradient for the first input"
    sym_iter = iter(sym)
    for i, d in enumerate(grads):
        want = _numeric(f, args, i)
        got = np.zeros_like(want) if d is None else next(sym_iter)
        np.testing.assert_allclose(
            got, want, rtol=1e-5, atol=1e-7, err_msg=f"{spec.name}: input {i}"
        )


def test_every_differentiable_sparse_op_has_a_row():
    seen = set()
    for spec in SPECS:
        seen |= _value_and_grads(
            spec._replace(args=[np.asarray(a, np.float64) for a in spec.args])
        )[3]
    grads = registered_gradients()
    for t in SPARSE_OP_TYPES:
        assert grads.get(t) is not None, f"{t} has no gradient rule"
    assert SPARSE_OP_TYPES <= seen, f"no spec row exercises {SPARSE_OP_TYPES - seen}"
