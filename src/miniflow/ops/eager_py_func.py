"""`tf.py_function`: a Python function on eager tensors, run as one op of a graph.

Its kernel runs the function in eager mode; its gradient is another ``EagerPyFunc`` op that
reruns the function under a `GradientTape` and returns the tape's gradients, so it is
differentiable again (TF builds it the same way). In eager mode the function is simply
called, and the tape sees its ops.
"""

from __future__ import annotations

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.nest import flatten as _flatten
from miniflow.core.registry import register_gradient, register_op
from miniflow.eager import context as _context
from miniflow.ops import array_ops as _arr


def _infer(inputs, attrs):
    return [(None, dt) for dt in attrs["Tout"]]


def _eager_values(out, tout):
    outs = list(out) if isinstance(out, list | tuple) else [out]
    if len(outs) != len(tout):
        raise ValueError(f"py_function returned {len(outs)} values, expected {len(tout)} (Tout)")
    return tuple(
        np.asarray(getattr(o, "numpy", lambda o=o: o)(), dtype=dt.np) for o, dt in zip(outs, tout)
    )


@register_op("EagerPyFunc", infer=_infer, num_outputs=lambda a: len(a["Tout"]))
def _eager_py_func(*args, func=None, Tout=()):  # noqa: N803  TF's attr name
    with _context.eager_ops():
        xs = [_arr.convert_to_tensor(np.asarray(a)) for a in args]
        return _eager_values(func(*xs), Tout)


@register_gradient("EagerPyFunc")
def _eager_py_func_grad(op, *grads):
    func, n = op.attrs["func"], len(op.inputs)
    wanted = [i for i, t in enumerate(op.inputs) if t.dtype.is_floating]
    if not wanted:
        return [None] * n

    def backward(*values):
        from miniflow.eager.tape import GradientTape

        xs, dys = list(values[:n]), list(values[n:])
        with GradientTape() as tape:
            for i in wanted:
                tape.watch(xs[i])
            ys = func(*xs)
        ys = _flatten(ys) if isinstance(ys, list | tuple) else [ys]
        got = tape.gradient(
            ys, [xs[i] for i in wanted], output_gradients=dys, unconnected_gradients="zero"
        )
        return got

    tout = tuple(op.inputs[i].dtype for i in wanted)
    out = apply_op("EagerPyFunc", *op.inputs, *grads, func=backward, Tout=tout)
    out = list(out) if isinstance(out, tuple) else [out]
    result = [None] * n
    for i, g in zip(wanted, out):
        result[i] = g
    return result


def py_function(func, inp, Tout, name=None):  # noqa: N803
    """Runs ``func(*eager_tensors)`` as an op (graph mode) or directly (eager mode).

    Args:
        Tout: a dtype or list of dtypes, one per value ``func`` returns.

    Returns:
        A tensor, or a list of tensors if ``Tout`` is a list.
    """
    single = not isinstance(Tout, list | tuple)
    tout = tuple(dtypes.as_dtype(t) for t in ([Tout] if single else Tout))
    inputs = [_arr.convert_to_tensor(x) for x in inp]
    if current_frontend().eager:
        out = func(*inputs)
        outs = list(out) if isinstance(out, list | tuple) else [out]
        out = [
            _arr.cast(_arr.convert_to_tensor(o), dt)
            if _arr.convert_to_tensor(o).dtype != dt
            else _arr.convert_to_tensor(o)
            for o, dt in zip(outs, tout)
        ]
    else:
        out = apply_op("EagerPyFunc", *inputs, func=func, Tout=tout, name=name)
        out = list(out) if isinstance(out, tuple) else [out]
    return out[0] if single else out


eager_py_func = py_function
