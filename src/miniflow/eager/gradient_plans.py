"""Gradient plans: `GradientTape.gradient` replays the kernels of an earlier backward pass
over a tape of the same structure, instead of walking the gradient rules again.

An eager training step records the same ops on its tape every time: the same op types,
attrs, wiring, shapes and dtypes. The tape's structure is the key. The second and third
time a key is differentiated, the sweep runs as usual while the executor logs every
kernel it calls; when both logs agree (the same kernels, attrs and constants), they
become one generated function of kernel calls — the Session's compiled plan, for eager
mode — and a generated matcher that recognizes the structure. Later steps whose tape the
matcher accepts pass the recorded values to the plan and get the gradients back.

Gradient rules look at shapes, dtypes and attrs, all part of the key. A pass in which
Python code read a tensor's value (``numpy()``, ``float()``, a constant-folding shape
helper) is never compiled, nor one whose two logs disagree (a rule that consulted some
other state), nor one that ran a stateful kernel (random ops, variable reads), nor a tape
with an op whose gradient rule is not miniflow's own (user rules may read Python state).
"""

from __future__ import annotations

import functools

import numpy as np

from miniflow import dtypes
from miniflow.core.codegen import Attr, BoolOp, Bound, Call, Compare, Item, Lit, Program, Seq, Slot
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import gradient_generation, kernel_attrs, lookup_gradient
from miniflow.core.shapes import TensorShape
from miniflow.eager.tensor import EagerTensor

_MAX_PLANS = 512
_MAX_ATTR_ARRAY = 64  # larger array attrs make a tape uncacheable
_MAX_MATCHERS = 8  # plans filed per tape length (most recently compiled first)
# Tracing and compiling a plan costs about _COST_PER_KERNEL kernel calls of the sweep per
# kernel it logs. The credit (in kernel calls) starts at _FIRST_CREDIT, grows by the
# kernels each replay skips, and, while it is spent, by a small share of each sweep's
# size: a steady training loop gets its plan at once, a model whose structure changes at
# every step spends at most a few percent of its time on plans it never replays.
_COST_PER_KERNEL = 12
_FIRST_CREDIT = 4000.0
_MAX_CREDIT = 20000.0
_SWEEP_SHARE = 0.5  # credit per recorded op of a sweep run while in debt (at least 8)
_MAX_DEBT = 2000.0  # so a small model after a large, ever-changing one gets its plan soon
_UNCACHEABLE = object()
_SEEN = object()


class Uncacheable(Exception):
    """The tape holds something a key cannot describe (an unhashable attr)."""


_PLAIN = frozenset({int, float, str, bool, type(None), type(Ellipsis), dtypes.DType, bytes})


def _freeze(v):
    """A hashable stand-in for an attr value (raises Uncacheable for anything else)."""
    kind = type(v)
    if kind in _PLAIN:
        return v
    if kind is slice:
        return (kind, _freeze(v.start), _freeze(v.stop), _freeze(v.step))
    if kind is tuple or kind is list:
        return (kind,) + tuple(_freeze(x) for x in v)
    if kind is TensorShape:
        return (kind, v.as_tuple())
    if kind is np.ndarray and v.size <= _MAX_ATTR_ARRAY:
        return (kind, v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, np.generic):
        return (kind, v.item())
    raise Uncacheable(f"attr of type {kind.__name__}")


def _attrs_key(attrs):
    return tuple((k, _freeze(v)) for k, v in attrs.items())


_FLOAT_SCALARS = frozenset({np.float16, np.float32, np.float64, np.complex64, np.complex128})


def _describe(v):
    """What the key records of one value: its dtype and shape (a NumPy scalar: its type)."""
    kind = type(v)
    if kind is np.ndarray:
        return (v.dtype, v.shape)
    return kind


def signature(nodes, produced, ys, xs, extra):
    """The key of a tape: its recorded ops ``(opdef, inputs, outputs, attrs)`` in order,
    each input named by the op output that made it (``produced``: tensor -> op index,
    or (op index, output index) for multi-output ops) or as a leaf (described where first
    seen), the description of each output, then the targets and sources.

    One flat tuple, cheap to hash. Its tokens are op types (str), attrs (tuple or None),
    input counts and references (int, or a tuple of ints), and descriptions (a type, or
    a tuple starting with a dtype); a token of one kind never equals one of another, so
    two different tapes never share a key.
    """
    leaves: dict = {}
    key: list = [extra]
    add = key.append

    def ref(t):
        p = produced.get(t)
        if p is None:
            p = leaves.get(t)
            if p is None:
                p = leaves[t] = -1 - len(leaves)
                add(_describe(t._value))
        return p

    for opdef, inputs, outputs, attrs in nodes:
        add(opdef.type)
        add(_attrs_key(attrs) if attrs else None)
        add(len(inputs))
        for t in inputs:
            add(ref(t))
        for t in outputs:
            add(_describe(t._value))
    for group in (ys, xs):
        add(len(group))
        for t in group:
            add(ref(t))
    return tuple(key)


def _paths(nodes, ys, xs) -> dict:
    """tensor -> where a plan finds the tensor of a later tape with the same key: a
    parameter of the plan (0: the tape's ops, 1: ys, 2: xs) and the indices into it."""
    paths: dict = {}
    for k, (_, inputs, outputs, _) in enumerate(nodes):
        for j, t in enumerate(inputs):
            paths.setdefault(t, (0, k, 1, j))
        for j, t in enumerate(outputs):
            paths.setdefault(t, (0, k, 2, j))
    for param, group in ((1, ys), (2, xs)):
        for j, t in enumerate(group):
            paths.setdefault(t, (param, j))
    return paths


class Trace:
    """The kernels run while a tape is differentiated, as the executor reports them."""

    def __init__(self):
        self.ops: list = []  # (opdef, inputs, outputs, attrs)
        self.clean = True

    def taint(self):
        """Python code read a value: the pass depends on more than the key."""
        self.clean = False

    def log(self, opdef, inputs, outputs, attrs):
        if opdef.stateful:
            self.clean = False
        self.ops.append((opdef, inputs, outputs, attrs))


class GradientPlans:
    """key -> the trace seen first, then the compiled plan (or a mark: never compile).

    Compiled plans are also filed by the number of recorded ops with a generated
    matcher: straight-line checks that a tape has exactly the structure of the plan's
    key. A training step finds its plan that way, without building the key.
    """

    def __init__(self, max_plans=_MAX_PLANS):
        self._entries: dict = {}
        self._by_length: dict = {}  # number of tape ops -> [(matcher, plan, key)]
        self._max = max_plans
        self._generation = gradient_generation()
        self.compiled = 0  # plans built (tests check that a step's plan is built once)
        self._credit = _FIRST_CREDIT  # kernel calls that tracing and compiling may cost
        self.enabled = True  # False: every gradient runs the sweep (tests compare both)

    def find(self, tape_ops, ys, xs, groups, unconnected):
        """(plan, key) of a compiled plan whose structure the tape has, or None."""
        if self._generation != gradient_generation():  # a gradient rule was replaced
            self.clear()
        for match, plan, key, size in self._by_length.get(len(tape_ops), ()):
            if match(tape_ops, ys, xs, groups, unconnected):
                self._credit = min(self._credit + size, _MAX_CREDIT)
                return plan, key
        return None

    def wants_trace(self, key) -> bool:
        """Whether the sweep for ``key`` should be logged: not the first time a key is
        seen (a structure seen once may never come back: logging and generating code
        for it would only slow down models whose structure changes every step), then
        twice, to be compiled."""
        entry = self._entries.get(key)
        if entry is None:
            self._store(key, _SEEN)
            return False
        return entry is _SEEN or type(entry) is _Spec

    def in_debt(self, tape_ops) -> bool:
        """True while tracing has cost more than plans saved (structures keep changing):
        then the tape is not even keyed, and its sweep earns a little credit back."""
        if self._credit >= 0:
            return False
        self._credit = max(self._credit, -_MAX_DEBT) + max(len(tape_ops) * _SWEEP_SHARE, 8)
        return True

    def offer(self, key, trace, tape, result):
        """Takes a finished trace: the first is kept, the second compiled if they agree.
        ``tape`` is (ops, producer, ys, xs, groups, unconnected) of the traced tape."""
        ops, producer, ys, xs, groups, unconnected = tape
        self._credit -= len(trace.ops) * _COST_PER_KERNEL
        replayable = trace.clean and all(_shipped_rule(op[0].type) for op in ops)
        spec = _generate(trace, _paths(ops, ys, xs), result) if replayable else None
        entry = self._entries.get(key)
        if spec is None:
            self._store(key, _UNCACHEABLE)
        elif entry is None or entry is _SEEN:
            self._store(key, spec)
        elif type(entry) is _Spec:
            if _same_spec(entry, spec):
                compiled = spec.program.compile()
                plan = compiled.fn
                self._store(key, plan)
                try:
                    match = _matcher(ops, producer, ys, xs, groups, unconnected)
                except Uncacheable:
                    return
                filed = self._by_length.setdefault(len(ops), [])
                filed.insert(0, (match, plan, key, compiled.calls))
                del filed[_MAX_MATCHERS:]
                self.compiled += 1
            else:
                self._store(key, _UNCACHEABLE)

    def forget(self, key):
        self._store(key, _UNCACHEABLE)

    def clear(self):
        self._entries.clear()
        self._by_length.clear()
        self.compiled = 0
        self._credit = _FIRST_CREDIT
        self._generation = gradient_generation()

    def _store(self, key, entry):
        if key not in self._entries and len(self._entries) >= self._max:
            del self._entries[next(iter(self._entries))]
        old = self._entries.get(key)
        if callable(old):
            for filed in self._by_length.values():
                filed[:] = [f for f in filed if f[1] is not old]
        self._entries[key] = entry


def _shipped_rule(op_type) -> bool:
    """Whether the gradient rule of ``op_type`` is miniflow's own (or there is none).

    A rule registered by user code may read Python state (a gradient reversal layer's
    scale schedule, a flag): TF runs it at every step, so must we. Two traces that agree
    only show the state did not change *yet*; a compiled plan would keep the old value.
    """
    try:
        rule = lookup_gradient(op_type)
    except LookupError:
        return True
    module = getattr(rule, "__module__", None) or ""
    return rule is None or module == "miniflow" or module.startswith("miniflow.")


def _matcher(ops, producer, ys, xs, groups, unconnected):
    """``match(ops, ys, xs, groups, unconnected)``: True iff a tape's `signature` would
    equal the one of the tape given — the same checks, unrolled for this structure."""
    prog = Program("match", ["n", "ys", "xs", "groups", "unconnected"])
    n, p_ys, p_xs, p_groups, p_unconnected = prog.params
    length = Bound(len)
    prog.exit_if(
        BoolOp(
            "or",
            (
                Compare(Call(length, (n,)), "!=", Lit(len(ops))),
                Compare(Call(length, (p_ys,)), "!=", Lit(len(ys))),
                Compare(Call(length, (p_xs,)), "!=", Lit(len(xs))),
                Compare(p_groups, "!=", Bound(list(groups))),
                Compare(p_unconnected, "!=", Lit(unconnected)),
            ),
        )
    )
    names: dict = {}  # tensor -> slot (leaves and op outputs)
    leaves: list = []
    outputs_seen: list = []
    checks: list = []

    def describe_check(slot, t):
        v = Attr(slot, "_value")
        kind = type(t._value)
        if kind in _FLOAT_SCALARS:
            checks.append(Compare(Call(Bound(type), (v,)), "is not", Bound(kind)))
        else:
            checks.append(Compare(Call(Bound(_describe), (v,)), "!=", Bound(_describe(t._value))))

    def refer(t, expr):
        """Checks that ``expr`` (a tensor of the new tape) stands where ``t`` stood."""
        slot = names.get(t)
        if slot is not None:
            checks.append(Compare(expr, "is not", slot))
            return
        if producer.get(t) is not None:  # an output of a later op cannot be an input
            raise AssertionError("tape ops out of order")
        slot = names[t] = prog.assign(Slot("l"), expr)
        leaves.append(slot)
        describe_check(slot, t)

    def flush():
        if checks:
            prog.exit_if(BoolOp("or", tuple(checks)))
            checks.clear()

    for k, (opdef, inputs, outputs, attrs) in enumerate(ops):
        o, i, q, a = prog.assign([Slot(x) for x in "oiqa"], Item(n, k), unpack=True)
        checks.append(Compare(o, "is not", Bound(opdef)))
        checks.append(Compare(Call(length, (i,)), "!=", Lit(len(inputs))))
        checks.append(Compare(Call(length, (q,)), "!=", Lit(len(outputs))))
        if attrs:  # _attrs_key raises Uncacheable as the key would
            checks.append(Compare(Call(Bound(_attrs_key), (a,)), "!=", Bound(_attrs_key(attrs))))
        else:
            checks.append(a)
        flush()
        for j, t in enumerate(inputs):
            refer(t, Item(i, j))
        for j, t in enumerate(outputs):
            slot = names[t] = prog.assign(Slot("q"), Item(q, j))
            outputs_seen.append(slot)
            describe_check(slot, t)
        flush()
    for group, param in ((ys, p_ys), (xs, p_xs)):
        for j, t in enumerate(group):
            refer(t, Item(param, j))
    flush()
    # distinct leaves, none of them an op output (as `signature`'s identity dicts)
    every = tuple(leaves + outputs_seen)
    if every:
        prog.exit_if(Compare(Call(length, (Seq("set", every),)), "!=", Lit(len(every))))
    prog.returns(True)
    return prog.compile().fn


def _generate(trace, paths, result):
    """A `_Spec` of the plan ``plan(n, ys, xs) -> gradients`` over a tape's ops,
    targets and sources; None if the trace holds something a plan cannot replay. Kernels
    whose outputs the gradients do not need (the other input's gradient of a rule) are
    left out by the code generator's liveness pass."""
    prog = Program("plan", ["n", "ys", "xs"])
    exprs: dict = {}  # tensor -> slot or bound constant
    refs: dict = {}  # tensor -> how the structure key names it
    consts: list = []
    key: list = []

    def value_of(t):
        e = exprs.get(t)
        if e is None:
            path = paths.get(t)
            if path is None:
                refs[t] = ("c", len(consts))
                consts.append(t._value)
                e = Bound(t._value)
            else:
                refs[t] = path
                e = prog.param(path[0])
                for i in path[1:]:
                    e = Item(e, i)
                e = prog.assign(Slot("v"), Attr(e, "_value"), pure=True)
            exprs[t] = e
        return e

    is_not, is_ = "is not", "is"
    for k, (opdef, inputs, outputs, attrs) in enumerate(trace.ops):
        kattrs = kernel_attrs(opdef, attrs) if attrs else {}
        try:
            akey = _attrs_key(kattrs) if kattrs else ()
        except Uncacheable:
            return None
        kernel = functools.partial(opdef.forward, **kattrs) if kattrs else opdef.forward
        args = [value_of(t) for t in inputs]
        unpack = opdef.num_outputs != 1
        outs = prog.call(kernel, args, len(outputs), unpack=unpack, pure=True)
        outs = outs if unpack else [outs]
        coerced = []
        for j, (t, slot) in enumerate(zip(outputs, outs)):  # as executor.normalize does
            exprs[t], refs[t] = slot, ("t", k, j)
            found = Call(Bound(type), (slot,))
            if type(t._value) is np.ndarray:
                when, fix, coerced_to = Compare(found, is_not, Bound(np.ndarray)), np.asarray, "a"
            elif isinstance(t._value, np.generic):
                when, fix, coerced_to = Compare(found, is_, Bound(np.ndarray)), None, "s"
            else:
                return None
            fixed = Call(Bound(fix), (slot,)) if fix is not None else Item(slot, ())
            prog.assign(slot, fixed, when=when, pure=True)
            coerced.append(coerced_to)
        key.append((opdef, akey, tuple(refs[t] for t in inputs), tuple(coerced)))

    dts: list = []

    def wrapped(t):
        dts.append(t.dtype)
        return Call(Bound(EagerTensor), (value_of(t), Bound(t.dtype)))

    items = []
    for g in result:
        if g is None:
            items.append(Lit(None))
        elif type(g) is EagerTensor:
            items.append(wrapped(g))
        elif (
            type(g) is IndexedSlices
            and type(g.values) is EagerTensor
            and type(g.indices) is EagerTensor
        ):
            ds = g.dense_shape
            ds = wrapped(ds) if type(ds) is EagerTensor else value_of(_Const(ds))
            items.append(Call(Bound(IndexedSlices), (wrapped(g.values), wrapped(g.indices), ds)))
        else:
            return None
        key.append(("r", type(g), tuple(refs.get(t) for t in _parts_of(g))))
    prog.returns(Seq("list", tuple(items)))
    return _Spec(tuple(key), consts, dts, prog)


def _parts_of(g):
    if g is None:
        return ()
    if type(g) is IndexedSlices:
        return (g.values, g.indices, g.dense_shape)
    return (g,)


class _Const:
    """A non-tensor constant in the result (an IndexedSlices' dense_shape tuple)."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value


class _Spec:
    """A plan before compiling: its structure key (kernels, attrs, wiring), the constant
    values and result dtypes, and the program. Two traces agree if all but the program
    are equal."""

    __slots__ = ("key", "consts", "dts", "program")

    def __init__(self, key, consts, dts, program):
        self.key, self.consts, self.dts, self.program = key, consts, dts, program


def _same_spec(a, b) -> bool:
    return (
        a.key == b.key
        and a.dts == b.dts
        and len(a.consts) == len(b.consts)
        and all(_same_value(x, y) for x, y in zip(a.consts, b.consts))
    )


def _same_value(x, y) -> bool:
    if isinstance(x, np.ndarray | np.generic) or isinstance(y, np.ndarray | np.generic):
        x, y = np.asarray(x), np.asarray(y)
        return (
            x.dtype == y.dtype
            and x.shape == y.shape
            and bool(np.array_equal(x, y, equal_nan=x.dtype.kind in "fc"))
        )
    return type(x) is type(y) and x == y


PLANS = GradientPlans()
