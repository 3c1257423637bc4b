"""The one reverse sweep, shared by `tf.gradients` (graph) and `GradientTape` (eager).

A node is anything with ``.inputs``, ``.outputs`` and ``.grad_type``; ``producer(t)``
returns the node that made tensor ``t`` (None for leaves). Gradient rules are looked up
by ``grad_type`` and build their results with ``apply_op``, so the same sweep yields a
symbolic gradient graph in graph mode and values in eager mode.
"""

from __future__ import annotations

from miniflow.core.dispatch import apply_op
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import gradient_inputs, lookup_gradient


def backward(ys, grad_ys, xs, producer, stop=()):
    """Returns d(sum ys)/d(x) for each x in ``xs`` (None where x does not affect ys).

    Args:
        ys: output tensors; grad_ys: their incoming gradients (same length).
        xs: tensors to differentiate with respect to.
        producer: ``producer(tensor) -> node or None``.
        stop: tensors through which no gradient flows.
    """
    targets = {id(x) for x in xs}
    stopped = {id(s) for s in stop}
    order = _postorder([producer(y) for y in ys], producer, stopped)

    # A node matters only if some x lies upstream of it. (Loops rather than any() over
    # generators: this sweep runs once per eager training step.)
    reaches: dict[int, bool] = {}
    for node in order:
        hit = False
        for t in node.inputs:
            i = id(t)
            if i in targets:  # checked before `stopped`, as in _leads_to_x
                hit = True
                break
            if i in stopped:
                continue
            p = producer(t)
            if p is not None and reaches.get(id(p), False):
                hit = True
                break
        reaches[id(node)] = hit

    grads: dict[int, list] = {}
    for y, gy in zip(ys, grad_ys):
        grads.setdefault(id(y), []).append(gy)

    for node in reversed(order):
        if not reaches[id(node)]:
            continue
        scope = getattr(node, "gradient_scope", None)  # graph ops in a tf.cond branch
        if scope is None:
            in_grads = _node_gradients(node, grads)
        else:
            with scope():
                in_grads = _node_gradients(node, grads)
        if in_grads is None:
            continue
        for t, g in zip(node.inputs, in_grads):
            if g is not None and _leads_to_x(t, targets, stopped, producer, reaches):
                parts = grads.get(id(t))
                if parts is None:
                    grads[id(t)] = [g]
                else:
                    parts.append(g)

    return [_aggregate(grads, x) for x in xs]


def _node_gradients(node, grads):
    """The gradients of ``node``'s inputs from those of its outputs (None: nothing flows)."""
    outputs = node.outputs
    if len(outputs) == 1:  # the common case, without building lists
        g = _aggregate(grads, outputs[0])
        if g is None:
            return None
        out_grads = (g,)
    else:
        out_grads = [_aggregate(grads, t) for t in outputs]
        if all(g is None for g in out_grads):
            return None
    rule = lookup_gradient(node.grad_type)
    if rule is None:
        return None
    # rules get dense gradients unless they declare they pass IndexedSlices through,
    # and zeros for outputs without gradient unless they accept None
    none_ok, sparse_ok = gradient_inputs(node.grad_type)
    fill = not none_ok
    if (fill and None in out_grads) or (not sparse_ok and IndexedSlices in map(type, out_grads)):
        out_grads = [
            (apply_op("ZerosLike", t) if fill else None)
            if g is None
            else g
            if sparse_ok or not isinstance(g, IndexedSlices)
            else densify(g)
            for t, g in zip(outputs, out_grads)
        ]
    in_grads = rule(node, *out_grads)
    if in_grads is None or not isinstance(in_grads, list | tuple):
        in_grads = [in_grads]
    if len(in_grads) != len(node.inputs):
        raise ValueError(
            f"Gradient rule for {node.grad_type!r} returned "
            f"{len(in_grads)} gradients for {len(node.inputs)} inputs"
        )
    return in_grads


def add_gradients(parts):
    """The sum of several gradients of one tensor (kept sparse if all are IndexedSlices)."""
    key = object()
    return _aggregate({id(key): list(parts)}, key)


def _leads_to_x(t, targets, stopped, producer, reaches) -> bool:
    if id(t) in targets:  # a stopped x still receives its own gradient (TF's rule)
        return True
    if id(t) in stopped:
        return False
    node = producer(t)
    return node is not None and reaches.get(id(node), False)


def _postorder(roots, producer, stopped) -> list:
    """Nodes reachable backwards from ``roots``, each after all of its inputs' nodes."""
    order, seen = [], set()
    for root in roots:
        if root is None or id(root) in seen:
            continue
        seen.add(id(root))
        stack = [(root, iter(root.inputs))]
        while stack:
            node, it = stack[-1]
            for t in it:
                child = None if id(t) in stopped else producer(t)
                if child is not None and id(child) not in seen:
                    seen.add(id(child))
                    stack.append((child, iter(child.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _aggregate(grads: dict, t):
    parts = grads.get(id(t))
    if not parts:
        return None
    if len(parts) == 1:
        return parts[0]
    if all(isinstance(p, IndexedSlices) for p in parts):
        total = IndexedSlices(
            apply_op("ConcatV2", *[p.values for p in parts], axis=0),
            apply_op("ConcatV2", *[p.indices for p in parts], axis=0),
            parts[0].dense_shape,
        )
    else:
        total = apply_op("AddN", *[densify(p) for p in parts])
    grads[id(t)] = [total]
    return total


def densify(g):
    """A dense tensor for a gradient that may be `IndexedSlices`."""
    if isinstance(g, IndexedSlices):
        return apply_op("IndexedSlicesToDense", g.values, g.indices, g.dense_shape)
    return g
