"""Control flow: `tf.cond`, `tf.case`, `tf.while_loop`, `tf.map_fn`.

Eager mode runs Python control flow on concrete values. Graph mode:

- ``cond`` builds both branches and selects each output with ``Select`` on the scalar
  predicate, so gradients flow into the taken branch only (ops with side effects in a
  branch run whichever branch is taken — keep assignments out of branches).
- ``while_loop`` builds cond and body once, on placeholders standing for the loop
  variables, and adds one ``While`` op whose kernel interprets those ops each iteration
  (tensors from outside the loop become extra inputs). It runs forward only.
- ``map_fn`` unrolls over the (static) first dimension.
"""

from __future__ import annotations

import numpy as np

from miniflow import errors
from miniflow.core import autodiff
from miniflow.core.dispatch import apply_op, current_frontend
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.nest import flatten as _flatten, pack as _pack
from miniflow.core.registry import kernel_attrs, register_gradient, register_op
from miniflow.graph.graph import get_default_graph
from miniflow.ops import array_ops
from miniflow.ops.tensor_array_ops import unwrap_loop_vars


def _same_structure(a, b):
    if isinstance(a, dict) or isinstance(b, dict):
        return (
            isinstance(a, dict)
            and isinstance(b, dict)
            and sorted(a) == sorted(b)
            and all(_same_structure(a[k], b[k]) for k in a)
        )
    if isinstance(a, list | tuple) or isinstance(b, list | tuple):
        return (
            isinstance(a, list | tuple)
            and isinstance(b, list | tuple)
            and len(a) == len(b)
            and all(_same_structure(x, y) for x, y in zip(a, b))
        )
    return True


# ---------------------------------------------------------------------------------------
# cond and case.


def cond(pred, true_fn=None, false_fn=None, strict=False, name=None, fn1=None, fn2=None):
    """``true_fn()`` if ``pred`` else ``false_fn()`` (both return the same structure).

    Raises:
        TypeError: a branch function is missing or not callable.
        ValueError: the branches return different structures.
    """
    true_fn = fn1 if true_fn is None else true_fn
    false_fn = fn2 if false_fn is None else false_fn
    if not callable(true_fn) or not callable(false_fn):
        raise TypeError("true_fn and false_fn must be callable.")
    fe = current_frontend()
    if isinstance(pred, bool | np.bool_):
        return true_fn() if pred else false_fn()
    pred = array_ops.convert_to_tensor(pred)
    if fe.eager:
        return true_fn() if bool(pred) else false_fn()
    if pred.shape.ndims not in (None, 0):
        raise ValueError(f"pred must be a scalar, got shape {pred.shape}")
    graph = get_default_graph()
    with graph.cond_branch(pred, True):
        t_out = _inside(graph, true_fn())
    with graph.cond_branch(pred, False):
        f_out = _inside(graph, false_fn())
    if not _same_structure(t_out, f_out):
        raise ValueError(
            f"true_fn and false_fn must have the same type of outputs: {t_out!r} vs {f_out!r}"
        )
    merged = [
        None if t is None else _merge(pred, t, f, name)
        for t, f in zip(_flatten(t_out), _flatten(f_out))
    ]
    return _pack(t_out, iter(merged))


def _inside(graph, out):
    """Branch outputs made by ops of the branch itself: an outside tensor returned as is
    enters through an Identity, so its gradient passes CondEnter (zeros when the branch
    did not run) rather than reaching it ungated (TF's cond does the same)."""

    def wrap(t):
        if t is None or isinstance(t, IndexedSlices):
            return t
        t = array_ops.convert_to_tensor(t)
        return t if t.op.attrs.get("_guard") == graph._guard else array_ops.identity(t)

    return _pack(out, iter([wrap(t) for t in _flatten(out)]))


def _merge(pred, t, f, name):
    t, f = array_ops.convert_pair(t, f)
    if t.dtype != f.dtype:
        raise TypeError(
            f"true_fn and false_fn outputs have different dtypes: {t.dtype.name} vs {f.dtype.name}"
        )
    return apply_op("CondMerge", pred, t, f, name=name)


# Graph-mode tf.cond: ops built by a branch carry a guard and run only when the branch is
# taken (the session skips them otherwise); CondMerge picks the taken branch's value.
# Tensors from outside enter a branch through CondEnter, whose gradient (CondExit) gives
# zeros to the outside when the branch did not run.


def _merge_infer(inputs, attrs):
    t, f = inputs[1].shape, inputs[2].shape
    dims = (
        t.as_tuple()
        if t.is_compatible_with(f) and t.as_tuple() == f.as_tuple()
        else (
            None
            if t.ndims is None or t.ndims != f.ndims
            else tuple(a if a == b else None for a, b in zip(t.as_tuple(), f.as_tuple()))
        )
    )
    return [(dims, inputs[1].dtype)]


@register_op("CondMerge", infer=_merge_infer)
def _cond_merge(pred, t, f):
    return t if pred else f


@register_gradient("CondMerge")
def _cond_merge_grad(op, grad):
    """The incoming gradient enters each branch through an Identity guarded like that
    branch, so it is None (and CondEnter's gradient gives zeros) in the branch not taken,
    even when the branch's own gradient rules pass it through unchanged."""
    pred = op.inputs[0]
    outer = op.attrs.get("_guard", ())
    out = [None]
    for branch in (True, False):
        with op.graph.guard_scope(outer + ((pred.name, branch),)):
            out.append(array_ops.identity(grad))
    return out


register_op("CondEnter", infer=lambda i, a: [(i[0].shape.as_tuple(), i[0].dtype)])(lambda x: x)


@register_gradient("CondEnter")
def _cond_enter_grad(op, grad):
    """Built outside the branch (the enclosing guard): it must run even when the branch
    did not, to give the outside tensor its zeros."""
    with op.graph.guard_scope(op.attrs["_guard"][:-1]):
        return [apply_op("CondExit", grad, op.inputs[0])]


@register_op("CondExit", infer=lambda i, a: [(i[1].shape.as_tuple(), i[1].dtype)])
def _cond_exit(g, x):
    """The branch's gradient for an outside tensor, zeros when the branch did not run."""
    return np.zeros(np.shape(x), dtype=np.result_type(x)) if g is None else g


@register_gradient("CondExit")
def _cond_exit_grad(op, grad):
    return [grad, None]


def case(pred_fn_pairs, default=None, exclusive=False, strict=False, name="case"):
    """The function of the first true predicate (``default`` if none is true).

    Raises:
        TypeError: pred_fn_pairs is not a list of (predicate, callable) pairs.
    """
    pairs = list(pred_fn_pairs.items()) if isinstance(pred_fn_pairs, dict) else list(pred_fn_pairs)
    for p in pairs:
        if not isinstance(p, tuple) or len(p) != 2 or not callable(p[1]):
            raise TypeError(
                "fn for pred must be callable: pred_fn_pairs must be a list of "
                "(predicate, callable) pairs."
            )
    if default is None:
        if not pairs:
            raise ValueError("No predicates and no default given")
        *pairs, (_, default) = pairs
    if exclusive and current_frontend().eager:
        hits = sum(bool(array_ops.convert_to_tensor(p)) for p, _ in pairs)
        if hits > 1:
            raise errors.InvalidArgumentError(
                None,
                None,
                "Input error: exclusive=True and more than 1 conditions evaluated as True",
            )
    fn = default
    for pred, branch in reversed(pairs):
        fn = (lambda p, b, rest: lambda: cond(p, b, rest))(pred, branch, fn)
    return fn()


# ---------------------------------------------------------------------------------------
# while_loop.


class _SubGraph:
    """Ops built by a loop function, runnable on values by `_interpret`."""

    def __init__(self, placeholders, ops, outputs):
        self.placeholders = placeholders
        nested = {
            o
            for op in ops
            for sub in op.attrs.values()
            if isinstance(sub, _SubGraph)
            for o in sub.ops + [t.op for t in sub.placeholders]
        }
        self.ops = [op for op in ops if op not in nested]  # a nested loop runs its own
        self.outputs = outputs
        self.captures: list = []
        # a tf.cond inside the loop: (op, [(pred tensor, branch), ...]) so that
        # `_interpret` skips the ops of the branch not taken, as the session does
        graph = ops[0].graph if ops else None
        self.guards = {
            op: [(graph.get_tensor_by_name(p), b) for p, b in op.attrs.get("_guard", ())]
            for op in self.ops
        }


def _build(fn, loop_vars, graph, placeholders):
    start = len(graph._ops)
    out = fn(*_pack(loop_vars, iter(placeholders)))
    new_ops = graph._ops[start:]
    return out, new_ops


def _interpret(sub, loop, caps):
    env = dict(zip(sub.placeholders, loop))
    env.update(zip(sub.captures, caps))
    for op in sub.ops:
        guard = sub.guards[op]
        if guard and not all(bool(env[p]) == b for p, b in guard if p in env):
            env.update((t, None) for t in op.outputs)
            continue
        vals = [env[t] for t in op.inputs]
        out = op.opdef.forward(*vals, **kernel_attrs(op.opdef, op.attrs))
        if len(op.outputs) == 1 and op.opdef.num_outputs == 1:
            env[op.outputs[0]] = out
        else:
            env.update(zip(op.outputs, out))
    return [None if t is None else env[t] for t in sub.outputs]


def _while_infer(inputs, attrs):
    return attrs["specs"]


def _iterations(loop, caps, cond, body, maximum_iterations, trace=None):
    i = 0
    while maximum_iterations is None or i < maximum_iterations:
        if not bool(np.asarray(_interpret(cond, loop, caps)[0])):
            break
        if trace is not None:
            trace.append(loop)
        loop = [np.asarray(v) for v in _interpret(body, loop, caps)]
        i += 1
    return loop


@register_op("While", infer=_while_infer, num_outputs=lambda a: a["n"])
def _while(*vals, cond=None, body=None, n=0, maximum_iterations=None, specs=None):
    return tuple(_iterations(list(vals[:n]), vals[n:], cond, body, maximum_iterations))


# The gradient of a graph-mode while loop: WhileGrad replays the loop forward from the
# While op's inputs (the loop is deterministic: bodies cannot hold stateful ops), keeping
# every iteration's loop values, then runs the body's gradient subgraph once per iteration
# in reverse. The trip count is whatever it is at run time.


@register_gradient("While")
def _while_grad(op, *grads):
    attrs = op.attrs
    if not attrs.get("back_prop", True):
        return [None] * len(op.inputs)
    n, body = attrs["n"], attrs["body"]
    caps = list(op.inputs[n:])
    diff = [i for i in range(n) if op.inputs[i].dtype.is_floating]
    diff_caps = [j for j, t in enumerate(caps) if t.dtype.is_floating]
    if not diff:
        return [None] * len(op.inputs)
    graph = op.graph
    with graph.name_scope("while_grad"):
        seeds = [
            array_ops.placeholder(op.inputs[i].dtype, attrs["specs"][i][0], name="grad_in")
            for i in diff
        ]
        start = len(graph._ops)
        inside = set(body.ops)
        xs = [body.placeholders[i] for i in diff] + [caps[j] for j in diff_caps]
        outs = autodiff.backward(
            [body.outputs[i] for i in diff],
            seeds,
            xs,
            producer=lambda t: t.op if t.op in inside else None,
        )
        outs = [None if g is None else autodiff.densify(g) for g in outs]
    grad_ops = graph._ops[start:]
    sub = _SubGraph(list(body.placeholders) + seeds, list(body.ops) + grad_ops, outs)
    held = set(sub.placeholders) | set(caps)
    made = set(sub.ops)
    extra = []
    for o in sub.ops:
        for t in o.inputs:
            if t.op not in made and t not in held and t not in extra:
                extra.append(t)
    extra += [
        t for t in outs if t is not None and t.op not in made and t not in held and t not in extra
    ]
    sub.captures = caps + extra
    specs = [(op.inputs[i].shape.as_tuple(), op.inputs[i].dtype) for i in diff] + [
        (caps[j].shape.as_tuple(), caps[j].dtype) for j in diff_caps
    ]
    res = apply_op(
        "WhileGrad",
        *op.inputs,
        *[grads[i] for i in diff],
        *extra,
        cond=attrs["cond"],
        body=body,
        grad=sub,
        n=n,
        n_caps=len(caps),
        diff=tuple(diff),
        diff_caps=tuple(diff_caps),
        maximum_iterations=attrs["maximum_iterations"],
        specs=specs,
        name="WhileGrad",
    )
    res = list(res)
    out = [None] * len(op.inputs)
    for k, i in enumerate(diff):
        out[i] = res[k]
    for k, j in enumerate(diff_caps):
        out[n + j] = res[len(diff) + k]
    return out


@register_op("WhileGrad", infer=_while_infer, num_outputs=lambda a: len(a["specs"]))
def _while_grad_kernel(
    *vals,
    cond=None,
    body=None,
    grad=None,
    n=0,
    n_caps=0,
    diff=(),
    diff_caps=(),
    maximum_iterations=None,
    specs=None,
):
    loop, caps = list(vals[:n]), vals[n : n + n_caps]
    gys = vals[n + n_caps : n + n_caps + len(diff)]
    extra = vals[n + n_caps + len(diff) :]
    trace: list = []
    _iterations(loop, caps, cond, body, maximum_iterations, trace)
    g = list(gys)
    g_caps = [np.zeros(np.shape(caps[j]), dtype=np.result_type(caps[j])) for j in diff_caps]
    for values in reversed(trace):
        out = _interpret(grad, list(values) + g, list(caps) + list(extra))
        g = [
            np.zeros(np.shape(values[i]), np.result_type(values[i])) if d is None else d
            for i, d in zip(diff, out[: len(diff)])
        ]
        for k, d in enumerate(out[len(diff) :]):
            if d is not None:
                g_caps[k] = g_caps[k] + d
    return tuple(np.asarray(v, dtype=spec[1].np) for v, spec in zip(g + g_caps, specs))


def while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants=None,
    parallel_iterations=10,
    back_prop=True,
    swap_memory=False,
    name=None,
    maximum_iterations=None,
    return_same_structure=False,
):
    """Repeats ``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` is true.

    Returns the final loop variables (a single tensor for one loop variable unless
    ``return_same_structure``). Differentiable in both modes with respect to the loop
    variables and captured tensors (graph mode: a reverse loop over replayed values).

    Raises:
        TypeError: cond or body is not callable.
        ValueError: body returns a structure other than loop_vars'.
        NotImplementedError: (graph mode) the body creates stateful ops.
    """
    if not callable(cond) or not callable(body):
        raise TypeError("cond and body must be callable.")
    loop_vars, cond, body, restore = unwrap_loop_vars(loop_vars, cond, body)
    return restore(
        _while_loop(
            cond,
            body,
            loop_vars,
            shape_invariants,
            name,
            maximum_iterations,
            back_prop,
            return_same_structure,
        )
    )


def _while_loop(
    cond,
    body,
    loop_vars,
    shape_invariants,
    name,
    maximum_iterations,
    back_prop,
    return_same_structure,
):
    single = not isinstance(loop_vars, list | tuple)
    structure = [loop_vars] if single else loop_vars
    flat = [array_ops.convert_to_tensor(v) for v in _flatten(structure)]
    if current_frontend().eager:
        result = _eager_while(cond, body, structure, flat, maximum_iterations)
    else:
        result = _graph_while(
            cond, body, structure, flat, shape_invariants, maximum_iterations, name, back_prop
        )
    if single or (
        len(_flatten(structure)) == 1
        and not return_same_structure
        and isinstance(structure, list | tuple)
        and len(structure) == 1
    ):
        return _flatten(result)[0]
    return result


def _as_list(out):
    return list(out) if isinstance(out, list | tuple) else [out]


def _eager_while(cond, body, structure, flat, maximum_iterations):
    loop = _pack(structure, iter(flat))
    i = 0
    while maximum_iterations is None or i < int(maximum_iterations):
        if not bool(array_ops.convert_to_tensor(cond(*loop))):
            break
        out = body(*loop)
        out = _as_list(out) if not isinstance(loop, dict) else out
        if len(_flatten(out)) != len(flat):
            raise ValueError(
                f"body returned {len(_flatten(out))} values for {len(flat)} loop variables"
            )
        loop = _pack(structure, iter([array_ops.convert_to_tensor(v) for v in _flatten(out)]))
        i += 1
    return loop


def _graph_while(
    cond, body, structure, flat, shape_invariants, maximum_iterations, name, back_prop=True
):
    graph = get_default_graph()
    invariants = _flatten(shape_invariants) if shape_invariants is not None else None
    with graph.name_scope(name or "while"):
        placeholders = [
            array_ops.placeholder(
                t.dtype, invariants[i] if invariants else t.shape, name="loop_var"
            )
            for i, t in enumerate(flat)
        ]
        c_out, c_ops = _build(cond, structure, graph, placeholders)
        b_out, b_ops = _build(body, structure, graph, placeholders)
    b_flat = [array_ops.convert_to_tensor(v) for v in _flatten(_as_list(b_out))]
    if len(b_flat) != len(flat):
        raise ValueError(f"body returned {len(b_flat)} values for {len(flat)} loop variables")
    subs = [
        _SubGraph(placeholders, c_ops, [array_ops.convert_to_tensor(c_out)]),
        _SubGraph(placeholders, b_ops, b_flat),
    ]
    captures = _captures(subs, placeholders)
    for sub in subs:
        sub.captures = captures
    specs = []
    for t, b in zip(flat, b_flat):
        shape = t.shape.as_tuple() if invariants is None else None
        if invariants is None and b.shape.as_tuple() != shape:
            shape = None
        if invariants is not None:
            shape = invariants[len(specs)]
            shape = shape.as_tuple() if hasattr(shape, "as_tuple") else tuple(shape)
        specs.append((shape, t.dtype))
    out = apply_op(
        "While",
        *flat,
        *captures,
        cond=subs[0],
        body=subs[1],
        n=len(flat),
        maximum_iterations=None if maximum_iterations is None else int(maximum_iterations),
        specs=specs,
        back_prop=bool(back_prop),
        name=name or "while",
    )
    out = [out] if len(flat) == 1 and not isinstance(out, tuple) else list(out)
    return _pack(structure, iter(out))


def _captures(subs, placeholders):
    inside = {op for sub in subs for op in sub.ops}
    for op in inside:
        if op.opdef.stateful or op.opdef.extra.get("writes"):
            raise NotImplementedError(
                f"while_loop bodies in graph mode cannot create "
                f"stateful ops ({op.type} '{op.name}'); read variables "
                "outside the loop"
            )
    held = set(placeholders)
    caps, seen = [], set()
    for sub in subs:
        for op in sub.ops:
            for t in op.inputs:
                if t.op not in inside and t not in held and t not in seen:
                    seen.add(t)
                    caps.append(t)
        for t in sub.outputs:
            if t.op not in inside and t not in held and t not in seen:
                seen.add(t)
                caps.append(t)
    return caps
