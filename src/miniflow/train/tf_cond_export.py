"""miniflow's graph-mode ``tf.cond`` -> TensorFlow's v1 control flow (``Switch``/``Merge``).

miniflow marks the ops of a branch with a guard (``_guard``: the ``(predicate, branch)``
pairs of the enclosing conds) and its session skips them when the branch is not taken.
TensorFlow gets the same effect from dead tensors: every tensor entering a branch passes
a ``Switch`` on the predicate, so the ops of the branch not taken never run, and
``Merge`` forwards the live value. Written here as TF1's ``tf.cond`` writes it:

- a tensor read inside a branch from outside: ``Switch(t, pred)``, output 1 for the
  true branch, 0 for the false one (one per nesting level);
- a branch op without data inputs (a constant): a control input from the branch's pivot
  ``Identity(Switch(pred, pred):branch)``;
- ``CondMerge(pred, t, f)``: ``Merge([f, t])``;
- ``CondExit(g, x)`` (the gradient of an outside tensor, zeros when the branch did not
  run): ``Merge([g, ZerosLike(x switched to the other branch)])``.
"""

from __future__ import annotations

from miniflow import dtypes


def guard_of(op) -> tuple:
    return tuple(op.attrs.get("_guard") or ())


def _switch(e, ref, dtype, pred_ref, branch: bool) -> str:
    key = (ref, pred_ref, branch)
    cache = e._names.setdefault("__switches__", {})
    if key not in cache:
        base = ref.split(":")[0]
        n = len(cache)
        node = e.node("Switch", [ref, pred_ref], {"T": dtype}, name=f"{base}/_switch{n}")
        cache[(ref, pred_ref, False)] = f"{node}:0"
        cache[(ref, pred_ref, True)] = f"{node}:1"
    return cache[key]


def enter(e, tensor, ref: str, guard: tuple) -> str:
    """``ref`` (of ``tensor``) switched into ``guard`` from the tensor's own guard."""
    own = guard_of(tensor.op)
    if len(own) >= len(guard) or guard[: len(own)] != own:
        return ref
    for level in range(len(own), len(guard)):
        pred_name, branch = guard[level]
        pred = tensor.graph.get_tensor_by_name(pred_name)
        pred_ref = enter(e, pred, e.plain_ref(pred), guard[:level])
        ref = _switch(e, ref, tensor.dtype, pred_ref, bool(branch))
    return ref


def pivot(e, guard: tuple) -> str:
    """The node that is live only inside ``guard``'s innermost branch."""
    cache = e._names.setdefault("__pivots__", {})
    if guard not in cache:
        pred = e.op.graph.get_tensor_by_name(guard[-1][0])
        live = enter(e, pred, e.plain_ref(pred), guard)
        name = f"{live.split(':')[0]}/_pivot{int(bool(guard[-1][1]))}"
        cache[guard] = e.node("Identity", [live], {"T": dtypes.bool}, name=name)
    return cache[guard]


def _cond_merge(e, op):
    _, t, f = op.inputs
    e.node("Merge", [e.ref(f), e.ref(t)], {"N": 2, "T": t.dtype}, final=True)


def _cond_enter(e, op):
    e.node("Identity", [e.ref(op.inputs[0])], {"T": op.inputs[0].dtype}, final=True)


def _cond_exit(e, op):
    g, x = op.inputs
    inner = guard_of(g.op)
    pred_name, branch = inner[len(guard_of(op))]
    pred = op.graph.get_tensor_by_name(pred_name)
    pred_ref = e.ref(pred)
    other = _switch(e, e.ref(x), x.dtype, pred_ref, not branch)
    zeros = e.node("ZerosLike", [other], {"T": x.dtype})
    e.node("Merge", [e.ref(g), zeros], {"N": 2, "T": x.dtype}, final=True)


EXPORTERS = {"CondMerge": _cond_merge, "CondEnter": _cond_enter, "CondExit": _cond_exit}
