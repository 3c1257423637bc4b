"""`Session`: runs the part of a graph that the fetches need.

For each distinct (fetches, feeds) signature the session builds a *plan* once: the
pruned ops in topological order, compiled into one Python function whose body is a flat
sequence of kernel calls on local variables (constants and kernel closures bound in
advance). Repeated `run` calls with the same signature only convert the feeds and call
that function — no graph walk, no dict building, no re-validation. Kernel errors are
mapped back to the op that raised them through the generated line numbers.
"""

from __future__ import annotations

import contextlib
import functools
import threading
import time

import numpy as np

from miniflow import errors
from miniflow.core import blas_threads
from miniflow.core.codegen import BoolOp, Bound, Call, Lit, Not, Program, Seq
from miniflow.core.indexed_slices import IndexedSlices, IndexedSlicesValue
from miniflow.core.registry import kernel_attrs
from miniflow.core.values import as_array
from miniflow.graph.default_session import (
    _session_for as _session_for,
    get_default_session as get_default_session,
    session_stack,
)
from miniflow.graph.graph import get_default_graph, remove_innermost
from miniflow.graph.operation import Operation, Tensor

_BLAS_CHECK = blas_threads.next_check  # re-choose the default BLAS threads when due
_monotonic = time.monotonic

# Composite fetch types (e.g. SparseTensor) registered by higher layers:
# type -> (to_tensors(obj) -> list, build(values) -> value)
_FETCH_TYPES: dict[type, tuple] = {
    IndexedSlices: (
        lambda s: [s.values, s.indices] + ([s.dense_shape] if s.dense_shape is not None else []),
        lambda v: IndexedSlicesValue(v[0], v[1], v[2] if len(v) > 2 else None),
    ),
}


def register_fetch_type(cls, to_tensors, build) -> None:
    """Lets `Session.run` fetch a composite object (list of tensors -> value)."""
    _FETCH_TYPES[cls] = (to_tensors, build)


# Composite feed keys (e.g. a sparse placeholder): type -> expand(key, value) -> pairs.
_FEED_TYPES: dict[type, object] = {}


def register_feed_type(cls, expand) -> None:
    """Lets a composite object be a feed key: ``expand(key, value)`` returns the
    ``[(tensor, value), ...]`` pairs that feed its component tensors."""
    _FEED_TYPES[cls] = expand


# Session targets served by a higher layer: prefix -> connect(session, target), which
# returns the runtime whose ``bind(op)`` gives remote kernels (tf.train.Server's
# "grpc://"); consulted when plans are compiled, never per step.
_TARGETS: dict[str, object] = {}


def register_target(prefix: str, connect) -> None:
    _TARGETS[prefix] = connect


def _expand_feeds(feed_dict) -> dict:
    out = {}
    for k, v in feed_dict.items():
        expand = _FEED_TYPES.get(type(k))
        if expand is None:
            out[k] = v
        else:
            out.update(expand(k, v))
    return out


class Session:
    """A TF1 session: owns the values of variables (and other state) for one graph."""

    def __init__(self, target="", graph=None, config=None):
        if not isinstance(target, str | bytes):
            raise TypeError(
                f"target must be a string, but got {type(target)!r}. Did you do "
                '"Session(config)" instead of "Session(config=config)"?'
            )
        self.graph = graph if graph is not None else get_default_graph()
        self.config = config
        self.sess_str = target
        self._states: dict = {}
        self._plans: dict = {}
        self.plan_builds = 0  # how many plans were compiled (guards the plan cache)
        self._closed = False
        self._default_ctx = None
        self._timeout_ms = getattr(config, "operation_timeout_in_ms", 0) or 0
        blas_threads.set_threads(getattr(config, "intra_op_parallelism_threads", 0), session=True)
        self._remote = None
        if target and _TARGETS:
            name = target.decode() if isinstance(target, bytes) else target
            for prefix, connect in _TARGETS.items():
                if name.startswith(prefix):
                    self._remote = connect(self, name)

    # -- lifecycle ------------------------------------------------------------------
    def close(self) -> None:
        self._closed = True
        self._plans.clear()
        remote = getattr(self, "_remote", None)
        if remote is not None:
            remote.close()
        for state in list(self._states.values()):  # wakes ops blocked on a queue
            cancel = getattr(state, "session_closed", None)
            if cancel is not None:
                cancel()
        self._states.clear()

    def __enter__(self):
        self._default_ctx = self.as_default()
        self._default_ctx.__enter__()
        return self

    def __exit__(self, *exc):
        self._default_ctx.__exit__(*exc)
        self._default_ctx = None
        self.close()

    @contextlib.contextmanager
    def as_default(self):
        stack = session_stack()
        stack.append(self)
        try:
            yield self
        finally:
            remove_innermost(stack, self)

    # -- running --------------------------------------------------------------------
    def run(self, fetches, feed_dict=None, options=None, run_metadata=None):
        """Runs the ops needed for ``fetches`` and returns their values in the same
        nested structure (list, tuple, namedtuple, dict; an Operation gives None).

        Raises:
            InvalidArgumentError: a feed has the wrong shape/dtype or a needed
                placeholder was not fed, or a kernel failed.
            FailedPreconditionError: an uninitialized variable was read.
            TypeError / ValueError: a fetch is not a graph element of this graph.
        """
        if self._closed:
            raise RuntimeError("Attempted to use a closed Session.")
        if feed_dict:
            if _FEED_TYPES and any(type(k) in _FEED_TYPES for k in feed_dict):
                feed_dict = _expand_feeds(feed_dict)
            feed_keys = tuple(feed_dict)
            feed_vals = feed_dict.values()
        else:
            feed_keys, feed_vals = (), ()
        try:
            # a list keys as a tuple plus a marker, so [a, b] and (a, b) get their own plans
            key = (
                (tuple(fetches), feed_keys, list) if type(fetches) is list else (fetches, feed_keys)
            )
            plan = self._plans.get(key)
        except TypeError:  # unhashable nesting (dicts, nested lists)
            key = (_structure_key(fetches), feed_keys)
            plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = _Plan(self, fetches, feed_keys)
        if _monotonic() >= _BLAS_CHECK[0]:
            blas_threads.refresh()
        if options is not None or self._timeout_ms:
            return _run_with_deadline(plan, feed_vals, options, self._timeout_ms)
        return plan.run(feed_vals)

    def partial_run_setup(self, *args, **kwargs):
        raise errors.UnimplementedError(None, None, "partial_run is not supported")

    def list_devices(self):
        return ["/device:CPU:0"]

    def _state_for(self, op):
        remote = getattr(self, "_remote", None)
        if remote is not None:  # another task's variable (Saver reads its Slot)
            state = remote.state_for(op)
            if state is not None:
                return state
        opdef = op.opdef
        key = opdef.state_key(op.attrs) if opdef.state_key else op
        state = self._states.get(key)
        if state is None:  # setdefault: threads compiling plans at once share one state
            state = self._states.setdefault(key, opdef.make_state(op.attrs))
        return state


class InteractiveSession(Session):
    """A session that installs itself as the default session on construction."""

    def __init__(self, target="", graph=None, config=None):
        super().__init__(target, graph, config)
        self._ctx = self.as_default()
        self._ctx.__enter__()

    def close(self) -> None:
        if self._ctx is not None:
            self._ctx.__exit__(None, None, None)
            self._ctx = None
        super().close()


_deadlines = threading.local()


def run_deadline():
    """The `time.monotonic()` by which the current thread's `Session.run` must finish
    (`RunOptions.timeout_in_ms`, `ConfigProto.operation_timeout_in_ms`), or None: blocking
    kernels (a queue's dequeue) raise `DeadlineExceededError` when it passes."""
    return getattr(_deadlines, "at", None)


def _run_with_deadline(plan, feed_vals, options, default_ms):
    ms = getattr(options, "timeout_in_ms", 0) or default_ms
    if ms <= 0:
        return plan.run(feed_vals)
    outer = run_deadline()
    _deadlines.at = time.monotonic() + ms / 1000.0
    try:
        return plan.run(feed_vals)
    finally:
        _deadlines.at = outer


def _structure_key(fetches):
    if isinstance(fetches, dict):
        return ("d", type(fetches), tuple((k, _structure_key(v)) for k, v in fetches.items()))
    if isinstance(fetches, list | tuple):
        return ("s", type(fetches), tuple(_structure_key(f) for f in fetches))
    return fetches


class _Plan:
    """The compiled execution of one (fetches, feeds) signature."""

    def __init__(self, session, fetches, feed_keys):
        session.plan_builds += 1
        graph = session.graph
        self.leaves: list = []
        self._leaf_index: dict = {}
        self._resolved: dict = {}
        self.target_ops: list = []
        self.build = self._map_fetches(fetches, graph)
        flat = self._flat_structure(fetches)
        if flat is not None:  # the generated function returns the caller's structure
            self.build = _identity
        self.feeds = [_resolve_feed(graph, k) for k in feed_keys]
        self.program = _compile(session, self.leaves, self.target_ops, self.feeds, flat)
        self.fn = self.program.fn

    @property
    def lines(self) -> dict:
        """source line -> the op it runs, and "file": the generated file name (read by
        benchmarks/profile_w1.py)."""
        return self.program.tags | {"file": self.program.filename}

    def run(self, feed_vals):
        try:
            vals = self.fn(*feed_vals)
        except _FeedError:
            raise
        except Exception as e:
            raise _node_error(e, self.program.tag_of(e)) from e
        return self.build(vals)

    def _flat_structure(self, fetches):
        """("list"|"tuple"|"single", [leaf index or None per fetch]) for fetches that are
        one element or a plain list/tuple of elements; None for anything nested."""
        kind = "single"
        items = [fetches]
        if type(fetches) is list or type(fetches) is tuple:
            kind, items = type(fetches).__name__, fetches
        out = []
        for f in items:
            if isinstance(f, list | tuple | dict) or any(isinstance(f, c) for c in _FETCH_TYPES):
                return None
            elem = self._resolved.get(id(f))
            out.append(None if isinstance(elem, Operation) else self._leaf_index[elem])
        return kind, out

    def _map_fetches(self, fetch, graph):
        """Flattens the fetch structure into unique leaves; returns the rebuild function."""
        if fetch is None:
            raise TypeError(f"Fetch argument None has invalid type {type(None)}")
        if isinstance(fetch, dict):
            parts = [(k, self._map_fetches(v, graph)) for k, v in fetch.items()]
            cls = type(fetch)
            return lambda vals: cls((k, b(vals)) for k, b in parts)
        if isinstance(fetch, list | tuple):
            parts = [self._map_fetches(f, graph) for f in fetch]
            if isinstance(fetch, list):
                return lambda vals: [b(vals) for b in parts]
            if hasattr(fetch, "_fields"):  # namedtuple
                cls = type(fetch)
                return lambda vals: cls(*[b(vals) for b in parts])
            return lambda vals: tuple(b(vals) for b in parts)
        for cls, (to_tensors, build) in _FETCH_TYPES.items():
            if isinstance(fetch, cls):
                parts = [self._map_fetches(t, graph) for t in to_tensors(fetch)]
                return lambda vals: build([b(vals) for b in parts])
        try:
            elem = graph.as_graph_element(fetch)
        except (ValueError, errors.NotFoundError) as e:
            if isinstance(fetch, str | Tensor | Operation) or hasattr(fetch, "_as_graph_element"):
                raise type(e)(*e.args) from None
            raise TypeError(
                f"Fetch argument {fetch!r} has invalid type {type(fetch)}, must "
                "be a string or Tensor. (Can not convert a "
                f"{type(fetch).__name__} into a Tensor or Operation.)"
            ) from None
        self._resolved[id(fetch)] = elem
        if isinstance(elem, Operation):
            self.target_ops.append(elem)
            return lambda vals: None
        i = self._leaf_index.get(elem)
        if i is None:
            i = self._leaf_index[elem] = len(self.leaves)
            self.leaves.append(elem)
        return lambda vals: vals[i]


def _resolve_feed(graph, key):
    if isinstance(key, str):
        try:
            t = graph.as_graph_element(key, allow_operation=False)
        except (ValueError, errors.NotFoundError) as e:
            raise errors.NotFoundError(
                None, None, f"Cannot interpret feed_dict key as Tensor: {e}"
            ) from None
    else:
        hook = getattr(key, "_as_graph_element", None)
        t = hook() if hook is not None else key
    if not isinstance(t, Tensor):
        raise TypeError(
            f"Cannot interpret feed_dict key {key!r} as a Tensor: it is a "
            f"{type(key).__name__}. Feed keys are Tensors or 'name:0' strings."
        )
    if t.graph is not graph:
        raise ValueError(
            f"Cannot feed {t.name}: the tensor is not an element of this session's graph."
        )
    return t


class _FeedError(ValueError):
    """A fed value that cannot be converted to the tensor's dtype, or whose shape
    contradicts the tensor's static shape: TF raises ValueError before running."""


def _feed_converter(t: Tensor):
    np_dtype = t.dtype.np
    dims = t.shape.as_tuple()
    kind = np_dtype.kind
    name = t.name
    string = t.dtype.name == "string"

    def convert(v):
        if string:
            arr = as_array(v, t.dtype)  # str -> bytes, as TF returns strings
        else:
            try:
                arr = np.asarray(v, dtype=np_dtype)
            except (TypeError, ValueError) as e:
                raise _FeedError(
                    f"Cannot feed value {v!r} for Tensor {name} of dtype {t.dtype.name}: {e}"
                ) from None
        if kind in "iub" and not isinstance(v, np.ndarray | int):  # lists, Python floats
            v = np.asarray(v)
        if (
            kind in "iub"
            and getattr(v, "dtype", None) is not None
            and v.dtype.kind == "f"
            and not np.array_equal(arr, v)
        ):
            raise errors.InvalidArgumentError(
                None,
                None,
                f"Cannot feed non-integral float values to Tensor '{name}' of "
                f"dtype {t.dtype.name}; cast them first.",
            )
        if dims is not None:
            shape = arr.shape
            if len(shape) != len(dims) or any(
                d is not None and d != s for d, s in zip(dims, shape)
            ):
                raise _FeedError(
                    f"Cannot feed value of shape {shape} for Tensor {name}, which has shape {dims}"
                )
        # a scalar travels as a NumPy scalar: its arithmetic is several times cheaper
        # than a 0-d array's, which is most of the cost of small models
        return arr[()] if arr.ndim == 0 and not string else arr

    return convert


def _prune(leaves, target_ops, feeds):
    """The ops needed for the fetches given the feeds, in topological order.

    Ops that do not depend on a state write (``writes`` ops such as Assign) come first:
    every read of a variable then happens before any in-place update of it, unless the
    graph itself orders the read after the write.
    """
    fed = set(feeds)
    order, seen = [], set()
    roots = [t.op for t in leaves if t not in fed] + list(target_ops)

    def deps(op):
        for t in op.inputs:
            if t not in fed:
                yield t.op
        for c in op.control_inputs:  # an op whose outputs are all fed is not run
            if not c.outputs or any(o not in fed for o in c.outputs):
                yield c

    for root in roots:
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, deps(root))]
        while stack:
            op, it = stack[-1]
            for child in it:
                if child not in seen:
                    seen.add(child)
                    stack.append((child, deps(child)))
                    break
            else:
                stack.pop()
                order.append(op)
    after_write: set = set()
    for op in order:
        if (
            op.opdef.extra.get("writes")
            or any(t.op in after_write for t in op.inputs if t not in fed)
            or any(c in after_write for c in op.control_inputs)
        ):
            after_write.add(op)
    return [op for op in order if op not in after_write] + [op for op in order if op in after_write]


def _identity(value):
    return value


def _compile(session, leaves, target_ops, feeds, flat=None):
    """Generates the plan function (a `codegen.Compiled`, each line tagged with its op)."""
    prog = Program("plan", [f"f{i}" for i in range(len(feeds))])
    slots: dict = {}  # Tensor -> the slot or bound constant holding its value
    for i, t in enumerate(feeds):
        slots[t] = prog.call(_feed_converter(t), [prog.param(i)])
    # Fetched outputs that may alias a variable's buffer are copied as soon as they are
    # computed, so a later in-place update in the same run does not change them. A
    # variable fetched itself is read at the end of the run instead: as with TF1's ref
    # variables, `sess.run([train_op, global_step])` returns the step after the update.
    snapshots: dict = {}
    ops = _prune(leaves, target_ops, feeds)
    on_state = _state_dependent(ops, feeds)
    snapshot = {
        t for t in leaves if t not in feeds and t.op.type != "VariableV2" and t.op in on_state
    }
    for op in ops:
        opdef = op.opdef
        if op.type == "Const":
            value = op.attrs["value"]
            # scalars as NumPy scalars (see _feed_converter)
            slots[op.outputs[0]] = Bound(
                value[()] if value.ndim == 0 and value.dtype.kind in "biuf" else value
            )
            continue
        if op.type == "NoOp":
            continue
        if op.type == "Placeholder":
            t = op.outputs[0]
            raise errors.InvalidArgumentError(
                None,
                op,
                f"You must feed a value for placeholder tensor '{op.name}' with "
                f"dtype {t.dtype.name}"
                + (f" and shape {_fmt_dims(t.shape)}" if t.shape.ndims is not None else "")
                + f"\n\t [[node {op.name} (defined at {op.traceback}) ]]",
            )
        guard = op.attrs.get("_guard")
        if guard:  # a tf.cond branch op runs only when its branch is taken
            taken = []
            for pred, branch in guard:
                slot = slots[op.graph.get_tensor_by_name(pred)]
                taken.append(slot if branch else Not(slot))
            guard = BoolOp("and", tuple(taken))
        single = len(op.outputs) == 1 and opdef.num_outputs == 1
        outs = prog.call(
            _bind_kernel(session, op),
            [slots[t] for t in op.inputs],
            len(op.outputs),
            unpack=not single,
            guard=guard,
            tag=op,
        )
        for t, slot in zip(op.outputs, [outs] if single else outs):
            slots[t] = slot
            if t in snapshot:  # later kernels still read the buffer itself
                snapshots[t] = prog.call(_copy, [slot])
    results = []
    for t in leaves:
        value = snapshots.get(t, slots[t])
        # copies: feeds, constants (the graph's own arrays), and scalars (fetched as NumPy
        # scalars, as TF does); variable-aliasing values were snapshotted when computed
        if (
            t in feeds
            or t.op.type in ("Const", "VariableV2")
            or (t.shape.ndims == 0 and t not in snapshot)
        ):
            value = Call(Bound(_copy), (value,))
        results.append(value)
    if flat is None:
        prog.returns(Seq("tuple", tuple(results)))
    else:
        kind, idx = flat
        items = tuple(Lit(None) if i is None else results[i] for i in idx)
        prog.returns(items[0] if kind == "single" else Seq(kind, items))
    return prog.compile()


def _state_dependent(ops, feeds) -> set:
    """The ops (in topological order) whose outputs may share memory with state: the
    stateful ones and everything computed from them. Many kernels return views or their
    input itself, so the session copies such outputs when they are fetched."""
    fed = {t.op for t in feeds}
    out: set = set()
    for op in ops:
        if op.opdef.stateful or any(t.op in out and t not in feeds for t in op.inputs):
            if op not in fed:
                out.add(op)
    return out


def _copy(value):
    """A fetched value detached from variable buffers (0-d arrays as NumPy scalars)."""
    if isinstance(value, bytes | str):  # np.array would drop trailing NUL bytes
        return value
    value = np.array(value)
    return value[()] if value.ndim == 0 else value


def _fmt_dims(shape) -> str:
    return "[" + ",".join("?" if d is None else str(d) for d in shape.as_tuple()) + "]"


def _bind_kernel(session, op):
    remote = getattr(session, "_remote", None)
    if remote is not None:  # a cluster session: ops on other tasks' state run there
        kernel = remote.bind(op)
        if kernel is not None:
            return kernel
    return _local_kernel(session, op)


def _local_kernel(session, op):
    opdef = op.opdef
    attrs = dict(kernel_attrs(opdef, op.attrs))
    fn = opdef.forward
    if opdef.stateful:
        fn = functools.partial(fn, session._state_for(op))
        if "slot_vars" in attrs:
            # Optimizer Apply ops name the slot variables they also update (accumulators,
            # moments) in "slot_vars"; their kernels receive those variables' Slots.
            attrs["slot_vars"] = tuple(session._state_for(v.op) for v in attrs["slot_vars"])
    return functools.partial(fn, **attrs) if attrs else fn


def _node_error(exc, op):
    """``exc`` raised by ``op``'s kernel (None: unknown), as the OpError TF raises."""
    where = f"\n\t [[node {op.name} (defined at {op.traceback}) ]]" if op is not None else ""
    if isinstance(exc, errors.OpError):
        return type(exc)(None, op, f"{exc.message}{where}")
    kind = type(exc).__name__
    what = f"{op.type} op '{op.name}'" if op is not None else "an op"
    return errors.InvalidArgumentError(None, op, f"{kind} in {what}: {exc}{where}")
