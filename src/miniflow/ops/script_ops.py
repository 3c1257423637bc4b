"""User Python inside a graph: `tf.py_func` (with an optional gradient), `tf.Print` and
`tf.print`."""

from __future__ import annotations

import builtins
import sys

import numpy as np

from miniflow import dtypes
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops


def _py_func_infer(inputs, attrs):
    return [(None, dt) for dt in attrs["Tout"]]


@register_op("PyFunc", infer=_py_func_infer, num_outputs=lambda a: len(a["Tout"]))
def _py_func(*args, func=None, Tout=(), grad=None):  # noqa: N803  TF's attr name
    out = func(*args)
    outs = list(out) if isinstance(out, list | tuple) else [out]
    if len(outs) != len(Tout):
        raise ValueError(
            f"py_func {getattr(func, '__name__', func)} returned {len(outs)} "
            f"values, expected {len(Tout)} (Tout)"
        )
    return tuple(np.asarray(o, dtype=dt.np) for o, dt in zip(outs, Tout))


@register_gradient("PyFunc")
def _py_func_grad(op, *grads):
    """The user's ``grad(op, *grads)`` if one was given, else no gradient."""
    fn = op.attrs.get("grad")
    if fn is None:
        return [None] * len(op.inputs)
    return fn(op, *grads)


def py_func(func, inp, Tout, stateful=True, name=None, grad=None):  # noqa: N803
    """Runs the NumPy function ``func(*values)`` as an op.

    Args:
        Tout: a dtype or list of dtypes (the function returns one value per dtype).
        grad: optional ``grad(op, *output_grads) -> [input_grad or None, ...]`` written
            with miniflow ops (miniflow's extension; `gradient_override_map` also works).

    Returns:
        A tensor, or a list of tensors if ``Tout`` is a list.
    """
    single = not isinstance(Tout, list | tuple)
    tout = tuple(dtypes.as_dtype(t) for t in ([Tout] if single else Tout))
    inputs = [array_ops.convert_to_tensor(x) for x in inp]
    out = apply_op("PyFunc", *inputs, func=func, Tout=tout, grad=grad, name=name)
    out = list(out) if isinstance(out, tuple) else [out]
    return out[0] if single else out


numpy_function = py_func


def _print_data(message, data, summarize):
    parts = [np.array2string(np.asarray(d).reshape(-1)[:summarize], separator=" ") for d in data]
    return message + "".join(parts)


@register_op("Print", infer=lambda i, a: [(i[0].shape.as_tuple(), i[0].dtype)])
def _print(x, *data, message="", first_n=-1, summarize=3, counter=None):
    counter["n"] += 1
    if first_n < 0 or counter["n"] <= first_n:
        builtins.print(_print_data(message, data, summarize), file=sys.stderr)
    return x


@register_gradient("Print")
def _print_grad(op, grad):
    return [grad] + [None] * (len(op.inputs) - 1)


def Print(input_, data, message=None, first_n=None, summarize=None, name=None):  # noqa: N802
    """Identity on ``input_`` that prints ``message`` and ``data`` (to stderr) when run."""
    return apply_op(
        "Print",
        input_,
        *data,
        message=message or "",
        first_n=-1 if first_n is None else int(first_n),
        summarize=3 if summarize is None else int(summarize),
        counter={"n": 0},
        name=name,
    )


@register_op("PrintV2", num_outputs=0)
def _print_v2(*values, template=(), output_stream=None, end="\n"):
    it = iter(values)
    text = "".join(str(next(it)) if part is None else part for part in template)
    stream = (
        output_stream
        if hasattr(output_stream, "write")
        else (sys.stdout if output_stream == "stdout" else sys.stderr)
    )
    stream.write(text + end)
    return ()


def print(
    *inputs,
    output_stream=sys.stderr,
    sep=" ",
    end="\n",
    summarize=3,  # noqa: A001
    name=None,
):
    """Prints tensors and Python values: at once in eager mode, when the returned op runs
    in graph mode."""
    template, tensors = [], []
    for i, x in enumerate(inputs):
        if i:
            template.append(sep)
        if current_frontend().is_tensor(x) or hasattr(x, "__tf_tensor__"):
            template.append(None)
            tensors.append(array_ops.convert_to_tensor(x))
        else:
            template.append(str(x))
    return apply_op(
        "PrintV2",
        *tensors,
        template=tuple(template),
        output_stream=output_stream,
        end=end,
        name=name,
    )
