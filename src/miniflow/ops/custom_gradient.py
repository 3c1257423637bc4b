"""Functions with a gradient of their own: `tf.custom_gradient`, `tf.grad_pass_through`,
`tf.recompute_grad`; and `tf.hessians`.

As in TF, ``custom_gradient`` routes the function's results through one ``IdentityN`` op
whose inputs are the results, the arguments and the variables read inside; that op's
gradient calls the user's ``grad_fn`` for the arguments and variables and gives the
results' own ops nothing, so the function body is never differentiated. The same op and
rule serve `tf.gradients` and `GradientTape`.
"""

from __future__ import annotations

import functools
import inspect

from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.nest import flatten as _flatten, pack as _pack
from miniflow.core.registry import register_gradient, register_op
from miniflow.ops import array_ops as _arr


def _identity_n_infer(inputs, attrs):
    return [(None if t.shape.ndims is None else t.shape.as_tuple(), t.dtype) for t in inputs]


@register_op("IdentityN", infer=_identity_n_infer, num_outputs=lambda a: a["N"])
def _identity_n(*xs, N=0):  # noqa: N803  TF's attr name
    return tuple(xs)


# custom_gradient's rules, by the name its IdentityN op carries (a string attr, so the
# graph still serializes; TF registers a uniquely named gradient function the same way)
_RULES: dict = {}


@register_gradient("IdentityN", accepts_none=True, accepts_indexed_slices=True)
def _identity_n_grad(op, *grads):
    rule = op.attrs.get("_custom_grad")  # eager: the rule itself, freed with the tape
    if rule is not None:
        return rule(grads)
    key = op.attrs.get("_gradient_op_type")
    if key is None:
        return list(grads)
    if key not in _RULES:
        raise LookupError(
            f"No custom gradient {key!r} in this process (the graph was "
            "imported without the function that defined it)"
        )
    return _RULES[key](grads)


def _takes_variables(fn):
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return True
    return any(p.name == "variables" or p.kind is p.VAR_KEYWORD for p in params)


def _graph_variables(ops):
    """The variables whose reads feed ``ops`` (graph mode), in order of first use."""
    found = []
    for op in ops:
        for t in op.inputs:
            var = t.op.attrs.get("var") if t.op.type == "VariableV2" else None
            if var is not None and var not in found:
                found.append(var)
    return found


def custom_gradient(f=None):
    """Decorator: ``f(*args)`` returns ``(y, grad_fn)``; gradients of ``y`` with respect
    to ``args`` are ``grad_fn(*dys)``. If ``f`` reads variables, ``grad_fn`` must take
    ``variables=`` and return ``(arg_grads, variable_grads)``.

    Raises:
        TypeError: f reads variables and grad_fn does not accept ``variables``.
    """
    if f is None:
        return custom_gradient

    @functools.wraps(f)
    def decorated(*args, **kwargs):
        xs = [_arr.convert_to_tensor(a) for a in args]
        variables, (result, grad_fn) = _call_watching(f, xs, kwargs)
        flat = [_arr.convert_to_tensor(y) for y in _flatten(result)]
        if variables and not _takes_variables(grad_fn):
            raise TypeError(
                "@tf.custom_gradient grad_fn must accept keyword argument "
                f"'variables', since function uses variables: {variables}"
            )
        reads = [v.value() for v in variables]
        n_y, n_x = len(flat), len(xs)

        def rule(grads):
            dys = [apply_op("ZerosLike", y) if g is None else g for y, g in zip(flat, grads[:n_y])]
            if variables:
                in_grads, var_grads = grad_fn(*dys, variables=list(variables))
                var_grads = list(var_grads)
                if len(var_grads) != len(variables):
                    raise ValueError(
                        f"custom_gradient grad_fn returned "
                        f"{len(var_grads)} variable gradients for "
                        f"{len(variables)} variables"
                    )
            else:
                in_grads, var_grads = grad_fn(*dys), []
            in_grads = _flatten(in_grads) if isinstance(in_grads, list | tuple) else [in_grads]
            if len(in_grads) != n_x:
                raise ValueError(
                    f"custom_gradient function expected to return {n_x} "
                    f"gradients, but returned {len(in_grads)} instead."
                )
            return [None] * n_y + list(in_grads) + var_grads

        if current_frontend().eager:
            attrs = {"_custom_grad": rule}
        else:
            attrs = {"_gradient_op_type": f"CustomGradient-{len(_RULES)}"}
            _RULES[attrs["_gradient_op_type"]] = rule
        out = apply_op("IdentityN", *flat, *xs, *reads, N=n_y + n_x + len(reads), **attrs)
        out = list(out) if isinstance(out, tuple) else [out]
        return _pack(result, iter(out[:n_y]))

    return decorated


def _call_watching(f, xs, kwargs):
    """Runs ``f``; returns (variables it read, its result)."""
    if current_frontend().eager:
        from miniflow.eager.tape import GradientTape

        with GradientTape(watch_accessed_variables=True) as tape:
            result = f(*xs, **kwargs)
        return tape.watched_variables(), _split(result)
    from miniflow.graph.graph import get_default_graph

    graph = get_default_graph()
    start = len(graph._ops)
    result = f(*xs, **kwargs)
    return _graph_variables(graph._ops[start:]), _split(result)


def _split(result):
    if not isinstance(result, tuple) or len(result) != 2 or not callable(result[1]):
        raise TypeError(
            "A function decorated with @tf.custom_gradient must return a pair "
            "(result, grad_fn) with grad_fn callable"
        )
    return result


def grad_pass_through(f):
    """``f`` in the forward pass, the identity in the backward pass (e.g. for an
    assignment or a quantizer whose true gradient is zero or undefined)."""

    @custom_gradient
    def passed(*args, **kwargs):
        def grad(*dys, variables=None):
            if variables:
                return dys, [None] * len(variables)
            return dys

        return f(*args, **kwargs), grad

    return functools.wraps(f)(passed)


def recompute_grad(f):
    """``f`` with its ordinary gradient. (TF recomputes the forward pass in the backward
    pass to save memory; miniflow keeps the activations, so only the memory differs.)"""

    @functools.wraps(f)
    def wrapped(*args, **kwargs):
        return f(*args, **kwargs)

    return wrapped


def hessians(
    ys,
    xs,
    name="hessians",
    colocate_gradients_with_ops=False,
    gate_gradients=False,
    aggregation_method=None,
):
    """For each x: the second derivatives of ``sum(ys)``, shape ``x.shape + x.shape``
    (graph mode; x's shape must be fully defined — miniflow builds one gradient per
    element of x).

    Raises:
        RuntimeError: called in eager mode (as TF's tf.gradients).
        ValueError: an x's shape is not fully defined.
    """
    from miniflow.graph.gradients import gradients
    from miniflow.graph.graph import get_default_graph

    if current_frontend().eager:
        raise RuntimeError(
            "tf.gradients is not supported when eager execution is "
            "enabled. Use tf.GradientTape instead."
        )
    xs = [_arr.convert_to_tensor(x) for x in (xs if isinstance(xs, list | tuple) else [xs])]
    out = []
    with get_default_graph().name_scope(name):
        for x in xs:
            if not x.shape.is_fully_defined():
                raise ValueError(
                    f"tf.hessians in miniflow needs a fully defined shape for "
                    f"{x.name}, got {x.shape}"
                )
            dims = x.shape.as_list()
            g = gradients(ys, x)[0]
            if g is None:
                out.append(None)
                continue
            flat = _arr.reshape(g, [-1])
            rows = []
            for j in range(flat.shape.as_list()[0]):
                h = gradients(flat[j], x)[0]
                rows.append(_arr.zeros_like(x) if h is None else h)
            out.append(_arr.reshape(_arr.stack(rows), dims + dims))
    return out
