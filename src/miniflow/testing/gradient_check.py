"""`check_grads`: symbolic gradients (`tf.gradients`) against central finite differences.

For a graph function ``f`` and inputs ``x``, a random cotangent ``u`` (one per output)
gives the scalar ``L(x) = sum_k <u_k, f_k(x)>``. The vector-Jacobian product that
`tf.gradients(f(x), x, grad_ys=u)` builds must equal dL/dx, which is estimated element by
element with central differences computed in NumPy from forward values alone. For
``order=2`` the first-order gradient graph is itself the function checked, so the
gradients of gradients are compared with finite differences of the first-order ones.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.graph.builder import convert_to_tensor
from miniflow.graph.gradients import gradients
from miniflow.graph.graph import Graph
from miniflow.graph.operation import Tensor
from miniflow.graph.session import Session
from miniflow.ops import array_ops

# (eps, rtol, atol) that suit central differences at each precision
_DEFAULT_TOLERANCES = {8: (1e-6, 1e-5, 1e-8), 4: (1e-3, 1e-2, 1e-3), 2: (1e-2, 1e-1, 1e-1)}


def check_grads(fn, args, order=1, eps=None, rtol=None, atol=None, shapes="static", seed=0):
    """Checks the gradients of ``fn`` at ``args`` up to ``order`` against finite differences.

    Args:
        fn: builds the function in graph mode: ``fn(*tensors) -> tensor`` (or a list or
            tuple of tensors). Inputs are float placeholders shaped like ``args``.
        args: the point, a list of floating NumPy arrays (float64 recommended).
        order: 1 checks `tf.gradients`; 2 also checks `tf.gradients` of `tf.gradients`.
        eps: the finite-difference step (default 1e-6 for float64 inputs, 1e-3 for
            float32, 1e-2 for float16).
        rtol, atol: tolerances of the comparison (`numpy.testing.assert_allclose`);
            defaults suit the least precise input dtype.
        shapes: the static shapes the placeholders declare: ``"static"`` (those of
            ``args``), ``"partial"`` (the leading dimension unknown, like a batch) or
            ``"unknown"`` (unknown rank), so rules must also work from runtime shapes.
        seed: seeds the random cotangents.

    Raises:
        AssertionError: a gradient differs from its finite-difference estimate; the
            message names the order and the input.

    Example::

        check_grads(lambda x, y: tf.sin(x) * y, [np.ones((2, 3)), np.ones(3)], order=2)
    """
    args = [np.asarray(a) for a in args]
    for i, a in enumerate(args):
        if a.dtype.kind != "f":
            raise TypeError(
                f"check_grads: argument {i} must be a floating array, got dtype {a.dtype}"
            )
    d_eps, d_rtol, d_atol = _DEFAULT_TOLERANCES[min(a.dtype.itemsize for a in args) if args else 8]
    eps = d_eps if eps is None else eps
    rtol = d_rtol if rtol is None else rtol
    atol = d_atol if atol is None else atol
    rng = np.random.default_rng(seed)
    graph = Graph()
    with graph.as_default():
        xs = [
            array_ops.placeholder(
                dtypes.as_dtype(a.dtype), shape=_declared(a.shape, shapes), name=f"x{i}"
            )
            for i, a in enumerate(args)
        ]
        outputs = fn(*xs)
        outputs = list(outputs) if isinstance(outputs, list | tuple) else [outputs]
        outputs = [convert_to_tensor(y) for y in outputs]
        with Session(graph=graph) as sess:
            for k in range(1, order + 1):
                outputs = _check_vjp(sess, xs, outputs, args, rng, eps, rtol, atol, k)
                if not outputs:
                    break


def _declared(shape, shapes):
    if shapes == "static":
        return shape
    if shapes == "partial":
        return (None,) + tuple(shape[1:]) if shape else shape
    if shapes == "unknown":
        return None
    raise ValueError(f"shapes must be 'static', 'partial' or 'unknown', got {shapes!r}")


def _check_vjp(sess, xs, outputs, args, rng, eps, rtol, atol, k):
    """Checks one order; returns the gradient tensors (the next order's outputs)."""
    feed = dict(zip(xs, args))
    values = sess.run(outputs, feed)
    us = [rng.standard_normal(np.shape(v)).astype(np.asarray(v).dtype) for v in values]
    grads = gradients(outputs, xs, grad_ys=[array_ops.constant(u) for u in us])
    for i, g in enumerate(grads):
        if g is not None and not isinstance(g, Tensor | IndexedSlices):
            raise AssertionError(
                f"order {k}: the gradient of input {i} is a "
                f"{type(g).__name__}, not a graph tensor; gradient rules "
                "must be written with miniflow ops"
            )
    dense = [None if g is None else convert_to_tensor(g) for g in grads]
    analytic = sess.run([g for g in dense if g is not None], feed)
    analytic_iter = iter(analytic)

    def loss(point):
        vals = sess.run(outputs, dict(zip(xs, point)))
        return sum(
            float(np.sum(np.asarray(u, np.float64) * np.asarray(v, np.float64)))
            for u, v in zip(us, vals)
        )

    for i, (x, g) in enumerate(zip(args, dense)):
        got = (
            np.zeros_like(x, dtype=np.float64)
            if g is None
            else np.asarray(next(analytic_iter), dtype=np.float64)
        )
        if got.shape != x.shape:
            raise AssertionError(
                f"order {k}: gradient for input {i} has shape {got.shape}, "
                f"the input has shape {x.shape}"
            )
        want = np.zeros(x.shape, dtype=np.float64)
        for j in np.ndindex(x.shape):
            plus = [a.copy() for a in args]
            minus = [a.copy() for a in args]
            plus[i][j] += eps
            minus[i][j] -= eps
            want[j] = (loss(plus) - loss(minus)) / (2 * eps)
        np.testing.assert_allclose(
            got,
            want,
            rtol=rtol,
            atol=atol,
            err_msg=f"order-{k} gradient of input {i} (shape {x.shape}) differs from "
            f"central finite differences",
        )
    return [g for g in dense if g is not None]
