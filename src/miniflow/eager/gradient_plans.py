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
other state), nor one that ran a stateful kernel (random ops, variable reads).
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from miniflow import dtypes
from miniflow.core.indexed_slices import IndexedSlices
from miniflow.core.registry import gradient_generation, kernel_attrs
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
_counter = itertools.count()


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
    """tensor -> where a plan finds the tensor of a later tape with the same key."""
    paths: dict = {}
    for k, (_, inputs, outputs, _) in enumerate(nodes):
        for j, t in enumerate(inputs):
            paths.setdefault(t, f"n[{k}][1][{j}]")
        for j, t in enumerate(outputs):
            paths.setdefault(t, f"n[{k}][2][{j}]")
    for group, name in ((ys, "ys"), (xs, "xs")):
        for j, t in enumerate(group):
            paths.setdefault(t, f"{name}[{j}]")
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
        return entry is _SEEN or type(entry) is tuple

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
        spec = _generate(trace, _paths(ops, ys, xs), result) if trace.clean else None
        entry = self._entries.get(key)
        if spec is None:
            self._store(key, _UNCACHEABLE)
        elif entry is None or entry is _SEEN:
            self._store(key, spec)
        elif type(entry) is tuple:
            if _same_spec(entry, spec):
                plan = _build(spec)
                self._store(key, plan)
                try:
                    match = _matcher(ops, producer, ys, xs, groups, unconnected)
                except Uncacheable:
                    return
                filed = self._by_length.setdefault(len(ops), [])
                filed.insert(0, (match, plan, key, len(spec[2])))
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


def _matcher(ops, producer, ys, xs, groups, unconnected):
    """``match(ops, ys, xs, groups, unconnected)``: True iff a tape's `signature` would
    equal the one of the tape given — the same checks, unrolled for this structure."""
    env = {"_describe": _describe, "_attrs_key": _attrs_key, "G": list(groups), "U": unconnected}
    body = [
        f"if len(n) != {len(ops)} or len(ys) != {len(ys)} or len(xs) != {len(xs)} "
        f"or groups != G or unconnected != U: return False"
    ]
    names: dict = {}  # tensor -> local name (leaves and op outputs)
    leaves: list = []
    checks: list = []

    def describe_check(name, t):
        v = t._value
        kind = type(v)
        if kind in _FLOAT_SCALARS:
            env[f"T_{name}"] = kind
            checks.append(f"type({name}._value) is not T_{name}")
        else:
            env[f"D_{name}"] = _describe(v)
            checks.append(f"_describe({name}._value) != D_{name}")

    def refer(t, expr):
        """Checks that ``expr`` (a tensor of the new tape) stands where ``t`` stood."""
        name = names.get(t)
        if name is not None:
            checks.append(f"{expr} is not {name}")
            return
        p = producer.get(t)
        if p is not None:  # an output of a later op cannot be an input: topological
            raise AssertionError("tape ops out of order")
        name = names[t] = f"l{len(leaves)}"
        leaves.append(name)
        body.append(f"{name} = {expr}")
        describe_check(name, t)

    for k, (opdef, inputs, outputs, attrs) in enumerate(ops):
        env[f"O{k}"] = opdef
        body.append(f"o{k}, i{k}, q{k}, a{k} = n[{k}]")
        checks.append(
            f"o{k} is not O{k} or len(i{k}) != {len(inputs)} or len(q{k}) != {len(outputs)}"
        )
        if attrs:
            env[f"A{k}"] = _attrs_key(attrs)  # raises Uncacheable as the key would
            checks.append(f"_attrs_key(a{k}) != A{k}")
        else:
            checks.append(f"a{k}")
        _flush(body, checks)
        for j, t in enumerate(inputs):
            refer(t, f"i{k}[{j}]")
        for j, t in enumerate(outputs):
            name = names[t] = f"q{k}_{j}"
            body.append(f"{name} = q{k}[{j}]")
            describe_check(name, t)
        _flush(body, checks)
    for group, label in ((ys, "ys"), (xs, "xs")):
        for j, t in enumerate(group):
            refer(t, f"{label}[{j}]")
    _flush(body, checks)
    # distinct leaves, none of them an op output (as `signature`'s identity dicts)
    every = leaves + [n for t, n in names.items() if n.startswith("q")]
    body.append(
        f"if len({{{', '.join(every)}}}) != {len(every)}: return False" if every else "pass"
    )
    body.append("return True")
    src = "def match(n, ys, xs, groups, unconnected):\n" + "".join(f"    {line}\n" for line in body)
    exec(compile(src, f"<miniflow plan matcher {next(_counter)}>", "exec"), env)  # noqa: S102
    env["match"].source = src
    return env["match"]


def _flush(body, checks):
    if checks:
        body.append(f"if {' or '.join(f'({c})' for c in checks)}: return False")
        checks.clear()


def _generate(trace, paths, result):
    """(source, constants, kernels, dtypes) of a plan ``plan(n, ys, xs) -> gradients``
    over a tape's ops, targets and sources; None if the trace holds something a plan
    cannot replay. Kernels whose outputs the gradients do not need (the other input's
    gradient of a rule) are left out."""
    names = {t: f"v{i}" for i, t in enumerate(paths)}
    consts: list = []

    def name_of(t):
        n = names.get(t)
        if n is None:
            n = names[t] = f"c{len(consts)}"
            consts.append(t._value)
        return n

    steps = []  # (kernel name, opdef, kernel attrs, input names, output names, lines)
    for k, (opdef, inputs, outputs, attrs) in enumerate(trace.ops):
        args = [name_of(t) for t in inputs]
        outs = [f"t{k}_{j}" for j in range(len(outputs))]
        names.update(zip(outputs, outs))
        call = f"k{k}({', '.join(args)})"
        lines = [
            f"{outs[0]} = {call}"
            if opdef.num_outputs == 1
            else f"{', '.join(outs)}, = {call}"
            if outs
            else call
        ]
        for t, n in zip(outputs, outs):  # as executor.normalize does
            if type(t._value) is np.ndarray:
                lines.append(f"if type({n}) is not _nd: {n} = _asarray({n})")
            elif isinstance(t._value, np.generic):
                lines.append(f"if type({n}) is _nd: {n} = {n}[()]")
            else:
                return None
        steps.append(
            (f"k{k}", opdef, kernel_attrs(opdef, attrs) if attrs else {}, args, outs, lines)
        )

    dts: list = []

    def wrapped(t):
        dts.append(t.dtype)
        return f"_E({name_of(t)}, _d{len(dts) - 1})"

    items = []
    for g in result:
        if g is None:
            items.append("None")
        elif type(g) is EagerTensor:
            items.append(wrapped(g))
        elif (
            type(g) is IndexedSlices
            and type(g.values) is EagerTensor
            and type(g.indices) is EagerTensor
        ):
            ds = g.dense_shape
            ds = wrapped(ds) if type(ds) is EagerTensor else name_of(_Const(ds))
            items.append(f"_IS({wrapped(g.values)}, {wrapped(g.indices)}, {ds})")
        else:
            return None
    ret = f"return [{', '.join(items)}]"

    needed = set(ret.replace("(", " ").replace(")", " ").replace(",", " ").split())
    kept = []
    for step in reversed(steps):
        if needed.intersection(step[4]):
            needed.update(step[3])
            kept.append(step)
    kept.reverse()
    body = [f"v{i} = {path}._value" for i, path in enumerate(paths.values()) if f"v{i}" in needed]
    kernels = []
    for name, opdef, kattrs, _, _, lines in kept:
        try:
            kernels.append(
                (
                    name,
                    opdef,
                    _attrs_key(kattrs) if kattrs else (),
                    functools.partial(opdef.forward, **kattrs) if kattrs else opdef.forward,
                )
            )
        except Uncacheable:
            return None
        body.extend(lines)
    body.append(ret)
    src = "def plan(n, ys, xs):\n" + "".join(f"    {line}\n" for line in body)
    return src, consts, kernels, dts


class _Const:
    """A non-tensor constant in the result (an IndexedSlices' dense_shape tuple)."""

    __slots__ = ("_value",)

    def __init__(self, value):
        self._value = value


def _same_spec(a, b) -> bool:
    (src_a, consts_a, kernels_a, dts_a), (src_b, consts_b, kernels_b, dts_b) = a, b
    return (
        src_a == src_b
        and dts_a == dts_b
        and len(consts_a) == len(consts_b)
        and all(ka[:3] == kb[:3] for ka, kb in zip(kernels_a, kernels_b))
        and all(_same_value(x, y) for x, y in zip(consts_a, consts_b))
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


def _build(spec):
    src, consts, kernels, dts = spec
    env = {"_nd": np.ndarray, "_asarray": np.asarray, "_E": EagerTensor, "_IS": IndexedSlices}
    env.update({f"c{i}": c for i, c in enumerate(consts)})
    env.update({name: fn for name, _, _, fn in kernels})
    env.update({f"_d{i}": d for i, d in enumerate(dts)})
    fname = f"<miniflow gradient plan {next(_counter)}>"
    exec(compile(src, fname, "exec"), env)  # noqa: S102  generated from a trace, not user text
    fn = env["plan"]
    fn.source = src  # for debugging: print(fn.source)
    return fn


PLANS = GradientPlans()
