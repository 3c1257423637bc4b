"""TF1's ``tf.test``: ``TestCase``, ``compute_gradient(_error)`` and the build queries.

miniflow runs on the CPU with NumPy, so every "built with / is available" query answers
False. ``compute_gradient`` follows TF1's contract: the Jacobians have one row per element
of ``x`` and one column per element of ``y``, and run in the default session.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import re
import tempfile
import unittest

import numpy as np

from miniflow import errors
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.eager import context as eager_context
from miniflow.graph.gradients import gradients
from miniflow.graph.graph import get_default_graph, reset_default_graph
from miniflow.graph.session import Session, get_default_session
from miniflow.ops import array_ops


def is_gpu_available(cuda_only=False, min_cuda_compute_capability=None):
    """False: miniflow runs on the CPU."""
    return False


def is_built_with_cuda():
    return False


def is_built_with_rocm():
    return False


def is_built_with_gpu_support():
    return False


def is_built_with_xla():
    return False


def gpu_device_name():
    """The name of a GPU device: none, so ``""`` (as TF without a GPU)."""
    return ""


@functools.cache
def get_temp_dir():
    """A temporary directory for this process's tests (the same one on every call)."""
    return tempfile.mkdtemp()


def main(argv=None):
    """Runs the tests of ``__main__`` (unittest's runner)."""
    return unittest.main(argv=argv)


def disable_with_predicate(pred, skip_message):
    """Decorator: skips the test when ``pred()`` is true."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            if pred():
                raise unittest.SkipTest(skip_message)
            return fn(*args, **kwargs)

        return wrapper

    return decorator


def with_eager_op_as_function(cls=None, only_as_function=False):
    """Class decorator that, in TF, adds variants of the tests running eager ops as
    functions; miniflow has no ``tf.function`` runtime, so the class is returned as is."""
    return cls if cls is not None else (lambda c: c)


# -- gradient checking --------------------------------------------------------------------


def _jacobians(x, x_shape, y, y_shape, x_data, delta, extra_feed_dict):
    sess = get_default_session()
    if sess is None:
        raise ValueError(
            "compute_gradient needs a default session: call it inside `with tf.Session():`"
        )
    if not (x.dtype.is_floating and y.dtype.is_floating):
        raise TypeError(
            f"compute_gradient: x and y must be floating, got {x.dtype.name} and {y.dtype.name}"
        )
    x_shape, y_shape = tuple(x_shape), tuple(y_shape)
    x_size, y_size = int(np.prod(x_shape)), int(np.prod(y_shape))
    dy = array_ops.placeholder(y.dtype, y_shape)
    dx = gradients(y, x, grad_ys=dy)[0]
    theory = np.zeros((x_size, y_size), x.dtype.as_numpy_dtype)
    dy_data = np.zeros(y_shape, y.dtype.as_numpy_dtype)
    for col in range(y_size):
        dy_data.flat[col] = 1
        feed = {**extra_feed_dict, x: x_data, dy: dy_data}
        if dx is None:
            pass  # y does not depend on x: a zero column
        elif isinstance(dx, IndexedSlices):
            indices, values = sess.run([dx.indices, dx.values], feed)
            row = int(np.prod(x_shape[1:]))
            for i, v in zip(indices, values):
                theory[i * row : (i + 1) * row, col] += np.ravel(v)
        else:
            theory[:, col] = np.ravel(sess.run(dx, feed))
        dy_data.flat[col] = 0
    numeric = np.zeros((x_size, y_size), x.dtype.as_numpy_dtype)
    for row in range(x_size):
        plus, minus = x_data.copy(), x_data.copy()
        plus.flat[row] += delta
        minus.flat[row] -= delta
        y_plus = sess.run(y, {**extra_feed_dict, x: plus})
        y_minus = sess.run(y, {**extra_feed_dict, x: minus})
        numeric[row, :] = np.ravel((y_plus - y_minus) / np.asarray(2 * delta, y_plus.dtype))
    return theory, numeric


def compute_gradient(
    x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None, extra_feed_dict=None
):
    """(theoretical, numerical) Jacobians of ``y`` with respect to ``x``; for a list of
    ``x``, one pair per element. Runs in the default session."""
    for init in init_targets or ():
        init.run()
    extra = dict(extra_feed_dict or {})
    xs, shapes = (x, x_shape) if isinstance(x, list) else ([x], [x_shape])
    inits = x_init_value if isinstance(x, list) else [x_init_value]
    inits = inits if inits is not None else [None] * len(xs)
    out = []
    for xi, shape, init in zip(xs, shapes, inits):
        if init is None:
            init = np.random.random_sample(shape).astype(xi.dtype.as_numpy_dtype)
        elif list(np.shape(init)) != list(shape):
            raise ValueError(f"x_shape = {list(shape)}, init_data shape = {list(np.shape(init))}")
        init = np.asarray(init, xi.dtype.as_numpy_dtype)
        out.append(_jacobians(xi, shape, y, y_shape, init, delta, extra))
    return out if isinstance(x, list) else out[0]


def compute_gradient_error(
    x, x_shape, y, y_shape, x_init_value=None, delta=1e-3, init_targets=None, extra_feed_dict=None
):
    """The largest absolute difference between the theoretical and numerical Jacobians."""
    pairs = compute_gradient(
        x, x_shape, y, y_shape, x_init_value, delta, init_targets, extra_feed_dict
    )
    pairs = pairs if isinstance(pairs, list) else [pairs]
    return max((float(np.max(np.abs(t - n))) if t.size else 0.0) for t, n in pairs)


# -- TestCase ---------------------------------------------------------------------------------


def _nested_pairs(a, b, path="") -> list[tuple[object, object, str]]:
    """Leaf pairs of two nested structures, with their paths. Dicts and sequences that
    are not numeric arrays are walked; anything NumPy reads as a numeric array is a leaf."""
    if isinstance(a, dict) and isinstance(b, dict):
        if set(a) != set(b):
            raise AssertionError(f"{path or 'dict'}: keys differ: {sorted(a)} vs {sorted(b)}")
        return [p for k in sorted(a, key=str) for p in _nested_pairs(a[k], b[k], f"{path}[{k!r}]")]
    if (
        isinstance(a, (list, tuple))
        and isinstance(b, (list, tuple))
        and not (_numeric(a) and _numeric(b))
    ):
        if len(a) != len(b):
            raise AssertionError(f"{path or 'sequence'}: length {len(a)} vs {len(b)}")
        return [
            p for i, (u, v) in enumerate(zip(a, b)) for p in _nested_pairs(u, v, f"{path}[{i}]")
        ]
    return [(a, b, path)]


def _numeric(x) -> bool:
    try:
        return np.asarray(x).dtype.kind in "biufc"
    except ValueError:  # ragged
        return False


class TestCase(unittest.TestCase):
    """TF1's test case: a fresh default graph per test, sessions, and array assertions."""

    def setUp(self):
        super().setUp()
        reset_default_graph()
        self._cached = None

    def tearDown(self):
        if self._cached is not None:
            self._cached.close()
        super().tearDown()

    def get_temp_dir(self):
        return get_temp_dir()

    @contextlib.contextmanager
    def session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """A new session on ``graph`` (default: the default graph), made the default."""
        graph = graph if graph is not None else get_default_graph()
        with graph.as_default(), Session(graph=graph, config=config) as sess, sess.as_default():
            yield sess

    @contextlib.contextmanager
    def cached_session(self, graph=None, config=None, use_gpu=True, force_gpu=False):
        """One session per test, reused by every call, made the default."""
        if self._cached is None or self._cached.graph is not (graph or get_default_graph()):
            self._cached = Session(graph=graph or get_default_graph(), config=config)
        with self._cached.graph.as_default(), self._cached.as_default():
            yield self._cached

    def evaluate(self, tensors):
        """NumPy values of ``tensors`` (any nest): eagerly, or in the default session."""
        if eager_context.executing_eagerly():
            return _map_nest(lambda t: t.numpy() if hasattr(t, "numpy") else t, tensors)
        sess = get_default_session()
        if sess is not None:
            return sess.run(tensors)
        with self.cached_session() as sess:
            return sess.run(tensors)

    def assertAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        for x, y, path in _nested_pairs(_map_nest(self._value, a), _map_nest(self._value, b)):
            x, y = np.asarray(self._value(x)), np.asarray(self._value(y))
            self.assertEqual(x.shape, y.shape, f"{msg or ''} {path} shape mismatch")
            np.testing.assert_allclose(
                x, y, rtol=rtol, atol=atol, equal_nan=True, err_msg=f"{msg or ''} {path}".strip()
            )

    def assertAllCloseAccordingToType(
        self,
        a,
        b,
        rtol=1e-6,
        atol=1e-6,  # noqa: N802
        float_rtol=1e-6,
        float_atol=1e-6,
        half_rtol=1e-3,
        half_atol=1e-3,
        bfloat16_rtol=1e-2,
        bfloat16_atol=1e-2,
        msg=None,
    ):
        dtype = np.result_type(np.asarray(self._value(a)), np.asarray(self._value(b)))
        if dtype == np.float32:
            rtol, atol = max(rtol, float_rtol), max(atol, float_atol)
        elif dtype == np.float16:
            rtol, atol = max(rtol, half_rtol), max(atol, half_atol)
        self.assertAllClose(a, b, rtol=rtol, atol=atol, msg=msg)

    def assertAllEqual(self, a, b, msg=None):  # noqa: N802
        x, y = np.asarray(self._value(a)), np.asarray(self._value(b))
        self.assertEqual(x.shape, y.shape, f"{msg or ''} shape mismatch")
        np.testing.assert_array_equal(x, y, err_msg=msg or "")

    def assertNotAllClose(self, a, b, rtol=1e-6, atol=1e-6, msg=None):  # noqa: N802
        with self.assertRaises(AssertionError, msg=msg or "the values are all close"):
            self.assertAllClose(a, b, rtol=rtol, atol=atol)

    def assertNear(self, f1, f2, err, msg=None):  # noqa: N802
        self.assertTrue(abs(f1 - f2) <= err, f"{f1} != {f2} +/- {err} {msg or ''}")

    def assertArrayNear(self, farray1, farray2, err, msg=None):  # noqa: N802
        self.assertEqual(len(farray1), len(farray2), msg)
        for f1, f2 in zip(farray1, farray2):
            self.assertNear(float(f1), float(f2), err, msg)

    def assertNDArrayNear(self, ndarray1, ndarray2, err, msg=None):  # noqa: N802
        self.assertTrue(np.allclose(ndarray1, ndarray2, atol=err), msg)

    def assertAllGreater(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(np.asarray(self._value(a)) > comparison_target))

    def assertAllGreaterEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(np.asarray(self._value(a)) >= comparison_target))

    def assertAllLess(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(np.asarray(self._value(a)) < comparison_target))

    def assertAllLessEqual(self, a, comparison_target):  # noqa: N802
        self.assertTrue(np.all(np.asarray(self._value(a)) <= comparison_target))

    def assertAllInRange(
        self,
        target,
        lower_bound,
        upper_bound,  # noqa: N802
        open_lower_bound=False,
        open_upper_bound=False,
    ):
        t = np.asarray(self._value(target))
        low = t > lower_bound if open_lower_bound else t >= lower_bound
        high = t < upper_bound if open_upper_bound else t <= upper_bound
        bad = t[~(low & high)]
        self.assertFalse(bad.size, f"{bad} are not in range {lower_bound}..{upper_bound}")

    def assertShapeEqual(self, np_array, tf_tensor, msg=None):  # noqa: N802
        self.assertEqual(list(np.shape(np_array)), tf_tensor.get_shape().as_list(), msg)

    @contextlib.contextmanager
    def assertRaisesOpError(self, expected_err_re_or_predicate):  # noqa: N802
        """The block raises a ``tf.errors.OpError`` whose message matches."""
        with self.assertRaises(errors.OpError) as caught:
            yield
        check = expected_err_re_or_predicate
        if callable(check):
            self.assertTrue(check(caught.exception), str(caught.exception))
        else:
            self.assertRegex(str(caught.exception), re.compile(check))

    def _value(self, x):
        """Tensors (graph or eager) become NumPy values; anything else is left as is."""
        if hasattr(x, "numpy") and callable(x.numpy):
            return x.numpy()
        if hasattr(x, "graph") and hasattr(x, "op"):
            return self.evaluate(x)
        return x


def _map_nest(fn, structure):
    if isinstance(structure, dict):
        return {k: _map_nest(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        items = [_map_nest(fn, v) for v in structure]
        return type(structure)(*items) if hasattr(structure, "_fields") else type(structure)(items)
    return fn(structure)


def is_cpu_target_available(target) -> bool:
    """Whether this machine's CPU is ``target`` (``"x86"``, ``"aarch64"``...): miniflow
    is pure Python, so it supports exactly the CPU it runs on."""
    machine = platform.machine().lower()
    target = str(target).lower()
    aliases = {
        "x86": ("x86_64", "amd64", "i386", "i686"),
        "x86_64": ("x86_64", "amd64"),
        "aarch64": ("aarch64", "arm64"),
        "arm64": ("aarch64", "arm64"),
    }
    return machine in aliases.get(target, (target,))
