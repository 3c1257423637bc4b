"""Straight-line Python functions generated from a list of steps: the one code generator
behind `Session` plans (graph/session.py) and eager gradient plans and their matchers
(eager/gradient_plans.py).

A `Program` is a list of statements over *slots* (local variables): assign an expression
to slots (a kernel call, a load from a parameter, a conversion), return early when a
check fails, return a result. Expressions are small trees (`Call`, `Item`, `Attr`,
`Compare`, ...), so the generator knows every read and write of every slot without
looking at text. Before rendering it runs a liveness pass:

- a *pure* statement whose results nobody reads is dropped (the gradient a rule computes
  for an input that is not a source);
- a *buffer* slot (a kernel's output) is deleted right after its last use, so a plan
  holds an intermediate array only while a later step still needs it.

Why generated code rather than a loop over ``(kernel, input slots, output slots)``: the
loop costs indexing per step; the generated function runs the same calls with local
variable access only, which is most of a small model's step time. `Compiled.tag_of` maps
an exception raised inside the generated function back to the step (its ``tag``, e.g.
the graph op) that raised it, through the source line.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

_counter = itertools.count()


class Slot:
    """A local variable of a generated function. ``buffer`` slots (kernel results) are
    freed after their last use; others (parameters, loads from them) are not."""

    __slots__ = ("hint", "buffer", "name")

    def __init__(self, hint: str, buffer: bool = False):
        self.hint = hint
        self.buffer = buffer
        self.name = None

    def render(self, ctx) -> str:
        return self.name

    def slots(self):
        yield self


class Expr:
    """An expression node: `render` gives its source, `slots` the slots it reads."""

    def render(self, ctx) -> str:
        raise NotImplementedError

    def slots(self):
        for part in self._parts():
            yield from part.slots()

    def _parts(self):
        return ()


_LITERALS = (int, float, str, bytes, bool, type(None))


@dataclass
class Lit(Expr):
    """A literal written into the source (int, str, None, ...)."""

    value: object

    def __post_init__(self):
        if type(self.value) not in _LITERALS:
            raise TypeError(f"Lit takes int/float/str/bytes/bool/None, got {type(self.value)}")

    def render(self, ctx):
        return repr(self.value)


@dataclass
class Bound(Expr):
    """Any object, bound into the function's globals (kernels, constants, types)."""

    value: object

    def render(self, ctx):
        return ctx.bind(self.value)


@dataclass
class Item(Expr):
    base: Expr
    index: int

    def render(self, ctx):
        return f"{self.base.render(ctx)}[{self.index!r}]"

    def _parts(self):
        return (self.base,)


@dataclass
class Attr(Expr):
    base: Expr
    name: str

    def render(self, ctx):
        return f"{self.base.render(ctx)}.{self.name}"

    def _parts(self):
        return (self.base,)


@dataclass
class Call(Expr):
    fn: Expr
    args: tuple = ()

    def render(self, ctx):
        return f"{self.fn.render(ctx)}({', '.join(a.render(ctx) for a in self.args)})"

    def _parts(self):
        return (self.fn, *self.args)


_COMPARISONS = frozenset({"is", "is not", "==", "!="})


@dataclass
class Compare(Expr):
    left: Expr
    op: str
    right: Expr

    def __post_init__(self):
        if self.op not in _COMPARISONS:
            raise ValueError(f"unknown comparison {self.op!r}")

    def render(self, ctx):
        return f"{self.left.render(ctx)} {self.op} {self.right.render(ctx)}"

    def _parts(self):
        return (self.left, self.right)


@dataclass
class Not(Expr):
    operand: Expr

    def render(self, ctx):
        return f"not {self.operand.render(ctx)}"

    def _parts(self):
        return (self.operand,)


@dataclass
class BoolOp(Expr):
    """``(a) and (b) ...`` or ``(a) or (b) ...``."""

    op: str
    operands: tuple

    def render(self, ctx):
        if self.op not in ("and", "or") or not self.operands:
            raise ValueError(f"bad boolean operation {self.op!r} of {len(self.operands)}")
        return f" {self.op} ".join(f"({x.render(ctx)})" for x in self.operands)

    def _parts(self):
        return self.operands


@dataclass
class IfElse(Expr):
    cond: Expr
    then: Expr
    other: Expr

    def render(self, ctx):
        return f"({self.then.render(ctx)} if {self.cond.render(ctx)} else {self.other.render(ctx)})"

    def _parts(self):
        return (self.cond, self.then, self.other)


@dataclass
class Seq(Expr):
    """A tuple, list or set display."""

    kind: str
    items: tuple

    def render(self, ctx):
        inner = ", ".join(x.render(ctx) for x in self.items)
        if self.kind == "list":
            return f"[{inner}]"
        if self.kind == "set":
            if not self.items:
                raise ValueError("an empty set display is a dict")
            return f"{{{inner}}}"
        return f"({inner}{',' if len(self.items) == 1 else ''})"

    def _parts(self):
        return self.items


def as_expr(x) -> Expr | Slot:
    """Slots and expressions as they are; literals as `Lit`; anything else `Bound`."""
    if isinstance(x, Expr | Slot):
        return x
    if type(x) in _LITERALS:
        return Lit(x)
    return Bound(x)


@dataclass
class _Assign:
    targets: tuple  # slots (empty: an expression statement)
    expr: Expr
    unpack: bool  # the expression returns a sequence, one item per target
    when: Expr | None  # assign only if this holds (``if when: targets = expr``)
    pure: bool  # may be dropped when nobody reads its targets
    tag: object

    def reads(self):
        yield from self.expr.slots()
        if self.when is not None:
            yield from self.when.slots()


@dataclass
class _Exit:
    value: Expr  # returned ...
    when: Expr | None  # ... if this holds (None: always; the last statement)
    tag: object = None
    targets: tuple = ()
    pure: bool = False

    def reads(self):
        yield from self.value.slots()
        if self.when is not None:
            yield from self.when.slots()


class Program:
    """A function under construction: ``Program("plan", ["n", "ys"])``, then statements
    in execution order, then `compile`."""

    def __init__(self, kind: str, params=()):
        self.kind = kind
        self.params = [Slot(p) for p in params]
        for p in self.params:
            p.name = p.hint
        self._stmts: list = []
        self._returned = False

    def param(self, i: int) -> Slot:
        return self.params[i]

    def assign(self, targets, expr, *, unpack=False, when=None, pure=False, tag=None):
        """``targets = expr``; ``targets`` is a slot, a list of slots (``unpack``: the
        expression gives one item per slot) or ``()`` for a bare expression."""
        if self._returned:
            raise ValueError("statement after the return")
        slots = (targets,) if isinstance(targets, Slot) else tuple(targets)
        if unpack and isinstance(targets, Slot):
            raise ValueError("unpack needs a list of target slots")
        if not unpack and len(slots) > 1:
            raise ValueError("several targets need unpack=True")
        self._stmts.append(_Assign(slots, as_expr(expr), unpack, when, pure, tag))
        return targets

    def call(self, fn, args, n_out=1, *, unpack=False, guard=None, pure=False, tag=None):
        """Calls ``fn`` (bound into the function) on slots/values; returns the new buffer
        slots of its results (one slot, or a list when ``unpack``). With a ``guard``
        expression the call runs only when it holds; otherwise its results are None."""
        if n_out > 1 and not unpack:
            raise ValueError(f"a call with {n_out} results needs unpack=True")
        outs = [Slot("t", buffer=True) for _ in range(n_out)]
        expr = Call(as_expr(fn), tuple(as_expr(a) for a in args))
        if guard is not None:
            skipped = Seq("tuple", (Lit(None),) * n_out) if unpack else Lit(None)
            expr = IfElse(guard, expr, skipped)
        self.assign(outs, expr, unpack=unpack, pure=pure, tag=tag)
        return outs if unpack else (outs[0] if n_out else None)

    def exit_if(self, cond: Expr, value=False):
        """``if cond: return value`` (e.g. a matcher's failed check)."""
        self._stmts.append(_Exit(as_expr(value), cond))

    def returns(self, expr):
        self._stmts.append(_Exit(as_expr(expr), None))
        self._returned = True

    def compile(self) -> Compiled:
        if not self._returned:
            raise ValueError(f"{self.kind}: no return statement")
        stmts = _live_statements(self._stmts)
        frees = _frees(stmts)
        ctx = _Context()
        for s in self.params:
            ctx.taken.add(s.name)
        lines: list[str] = []
        tags: dict = {}
        for k, stmt in enumerate(stmts):
            for t in stmt.targets:
                if t.name is None:
                    t.name = ctx.fresh(t.hint)
            if stmt.tag is not None:
                tags[len(lines) + 2] = stmt.tag  # line 1 is the def
            lines.append(_render(stmt, ctx))
            if k in frees:
                lines.append(f"del {', '.join(s.name for s in frees[k])}")
        filename = f"<miniflow {self.kind} {next(_counter)}>"
        params = ", ".join(p.name for p in self.params)
        src = f"def {self.kind}({params}):\n" + "".join(f"    {line}\n" for line in lines)
        env = dict(ctx.env)
        exec(compile(src, filename, "exec"), env)  # noqa: S102  generated from steps
        fn = env[self.kind]
        fn.source = src  # for debugging: print(plan.fn.source)
        calls = sum(1 for s in stmts if s.when is None and any(t.buffer for t in s.targets))
        return Compiled(fn, src, filename, tags, ctx.bound, calls)


class Compiled:
    """A generated function with its source and the tag (op) behind each line."""

    __slots__ = ("fn", "source", "filename", "tags", "bound", "calls")

    def __init__(self, fn, source, filename, tags, bound, calls):
        self.fn = fn
        self.source = source
        self.filename = filename
        self.tags = tags  # source line -> tag
        self.bound = bound
        self.calls = calls  # statements that compute a result (kernel calls)

    def tag_of(self, exc: BaseException):
        """The tag of the statement of this function that ``exc`` went through last
        (the step that raised it), or None."""
        tag = None
        tb = exc.__traceback__
        while tb is not None:
            if tb.tb_frame.f_code.co_filename == self.filename:
                tag = self.tags.get(tb.tb_lineno)
            tb = tb.tb_next
        return tag


class _Context:
    def __init__(self):
        self.env: dict = {}
        self.bound: list = []  # the bound objects, in order of first use
        self._ids: dict = {}
        self.taken: set = set()
        self._n = itertools.count()

    def bind(self, value) -> str:
        name = self._ids.get(id(value))
        if name is None:
            name = self._ids[id(value)] = f"_b{len(self.bound)}"
            self.bound.append(value)  # also keeps id(value) from being reused
            self.env[name] = value
        return name

    def fresh(self, hint: str) -> str:
        name = f"{hint}{next(self._n)}"
        while name in self.taken:  # a parameter's name
            name = f"{hint}{next(self._n)}"
        return name


def _render(stmt, ctx) -> str:
    if type(stmt) is _Exit:
        ret = f"return {stmt.value.render(ctx)}"
        return ret if stmt.when is None else f"if {stmt.when.render(ctx)}: {ret}"
    expr = stmt.expr.render(ctx)
    if stmt.targets:
        names = ", ".join(t.name for t in stmt.targets)
        expr = f"{names}{',' if stmt.unpack else ''} = {expr}"
    return expr if stmt.when is None else f"if {stmt.when.render(ctx)}: {expr}"


def _live_statements(stmts) -> list:
    """The statements without the pure ones whose targets nobody reads later."""
    live: set = set()
    kept = []
    for stmt in reversed(stmts):
        if stmt.pure and not any(t in live for t in stmt.targets):
            continue
        if stmt.when is None:
            live.difference_update(stmt.targets)
        live.update(stmt.reads())
        kept.append(stmt)
    kept.reverse()
    return kept


def _frees(stmts) -> dict:
    """statement index -> buffer slots to delete after it (their last use), leaving out
    those the function returns (a return frees every local anyway)."""
    last: dict = {}
    for k, stmt in enumerate(stmts):
        for s in itertools.chain(stmt.targets, stmt.reads()):
            if s.buffer:
                last[s] = k
    out: dict = {}
    for s, k in last.items():
        final = stmts[k]
        if type(final) is not _Exit or final.when is not None:
            out.setdefault(k, []).append(s)
    return out
