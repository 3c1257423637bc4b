"""TF1 while loops (``Enter``/``Merge``/``Switch``/``LoopCond``/``NextIteration``/``Exit``
frames) imported as miniflow ``While`` ops.

TF1 writes a loop as a cycle of nodes in a named frame. Each frame is rebuilt as one
``While`` op of `ops/functional_ops.py`: its loop variables are the frame's ``Merge``
nodes (started by an ``Enter``, continued by a ``NextIteration``), the condition is what
feeds ``LoopCond``, the body is every other node of the frame (read through the
``Switch``'s true output), constant ``Enter``s are captures and the ``Exit``s are the op's
outputs. A frame inside a frame becomes a ``While`` in the body of the outer one. The
frame of a node follows TF's executor: an ``Enter`` moves into its ``frame_name``, an
``Exit`` back to the parent, every other node is in the frame of its inputs.

TensorArrays and the Stacks of TF1's loop gradients are mutable handles
(`ops/tf_graph_ops.py`), so the body runs every op of the frame once per iteration, in
dataflow order, as TF's executor does.
"""

from __future__ import annotations

from miniflow.core.shapes import TensorShape
from miniflow.ops.functional_ops import _SubGraph
from miniflow.train.tf_proto_values import bad

STRUCTURAL = frozenset("Enter Exit NextIteration LoopCond".split())
ROOT = ""


class Frames:
    """The frame of every node of a GraphDef, and what each frame holds."""

    def __init__(self, nodes: dict, skipped: set):
        self.nodes = nodes
        self.frame: dict = {}  # node name -> frame name (ROOT outside loops)
        self.parent: dict = {}  # frame name -> enclosing frame name
        for name in nodes:
            if name not in skipped:
                self._frame_of(name)
        self.members: dict = {}  # frame -> its own nodes (not nested frames' nodes)
        for name, f in self.frame.items():
            node = nodes[name]
            if node.op == "Exit":
                continue
            self.members.setdefault(f, []).append(name)
        self.exits: dict = {}  # frame -> its Exit nodes
        for name, node in nodes.items():
            if node.op == "Exit" and name in self.frame:
                self.exits.setdefault(self._src_frame(node), []).append(name)

    def _src_frame(self, node):
        return self.frame[_data(node)[0].split(":")[0]] if _data(node) else ROOT

    def _inputs_for_frame(self, node):
        """The inputs that decide ``node``'s frame (a loop ``Merge`` skips its
        ``NextIteration``, which closes the cycle)."""
        refs = [r.lstrip("^").split(":")[0] for r in node.input]
        if node.op == "Merge":
            refs = [r for r in refs if self.nodes.get(r) and self.nodes[r].op != "NextIteration"]
        return [r for r in refs if r in self.nodes]

    def _frame_of(self, start):
        stack = [start]
        while stack:
            name = stack[-1]
            if name in self.frame:
                stack.pop()
                continue
            node = self.nodes[name]
            refs = self._inputs_for_frame(node)
            todo = [r for r in refs if r not in self.frame]
            if todo:
                if len(stack) > len(self.nodes):
                    raise bad(f"node '{name}'", "the graph has a cycle outside a while loop")
                if any(t in stack for t in todo):
                    raise bad(
                        f"node '{name}'",
                        "the graph has a cycle that is not a TF1 while loop "
                        "(only a NextIteration may feed a Merge back)",
                    )
                stack.extend(todo)
                continue
            stack.pop()
            if node.op == "Merge" and any(  # a loop Merge
                self.nodes.get(_name(r)) and self.nodes[_name(r)].op == "NextIteration"
                for r in _data(node)
            ):
                if len(_data(node)) != 2 or not refs or self.nodes[refs[0]].op != "Enter":
                    raise bad(
                        f"node '{name}' (op Merge)",
                        "a loop Merge needs one Enter and one NextIteration input",
                    )
            outer = self.frame[refs[0]] if refs else ROOT
            if node.op == "Enter":
                attr = node.attr["frame_name"] if "frame_name" in node.attr else None
                f = attr.s.decode("utf-8", "replace") if attr is not None else ""
                if not f:
                    raise bad(f"node '{name}' (op Enter)", "an Enter needs a frame_name")
                if self.parent.setdefault(f, outer) != outer:
                    raise bad(
                        f"node '{name}' (op Enter)", f"frame '{f}' is entered from two frames"
                    )
                self.frame[name] = f
            elif node.op == "Exit":
                if outer == ROOT:
                    raise bad(f"node '{name}' (op Exit)", "an Exit outside any while loop")
                self.frame[name] = self.parent[outer]
            else:
                self.frame[name] = outer

    def unit(self, name, within=ROOT):
        """The frame directly inside ``within`` that holds ``name`` (an ``Exit`` counts
        as part of the frame it leaves), or None if ``name`` is ``within``'s own node."""
        node = self.nodes[name]
        f = self._src_frame(node) if node.op == "Exit" else self.frame[name]
        if f == within:
            return None
        while self.parent.get(f, ROOT) != within:
            if f == ROOT:
                return None
            f = self.parent[f]
        return f

    def subtree(self, frame) -> list:
        """Every node a frame and its nested frames hold, their Exits included."""
        out, todo = [], [frame]
        while todo:
            f = todo.pop()
            out += self.members.get(f, []) + self.exits.get(f, [])
            todo += [c for c, p in self.parent.items() if p == f]
        return out


def _data(node):
    return [r for r in node.input if not r.startswith("^")]


def _name(ref):
    return ref.lstrip("^").split(":")[0]


class _Loop:
    """The structure of one frame, checked."""

    def __init__(self, imp_, frames, f):
        self.f = f
        where = f"while loop frame '{f}'"
        nodes = imp_.nodes
        own = frames.members.get(f, [])
        conds = [n for n in own if nodes[n].op == "LoopCond"]
        if len(conds) != 1:
            raise bad(where, f"needs exactly one LoopCond node, found {len(conds)}")
        self.loop_cond = conds[0]
        self.merges = [
            n
            for n in own
            if nodes[n].op == "Merge"
            and any(
                nodes.get(_name(r)) and nodes[_name(r)].op == "NextIteration"
                for r in _data(nodes[n])
            )
        ]
        self.enter_of, self.next_of = {}, {}
        for m in self.merges:
            ins = _data(nodes[m])
            nxt = [r for r in ins if nodes[_name(r)].op == "NextIteration"]
            ent = [r for r in ins if nodes[_name(r)].op == "Enter"]
            if len(ins) != 2 or len(nxt) != 1 or len(ent) != 1:
                raise bad(
                    f"node '{m}' (op Merge)",
                    "a loop Merge needs one Enter and one NextIteration input",
                )
            self.enter_of[m], self.next_of[m] = _name(ent[0]), _name(nxt[0])
        self.switch_of = {}
        for n in own:
            node = nodes[n]
            if (
                node.op == "Switch"
                and len(_data(node)) == 2
                and _name(_data(node)[1]) == self.loop_cond
            ):
                m = _name(_data(node)[0])
                if m not in self.enter_of:
                    raise bad(f"node '{n}' (op Switch)", "a loop Switch must switch a loop Merge")
                self.switch_of[n] = m
        for n in own:
            if nodes[n].op == "NextIteration" and n not in self.next_of.values():
                raise bad(f"node '{n}' (op NextIteration)", "feeds no loop Merge")
        self.exits = [e for e in frames.exits.get(f, []) if _data(nodes[e])]
        if len(self.exits) != len(frames.exits.get(f, [])):
            raise bad(where, "an Exit needs an input")
        loop_enters = set(self.enter_of.values())
        self.constants = [n for n in own if nodes[n].op == "Enter" and n not in loop_enters]
        structural = loop_enters | set(self.merges) | set(self.switch_of) | {self.loop_cond}
        structural |= set(self.next_of.values()) | set(self.constants)
        compute = [n for n in own if n not in structural]
        # the exit path: nodes fed (through data) by a loop Switch's false output run
        # once, on the final values, after the loop
        exit_refs = {sw for sw in self.switch_of} | {f"{sw}:0" for sw in self.switch_of}
        self.after: list = []
        grow = True
        while grow:
            grow = False
            for n in compute:
                if n not in self.after and any(
                    r in exit_refs or _name(r) in self.after for r in _data(nodes[n])
                ):
                    self.after.append(n)
                    grow = True
        self.compute = [n for n in compute if n not in self.after]


def build_frame(imp_, frames, f) -> None:
    """Adds frame ``f`` (and the frames inside it) to the graph as one ``While`` op
    (``imp_`` is `tf_graph_proto`'s importer)."""
    NodeBuilder = imp_.node_builder  # noqa: N806
    loop = _Loop(imp_, frames, f)
    nodes, graph = imp_.nodes, imp_.graph
    for e in loop.constants:
        src = _data(nodes[e])
        if not src:
            raise bad(f"node '{e}' (op Enter)", "an Enter needs an input")
        t = imp_.resolve(src[0], f"node '{e}'")
        imp_.built[e], imp_.ops[e] = [t], t.op
    start = len(graph._ops)
    phs, inits = [], []
    for m in loop.merges:
        enter = nodes[loop.enter_of[m]]
        init = imp_.resolve(_data(enter)[0], f"node '{enter.name}'")
        b = NodeBuilder(imp_, nodes[m], f"node '{m}'")
        attrs = {"dtype": init.dtype, "shape": TensorShape(init.shape.as_tuple())}
        ph = b.op("Placeholder", [], attrs, final=True).outputs[0]
        phs.append(ph)
        inits.append(init)
        imp_.built[m], imp_.ops[m] = [ph, ph], ph.op
    for sw, m in loop.switch_of.items():
        ph = imp_.built[m][0]
        imp_.built[sw], imp_.ops[sw] = [ph, ph], ph.op
    for key in _order(imp_, frames, f, loop.compute, nested=True):
        if key.startswith("\0"):
            build_frame(imp_, frames, key[1:])
        else:
            imp_.build(key)
    made = graph._ops[start + len(phs) :]
    cond_src = _data(nodes[loop.loop_cond])
    if len(cond_src) != 1:
        raise bad(f"node '{loop.loop_cond}' (op LoopCond)", "a LoopCond takes one input")
    cond_t = imp_.resolve(cond_src[0], f"node '{loop.loop_cond}'")
    outs = []
    for m in loop.merges:
        nxt = nodes[loop.next_of[m]]
        if len(_data(nxt)) != 1:
            raise bad(f"node '{nxt.name}' (op NextIteration)", "a NextIteration takes one input")
        outs.append(imp_.resolve(_data(nxt)[0], f"node '{nxt.name}'"))
    cond_ops = _closure(cond_t.op, set(made))
    cond = _SubGraph(phs, [op for op in made if op in cond_ops], [cond_t])
    body_ops = [op for op in made if op not in cond_ops or not op.opdef.extra.get("mutates_handle")]
    body = _SubGraph(phs, body_ops, outs)
    caps = _captures([cond, body], phs)
    cond.captures = body.captures = caps
    specs = []
    for init, out in zip(inits, outs):
        same = init.shape.as_tuple() == out.shape.as_tuple()
        specs.append((init.shape.as_tuple() if same else None, init.dtype))
    b = NodeBuilder(imp_, nodes[loop.loop_cond], f"node '{loop.loop_cond}'")
    attrs = dict(cond=cond, body=body, n=len(phs), maximum_iterations=None, specs=specs)
    op = b.op("While", inits + caps, {**attrs, "back_prop": False}, final=True)
    outs = op.outputs if len(phs) != 1 or len(op.outputs) == 1 else [op.outputs[0]]
    inner = set(loop.compute) | set(loop.merges) | {loop.loop_cond}
    for n in inner:  # control inputs on the loop's insides wait for the whole loop
        imp_.ops[n] = op
    for i, m in enumerate(loop.merges):
        imp_.built[m] = [outs[i], outs[i]]
    for sw, m in loop.switch_of.items():
        imp_.built[sw] = [imp_.built[m][0], None]
        imp_.ops[sw] = op
    compute = set(loop.compute)
    for n in loop.after + loop.exits:
        for r in _data(nodes[n]):
            if _name(r) in compute:
                raise bad(
                    f"node '{n}' (op {nodes[n].op})",
                    f"reads '{r}' from the loop body on the loop's exit path",
                )
    for key in _order(imp_, frames, f, loop.after, nested=False):
        imp_.build(key)
    for e in loop.exits:
        t = imp_.resolve(_data(nodes[e])[0], f"node '{e}'")
        imp_.built[e], imp_.ops[e] = [t], t.op


def _closure(op, within: set) -> set:
    seen, todo = set(), [op]
    while todo:
        o = todo.pop()
        if o in seen or o not in within:
            continue
        seen.add(o)
        todo += [t.op for t in o.inputs] + list(o.control_inputs)
    return seen


def _captures(subs, placeholders) -> list:
    inside = {op for sub in subs for op in sub.ops}
    for sub in subs:
        for op in sub.ops:
            for s in op.attrs.values():
                if isinstance(s, _SubGraph):
                    inside.update(s.ops)
    held, caps = set(placeholders), []
    for sub in subs:
        for t in [t for op in sub.ops for t in op.inputs] + list(sub.outputs):
            if t.op not in inside and t not in held and t not in caps:
                caps.append(t)
    return caps


def _order(imp_, frames, f, names, nested) -> list:
    """``names`` (nodes of frame ``f``) and, if ``nested``, the frames nested in it,
    inputs first; a nested frame is one key, ``"\\0" + frame``."""
    keys, deps = {}, {}
    for n in names:
        keys[n] = n
    for c in [c for c, p in frames.parent.items() if p == f and nested]:
        for n in frames.subtree(c):
            keys[n] = "\0" + c
    for n, key in keys.items():
        node = imp_.nodes[n]
        if node.op == "Merge" and key.startswith("\0"):
            refs = frames._inputs_for_frame(node)
        else:
            refs = [_name(r) for r in node.input]
        d = deps.setdefault(key, set())
        for r in refs:
            k = keys.get(r)
            if k is not None and k != key:
                d.add(k)
    out, stuck = topological_order(deps)
    if stuck:
        raise bad(f"while loop frame '{f}'", f"its body has a cycle (e.g. {stuck[:5]})")
    return out


def topological_order(deps: dict) -> tuple[list, list]:
    """``(order, stuck)``: the keys of ``deps`` (key -> the set of keys it needs) each
    after what it needs (Kahn's algorithm), and the sorted keys left on or behind a cycle."""
    users: dict = {}
    for k, d in deps.items():
        for x in d:
            users.setdefault(x, []).append(k)
    count = {k: len(d) for k, d in deps.items()}
    ready = [k for k, n in count.items() if not n]
    out = []
    while ready:
        k = ready.pop()
        out.append(k)
        for u in users.get(k, ()):
            count[u] -= 1
            if count[u] == 0:
                ready.append(u)
    return out, sorted(set(deps) - set(out))
