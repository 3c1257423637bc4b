"""Runs one case on one backend and records its `Outcome` (error, outputs, gradients, the
op types built); `compare.py` compares two outcomes.

A backend is a TF1-style module (``miniflow`` or ``tensorflow.compat.v1``) driven through
the API both share: placeholders, ``tf.gradients``, ``Session.run``. The same code thus
runs the reference and the library under test; `EagerRunner` runs miniflow eagerly.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from types import SimpleNamespace

import numpy as np

from conformance.case import Arg, Case, Variant


@dataclass
class Outcome:
    """What one (case, dtype, variant) produced on one backend."""

    error: tuple | None = None  # (stage, exception class name, message)
    forward: list | None = None
    grad1: list | None = None
    grad2: list | None = None
    op_types: set = field(default_factory=set)


def resolve(module, path: str):
    obj = module
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def _flatten(result):
    if isinstance(result, dict):
        return [x for k in sorted(result) for x in _flatten(result[k])]
    if isinstance(result, list | tuple):
        return [x for r in result for x in _flatten(r)]
    return [result]


def _components(tf, x):
    """The fetchable tensors of one output (a SparseTensor gives its three parts)."""
    if hasattr(x, "dense_shape") and hasattr(x, "indices") and hasattr(x, "values"):
        return [x.indices, x.values, x.dense_shape]
    if hasattr(x, "flat_values") and hasattr(x, "row_splits"):  # a RaggedTensor
        return [x.flat_values, x.row_splits]
    if isinstance(x, tf.Variable):
        return [tf.identity(x)]
    if x is None or isinstance(x, tf.Operation):
        return []
    return [tf.convert_to_tensor(x)]


def _densify(v):
    """IndexedSlices values fetched as gradients become dense arrays."""
    if v is not None and hasattr(v, "indices") and hasattr(v, "dense_shape"):
        dense = np.zeros(tuple(v.dense_shape), dtype=np.asarray(v.values).dtype)
        np.add.at(dense, np.asarray(v.indices), np.asarray(v.values))
        return dense
    return v


def weights(case: Case, variant_name: str, values, salt: str):
    """The fixed random cotangents both backends use (same seed, same shapes)."""
    out = []
    for i, v in enumerate(values):
        rng = np.random.default_rng(zlib.crc32(f"{case.id}/{variant_name}/{salt}{i}".encode()))
        v = np.asarray(v)
        out.append(rng.uniform(-1.0, 1.0, v.shape).astype(v.dtype) if v.dtype.kind == "f" else None)
    return out


def _call(tf, case: Case, xs, kwargs):
    """Calls the case's function with the input tensors ``xs`` in the `Arg` positions;
    returns the flat list of output tensors."""
    it = iter(xs)
    args = [next(it) if isinstance(a, Arg) else a for a in case.args]
    fn = (
        resolve(tf, case.fn) if isinstance(case.fn, str) else (lambda *a, **k: case.fn(tf, *a, **k))
    )
    return [c for r in _flatten(fn(*args, **kwargs)) for c in _components(tf, r)]


def _total(tf, terms):
    return tf.add_n(terms) if len(terms) > 1 else terms[0]


def _is_float(t) -> bool:
    return t is not None and t.dtype.is_floating


def _error(stage, e):
    """(stage, class name, the message's telling line: TF puts it after a node trace)."""
    lines = [ln for ln in str(e).splitlines() if ln.strip()]
    told = [
        ln
        for ln in lines
        if not ln.startswith((" ", "\t", "Graph execution error", "Detected at node"))
    ]
    return (stage, type(e).__name__, (told or lines or [""])[-1][:200])


class GraphRunner:
    """Runs cases in graph mode on a TF1-style module."""

    def __init__(self, tf, name: str):
        self.tf, self.name = tf, name

    def run(self, case: Case, dtype: str, variant: Variant, arrays=None) -> Outcome:
        tf = self.tf
        arrays = case.inputs(dtype, variant) if arrays is None else arrays
        vname = variant.name(dtype)
        g = tf.Graph()
        out = Outcome()
        with g.as_default():
            try:
                xs = [
                    tf.placeholder(tf.as_dtype(a.dtype), a.shape, name=f"x{i}")
                    for i, a in enumerate(arrays)
                ]
                outs = _call(tf, case, xs, variant.kwargs)
            except Exception as e:  # noqa: BLE001 - the class is what is compared
                out.error = _error("build", e)
                out.op_types = {op.type for op in g.get_operations()}
                return out
            feed = dict(zip(xs, arrays))
            with tf.Session(graph=g) as sess:
                try:
                    sess.run([tf.global_variables_initializer(), tf.tables_initializer()], feed)
                    out.forward = [np.asarray(v) for v in sess.run(outs, feed)]
                except Exception as e:  # noqa: BLE001
                    out.error = _error("run", e)
                    out.op_types = {op.type for op in g.get_operations()}
                    return out
                mask = case.diff_mask(arrays)
                if case.order >= 1 and any(mask) and case.compare == "values":
                    self._gradients(case, vname, sess, xs, arrays, mask, outs, feed, out)
            out.op_types = {op.type for op in g.get_operations()}
        return out

    def _gradients(self, case, vname, sess, xs, arrays, mask, outs, feed, out):
        tf = self.tf
        sources = [x for x, m in zip(xs, mask) if m]
        ws = weights(case, vname, out.forward, "w")
        terms, wfeed = [], {}
        for o, w in zip(outs, ws):
            if w is not None and _is_float(o):
                p = tf.placeholder(o.dtype, w.shape)
                wfeed[p] = w
                terms.append(tf.reduce_sum(o * p))
        if not terms:
            return
        try:
            grads = tf.gradients(_total(tf, terms), sources)
        except Exception as e:  # noqa: BLE001
            out.error = _error("grad-build", e)
            return
        feed = {**feed, **wfeed}
        live = [g for g in grads if g is not None]
        try:
            vals = iter(sess.run(live, feed))
        except Exception as e:  # noqa: BLE001
            out.error = _error("grad-run", e)
            return
        out.grad1 = [None if g is None else _densify(next(vals)) for g in grads]
        if case.order < 2 or not live:
            return
        vs = weights(case, vname, [a for a, m in zip(arrays, mask) if m], "v")
        terms, vfeed = [], {}
        for g, v in zip(grads, vs):
            if g is not None:
                g = tf.convert_to_tensor(g)
                p = tf.placeholder(g.dtype, v.shape)
                vfeed[p] = v
                terms.append(tf.reduce_sum(g * p))
        try:
            grads2 = tf.gradients(_total(tf, terms), sources)
            live2 = [g for g in grads2 if g is not None]
            vals = iter(sess.run(live2, {**feed, **vfeed}))
        except Exception as e:  # noqa: BLE001
            out.error = _error("grad2", e)
            return
        out.grad2 = [None if g is None else _densify(next(vals)) for g in grads2]


class EagerRunner:
    """Runs cases in miniflow's eager mode (forward and first gradients by the tape)."""

    def __init__(self, tf):
        self.tf = tf

    def run(self, case: Case, dtype: str, variant: Variant, arrays=None) -> Outcome:
        tf = self.tf
        arrays = case.inputs(dtype, variant) if arrays is None else arrays
        out = Outcome()
        with tf.eager_mode():
            try:
                xs = [tf.constant(a) for a in arrays]
                sources = [x for x, m in zip(xs, case.diff_mask(arrays)) if m]
                with tf.GradientTape(persistent=True) as tape:
                    for s in sources:
                        tape.watch(s)
                    outs = _call(tf, case, xs, variant.kwargs)
                    out.forward = [np.asarray(o.numpy()) for o in outs]
                    ws = weights(case, variant.name(dtype), out.forward, "w")
                    terms = [
                        tf.reduce_sum(o * tf.constant(w))
                        for o, w in zip(outs, ws)
                        if w is not None and o.dtype.is_floating
                    ]
                    loss = _total(tf, terms) if terms else None
                if case.order >= 1 and sources and terms and case.compare == "values":
                    grads = tape.gradient(loss, sources)
                    out.grad1 = [None if g is None else _densify(_eager_value(g)) for g in grads]
            except Exception as e:  # noqa: BLE001
                out.error = _error("eager", e)
        return out


def _eager_value(g):
    if hasattr(g, "indices") and hasattr(g, "dense_shape"):  # eager IndexedSlices
        shape = g.dense_shape.numpy() if hasattr(g.dense_shape, "numpy") else g.dense_shape
        return SimpleNamespace(
            values=g.values.numpy(), indices=g.indices.numpy(), dense_shape=np.asarray(shape)
        )
    return np.asarray(g.numpy())
